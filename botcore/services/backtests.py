"""Backtest use cases: load the data a request names, build the strategy, run, compare."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from botcore.backtest.engine import BacktestSettings, run_backtest
from botcore.backtest.result import BacktestResult
from botcore.config import Settings
from botcore.data.candles import MarketKey
from botcore.data.catalog import DataCatalog, LoadedCandles, load_file, normalize_symbol
from botcore.data.market_rules import load_market_rules
from botcore.data.quality import check_candles
from botcore.errors import ParamError
from botcore.strategy.base import Strategy
from botcore.strategy.registry import get_strategy
from botcore.timeframes import to_ms

__all__ = ["BacktestRequest", "BacktestService"]


@dataclass(frozen=True)
class BacktestRequest:
    """What to backtest: a strategy with parameters over symbols (or files) and a period."""

    strategy: str
    params: Mapping[str, Any] = field(default_factory=dict)
    symbols: tuple[str, ...] = ()
    timeframe: str | None = None
    exchange: str | None = None
    data_files: tuple[Path, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    settings: BacktestSettings = field(default_factory=BacktestSettings)


class BacktestService:
    """Runs backtests against the configured data folders and strategy folder."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.catalog = DataCatalog.create(
            settings.data.cache_dir, settings.data.dirs, settings.data.default_exchange
        )

    def strategy(self, name: str, params: Mapping[str, Any] | None = None) -> Strategy:
        """An instance of the named strategy (built-in or from the strategy folder)."""
        return get_strategy(name, self._settings.strategies.folder)(**dict(params or {}))

    def load_markets(self, request: BacktestRequest) -> list[LoadedCandles]:
        """The full candle series a request names (not cut to its period)."""
        if request.data_files:
            markets: list[LoadedCandles] = []
            for path in request.data_files:
                key = MarketKey.from_filename(path.name)
                if request.symbols or request.timeframe or request.exchange or key is None:
                    if not (request.timeframe or key):
                        raise ParamError(f"give --timeframe: {path.name} does not name one")
                    base = key or MarketKey("unknown", "UNKNOWN/UNKNOWN", request.timeframe or "")
                    sym = (
                        request.symbols[len(markets)]
                        if len(request.symbols) > len(markets)
                        else None
                    )
                    key = MarketKey(
                        request.exchange or base.exchange,
                        normalize_symbol(sym, self._settings.data.quote) if sym else base.symbol,
                        request.timeframe or base.timeframe,
                    )
                markets.append(load_file(path, key))
            return markets
        if not request.symbols or not request.timeframe:
            raise ParamError("name the data: --data FILE, or --symbol and --timeframe")
        return [
            self.catalog.load(
                normalize_symbol(s, self._settings.data.quote), request.timeframe, request.exchange
            )
            for s in request.symbols
        ]

    def run(
        self,
        request: BacktestRequest,
        strategy: Strategy | None = None,
        markets: Sequence[LoadedCandles] | None = None,
    ) -> BacktestResult:
        """Backtest the request; bars before `start` (up to the warm-up) prime the indicators."""
        strategy = strategy or self.strategy(request.strategy, request.params)
        markets = list(markets) if markets is not None else self.load_markets(request)
        cut = [cut_period(m, request.start, request.end, strategy.warmup()) for m in markets]
        start_ms = to_ms(request.start) if request.start else None
        settings = request.settings
        if not settings.rules:
            # precision saved by `tradechat data download`, when this market was downloaded
            known = load_market_rules(
                self.catalog.dirs, cut[0].key.exchange, [m.key.symbol for m in cut]
            )
            settings = replace(settings, rules=known)
        return run_backtest(strategy, cut, settings, start_ms)

    def compare(self, request: BacktestRequest, names: Sequence[str]) -> list[BacktestResult]:
        """The request's strategy and each of `names` (default parameters) on the same data."""
        markets = self.load_markets(request)
        results = [self.run(request, markets=markets)]
        for name in names:
            results.append(self.run(request, self.strategy(name), markets))
        return results


def cut_period(
    market: LoadedCandles, start: datetime | None, end: datetime | None, warmup: int
) -> LoadedCandles:
    """`market` cut to `[start - warmup bars, end)`."""
    if start is None and end is None:
        return market
    frame = market.frame
    ts = frame["timestamp"]
    if end is not None:
        frame = frame[ts < to_ms(end)]
    if start is not None:
        first = int((frame["timestamp"] < to_ms(start)).sum())
        frame = frame.iloc[max(0, first - warmup) :]
        if first >= len(frame) + max(0, first - warmup):
            raise ParamError(f"no {market.key.symbol} candles after {start:%Y-%m-%d}")
    if frame.empty:
        raise ParamError(f"no {market.key.symbol} {market.key.timeframe} candles in that period")
    frame = frame.reset_index(drop=True)
    # Gaps and zero volume are reported for the period used; repairs made on loading still count.
    quality = replace(
        check_candles(frame, market.key.timeframe),
        duplicates=market.quality.duplicates,
        unsorted=market.quality.unsorted,
    )
    return LoadedCandles(market.key, market.path, frame, quality)
