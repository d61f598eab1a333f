"""The Parquet cache file of one market: where it lives, what it lacks, how pages are merged in.

The file is always sorted with one row per timestamp. Pages are merged in chunks, each chunk
written atomically (`write_parquet`), so a crash loses at most the chunk in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from botcore.data.candles import CANDLE_COLUMNS, MarketKey, read_candles, write_parquet
from botcore.timeframes import to_ms

__all__ = ["CacheWriter", "cache_path", "missing_ranges", "next_open_ms"]


def cache_path(cache_dir: Path, key: MarketKey) -> Path:
    """The Parquet cache file of a market, e.g. `<cache_dir>/binance_BTC-USDT_1h.parquet`."""
    return cache_dir / key.filename("parquet")


def next_open_ms(open_ms: int, timeframe: str, step_ms: int) -> int:
    """Open time of the candle after the one opening at `open_ms` (= that candle's close)."""
    if not timeframe.endswith("M"):
        return open_ms + step_ms
    # Monthly candles follow the calendar: 28 to 31 days, never a fixed step.
    opened = datetime.fromtimestamp(open_ms / 1000, tz=UTC)
    months = opened.month - 1 + int(timeframe[:-1])
    return to_ms(opened.replace(year=opened.year + months // 12, month=months % 12 + 1))


def missing_ranges(
    cached: pd.DataFrame, start_ms: int, end_ms: int, timeframe: str, step_ms: int
) -> list[tuple[int, int]]:
    """The `[start, end)` ranges the cache lacks: before its first candle and after its last.

    Ranges always touch the cached candles, even when the period asked for lies further out, so
    the file stays one contiguous download and every gap it shows is the exchange's own.
    """
    if cached.empty:
        return [(start_ms, end_ms)] if start_ms < end_ms else []
    first, last = int(cached["timestamp"].min()), int(cached["timestamp"].max())
    wanted = []
    if start_ms < first:
        wanted.append((start_ms, first))
    tail = next_open_ms(last, timeframe, step_ms)
    if tail < end_ms:
        wanted.append((tail, end_ms))
    return wanted


class CacheWriter:
    """Collects pages and merges them into the cache file, `flush_rows` candles at a time.

    Attributes:
        path: The cache file (read at start when it exists).
        frame: The cached candles as last written.
        added: Rows the file has gained so far.
    """

    def __init__(self, path: Path, flush_rows: int) -> None:
        self.path = path
        self.flush_rows = flush_rows
        self.frame = read_candles(path) if path.exists() else pd.DataFrame(columns=CANDLE_COLUMNS)
        self.added = 0
        self._pending: list[list[Any]] = []

    def add(self, rows: Sequence[Sequence[Any]]) -> None:
        """Queue `[open ms, open, high, low, close, volume]` rows; write once enough wait."""
        self._pending.extend(list(row[:6]) for row in rows)
        if len(self._pending) >= self.flush_rows:
            self.flush()

    def flush(self) -> None:
        """Merge the queued rows into the file (one atomic write); a no-op when none wait."""
        if not self._pending:
            return
        new = pd.DataFrame(self._pending, columns=list(CANDLE_COLUMNS)).astype(
            {"timestamp": "int64"} | dict.fromkeys(CANDLE_COLUMNS[1:], "float64")
        )
        merged = new if self.frame.empty else pd.concat([self.frame, new], ignore_index=True)
        # The exchange's latest answer wins over an older copy of the same candle.
        merged = (
            merged.drop_duplicates("timestamp", keep="last")
            .sort_values("timestamp", kind="stable")
            .reset_index(drop=True)
        )
        write_parquet(merged, self.path)
        self.added += len(merged) - len(self.frame)
        self.frame = merged
        self._pending.clear()
