"""The token scanner on the seven real Binance USDT pairs at 15m (about a year each)."""

from __future__ import annotations

import csv
import gzip
import math
import statistics
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from botcore.data.catalog import DataCatalog, load_file
from botcore.errors import DataNotFoundError
from botcore.market.scan_sources import catalog_frames, scan_catalog, scan_exchange
from botcore.market.scanner import Breakout, ScanParams, SkipReason, scan
from botcore.market.venues import close_venues, open_venues
from botcore.timeframes import parse_datetime, to_ms
from tests.fakes.binance_api import FakeBinance, klines_from_csv
from tests.fakes.recorded_exchanges import binance_tickers, fixture, start_server

STEP = 15 * 60_000
SEVEN = ["ADA/USDT", "BNB/USDT", "BTC/USDT", "DOGE/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"]
# Six pairs cover 2023-04-01 .. 2024-04-09; BNB/USDT covers 2024-04-30 .. 2025-04-30.
IN_2023 = to_ms(parse_datetime("2023-11-15T13:45:00Z"))


@pytest.fixture(scope="module")
def catalog(shared_data: Path) -> DataCatalog:
    return DataCatalog((shared_data,))


@pytest.fixture(scope="module")
def frames(catalog: DataCatalog) -> dict[str, pd.DataFrame]:
    return catalog_frames(catalog, "15m", exchange="binance", quote="USDT")


def raw_rows(shared_data: Path, symbol: str) -> list[dict[str, float]]:
    name = f"binance_{symbol.replace('/', '-')}_15m.csv.gz"
    with gzip.open(shared_data / name, "rt", newline="") as handle:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(handle)]


def test_the_catalog_offers_the_seven_real_pairs(frames: dict[str, pd.DataFrame]) -> None:
    assert sorted(frames) == SEVEN
    assert all(len(frame) > 35_000 for frame in frames.values())


def test_metrics_match_a_hand_computation_on_the_raw_file(
    frames: dict[str, pd.DataFrame], shared_data: Path
) -> None:
    params = ScanParams(momentum_bars=20, volume_bars=30, volatility_bars=40, breakout_bars=50)
    result = scan(frames, "15m", params, at_ms=IN_2023)
    row = next(r for r in result.ranked if r.symbol == "ETH/USDT")

    rows = [r for r in raw_rows(shared_data, "ETH/USDT") if r["timestamp"] + STEP <= IN_2023]
    close = [r["close"] for r in rows]
    last = close[-1]
    assert row.last_close_ms == IN_2023
    assert row.close == last
    assert row.momentum_pct == pytest.approx((last / close[-21] - 1) * 100, rel=1e-12)
    mean_volume = sum(r["volume"] for r in rows[-31:-1]) / 30
    assert row.volume_spike == pytest.approx(rows[-1]["volume"] / mean_volume, rel=1e-12)
    returns = [close[i] / close[i - 1] - 1 for i in range(len(close) - 40, len(close))]
    assert row.volatility_pct == pytest.approx(statistics.stdev(returns) * 100, rel=1e-9)
    high = max(r["high"] for r in rows[-51:-1])
    low = min(r["low"] for r in rows[-51:-1])
    assert row.range_position == pytest.approx((last - low) / (high - low), rel=1e-12)
    day = sum(r["close"] * r["volume"] for r in rows[-96:])
    assert row.quote_volume_24h == pytest.approx(day, rel=1e-12)

    atr = scan(frames, "15m", ScanParams(volatility="atr", volatility_bars=14), at_ms=IN_2023)
    atr_row = next(r for r in atr.ranked if r.symbol == "ETH/USDT")
    true_ranges = [
        max(
            rows[i]["high"] - rows[i]["low"],
            abs(rows[i]["high"] - rows[i - 1]["close"]),
            abs(rows[i]["low"] - rows[i - 1]["close"]),
        )
        for i in range(len(rows) - 14, len(rows))
    ]
    assert atr_row.volatility_pct == pytest.approx(sum(true_ranges) / 14 / last * 100, rel=1e-12)


