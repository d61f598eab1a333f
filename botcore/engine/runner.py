"""Running the engine in an asyncio loop: streams from config, pacing, a clean stop.

The loop processes one bar at a time through the `Trader` (each bar one transaction) and checks a
stop event between bars, so Ctrl-C or SIGTERM stops it between two committed bars: open orders stay
persisted and nothing is half-written. A replay paces bars at `[market] speed` seconds of market
time per second; `until_end` (or `[market] loop = false`) ends the run when the data ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from contextlib import aclosing, suppress
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from botcore.config import Settings
from botcore.data.catalog import DataCatalog
from botcore.data.exchanges import DownloadError
from botcore.engine.exchange_source import ExchangeSource
from botcore.engine.identity import run_id_for
from botcore.engine.lease import LeaseHolder
from botcore.engine.live_execution import LiveExecution
from botcore.engine.live_trader import FlushReport, LiveTrader
from botcore.engine.streams import MarketStream, merged_bars
from botcore.engine.trader import BarReport, Trader
from botcore.errors import ConfigError
from botcore.execution.live import LiveBroker, open_live_exchange
from botcore.execution.paper import PaperBroker
from botcore.persistence import Store
from botcore.security.keystore import Keystore
from botcore.strategy.registry import get_strategy
from botcore.timeframes import parse_datetime, to_ms

_log = logging.getLogger(__name__)

__all__ = ["EngineRunner", "RunSummary", "build_streams"]


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


class EngineRunner:
    """Owns the store and the trader for one `tradechat run`.

    Args:
        settings: The configuration.
        store: An open store (default: opened from `[database] url`).
        api_urls: Base URL per exchange id replacing its REST host (local stand-ins in tests).
        keystore: The opened keystore; live trading takes the exchange's keys from it.
        source: A live candle source built by the caller (default: from the settings).

    Raises:
        ConfigError: live trading asked for without an exchange source, or on several exchanges.
        LiveGuardError: live trading is not switched on, or its keys are missing.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        api_urls: Mapping[str, str] | None = None,
        keystore: Keystore | None = None,
        source: ExchangeSource | None = None,
    ) -> None:
        self.settings = settings
        self.source: ExchangeSource | None = None
        live = settings.trading.mode == "live"
        if live and settings.market.source != "exchange":
            raise ConfigError(
                'live trading needs live candles: set [market] source = "exchange" (a replay '
                "cannot fill real orders)"
            )
        # the live switches and keys are checked before anything is created
        exchange = _open_exchange(settings, keystore, dict(api_urls or {})) if live else None
        if settings.database.url.startswith("sqlite:///"):
            Path(settings.database.url.removeprefix("sqlite:///")).parent.mkdir(
                parents=True, exist_ok=True
            )
        self.store = store or Store.open(settings.database.url)
        if settings.market.source == "exchange":
            self.source = source or ExchangeSource.from_settings(settings, api_urls=api_urls)
            self.streams = self.source.streams
        else:
            self.streams = build_streams(settings)
        run_id = run_id_for(settings)
        self.trader: Trader
        if exchange is not None:
            self.trader = _live_trader(settings, self.store, self.streams, run_id, exchange)
        else:
            self.trader = Trader(settings, self.store, self.streams, run_id)
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
        on_flush: Callable[[FlushReport], None] | None = None,
    ) -> RunSummary:
        """Process bars until the data ends (or, when looping, until `stop` is set).

        `on_bar` hears of each committed bar; in live mode `on_flush` hears what sending the
        bar's orders (and the start's reconcile) did, after that too is committed.

        The run holds the store's engine lease (`botcore.engine.lease`) from before its first
        bar to its end.

        Raises:
            EngineBusyError: another engine runs on this store.
        """
        holder = LeaseHolder(self.store, self.settings.trading.mode, self.settings.market.source)
        holder.claim()
        keeper = asyncio.create_task(holder.keep(stop.set))
        try:
            return await self._run(stop, until_end, on_bar, speed, on_flush)
        finally:
            keeper.cancel()
            with suppress(asyncio.CancelledError):
                await keeper
            holder.release()

    async def _run(
        self,
        stop: asyncio.Event,
        until_end: bool | None,
        on_bar: Callable[[BarReport], None] | None,
        speed: float | None,
        on_flush: Callable[[FlushReport], None] | None,
    ) -> RunSummary:
        if self.source is not None:
            return await self._run_live(stop, on_bar, on_flush)
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
        self,
        stop: asyncio.Event,
        on_bar: Callable[[BarReport], None] | None,
        on_flush: Callable[[FlushReport], None] | None,
    ) -> RunSummary:
        """Trading on live candles (paper or live) until `stop` is set; never finishes.

        In live mode the exchange is reconciled first, and every bar's new orders are sent
        after its commit. The exchange's synchronous client runs in a worker thread, so the
        event loop (and the chat adapters on it) stays responsive during its requests."""
        assert self.source is not None
        trader = self.trader
        done = 0
        async with self.source:  # closes the ccxt HTTP sessions on stop or error
            live = trader if isinstance(trader, LiveTrader) else None
            if live is not None:
                for step in (live.reconcile, live.flush):
                    self._flushed(await asyncio.to_thread(step), on_flush)
            await self.source.start(trader.cursors())
            async with aclosing(self.source.bars(stop)) as bars:
                async for j, i in bars:
                    if live is not None:
                        report = await asyncio.to_thread(live.process, j, i)
                    else:
                        report = trader.process(j, i)
                    done += 1
                    if on_bar is not None:
                        on_bar(report)
                    if live is not None:
                        # tickers cost request weight: asked for only when there is an order to send
                        prices = await self._prices() if live.has_unsent() else {}
                        self._flushed(await asyncio.to_thread(live.flush, prices), on_flush)
        return RunSummary(done, finished=False)

    async def _prices(self) -> dict[str, Decimal]:
        """The tickers' last prices; none when the exchange will not say (the bar's close then
        stands in for the minimum-value check)."""
        assert self.source is not None
        try:
            return await self.source.last_prices()
        except DownloadError as exc:
            _log.warning("no tickers: %s", exc)
            return {}

    def _flushed(self, report: FlushReport, on_flush: Callable[[FlushReport], None] | None) -> None:
        if on_flush is not None and (report.orders or report.errors):
            on_flush(report)

    def close(self) -> None:
        """Close the store (and the live exchange's HTTP session)."""
        if isinstance(self.trader, LiveTrader):
            self.trader.live.broker.close()
        self.store.close()


