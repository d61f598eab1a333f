"""Download candles from an exchange (through ccxt) into the local Parquet cache, resumably.

The cache file for a market is `<cache_dir>/<exchange>_<BASE>-<QUOTE>_<tf>.parquet`, always sorted
and with one row per timestamp. A download only asks for what the file lacks at either end, so a
second run extends the file from its last candle and an interrupted run simply continues. Pages are
merged into the file in chunks, each written atomically, so a crash loses at most the chunk in
flight and never leaves a half-written file. Only closed candles are stored: the candle still
forming at the moment of the download would otherwise sit in the cache with a wrong close.
Gaps the exchange has (outages, no trades) are reported by `check_candles`, never filled.
"""

from __future__ import annotations

import difflib
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from botcore.data.cache import CacheWriter, cache_path, missing_ranges, next_open_ms
from botcore.data.candles import MarketKey
from botcore.data.exchanges import DownloadError, RetryPolicy, call_with_retry, create_exchange
from botcore.data.market_rules import rules_from_ccxt, save_market_rules
from botcore.data.quality import DataQuality, check_candles
from botcore.errors import ParamError
from botcore.timeframes import timeframe_ms, to_ms

__all__ = [
    "DownloadProgress",
    "DownloadSummary",
    "OhlcvExchange",
    "download_candles",
]


class OhlcvExchange(Protocol):
    """The part of a ccxt (synchronous) exchange a download uses."""

    id: str
    markets: Any
    symbols: Any
    timeframes: Any

    def load_markets(self) -> Any:
        """Load the exchange's markets (cached by ccxt after the first call)."""

    def fetch_ohlcv(
        self,
        symbol: str,
        timeframe: str = "1m",
        since: int | None = None,
        limit: int | None = None,
        params: dict[str, Any] = ...,
    ) -> list[list[Any]]:
        """Candles `[open ms, open, high, low, close, volume]` from `since`, oldest first."""


@dataclass(frozen=True)
class DownloadProgress:
    """Where a running download stands, sent after every page.

    Attributes:
        done_slots: Candle slots of the requested period covered so far.
        total_slots: Candle slots the download has to cover (gaps included).
        fetched: Closed candles received so far.
        pages: Requests answered so far.
        retries: Requests repeated so far after a transient failure.
    """

    done_slots: int
    total_slots: int
    fetched: int
    pages: int
    retries: int


@dataclass(frozen=True)
class DownloadSummary:
    """What a download did and how the cached series looks afterwards.

    Attributes:
        key: Exchange, symbol and timeframe.
        path: The Parquet cache file.
        segments_ms: The `[start, end)` open-time ranges asked for (UTC ms), at most two: before
            the cached candles and after them. Empty when the cache already covered the period.
        resumed_after_ms: Open time of the newest candle cached before the run, if any.
        fetched: Closed candles received in the requested ranges.
        added: Rows the cache file gained.
        pages: Requests answered.
        retries: Requests repeated after a transient failure (rate limit, network).
        forming_skipped: Candles not stored because they were still open.
        incomplete_skipped: Candles not stored because the exchange left a field empty.
        quality: The check of the whole cached file after the download.
    """

    key: MarketKey
    path: Path
    segments_ms: tuple[tuple[int, int], ...]
    resumed_after_ms: int | None
    fetched: int
    added: int
    pages: int
    retries: int
    forming_skipped: int
    incomplete_skipped: int
    quality: DataQuality


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


def _supports_until(exchange: OhlcvExchange) -> bool:
    # ccxt documents the extra parameters each exchange's fetch_ohlcv reads in its docstring;
    # sending `until` to one that does not read it would pass it to the exchange as a raw
    # query parameter, which some reject. Results are cut to the range either way.
    method = getattr(type(exchange), "fetch_ohlcv", None)
    return "params.until" in (getattr(method, "__doc__", None) or "")


def _page_limit(exchange: OhlcvExchange, market: dict[str, Any]) -> int | None:
    """The most candles one request may ask for, from ccxt's `features`, if it says."""
    features = getattr(exchange, "features", None) or {}
    section = features.get(market.get("type"), None) or {}
    if market.get("type") in ("swap", "future"):
        section = section.get("linear" if market.get("linear") else "inverse") or {}
    limit = (section.get("fetchOHLCV") or {}).get("limit")
    return int(limit) if limit else None


