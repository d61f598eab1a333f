"""Market symbols in ccxt form (`BTC/USDT`, `BTC/USDT:USDT`) and the assets they name."""

from __future__ import annotations

__all__ = ["base_asset", "quote_asset"]


def base_asset(symbol: str) -> str:
    """The base currency of a market: `BTC/USDT` -> `BTC`, `BTC/USDT:USDT` -> `BTC`."""
    return symbol.split("/", 1)[0].strip().upper()


def quote_asset(symbol: str) -> str:
    """The quote currency of a market: `BTC/USDT` -> `USDT`, `BTC/USDT:USDT` -> `USDT`."""
    return symbol.split("/", 1)[1].split(":")[0].strip().upper()
