"""The trader on a real exchange: the paper trader's decisions, orders sent after their commit.

`LiveTrader` is the `Trader` (same strategies, risk rules, ledger and protective orders) with
`LiveExecution` as its broker, plus the two steps only an exchange needs:

- `flush` sends the orders a bar committed as `new` and books what the exchange answered
  (a market order's fills, and the protective order they call for, sent in the next round), in
  one transaction per round. A send that fails in transit leaves the order `new`; the next flush
  tries again, and the broker looks the client id up first, so it is never placed twice.
- `reconcile`, on start, settles every order believed unfinished against the exchange, books
  fills that happened while the engine was down and protects positions they left unguarded.

Balances start from the exchange's account on the very first start; from then on the ledger is
kept from fills, like the paper wallet, so the account should be dedicated to the bot.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from botcore.config import Settings
from botcore.engine.ledger import Book
from botcore.engine.live_execution import LiveExecution
from botcore.engine.state import RunState
from botcore.engine.streams import MarketStream
from botcore.engine.trader import STATE_KEY, Trader
from botcore.execution.live import LiveTradingError, OrderUpdate
from botcore.execution.orders import Fill, Order, OrderStatus, Side
from botcore.execution.positions import ClosedTrade
from botcore.persistence import Store

__all__ = ["FlushReport", "LiveTrader"]

_log = logging.getLogger(__name__)
_ROUNDS = 3  # send, then the protection its fills call for, then that order's own fills


@dataclass(frozen=True)
class FlushReport:
    """What sending (or reconciling) did, announced after its commit."""

    orders: tuple[Order, ...] = ()
    fills: tuple[Fill, ...] = ()
    trades: tuple[ClosedTrade, ...] = ()
    errors: tuple[str, ...] = ()


class LiveTrader(Trader):
    """A `Trader` whose orders go to an exchange through `LiveExecution`."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        streams: Sequence[MarketStream],
        run_id: str,
        execution: LiveExecution,
        opening_balances: Mapping[str, Decimal] | None = None,
    ) -> None:
        super().__init__(settings, store, streams, run_id, execution=execution,
                         account=execution.account, opening_balances=opening_balances)  # fmt: skip
        self.live = execution

    def has_unsent(self) -> bool:
        """True when a committed order waits to be sent."""
        return any(o.status is OrderStatus.NEW for o in self.open_orders.values())

    def flush(self, prices: Mapping[str, Decimal] | None = None) -> FlushReport:
        """Send every committed `new` order; book and commit what the exchange answered.

        `prices` (the tickers' last prices) check a market order's minimum value; without one,
        the last bar's close does."""
        prices = prices or {}
        report = FlushReport()
        for _ in range(_ROUNDS):
            pending = sorted(
                (o for o in self.open_orders.values() if o.status is OrderStatus.NEW),
                key=lambda o: (o.created_ms, o.id),
            )
            if not pending:
                break
            updates, errors = [], []
            for order in pending:
                last = prices.get(order.symbol) or self.run_state.marks.get(order.symbol)
                try:
                    updates.append(self.live.send(order, last))
                except LiveTradingError as exc:  # state unknown: retried at the next flush
                    _log.warning("order %s not sent: %s", order.id, exc)
                    errors.append(f"{order.symbol} {order.side} {order.id}: {exc}")
            report = _merge(report, self._apply(updates), errors)
            if errors:
                break
        return report

    def reconcile(self) -> FlushReport:
        """Settle the orders believed unfinished with the exchange (call once, on start).

        A manual order still `new` was queued by a user for the engine to send, not left behind
        by a crash: it is not settled here but sent by the next `flush` (which looks its id up
        first, so one that did reach the exchange is not placed again)."""
        known = [
            o
            for o in self.open_orders.values()
            if not (o.status is OrderStatus.NEW and o.reason == "manual")
        ]
        return self._apply(self.live.reconcile(known))

    def _apply(self, updates: Iterable[OrderUpdate]) -> FlushReport:
        """Book the exchange's answers, protect what they left unguarded, commit it all."""
        changed: dict[str, Order] = {}
        fills: list[Fill] = []
        trades: list[ClosedTrade] = []
        book, state = self.book, self.run_state
        now = state.clock_ms or 0
        touched: dict[str, MarketStream] = {}
        for update in updates:
            changed[update.order.id] = update.order
            stream = self._stream(update.order.symbol)
            book, state = self._book(update.fills, stream, book, state, changed, fills, trades)
            if update.fills:
                touched[stream.symbol] = stream
        for stream in touched.values():
            self._reguard(stream, book, now, changed)
        if not changed:
            return FlushReport()
        state_text = state.to_json()
        with self.store.transaction() as uow:
            self._write(uow, changed, fills, trades, book)
            if state_text != self._state_text:
                uow.set_state(STATE_KEY, state_text)
        self.book, self.run_state, self._state_text = book, state, state_text
        self._remember(changed)
        return FlushReport(tuple(changed.values()), tuple(fills), tuple(trades))

    def _book(
        self, new_fills: Sequence[Fill], stream: MarketStream, book: Book, state: RunState,
        changed: dict[str, Order], fills: list[Fill], trades: list[ClosedTrade],
    ) -> tuple[Book, RunState]:  # fmt: skip
        """Book fills; a position left smaller than the exchange lets anyone trade (the fee
        taken from a buy, the step an order amount was truncated to) is dust, not a position:
        it stays in the balance and stops counting as open."""
        book, state = super()._book(new_fills, stream, book, state, changed, fills, trades)
        dust = {
            symbol: position
            for symbol, position in book.positions.items()
            if position.amount < self.live.broker.smallest_amount(symbol)
        }
        if dust:
            kept = {s: p for s, p in book.positions.items() if s not in dust}
            book = Book(book.balances, kept)
        return book, state

    def _settle(
        self, stream: MarketStream, book: Book, state: RunState, changed: dict[str, Order],
        fills: list[Fill], trades: list[ClosedTrade], now_ms: int,
    ) -> tuple[Book, RunState]:  # fmt: skip
        """Book fills found while cancelling (an order that filled before its cancel arrived),
        and shrink or drop a not-yet-sent exit that those fills made too large."""
        late = self.live.take_fills()
        if not late:
            return book, state
        book, state = self._book(late, stream, book, state, changed, fills, trades)
        # this bar's changes, and the unsent sells adopted from the store (manual ones)
        for o in list({**self.open_orders, **changed}.values()):
            if o.status is not OrderStatus.NEW or o.side is not Side.SELL:
                continue
            held = book.positions.get(o.symbol)
            if held is None:
                changed[o.id] = self.broker.cancel(o, now_ms)
            elif o.amount > held.amount:
                changed[o.id] = replace(o, amount=held.amount)
        return book, state

    def _stream(self, symbol: str) -> MarketStream:
        return next(s for s in self.streams if s.symbol == symbol)


def _merge(report: FlushReport, more: FlushReport, errors: list[str]) -> FlushReport:
    return FlushReport(
        report.orders + more.orders,
        report.fills + more.fills,
        report.trades + more.trades,
        report.errors + tuple(errors),
    )
