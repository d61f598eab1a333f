"""The unified portfolio: real ccxt clients of Binance and OKX, signed balance requests and the
recorded tickers, all over HTTP to stand-ins on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from botcore.config import ExchangeConfig
from botcore.data.exchanges import DownloadError
from botcore.errors import ConfigError
from botcore.market.portfolio import ApiCredentials, fetch_portfolio, open_exchanges
from botcore.market.venues import close_venues
from tests.fakes.recorded_exchanges import RecordedBinance, RecordedOkx, start_server

D = Decimal
# The recorded tickers' last prices (2026-02-08 06:19 UTC).
BINANCE_BTC = D("69383.05")
OKX_BTC = D("69344.1")
OKX_ETH = D("2088")
CONFIGS = (
    ExchangeConfig(name="binance", key_name="binance-main"),
    ExchangeConfig(name="okx", key_name="okx-main"),
)


@pytest.fixture
def venues() -> Iterator[dict[str, Any]]:
    # Binance lists only BTC/USDT here, so its ETH must be priced on OKX.
    binance = RecordedBinance(
        start_server(),
        symbols=("BTC/USDT",),
        balances={
            "BTC": ("0.5", "0.1"),
            "ETH": ("2", "0"),
            "USDT": ("1000.5", "0"),
            "DOGE": ("150", "0"),
            "BNB": ("0", "0"),
        },
    )
    okx = RecordedOkx(start_server(), balances={"BTC": ("0.25", "0"), "USDT": ("500", "250")})
    yield {"binance": binance, "okx": okx}
    for fake in (binance, okx):
        fake.server.clear()
        fake.server.stop()


def credentials(venues: dict[str, Any], wrong_binance_secret: bool) -> dict[str, ApiCredentials]:
    binance, okx = venues["binance"], venues["okx"]
    binance_secret = binance.secret + ("-wrong" if wrong_binance_secret else "")
    return {
        "binance-main": ApiCredentials(binance.api_key, binance_secret),
        "okx-main": ApiCredentials(okx.api_key, okx.secret, okx.password),
    }


def open_both(venues: dict[str, Any], wrong_binance_secret: bool = False) -> dict[str, Any]:
    return open_exchanges(
        CONFIGS,
        credentials=credentials(venues, wrong_binance_secret),
        api_urls={name: fake.api_url for name, fake in venues.items()},
    )


def test_balances_of_two_exchanges_are_valued_with_their_own_tickers_first(
    venues: dict[str, Any],
) -> None:
    exchanges = open_both(venues)
    try:
        view = fetch_portfolio(exchanges, "USDT", now_ms=lambda: 1770531570756)
    finally:
        close_venues(exchanges)

    held = {(h.exchange, h.asset): h for h in view.holdings}
    assert set(held) == {
        ("binance", "BTC"), ("binance", "ETH"), ("binance", "USDT"), ("binance", "DOGE"),
        ("okx", "BTC"), ("okx", "USDT"),
    }  # fmt: skip
    btc_binance = held[("binance", "BTC")]
    assert (btc_binance.free, btc_binance.used, btc_binance.total) == (D("0.5"), D("0.1"), D("0.6"))
    assert (btc_binance.price, btc_binance.price_source) == (BINANCE_BTC, "binance")
    assert (held[("okx", "BTC")].price, held[("okx", "BTC")].price_source) == (OKX_BTC, "okx")
    assert (held[("binance", "ETH")].price, held[("binance", "ETH")].price_source) == (
        OKX_ETH,
        "okx",
    )
    assert held[("okx", "USDT")].total == D("750")
    assert held[("okx", "USDT")].price_source == "quote"
    assert held[("binance", "DOGE")].value is None

    assets = {a.asset: a for a in view.assets}
    btc_value = D("0.6") * BINANCE_BTC + D("0.25") * OKX_BTC
    assert assets["BTC"].total == D("0.85")
    assert assets["BTC"].value == btc_value
    assert assets["BTC"].exchanges == ("binance", "okx")
    assert assets["USDT"].value == D("1750.5")
    assert assets["DOGE"].value is None
    assert [a.asset for a in view.assets] == ["BTC", "ETH", "USDT", "DOGE"]
    assert view.unpriced == ("DOGE",)
    assert view.total_value == btc_value + 2 * OKX_ETH + D("1750.5")
    per_exchange = {e.exchange: e for e in view.exchanges}
    assert per_exchange["binance"].value == D("0.6") * BINANCE_BTC + 2 * OKX_ETH + D("1000.5")
    assert per_exchange["binance"].unpriced == ("DOGE",)
    assert per_exchange["okx"].value == D("0.25") * OKX_BTC + 750
    assert view.timestamp_ms == 1770531570756

    # One balance request per exchange, each ticker fetched once, DOGE never asked for.
    binance_paths = [path for path, _ in venues["binance"].requests]
    okx_paths = [(path, query.get("instId")) for path, query in venues["okx"].requests]
    assert binance_paths.count("/api/v3/account") == 1
    assert binance_paths.count("/api/v3/ticker/24hr") == 1
    assert okx_paths.count(("/api/v5/account/balance", None)) == 1
    assert okx_paths.count(("/api/v5/market/ticker", "BTC-USDT")) == 1
    assert okx_paths.count(("/api/v5/market/ticker", "ETH-USDT")) == 1


def test_a_wrong_secret_is_refused_by_the_exchange_and_named(venues: dict[str, Any]) -> None:
    exchanges = open_both(venues, wrong_binance_secret=True)
    try:
        with pytest.raises(DownloadError, match=r"binance refused the request.*-1022"):
            fetch_portfolio(exchanges)
    finally:
        close_venues(exchanges)


def test_an_exchange_whose_keys_are_not_stored_fails_before_any_request() -> None:
    only_binance = {"binance-main": ApiCredentials("key", "s3")}
    with pytest.raises(
        ConfigError, match=r"exchanges\.okx\.key_name: no keys stored as 'okx-main'"
    ):
        open_exchanges(CONFIGS, credentials=only_binance)


def test_credentials_never_show_their_secrets() -> None:
    shown = repr(ApiCredentials("key-1", "very-secret", "pass-phrase"))
    assert "key-1" in shown
    assert "very-secret" not in shown
    assert "pass-phrase" not in shown
