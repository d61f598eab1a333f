"""Downloading candles: ccxt's real Binance client against a local stand-in serving real candles.

Nothing in ccxt is mocked: requests go over HTTP to 127.0.0.1, ccxt parses Binance's wire format,
and the cache file is compared with the recorded candles the stand-in served.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from pytest_httpserver import HTTPServer

from botcore.data.cache import cache_path, next_open_ms
from botcore.data.candles import read_candles
from botcore.data.download import DownloadProgress, download_candles
from botcore.data.exchanges import DownloadError, RetryPolicy, create_exchange, redirect_api
from botcore.data.quality import check_candles
from botcore.errors import ParamError
from botcore.timeframes import parse_datetime, to_ms
from tests.fakes.binance_api import FakeBinance, klines_from_csv

HOUR_MS = 3_600_000
BTC_1H = "binance_BTC-USDT_1h.csv.gz"
# The recorded file ends with the candle opening 2024-04-21T14:00Z; "now" is long after it.
AFTER_THE_DATA_MS = to_ms(parse_datetime("2024-05-01"))


@pytest.fixture(scope="module")
def btc_klines(shared_data: Path) -> list[list[Any]]:
    return klines_from_csv(shared_data / BTC_1H, "1h")


@pytest.fixture(scope="module")
def btc_file(shared_data: Path) -> pd.DataFrame:
    return read_candles(shared_data / BTC_1H)


@pytest.fixture
def fake(httpserver_ipv4: HTTPServer, btc_klines: list[list[Any]]) -> FakeBinance:
    return FakeBinance(httpserver_ipv4, {("BTCUSDT", "1h"): btc_klines})


@pytest.fixture
def binance(fake: FakeBinance) -> Iterator[Any]:
    exchange = create_exchange("binance", api_url=fake.api_url)
    yield exchange
    exchange.close()


def real_slice(frame: pd.DataFrame, start: str, end: str) -> pd.DataFrame:
    """Rows of the recorded file with open time in [start, end)."""
    ts = frame["timestamp"]
    cut = frame[(ts >= to_ms(parse_datetime(start))) & (ts < to_ms(parse_datetime(end)))]
    return cut.reset_index(drop=True)


def day(text: str) -> datetime:
    return parse_datetime(text)


class Sleeps(list[float]):
    """Records the waits a download asks for instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_multi_page_download_equals_the_real_file_slice(
    binance: Any, fake: FakeBinance, btc_file: pd.DataFrame, tmp_path: Path
) -> None:
    seen: list[DownloadProgress] = []
    summary = download_candles(
        binance, "BTC/USDT", "1h", tmp_path, day("2024-01-01"), day("2024-04-21"),
        progress=seen.append, clock_ms=lambda: AFTER_THE_DATA_MS,
    )  # fmt: skip
    expected = real_slice(btc_file, "2024-01-01", "2024-04-21")
    assert len(expected) == 2664
    stored = read_candles(tmp_path / "binance_BTC-USDT_1h.parquet")
    pd.testing.assert_frame_equal(stored, expected, check_exact=True)
    # Three pages of Binance's spot maximum (from ccxt's features), each starting where the
    # previous one ended, each bounded by the period's end.
    assert [r["limit"] for r in fake.klines_requests] == ["1000"] * 3
    starts = [int(r["startTime"]) for r in fake.klines_requests]
    assert starts == [int(expected.timestamp[0]) + i * 1000 * HOUR_MS for i in range(3)]
    assert {r["endTime"] for r in fake.klines_requests} == {str(to_ms(day("2024-04-21")) - 1)}
    assert (summary.pages, summary.fetched, summary.added, summary.retries) == (3, 2664, 2664, 0)
    assert summary.path == cache_path(tmp_path, summary.key)
    assert summary.quality == check_candles(expected, "1h")
    assert seen[0].done_slots == 0
    assert seen[-1].done_slots == seen[-1].total_slots == 2664
    assert [p.pages for p in seen] == [0, 1, 2, 3]


def test_recorded_binance_response_parses_through_the_download_to_ccxts_result(
    httpserver_ipv4: HTTPServer, shared_data: Path, tmp_path: Path
) -> None:
    recorded = json.loads(
        (shared_data / "ccxt_fixtures" / "binance" / "fetch_ohlcv_BTC_USDT.json").read_text()
    )
    fake = FakeBinance(httpserver_ipv4, {("BTCUSDT", "1h"): recorded["http_response"]})
    exchange = create_exchange("binance", api_url=fake.api_url)
    first_ms = recorded["http_response"][0][0]
    try:
        summary = download_candles(
            exchange, "BTC/USDT", "1h", tmp_path, datetime.fromtimestamp(first_ms / 1000, UTC),
            clock_ms=lambda: to_ms(day("2026-02-09")),  # all three candles closed by then
        )  # fmt: skip
    finally:
        exchange.close()
    # One page with the three candles, then one asking after them that comes back empty.
    last_ms = recorded["http_response"][-1][0]
    assert [int(r["startTime"]) for r in fake.klines_requests] == [first_ms, last_ms + HOUR_MS]
    stored = read_candles(summary.path)
    assert stored.to_numpy().tolist() == recorded["parsed_response"]
    assert stored["timestamp"].tolist() == [row[0] for row in recorded["parsed_response"]]