def _open_exchange(settings: Settings, keystore: Keystore | None, api_urls: dict[str, str]) -> Any:
    """The keyed ccxt exchange every stream trades on, through the live guard."""
    venues = {s.exchange or settings.data.default_exchange for s in settings.market.symbols}
    if len(venues) != 1:
        raise ConfigError(
            f"live trading runs on one exchange; [[market.symbols]] use {', '.join(sorted(venues))}"
        )
    name = venues.pop()
    entry = next((e for e in settings.exchanges if e.name == name), None)
    if entry is None:
        raise ConfigError(
            f"live trading on {name} needs an [[exchanges]] entry for it with its key_name"
        )
    return open_live_exchange(settings.trading, entry, keystore, api_url=api_urls.get(name))


def _live_trader(
    settings: Settings, store: Store, streams: list[MarketStream], run_id: str, exchange: Any
) -> LiveTrader:
    """A trader on `exchange`; a first start takes the exchange account's balances."""
    trading = settings.trading
    try:
        broker = LiveBroker(exchange)
        paper = PaperBroker(Decimal(str(trading.fee)), Decimal(str(trading.slippage)),
                            quote=trading.quote)  # fmt: skip
        execution = LiveExecution(broker, paper, (f.id for f in store.fills()))
        opening = None
        if not store.balances(execution.account):
            opening = {asset: b.total for asset, b in broker.balances().items()}
    except BaseException:
        exchange.close()
        raise
    return LiveTrader(settings, store, streams, run_id, execution, opening)
