"""Open positions marked at the last close, with their unrealised P&L and protective orders.

Conventions and the clock are described in `botcore.services.history`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings
from botcore.execution.orders import Order, OrderStatus, OrderType, Side
from botcore.execution.positions import Position
from botcore.services.history import change_pct, engine_clock_ms, market_symbol
from botcore.services.history import marks as last_marks

if TYPE_CHECKING:
    from botcore.persistence import Store

__all__ = ["OpenPosition", "PositionsReport", "ProtectiveOrder", "positions"]

_ZERO = Decimal(0)
_PROTECTIVE_TYPES = frozenset(
    {OrderType.STOP_LOSS, OrderType.TAKE_PROFIT, OrderType.TRAILING_STOP, OrderType.OCO}
)


@dataclass(frozen=True)
class ProtectiveOrder:
    """A working sell order that guards a position (stop, take-profit, OCO or trailing stop)."""

    order_id: str
    type: OrderType
    status: OrderStatus
    amount: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    trail_pct: Decimal | None


@dataclass(frozen=True)
class OpenPosition:
    """An open long position marked at the last close.

    Attributes:
        mark_price: Last close of the symbol (None when the engine has not seen one).
        value: `amount * mark_price`, quote currency.
        unrealised_pnl: Value minus entry cost (amount at entry price plus the entry fee), the
            same basis as a closed trade's pnl before its exit fee.
        unrealised_pnl_pct: `unrealised_pnl` in percent of that entry cost.
        protective_orders: Working sell orders of the position: those it lists, and any open
            stop, take-profit, OCO or trailing stop (or order placed as protection) on its market.
    """

    exchange: str
    symbol: str
    strategy: str
    amount: Decimal
    entry_price: Decimal
    entry_ms: int
    entry_fee: Decimal
    mark_price: Decimal | None
    value: Decimal | None
    unrealised_pnl: Decimal | None
    unrealised_pnl_pct: Decimal | None
    protective_orders: tuple[ProtectiveOrder, ...]


@dataclass(frozen=True)
class PositionsReport:
    """Open positions by exchange and symbol, and their unrealised P&L in total (priced ones)."""

    clock_ms: int
    quote: str
    positions: tuple[OpenPosition, ...]
    unrealised_pnl: Decimal


def _guards(position: Position, orders: Sequence[Order]) -> tuple[ProtectiveOrder, ...]:
    mine = [
        o
        for o in orders
        if o.id in position.protective_order_ids
        or (
            o.symbol == position.symbol
            and o.exchange == position.exchange
            and o.side is Side.SELL
            and (o.reason == "protective" or o.type in _PROTECTIVE_TYPES)
        )
    ]
    return tuple(
        ProtectiveOrder(o.id, o.type, o.status, o.amount, o.price, o.stop_price, o.trail_pct)
        for o in mine
    )


def _open_position(
    position: Position, mark: Decimal | None, orders: Sequence[Order]
) -> OpenPosition:
    value = pnl = pct = None
    if mark is not None:
        value = position.amount * mark
        cost = position.amount * position.entry_price + position.entry_fee
        pnl = value - cost
        pct = change_pct(pnl, cost)
    return OpenPosition(
        exchange=position.exchange,
        symbol=position.symbol,
        strategy=position.strategy,
        amount=position.amount,
        entry_price=position.entry_price,
        entry_ms=position.entry_ms,
        entry_fee=position.entry_fee,
        mark_price=mark,
        value=value,
        unrealised_pnl=pnl,
        unrealised_pnl_pct=pct,
        protective_orders=_guards(position, orders),
    )


def positions(
    settings: Settings, store: Store, symbol: str | None = None, now_ms: int | None = None
) -> PositionsReport:
    """Open positions (all, or one symbol's) with marks, unrealised P&L and protective orders.

    Positions are the store's current ones whatever `now_ms` says: the store keeps no history
    of positions.

    Args:
        settings: The configuration (quote currency, for a bare symbol such as `eth`).
        store: The engine's store.
        symbol: Only this market (`ETH/USDT`, `eth`); an unknown one gives no positions.
        now_ms: The moment of the report; None: the engine's clock.
    """
    wanted = market_symbol(settings, symbol)
    last = last_marks(store)
    orders = store.orders(symbol=wanted, open_only=True)
    found = tuple(
        _open_position(p, last.get(p.symbol), orders)
        for p in store.positions()
        if wanted is None or p.symbol == wanted
    )
    return PositionsReport(
        clock_ms=engine_clock_ms(store, now_ms),
        quote=settings.trading.quote,
        positions=found,
        unrealised_pnl=sum(
            (p.unrealised_pnl for p in found if p.unrealised_pnl is not None), _ZERO
        ),
    )
