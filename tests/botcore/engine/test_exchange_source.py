"""Live candles for the engine: ccxt's real asyncio Binance client against a local stand-in.

Nothing in ccxt is mocked: requests go over HTTP to 127.0.0.1, where the stand-in serves real
recorded candles in Binance's wire format, including candles "after now" that a simulated clock
has not closed yet; the source must never hand those to the engine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from botcore.config import Settings
from botcore.data.candles import read_candles
from botcore.data.catalog import load_file
from botcore.data.exchanges import DownloadError, RetryPolicy, create_async_exchange
from botcore.engine.exchange_source import ExchangeSource
from botcore.engine.streams import MarketStream, merged_bars
from botcore.engine.trader import Trader
from botcore.persistence import Store
from botcore.strategy.registry import get_strategy
from botcore.timeframes import parse_datetime, to_ms
from tests.fakes.binance_api import FakeBinance, klines_from_csv

T = TypeVar("T")
Market = tuple[str, str, str, dict[str, Any]]  # symbol, timeframe, strategy, params
HOUR_MS = 3_600_000
QUARTER_MS = 900_000
FILES = {
    ("BTCUSDT", "1h"): "binance_BTC-USDT_1h.csv.gz",
    ("ETHUSDT", "1h"): "binance_ETH-USDT_1h.csv.gz",
    ("ETHUSDT", "15m"): "binance_ETH-USDT_15m.csv.gz",
}


@pytest.fixture(scope="module")
def klines(shared_data: Path) -> dict[tuple[str, str], list[list[Any]]]:
    return {key: klines_from_csv(shared_data / name, key[1]) for key, name in FILES.items()}


@pytest.fixture(scope="module")
def files(shared_data: Path) -> dict[str, pd.DataFrame]:
    return {
        f"{sym[:3]}/USDT {tf}": read_candles(shared_data / name)
        for (sym, tf), name in FILES.items()
    }


@pytest.fixture
def fake(
    httpserver_ipv4: HTTPServer, klines: dict[tuple[str, str], list[list[Any]]]
) -> FakeBinance:
    return FakeBinance(httpserver_ipv4, klines)


class SimClock:
    """Simulated UTC time; `sleep` records the wait and moves time on instead of waiting."""

    def __init__(self, text: str) -> None:
        self.now_ms = to_ms(parse_datetime(text))
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] | None = None

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now_ms += round(seconds * 1000)
        if self.on_sleep is not None:
            self.on_sleep()
        await asyncio.sleep(0)


def settings_for(db: Path, *markets: Market, **extra: Any) -> Settings:
    symbols = [
        {"symbol": s, "timeframe": tf, "strategy": name, "params": params}
        for s, tf, name, params in markets
    ]
    return Settings(
        database={"url": f"sqlite:///{db}"},
        market={"source": "exchange", "symbols": symbols},
        trading={"stake_pct": 30.0},
        risk={"stop_loss_pct": 1.5, "take_profit_pct": 3.0, "max_daily_loss_pct": 50.0,
              "max_drawdown_pct": 80.0},
        **extra,
    )  # fmt: skip


TWO_TIMEFRAMES: tuple[Market, ...] = (
    ("BTC/USDT", "1h", "sma_cross", {"fast": 8, "slow": 21}),
    ("ETH/USDT", "15m", "ema_cross", {}),
)


def source_for(settings: Settings, fake: FakeBinance, clock: SimClock, **kw: Any) -> ExchangeSource:
    return ExchangeSource.from_settings(
        settings, api_urls={"binance": fake.api_url}, clock_ms=clock, sleep=clock.sleep, **kw
    )


def run(source: ExchangeSource, body: Callable[[], Awaitable[T]]) -> T:
    """Run `body` in a fresh event loop, closing the source's HTTP sessions afterwards."""

    async def main() -> T:
        async with source:
            return await body()

    return asyncio.run(main())


def file_rows(frame: pd.DataFrame, first_ms: int, now_ms: int, step_ms: int) -> pd.DataFrame:
    """The recorded candles opening at or after `first_ms` and closed by `now_ms`."""
    ts = frame["timestamp"]
    return frame[(ts >= first_ms) & (ts + step_ms <= now_ms)].reset_index(drop=True)


