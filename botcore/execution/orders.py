"""Orders and fills: the immutable facts of trading, shared by paper and live execution.

Money is `Decimal` (prices, amounts, fees); times are UTC milliseconds. An `Order` changes only by
being replaced with a new `Order` (`dataclasses.replace`), which is persisted before anyone is told.

Order types (what a request needs besides symbol, side and size):

- `market`: nothing; fills at the next price available (the next bar's open in replay).
- `limit`: `price`; a buy fills when the price falls to it, a sell when it rises to it.
- `stop_loss`: `stop_price`; a sell stop (or buy stop) that turns into a market order when touched.
- `take_profit`: `price`; a limit order that closes a position at a profit.
- `trailing_stop`: `trail_pct` or `trail_atr` (a multiple of the ATR); the stop follows the best
  price since the order was placed.
- `oco`: `price` (take-profit limit) and `stop_price` (stop); one filling cancels the other.
- `iceberg`: `price` and `visible_amount`; a large limit order shown in slices.
- `twap`: `duration_ms` and `slices`; a parent order split into market children over the window.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "Fill",
    "Order",
    "OrderRequest",
    "OrderStatus",
    "OrderType",
    "Side",
    "client_order_id",
]


class Side(StrEnum):
    """Buy or sell."""

    BUY = "buy"
    SELL = "sell"


class OrderType(StrEnum):
    """Every order type the engine knows; see the module docstring for what each needs."""

    MARKET = "market"
    LIMIT = "limit"
    STOP_LOSS = "stop_loss"
    TAKE_PROFIT = "take_profit"
    TRAILING_STOP = "trailing_stop"
    OCO = "oco"
    ICEBERG = "iceberg"
    TWAP = "twap"


class OrderStatus(StrEnum):
    """Life cycle: new (persisted, not yet working) -> open -> filled / canceled / rejected."""

    NEW = "new"
    OPEN = "open"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELED = "canceled"
    REJECTED = "rejected"

    @property
    def final(self) -> bool:
        """True once nothing more can happen to the order."""
        return self in (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED)


@dataclass(frozen=True)
class OrderRequest:
    """What a strategy, a user or a protective rule asks for, before risk checks and ids."""

    symbol: str
    side: Side
    type: OrderType
    amount: Decimal | None = None
    quote_amount: Decimal | None = None
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_pct: Decimal | None = None
    trail_atr: Decimal | None = None
    visible_amount: Decimal | None = None
    duration_ms: int | None = None
    slices: int | None = None
    reason: str = ""
    exchange: str = "paper"


@dataclass(frozen=True)
class Order:
    """An order as the engine tracks it. `id` is the client order id, unique and deterministic."""

    id: str
    symbol: str
    side: Side
    type: OrderType
    amount: Decimal
    status: OrderStatus
    created_ms: int
    updated_ms: int
    price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_pct: Decimal | None = None
    trail_atr: Decimal | None = None
    visible_amount: Decimal | None = None
    duration_ms: int | None = None
    slices: int | None = None
    filled: Decimal = Decimal(0)
    average_price: Decimal | None = None
    fee: Decimal = Decimal(0)
    parent_id: str | None = None
    exchange: str = "paper"
    exchange_order_id: str | None = None
    reason: str = ""
    reject_reason: str = ""

    @property
    def remaining(self) -> Decimal:
        """Amount still to fill."""
        return self.amount - self.filled


@dataclass(frozen=True)
class Fill:
    """One execution of (part of) an order."""

    id: str
    order_id: str
    symbol: str
    side: Side
    amount: Decimal
    price: Decimal
    fee: Decimal
    fee_currency: str
    timestamp_ms: int
    exchange: str = "paper"


def client_order_id(run_id: str, symbol: str, timestamp_ms: int, sequence: int) -> str:
    """A deterministic client order id: a retry after a crash re-derives the same id, so an
    exchange that already has the order refuses the duplicate instead of filling it twice."""
    digest = hashlib.sha256(f"{run_id}|{symbol}|{timestamp_ms}|{sequence}".encode()).hexdigest()
    return f"tc{digest[:30]}"
