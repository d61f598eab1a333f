"""`tradechat scan` and `tradechat arbitrage` as a user meets them, on a local typer app that
registers the two commands the way `tradechat/cli.py` does, with the same context object."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from botcore.config import DataConfig, Settings
from botcore.data.catalog import DataCatalog
from botcore.market.scan_sources import catalog_frames
from botcore.market.scanner import ScanParams, scan
from botcore.timeframes import parse_datetime, to_ms
from tests.fakes.binance_api import FakeBinance, klines_from_csv
from tests.fakes.recorded_exchanges import (
    RecordedBinance,
    RecordedBybit,
    RecordedOkx,
    binance_tickers,
    start_server,
)
from tradechat.commands import market
from tradechat.context import AppContext

runner = CliRunner()


def make_app(shared_data: Path, tmp_path: Path) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main(ctx: typer.Context) -> None:
        data = DataConfig(cache_dir=tmp_path / "cache", dirs=(shared_data,))
        ctx.obj = AppContext(Settings(data=data), Console(width=220, highlight=False))

    app.command("scan")(market.scan)
    app.command("arbitrage")(market.arbitrage)
    return app


@pytest.fixture
def cli(shared_data: Path, tmp_path: Path) -> typer.Typer:
    return make_app(shared_data, tmp_path)


def run(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_scan_prints_the_ranking_of_the_real_files_at_a_past_time(
    cli: typer.Typer, shared_data: Path
) -> None:
    code, text = run(cli, "scan", "--at", "2024-01-01", "--top", "3", "--volatility", "atr")
    assert code == 0, text
    assert "scan of candle files at 2024-01-01T00:00:00Z, 15m candles" in text
    expected = scan(
        catalog_frames(DataCatalog((shared_data,)), "15m", quote="USDT"),
        "15m",
        ScanParams(volatility="atr", quote="USDT", top=3),
        at_ms=to_ms(parse_datetime("2024-01-01")),
    )
    rows = [line for line in text.splitlines() if re.match(r"^│ \d ", line)]
    assert [line.split("│")[2].strip() for line in rows] == [r.symbol for r in expected.ranked]
    assert f"{expected.ranked[0].score:.3f}" in rows[0]
    assert "skipped BNB/USDT: only 0 closed candles, needs 97" in text


def test_scan_explains_unknown_symbols_and_options(cli: typer.Typer) -> None:
    code, text = run(cli, "scan", "--symbols", "pepe")
    assert code == 2
    assert "error: no PEPE/USDT 15m candles" in text
    code, text = run(cli, "scan", "--sort", "hype")
    assert code == 2
    assert "--sort must be one of score, momentum" in text


def test_a_live_scan_reports_the_stale_candles_of_a_stand_in(
    cli: typer.Typer, shared_data: Path
) -> None:
    # The stand-in serves the real candles, which end on 2024-04-09: stale at today's clock.
    rows = klines_from_csv(shared_data / "binance_BTC-USDT_15m.csv.gz", "15m")[-300:]
    server = start_server()
    fake = FakeBinance(server, {("BTCUSDT", "15m"): rows})
    server.expect_request("/api/v3/ticker/24hr").respond_with_handler(
        binance_tickers(("BTC/USDT", "ETH/USDT"))
    )
    try:
        code, text = run(cli, "scan", "--exchange", "binance", "--api-url", fake.api_url,
                         "--symbols", "BTC/USDT")  # fmt: skip
    finally:
        server.clear()
        server.stop()
    assert code == 0, text
    assert "scan of binance at" in text
    assert "skipped BTC/USDT: no recent candles, last candle closed 2024-04-09T23:45:00Z" in text


@pytest.fixture(scope="module")
def stand_ins() -> Iterator[dict[str, Any]]:
    made = {
        "binance": RecordedBinance(start_server()),
        "bybit": RecordedBybit(start_server()),
        "okx": RecordedOkx(start_server()),
    }
    yield made
    for fake in made.values():
        fake.server.clear()
        fake.server.stop()


def url_map(stand_ins: dict[str, Any]) -> str:
    return ",".join(f"{name}={fake.api_url}" for name, fake in stand_ins.items())


def test_arbitrage_at_real_fees_says_nothing_pays(
    cli: typer.Typer, stand_ins: dict[str, Any]
) -> None:
    code, text = run(cli, "arbitrage", "--symbol", "btc", "--exchanges", "binance,bybit,okx",
                     "--api-url-map", url_map(stand_ins))  # fmt: skip
    assert code == 0, text
    assert "BTC/USDT: top of book, buy on A, sell on B" in text
    assert "okx book: taken 2026-02-08T06:19:30Z" in text
    assert "taker fee 0.15 %" in text
    assert "stamped books taken 6.8 s apart" in text
    assert re.search(
        r"│ okx\s+│ binance\s+│\s+69,360.0 │\s+69,383.05 │\s+\+3.32 │\s+25.00 │\s+-21.68 │", text
    )
    assert (
        "no opportunity profitable after costs: the best pair, buy on bybit at 69372.6 and sell "
        "on binance at 69383.05, spreads +1.51 bps against 20.00 bps of taker fees"
    ) in " ".join(text.split())


def test_arbitrage_without_fees_shows_sizes_and_paper_fills(
    cli: typer.Typer, stand_ins: dict[str, Any]
) -> None:
    code, text = run(cli, "arbitrage", "--symbol", "BTC/USDT", "--exchanges", "binance,bybit,okx",
                     "--api-url-map", url_map(stand_ins), "--taker-fee",
                     "binance=0,bybit=0,okx=0", "--paper")  # fmt: skip
    assert code == 0, text
    assert re.search(
        r"│ okx\s+│ binance\s+│\s+0.22190 │\s+69,361.0074 │\s+69,383.0500 │.*│\s+4.8913 │ depth",
        text,
    )
    assert "paper fills (simulated, not booked)" in text
    assert re.search(r"│ okx\s+│ buy\s+│ 0.22190\s+│ 69,361.0074\s+│ 0.000000 USDT", text)
    assert re.search(r"│ binance\s+│ sell\s+│ 0.22190\s+│ 69,383.0500\s+│", text)


def test_arbitrage_names_unknown_exchanges_and_symbols_politely(
    cli: typer.Typer, stand_ins: dict[str, Any]
) -> None:
    binance = url_map({"binance": stand_ins["binance"]})
    asked_before = len(stand_ins["binance"].requests)
    code, text = run(cli, "arbitrage", "--symbol", "BTC/USDT", "--exchanges", "binance,okz",
                     "--api-url-map", binance)  # fmt: skip
    assert code == 2
    assert "ccxt knows no exchange 'okz'; did you mean okx" in text
    assert len(stand_ins["binance"].requests) == asked_before  # refused before asking anyone
    two = url_map({k: stand_ins[k] for k in ("binance", "okx")})
    code, text = run(cli, "arbitrage", "--symbol", "BTC/USDC", "--exchanges", "binance,okx",
                     "--api-url-map", two)  # fmt: skip
    assert code == 2
    assert "binance does not list BTC/USDC; did you mean BTC/USDT" in text
    code, text = run(cli, "arbitrage", "--symbol", "BTC/USDT", "--exchanges", "binance")
    assert code == 2
    assert "name at least two exchanges" in text
