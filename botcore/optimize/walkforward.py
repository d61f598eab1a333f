"""Walk-forward analysis: rolling in-sample / out-of-sample windows and the stitched OOS result.

`split_walk_forward` cuts a period into `folds` rolling windows. Each fold has an in-sample (IS)
window of `ratio` times the length of its out-of-sample (OOS) window, immediately followed by the
OOS window; the OOS windows are consecutive, do not overlap, and the last one ends at the end of
the period (bars left over at the front of the period only warm up the first fold):

    |-- IS 1 -----------|OOS 1|
          |-- IS 2 -----------|OOS 2|
                |-- IS 3 -----------|OOS 3|

Windows are half-open `[start, end)` in UTC milliseconds of bar open times, whole bars long. The
parameters chosen on IS k are backtested on OOS k only, with the bars before OOS k warming the
indicators up and no trade before it; that is the only performance a walk-forward reports.

`stitch_oos` chains the fold backtests into one account: each fold starts with the equity the
previous one ended with (sizing is a percentage of equity, so a fold's curve, trades and fees are
scaled by that growth), and the metrics of the chained curve are the aggregate OOS result.
Positions are closed at each fold's end (`end_of_data`), as a re-optimising bot would switch.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.backtest.metrics import Metrics, compute_metrics
from botcore.backtest.result import BacktestResult
from botcore.errors import ParamError
from botcore.timeframes import to_iso

__all__ = [
    "FoldResult",
    "FoldWindow",
    "StitchedOOS",
    "WalkForwardResult",
    "split_walk_forward",
    "stitch_oos",
]

_MIN_OOS_BARS = 2


def _dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(frozen=True)
class FoldWindow:
    """One fold's windows (1-based `index`), half-open, in UTC milliseconds."""

    index: int
    in_sample_start_ms: int
    in_sample_end_ms: int
    oos_start_ms: int
    oos_end_ms: int

    @property
    def in_sample(self) -> tuple[datetime, datetime]:
        """The in-sample window as aware UTC datetimes `[start, end)`."""
        return _dt(self.in_sample_start_ms), _dt(self.in_sample_end_ms)

    @property
    def oos(self) -> tuple[datetime, datetime]:
        """The out-of-sample window as aware UTC datetimes `[start, end)`."""
        return _dt(self.oos_start_ms), _dt(self.oos_end_ms)


