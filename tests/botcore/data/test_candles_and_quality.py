"""Loading real candle files, naming, and the quality report (gaps, duplicates, zero volume)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from botcore.data.candles import MarketKey, read_candles, write_parquet
from botcore.data.catalog import DataCatalog, bundled_data_dir, load_file, normalize_symbol
from botcore.data.quality import check_candles, clean_candles
from botcore.errors import DataError, DataNotFoundError


def test_file_names_follow_the_shared_convention() -> None:
    key = MarketKey.from_filename("binance_BTC-USDT_1h.csv.gz")
    assert key == MarketKey("binance", "BTC/USDT", "1h")
    assert key.filename() == "binance_BTC-USDT_1h.parquet"
    assert MarketKey.from_filename("notes.txt") is None


@pytest.mark.parametrize(
    ("name", "gaps", "missing", "zero_volume"),
    [
        # figures from ../shared/data/README.md, which validated every file independently
        ("binance_BTC-USDT_1h.csv.gz", 28, 128, 4),
        ("binance_ETH-USDT_1h.csv.gz", 1, 1, 1),
        ("kraken_BTC-USDT_5m.csv.gz", 850, 975, 0),
        ("binanceus_BTC-USDT_1m.csv.gz", 0, 0, 658),
        ("bittrex_DASH-BTC_1m.csv.gz", 1493, 1954, None),
    ],
)
def test_quality_report_matches_the_data_readme(
    shared_data: Path, name: str, gaps: int, missing: int, zero_volume: int | None
) -> None:
    key = MarketKey.from_filename(name)
    assert key is not None
    quality = check_candles(read_candles(shared_data / name), key.timeframe)
    assert (len(quality.gaps), quality.missing_candles) == (gaps, missing)
    if zero_volume is not None:
        assert quality.zero_volume == zero_volume
    assert quality.duplicates == 0 and not quality.unsorted and quality.bad_ohlc == 0


def test_duplicates_and_disorder_are_reported_and_never_invented(shared_data: Path) -> None:
    frame = read_candles(shared_data / "binance_ETH-USDT_1h.csv.gz").iloc[:300]
    messy = pd.concat([frame.iloc[100:], frame.iloc[:100], frame.iloc[50:53]], ignore_index=True)
    cleaned, quality = clean_candles(messy, "1h")
    assert quality.unsorted and quality.duplicates == 3
    assert any("duplicate" in issue for issue in quality.issues())
    pd.testing.assert_frame_equal(cleaned, frame.reset_index(drop=True))
    gappy = frame.drop(index=[10, 11, 200]).reset_index(drop=True)
    cleaned, quality = clean_candles(gappy, "1h")
    assert len(cleaned) == 297  # nothing filled in
    assert [g.missing for g in quality.gaps] == [2, 1]


def test_parquet_round_trip_is_exact(shared_data: Path, tmp_path: Path) -> None:
    frame = read_candles(shared_data / "kraken_BTC-USD_1h.csv.gz")
    path = tmp_path / "kraken_BTC-USD_1h.parquet"
    write_parquet(frame, path)
    pd.testing.assert_frame_equal(read_candles(path), frame)
    assert not list(tmp_path.glob("*.tmp"))


def test_catalog_prefers_the_cache_then_parquet_and_knows_the_bundled_data(
    shared_data: Path, tmp_path: Path
) -> None:
    catalog = DataCatalog.create(tmp_path, (shared_data,))
    key, path = catalog.find("btc", "1h")
    assert key == MarketKey("binance", "BTC/USDT", "1h") and path.parent == shared_data
    write_parquet(read_candles(path).iloc[:100], tmp_path / key.filename())
    assert catalog.find("BTC/USDT", "1h")[1].parent == tmp_path
    assert catalog.find("BTC-USD", "1h")[0].exchange == "kraken"
    bundled = {k.filename("csv.gz") for k, _ in DataCatalog((bundled_data_dir(),)).entries()}
    assert "binance_ETH-USDT_15m.csv.gz" in bundled
    with pytest.raises(DataNotFoundError, match="tradechat data download"):
        catalog.find("PEPE/USDT", "1h")


def test_loading_cuts_to_the_period_and_rejects_bad_files(
    shared_data: Path, tmp_path: Path
) -> None:
    from botcore.timeframes import parse_datetime

    loaded = load_file(
        shared_data / "binance_BTC-USDT_15m.csv.gz",
        start=parse_datetime("2024-01-01"),
        end=parse_datetime("2024-01-02"),
    )
    assert len(loaded.frame) == 96
    bad = tmp_path / "binance_BTC-USDT_1h.csv"
    bad.write_text("timestamp,open,high\n1,2,3\n")
    with pytest.raises(DataError, match="lacks column"):
        read_candles(bad)
    assert normalize_symbol("eth-btc") == "ETH/BTC"
