"""Execution on a real exchange for the engine: what the exchange runs natively goes to it, the
rest is emulated here with the paper broker's own trigger logic.

The trader talks to this class exactly as to `PaperBroker` (`accept`, `cancel`, `on_bar`), plus
`send` for orders it has persisted:

- `accept` validates like the paper broker, then leaves a native order `new`: the trader commits
  it first and only then `send`s it, so an order exists in the database before the exchange
  hears of it. A crash in between leaves a `new` order that the restart's reconcile settles
  (never resent: the signal behind it may be stale).
- `on_bar` polls the exchange for the native orders of the bar's symbol (their state and fills
  not booked yet). Emulated orders (OCO, trailing stop, TWAP: see `order_capabilities`) are
  worked by the paper broker on the closed bar; where it would fill, a native market order is
  sent for that amount and the exchange's real fills are booked to the emulated order. Such a
  market order's client id derives from the simulated fill's id, so re-running a bar after a
  crash finds it instead of sending it twice. Emulated triggers are therefore checked once per
  closed bar, and fill at the market price after the close, not at the touched level.
- `cancel` of a native order asks the exchange; when the order filled first, its fills are kept
  for `take_fills`, so nothing the exchange did goes unbooked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import replace
from decimal import Decimal

from botcore.engine.ledger import fee_value
from botcore.execution.live import LiveBroker, OrderUpdate
from botcore.execution.orders import Fill, Order, OrderStatus, OrderType
from botcore.execution.paper import Bar, BarResult, PaperBroker, order_after_fill

__all__ = ["LiveExecution"]


class LiveExecution:
    """A `LiveBroker` behind the paper broker's interface, emulating what is not native.

    Args:
        broker: The live broker (keys from the keystore, behind the live guard).
        paper: A paper broker with the account's fee and slippage: validation and the trigger
            logic of emulated orders.
        known_fill_ids: Ids of every fill already booked (from the store).
    """

    def __init__(
        self, broker: LiveBroker, paper: PaperBroker, known_fill_ids: Iterable[str] = ()
    ) -> None:
        self.broker = broker
        self.paper = paper
        self.account = broker.exchange_id
        self._known = set(known_fill_ids)
        self._late: list[Fill] = []

    def native(self, kind: OrderType) -> bool:
        """True when the exchange runs this order type itself."""
        return self.broker.capabilities[kind].native

    # -- the paper broker's interface ---------------------------------------------------------
    def accept(self, order: Order, now_ms: int) -> Order:
        """Validate; a native order stays `new` until `send`, an emulated one is `open` here."""
        checked = self.paper.accept(order, now_ms)
        if checked.status is OrderStatus.REJECTED or not self.native(order.type):
            return checked
        return replace(checked, status=OrderStatus.NEW)

    def cancel(self, order: Order, now_ms: int) -> Order:
        """Cancel on the exchange (or locally, for an emulated or unsent order)."""
        if order.status.final:
            return order
        if not self.native(order.type) or order.status is OrderStatus.NEW:
            return self.paper.cancel(order, now_ms)
        canceled = self.broker.cancel(order)
        if canceled.filled > order.filled:  # it filled before the cancel arrived
            self._late.extend(self._keep(self.broker.fetch(canceled, self._known).fills))
        return canceled

    def on_bar(self, orders: Sequence[Order], bar: Bar) -> BarResult:
        """The bar's symbol's orders as the exchange now has them, and their new fills."""
        changed: list[Order] = []
        fills: list[Fill] = []
        for order in orders:
            if order.symbol != bar.symbol or order.status.final:
                continue
            if order.status is OrderStatus.NEW:
                continue  # not sent yet: `send` places it after the trader's commit
            if self.native(order.type):
                update = self.broker.fetch(order, self._known)
                if update.order != order or update.fills:
                    changed.append(update.order)
                    fills.extend(self._keep(update.fills))
                continue
            more_orders, more_fills = self._emulate(order, bar)
            changed.extend(more_orders)
            fills.extend(more_fills)
        return BarResult(tuple(changed), tuple(fills))

    # -- the live part ------------------------------------------------------------------------
    def send(self, order: Order, last_price: Decimal | None) -> OrderUpdate:
        """Place a persisted `new` order; its fills so far (a market order fills at once)."""
        placed = self.broker.place(order, last_price=last_price)
        if placed.filled <= 0:
            return OrderUpdate(placed)
        update = self.broker.fetch(placed, self._known)
        return OrderUpdate(update.order, self._keep(update.fills))

    def reconcile(self, orders: Iterable[Order]) -> list[OrderUpdate]:
        """After a restart: what became of the native orders believed unfinished."""
        native = [o for o in orders if self.native(o.type)]
        updates = self.broker.reconcile(native, self._known)
        return [OrderUpdate(u.order, self._keep(u.fills)) for u in updates]

    def take_fills(self) -> tuple[Fill, ...]:
        """Fills found while cancelling, not yet booked (then forgotten here)."""
        late, self._late = tuple(self._late), []
        return late

    def _keep(self, fills: Iterable[Fill]) -> tuple[Fill, ...]:
        new = tuple(f for f in fills if f.id not in self._known)
        self._known.update(f.id for f in new)
        return new

    def _emulate(self, order: Order, bar: Bar) -> tuple[list[Order], list[Fill]]:
        """Work an emulated order on the closed bar; carry out its simulated fills for real."""
        simulated = self.paper.on_bar([order], bar)
        if not simulated.fills:
            return list(simulated.orders), []  # e.g. a trailing stop that moved up
        parent, changed, fills = order, list[Order](), list[Fill]()
        for sim in simulated.fills:
            child = Order(
                id="tc" + hashlib.sha256(sim.id.encode()).hexdigest()[:30],
                symbol=order.symbol, side=order.side, type=OrderType.MARKET, amount=sim.amount,
                status=OrderStatus.NEW, created_ms=bar.timestamp_ms, updated_ms=bar.timestamp_ms,
                parent_id=order.id, exchange=self.account, reason=order.reason,
            )  # fmt: skip
            update = self.send(child, last_price=bar.close)
            changed.append(update.order)
            for fill in update.fills:
                # booked to the emulated order, so the trade's exit reason is its (OCO, trailing)
                fill = replace(fill, order_id=order.id)
                fee = parent.fee  # an Order's fee is in quote, whatever the fill paid in
                parent = replace(order_after_fill(parent, fill), fee=fee + fee_value(fill))
                fills.append(fill)
            if update.order.status is not OrderStatus.FILLED:
                break  # refused or unfilled: the emulated order stays as it was for the rest
        smallest = self.broker.smallest_amount(order.symbol)
        if parent.status is OrderStatus.PARTIALLY_FILLED and parent.remaining < smallest:
            # the rest is below what the exchange trades (the child's amount was truncated)
            parent = replace(parent, status=OrderStatus.FILLED)
        if parent.status is OrderStatus.FILLED or parent.filled > order.filled:
            changed.append(parent)
        return changed, fills
