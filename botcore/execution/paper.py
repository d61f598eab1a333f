"""The paper broker: every order type worked against closed candles, with fees and slippage.

Pure and deterministic: orders and a bar in, changed orders and fills out, no clock, no I/O and no
state of its own. Everything an order needs to carry on (a trailing anchor, how much of an iceberg
or TWAP is done) lives in the `Order` itself, so the engine persists what `on_bar` returns and a
crash followed by a replay of the same bars reproduces the same orders and fills, ids included.

Timing: an order works on the bars that open at or after its `created_ms`. The engine stamps an
order decided at bar t's close with that close time (bar t+1's open), so it works from bar t+1,
exactly as the backtester fills decisions at the next open; a protective order placed when an entry
fills at bar t's open is stamped with bar t's open and guards that same bar, as in the backtester.

Prices come from `botcore.execution.fills` (the backtester's code): Decimals go in as floats and
results come back as the float's shortest repr quantized to 1e-8 (ROUND_HALF_EVEN); a limit fill is
exactly its limit or the bar's open, never rounded. Fees are `fee_for(notional)` quantized to 1e-8,
in the symbol's quote currency. Per order type, on a bar whose low/high/open are L/H/O:

- market: fills its remainder at O moved against the trader by the slippage.
- limit and take-profit: a buy fills when L <= price, at min(O, price); a sell when H >= price,
  at max(O, price). No slippage: a limit never fills worse than its price.
- stop-loss: a sell triggers when L <= stop and fills at min(O, stop), a buy when H >= stop at
  max(O, stop); then slippage.
- trailing stop: a stop whose level follows an anchor: for a sell the anchor starts at the first
  working bar's open and rises with the highs of *completed* bars (the current bar's high may come
  after its low), the level is anchor × (1 - trail_pct / 100) or anchor - trail_atr × ATR and only
  ever tightens. The broker keeps the anchor in `price` and the level in `stop_price`; a
  `stop_price` given at acceptance is the initial level. An ATR trail takes the ATR of each
  completed bar (`Bar.atr`), so without an initial level it is armed from its second bar on.
  A buy trailing stop mirrors this with lows.
- OCO: one order carrying both legs, `price` (take-profit limit) and `stop_price` (stop). When one
  bar touches both, the stop is assumed first (as in the backtester); the one fill closes the
  order, so nothing of the other leg remains.
- iceberg: a limit order of which at most `visible_amount` fills per bar touching it, each slice
  its own fill; it stays partially filled until done.
- TWAP: `slices` market child orders (`{id}-{k}`, `parent_id` = the parent) due at
  `created_ms + k * duration_ms // slices`, each released at the first bar opening at or after its
  due time and filled at that open with slippage; the last slice takes the remainder. The parent
  tracks the children's filled amount, average price and fees.

Amounts are floored to the market's step at acceptance; an order under the minimum amount or
notional is rejected. The notional is checked at acceptance against the order's own price; orders
without one (market, trailing stop, TWAP slices) are checked at their first working bar's price.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal

from botcore.data.market_rules import MarketRules
from botcore.execution.fills import (
    BUY,
    SELL,
    buy_stop_fill_price,
    fee_for,
    floor_to_step,
    limit_fill_price,
    limit_touched,
    market_fill_price,
    meets_minimums,
    stop_fill_price,
    stop_touched,
)
from botcore.execution.orders import Fill, Order, OrderStatus, OrderType, Side

__all__ = ["Bar", "BarResult", "PaperBroker", "order_after_fill"]

_QUANTUM = Decimal("1e-8")
_WORKING = (OrderStatus.OPEN, OrderStatus.PARTIALLY_FILLED)
_NO_RULES = MarketRules()
_Worked = tuple[list[Order], list[Fill]]


@dataclass(frozen=True)
class Bar:
    """One closed candle of one symbol; `timestamp_ms` is its open time (UTC).

    `atr` is the average true range known at this bar's close (through this bar), used by ATR
    trailing stops to set their level for the bars after it.
    """

    symbol: str
    timestamp_ms: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    atr: Decimal | None = None


@dataclass(frozen=True)
class BarResult:
    """What one bar did: every order whose state changed (TWAP children before their parent,
    otherwise in (created_ms, id) order) and the fills, in the same order."""

    orders: tuple[Order, ...]
    fills: tuple[Fill, ...]


def _to_decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_QUANTUM, ROUND_HALF_EVEN)


def _side(side: Side) -> int:
    return BUY if side is Side.BUY else SELL


def _tighter(side: Side, a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """The tighter of two stop levels: the higher for a sell stop, the lower for a buy stop."""
    if a is None or b is None:
        return a if b is None else b
    return max(a, b) if side is Side.SELL else min(a, b)


def _positive(value: Decimal | None) -> bool:
    return value is not None and value > 0


def _field_problem(order: Order) -> str:
    """Why the order lacks what its type needs ("" when complete)."""
    kind = order.type
    priced = (OrderType.LIMIT, OrderType.TAKE_PROFIT, OrderType.OCO, OrderType.ICEBERG)
    if order.amount <= 0:
        return "the amount must be positive"
    if kind in priced and not _positive(order.price):
        return f"{kind} orders need a positive price"
    if kind in (OrderType.STOP_LOSS, OrderType.OCO) and not _positive(order.stop_price):
        return f"{kind} orders need a positive stop_price"
    if kind is OrderType.OCO:
        return _oco_problem(order)
    if kind is OrderType.TRAILING_STOP:
        return _trailing_problem(order)
    if kind is OrderType.ICEBERG and not _positive(order.visible_amount):
        return "iceberg orders need a positive visible_amount"
    if kind is OrderType.TWAP and not ((order.duration_ms or 0) > 0 and (order.slices or 0) >= 1):
        return "twap orders need a positive duration_ms and at least one slice"
    return ""


def _oco_problem(order: Order) -> str:
    # a sell OCO protects a long: stop below, target above; a buy OCO the reverse
    stop, target = order.stop_price or Decimal(0), order.price or Decimal(0)
    if order.side is Side.SELL and not stop < target:
        return "a sell OCO needs its stop below its take-profit price"
    if order.side is Side.BUY and not stop > target:
        return "a buy OCO needs its stop above its take-profit price"
    return ""


def _trailing_problem(order: Order) -> str:
    pct, atr = order.trail_pct, order.trail_atr
    if (pct is None) == (atr is None):
        return "trailing_stop orders need exactly one of trail_pct and trail_atr"
    if pct is not None and not 0 < pct < 100:
        return "trail_pct must be between 0 and 100"
    if atr is not None and atr <= 0:
        return "trail_atr must be positive"
    if order.price is not None:
        return "trailing_stop orders take no price (the broker keeps their anchor there)"
    if order.stop_price is not None and order.stop_price <= 0:
        return "a trailing_stop's initial stop_price must be positive"
    return ""


class PaperBroker:
    """Simulates an exchange's order handling against closed candles.

    Args:
        fee_rate: fee as a fraction of each fill's notional (0.001 = 0.1 %).
        slippage: fraction market and stop fills move against the trader (0.0005 = 0.05 %).
        rules: per symbol amount step and minimums; symbols not listed trade freely.
        quote: fee currency for a symbol that names no quote (`BTC/USDT` pays in USDT).
    """

    def __init__(
        self,
        fee_rate: Decimal,
        slippage: Decimal,
        rules: Mapping[str, MarketRules] | None = None,
        quote: str = "USDT",
    ) -> None:
        self.fee_rate = fee_rate
        self.slippage = slippage
        self.rules = dict(rules or {})
        self.quote = quote
        self._fee_f = float(fee_rate)
        self._slip_f = float(slippage)

    # -- life cycle ---------------------------------------------------------------------------
    def accept(self, order: Order, now_ms: int) -> Order:
        """Validate a NEW order: OPEN (amounts floored to the market's step) or REJECTED with a
        `reject_reason` a user can read. No side effects.

        Raises:
            ValueError: the order is not NEW (accepting twice is a programming error).
        """
        if order.status is not OrderStatus.NEW:
            raise ValueError(f"order {order.id} is {order.status}, only a new order is accepted")
        problem = _field_problem(order)
        if not problem:
            order, problem = self._sized(order)
        status = OrderStatus.REJECTED if problem else OrderStatus.OPEN
        return replace(order, status=status, reject_reason=problem, updated_ms=now_ms)

    def cancel(self, order: Order, now_ms: int) -> Order:
        """The order CANCELED at `now_ms` (fills already made stand); a final order unchanged."""
        if order.status.final:
            return order
        return replace(order, status=OrderStatus.CANCELED, updated_ms=now_ms)

    def on_bar(self, orders: Sequence[Order], bar: Bar) -> BarResult:
        """Work the open orders of `bar.symbol` created at or before the bar's open; others in
        `orders` are ignored. Give each bar once, in time order."""
        working = sorted(
            (
                o
                for o in orders
                if o.symbol == bar.symbol
                and o.status in _WORKING
                and o.created_ms <= bar.timestamp_ms
            ),
            key=lambda o: (o.created_ms, o.id),
        )
        changed: list[Order] = []
        fills: list[Fill] = []
        for order in working:
            more_orders, more_fills = self._work(order, bar)
            changed.extend(more_orders)
            fills.extend(more_fills)
        return BarResult(tuple(changed), tuple(fills))

    # -- sizes and minimums -------------------------------------------------------------------
    def _rules(self, symbol: str) -> MarketRules:
        return self.rules.get(symbol, _NO_RULES)

    def _floor(self, amount: Decimal, step: float) -> Decimal:
        """`amount` floored to the step by the fill model, returned as an exact step multiple."""
        if step <= 0.0:
            return amount
        steps = round(floor_to_step(float(amount), step) / step)
        return Decimal(repr(step)) * steps

    def _twap_slice(self, order: Order) -> Decimal:
        """Every slice but the last (which takes the remainder)."""
        share = order.amount / (order.slices or 1)
        step = self._rules(order.symbol).amount_step
        return self._floor(share, step) if step > 0 else share.quantize(_QUANTUM, ROUND_DOWN)

    def _minimum_problem(self, symbol: str, amount: Decimal, price: Decimal | None) -> str:
        """Why `amount` (at `price`, when known) is under the market's minimums ("" if not)."""
        rules = self._rules(symbol)
        if amount <= 0:
            return "the amount (or each of its slices) is smaller than the market's amount step"
        if amount < Decimal(repr(rules.min_amount)):
            return f"amount {amount:f} is under the market minimum of {rules.min_amount:g}"
        if price is not None and not meets_minimums(
            float(amount), float(price), rules.min_amount, rules.min_notional
        ):
            quote = self._quote(symbol)
            notional = (amount * price).quantize(_QUANTUM)
            return (
                f"notional {notional:f} {quote} is under the market minimum of "
                f"{rules.min_notional:g} {quote}"
            )
        return ""

    def _sized(self, order: Order) -> tuple[Order, str]:
        """The order with its amounts floored to the step, and why it is too small ("" if not)."""
        step = self._rules(order.symbol).amount_step
        order = replace(order, amount=self._floor(order.amount, step))
        kind, price = order.type, order.price
        checked = order.amount
        if kind is OrderType.ICEBERG and order.visible_amount is not None:
            # each slice is an order on the book, so each must meet the minimums
            visible = min(self._floor(order.visible_amount, step), order.amount)
            order = replace(order, visible_amount=visible)
            checked = visible
        elif kind is OrderType.TWAP:
            checked = self._twap_slice(order)
        elif kind is OrderType.STOP_LOSS:
            price = order.stop_price
        elif kind is OrderType.OCO and order.price is not None and order.stop_price is not None:
            price = min(order.price, order.stop_price)
        if kind in (OrderType.MARKET, OrderType.TRAILING_STOP, OrderType.TWAP):
            price = None  # no price of its own: checked at its first working bar
        return order, self._minimum_problem(order.symbol, checked, price)

    # -- working one order --------------------------------------------------------------------
    def _work(self, order: Order, bar: Bar) -> _Worked:
        if order.type is OrderType.MARKET:
            return self._work_market(order, bar)
        if order.type is OrderType.TWAP:
            return self._work_twap(order, bar)
        if order.type is OrderType.TRAILING_STOP:
            return self._work_trailing(order, bar)
        touched = self._touched_price(order, bar)
        if touched is None:
            return [], []
        amount, n = order.remaining, 1
        if order.type is OrderType.ICEBERG and order.visible_amount is not None:
            amount = min(order.visible_amount, order.remaining)
            # every fill before this one was a whole visible slice
            n = int(order.filled / order.visible_amount) + 1
        filled, fill = self._fill(order, bar, amount, touched, f"{order.id}-f{n}")
        return [filled], [fill]

    def _work_market(self, order: Order, bar: Bar) -> _Worked:
        price = _to_decimal(market_fill_price(_side(order.side), float(bar.open), self._slip_f))
        problem = self._minimum_problem(order.symbol, order.remaining, price)
        if problem:
            return [self._reject(order, problem, bar)], []
        filled, fill = self._fill(order, bar, order.remaining, price, f"{order.id}-f1")
        return [filled], [fill]

    def _touched_price(self, order: Order, bar: Bar) -> Decimal | None:
        """Fill price of a limit, take-profit, stop-loss, OCO or iceberg on `bar`, if it fills."""
        side = _side(order.side)
        low, high, open_ = float(bar.low), float(bar.high), float(bar.open)
        if order.type in (OrderType.STOP_LOSS, OrderType.OCO) and order.stop_price is not None:
            stop = float(order.stop_price)
            # checked before the OCO's limit: when a bar touches both, the stop came first
            if stop_touched(side, stop, low, high):
                return self._stop_price(order.side, stop, open_)
        if order.type is OrderType.STOP_LOSS or order.price is None:
            return None
        limit = float(order.price)
        if not limit_touched(side, limit, low, high):
            return None
        # the fill model returns one of its inputs: map it back to the exact Decimal
        return order.price if limit_fill_price(side, limit, open_) == limit else bar.open

    def _stop_price(self, side: Side, stop: float, open_: float) -> Decimal:
        if side is Side.BUY:
            return _to_decimal(buy_stop_fill_price(stop, open_, self._slip_f))
        return _to_decimal(stop_fill_price(stop, open_, self._slip_f))

    def _work_trailing(self, order: Order, bar: Bar) -> _Worked:
        first = order.price is None
        anchor = bar.open if order.price is None else order.price
        if first:
            problem = self._minimum_problem(order.symbol, order.remaining, bar.open)
            if problem:
                return [self._reject(order, problem, bar)], []
        level = _tighter(order.side, order.stop_price, self._trail_level(order, anchor, None))
        if level is not None and stop_touched(
            _side(order.side), float(level), float(bar.low), float(bar.high)
        ):
            price = self._stop_price(order.side, float(level), float(bar.open))
            filled, fill = self._fill(
                replace(order, price=anchor, stop_price=level),
                bar,
                order.remaining,
                price,
                f"{order.id}-f1",
            )
            return [filled], [fill]
        # the bar is complete: its extreme may now move the anchor, its ATR the level
        anchor = max(anchor, bar.high) if order.side is Side.SELL else min(anchor, bar.low)
        level = _tighter(order.side, level, self._trail_level(order, anchor, bar.atr))
        if (anchor, level) == (order.price, order.stop_price):
            return [], []
        return [replace(order, price=anchor, stop_price=level, updated_ms=bar.timestamp_ms)], []

    @staticmethod
    def _trail_level(order: Order, anchor: Decimal, atr: Decimal | None) -> Decimal | None:
        """The level `anchor` implies (None for an ATR trail without an ATR)."""
        sign = -1 if order.side is Side.SELL else 1
        if order.trail_pct is not None:
            level = anchor * (1 + sign * order.trail_pct / 100)
        elif order.trail_atr is not None and atr is not None:
            level = anchor + sign * order.trail_atr * atr
        else:
            return None
        return level.quantize(_QUANTUM, ROUND_HALF_EVEN)

    def _work_twap(self, order: Order, bar: Bar) -> _Worked:
        slices, duration = order.slices or 1, order.duration_ms or 0
        size = self._twap_slice(order)
        if size <= 0:  # accepted under other market rules
            return [self._reject(order, self._minimum_problem(order.symbol, size, None), bar)], []
        done = int(order.filled / size)  # every released slice but the last is `size`
        due = [
            k
            for k in range(done, slices)
            if order.created_ms + k * duration // slices <= bar.timestamp_ms
        ]
        if not due:
            return [], []
        price = _to_decimal(market_fill_price(_side(order.side), float(bar.open), self._slip_f))
        if done == 0:
            problem = self._minimum_problem(order.symbol, size, price)
            if problem:
                return [self._reject(order, problem, bar)], []
        parent, children, fills = order, list[Order](), list[Fill]()
        for k in due:
            amount = size if k < slices - 1 else parent.remaining
            child = Order(
                id=f"{order.id}-{k}",
                symbol=order.symbol,
                side=order.side,
                type=OrderType.MARKET,
                amount=amount,
                status=OrderStatus.OPEN,
                created_ms=bar.timestamp_ms,
                updated_ms=bar.timestamp_ms,
                parent_id=order.id,
                exchange=order.exchange,
                reason=order.reason,
            )
            child, fill = self._fill(child, bar, amount, price, f"{child.id}-f1")
            parent = order_after_fill(parent, fill)
            children.append(child)
            fills.append(fill)
        return [*children, parent], fills

    # -- fills ----------------------------------------------------------------------------------
    def _quote(self, symbol: str) -> str:
        parts = symbol.split("/")
        return parts[1].split(":")[0] if len(parts) > 1 else self.quote

    def _fill(
        self, order: Order, bar: Bar, amount: Decimal, price: Decimal, fill_id: str
    ) -> tuple[Order, Fill]:
        fee = _to_decimal(fee_for(float(amount * price), self._fee_f))
        fill = Fill(
            id=fill_id,
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            amount=amount,
            price=price,
            fee=fee,
            fee_currency=self._quote(order.symbol),
            timestamp_ms=bar.timestamp_ms,
            exchange=order.exchange,
        )
        return order_after_fill(order, fill), fill

    @staticmethod
    def _reject(order: Order, reason: str, bar: Bar) -> Order:
        return replace(
            order, status=OrderStatus.REJECTED, reject_reason=reason, updated_ms=bar.timestamp_ms
        )


def order_after_fill(order: Order, fill: Fill) -> Order:
    """`order` after `fill`: filled amount, average price (to 1e-8), fees and status."""
    filled = order.filled + fill.amount
    average = fill.price
    if order.average_price is not None and order.filled > 0:
        total = order.average_price * order.filled + fill.price * fill.amount
        average = (total / filled).quantize(_QUANTUM, ROUND_HALF_EVEN)
    done = filled >= order.amount
    return replace(
        order,
        filled=filled,
        average_price=average,
        fee=order.fee + fill.fee,
        status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
        updated_ms=fill.timestamp_ms,
    )
