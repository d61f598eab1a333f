"""`tradechat portfolio` as a user meets it: keys from a real keystore, real ccxt clients of
Binance and OKX signing balance requests to recorded stand-ins on 127.0.0.1, on a local typer app
that registers the command the way `tradechat/cli.py` does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from botcore.config import ExchangeConfig, Settings, TradingConfig
from botcore.security.keystore import PASSPHRASE_ENV, Keystore
from tests.fakes.recorded_exchanges import RecordedBinance, RecordedOkx, start_server
from tradechat.commands.portfolio import portfolio
from tradechat.context import AppContext

runner = CliRunner()
D = Decimal
PASSPHRASE = "portfolio test passphrase"  # noqa: S105 (test data)
ENV = {PASSPHRASE_ENV: PASSPHRASE}
# The recorded tickers' last prices (2026-02-08 06:19 UTC); Binance lists only BTC/USDT here.
BINANCE_BTC = D("69383.05")
OKX_BTC = D("69344.1")
OKX_ETH = D("2088")
BOTH = (
    ExchangeConfig(name="binance", key_name="binance-main"),
    ExchangeConfig(name="okx", key_name="okx-main"),
)


@pytest.fixture(scope="module")
def venues() -> Iterator[dict[str, Any]]:
    binance = RecordedBinance(
        start_server(),
        symbols=("BTC/USDT",),
        balances={"BTC": ("0.5", "0.1"), "ETH": ("2", "0"), "USDT": ("1000.5", "0"),
                  "DOGE": ("150", "0"), "BNB": ("0", "0")},
    )  # fmt: skip
    okx = RecordedOkx(start_server(), balances={"BTC": ("0.25", "0"), "USDT": ("500", "250")})
    yield {"binance": binance, "okx": okx}
    for fake in (binance, okx):
        fake.server.clear()
        fake.server.stop()


@pytest.fixture(scope="module")
def keystore(venues: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("user_data") / "keystore.json"
    store = Keystore.create(path, PASSPHRASE)
    binance, okx = venues["binance"], venues["okx"]
    store.add("binance-main", "binance", binance.api_key, binance.secret)
    store.add("binance-stale", "binance", binance.api_key, binance.secret + "-rotated")
    store.add("okx-main", "okx", okx.api_key, okx.secret, okx.password)
    return path


def make_app(*exchanges: ExchangeConfig) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main(ctx: typer.Context) -> None:
        settings = Settings(exchanges=exchanges, trading=TradingConfig(quote="USDT"))
        ctx.obj = AppContext(settings, Console(width=220, highlight=False))

    app.command("portfolio")(portfolio)
    return app


def run(
    venues: dict[str, Any], app: typer.Typer, *args: str, urls: tuple[str, ...] = ("binance", "okx")
) -> tuple[int, str]:
    pointed = [f"--api-url={name}={venues[name].api_url}" for name in urls]
    result = runner.invoke(app, ["portfolio", *pointed, *args], env=ENV)
    assert "Traceback" not in result.output
    for fake in venues.values():
        for secret in (
            fake.api_key,
            fake.secret,
            getattr(fake, "password", fake.secret),
            PASSPHRASE,
        ):
            assert secret not in result.output
    return result.exit_code, result.output


def money(value: Decimal) -> str:
    return f"{value.quantize(D('0.01'), ROUND_HALF_UP):,.2f}"


def row(text: str, *cells: str) -> bool:
    """Whether a table row holds these cells, in order, each exactly."""
    pattern = r"│\s*" + r"\s*│\s*".join(re.escape(c) for c in cells) + r"\s*│"
    return re.search(pattern, text) is not None


def test_holdings_per_exchange_and_the_total_are_shown_with_unpriced_assets_flagged(
    venues: dict[str, Any], keystore: Path
) -> None:
    code, text = run(venues, make_app(*BOTH), "--keystore", str(keystore))

    assert code == 0, text
    assert "portfolio on binance, okx at " in text and "valued in USDT" in text
    btc_binance = D("0.6") * BINANCE_BTC
    assert row(text, "binance", "BTC", "0.5", "0.1", "0.6", "69,383.05", "binance",
               money(btc_binance))  # fmt: skip
    # Binance lists no ETH/USDT: its ETH is priced on OKX.
    assert row(text, "binance", "ETH", "2", "0", "2", "2,088", "okx", money(2 * OKX_ETH))
    assert row(text, "binance", "DOGE", "150", "0", "150", "-", "-", "unpriced")
    assert row(text, "okx", "USDT", "500", "250", "750", "1", "quote", "750.00")
    assert "BNB" not in text  # a zero balance is no holding

    binance_value = btc_binance + 2 * OKX_ETH + D("1000.5")
    okx_value = D("0.25") * OKX_BTC + 750
    assert row(text, "binance", money(binance_value), "DOGE")
    assert okx_value == D("18086.025")
    assert row(text, "okx", "18,086.03", "-")  # money is read half-up
    assert row(text, "BTC", "0.85", money(btc_binance + D("0.25") * OKX_BTC), "binance, okx")
    assert row(text, "DOGE", "150", "unpriced", "binance")
    assert f"total: {money(binance_value + okx_value)} USDT" in text
    assert (
        "not priced, left out of the totals (no USDT market for them on these exchanges): DOGE"
    ) in " ".join(text.split())


def test_json_carries_exact_decimals_to_stdout_or_a_file(
    venues: dict[str, Any], keystore: Path, tmp_path: Path
) -> None:
    app = make_app(*BOTH)
    code, text = run(venues, app, "--keystore", str(keystore), "--json", "-")
    assert code == 0, text
    data = json.loads(text)

    okx_value = D("0.25") * OKX_BTC + 750
    total = D("0.6") * BINANCE_BTC + 2 * OKX_ETH + D("1000.5") + okx_value
    assert (data["quote"], data["total_value"], data["unpriced"]) == ("USDT", str(total), ["DOGE"])
    assert data["as_of"].startswith("20") and data["as_of"].endswith("Z")
    assert {e["exchange"]: (e["value"], e["unpriced"]) for e in data["exchanges"]} == {
        "binance": (str(total - okx_value), ["DOGE"]),
        "okx": (str(okx_value), []),
    }
    held = {(h["exchange"], h["asset"]): h for h in data["holdings"]}
    assert held[("okx", "BTC")] == {
        "exchange": "okx", "asset": "BTC", "free": "0.25", "used": "0.0", "total": "0.25",
        "price": "69344.1", "price_source": "okx", "value": str(D("0.25") * OKX_BTC),
    }  # fmt: skip
    assert (held[("binance", "DOGE")]["price"], held[("binance", "DOGE")]["value"]) == (None, None)

    out = tmp_path / "reports" / "portfolio.json"
    code, text = run(venues, app, "--keystore", str(keystore), "--json", str(out))
    assert code == 0, text
    assert f"wrote {out}" in text and "total:" in text
    written = json.loads(out.read_text())
    assert written["holdings"] == data["holdings"]
    assert written["total_value"] == data["total_value"]


def test_one_exchange_can_be_picked_and_the_quote_changed(
    venues: dict[str, Any], keystore: Path
) -> None:
    app = make_app(*BOTH)
    code, text = run(venues, app, "--keystore", str(keystore), "-e", "okx", urls=("okx",))
    assert code == 0, text
    assert "portfolio on okx at" in text and "binance" not in text
    assert f"total: {money(D('0.25') * OKX_BTC + 750)} USDT" in text

    # Nothing is listed against BTC on OKX here: only the BTC itself has a value.
    code, text = run(venues, app, "--keystore", str(keystore), "-e", "okx", "--quote", "btc",
                     urls=("okx",))  # fmt: skip
    assert code == 0, text
    assert "valued in BTC" in text and "total: 0.25000000 BTC" in text
    assert (
        "not priced, left out of the totals (no BTC market for them on these exchanges): USDT"
    ) in " ".join(text.split())


def test_without_a_keystore_the_user_is_told_to_add_keys_and_nothing_is_asked(
    venues: dict[str, Any], tmp_path: Path
) -> None:
    before = sum(len(fake.requests) for fake in venues.values())
    code, text = run(venues, make_app(*BOTH), "--keystore", str(tmp_path / "none.json"))

    assert code == 2
    assert "error: no keystore at" in text
    assert "add keys first with `tradechat keys add NAME --exchange ID`" in " ".join(text.split())
    assert sum(len(fake.requests) for fake in venues.values()) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--exchanges", "binanse"), "binanse is not among the config's [[exchanges]] "
                                     "(binance, okx); did you mean binance?"),
        (("--api-url", "kraken=http://127.0.0.1:9"), "--api-url: kraken is not among the "
                                                     "config's [[exchanges]] (binance, okx)"),
        (("-e", "okx", "--api-url", "binance=http://127.0.0.1:9"), "--api-url: binance is not "
                                                                   "among the config's "
                                                                   "[[exchanges]] (okx)"),
    ],
    ids=["misspelt", "api-url-for-another", "api-url-for-one-not-picked"],
)  # fmt: skip
def test_an_exchange_not_configured_is_a_polite_error(
    venues: dict[str, Any], keystore: Path, args: tuple[str, ...], message: str
) -> None:
    code, text = run(venues, make_app(*BOTH), "--keystore", str(keystore), *args, urls=())
    assert code == 2
    assert f"error: {message}" in " ".join(text.split())


def test_a_config_without_exchanges_says_how_to_add_one(
    venues: dict[str, Any], keystore: Path
) -> None:
    code, text = run(venues, make_app(), "--keystore", str(keystore), urls=())
    assert code == 2
    assert "error: no [[exchanges]] in the config" in text


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (ExchangeConfig(name="binance"), "exchanges.binance has no key_name: store its keys "
                                         "with `tradechat keys add NAME --exchange binance`"),
        (ExchangeConfig(name="binance", key_name="okx-main"), "exchanges.binance.key_name: "
                                                              "'okx-main' holds keys for okx, "
                                                              "not binance"),
        (ExchangeConfig(name="binance", key_name="binance-mian"), "the keystore has no entry "
                                                                  "'binance-mian'; did you mean "
                                                                  "binance-main"),
        (ExchangeConfig(name="binance", key_name="binance-stale"), "binance refused the "
                                                                   "request"),
    ],
    ids=["no-key-name", "keys-of-another-exchange", "misspelt-entry", "rejected-secret"],
)  # fmt: skip
def test_keys_that_cannot_work_are_a_polite_error(
    venues: dict[str, Any], keystore: Path, config: ExchangeConfig, message: str
) -> None:
    code, text = run(venues, make_app(config), "--keystore", str(keystore), urls=("binance",))
    assert code == 2
    assert message in " ".join(text.split())