def test_the_candle_still_forming_is_not_stored_until_it_closes(
    httpserver_ipv4: HTTPServer, shared_data: Path, tmp_path: Path
) -> None:
    recorded = json.loads(
        (shared_data / "ccxt_fixtures" / "binance" / "fetch_ohlcv_BTC_USDT.json").read_text()
    )
    fake = FakeBinance(httpserver_ipv4, {("BTCUSDT", "1h"): recorded["http_response"]})
    exchange = create_exchange("binance", api_url=fake.api_url)
    # The fixture was recorded at 06:19 UTC: its third candle (06:00) was still forming.
    recorded_at = to_ms(parse_datetime("2026-02-08T06:19:06.004Z"))
    try:
        early = download_candles(
            exchange, "BTC/USDT", "1h", tmp_path, day("2026-02-08T04:00:00Z"),
            clock_ms=lambda: recorded_at,
        )  # fmt: skip
        assert early.forming_skipped == 1
        assert read_candles(early.path).to_numpy().tolist() == recorded["parsed_response"][:2]
        later = download_candles(
            exchange, "BTC/USDT", "1h", tmp_path, clock_ms=lambda: recorded_at + HOUR_MS
        )
    finally:
        exchange.close()
    assert later.resumed_after_ms == recorded["parsed_response"][1][0]
    assert (later.added, later.forming_skipped) == (1, 0)
    assert read_candles(later.path).to_numpy().tolist() == recorded["parsed_response"]


def test_interrupted_download_resumes_to_the_same_cache_without_duplicates(
    binance: Any, fake: FakeBinance, btc_file: pd.DataFrame, tmp_path: Path
) -> None:
    expected = real_slice(btc_file, "2023-09-01", "2024-01-01")
    fake.fail_after_pages = 3
    sleeps = Sleeps()
    with pytest.raises(DownloadError, match="still failing after 2 attempt"):
        download_candles(
            binance, "BTC/USDT", "1h", tmp_path, day("2023-09-01"), day("2024-01-01"),
            page_limit=300, retry=RetryPolicy(attempts=2, base_delay_s=0.5), sleep=sleeps,
            clock_ms=lambda: AFTER_THE_DATA_MS,
        )  # fmt: skip
    assert sleeps == [0.5]
    path = tmp_path / "binance_BTC-USDT_1h.parquet"
    # What arrived before the outage is saved: the first three pages, nothing else.
    pd.testing.assert_frame_equal(read_candles(path), expected.iloc[:900], check_exact=True)
    assert not list(tmp_path.glob("*.tmp"))

    fake.fail_after_pages = None
    fake.klines_requests.clear()
    summary = download_candles(
        binance, "BTC/USDT", "1h", tmp_path, day("2023-09-01"), day("2024-01-01"),
        page_limit=300, clock_ms=lambda: AFTER_THE_DATA_MS,
    )  # fmt: skip
    assert int(fake.klines_requests[0]["startTime"]) == int(expected.timestamp[899]) + HOUR_MS
    assert summary.resumed_after_ms == int(expected.timestamp[899])
    assert summary.added == len(expected) - 900
    stored = read_candles(path)
    pd.testing.assert_frame_equal(stored, expected, check_exact=True)
    assert stored["timestamp"].is_unique
    assert summary.quality.duplicates == 0


def test_a_crash_mid_download_leaves_a_readable_cache_holding_whole_chunks(
    binance: Any, fake: FakeBinance, btc_file: pd.DataFrame, tmp_path: Path
) -> None:
    expected = real_slice(btc_file, "2023-06-01", "2023-08-01")

    def interrupt_after_two_pages(step: DownloadProgress) -> None:
        if step.pages == 2:
            raise KeyboardInterrupt  # what Ctrl-C does mid-download

    with pytest.raises(KeyboardInterrupt):
        download_candles(
            binance, "BTC/USDT", "1h", tmp_path, day("2023-06-01"), day("2023-08-01"),
            page_limit=200, flush_rows=200, progress=interrupt_after_two_pages,
            clock_ms=lambda: AFTER_THE_DATA_MS,
        )  # fmt: skip
    stored = read_candles(tmp_path / "binance_BTC-USDT_1h.parquet")
    pd.testing.assert_frame_equal(stored, expected.iloc[:400], check_exact=True)
    download_candles(binance, "BTC/USDT", "1h", tmp_path, until=day("2023-08-01"),
                     page_limit=200, clock_ms=lambda: AFTER_THE_DATA_MS)  # fmt: skip
    pd.testing.assert_frame_equal(
        read_candles(tmp_path / "binance_BTC-USDT_1h.parquet"), expected, check_exact=True
    )


