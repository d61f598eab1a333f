"""Manual trading: buy, sell and close by hand.

Every front end (chat, the TUI, a script) goes through `TradingService`, which never touches the
engine's memory: it checks the request against the persisted account (the same risk rules the
strategies meet), writes the accepted order and an audit entry in one transaction, and bumps the
engine's control token. The engine adopts the order at its next bar and works it like any other,
so a manual market order fills at the next bar's open with fees and slippage, in paper and in a
replay alike, and a crash between the two steps loses nothing.

`preview=True` runs every check and sizes the order without writing anything (what a chat
confirmation shows before the user presses Confirm).

Sizes: a buy takes `amount` (base currency), `quote_amount` (spent in the quote currency, fee
included in the risk check) or neither (the strategies' `stake_pct`, within the risk limits); a
sell takes `amount`, `fraction` of the position, or neither (all). A `price` makes it a limit
order. `request_id` makes a submission idempotent: the same id (a chat
confirmation pressed twice) never makes a second order.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

from botcore.config import Settings
from botcore.engine.identity import account_name, run_id_for
from botcore.engine.ledger import Book
from botcore.engine.state import BREAKER_KEY, CONTROL_KEY, STATE_KEY, RunState
from botcore.engine.trader import account_state
from botcore.errors import BotcoreError
from botcore.execution.orders import (
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
    client_order_id,
)
from botcore.execution.paper import PaperBroker
from botcore.persistence import Store
from botcore.risk import BreakerState, RiskManager
from botcore.services.account import engine_book

__all__ = ["ManualOrder", "TradingError", "TradingService"]

_STEP = Decimal("1e-8")
# A limit price this far from the last price is far more likely a typo than a plan.
_MAX_LIMIT_DEVIATION = Decimal("0.5")


class TradingError(BotcoreError):
    """A manual order or control request was refused; nothing was written."""


@dataclass(frozen=True)
class ManualOrder:
    """An accepted manual order, persisted and waiting for the engine's next bar.

    Attributes:
        order: The order as persisted (status open).
        last_price: The latest close it was sized and checked at.
        value_quote: `amount` × (limit or last price), in the quote currency.
        risk_message: The risk manager's verdict, in its words.
        duplicate: True when `request_id` had already been submitted (nothing new written).
    """

    order: Order
    last_price: Decimal
    value_quote: Decimal
    risk_message: str
    duplicate: bool = False


class TradingService:
    """Manual orders over one engine's store."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        trading = settings.trading
        self.quote = trading.quote
        self.broker = PaperBroker(
            Decimal(str(trading.fee)), Decimal(str(trading.slippage)), quote=self.quote
        )
        self.risk = RiskManager(settings.risk)
        self.run_id = run_id_for(settings)
        self.account = account_name(settings)
        self.live = trading.mode == "live"

    # -- what can be traded ---------------------------------------------------------------------
    def symbols(self) -> tuple[str, ...]:
        """The symbols the engine runs (a manual order can only fill on a bar it processes)."""
        return tuple(dict.fromkeys(s.symbol for s in self.settings.market.symbols))

    # -- orders ---------------------------------------------------------------------------------
    def buy(
        self,
        symbol: str,
        *,
        amount: Decimal | None = None,
        quote_amount: Decimal | None = None,
        price: Decimal | None = None,
        actor: str,
        request_id: str,
        preview: bool = False,
    ) -> ManualOrder:
        """Buy `amount` of the base currency, or for `quote_amount` of the quote currency.

        Raises:
            TradingError: unknown symbol, no price yet, a bad size or price, or a risk rule
                refused it (the message names the rule).
        """
        if amount is not None and quote_amount is not None:
            raise TradingError("say how much to buy: an amount or a quote amount, not both")
        for name, value in (("amount", amount), ("quote amount", quote_amount)):
            if value is not None and value <= 0:
                raise TradingError(f"the {name} must be positive, not {value}")
        symbol = self._symbol(symbol)
        existing = None if preview else self._existing(symbol, request_id)
        if existing is not None:
            return existing
        state, book, last = self._snapshot(symbol)
        reference = self._reference_price(symbol, price, last)
        if amount is not None:
            size = amount
        elif quote_amount is not None:
            size = _floor(quote_amount / reference)
        else:  # no size given: the strategies' stake, within the risk limits
            size = self._stake(symbol, reference, state, book)
        if size <= 0:
            raise TradingError(f"that buys less than {_STEP} {symbol}")
        return self._submit(symbol, Side.BUY, size, price, last, state, book, actor, request_id,
                            preview)  # fmt: skip

    def sell(
        self,
        symbol: str,
        *,
        amount: Decimal | None = None,
        fraction: Decimal | None = None,
        price: Decimal | None = None,
        actor: str,
        request_id: str,
        preview: bool = False,
    ) -> ManualOrder:
        """Sell `amount`, a `fraction` (0 < f <= 1) of the position, or all of it (neither).

        Raises:
            TradingError: unknown symbol, nothing held, more than is held or already being
                sold, or a bad price.
        """
        if amount is not None and fraction is not None:
            raise TradingError("say how much to sell: an amount or a fraction, not both")
        if amount is not None and amount <= 0:
            raise TradingError(f"the amount must be positive, not {amount}")
        if fraction is not None and not 0 < fraction <= 1:
            raise TradingError(f"the fraction must be above 0 and at most 1, not {fraction}")
        symbol = self._symbol(symbol)
        existing = None if preview else self._existing(symbol, request_id)
        if existing is not None:
            return existing
        state, book, last = self._snapshot(symbol)
        self._reference_price(symbol, price, last)
        available = self._sellable(symbol, book)
        if fraction is not None:
            size = _floor(available * fraction)
        else:
            size = amount if amount is not None else available
        if size > available:
            held = book.positions[symbol].amount
            why = "the rest is already being sold" if available < held else "all you hold"
            raise TradingError(f"you can sell at most {available.normalize()} {symbol} ({why})")
        if size <= 0:
            raise TradingError(f"that sells nothing of your {available.normalize()} {symbol}")
        return self._submit(symbol, Side.SELL, size, price, last, state, book, actor, request_id,
                            preview)  # fmt: skip

    def close(
        self, symbol: str, *, actor: str, request_id: str, preview: bool = False
    ) -> list[ManualOrder]:
        """Sell the whole position of `symbol` at market, or of every symbol for "all".

        Raises:
            TradingError: no open position (none at all for "all").
        """
        if symbol.strip().lower() == "all":
            held = [p.symbol for p in self.store.positions(self.account)]
            if not held:
                raise TradingError("there are no open positions to close")
            return [
                self.sell(s, actor=actor, request_id=f"{request_id}|{s}", preview=preview)
                for s in sorted(held)
            ]
        return [self.sell(symbol, actor=actor, request_id=request_id, preview=preview)]

    # -- helpers --------------------------------------------------------------------------------
    def _symbol(self, symbol: str) -> str:
        wanted = symbol.strip().upper()
        known = self.symbols()
        if wanted in known:
            return wanted
        close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.8)
        hint = f" Did you mean {close[0]}?" if close else ""
        raise TradingError(
            f"{symbol} is not traded by this bot (it runs {', '.join(known)}).{hint}"
        )

    def _existing(self, symbol: str, request_id: str) -> ManualOrder | None:
        order = self.store.order(self._order_id(symbol, request_id))
        if order is None:
            return None
        state = RunState.from_json(self.store.state(STATE_KEY))
        last = state.marks.get(symbol, order.price or Decimal(0))
        value = order.amount * (order.price or last)
        return ManualOrder(order, last, value, "already submitted", duplicate=True)

    def _order_id(self, symbol: str, request_id: str) -> str:
        # no clock in the id: the same request stays the same order however late it is retried
        return client_order_id(self.run_id, f"{symbol}|manual|{request_id}", 0, 0)

    def _snapshot(self, symbol: str) -> tuple[RunState, Book, Decimal]:
        state = RunState.from_json(self.store.state(STATE_KEY))
        if state.clock_ms is None:
            raise TradingError(
                "the engine has not processed a bar yet, so there is no price to trade at; "
                "start it with `tradechat run`"
            )
        last = state.marks.get(symbol)
        if last is None:
            raise TradingError(f"no {symbol} price yet: the engine has not seen a {symbol} bar")
        return state, engine_book(self.settings, self.store), last

    def _stake(self, symbol: str, price: Decimal, state: RunState, book: Book) -> Decimal:
        stake = Decimal(str(self.settings.trading.stake_pct))
        account = account_state(book, state, book.equity(state.marks, self.quote),
                                state.clock_ms or 0, self.quote)  # fmt: skip
        stop = self.settings.risk.stop_loss_pct
        return self.risk.size_entry(symbol, price, stake, account,
                                    Decimal(str(stop)) if stop else None)  # fmt: skip

    def _reference_price(self, symbol: str, price: Decimal | None, last: Decimal) -> Decimal:
        if price is None:
            return last
        if price <= 0:
            raise TradingError(f"the limit price must be positive, not {price}")
        if abs(price - last) > last * _MAX_LIMIT_DEVIATION:
            raise TradingError(
                f"a limit at {price.normalize()} is more than "
                f"{_MAX_LIMIT_DEVIATION * 100:.0f}% away from {symbol}'s last price "
                f"{last.normalize()}; check the price"
            )
        return price

    def _sellable(self, symbol: str, book: Book) -> Decimal:
        position = book.positions.get(symbol)
        if position is None:
            raise TradingError(f"there is no open {symbol} position")
        # protective orders are replaced when a manual sell arrives; exits and manual sells are not
        selling = sum(
            (
                o.remaining
                for o in self.store.orders(symbol=symbol, open_only=True)
                if o.side is Side.SELL and o.reason != "protective"
            ),
            Decimal(0),
        )
        return max(position.amount - selling, Decimal(0))

    def _submit(
        self, symbol: str, side: Side, amount: Decimal, price: Decimal | None, last: Decimal,
        state: RunState, book: Book, actor: str, request_id: str, preview: bool,
    ) -> ManualOrder:  # fmt: skip
        clock = state.clock_ms
        assert clock is not None  # _snapshot refused a state without a clock
        kind = OrderType.LIMIT if price is not None else OrderType.MARKET
        reference = price if price is not None else last
        account = account_state(book, state, book.equity(state.marks, self.quote), clock,
                                self.quote)  # fmt: skip
        breaker = BreakerState.from_json(self.store.state(BREAKER_KEY))
        request = OrderRequest(symbol, side, kind, amount=amount, price=price, reason="manual")
        verdict = self.risk.check(request, reference, account, breaker)
        if not verdict.allowed:
            raise TradingError(verdict.message)
        order = Order(
            id=self._order_id(symbol, request_id), symbol=symbol, side=side, type=kind,
            amount=amount, status=OrderStatus.NEW, created_ms=clock, updated_ms=clock,
            price=price, reason="manual", exchange=self.account,
        )  # fmt: skip
        order = self.broker.accept(order, clock)
        if order.status is OrderStatus.REJECTED:
            raise TradingError(f"the {symbol} order was refused: {order.reject_reason}")
        if self.live:  # the engine sends it at its next bar, after adopting it
            order = replace(order, status=OrderStatus.NEW)
        value = order.amount * reference
        detail = f"{side} {order.amount.normalize()} {symbol} {kind}" + (
            f" at {price.normalize()}" if price is not None else ""
        )
        if preview:  # checked and sized, nothing written
            return ManualOrder(order, last, value, verdict.message)
        with self.store.transaction() as uow:
            uow.save_order(order)
            uow.audit(actor, "manual_order", f"{order.id}: {detail}", clock)
            uow.set_state(CONTROL_KEY, order.id)
        return ManualOrder(order, last, value, verdict.message)


def _floor(value: Decimal) -> Decimal:
    return value.quantize(_STEP, rounding=ROUND_DOWN)
