"""Live candles for the engine through ccxt: `[market] source = "exchange"` (paper trading on live
data).

An `ExchangeSource` owns one `MarketStream` per `[[market.symbols]]` entry, whose candle frame
grows as candles close. `start` backfills each market with the history its strategy's decision
window needs; `bars` then polls the exchanges and yields each newly closed candle once, as
`(stream index, bar index)` like `merged_bars` does for a replay, so the `Trader` processes live
and replayed bars alike. A candle counts as closed once its open time plus its timeframe is at or
before the injected clock; the candle still forming is never yielded nor kept. Requests go through
ccxt's asyncio clients with rate limiting on, and transient failures (429, 5xx, timeouts) are
retried with backoff.

Bars come in order of close time (then open time, then stream): a 1h candle is yielded when it
closes, after the 15m candles that closed before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from botcore.config import Settings
from botcore.data.cache import next_open_ms
from botcore.data.candles import CANDLE_COLUMNS, MarketKey
from botcore.data.catalog import LoadedCandles
from botcore.data.exchanges import (
    DownloadError,
    RetryPolicy,
    call_with_retry_async,
    create_async_exchange,
)
from botcore.data.quality import check_candles
from botcore.engine.streams import MarketStream
from botcore.engine.tickers import fetch_last_prices
from botcore.strategy.registry import get_strategy

__all__ = ["ExchangeSource", "live_stream_key"]

Sleep = Callable[[float], Awaitable[None]]
_DTYPES = {"timestamp": "int64"} | dict.fromkeys(CANDLE_COLUMNS[1:], "float64")


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


def live_stream_key(exchange_id: str, sandbox: bool, symbol: str, timeframe: str) -> str:
    """The store cursor key of a live market (apart from replays, and sandbox from production)."""
    venue = f"{exchange_id}-sandbox" if sandbox else exchange_id
    return f"exchange|{venue}|{symbol}|{timeframe}"


def _frame(rows: Sequence[Sequence[Any]]) -> pd.DataFrame:
    return pd.DataFrame([list(r[:6]) for r in rows], columns=list(CANDLE_COLUMNS)).astype(_DTYPES)


@dataclass
class _Feed:
    """One stream's exchange client and where its candles stand."""

    stream: MarketStream
    exchange_id: str
    client: Any = None  # a ccxt asyncio exchange once `start` ran

    @property
    def last_ms(self) -> int | None:
        stamps = self.stream.timestamps
        return int(stamps[-1]) if len(stamps) else None

    def close_ms(self, open_ms: int) -> int:
        return next_open_ms(open_ms, self.stream.spec.timeframe, self.stream.step_ms)


