"""Token scanner: rank a market's symbols by momentum, volume spike, volatility and range breakout.

Pure scoring over candle frames (the columns of `botcore.data.candles`). Only candles that had
closed by the scan time count: a candle opened at `t` closes at `t + timeframe`, and is used when
that is at or before `at_ms`. A scan at a past time therefore equals a scan of the data cut there.

Per symbol, over its closed candles (N bars each, see `ScanParams`):

- momentum: `close[-1] / close[-1 - N] - 1`, in percent;
- volume spike: last volume / mean volume of the N bars before it;
- volatility: sample standard deviation of the last N bar-to-bar returns, or the ATR (simple mean
  of the last N true ranges) over the last close, in percent;
- range breakout: where the last close sits in the high/low range of the N bars before it
  (0 = at the low, 1 = at the high, above 1 or below 0 = broke out of the range);
- 24 h quote volume: sum of close × volume over the candles of the last 24 h (or the exchange's
  24 h ticker figure when the caller passes one), the quantity `min_quote_volume` filters on.

The composite `score` is the mean of the four metrics' percentile ranks among the symbols ranked
(momentum, volume spike, volatility and range position: higher ranks higher), in [0, 1].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

import numpy as np
import pandas as pd

from botcore.errors import ParamError
from botcore.timeframes import timeframe_ms

__all__ = [
    "Breakout",
    "ScanParams",
    "ScanResult",
    "SkipReason",
    "SkippedSymbol",
    "SymbolScore",
    "bars_needed",
    "scan",
]

_DAY_MS = 86_400_000
SortKey = Literal["score", "momentum", "volume_spike", "volatility", "breakout", "quote_volume"]


class Breakout(StrEnum):
    """Whether the last close left the range of the bars before it."""

    UP = "up"
    DOWN = "down"
    NONE = "none"


class SkipReason(StrEnum):
    """Why a symbol is not in the ranking."""

    QUOTE = "quote"  # quoted in another currency than the filter asks for
    NOT_ENOUGH_DATA = "not_enough_data"  # fewer closed candles than the windows need
    STALE = "stale"  # its last closed candle is too old for the scan time
    LOW_VOLUME = "low_volume"  # 24 h quote volume under the minimum


@dataclass(frozen=True)
class ScanParams:
    """Windows (in bars) and filters of a scan.

    Attributes:
        momentum_bars: N of the momentum return.
        volume_bars: Bars whose mean volume the last volume is compared with.
        volatility_bars: Returns (or true ranges) the volatility is measured over.
        breakout_bars: Bars before the last whose high/low range the last close is placed in.
        volatility: `stdev` of returns or `atr` (average true range over the last close).
        quote: Keep only symbols quoted in this currency (None: any).
        min_quote_volume: Keep only symbols with at least this 24 h quote volume.
        max_stale_bars: A symbol whose last closed candle closed more than this many bars before
            the scan time is skipped (its market stopped or its data ends earlier).
        sort_by: `score`, or one metric to rank by alone.
        top: Keep the best this many (None: all).
    """

    momentum_bars: int = 96
    volume_bars: int = 96
    volatility_bars: int = 96
    breakout_bars: int = 96
    volatility: Literal["stdev", "atr"] = "stdev"
    quote: str | None = None
    min_quote_volume: float = 0.0
    max_stale_bars: int = 1
    sort_by: SortKey = "score"
    top: int | None = None

    def __post_init__(self) -> None:
        windows = (self.momentum_bars, self.volume_bars, self.volatility_bars, self.breakout_bars)
        if min(windows) < 1:
            raise ParamError("scanner windows need at least one bar each")
        if self.volatility_bars < 2 and self.volatility == "stdev":
            raise ParamError("a standard deviation of returns needs at least 2 bars")
        if self.min_quote_volume < 0:
            raise ParamError("the minimum quote volume cannot be negative")
        if self.max_stale_bars < 0:
            raise ParamError("max_stale_bars cannot be negative")
        if self.top is not None and self.top < 1:
            raise ParamError("top must be at least 1")


def bars_needed(params: ScanParams) -> int:
    """Closed candles a symbol needs for every window (the last bar plus the longest look-back)."""
    return 1 + max(
        params.momentum_bars, params.volume_bars, params.volatility_bars, params.breakout_bars
    )


@dataclass(frozen=True)
class SymbolScore:
    """One ranked symbol. Percentages are in percent; `rank` starts at 1.

    Attributes:
        last_close_ms: Close time (UTC ms) of the last candle used: the data's "as of".
        quote_volume_24h: Quote-currency volume of the last 24 h (see the module docstring).
    """

    rank: int
    symbol: str
    score: float
    last_close_ms: int
    close: float
    momentum_pct: float
    volume_spike: float
    volatility_pct: float
    range_position: float
    breakout: Breakout
    quote_volume_24h: float


@dataclass(frozen=True)
class SkippedSymbol:
    """A symbol left out of the ranking, with the figure that excluded it.

    Attributes:
        closed_bars: Closed candles available at the scan time.
        last_close_ms: Close time of its last closed candle (None: none had closed).
        quote_volume_24h: Its 24 h quote volume, when it was computed.
    """

    symbol: str
    reason: SkipReason
    closed_bars: int
    last_close_ms: int | None = None
    quote_volume_24h: float | None = None


@dataclass(frozen=True)
class ScanResult:
    """A ranking at one scan time (UTC ms), best first, and what was left out and why."""

    at_ms: int
    timeframe: str
    params: ScanParams
    ranked: tuple[SymbolScore, ...]
    skipped: tuple[SkippedSymbol, ...]


@dataclass(frozen=True)
class _Metrics:
    symbol: str
    last_close_ms: int
    close: float
    momentum_pct: float
    volume_spike: float
    volatility_pct: float
    range_position: float
    breakout: Breakout
    quote_volume_24h: float


def _closed(frame: pd.DataFrame, step_ms: int, at_ms: int) -> pd.DataFrame:
    ts = frame["timestamp"].to_numpy()
    return frame.loc[ts + step_ms <= at_ms]


def _volatility_pct(
    high: np.ndarray, low: np.ndarray, close: np.ndarray, params: ScanParams
) -> float:
    n = params.volatility_bars
    if params.volatility == "stdev":
        returns = close[-n:] / close[-n - 1 : -1] - 1.0
        return float(np.std(returns, ddof=1) * 100.0)
    prev = close[-n - 1 : -1]
    true_range = np.maximum(
        high[-n:] - low[-n:], np.maximum(np.abs(high[-n:] - prev), np.abs(low[-n:] - prev))
    )
    return float(true_range.mean() / close[-1] * 100.0)


def _metrics(symbol: str, closed: pd.DataFrame, step_ms: int, params: ScanParams) -> _Metrics:
    high = closed["high"].to_numpy(dtype=float)
    low = closed["low"].to_numpy(dtype=float)
    close = closed["close"].to_numpy(dtype=float)
    volume = closed["volume"].to_numpy(dtype=float)
    last = close[-1]

    momentum = (last / close[-1 - params.momentum_bars] - 1.0) * 100.0
    mean_volume = volume[-1 - params.volume_bars : -1].mean()
    if mean_volume > 0:
        spike = float(volume[-1] / mean_volume)
    else:  # a market without trades before: any volume now is an unbounded spike
        spike = math.inf if volume[-1] > 0 else 1.0
    range_high = high[-1 - params.breakout_bars : -1].max()
    range_low = low[-1 - params.breakout_bars : -1].min()
    width = range_high - range_low
    position = float((last - range_low) / width) if width > 0 else 0.5
    breakout = (
        Breakout.UP if last > range_high else Breakout.DOWN if last < range_low else Breakout.NONE
    )
    day_bars = max(1, _DAY_MS // step_ms)
    quote_volume = float((close[-day_bars:] * volume[-day_bars:]).sum())
    return _Metrics(
        symbol=symbol,
        last_close_ms=int(closed["timestamp"].iloc[-1]) + step_ms,
        close=float(last),
        momentum_pct=float(momentum),
        volume_spike=spike,
        volatility_pct=_volatility_pct(high, low, close, params),
        range_position=position,
        breakout=breakout,
        quote_volume_24h=quote_volume,
    )


def _default_at(frames: Mapping[str, pd.DataFrame], step_ms: int) -> int:
    closes = [int(f["timestamp"].iloc[-1]) + step_ms for f in frames.values() if len(f)]
    if not closes:
        raise ParamError("nothing to scan: every candle frame is empty")
    return max(closes)


_SORT_COLUMNS: dict[str, str] = {
    "momentum": "momentum_pct",
    "volume_spike": "volume_spike",
    "volatility": "volatility_pct",
    "breakout": "range_position",
    "quote_volume": "quote_volume_24h",
}


def _rank(kept: list[_Metrics], params: ScanParams) -> tuple[SymbolScore, ...]:
    if not kept:
        return ()
    table = pd.DataFrame([vars(m) for m in kept])
    ranks = [
        table[column].rank(pct=True, method="average")
        for column in ("momentum_pct", "volume_spike", "volatility_pct", "range_position")
    ]
    scores = (sum(ranks) / len(ranks)).tolist()
    scored = list(zip(kept, scores, strict=True))
    if params.sort_by == "score":
        scored.sort(key=lambda pair: (-pair[1], pair[0].symbol))
    else:
        column = _SORT_COLUMNS[params.sort_by]
        # Ties keep alphabetical order so a ranking never depends on the order frames came in.
        scored.sort(key=lambda pair: (-getattr(pair[0], column), pair[0].symbol))
    if params.top is not None:
        scored = scored[: params.top]
    return tuple(
        SymbolScore(rank=i, score=float(score), **vars(metrics))
        for i, (metrics, score) in enumerate(scored, start=1)
    )


def scan(
    frames: Mapping[str, pd.DataFrame],
    timeframe: str,
    params: ScanParams | None = None,
    *,
    at_ms: int | None = None,
    quote_volumes: Mapping[str, float] | None = None,
) -> ScanResult:
    """Rank symbols by their candles closed by `at_ms`.

    Args:
        frames: Symbol (`BTC/USDT`) -> candle frame, sorted by time (as the catalog loads them).
        timeframe: The candles' timeframe, e.g. `15m`.
        params: Windows, filters and sorting; defaults of `ScanParams` when None.
        at_ms: Scan time (UTC ms); default the latest candle close among the frames. Candles
            closing after it are never read.
        quote_volumes: 24 h quote volumes from an exchange's tickers, replacing the candle sum
            for the symbols given (the ticker knows trades the candles at hand may not hold).

    Raises:
        ParamError: invalid parameters, or no candles at all when `at_ms` is not given.
    """
    params = params or ScanParams()
    step = timeframe_ms(timeframe)
    at = at_ms if at_ms is not None else _default_at(frames, step)
    need = bars_needed(params)
    kept: list[_Metrics] = []
    skipped: list[SkippedSymbol] = []
    for symbol in sorted(frames):
        if params.quote is not None and symbol.partition("/")[2] != params.quote.upper():
            skipped.append(SkippedSymbol(symbol, SkipReason.QUOTE, 0))
            continue
        closed = _closed(frames[symbol], step, at)
        count = len(closed)
        last_close = int(closed["timestamp"].iloc[-1]) + step if count else None
        if last_close is not None and at - last_close > params.max_stale_bars * step:
            skipped.append(SkippedSymbol(symbol, SkipReason.STALE, count, last_close))
            continue
        if count < need:
            skipped.append(SkippedSymbol(symbol, SkipReason.NOT_ENOUGH_DATA, count, last_close))
            continue
        metrics = _metrics(symbol, closed, step, params)
        if quote_volumes is not None and symbol in quote_volumes:
            metrics = replace(metrics, quote_volume_24h=float(quote_volumes[symbol]))
        if metrics.quote_volume_24h < params.min_quote_volume:
            skipped.append(
                SkippedSymbol(
                    symbol, SkipReason.LOW_VOLUME, count, last_close, metrics.quote_volume_24h
                )
            )
            continue
        kept.append(metrics)
    return ScanResult(at, timeframe, params, _rank(kept, params), tuple(skipped))
