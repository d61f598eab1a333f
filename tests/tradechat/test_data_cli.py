"""`tradechat data` as a user meets it: download from a local Binance stand-in, list, check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer
from typer.testing import CliRunner

from botcore.data.candles import read_candles
from botcore.timeframes import parse_datetime, to_ms
from tests.fakes.binance_api import FakeBinance, klines_from_csv
from tradechat.cli import app

runner = CliRunner()
BTC_1H = "binance_BTC-USDT_1h.csv.gz"
CACHE_FILE = "binance_BTC-USDT_1h.parquet"


@pytest.fixture(scope="module")
def btc_klines(shared_data: Path) -> list[list[Any]]:
    return klines_from_csv(shared_data / BTC_1H, "1h")


@pytest.fixture
def fake(httpserver_ipv4: HTTPServer, btc_klines: list[list[Any]]) -> FakeBinance:
    return FakeBinance(httpserver_ipv4, {("BTCUSDT", "1h"): btc_klines})


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The cache in tmp_path, through the same environment overrides a user would set."""
    return {
        "TRADECHAT_DATA__CACHE_DIR": str(tmp_path / "cache"),
        "COLUMNS": "220",  # rich tables wide enough not to wrap cells
    }


def run(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["data", *args], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def real_slice(shared_data: Path, start: str, end: str) -> pd.DataFrame:
    frame = read_candles(shared_data / BTC_1H)
    ts = frame["timestamp"]
    cut = frame[(ts >= to_ms(parse_datetime(start))) & (ts < to_ms(parse_datetime(end)))]
    return cut.reset_index(drop=True)


def test_download_writes_the_cache_and_prints_the_quality_report(
    fake: FakeBinance, env: dict[str, str], shared_data: Path, tmp_path: Path
) -> None:
    code, text = run(
        env, "download", "--exchange", "binance", "--symbol", "BTC/USDT", "--timeframe", "1h",
        "--since", "2024-01-01", "--until", "2024-02-01", "--api-url", fake.api_url,
    )  # fmt: skip
    assert code == 0, text
    assert "BTC/USDT 1h on binance: 744 closed candles in 1 request(s), 744 new rows" in text
    assert f"quality of {CACHE_FILE}" in text
    assert "clean: no findings" in text
    stored = read_candles(tmp_path / "cache" / CACHE_FILE)
    expected = real_slice(shared_data, "2024-01-01", "2024-02-01")
    pd.testing.assert_frame_equal(stored, expected, check_exact=True)

    # Run again without --since: the cache is extended from its last candle.
    code, text = run(
        env, "download", "-s", "btc", "-t", "1h", "--until", "2024-02-15",
        "--api-url", fake.api_url,
    )  # fmt: skip
    assert code == 0, text
    assert "336 new rows, resumed after 2024-01-31T23:00:00Z" in text
    assert fake.klines_requests[-1]["startTime"] == str(to_ms(parse_datetime("2024-02-01")))
    pd.testing.assert_frame_equal(
        read_candles(tmp_path / "cache" / CACHE_FILE),
        real_slice(shared_data, "2024-01-01", "2024-02-15"),
        check_exact=True,
    )


def test_download_reports_the_exchanges_gaps_without_filling_them(
    fake: FakeBinance, env: dict[str, str], shared_data: Path, tmp_path: Path
) -> None:
    code, text = run(
        env, "download", "-s", "BTC/USDT", "-t", "1h", "--since", "2018-02-01",
        "--until", "2018-02-15", "--api-url", fake.api_url,
    )  # fmt: skip
    assert code == 0, text
    assert "1 (33 missing candles)" in text
    assert "2018-02-08T00:00:00Z -> 2018-02-09T10:00:00Z: 33 missing" in text
    assert "1 gap(s), 33 missing candle(s)" in text
    stored = read_candles(tmp_path / "cache" / CACHE_FILE)
    assert len(stored) == 14 * 24 - 33
    pd.testing.assert_frame_equal(
        stored, real_slice(shared_data, "2018-02-01", "2018-02-15"), check_exact=True
    )


def test_list_marks_the_folder_and_the_shadowed_files(
    env: dict[str, str], shared_data: Path, tmp_path: Path
) -> None:
    cache, extra = tmp_path / "cache", tmp_path / "extra"
    cache.mkdir()
    extra.mkdir()
    real_slice(shared_data, "2023-03-20", "2023-03-30").to_parquet(cache / CACHE_FILE)
    shutil.copy(shared_data / "kraken_BTC-USD_15m.csv.gz", extra)
    shutil.copy(shared_data / BTC_1H, extra)
    (extra / "notes.txt").write_text("not a candle file")
    env = env | {"TRADECHAT_DATA__DIRS": json.dumps([str(extra)])}
    code, text = run(env, "list")
    assert code == 0, text
    lines = text.splitlines()
    assert f"cache = {cache}" in lines
    assert f"dir 1 = {extra}" in lines

    def row(*cells: str) -> str:
        found = [line for line in lines if all(c in line for c in cells)]
        assert len(found) == 1, (cells, text)
        return found[0]

    # The cached slice (with the real 2023-03-24 outage hour) is the one loads read ...
    cached = row("cache", "BTC/USDT", "1h", "2023-03-20T00:00:00Z")
    assert " 239 " in cached
    assert "shadowed" not in cached
    # ... the full file in the extra folder and the bundled copy are shadowed by it.
    assert "shadowed" in row("dir 1", "BTC/USDT", "1h", "58,419", "2024-04-21T14:00:00Z")
    assert "shadowed" in row("bundled", "BTC/USDT", "1h")
    kraken = row("dir 1", "kraken", "BTC/USD ", "15m", "8,635")
    assert "shadowed" not in kraken
    assert "notes.txt" not in text


def test_check_a_file_and_a_symbol(env: dict[str, str], shared_data: Path) -> None:
    code, text = run(env, "check", str(shared_data / BTC_1H))
    assert code == 0, text
    assert "BTC/USDT 1h on binance" in text
    assert "28 (128 missing candles)" in text
    assert "2018-02-08T00:00:00Z -> 2018-02-09T10:00:00Z: 33 missing" in text
    assert "4 zero-volume candle(s)" in text
    code, text = run(env, "check", "eth", "--timeframe", "1h")
    assert code == 0, text
    assert "ETH/USDT 1h on binance" in text
    assert "(bundled)" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["download", "-s", "BTC/USDT", "-t", "1h", "--since", "2024-01-01", "-e", "binanse"],
         "did you mean binance"),
        (["download", "-s", "BTC/USDT", "-t", "1h", "--since", "yesterday"], "is not a date"),
        (["download", "-s", "BTC/USDT", "-t", "1h"], "give --since"),
        (["download", "-s", "BTC/USDT", "-t", "1h", "--since", "2024-01-01",
          "--api-url", "localhost:8080"], "is not an http(s) URL"),
        (["check", "BTC/USDT"], "give --timeframe"),
        (["check", "DOGE/USDT", "-t", "1h"], "no DOGE/USDT 1h candles"),
    ],
)  # fmt: skip
def test_mistakes_get_a_polite_error(env: dict[str, str], args: list[str], message: str) -> None:
    code, text = run(env, *args)
    assert code == 2
    assert "error:" in text
    assert message in text