def test_backfill_equals_the_real_file_slice_without_the_forming_candle(
    fake: FakeBinance, files: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    clock = SimClock("2024-03-01T10:40:00Z")
    source = source_for(settings_for(tmp_path / "db.sqlite", *TWO_TIMEFRAMES), fake, clock)
    run(source, source.start)
    btc, eth = source.streams
    for stream, name, step in ((btc, "BTC/USDT 1h", HOUR_MS), (eth, "ETH/USDT 15m", QUARTER_MS)):
        expected = file_rows(files[name], clock.now_ms - stream.window * step, clock.now_ms, step)
        # the decision window of the next bar to close: it and the window's other bars
        assert len(expected) == stream.window - 1
        pd.testing.assert_frame_equal(stream.candles.frame, expected, check_exact=True)
    # the candles forming at 10:40 (1h from 10:00, 15m from 10:30) are served but not kept
    assert btc.timestamps[-1] == to_ms(parse_datetime("2024-03-01T09:00Z"))
    assert eth.timestamps[-1] == to_ms(parse_datetime("2024-03-01T10:15Z"))
    assert btc.key == "exchange|binance|BTC/USDT|1h"
    # ccxt asked Binance for history from the window's start, no end: the stand-in served more
    starts = [int(q["startTime"]) for q in fake.klines_requests]
    assert starts[0] == clock.now_ms - btc.window * HOUR_MS


def test_each_hourly_poll_yields_exactly_the_newly_closed_candles_in_time_order(
    fake: FakeBinance, files: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    clock = SimClock("2024-03-01T10:00:00Z")
    source = source_for(settings_for(tmp_path / "db.sqlite", *TWO_TIMEFRAMES), fake, clock)
    steps = (HOUR_MS, QUARTER_MS)
    names = ("BTC/USDT 1h", "ETH/USDT 15m")

    async def hours() -> list[list[tuple[int, int]]]:
        await source.start()
        polls = [await source.poll()]  # nothing closed since the backfill
        for _ in range(6):
            clock.advance(HOUR_MS)
            polls.append(await source.poll())
            polls.append(await source.poll())  # asked again at the same instant: nothing new
        return polls

    polls = run(source, hours)
    firsts = [s.timestamps[0] for s in source.streams]
    assert polls[0] == []
    for hour, (poll, again) in enumerate(zip(polls[1::2], polls[2::2], strict=True), start=1):
        assert again == []
        now = to_ms(parse_datetime("2024-03-01T10:00:00Z")) + hour * HOUR_MS
        got = [(j, int(source.streams[j].timestamps[i])) for j, i in poll]
        # the 1h candle opening an hour ago, the four 15m candles of that hour; by close time
        expected = sorted(
            (ts + steps[j], ts, j)
            for j in (0, 1)
            for ts in files[names[j]]["timestamp"].tolist()
            if now - HOUR_MS < ts + steps[j] <= now
        )
        assert got == [(j, ts) for _, ts, j in expected], hour
        assert len(got) == 5
    yielded = [pair for poll in polls for pair in poll]
    assert len(yielded) == len(set(yielded)) == 30
    # the grown frames are exactly the recorded candles closed by the last poll, nothing forming
    for j, stream in enumerate(source.streams):
        expected_frame = file_rows(files[names[j]], int(firsts[j]), clock.now_ms, steps[j])
        pd.testing.assert_frame_equal(stream.candles.frame, expected_frame, check_exact=True)


def test_rate_limit_answers_are_retried_after_retry_after(
    fake: FakeBinance, tmp_path: Path
) -> None:
    clock = SimClock("2024-03-01T10:00:00Z")
    settings = settings_for(tmp_path / "db.sqlite", TWO_TIMEFRAMES[0])
    source = source_for(settings, fake, clock)

    async def rate_limited_poll() -> list[tuple[int, int]]:
        await source.start()
        fake.retry_after_s = 7
        fake.rate_limited = 2
        clock.advance(HOUR_MS)
        return await source.poll()

    pairs = run(source, rate_limited_poll)
    assert len(pairs) == 1
    assert source.retries == 2
    assert clock.sleeps == [7.0, 7.0]  # Binance's Retry-After beats the 1 s and 2 s backoff


def test_an_outage_that_ends_is_ridden_out_and_one_that_lasts_fails(
    fake: FakeBinance, tmp_path: Path
) -> None:
    clock = SimClock("2024-03-01T10:00:00Z")
    settings = settings_for(tmp_path / "db.sqlite", TWO_TIMEFRAMES[0])
    source = source_for(settings, fake, clock, retry=RetryPolicy(attempts=3))

    def end_outage() -> None:
        fake.fail_after_pages = None

    async def outage() -> tuple[list[tuple[int, int]], str]:
        await source.start()
        clock.advance(HOUR_MS)
        fake.fail_after_pages = fake.pages_served  # 503 HTML pages from now on
        clock.on_sleep = end_outage  # ... until the first backoff is over
        pairs = await source.poll()
        clock.on_sleep = None
        clock.advance(HOUR_MS)
        fake.fail_after_pages = fake.pages_served
        with pytest.raises(DownloadError, match="still failing after 3 attempt") as failed:
            await source.poll()
        return pairs, str(failed.value)

    pairs, _ = run(source, outage)
    assert len(pairs) == 1
    assert source.retries == 1 + 2
    assert clock.sleeps == [1.0, 1.0, 2.0]


def test_sandbox_flag_switches_ccxt_to_the_testnet_urls(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path / "db.sqlite", TWO_TIMEFRAMES[0], exchanges=[{"name": "binance", "sandbox": True}]
    )
    source = ExchangeSource.from_settings(settings)
    # the testnet's candles are not the market's: they get cursors of their own
    assert source.streams[0].key == "exchange|binance-sandbox|BTC/USDT|1h"

    async def urls() -> tuple[Any, Any, Any]:
        live = create_async_exchange("binance")
        test = create_async_exchange("binance", sandbox=True)
        local = create_async_exchange("binance", sandbox=True, api_url="http://127.0.0.1:9")
        try:
            return live.urls["api"], test.urls["api"], local.urls["api"]
        finally:
            for client in (live, test, local):
                await client.close()

    live, test, local = asyncio.run(urls())
    assert live["public"] == "https://api.binance.com/api/v3"
    assert test["public"] == "https://testnet.binance.vision/api/v3"
    assert test["private"] == "https://testnet.binance.vision/api/v3"
    assert local["public"] == "http://127.0.0.1:9/api/v3"
    with pytest.raises(DownloadError, match="did you mean binance"):
        create_async_exchange("binanse")


def _snapshot(store: Store) -> dict[str, object]:
    return {
        "orders": store.orders(),
        "fills": store.fills(),
        "trades": store.trades(),
        "balances": store.balances("paper"),
        "positions": store.positions(),
        "equity": store.equity_curve(),
    }


SAME_TIMEFRAME: tuple[Market, ...] = (
    ("BTC/USDT", "1h", "sma_cross", {"fast": 3, "slow": 8}),
    ("ETH/USDT", "1h", "ema_cross", {"fast": 3, "slow": 8}),
)


def _live_leg(
    settings: Settings, store: Store, fake: FakeBinance, clock: SimClock, bars: int
) -> tuple[ExchangeSource, list[int]]:
    """Run a Trader on the source's bars until `bars` were processed; the bars' open times."""
    source = source_for(settings, fake, clock)
    trader = Trader(settings, store, source.streams, "live-test")
    done: list[int] = []

    async def leg() -> None:
        stop = asyncio.Event()
        await source.start(trader.cursors())
        async for j, i in source.bars(stop):
            report = trader.process(j, i)
            assert report.timestamp_ms + source.streams[j].step_ms <= clock.now_ms  # closed
            done.append(report.timestamp_ms)
            if len(done) == bars:
                stop.set()

    run(source, leg)
    return source, done


def test_paper_trading_on_live_candles_with_a_restart_equals_a_replay_of_them(
    fake: FakeBinance, shared_data: Path, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path / "live.sqlite", *SAME_TIMEFRAME)
    store = Store.open(settings.database.url)
    clock = SimClock("2023-10-02T00:00:30Z")
    begin = to_ms(parse_datetime("2023-10-02T00:00:00Z"))
    try:
        # 30 simulated hours, a 6-hour outage of the bot, then 30 more hours (catching up first)
        first, done = _live_leg(settings, store, fake, clock, 60)
        assert store.cursor(first.streams[0].key) == begin + 29 * HOUR_MS
        clock.advance(6 * HOUR_MS)
        second, done_after = _live_leg(settings, store, fake, clock, 60)
        live = _snapshot(store)
        cursors = [store.cursor(s.key) for s in second.streams]
    finally:
        store.close()
    # every hour once per market, in time order, with no hour missed across the restart
    assert done + done_after == [begin + h * HOUR_MS for h in range(60) for _ in (0, 1)]
    assert cursors == [begin + 59 * HOUR_MS] * 2
    # the bot slept through hours 30-35 and processed them when it came back, then waited
    assert any(s > 3000 for s in clock.sleeps)
    assert len(live["equity"]) == 60  # type: ignore[arg-type]
    assert len(live["fills"]) >= 4  # type: ignore[arg-type]

    # the same bars replayed from the recorded files through an identical trader
    replay_store = Store.open(f"sqlite:///{tmp_path / 'replay.sqlite'}")
    try:
        streams = []
        for spec, live_stream in zip(settings.market.symbols, first.streams, strict=True):
            name = f"binance_{spec.symbol.replace('/', '-')}_1h.csv.gz"
            history = load_file(shared_data / name)
            strategy = get_strategy(spec.strategy)(**spec.params)
            streams.append(MarketStream(live_stream.key, spec, history, strategy))
        trader = Trader(settings, replay_store, streams, "live-test")
        for j, i in merged_bars(streams, [None, None], begin):
            if streams[j].timestamps[i] >= begin + 60 * HOUR_MS:
                break
            trader.process(j, i)
        assert _snapshot(replay_store) == live
    finally:
        replay_store.close()
