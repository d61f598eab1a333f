"""Data quality: gaps, duplicates, disorder and zero-volume candles are found and reported.

Nothing here invents a candle. `clean_candles` sorts and drops repeated timestamps (keeping the
first row, as a backtest needs one candle per time) and returns a report saying what it did.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from botcore.timeframes import timeframe_ms, to_iso

__all__ = ["DataQuality", "Gap", "check_candles", "clean_candles"]


@dataclass(frozen=True)
class Gap:
    """Candles absent between two present ones: `missing` slots after `after_ms`."""

    after_ms: int
    before_ms: int
    missing: int


@dataclass(frozen=True)
class DataQuality:
    """What a candle series looks like; `issues()` phrases the findings."""

    rows: int
    first_ms: int | None
    last_ms: int | None
    gaps: tuple[Gap, ...]
    missing_candles: int
    duplicates: int
    unsorted: bool
    zero_volume: int
    off_grid: int
    bad_ohlc: int

    @property
    def clean(self) -> bool:
        """True when nothing is worth reporting."""
        return not self.issues()

    def issues(self) -> list[str]:
        """Human-readable findings, largest gap first."""
        found: list[str] = []
        if self.unsorted:
            found.append("rows were not in time order (sorted)")
        if self.duplicates:
            found.append(f"{self.duplicates} duplicate timestamp(s) (first row kept)")
        if self.gaps:
            largest = max(self.gaps, key=lambda g: g.missing)
            found.append(
                f"{len(self.gaps)} gap(s), {self.missing_candles} missing candle(s); largest "
                f"{to_iso(largest.after_ms)} -> {to_iso(largest.before_ms)} "
                f"({largest.missing} missing)"
            )
        if self.zero_volume:
            found.append(f"{self.zero_volume} zero-volume candle(s)")
        if self.off_grid:
            found.append(f"{self.off_grid} timestamp(s) off the timeframe grid")
        if self.bad_ohlc:
            found.append(f"{self.bad_ohlc} candle(s) with high/low inconsistent with open/close")
        return found


def check_candles(frame: pd.DataFrame, timeframe: str) -> DataQuality:
    """Inspect a candle frame as it is (any order) without changing it."""
    step = timeframe_ms(timeframe)
    ts = frame["timestamp"].to_numpy(dtype=np.int64)
    if len(ts) == 0:
        return DataQuality(0, None, None, (), 0, 0, False, 0, 0, 0)
    unsorted = bool(np.any(np.diff(ts) < 0))
    ordered = np.sort(ts) if unsorted else ts
    diffs = np.diff(ordered)
    duplicates = int(np.count_nonzero(diffs == 0))
    # Monthly candles have no fixed length; only fixed-length timeframes get gap detection.
    gaps: list[Gap] = []
    off_grid = 0
    if not timeframe.endswith("M"):
        for idx in np.flatnonzero(diffs > step):
            missing = int(diffs[idx] // step) - 1
            if missing > 0:
                gaps.append(Gap(int(ordered[idx]), int(ordered[idx + 1]), missing))
        off_grid = int(np.count_nonzero(ts % step != 0)) if step <= 86_400_000 else 0
    o, h, lo, c = (frame[col].to_numpy() for col in ("open", "high", "low", "close"))
    bad = (h < np.maximum(o, c)) | (lo > np.minimum(o, c)) | (h < lo)
    return DataQuality(
        rows=len(ts),
        first_ms=int(ordered[0]),
        last_ms=int(ordered[-1]),
        gaps=tuple(gaps),
        missing_candles=sum(g.missing for g in gaps),
        duplicates=duplicates,
        unsorted=unsorted,
        zero_volume=int(np.count_nonzero(frame["volume"].to_numpy() == 0)),
        off_grid=off_grid,
        bad_ohlc=int(np.count_nonzero(bad)),
    )


def clean_candles(frame: pd.DataFrame, timeframe: str) -> tuple[pd.DataFrame, DataQuality]:
    """Sort by time and drop repeated timestamps; return the frame and the report on the input."""
    quality = check_candles(frame, timeframe)
    if quality.unsorted:
        frame = frame.sort_values("timestamp", kind="stable")
    if quality.duplicates:
        frame = frame.drop_duplicates("timestamp", keep="first")
    if quality.unsorted or quality.duplicates:
        frame = frame.reset_index(drop=True)
    return frame, quality
