"""Shared fixtures: paths to the real candles in ../shared/data and small loaded slices of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from botcore.data.catalog import LoadedCandles, load_file
from botcore.timeframes import parse_datetime

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real candle files shared by the project (see its README)."""
    assert SHARED_DATA.is_dir(), f"real candles expected at {SHARED_DATA}"
    return SHARED_DATA


def load_slice(name: str, start: str | None = None, end: str | None = None) -> LoadedCandles:
    """A real candle file cut to [start, end)."""
    return load_file(
        SHARED_DATA / name,
        start=parse_datetime(start) if start else None,
        end=parse_datetime(end) if end else None,
    )


@pytest.fixture(scope="session")
def btc_1h_2023() -> LoadedCandles:
    """Binance BTC/USDT 1h candles of 2023 (8,760 real bars)."""
    return load_slice("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2024-01-01")
