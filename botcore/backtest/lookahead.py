"""Look-ahead check: does any past decision or indicator value change when the future is removed?

The strategy runs once on the full candles and again on the candles cut at many points. Before each
cut, every entry and exit decision and every indicator column must be identical (NaN equal to NaN,
floats to a relative 1e-9). A difference means bar t used data after t: a look-ahead bias that
flatters a backtest and can never be traded live.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from botcore.strategy.base import Signals, Strategy
from botcore.timeframes import to_iso

__all__ = ["LookaheadFinding", "LookaheadReport", "check_lookahead"]


@dataclass(frozen=True)
class LookaheadFinding:
    """One value that differed: `what` (entries, exits or an indicator column) at a bar."""

    cut_at: int
    bar: int
    timestamp: str
    what: str
    full_value: str
    cut_value: str


@dataclass(frozen=True)
class LookaheadReport:
    """The cut points tried and every difference found (at most the first per column and cut)."""

    strategy: str
    bars: int
    cuts: tuple[int, ...]
    findings: tuple[LookaheadFinding, ...]

    @property
    def biased(self) -> bool:
        """True when any past value changed once the future was cut away."""
        return bool(self.findings)

    @property
    def columns(self) -> tuple[str, ...]:
        """The signals and indicator columns that looked ahead."""
        return tuple(sorted({f.what for f in self.findings}))


def _first_difference(full: np.ndarray, cut: np.ndarray) -> int | None:
    if full.dtype == np.bool_ or cut.dtype == np.bool_:
        diff = full != cut
    else:
        both_nan = np.isnan(full) & np.isnan(cut)
        close = np.isclose(full, cut, rtol=1e-9, atol=0.0)
        diff = ~(both_nan | close)
    where = np.flatnonzero(diff)
    return int(where[0]) if len(where) else None


def _numeric_columns(frame: pd.DataFrame) -> list[str]:
    return [
        c for c in frame.columns if c != "timestamp" and pd.api.types.is_numeric_dtype(frame[c])
    ]


def _compare(full: Signals, part: Signals, cut: int, stamps: np.ndarray) -> list[LookaheadFinding]:
    found: list[LookaheadFinding] = []
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {
        "entries": (full.entries[:cut], part.entries),
        "exits": (full.exits[:cut], part.exits),
    }
    for col in _numeric_columns(full.frame):
        if col in part.frame.columns:
            series[col] = (
                full.frame[col].to_numpy(dtype=np.float64)[:cut],
                part.frame[col].to_numpy(dtype=np.float64),
            )
    for what, (a, b) in series.items():
        bar = _first_difference(a, b)
        if bar is not None:
            found.append(
                LookaheadFinding(cut, bar, to_iso(int(stamps[bar])), what, str(a[bar]), str(b[bar]))
            )
    return found


def check_lookahead(
    strategy: Strategy,
    candles: pd.DataFrame,
    cuts: int = 20,
    seed: int = 7,
    progress: Callable[[int, int], None] | None = None,
) -> LookaheadReport:
    """Compare the strategy on full candles with runs on candles cut at `cuts` points.

    Cut points are spread evenly over the series after the warm-up, plus random ones from a seeded
    generator, so both regular and arbitrary positions are probed.
    """
    n = len(candles)
    lo = min(n - 1, max(strategy.warmup() + 2, 3))
    even = np.linspace(lo, n - 1, num=max(2, cuts // 2), dtype=np.int64)
    rng = np.random.default_rng(seed)
    extra = cuts - len(even) if cuts > len(even) and n > lo else 0
    random = rng.integers(lo, n, size=extra).tolist()
    points = tuple(sorted({int(c) for c in (*even, *random)}))
    full = strategy.run_signals(candles)
    stamps = candles["timestamp"].to_numpy()
    findings: list[LookaheadFinding] = []
    for done, cut in enumerate(points, start=1):
        part = strategy.run_signals(candles.iloc[:cut].reset_index(drop=True))
        findings.extend(_compare(full, part, cut, stamps))
        if progress:
            progress(done, len(points))
    return LookaheadReport(strategy.name, n, points, tuple(findings))
