"""Market streams: one per `[[market.symbols]]` entry, holding its candles and its strategy.

A stream decides at each bar's close by running its strategy over a window of the candles up to
that bar only: the same `Strategy.run_signals` the backtester uses, never a bar ahead.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

import numpy as np
import pandas as pd

from botcore.config import MarketSymbol
from botcore.data.catalog import LoadedCandles
from botcore.data.quality import check_candles
from botcore.errors import DataError
from botcore.indicators import atr
from botcore.strategy.base import Stops, Strategy
from botcore.timeframes import timeframe_ms

__all__ = ["Decision", "MarketStream", "merged_bars", "to_decimal"]

# Enough history for every built-in's indicators to settle; a strategy may ask for more.
_MIN_WINDOW = 400
_ATR_PERIOD = 14


def to_decimal(value: float) -> Decimal:
    """A float price as the Decimal its shortest repr names (no binary noise digits)."""
    return Decimal(repr(float(value)))


@dataclass(frozen=True)
class Decision:
    """A strategy's verdict at one bar's close."""

    enter: bool
    exit: bool


@dataclass
class MarketStream:
    """One market the engine trades: its key, candles, strategy and where the replay stands."""

    key: str
    spec: MarketSymbol
    candles: LoadedCandles
    strategy: Strategy

    def __post_init__(self) -> None:
        self.step_ms = timeframe_ms(self.spec.timeframe)
        self.window = max(_MIN_WINDOW, 3 * self.strategy.warmup())
        self._index()

    def use(self, strategy: Strategy) -> None:
        """Decide with `strategy` from the next bar on (a run-time strategy assignment)."""
        self.strategy = strategy
        self.window = max(_MIN_WINDOW, 3 * strategy.warmup())

    def _index(self) -> None:
        frame = self.candles.frame
        self.timestamps = frame["timestamp"].to_numpy(dtype=np.int64)
        self._atr = atr(frame["high"], frame["low"], frame["close"], _ATR_PERIOD)

    def extend(self, rows: pd.DataFrame) -> None:
        """Append newly closed candles (a live source): same columns, all newer than the last.

        Bar indices already handed out keep pointing at the same candles; the ATR is causal, so
        its values at earlier bars do not change.
        """
        if rows.empty:
            return
        old = self.candles.frame
        if not old.empty and int(rows["timestamp"].iloc[0]) <= int(self.timestamps[-1]):
            raise DataError(f"{self.key}: appended candles must be newer than the last one")
        frame = (
            rows.reset_index(drop=True) if old.empty else pd.concat([old, rows], ignore_index=True)
        )
        quality = check_candles(frame, self.spec.timeframe)
        self.candles = replace(self.candles, frame=frame, quality=quality)
        self._index()

    @property
    def symbol(self) -> str:
        """The market's symbol, e.g. `BTC/USDT`."""
        return self.spec.symbol

    def stops(self) -> Stops:
        """The strategy's own protective exits."""
        return self.strategy.stops()

    def bar_values(self, i: int) -> dict[str, Decimal | int | None]:
        """Row `i` as Decimals (prices), with the ATR known at that bar's close."""
        row = self.candles.frame.iloc[i]
        value = self._atr[i]
        return {
            "timestamp_ms": int(row["timestamp"]),
            "open": to_decimal(row["open"]),
            "high": to_decimal(row["high"]),
            "low": to_decimal(row["low"]),
            "close": to_decimal(row["close"]),
            "volume": to_decimal(row["volume"]),
            "atr": None if np.isnan(value) else to_decimal(value),
        }

    def decide(self, i: int) -> Decision:
        """The strategy's decision at the close of bar `i`, from bars up to `i` only."""
        first = max(0, i + 1 - self.window)
        window: pd.DataFrame = self.candles.frame.iloc[first : i + 1].reset_index(drop=True)
        signals = self.strategy.run_signals(window)
        return Decision(bool(signals.entries[-1]), bool(signals.exits[-1]))


def _bars_of(
    stamps: np.ndarray, step_ms: int, j: int, begin: int
) -> Iterator[tuple[int, int, int, int]]:
    # keyed by close time: a 1h bar is decided after the 15m bars that close before it
    for i in range(begin, len(stamps)):
        yield int(stamps[i]) + step_ms, int(stamps[i]), j, i


def merged_bars(
    streams: Sequence[MarketStream], after: Sequence[int | None], start_ms: int | None
) -> Iterator[tuple[int, int]]:
    """(stream index, bar index) in close-time order across streams, from `start_ms` and after each
    stream's cursor (the last bar already processed); ties go in stream order."""
    iterators = []
    for j, stream in enumerate(streams):
        first_ms = start_ms if start_ms is not None else -(2**62)
        cursor = after[j]
        if cursor is not None:
            first_ms = max(first_ms, cursor + 1)
        begin = int(np.searchsorted(stream.timestamps, first_ms))
        iterators.append(_bars_of(stream.timestamps, stream.step_ms, j, begin))
    for _, _, j, i in heapq.merge(*iterators):
        yield j, i