def test_an_unlisted_symbol_is_refused_by_the_exchange_stand_in(
    fake: FakeBinance, env: dict[str, str]
) -> None:
    code, text = run(
        env, "download", "-s", "BTC/EUR", "-t", "1h", "--since", "2024-01-01",
        "--api-url", fake.api_url,
    )  # fmt: skip
    assert code == 2
    assert "binance lists no market BTC/EUR" in text
    assert fake.klines_requests == []


def test_the_console_script_downloads_with_a_progress_bar(
    fake: FakeBinance, shared_data: Path, tmp_path: Path
) -> None:
    script = Path(sys.executable).with_name("tradechat")
    out = subprocess.run(
        [str(script), "data", "download", "-s", "BTC/USDT", "-t", "1h", "--since", "2023-01-01",
         "--until", "2023-03-01", "--api-url", fake.api_url],
        capture_output=True, text=True, timeout=120, check=False,
        env=os.environ | {"TRADECHAT_DATA__CACHE_DIR": str(tmp_path), "COLUMNS": "160"},
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1416/1416" in out.stdout  # the bar's last state: every hourly slot covered
    assert "1,416 candles, 2 pages" in out.stdout
    pd.testing.assert_frame_equal(
        read_candles(tmp_path / CACHE_FILE),
        real_slice(shared_data, "2023-01-01", "2023-03-01"),
        check_exact=True,
    )


def test_help_documents_the_commands_and_the_api_url_option() -> None:
    result = runner.invoke(app, ["data", "download", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "--api-url" in result.output
    assert "data-api.binance.vision" in result.output
    # Square brackets survive rich's markup (an unescaped "[data]" would vanish from the help).
    assert "([data] cache_dir)" in result.output
    assert "[default: [data] default_exchange]" in result.output
    result = runner.invoke(app, ["data", "--help"], env={"COLUMNS": "200"})
    assert all(name in result.output for name in ("download", "list", "check"))
