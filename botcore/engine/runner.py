"""Running the engine in an asyncio loop: streams from config, pacing, a clean stop.

The loop processes one bar at a time through the `Trader` (each bar one transaction) and checks a
stop event between bars, so Ctrl-C or SIGTERM stops it between two committed bars: open orders stay
persisted and nothing is half-written. A replay paces bars at `[market] speed` seconds of market
time per second; `until_end` (or `[market] loop = false`) ends the run when the data ends.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from botcore.config import Settings
from botcore.data.catalog import DataCatalog
from botcore.engine.exchange_source import ExchangeSource
from botcore.engine.streams import MarketStream, merged_bars
from botcore.engine.trader import BarReport, Trader
from botcore.persistence import Store
from botcore.strategy.registry import get_strategy
from botcore.timeframes import parse_datetime, to_ms

__all__ = ["EngineRunner", "RunSummary", "build_streams", "run_id_for"]


@dataclass(frozen=True)
class RunSummary:
    """How a run ended."""

    bars: int
    finished: bool  # the data ended (as opposed to a stop request)


def build_streams(settings: Settings) -> list[MarketStream]:
    """One stream per `[[market.symbols]]` entry, with its candles and strategy."""
    data = settings.data
    first = (settings.market.data_dir,) if settings.market.data_dir else ()
    catalog = DataCatalog.create(data.cache_dir, (*first, *data.dirs), data.default_exchange)
    streams = []
    for spec in settings.market.symbols:
        candles = catalog.load(spec.symbol, spec.timeframe, spec.exchange)
        strategy = get_strategy(spec.strategy, settings.strategies.folder)(**spec.params)
        key = f"replay|{candles.key.exchange}|{candles.key.symbol}|{spec.timeframe}"
        streams.append(MarketStream(key, spec, candles, strategy))
    return streams


def run_id_for(settings: Settings) -> str:
    """A stable id for a configuration's run: order ids derive from it, so a restarted run (and
    a second run of the same config) names its orders identically."""
    market = settings.market.model_dump(mode="json", exclude={"speed", "loop"})
    text = json.dumps({"market": market, "trading": settings.trading.model_dump(mode="json")},
                      sort_keys=True)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class EngineRunner:
    """Owns the store and the trader for one `tradechat run`."""

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        api_urls: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        if settings.database.url.startswith("sqlite:///"):
            Path(settings.database.url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        self.store = store or Store.open(settings.database.url)
        self.source: ExchangeSource | None = None
        if settings.market.source == "exchange":
            self.source = ExchangeSource.from_settings(settings, api_urls=api_urls)
            self.streams = self.source.streams
        else:
            self.streams = build_streams(settings)
        self.trader = Trader(settings, self.store, self.streams, run_id_for(settings))
        start = settings.market.start
        self.start_ms = to_ms(parse_datetime(start)) if start else None

    def remaining(self) -> int:
        """Bars left to process."""
        return sum(1 for _ in merged_bars(self.streams, self.trader.cursors(), self.start_ms))

    async def run(
        self,
        stop: asyncio.Event,
        until_end: bool | None = None,
        on_bar: Callable[[BarReport], None] | None = None,
        speed: float | None = None,
    ) -> RunSummary:
        """Process bars until the data ends (or, when looping, until `stop` is set)."""
        if self.source is not None:
            return await self._run_live(stop, on_bar)
        until_end = (not self.settings.market.loop) if until_end is None else until_end
        speed = speed or self.settings.market.speed
        done, previous_ms = 0, None
        for j, i in merged_bars(self.streams, self.trader.cursors(), self.start_ms):
            if stop.is_set():
                return RunSummary(done, finished=False)
            ts = int(self.streams[j].timestamps[i])
            wait = 0.0 if previous_ms is None else (ts - previous_ms) / 1000 / speed
            previous_ms = ts
            # a zero wait still yields, so signal handlers run between bars
            await asyncio.sleep(min(wait, 60.0))
            report = self.trader.process(j, i)
            done += 1
            if on_bar is not None:
                on_bar(report)
        if not until_end:
            await stop.wait()
        return RunSummary(done, finished=True)

    async def _run_live(
        self, stop: asyncio.Event, on_bar: Callable[[BarReport], None] | None
    ) -> RunSummary:
        """Paper trading on live candles until `stop` is set (a live run never finishes)."""
        assert self.source is not None
        done = 0
        async with self.source:  # closes the ccxt HTTP sessions on stop or error
            await self.source.start(self.trader.cursors())
            async with aclosing(self.source.bars(stop)) as bars:
                async for j, i in bars:
                    report = self.trader.process(j, i)
                    done += 1
                    if on_bar is not None:
                        on_bar(report)
        return RunSummary(done, finished=False)

    def close(self) -> None:
        """Close the store."""
        self.store.close()