def test_a_429_answer_is_retried_after_retry_after_and_succeeds(
    binance: Any, fake: FakeBinance, btc_file: pd.DataFrame, tmp_path: Path
) -> None:
    fake.rate_limited, fake.retry_after_s = 2, 3
    sleeps = Sleeps()
    summary = download_candles(
        binance, "BTC/USDT", "1h", tmp_path, day("2022-03-01"), day("2022-04-01"),
        retry=RetryPolicy(attempts=4, base_delay_s=0.25), sleep=sleeps,
        clock_ms=lambda: AFTER_THE_DATA_MS,
    )  # fmt: skip
    # Binance's Retry-After (3 s) wins over the shorter backoff (0.25 s, then 0.5 s).
    assert sleeps == [3.0, 3.0]
    assert summary.retries == 2
    assert len(fake.klines_requests) == 3
    pd.testing.assert_frame_equal(
        read_candles(summary.path), real_slice(btc_file, "2022-03-01", "2022-04-01"),
        check_exact=True,
    )  # fmt: skip


def test_retries_are_bounded_and_the_failure_is_reported(
    binance: Any, fake: FakeBinance, tmp_path: Path
) -> None:
    fake.rate_limited = 100
    sleeps = Sleeps()
    with pytest.raises(DownloadError, match=r"binance still failing after 3 attempt\(s\).*429"):
        download_candles(
            binance, "BTC/USDT", "1h", tmp_path, day("2022-03-01"), day("2022-04-01"),
            retry=RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=2.0), sleep=sleeps,
            clock_ms=lambda: AFTER_THE_DATA_MS,
        )  # fmt: skip
    assert len(fake.klines_requests) == 3
    assert sleeps == [1.0, 2.0]  # Retry-After 1 s, backoff 1 s then 2 s (capped)
    assert not (tmp_path / "binance_BTC-USDT_1h.parquet").exists()


@pytest.mark.parametrize(
    ("start", "end", "gaps", "missing", "zero_volume"),
    [
        ("2018-01-01", "2018-03-01", 2, 34, 0),  # Binance's 2018-02-08 outage: 33 hours absent
        ("2021-02-01", "2021-03-10", 2, 2, 1),
    ],
)
def test_gaps_in_the_real_data_are_reported_not_filled(
    binance: Any, btc_file: pd.DataFrame, tmp_path: Path,
    start: str, end: str, gaps: int, missing: int, zero_volume: int,
) -> None:  # fmt: skip
    expected = real_slice(btc_file, start, end)
    summary = download_candles(
        binance, "BTC/USDT", "1h", tmp_path, day(start), day(end), page_limit=500,
        clock_ms=lambda: AFTER_THE_DATA_MS,
    )  # fmt: skip
    quality = summary.quality
    assert (len(quality.gaps), quality.missing_candles, quality.zero_volume) == (
        gaps, missing, zero_volume,
    )  # fmt: skip
    assert quality.gaps == check_candles(expected, "1h").gaps
    stored = read_candles(summary.path)
    assert len(stored) == len(expected) == quality.rows
    for gap in quality.gaps:
        inside = stored[(stored.timestamp > gap.after_ms) & (stored.timestamp < gap.before_ms)]
        assert inside.empty


def test_a_fully_cached_period_needs_no_request(
    binance: Any, fake: FakeBinance, tmp_path: Path
) -> None:
    args = (binance, "BTC/USDT", "1h", tmp_path, day("2022-01-01"), day("2022-01-10"))
    download_candles(*args, clock_ms=lambda: AFTER_THE_DATA_MS)
    fake.klines_requests.clear()
    again = download_candles(*args, clock_ms=lambda: AFTER_THE_DATA_MS)
    assert fake.klines_requests == []
    assert (again.segments_ms, again.added, again.quality.rows) == ((), 0, 216)


