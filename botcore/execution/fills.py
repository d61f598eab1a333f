"""The fill model: how an order's price, size and fee come about. One copy for every mode.

These are numba-compiled functions so the backtest kernel inlines them in its loop; they are just as
callable from Python, which is how the paper engine uses them. Conventions (documented in the
README, "Fill assumptions"):

- A market order fills at the reference price moved against the trader by `slippage` (a fraction):
  buys at `price * (1 + slippage)`, sells at `price * (1 - slippage)`.
- A protective sell stop triggers when the low touches the stop; it fills at the stop, or at the
  open when the bar opens below it (a gap), then slippage applies as for a market order.
- A take-profit is a sell limit: it fills at its limit, or at the open when the bar opens above it;
  a limit never fills worse than its price, so no slippage applies.
- The other sides mirror these: a buy stop triggers when the high touches it and fills at the
  stop, or at the open when the bar opens above it, then slippage; a buy limit fills at its limit,
  or at the open when the bar opens below it.
- The fee is `notional * fee_rate`, charged on every fill, entry and exit.
- Amounts are floored to the market's amount step; an order under the minimum amount or minimum
  notional is not placed.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = [
    "BUY",
    "SELL",
    "affordable_amount",
    "buy_stop_fill_price",
    "fee_for",
    "floor_to_step",
    "limit_fill_price",
    "limit_touched",
    "market_fill_price",
    "meets_minimums",
    "stop_fill_price",
    "stop_touched",
    "take_profit_fill_price",
]

BUY = 1
SELL = -1


@njit(cache=True, inline="always")
def market_fill_price(side: int, reference: float, slippage: float) -> float:
    """Price a market order fills at: `reference` moved against the trader by `slippage`."""
    if side == BUY:
        return reference * (1.0 + slippage)
    return reference * (1.0 - slippage)


@njit(cache=True, inline="always")
def stop_fill_price(stop: float, bar_open: float, slippage: float) -> float:
    """Fill price of a long's protective stop on a bar whose low reached `stop`."""
    base = bar_open if bar_open < stop else stop
    return base * (1.0 - slippage)


@njit(cache=True, inline="always")
def take_profit_fill_price(limit: float, bar_open: float) -> float:
    """Fill price of a long's take-profit limit on a bar whose high reached `limit`."""
    return bar_open if bar_open > limit else limit


@njit(cache=True, inline="always")
def fee_for(notional: float, fee_rate: float) -> float:
    """Fee charged on a fill of `notional` quote currency."""
    return notional * fee_rate


@njit(cache=True, inline="always")
def floor_to_step(amount: float, step: float) -> float:
    """`amount` floored to a multiple of `step` (no rounding when `step` is 0)."""
    if step <= 0.0:
        return amount
    # The epsilon keeps 0.3 / 0.1 from flooring to 2 steps.
    return math.floor(amount / step + 1e-9) * step


@njit(cache=True, inline="always")
def affordable_amount(quote: float, price: float, fee_rate: float, step: float) -> float:
    """Largest amount whose cost plus fee fits in `quote` at `price`, floored to `step`."""
    if quote <= 0.0 or price <= 0.0:
        return 0.0
    return floor_to_step(quote / (price * (1.0 + fee_rate)), step)


@njit(cache=True, inline="always")
def meets_minimums(amount: float, price: float, min_amount: float, min_notional: float) -> bool:
    """True when an order of `amount` at `price` satisfies the market's minimums."""
    return amount > 0.0 and amount >= min_amount and amount * price >= min_notional


@njit(cache=True, inline="always")
def buy_stop_fill_price(stop: float, bar_open: float, slippage: float) -> float:
    """Fill price of a buy stop on a bar whose high reached `stop` (the mirror of a sell stop)."""
    base = bar_open if bar_open > stop else stop
    return base * (1.0 + slippage)


@njit(cache=True, inline="always")
def limit_fill_price(side: int, limit: float, bar_open: float) -> float:
    """Fill price of a limit order on a bar that reached `limit`: the limit, or the open when the
    bar opened beyond it in the trader's favour (a buy below, a sell above). Never worse."""
    if side == BUY:
        return bar_open if bar_open < limit else limit
    return bar_open if bar_open > limit else limit


@njit(cache=True, inline="always")
def limit_touched(side: int, limit: float, low: float, high: float) -> bool:
    """True when a bar reached a limit: a buy's low at or below it, a sell's high at or above."""
    if side == BUY:
        return low <= limit
    return high >= limit


@njit(cache=True, inline="always")
def stop_touched(side: int, stop: float, low: float, high: float) -> bool:
    """True when a bar triggered a stop: a sell's low at or below it, a buy's high at or above."""
    if side == BUY:
        return high >= stop
    return low <= stop
