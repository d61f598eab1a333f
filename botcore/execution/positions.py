"""Positions and closed trades as the engine books them from fills (long only, one per symbol)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

__all__ = ["ClosedTrade", "Position"]


@dataclass(frozen=True)
class Position:
    """An open long position: what was bought, at what average price, and its protective orders."""

    symbol: str
    amount: Decimal
    entry_price: Decimal
    entry_ms: int
    entry_fee: Decimal
    exchange: str = "paper"
    strategy: str = ""
    protective_order_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClosedTrade:
    """A finished round trip; `pnl` is net of both fees, `pnl_pct` relative to the entry cost."""

    id: str
    symbol: str
    side: str
    amount: Decimal
    entry_ms: int
    exit_ms: int
    entry_price: Decimal
    exit_price: Decimal
    fee: Decimal
    pnl: Decimal
    pnl_pct: Decimal
    exit_reason: str
    exchange: str = "paper"
    strategy: str = ""