def split_walk_forward(
    start_ms: int, end_ms: int, folds: int, ratio: float, bar_ms: int
) -> tuple[FoldWindow, ...]:
    """Rolling windows over `[start_ms, end_ms)` (see the module docstring).

    Args:
        start_ms: start of the period (first bar's open time), UTC milliseconds.
        end_ms: end of the period, exclusive.
        folds: number of folds (OOS windows), at least 1.
        ratio: in-sample length as a multiple of the OOS length, > 0.
        bar_ms: length of one bar; window lengths are whole bars.

    Raises:
        ParamError: bad folds or ratio, or a period too short for OOS windows of two bars.
    """
    if folds < 1:
        raise ParamError("walk-forward needs at least 1 fold")
    if not ratio > 0:
        raise ParamError("the walk-forward in-sample ratio must be positive")
    bars = (end_ms - start_ms) // bar_ms
    oos_bars = int(bars // (ratio + folds))
    is_bars = int(ratio * oos_bars)
    if oos_bars < _MIN_OOS_BARS or is_bars < 1:
        raise ParamError(
            f"the period holds {max(bars, 0)} bars: too short for {folds} walk-forward folds "
            f"with in-sample {ratio:g}× out-of-sample; use fewer folds or a longer period"
        )
    oos_ms, is_ms = oos_bars * bar_ms, is_bars * bar_ms
    windows = []
    for k in range(folds):
        oos_start = end_ms - (folds - k) * oos_ms
        windows.append(
            FoldWindow(k + 1, oos_start - is_ms, oos_start, oos_start, oos_start + oos_ms)
        )
    return tuple(windows)


@dataclass(frozen=True)
class StitchedOOS:
    """The OOS folds chained into one account: equity per bar, trades, and their metrics."""

    timestamps: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    trades: pd.DataFrame
    metrics: Metrics


def stitch_oos(results: Sequence[BacktestResult], timeframe_ms: int) -> StitchedOOS:
    """Chain consecutive OOS backtests (same cash, same symbols) into one account.

    Raises:
        ParamError: no results, or windows that overlap or run backwards.
    """
    if not results:
        raise ParamError("nothing to stitch: no out-of-sample folds")
    for before, after in itertools.pairwise(results):
        if after.timestamps[0] <= before.timestamps[-1]:
            raise ParamError("out-of-sample folds must be consecutive and must not overlap")
    cash = results[0].metrics.initial_cash
    scale, offset = 1.0, 0
    curves, trade_frames = [], []
    for result in results:
        curves.append(result.equity * scale)
        trades = result.trades.copy()
        for column in ("amount", "fee", "pnl"):
            trades[column] = trades[column] * scale
        trades["entry_index"] += offset
        trades["exit_index"] += offset
        trade_frames.append(trades)
        offset += len(result.timestamps)
        scale = float(curves[-1][-1]) / cash
    timestamps = np.concatenate([r.timestamps for r in results]).astype(np.int64)
    equity = np.concatenate(curves).astype(np.float64)
    trades = pd.concat(trade_frames, ignore_index=True)
    bars = np.array([len(r.timestamps) for r in results], dtype=np.float64)
    exposure = float(np.dot([r.metrics.exposure_pct for r in results], bars) / bars.sum())
    metrics = compute_metrics(
        timestamps,
        equity,
        trades,
        cash,
        timeframe_ms,
        _buy_hold_pct(results[0], results[-1]),
        exposure,
        sum(r.metrics.rejected_entries for r in results),
    )
    return StitchedOOS(timestamps, equity, trades, metrics)


def _buy_hold_pct(first: BacktestResult, last: BacktestResult) -> float | None:
    changes = []
    for symbol in first.symbols:
        head, tail = first.frames.get(symbol), last.frames.get(symbol)
        if head is None or tail is None or head.empty or tail.empty:
            continue
        changes.append(float(tail["close"].iloc[-1] / head["close"].iloc[0] - 1.0) * 100.0)
    return float(np.mean(changes)) if changes else None


@dataclass(frozen=True)
class FoldResult:
    """One fold: the parameters chosen in-sample and their backtest on the OOS window only.

    `in_sample_value` is the objective's best in-sample value, kept for diagnosing overfitting;
    it is not a performance figure.
    """

    window: FoldWindow
    study: str
    best_params: dict[str, Any]
    in_sample_value: float
    trials_ran: int
    oos: BacktestResult
    oos_value: float | None

    @property
    def oos_metrics(self) -> Metrics:
        """Metrics of the OOS backtest."""
        return self.oos.metrics


@dataclass(frozen=True)
class WalkForwardResult:
    """Every fold and the stitched out-of-sample account."""

    strategy: str
    objective: str
    storage: str
    study: str
    ratio: float
    folds: tuple[FoldResult, ...]
    stitched: StitchedOOS
    seconds: float

    def to_json_dict(self) -> dict[str, Any]:
        """Out-of-sample results only: per fold and stitched (strict JSON: no NaN)."""
        return {
            "mode": "walk_forward",
            "strategy": self.strategy,
            "objective": self.objective,
            "storage": self.storage,
            "study": self.study,
            "in_sample_ratio": self.ratio,
            "folds": [
                {
                    "fold": f.window.index,
                    "study": f.study,
                    "in_sample": [
                        to_iso(f.window.in_sample_start_ms),
                        to_iso(f.window.in_sample_end_ms),
                    ],
                    "out_of_sample": [to_iso(f.window.oos_start_ms), to_iso(f.window.oos_end_ms)],
                    "params": f.best_params,
                    "oos_objective": _finite(f.oos_value),
                    "oos_metrics": f.oos_metrics.to_dict(),
                }
                for f in self.folds
            ],
            "oos_metrics": self.stitched.metrics.to_dict(),
            "oos_equity": [
                [int(ts), float(v)]
                for ts, v in zip(self.stitched.timestamps, self.stitched.equity, strict=True)
            ],
        }


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