def test_the_score_is_the_mean_percentile_rank_and_orders_the_ranking(
    frames: dict[str, pd.DataFrame],
) -> None:
    result = scan(frames, "15m", at_ms=IN_2023)
    ranked = result.ranked
    assert [r.symbol for r in ranked] != []
    assert {r.symbol for r in ranked} == set(SEVEN) - {"BNB/USDT"}
    assert [r.rank for r in ranked] == list(range(1, len(ranked) + 1))
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)

    def pct_rank(values: list[float], value: float) -> float:
        below = sum(v < value for v in values)
        equal = sum(v == value for v in values)
        return (below + (equal + 1) / 2) / len(values)

    columns = ("momentum_pct", "volume_spike", "volatility_pct", "range_position")
    for row in ranked:
        ranks = [pct_rank([getattr(r, c) for r in ranked], getattr(row, c)) for c in columns]
        assert row.score == pytest.approx(sum(ranks) / 4, rel=1e-12)

    by_momentum = scan(frames, "15m", ScanParams(sort_by="momentum", top=3), at_ms=IN_2023)
    expected = sorted(ranked, key=lambda r: -r.momentum_pct)[:3]
    assert [r.symbol for r in by_momentum.ranked] == [r.symbol for r in expected]


@pytest.mark.parametrize(
    "cut",
    ["2023-06-01T00:00:00Z", "2023-11-15T13:45:00Z", "2024-02-29T07:30:00Z", "2024-04-09T23:45Z"],
)
def test_scanning_at_a_time_equals_scanning_the_data_cut_there(
    frames: dict[str, pd.DataFrame], cut: str
) -> None:
    at = to_ms(parse_datetime(cut))
    params = ScanParams(min_quote_volume=50e6)
    full = scan(frames, "15m", params, at_ms=at)
    cut_frames = {s: f[f["timestamp"] + STEP <= at] for s, f in frames.items()}
    assert scan(cut_frames, "15m", params) == full

    # Nothing after the cut is read: wild values there change nothing.
    poisoned = {}
    for symbol, frame in frames.items():
        frame = frame.copy()
        later = frame["timestamp"] + STEP > at
        frame.loc[later, ["open", "high", "low", "close"]] *= 10
        frame.loc[later, "volume"] *= 1000
        poisoned[symbol] = frame
    assert scan(poisoned, "15m", params, at_ms=at) == full


def test_a_candle_still_forming_at_the_scan_time_is_not_used(
    frames: dict[str, pd.DataFrame],
) -> None:
    mid_candle = scan(frames, "15m", at_ms=IN_2023 + 7 * 60_000)
    at_close = scan(frames, "15m", at_ms=IN_2023)
    assert mid_candle.ranked == at_close.ranked
    assert all(r.last_close_ms == IN_2023 for r in mid_candle.ranked)


def test_filters_and_missing_data_are_reported_with_their_reason(
    frames: dict[str, pd.DataFrame], shared_data: Path
) -> None:
    with_other_quote = dict(frames)
    with_other_quote["BTC/USD"] = load_file(shared_data / "kraken_BTC-USD_15m.csv.gz").frame
    params = ScanParams(quote="USDT", min_quote_volume=200e6)
    result = scan(with_other_quote, "15m", params, at_ms=IN_2023)
    skipped = {s.symbol: s for s in result.skipped}
    assert skipped["BTC/USD"].reason is SkipReason.QUOTE
    # BNB/USDT's file starts in 2024: no candle had closed by then.
    assert skipped["BNB/USDT"].reason is SkipReason.NOT_ENOUGH_DATA
    assert skipped["BNB/USDT"].closed_bars == 0
    low = [s for s in result.skipped if s.reason is SkipReason.LOW_VOLUME]
    assert low
    assert all(s.quote_volume_24h is not None and s.quote_volume_24h < 200e6 for s in low)
    assert all(r.quote_volume_24h >= 200e6 for r in result.ranked)
    assert {r.symbol for r in result.ranked} | {s.symbol for s in low} == set(SEVEN) - {"BNB/USDT"}

    # At BNB's last candle the six others ended a year before: stale, not ranked.
    latest = scan(frames, "15m")
    assert [r.symbol for r in latest.ranked] == ["BNB/USDT"]
    assert {s.reason for s in latest.skipped} == {SkipReason.STALE}


