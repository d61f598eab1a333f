"""Binance, Bybit and OKX stand-ins serving recorded responses, and ccxt clients pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from botcore.market.venues import close_venues, open_venues
from tests.fakes.recorded_exchanges import RecordedBinance, RecordedBybit, RecordedOkx, start_server

VENUES = ("binance", "bybit", "okx")


@pytest.fixture(scope="module")
def fakes() -> Iterator[dict[str, Any]]:
    """One running stand-in per exchange, listing BTC/USDT and ETH/USDT (shared by a module's
    tests: stopping a server takes half a second)."""
    made = {
        "binance": RecordedBinance(start_server()),
        "bybit": RecordedBybit(start_server()),
        "okx": RecordedOkx(start_server()),
    }
    yield made
    for fake in made.values():
        fake.server.clear()
        fake.server.stop()


@pytest.fixture(scope="module")
def clients(fakes: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Real ccxt clients of the three exchanges, markets loaded from the stand-ins."""
    opened = open_venues(VENUES, api_urls={name: fake.api_url for name, fake in fakes.items()})
    yield opened
    close_venues(opened)