def _check_market(exchange: OhlcvExchange, symbol: str, timeframe: str) -> dict[str, Any]:
    """The ccxt market of `symbol`, after checking the exchange lists it and the timeframe."""
    markets = exchange.markets or {}
    if symbol not in markets:
        close = difflib.get_close_matches(symbol, list(exchange.symbols or []), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise DownloadError(f"{exchange.id} lists no market {symbol}{hint}")
    offered = exchange.timeframes or {}
    if offered and timeframe not in offered:
        raise DownloadError(
            f"{exchange.id} has no {timeframe} candles; it offers {', '.join(offered)}"
        )
    market: dict[str, Any] = markets[symbol]
    return market


@dataclass
class _Run:
    """Counters of one download, shared by the pages of every segment."""

    exchange: Any  # an OhlcvExchange once `start` ran
    symbol: str
    timeframe: str
    step_ms: int
    now_ms: int
    writer: CacheWriter
    retry: RetryPolicy
    sleep: Callable[[float], None]
    progress: Callable[[DownloadProgress], None] | None
    total_slots: int
    limit: int | None = None
    until_param: bool = False
    done_slots: int = 0
    fetched: int = 0
    pages: int = 0
    retries: int = 0
    forming: int = 0
    incomplete: int = 0

    def start(self, exchange: OhlcvExchange, page_limit: int | None) -> None:
        """Load the exchange's markets, check the market and announce the download."""
        self.exchange = exchange
        call_with_retry(
            exchange.load_markets,
            exchange,
            self.retry,
            sleep=self.sleep,
            on_retry=self._count_retry,
        )
        market = _check_market(exchange, self.symbol, self.timeframe)
        rules = rules_from_ccxt(market, getattr(exchange, "precisionMode", 0))
        save_market_rules(self.writer.path.parent, exchange.id, self.symbol, rules)
        self.limit = page_limit or _page_limit(exchange, market)
        self.until_param = _supports_until(exchange)
        self.report()

    def report(self) -> None:
        if self.progress is not None:
            self.progress(
                DownloadProgress(
                    self.done_slots, self.total_slots, self.fetched, self.pages, self.retries
                )
            )

    def _count_retry(self, failures: int, delay_s: float, error: Exception) -> None:
        self.retries += 1

    def fetch_segment(self, start_ms: int, end_ms: int) -> None:
        """Page through `[start_ms, end_ms)`, handing closed candles to the writer."""
        done_before = self.done_slots
        cursor = start_ms
        while cursor < end_ms:
            params = {"until": end_ms - 1} if self.until_param else {}
            request = functools.partial(
                self.exchange.fetch_ohlcv, self.symbol, self.timeframe, cursor, self.limit, params
            )
            rows = call_with_retry(
                request, self.exchange, self.retry, sleep=self.sleep, on_retry=self._count_retry
            )
            self.pages += 1
            if not rows:
                break  # nothing after `cursor`: the market's history ends here
            newest = max(int(row[0]) for row in rows)
            in_range = [row for row in rows if start_ms <= int(row[0]) < end_ms]
            closed = [
                row
                for row in in_range
                if next_open_ms(int(row[0]), self.timeframe, self.step_ms) <= self.now_ms
            ]
            complete = [row for row in closed if all(v is not None for v in row[:6])]
            self.forming += len(in_range) - len(closed)
            self.incomplete += len(closed) - len(complete)
            self.fetched += len(complete)
            self.writer.add(complete)
            if newest < cursor:
                break  # the exchange ignored `since`; stop rather than ask forever
            cursor = next_open_ms(newest, self.timeframe, self.step_ms)
            covered = (min(cursor, end_ms) - start_ms) // self.step_ms
            self.done_slots = done_before + covered
            self.report()
        # A history that ends early still completes the segment (the bar reaches its end).
        segment_slots = max(0, (end_ms - start_ms) // self.step_ms)
        if self.done_slots != done_before + segment_slots:
            self.done_slots = done_before + segment_slots
            self.report()


def _fetch_all(
    run: _Run, exchange: OhlcvExchange, segments: list[tuple[int, int]], page_limit: int | None
) -> None:
    """Fetch every segment; whatever arrived is written even when a request finally fails."""
    run.start(exchange, page_limit)
    try:
        for start, end in segments:
            run.fetch_segment(start, end)
    finally:
        run.writer.flush()


def download_candles(
    exchange: OhlcvExchange | str,
    symbol: str,
    timeframe: str,
    cache_dir: Path,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    progress: Callable[[DownloadProgress], None] | None = None,
    retry: RetryPolicy | None = None,
    page_limit: int | None = None,
    flush_rows: int = 5_000,
    clock_ms: Callable[[], int] = _wall_clock_ms,
    sleep: Callable[[float], None] = time.sleep,
) -> DownloadSummary:
    """Fetch a market's closed candles into the Parquet cache, extending what is there.

    Side effects: network requests to the exchange (rate limited by ccxt), writes to
    `cache_path(cache_dir, key)` after every `flush_rows` candles and at the end (also when
    the download fails, so the next run resumes from there).

    Args:
        exchange: A ccxt exchange object, or a ccxt id to open one (closed again afterwards).
        symbol: Unified symbol such as `BTC/USDT`.
        timeframe: ccxt timeframe such as `1h`.
        cache_dir: The cache folder (`[data] cache_dir`); created if missing.
        since: First candle wanted (open time, inclusive). Optional when the cache already has
            the market: the download then continues from the newest cached candle.
        until: End of the period (open time, exclusive); default: now. Candles still forming
            at the time of the call are never stored.
        progress: Called with a `DownloadProgress` before the first request and after each page.
        retry: Attempts and backoff for rate limits and network failures.
        page_limit: Candles per request; default: the most the exchange allows (per ccxt).
        flush_rows: Candles collected before the cache file is rewritten.
        clock_ms: Current time in UTC milliseconds; decides which candles are closed.
        sleep: Waits between retries, in seconds.

    Returns:
        A summary with counts and the quality check of the whole cached series.

    Raises:
        ParamError: `since` is missing with no cache to continue, or lies after `until`.
        DownloadError: unknown market or timeframe, a refusal, or failures beyond `retry`.
    """
    step_ms = timeframe_ms(timeframe)
    if since is not None and until is not None and since >= until:
        raise ParamError("--since must be before --until")
    key_exchange = exchange if isinstance(exchange, str) else exchange.id
    key = MarketKey(key_exchange, symbol, timeframe)
    path = cache_path(cache_dir, key)
    writer = CacheWriter(path, max(1, flush_rows))
    if since is None and writer.frame.empty:
        raise ParamError(f"nothing cached for {symbol} {timeframe} yet: give --since")
    start_ms = to_ms(since) if since is not None else int(writer.frame["timestamp"].min())
    now_ms = clock_ms()
    end_ms = min(to_ms(until), now_ms) if until is not None else now_ms
    segments = missing_ranges(writer.frame, start_ms, end_ms, timeframe, step_ms)
    resumed = None if writer.frame.empty else int(writer.frame["timestamp"].max())

    run = _Run(
        exchange=None,
        symbol=symbol,
        timeframe=timeframe,
        step_ms=step_ms,
        now_ms=now_ms,
        writer=writer,
        retry=retry or RetryPolicy(),
        sleep=sleep,
        progress=progress,
        total_slots=sum(max(0, (end - start) // step_ms) for start, end in segments),
    )
    # A cache that already covers the period needs no exchange at all (and works offline).
    if segments:
        if isinstance(exchange, str):
            opened = create_exchange(exchange, spot_only=":" not in symbol)
            try:
                _fetch_all(run, opened, segments, page_limit)
            finally:
                opened.close()
        else:
            _fetch_all(run, exchange, segments, page_limit)
    return DownloadSummary(
        key=key,
        path=path,
        segments_ms=tuple(segments),
        resumed_after_ms=resumed,
        fetched=run.fetched,
        added=writer.added,
        pages=run.pages,
        retries=run.retries,
        forming_skipped=run.forming,
        incomplete_skipped=run.incomplete,
        quality=check_candles(writer.frame, timeframe),
    )