def test_a_real_upside_breakout_is_flagged(frames: dict[str, pd.DataFrame]) -> None:
    frame = frames["SOL/USDT"]
    close = frame["close"].to_numpy()
    prior_high = frame["high"].rolling(96).max().shift(1).to_numpy()
    index = int(np.flatnonzero(close[200:] > prior_high[200:])[0]) + 200
    at = int(frame["timestamp"].iloc[index]) + STEP
    row = next(r for r in scan(frames, "15m", at_ms=at).ranked if r.symbol == "SOL/USDT")
    assert row.breakout is Breakout.UP
    assert row.range_position > 1


def test_scan_catalog_completes_symbols_and_names_what_is_missing(catalog: DataCatalog) -> None:
    result = scan_catalog(catalog, "15m", symbols=["btc", "eth"], at_ms=IN_2023)
    assert {r.symbol for r in result.ranked} == {"BTC/USDT", "ETH/USDT"}
    with pytest.raises(DataNotFoundError, match="no PEPE/USDT 15m candles"):
        scan_catalog(catalog, "15m", symbols=["pepe"])


@pytest.fixture(scope="module")
def fifteen_minute_klines(shared_data: Path) -> dict[tuple[str, str], list[list[Any]]]:
    return {
        (f"{base}USDT", "15m"): klines_from_csv(
            shared_data / f"binance_{base}-USDT_15m.csv.gz", "15m"
        )
        for base in ("BTC", "ETH")
    }


def test_a_live_scan_through_ccxt_equals_the_file_scan_with_the_tickers_volumes(
    fifteen_minute_klines: dict[tuple[str, str], list[list[Any]]],
    frames: dict[str, pd.DataFrame],
) -> None:
    server = start_server()
    fake = FakeBinance(server, fifteen_minute_klines)
    server.expect_request("/api/v3/ticker/24hr").respond_with_handler(
        binance_tickers(("BTC/USDT", "ETH/USDT"))
    )
    last_open = fifteen_minute_klines[("BTCUSDT", "15m")][-1][0]
    clients = open_venues(["binance"], api_urls={"binance": fake.api_url})
    try:
        # Ten minutes into the last recorded candle: it is still forming, so it must be ignored.
        live = scan_exchange(
            clients["binance"], "15m", ScanParams(quote="USDT"), now_ms=lambda: last_open + 600_000
        )
    finally:
        close_venues(clients)
        server.clear()
        server.stop()
    recorded = {t["symbol"]: float(t["quoteVolume"]) for t in
                fixture("binance", "fetch_tickers_BTC_ETH")["http_response"]}  # fmt: skip
    two = {s: frames[s] for s in ("BTC/USDT", "ETH/USDT")}
    offline = scan(
        two,
        "15m",
        ScanParams(quote="USDT"),
        at_ms=last_open,
        quote_volumes={"BTC/USDT": recorded["BTCUSDT"], "ETH/USDT": recorded["ETHUSDT"]},
    )
    assert live.at_ms == last_open + 600_000
    assert live.ranked == offline.ranked
    assert all(r.last_close_ms == last_open for r in live.ranked)
    assert not math.isnan(live.ranked[0].score)
    # The universe came from the tickers and one candle request per symbol was made.
    assert sorted(q["symbol"] for q in fake.klines_requests) == ["BTCUSDT", "ETHUSDT"]
    assert all(q["limit"] == "98" for q in fake.klines_requests)
