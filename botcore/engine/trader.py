"""The trader: one bar in, orders worked, fills booked, a decision taken, all of it persisted.

Each call to `process` is one unit of work committed in one database transaction: the bar's
fills, the orders they changed, the new orders, balances, positions, closed trades, the equity
mark, the signal, the risk state and the stream's cursor. Nothing is announced before the commit,
and a crash at any moment leaves the store at the end of a whole bar, so the replay resumes at the
next bar and reproduces an uninterrupted run exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from pydantic import ValidationError

from botcore.config import RiskConfig, Settings
from botcore.engine.alerts import alert_fires
from botcore.engine.ledger import Book, apply_fill
from botcore.engine.state import BREAKER_KEY, CONTROL_KEY, PAUSED_KEY, STATE_KEY, RunState
from botcore.engine.streams import Decision, MarketStream
from botcore.execution.orders import (
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    client_order_id,
)
from botcore.execution.paper import Bar, BarResult, PaperBroker
from botcore.execution.positions import ClosedTrade
from botcore.persistence import Store, UnitOfWork
from botcore.persistence.records import AlertRecord, SignalRecord
from botcore.risk import AccountState, BreakerState, HeldPosition, RiskManager
from botcore.strategy.registry import get_strategy
from botcore.symbols import base_asset
from botcore.timeframes import MS_PER_DAY

__all__ = ["BREAKER_KEY", "CONTROL_KEY", "PAUSED_KEY", "STATE_KEY", "BarReport", "Trader",
           "account_state"]  # fmt: skip

_STOP_REASONS = ("stop_loss", "trailing_stop")


@dataclass(frozen=True)
class BarReport:
    """What one bar did, for logs and notifications (announced only after the commit)."""

    stream: str
    timestamp_ms: int
    fills: tuple[Fill, ...]
    orders: tuple[Order, ...]
    trades: tuple[ClosedTrade, ...]
    equity: Decimal
    action: str
    breaker: BreakerState
    alerts: tuple[AlertRecord, ...] = ()  # price alerts this bar fired


class Execution(Protocol):
    """Where orders are worked: `PaperBroker`, or `LiveExecution` on an exchange."""

    def accept(self, order: Order, now_ms: int) -> Order: ...

    def cancel(self, order: Order, now_ms: int) -> Order: ...

    def on_bar(self, orders: Sequence[Order], bar: Bar) -> BarResult: ...


class Trader:
    """Works one account (the paper wallet by default) across the configured market streams.

    Args:
        settings: The whole configuration (trading, risk).
        store: The database everything is committed to.
        streams: The markets, each with its strategy.
        run_id: Stable id of the configuration's run; order ids derive from it.
        execution: Where orders are worked; a paper broker with the configured fee and slippage
            by default.
        account: The account's name in the store ("paper", or the exchange's id).
        opening_balances: Balances of a first start (default: `starting_balance` of quote).
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        streams: Sequence[MarketStream],
        run_id: str,
        *,
        execution: Execution | None = None,
        account: str = "paper",
        opening_balances: Mapping[str, Decimal] | None = None,
    ) -> None:
        trading = settings.trading
        self.settings = settings
        self.store = store
        self.streams = list(streams)
        self.run_id = run_id
        self.quote = trading.quote
        self.stake_pct = Decimal(str(trading.stake_pct))
        self.broker: Execution = execution or PaperBroker(
            Decimal(str(trading.fee)), Decimal(str(trading.slippage)), quote=self.quote
        )
        self.account = account
        self.risk = RiskManager(settings.risk)
        self._restore(opening_balances or {self.quote: Decimal(str(trading.starting_balance))})

    # -- state --------------------------------------------------------------------------------
    def _restore(self, opening_balances: Mapping[str, Decimal]) -> None:
        balances = self.store.balances(self.account) or dict(opening_balances)
        positions = {p.symbol: p for p in self.store.positions(self.account)}
        self.book = Book(balances, positions)
        self.open_orders = {o.id: o for o in self.store.orders(open_only=True)}
        self._state_text = self.store.state(STATE_KEY) or ""
        self.run_state = RunState.from_json(self._state_text)
        self.breaker = BreakerState.from_json(self.store.state(BREAKER_KEY))
        self._control: str | None = None
        self.paused = False
        self.alerts = self.store.alerts(active_only=True)
        self._base_settings = self.settings
        self._apply_overrides()

    def _apply_overrides(self) -> None:
        """Risk settings and strategy assignments changed at run time (they outlive restarts).

        An override that no longer validates (a hand-edited row) is ignored, and the
        configured value stays in force."""
        overrides = self.store.risk_settings()
        if overrides:
            base = self._base_settings.risk.model_dump()
            try:
                risk = RiskConfig.model_validate(base | overrides)
            except ValidationError:
                risk = self._base_settings.risk
            self.settings = self._base_settings.model_copy(update={"risk": risk})
            self.risk = RiskManager(risk)
        for assignment in self.store.strategy_assignments():
            if assignment.exchange != self.account:
                continue
            for stream in self.streams:
                if stream.symbol != assignment.symbol:
                    continue
                if stream.strategy.name == assignment.strategy and (
                    dict(stream.strategy.params) == dict(assignment.params)
                ):
                    continue
                folder = self.settings.strategies.folder
                stream.use(get_strategy(assignment.strategy, folder)(**assignment.params))

    def cursors(self) -> list[int | None]:
        """The last bar processed per stream (None: not started)."""
        return [self.store.cursor(s.key) for s in self.streams]

    def _adopt(self, now_ms: int, changed: dict[str, Order]) -> None:
        """Take in what the trading service wrote since the last bar: manual orders (already
        persisted and accepted) and the pause flag. A manual sell replaces the position's
        protective orders, which are re-placed for whatever it leaves held."""
        token = self.store.state(CONTROL_KEY)
        if token == self._control:
            return
        self._control = token
        self.paused = self.store.state(PAUSED_KEY) == "true"
        self.alerts = self.store.alerts(active_only=True)
        self._apply_overrides()
        for order in self.store.orders(open_only=True):
            if order.id in self.open_orders:
                continue
            self.open_orders[order.id] = order
            if order.side is Side.SELL and order.reason == "manual":
                for o in list(self.open_orders.values()):
                    if o.symbol == order.symbol and o.reason == "protective":
                        changed[o.id] = self.broker.cancel(changed.get(o.id, o), now_ms)

    # -- one bar ------------------------------------------------------------------------------
    def process(self, j: int, i: int) -> BarReport:
        """Process bar `i` of stream `j` and commit everything it changed in one transaction."""
        stream = self.streams[j]
        bar = Bar(symbol=stream.symbol, **stream.bar_values(i))  # type: ignore[arg-type]
        book, state = self.book, self.run_state
        changed: dict[str, Order] = {}
        fills: list[Fill] = []
        trades: list[ClosedTrade] = []

        self._adopt(bar.timestamp_ms, changed)
        working = [
            changed.get(o.id, o) for o in self.open_orders.values() if o.symbol == bar.symbol
        ]
        book, state = self._work(working, bar, stream, book, state, changed, fills, trades)
        marks = dict(state.marks) | {bar.symbol: bar.close}
        equity = book.equity(marks, self.quote)
        close_ms = bar.timestamp_ms + stream.step_ms
        state = self._mark(state, marks, equity, bar.timestamp_ms)
        state = replace(state, clock_ms=max(state.clock_ms or 0, close_ms))
        account = account_state(book, state, equity, bar.timestamp_ms, self.quote)
        breaker = self.risk.update_breaker(account, self.breaker)

        open_now = {**self.open_orders, **changed}
        decision = stream.decide(i)
        action, order = self._decide(stream, bar, decision.enter, decision.exit, book, account,
                                     breaker, open_now, close_ms)  # fmt: skip
        for o in order:
            changed[o.id] = o
        book, state = self._settle(stream, book, state, changed, fills, trades, close_ms)
        fired = tuple(
            replace(a, triggered_ms=close_ms)
            for a in self.alerts
            if a.symbol == bar.symbol and alert_fires(a, bar.timestamp_ms, bar.high, bar.low)
        )

        state_text = state.to_json()
        self._commit(
            stream, bar, decision, action, equity, changed, fills, trades, book, state_text,
            breaker, fired,
        )  # fmt: skip
        # committed: only now does the engine's memory (and anyone listening) learn of it
        self.book, self.run_state, self.breaker = book, state, breaker
        self._state_text = state_text
        self._remember(changed)
        if fired:
            done = {a.id for a in fired}
            self.alerts = [a for a in self.alerts if a.id not in done]
        return BarReport(stream.key, bar.timestamp_ms, tuple(fills), tuple(changed.values()),
                         tuple(trades), equity, action, breaker, fired)  # fmt: skip

    def _commit(
        self, stream: MarketStream, bar: Bar, decision: Decision, action: str, equity: Decimal,
        changed: dict[str, Order], fills: list[Fill], trades: list[ClosedTrade], book: Book,
        state_text: str, breaker: BreakerState, fired: tuple[AlertRecord, ...],
    ) -> None:  # fmt: skip
        """Write everything one bar changed in one transaction."""
        with self.store.transaction() as uow:
            for alert in fired:
                uow.save_alert(alert)
            self._write(uow, changed, fills, trades, book)
            uow.save_equity(bar.timestamp_ms, equity)
            if decision.enter or decision.exit:
                uow.save_signal(
                    SignalRecord(
                        timestamp_ms=bar.timestamp_ms, symbol=bar.symbol,
                        timeframe=stream.spec.timeframe, strategy=stream.strategy.name,
                        action="exit" if decision.exit else "enter", price=bar.close,
                        outcome=action,
                    )
                )  # fmt: skip
            if breaker != self.breaker:
                uow.audit("risk", "breaker", breaker.message or "cleared", bar.timestamp_ms)
            if state_text != self._state_text:
                uow.set_state(STATE_KEY, state_text)
            if breaker != self.breaker:
                uow.set_state(BREAKER_KEY, breaker.to_json())
            uow.set_cursor(stream.key, bar.timestamp_ms)

    def _write(
        self, uow: UnitOfWork, changed: dict[str, Order], fills: Sequence[Fill],
        trades: Sequence[ClosedTrade], book: Book,
    ) -> None:  # fmt: skip
        """Orders, fills, the books they changed and closed trades, into an open transaction."""
        for o in changed.values():
            uow.save_order(o)
        for fill in fills:
            uow.save_fill(fill)
        self._save_books(uow, fills, book)
        for trade in trades:
            uow.save_trade(trade)

    def _remember(self, changed: dict[str, Order]) -> None:
        """After the commit: final orders leave the working set, the others are updated."""
        for o in changed.values():
            if o.status.final:
                self.open_orders.pop(o.id, None)
            else:
                self.open_orders[o.id] = o

    def _save_books(self, uow: UnitOfWork, fills: Sequence[Fill], book: Book) -> None:
        """Balances and positions touched by `fills` (they change only through fills)."""
        symbols = sorted({f.symbol for f in fills})
        assets = {self.quote} | {base_asset(s) for s in symbols} | {f.fee_currency for f in fills}
        for asset in sorted(a for a in assets if a):
            uow.set_balance(self.account, asset, book.balance(asset))
        for symbol in symbols:
            if symbol in book.positions:
                uow.save_position(book.positions[symbol])
            elif symbol in self.book.positions:
                uow.delete_position(self.account, symbol)

    def _work(
        self, working: list[Order], bar: Bar, stream: MarketStream, book: Book, state: RunState,
        changed: dict[str, Order], fills: list[Fill], trades: list[ClosedTrade],
    ) -> tuple[Book, RunState]:  # fmt: skip
        """Work the symbol's open orders on the bar. A position left without a working sell
        order (a fresh entry, the rest of a partial sale) gets its protective order, which works
        from this same bar on, as in the backtester."""
        pending = working
        for _ in range(2):  # second pass: the protective order placed after a fill
            if not pending:
                break
            result = self.broker.on_bar(pending, bar)
            for o in result.orders:
                changed[o.id] = o
            book, state = self._book(result.fills, stream, book, state, changed, fills, trades)
            pending = []
            if result.fills:
                protect = self._reguard(stream, book, bar.timestamp_ms, changed)
                pending = [o for o in protect if o.status is OrderStatus.OPEN]
        return book, state

    def _book(
        self, new_fills: Sequence[Fill], stream: MarketStream, book: Book, state: RunState,
        changed: dict[str, Order], fills: list[Fill], trades: list[ClosedTrade],
    ) -> tuple[Book, RunState]:  # fmt: skip
        """Book fills in the ledger; closed trades and the stop-loss streak follow."""
        for fill in new_fills:
            order = changed.get(fill.order_id) or self.open_orders[fill.order_id]
            reason = _exit_reason(order, fill)
            book, trade = apply_fill(book, fill, reason, stream.strategy.name)
            fills.append(fill)
            if trade is not None:
                trades.append(trade)
                state = _count_stop(state, trade)
        return book, state

    def _reguard(
        self, stream: MarketStream, book: Book, now_ms: int, changed: dict[str, Order]
    ) -> list[Order]:
        """After fills: cancel protective orders that no longer fit the position and protect
        what is unguarded. Returns the new protective orders."""
        unguarded, stale = self._guard(stream.symbol, book, changed)
        for o in stale:
            changed[o.id] = self.broker.cancel(o, now_ms)
        protect = self._protection(stream, book, now_ms, len(changed)) if unguarded else []
        for o in protect:
            changed[o.id] = o
        return protect

    def _settle(
        self, stream: MarketStream, book: Book, state: RunState, changed: dict[str, Order],
        fills: list[Fill], trades: list[ClosedTrade], now_ms: int,
    ) -> tuple[Book, RunState]:  # fmt: skip
        """Hook after the decision, before the commit (live trading books late fills here)."""
        return book, state

    def _guard(
        self, symbol: str, book: Book, changed: dict[str, Order]
    ) -> tuple[bool, list[Order]]:
        """Whether the position needs a protective order, and the protective orders that no
        longer fit it (its size changed through a manual order, or it is gone) to cancel.
        A working exit or manual sell guards the position on its own."""
        working = [
            o
            for o in {**self.open_orders, **changed}.values()
            if o.symbol == symbol and o.side is Side.SELL and not o.status.final
        ]
        protective = [o for o in working if o.reason == "protective"]
        position = book.positions.get(symbol)
        if position is None:
            return False, protective
        if len(protective) < len(working):
            return False, []
        if protective and sum(o.remaining for o in protective) == position.amount:
            return False, []
        return True, protective

    def _protection(self, stream: MarketStream, book: Book, now_ms: int, seq: int) -> list[Order]:
        """The protective order for a position just opened: OCO, stop, take-profit or trailing."""
        position = book.positions[stream.symbol]
        stops = stream.stops()
        risk = self.settings.risk
        sl = risk.stop_loss_pct if risk.stop_loss_pct is not None else stops.stop_loss_pct
        tp = risk.take_profit_pct if risk.take_profit_pct is not None else stops.take_profit_pct
        trail = stops.trailing_stop_pct
        entry = position.entry_price
        fields: dict[str, object] = {}
        if sl and tp:
            kind = OrderType.OCO
            fields = {"stop_price": _pct(entry, -sl), "price": _pct(entry, tp)}
        elif trail:
            kind, fields = OrderType.TRAILING_STOP, {"trail_pct": Decimal(str(trail))}
        elif sl:
            kind, fields = OrderType.STOP_LOSS, {"stop_price": _pct(entry, -sl)}
        elif tp:
            kind, fields = OrderType.TAKE_PROFIT, {"price": _pct(entry, tp)}
        else:
            return []
        order = self._new_order(stream.symbol, Side.SELL, kind, position.amount, now_ms, seq,
                                "protective", **fields)  # fmt: skip
        return [self.broker.accept(order, now_ms)]

    def _decide(
        self, stream: MarketStream, bar: Bar, enter: bool, leave: bool, book: Book,
        account: AccountState, breaker: BreakerState, open_now: dict[str, Order], close_ms: int,
    ) -> tuple[str, list[Order]]:  # fmt: skip
        symbol = stream.symbol
        mine = [o for o in open_now.values() if o.symbol == symbol and not o.status.final]
        position = book.positions.get(symbol)
        if position is not None:
            if not leave or any(o.reason == "exit_signal" for o in mine):
                return "hold", []
            orders = [self.broker.cancel(o, close_ms) for o in mine]
            sell = self._new_order(symbol, Side.SELL, OrderType.MARKET, position.amount,
                                   close_ms, len(orders), "exit_signal")  # fmt: skip
            return "exit", [*orders, self.broker.accept(sell, close_ms)]
        if not enter or leave or any(o.side is Side.BUY for o in mine):
            return "none", []
        if self.paused:
            return "paused: new entries are paused", []
        stop = self.settings.risk.stop_loss_pct or stream.stops().stop_loss_pct
        amount = self.risk.size_entry(
            symbol, bar.close, self.stake_pct, account,
            Decimal(str(stop)) if stop else None,
        )  # fmt: skip
        if amount <= 0:
            return "refused: no position size fits the cash and the risk limits", []
        request = OrderRequest(symbol, Side.BUY, OrderType.MARKET, amount=amount,
                               reason="entry_signal")  # fmt: skip
        verdict = self.risk.check(request, bar.close, account, breaker)
        if not verdict.allowed:
            return f"refused: {verdict.message}", []
        buy = self._new_order(symbol, Side.BUY, OrderType.MARKET, verdict.amount, close_ms, 0,
                              "entry_signal")  # fmt: skip
        return "enter", [self.broker.accept(buy, close_ms)]

    def account_state(self) -> AccountState:
        """The account as the risk rules see it, marked at the last processed closes."""
        equity = self.book.equity(self.run_state.marks, self.quote)
        return account_state(
            self.book, self.run_state, equity, self.last_close_ms() or 0, self.quote
        )

    def last_close_ms(self) -> int | None:
        """Close time of the latest bar processed on any stream (None before the first)."""
        closes = [
            c + s.step_ms
            for c, s in zip(self.cursors(), self.streams, strict=True)
            if c is not None
        ]
        return max(closes) if closes else None

    def new_order(
        self, symbol: str, side: Side, kind: OrderType, amount: Decimal, now_ms: int, seq: int,
        reason: str, **fields: object,
    ) -> Order:  # fmt: skip
        """A NEW order with a deterministic client id (`seq` tells apart orders of one moment)."""
        return self._new_order(symbol, side, kind, amount, now_ms, seq, reason, **fields)

    def _new_order(
        self, symbol: str, side: Side, kind: OrderType, amount: Decimal, now_ms: int, seq: int,
        reason: str, **fields: object,
    ) -> Order:  # fmt: skip
        return Order(
            id=client_order_id(self.run_id, f"{symbol}|{reason}", now_ms, seq),
            symbol=symbol, side=side,
            type=kind, amount=amount, status=OrderStatus.NEW, created_ms=now_ms,
            updated_ms=now_ms, reason=reason, exchange=self.account,
            **fields,  # type: ignore[arg-type]
        )  # fmt: skip

    def _mark(
        self, state: RunState, marks: dict[str, Decimal], equity: Decimal, ts: int
    ) -> RunState:
        day = ts // MS_PER_DAY
        day_start = state.day_start_equity
        if state.day != day:
            # the day starts with the equity at the previous bar's close
            day_start = state.last_equity if state.last_equity is not None else equity
        peak = equity if state.peak_equity is None else max(state.peak_equity, equity)
        return replace(state, marks=marks, last_equity=equity, peak_equity=peak, day=day,
                       day_start_equity=day_start)  # fmt: skip


