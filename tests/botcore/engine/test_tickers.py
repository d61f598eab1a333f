"""Last prices from tickers: ccxt's real asyncio Binance client against the local stand-in.

The stand-in derives Binance's 24 h ticker from real recorded candles as they stand at its server
time, with later candles present in its data; expected values are read from the candle files
directly, as text, so exactness is checked digit for digit.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from botcore.data.exchanges import DownloadError, RetryPolicy, create_async_exchange
from botcore.engine.tickers import fetch_last_prices
from botcore.timeframes import parse_datetime, timeframe_ms, to_ms
from tests.fakes.binance_api import FakeBinance, klines_from_csv

FILES = {
    ("BTCUSDT", "1h"): "binance_BTC-USDT_1h.csv.gz",
    ("ETHUSDT", "1h"): "binance_ETH-USDT_1h.csv.gz",
    ("ETHUSDT", "15m"): "binance_ETH-USDT_15m.csv.gz",
}
# 10:37: the last closed 1h candle opened at 09:00, the last closed 15m candle at 10:15.
NOW_MS = to_ms(parse_datetime("2024-03-01T10:37:00Z"))
DAY_MS = 86_400_000
NO_WAIT = RetryPolicy(attempts=3, base_delay_s=0.0, max_delay_s=0.0)
Klines = dict[tuple[str, str], list[list[Any]]]


def csv_rows(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def rows(shared_data: Path) -> dict[tuple[str, str], list[dict[str, str]]]:
    # Two days either side of the server time: the window, its previous close, later candles.
    lo, hi = NOW_MS - 2 * DAY_MS, NOW_MS + 2 * DAY_MS
    return {
        key: [r for r in csv_rows(shared_data / name) if lo <= int(r["timestamp"]) < hi]
        for key, name in FILES.items()
    }


def closed_before(rows: list[dict[str, str]], timeframe: str, now_ms: int) -> list[dict[str, str]]:
    step = timeframe_ms(timeframe)
    return [r for r in rows if int(r["timestamp"]) + step <= now_ms]


@pytest.fixture(scope="module")
def klines(shared_data: Path) -> Klines:
    lo, hi = NOW_MS - 2 * DAY_MS, NOW_MS + 2 * DAY_MS
    return {
        key: [k for k in klines_from_csv(shared_data / name, key[1]) if lo <= k[0] < hi]
        for key, name in FILES.items()
    }


def make_fake(server: HTTPServer, klines: Klines) -> FakeBinance:
    return FakeBinance(server, klines, server_time_ms=NOW_MS, serve_tickers=True)


@pytest.fixture
def fake(httpserver_ipv4: HTTPServer, klines: Klines) -> FakeBinance:
    return make_fake(httpserver_ipv4, klines)


@pytest.fixture
async def client(fake: FakeBinance) -> AsyncIterator[Any]:
    exchange = create_async_exchange("binance", api_url=fake.api_url)
    try:
        await exchange.load_markets()
        yield exchange
    finally:
        await exchange.close()


async def test_the_stand_in_ticker_is_the_day_of_closed_candles_as_ccxt_parses_it(
    client: Any, rows: dict[tuple[str, str], list[dict[str, str]]]
) -> None:
    closed = closed_before(rows[("BTCUSDT", "1h")], "1h", NOW_MS)
    window = [r for r in closed if int(r["timestamp"]) >= NOW_MS - DAY_MS]
    assert len(window) == 23  # 11:00 yesterday to 09:00 today

    ticker = await client.fetch_ticker("BTC/USDT")

    assert ticker["symbol"] == "BTC/USDT"
    assert ticker["timestamp"] == NOW_MS
    assert ticker["last"] == float(closed[-1]["close"])
    assert ticker["open"] == float(window[0]["open"])
    assert ticker["previousClose"] == float(closed[-len(window) - 1]["close"])
    assert ticker["high"] == max(float(r["high"]) for r in window)
    assert ticker["low"] == min(float(r["low"]) for r in window)
    volume = sum(Decimal(r["volume"]) for r in window)
    assert Decimal(str(ticker["baseVolume"])) == volume


async def test_last_prices_come_from_one_tickers_request_as_exact_decimals(
    client: Any, fake: FakeBinance, rows: dict[tuple[str, str], list[dict[str, str]]]
) -> None:
    prices = await fetch_last_prices(client, ["BTC/USDT", "ETH/USDT"], NO_WAIT, batch_from=2)

    btc = closed_before(rows[("BTCUSDT", "1h")], "1h", NOW_MS)[-1]
    eth = closed_before(rows[("ETHUSDT", "15m")], "15m", NOW_MS)[-1]
    assert (btc["timestamp"], eth["timestamp"]) == (
        str(to_ms(parse_datetime("2024-03-01T09:00:00Z"))),
        str(to_ms(parse_datetime("2024-03-01T10:15:00Z"))),
    )
    assert prices == {"BTC/USDT": Decimal(btc["close"]), "ETH/USDT": Decimal(eth["close"])}
    assert [str(p) for p in prices.values()] == [btc["close"], eth["close"]]
    assert fake.ticker_requests == [{"symbols": '["BTCUSDT","ETHUSDT"]'}]


async def test_a_few_symbols_are_asked_for_alone_the_lighter_requests(
    client: Any, fake: FakeBinance
) -> None:
    await fetch_last_prices(client, ["ETH/USDT", "BTC/USDT"], NO_WAIT)
    assert fake.ticker_requests == [{"symbol": "ETHUSDT"}, {"symbol": "BTCUSDT"}]


async def test_without_fetch_tickers_each_symbol_is_asked_for_alone(
    client: Any, fake: FakeBinance, rows: dict[tuple[str, str], list[dict[str, str]]]
) -> None:
    client.has["fetchTickers"] = False

    prices = await fetch_last_prices(client, ["ETH/USDT", "BTC/USDT"], NO_WAIT)

    assert prices == {
        "ETH/USDT": Decimal(closed_before(rows[("ETHUSDT", "15m")], "15m", NOW_MS)[-1]["close"]),
        "BTC/USDT": Decimal(closed_before(rows[("BTCUSDT", "1h")], "1h", NOW_MS)[-1]["close"]),
    }
    assert fake.ticker_requests == [{"symbol": "ETHUSDT"}, {"symbol": "BTCUSDT"}]


@pytest.mark.parametrize("batched", [True, False], ids=["fetch_tickers", "fetch_ticker"])
async def test_symbols_the_exchange_does_not_price_are_left_out(
    httpserver_ipv4: HTTPServer, klines: Klines, batched: bool
) -> None:
    # ETH/USDT is listed but has no candles: Binance's never-traded ticker, last price zero.
    fake = make_fake(httpserver_ipv4, {("BTCUSDT", "1h"): klines[("BTCUSDT", "1h")]})
    exchange = create_async_exchange("binance", api_url=fake.api_url)
    try:
        await exchange.load_markets()
        exchange.has["fetchTickers"] = batched
        prices = await fetch_last_prices(
            exchange, ["BTC/USDT", "DOGE/USDT", "ETH/USDT", "BTC/USDT"], NO_WAIT, batch_from=2
        )
    finally:
        await exchange.close()

    assert list(prices) == ["BTC/USDT"]
    asked = (
        [{"symbols": '["BTCUSDT","ETHUSDT"]'}]
        if batched
        else [{"symbol": "BTCUSDT"}, {"symbol": "ETHUSDT"}]
    )
    assert fake.ticker_requests == asked  # DOGE/USDT is not listed: never asked for


async def test_no_symbols_make_no_request(client: Any, fake: FakeBinance) -> None:
    assert await fetch_last_prices(client, [], NO_WAIT) == {}
    assert fake.ticker_requests == []


async def test_a_rate_limited_request_is_retried_after_the_servers_retry_after(
    client: Any, fake: FakeBinance
) -> None:
    fake.tickers_rate_limited, fake.retry_after_s = 1, 3
    waits: list[float] = []
    retries: list[int] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    prices = await fetch_last_prices(
        client,
        ["BTC/USDT"],
        RetryPolicy(attempts=3, base_delay_s=0.5, max_delay_s=10.0),
        sleep=sleep,
        on_retry=lambda failures, delay, error: retries.append(failures),
    )

    assert list(prices) == ["BTC/USDT"]
    assert (waits, retries) == ([3.0], [1])
    assert len(fake.ticker_requests) == 2


async def test_failures_beyond_the_retry_policy_are_a_download_error(
    client: Any, fake: FakeBinance
) -> None:
    fake.tickers_rate_limited = 5
    with pytest.raises(DownloadError, match="binance still failing after 3 attempt"):
        await fetch_last_prices(client, ["BTC/USDT"], NO_WAIT)
    assert len(fake.ticker_requests) == 3
