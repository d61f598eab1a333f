"""Exchange precision: parsed from ccxt markets, saved by downloads, respected by backtests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from botcore.backtest import BacktestSettings
from botcore.config import DataConfig, Settings
from botcore.data.download import download_candles
from botcore.data.exchanges import create_exchange
from botcore.data.market_rules import MarketRules, load_market_rules, rules_from_ccxt
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.timeframes import parse_datetime
from tests.fakes.binance_api import FakeBinance, klines_from_csv


def test_rules_from_a_recorded_binance_market(shared_data: Path) -> None:
    recorded = json.loads((shared_data / "ccxt_fixtures/binance/fetch_markets.json").read_text())
    market = next(m for m in recorded["parsed_response"] if m["symbol"] == "ETH/BTC")
    assert rules_from_ccxt(market, precision_mode=4) == MarketRules(0.0001, 0.0001, 0.0001)
    # an exchange giving precision as decimal places
    assert rules_from_ccxt({"precision": {"amount": 3}}, precision_mode=2).amount_step == 0.001


@pytest.fixture
def binance(httpserver_ipv4: HTTPServer, shared_data: Path) -> Iterator[Any]:
    klines = klines_from_csv(shared_data / "binance_BTC-USDT_1h.csv.gz", "1h")
    fake = FakeBinance(httpserver_ipv4, {("BTCUSDT", "1h"): klines})
    exchange = create_exchange("binance", api_url=fake.api_url)
    yield exchange
    exchange.close()


def test_a_downloaded_market_backtests_with_its_exchange_precision(
    binance: Any, tmp_path: Path
) -> None:
    download_candles(
        binance, "BTC/USDT", "1h", tmp_path, parse_datetime("2024-01-01"),
        parse_datetime("2024-03-01"), clock_ms=lambda: 1_800_000_000_000,
    )  # fmt: skip
    # the fake serves Binance's real BTCUSDT filters: LOT_SIZE 0.00001, NOTIONAL 5
    rules = load_market_rules([tmp_path], "binance", ["BTC/USDT"])
    assert rules == {"BTC/USDT": MarketRules(0.00001, 0.00001, 5.0)}
    service = BacktestService(Settings(data=DataConfig(cache_dir=tmp_path)))
    request = BacktestRequest(
        "sma_cross", symbols=("BTC/USDT",), timeframe="1h",
        start=parse_datetime("2024-01-10"), settings=BacktestSettings(stake_amount=333.0),
    )  # fmt: skip
    result = service.run(request)
    amounts = result.trades["amount"].to_numpy()
    assert len(amounts) > 5
    steps = amounts / 0.00001
    assert (abs(steps - steps.round()) < 1e-6).all()
    # a stake under the minimum notional is refused, not shrunk
    tiny = service.run(BacktestRequest(
        "sma_cross", symbols=("BTC/USDT",), timeframe="1h",
        settings=BacktestSettings(stake_amount=4.0),
    ))  # fmt: skip
    assert len(tiny.trades) == 0
    assert tiny.metrics.rejected_entries > 5