def account_state(
    book: Book, state: RunState, equity: Decimal, now_ms: int, quote: str
) -> AccountState:
    """The account as the risk rules see it: `book` marked at `state.marks`, cash in `quote`."""
    held = tuple(
        HeldPosition(p.symbol, p.amount, state.marks.get(p.symbol, p.entry_price))
        for p in book.positions.values()
    )
    return AccountState(
        now_ms=now_ms, equity=equity, cash=book.balance(quote), positions=held,
        day_start_equity=state.day_start_equity or equity,
        peak_equity=state.peak_equity or equity,
        consecutive_stop_losses=state.consecutive_stop_losses,
        last_stop_loss_ms=state.last_stop_loss_ms,
    )  # fmt: skip


def _pct(price: Decimal, pct: float) -> Decimal:
    return (price * (1 + Decimal(str(pct)) / 100)).quantize(Decimal("1e-8"))


def _exit_reason(order: Order, fill: Fill) -> str:
    """Why a sell happened, in the backtester's words; a buy keeps its order's reason."""
    if fill.side is Side.BUY or order.reason != "protective":
        return order.reason
    if order.type is OrderType.OCO:
        # the stop leg fills at or below its stop (slippage), the limit leg at or above its price
        stop = order.stop_price
        return "stop_loss" if stop is not None and fill.price <= stop else "take_profit"
    return {OrderType.STOP_LOSS: "stop_loss", OrderType.TAKE_PROFIT: "take_profit",
            OrderType.TRAILING_STOP: "trailing_stop"}.get(order.type, order.reason)  # fmt: skip


def _count_stop(state: RunState, trade: ClosedTrade) -> RunState:
    if trade.exit_reason in _STOP_REASONS:
        return replace(state, consecutive_stop_losses=state.consecutive_stop_losses + 1,
                       last_stop_loss_ms=trade.exit_ms)  # fmt: skip
    return replace(state, consecutive_stop_losses=0)