class ExchangeSource:
    """Closed candles of several markets, possibly on several exchanges, as the engine's bars.

    Args:
        streams: One stream per market; their frames may start empty (`start` fills them).
        exchanges: The ccxt exchange id of each stream, in the same order.
        sandbox: Exchange ids to switch to their sandbox/testnet (`set_sandbox_mode(True)`).
        api_urls: Base URL per exchange id replacing its REST host (mirrors, local stand-ins).
        clock_ms: Current UTC time in milliseconds; decides which candles are closed.
        sleep: Waits the given seconds (between polls and retries); injected so tests do not wait.
        retry: Attempts and backoff for rate limits and network failures.
        settle_s: Seconds to wait after a candle's close before asking for it.
        recheck_s: Seconds between polls while a candle that should have closed is not served.
    """

    def __init__(
        self,
        streams: Sequence[MarketStream],
        exchanges: Sequence[str],
        *,
        sandbox: frozenset[str] = frozenset(),
        api_urls: Mapping[str, str] | None = None,
        clock_ms: Callable[[], int] = _wall_clock_ms,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
        settle_s: float = 1.0,
        recheck_s: float = 5.0,
    ) -> None:
        self.streams = list(streams)
        self._feeds = [_Feed(s, e) for s, e in zip(self.streams, exchanges, strict=True)]
        self._sandbox = sandbox
        self._api_urls = dict(api_urls or {})
        self._clock_ms = clock_ms
        self._sleep = sleep
        self._retry = retry or RetryPolicy()
        self._settle_s = settle_s
        self._recheck_s = recheck_s
        self._clients: dict[str, Any] = {}
        self._pending: list[tuple[int, int, int, int]] = []  # (close ms, open ms, stream, bar)
        self.retries = 0

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        api_urls: Mapping[str, str] | None = None,
        clock_ms: Callable[[], int] = _wall_clock_ms,
        sleep: Sleep = asyncio.sleep,
        retry: RetryPolicy | None = None,
    ) -> ExchangeSource:
        """One stream per `[[market.symbols]]` entry (its exchange, or `[data] default_exchange`),
        each with its strategy and an empty frame; `[[exchanges]]` entries with `sandbox = true`
        switch that exchange to its testnet. No network access until `start`."""
        sandbox = frozenset(e.name for e in settings.exchanges if e.sandbox)
        streams, ids = [], []
        for spec in settings.market.symbols:
            exchange_id = spec.exchange or settings.data.default_exchange
            strategy = get_strategy(spec.strategy, settings.strategies.folder)(**spec.params)
            key = MarketKey(exchange_id, spec.symbol, spec.timeframe)
            frame = _frame([])
            # Not a file: live candles are kept in memory only.
            candles = LoadedCandles(
                key, Path("ccxt", exchange_id), frame, check_candles(frame, spec.timeframe)
            )
            name = live_stream_key(exchange_id, exchange_id in sandbox, spec.symbol, spec.timeframe)
            streams.append(MarketStream(name, spec, candles, strategy))
            ids.append(exchange_id)
        return cls(streams, ids, sandbox=sandbox, api_urls=api_urls, clock_ms=clock_ms,
                   sleep=sleep, retry=retry)  # fmt: skip

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self, after: Sequence[int | None] | None = None) -> None:
        """Open the exchanges, check every market and backfill its history.

        Each stream gets the closed candles its decision window needs before the first bar to
        process. With `after` (the trader's cursors: open time of the last bar processed per
        stream), the bars closed since then are queued to be yielded first, so a restarted run
        catches up on what closed while it was down (as far as the exchange still serves it).

        Raises:
            DownloadError: unknown exchange, market or timeframe, a refusal, or failures beyond
                the retry policy.
        """
        cursors = list(after) if after is not None else [None] * len(self._feeds)
        now = self._clock_ms()
        for j, feed in enumerate(self._feeds):
            feed.client = await self._client(feed.exchange_id)
            self._check_market(feed)
            step = feed.stream.step_ms
            cursor = cursors[j]
            first_bar = now if cursor is None else min(now, cursor + step)
            rows = await self._fetch_closed(feed, first_bar - feed.stream.window * step, now)
            feed.stream.extend(_frame(rows))
            if cursor is not None:
                self._queue(j, feed, cursor)

    async def close(self) -> None:
        """Close every exchange client (their HTTP sessions)."""
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    async def __aenter__(self) -> ExchangeSource:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- polling ------------------------------------------------------------------------------
    async def poll(self) -> list[tuple[int, int]]:
        """Fetch what closed since the last poll; the new `(stream, bar)` pairs, close-time order.

        Side effects: requests to the exchanges; the streams' frames grow by the new candles.
        """
        now = self._clock_ms()
        for j, feed in enumerate(self._feeds):
            last = feed.last_ms
            since = now - feed.stream.window * feed.stream.step_ms if last is None else (
                feed.close_ms(last)
            )  # fmt: skip
            rows = await self._fetch_closed(feed, since, now)
            if rows:
                feed.stream.extend(_frame(rows))
                # a market empty until now: everything that appeared is new
                self._queue(j, feed, -1 if last is None else last)
        ready = sorted(self._pending)
        self._pending.clear()
        return [(j, i) for _, _, j, i in ready]

    async def bars(self, stop: asyncio.Event) -> AsyncGenerator[tuple[int, int], None]:
        """`(stream index, bar index)` of each candle as it closes, until `stop` is set.

        Waits (through the injected sleep) until the next candle of any market should have
        closed, plus `settle_s`; a candle the exchange does not serve yet is asked for again
        every `recheck_s`.
        """
        while not stop.is_set():
            for pair in await self.poll():
                if stop.is_set():
                    return
                yield pair
            await self._pause(self._wait_s(), stop)

    def _wait_s(self) -> float:
        now = self._clock_ms()
        due = [f.close_ms(f.close_ms(f.last_ms)) for f in self._feeds if f.last_ms is not None]
        if not due or min(due) <= now:
            return self._recheck_s
        return (min(due) - now) / 1000 + self._settle_s

    async def _pause(self, seconds: float, stop: asyncio.Event) -> None:
        sleeper = asyncio.ensure_future(self._sleep(seconds))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait({sleeper, stopper}, return_when=asyncio.FIRST_COMPLETED)
        for task in (sleeper, stopper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def last_prices(self) -> dict[str, Decimal]:
        """Last traded price of each streamed symbol, exact, from its exchange's tickers; a symbol
        streamed from two exchanges is priced by the first that quotes it. Call after `start`."""
        prices: dict[str, Decimal] = {}
        for exchange_id, client in self._clients.items():
            mine = [f.stream.spec.symbol for f in self._feeds if f.exchange_id == exchange_id]
            wanted = [s for s in mine if s not in prices]
            prices |= await fetch_last_prices(
                client, wanted, self._retry, sleep=self._sleep, on_retry=self._count_retry
            )
        return prices

    # -- requests -----------------------------------------------------------------------------
    def _queue(self, j: int, feed: _Feed, after_ms: int) -> None:
        """Queue the stream's bars opening after `after_ms`."""
        stamps = feed.stream.timestamps
        for i in range(len(stamps) - 1, -1, -1):
            ts = int(stamps[i])
            if ts <= after_ms:
                break
            heapq.heappush(self._pending, (feed.close_ms(ts), ts, j, i))

    async def _client(self, exchange_id: str) -> Any:
        if exchange_id not in self._clients:
            client = create_async_exchange(
                exchange_id,
                api_url=self._api_urls.get(exchange_id),
                sandbox=exchange_id in self._sandbox,
            )
            self._clients[exchange_id] = client
            await self._call(client, client.load_markets)
        return self._clients[exchange_id]

    def _check_market(self, feed: _Feed) -> None:
        client, spec = feed.client, feed.stream.spec
        if spec.symbol not in (client.markets or {}):
            raise DownloadError(f"{client.id} lists no market {spec.symbol}")
        offered = client.timeframes or {}
        if offered and spec.timeframe not in offered:
            raise DownloadError(
                f"{client.id} has no {spec.timeframe} candles; it offers {', '.join(offered)}"
            )

    async def _call(self, client: Any, request: Callable[[], Awaitable[Any]]) -> Any:
        return await call_with_retry_async(
            request, client, self._retry, sleep=self._sleep, on_retry=self._count_retry
        )

    def _count_retry(self, failures: int, delay_s: float, error: Exception) -> None:
        self.retries += 1

    async def _fetch_closed(self, feed: _Feed, since_ms: int, now_ms: int) -> list[list[Any]]:
        """Complete closed candles opening at or after `since_ms`, oldest first, paging on."""
        spec = feed.stream.spec
        kept: list[list[Any]] = []
        cursor = since_ms
        while True:
            request = functools.partial(feed.client.fetch_ohlcv, spec.symbol, spec.timeframe,
                                        cursor)  # fmt: skip
            rows = await self._call(feed.client, request)
            if not rows:
                return kept
            newest = max(int(r[0]) for r in rows)
            for row in sorted(rows, key=lambda r: int(r[0])):
                ts = int(row[0])
                closed = feed.close_ms(ts) <= now_ms
                fresh = ts >= cursor and (not kept or ts > int(kept[-1][0]))
                if closed and fresh and all(v is not None for v in row[:6]):
                    kept.append(row)
            # the page reached the forming candle (or beyond), or the exchange ignored `since`
            if feed.close_ms(newest) > now_ms or newest < cursor:
                return kept
            cursor = feed.close_ms(newest)