def test_a_fully_cached_period_needs_no_exchange_at_all(binance: Any, tmp_path: Path) -> None:
    args = ("BTC/USDT", "1h", tmp_path, day("2022-01-01"), day("2022-01-03"))
    download_candles(binance, *args, clock_ms=lambda: AFTER_THE_DATA_MS)
    # By id: no exchange object is even opened (this would otherwise reach api.binance.com).
    again = download_candles("binance", *args, clock_ms=lambda: AFTER_THE_DATA_MS)
    assert again.key.exchange == "binance"
    assert (again.segments_ms, again.pages, again.quality.rows) == ((), 0, 48)


def test_an_earlier_since_fetches_only_the_missing_head(
    binance: Any, fake: FakeBinance, btc_file: pd.DataFrame, tmp_path: Path
) -> None:
    download_candles(binance, "BTC/USDT", "1h", tmp_path, day("2022-01-10"), day("2022-01-20"),
                     clock_ms=lambda: AFTER_THE_DATA_MS)  # fmt: skip
    fake.klines_requests.clear()
    summary = download_candles(
        binance, "BTC/USDT", "1h", tmp_path, day("2022-01-01"), day("2022-01-20"),
        clock_ms=lambda: AFTER_THE_DATA_MS,
    )  # fmt: skip
    head = (to_ms(day("2022-01-01")), to_ms(day("2022-01-10")))
    assert summary.segments_ms == (head,)
    assert [(r["startTime"], r["endTime"]) for r in fake.klines_requests] == [
        (str(head[0]), str(head[1] - 1))
    ]
    pd.testing.assert_frame_equal(
        read_candles(summary.path), real_slice(btc_file, "2022-01-01", "2022-01-20"),
        check_exact=True,
    )  # fmt: skip


def test_an_unlisted_symbol_is_refused_with_a_suggestion(binance: Any, tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match=r"binance lists no market BTC/USDC; did you mean"):
        download_candles(binance, "BTC/USDC", "1h", tmp_path, day("2022-01-01"),
                         clock_ms=lambda: AFTER_THE_DATA_MS)  # fmt: skip


def test_an_unknown_exchange_id_is_refused_with_a_suggestion() -> None:
    with pytest.raises(DownloadError, match="did you mean binance"):
        create_exchange("binanse")


def test_since_is_required_without_a_cache(binance: Any, tmp_path: Path) -> None:
    with pytest.raises(ParamError, match="give --since"):
        download_candles(binance, "BTC/USDT", "1h", tmp_path)


def test_api_url_replaces_every_host_and_keeps_paths() -> None:
    urls = {"public": "https://api.binance.com/api/v3", "sapi": "https://api.binance.com/sapi/v1",
            "nested": {"fapiPublic": "https://fapi.binance.com/fapi/v1"}}  # fmt: skip
    assert redirect_api(urls, "http://127.0.0.1:9/mirror/") == {
        "public": "http://127.0.0.1:9/mirror/api/v3",
        "sapi": "http://127.0.0.1:9/mirror/sapi/v1",
        "nested": {"fapiPublic": "http://127.0.0.1:9/mirror/fapi/v1"},
    }
    with pytest.raises(ParamError):
        redirect_api(urls, "ftp://example.org")


def test_spot_downloads_load_only_spot_markets_with_rate_limiting_on(binance: Any) -> None:
    assert binance.enableRateLimit is True
    assert binance.options["fetchMarkets"]["types"] == ["spot"]


def test_the_next_candle_opens_after_a_fixed_step_or_a_calendar_month() -> None:
    def ms(text: str) -> int:
        return to_ms(day(text))

    assert next_open_ms(ms("2024-01-31T23:00:00Z"), "1h", HOUR_MS) == ms("2024-02-01")
    month = 30 * 24 * HOUR_MS  # what timeframe_ms says a month is; the calendar decides
    assert next_open_ms(ms("2024-01-01"), "1M", month) == ms("2024-02-01")
    assert next_open_ms(ms("2024-02-01"), "1M", month) == ms("2024-03-01")
    assert next_open_ms(ms("2023-12-01"), "1M", month) == ms("2024-01-01")
    assert next_open_ms(ms("2023-11-01"), "3M", 3 * month) == ms("2024-02-01")


def test_retry_policy_backs_off_exponentially_and_honours_retry_after() -> None:
    policy = RetryPolicy(attempts=6, base_delay_s=1.0, max_delay_s=10.0)
    assert [policy.delay_s(n) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0]
    assert policy.delay_s(1, retry_after_s=7.0) == 7.0
    assert policy.delay_s(1, retry_after_s=600.0) == 10.0
    with pytest.raises(ParamError):
        RetryPolicy(attempts=0)


def test_data_modules_do_not_import_ccxt_until_a_download_starts() -> None:
    code = (
        "import sys, botcore.data.download, botcore.services.market_data, "
        "tradechat.commands.data; print('ccxt' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
