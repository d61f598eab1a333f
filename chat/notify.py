"""Push notifications: what the engine did, worded once for every chat platform.

The engine announces each committed bar as a `BarReport` and, live, each round of sending orders
as a `FlushReport`. `Notifier` turns them into short Replies for the owner and admins, one line
per event:

- a fill (the exit fill of a closed trade is left out: the trade's line says it);
- a closed trade with its P&L in the quote currency and in percent, and why it closed;
- the circuit breaker halting or clearing new entries (its own message, which says why);
- a price alert that fired;
- an order the exchange or the risk rules refused, and an order that could not be sent.

A report with nothing worth telling gives None. The notifier remembers the last breaker state
it saw, so a halt is told once when it starts (or when the first report already shows it) and
once when it ends, not on every bar.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.symbols import quote_asset
from chat.commands.format import amount, money, pct, price_text, signed
from chat.reply import Reply

if TYPE_CHECKING:
    from botcore.engine.live_trader import FlushReport
    from botcore.engine.trader import BarReport
    from botcore.execution.orders import Fill, Order
    from botcore.execution.positions import ClosedTrade
    from botcore.persistence.records import AlertRecord
    from botcore.risk.breaker import BreakerState

__all__ = [
    "Notifier",
    "Outbox",
    "alert_line",
    "breaker_line",
    "fill_line",
    "merge",
    "order_error_line",
    "refused_order_line",
    "trade_line",
]


def _paper(exchange: str) -> str:
    return " (paper)" if exchange == "paper" else ""


def _fee(value: Decimal, currency: str, symbol: str) -> str:
    shown = money(value) if currency == quote_asset(symbol) else amount(value)
    return f"{shown} {currency}"


def fill_line(fill: Fill) -> str:
    """`**Bought** 0.01 BTC/USDT at 27,210.00, fee 0.27 USDT (paper)`."""
    verb = "Bought" if str(fill.side) == "buy" else "Sold"
    fee = _fee(fill.fee, fill.fee_currency, fill.symbol)
    return (
        f"**{verb}** {amount(fill.amount)} {fill.symbol} at {price_text(fill.price)}, "
        f"fee {fee}{_paper(fill.exchange)}"
    )


def trade_line(trade: ClosedTrade) -> str:
    """`**Closed** ETH/USDT: -8.05 USDT (-0.27%), 1,859.14 -> 1,857.87, exit signal`."""
    quote = quote_asset(trade.symbol)
    reason = trade.exit_reason.replace("_", " ") or "closed"
    return (
        f"**Closed** {trade.symbol}: {signed(trade.pnl, quote)} ({pct(trade.pnl_pct)}), "
        f"{price_text(trade.entry_price)} → {price_text(trade.exit_price)}, "
        f"{reason}{_paper(trade.exchange)}"
    )


def breaker_line(state: BreakerState) -> str:
    """The breaker's own message, under a heading that says which way it went."""
    heading = "Entries halted" if state.halted else "Entries resumed"
    detail = state.message or (f"by {state.rule}" if state.rule else "the circuit breaker cleared")
    return f"**{heading}:** {detail}"


def alert_line(alert: AlertRecord) -> str:
    """`**Alert:** BTC/USDT went above 70,000.00`."""
    return f"**Alert:** {alert.symbol} went {alert.condition} {price_text(alert.price)}"


def refused_order_line(order: Order) -> str:
    """An order that was rejected, with the reason given."""
    why = order.reject_reason or "no reason given"
    return (
        f"**Order refused:** {order.side} {amount(order.amount)} {order.symbol} "
        f"({order.type}): {why}"
    )


def order_error_line(error: str) -> str:
    """An order the engine could not send (it retries at the next bar)."""
    return f"**Order not sent:** {error}; retrying at the next bar."


def _fills(fills: Iterable[Fill], trades: Sequence[ClosedTrade]) -> list[str]:
    closing = {t.id for t in trades}  # a trade's id is the id of the fill that closed it
    return [fill_line(f) for f in fills if f.id not in closing]


def _refused(orders: Iterable[Order]) -> list[str]:
    return [refused_order_line(o) for o in orders if str(o.status) == "rejected"]


class Notifier:
    """Engine reports in, Replies out (None when there is nothing to tell)."""

    def __init__(self) -> None:
        self._breaker: BreakerState | None = None

    def bar(self, report: BarReport) -> Reply | None:
        """What one committed bar did that the owner should hear about."""
        lines = _fills(report.fills, report.trades)
        lines += [trade_line(t) for t in report.trades]
        lines += _refused(report.orders)
        lines += [alert_line(a) for a in report.alerts]
        if self._breaker_changed(report.breaker):
            lines.append(breaker_line(report.breaker))
        return Reply("\n".join(lines)) if lines else None

    def flush(self, report: FlushReport) -> Reply | None:
        """What sending orders to the exchange did: fills, trades, refusals, failures."""
        lines = _fills(report.fills, report.trades)
        lines += [trade_line(t) for t in report.trades]
        lines += _refused(report.orders)
        lines += [order_error_line(e) for e in report.errors]
        return Reply("\n".join(lines)) if lines else None

    def _breaker_changed(self, state: BreakerState) -> bool:
        previous, self._breaker = self._breaker, state
        if previous is None:
            return state.halted  # a halt already in force at start-up is worth a word
        return previous.halted != state.halted or (
            previous.message != state.message and bool(state.message)
        )


def merge(replies: Sequence[Reply]) -> list[Reply]:
    """Consecutive plain-text replies joined into one (fewer messages when the engine is busy);
    a reply with an image or buttons stays on its own."""
    merged: list[Reply] = []
    for reply in replies:
        plain = reply.image is None and not reply.buttons
        last = merged[-1] if merged else None
        if plain and last is not None and last.image is None and not last.buttons:
            merged[-1] = Reply(f"{last.text}\n{reply.text}", ephemeral=last.ephemeral)
        else:
            merged.append(reply)
    return merged


class Outbox:
    """Notifications queued by the engine's synchronous hooks and sent in the background.

    Everything queued while a send is under way goes out merged into one message, so a busy bar
    makes one notification, not ten. A failure to send is the `send` function's to log.

    Args:
        send: Delivers one reply to the platform's recipients (never raises).
        name: The background task's name.
    """

    def __init__(self, send: Callable[[Reply], Awaitable[None]], name: str) -> None:
        self._send = send
        self._name = name
        self._notifier = Notifier()
        self._queue: asyncio.Queue[Reply] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start sending (call inside the running event loop)."""
        self._task = asyncio.create_task(self._run(), name=self._name)

    def bar(self, report: BarReport) -> None:
        """Queue what a committed bar did (fills, trades, breaker, alerts)."""
        self.put(self._notifier.bar(report))

    def flush(self, report: FlushReport) -> None:
        """Queue what sending orders to the exchange did."""
        self.put(self._notifier.flush(report))

    def put(self, reply: Reply | None) -> None:
        """Queue one reply (None is ignored)."""
        if reply is not None:
            self._queue.put_nowait(reply)

    async def stop(self, drain_s: float = 5.0) -> None:
        """Send what is queued (at most `drain_s` seconds), then stop."""
        task, self._task = self._task, None
        if task is None:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), drain_s)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                for reply in merge(batch):
                    await self._send(reply)
            finally:
                for _ in batch:
                    self._queue.task_done()
