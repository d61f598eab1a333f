"""The risk manager: sizes new positions and checks every order before it is placed.

Pure and deterministic: it reads an `AccountState` and a `BreakerState` and returns decisions;
the engine persists what it returns. Buys open or increase a long and are checked against every
rule, in this order (the first refusal is reported):

1. the circuit breakers, `max_daily_loss_pct` and `max_drawdown_pct` (re-evaluated on `state`,
   so a breaker the engine has not updated yet still holds);
2. `cooldown_after_stop_losses`: after that many stop-losses in a row, no entry until
   `cooldown_minutes` after the last one;
3. `max_open_positions`: a buy in a symbol not yet held needs a free slot;
4. `max_position_pct`: the symbol's position after the buy, as a percent of equity;
5. `max_exposure_per_asset_pct`: every position with the same base asset (BTC/USDT and
   BTC/USDC are both BTC) after the buy, as a percent of equity;
6. `risk_per_trade_pct`: the loss if the configured `stop_loss_pct` is hit, as a percent of
   equity (skipped when no stop is configured);
7. `insufficient_cash`: the buy's cost at `price` must fit in cash (fees and slippage are the
   fill model's business).

A limit may be reached exactly; only going beyond it is refused. Sells are never refused: risk
never blocks getting out. Existing positions count at their marks, the order at `price`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_FLOOR, Context, Decimal, localcontext

from botcore.config import RiskConfig
from botcore.execution.orders import OrderRequest, Side
from botcore.risk.account import AccountState, base_asset
from botcore.risk.breaker import (
    BreakerState,
    drawdown_peak,
    loss_pct,
    next_breaker,
    next_day_ms,
    reset_drawdown,
)
from botcore.risk.rules import RiskDecision, RiskError, RiskRule
from botcore.risk.wording import amount_text, money_text, pct_pair, pct_text, utc_text

__all__ = ["AMOUNT_QUANTUM", "RiskManager"]

# Sizes are floored to this step so a sized order never exceeds a limit by a rounding error;
# it is far finer than any exchange's amount step, which the fill model applies afterwards.
AMOUNT_QUANTUM = Decimal("1e-12")
_HUNDRED = Decimal(100)
_ZERO = Decimal(0)
# Enough digits that amount x price x percent is exact, floored so budgets never round up.
_CONTEXT = Context(prec=60, rounding=ROUND_FLOOR)

# A rule's check: (request, amount, price, state) -> why it refuses, or None.
_Check = Callable[[OrderRequest, Decimal, Decimal, AccountState], str | None]


def _dec(value: float) -> Decimal:
    # Through str: Decimal(0.1) would carry the float's binary noise into every limit.
    return Decimal(str(value))


def _within(value: Decimal, equity: Decimal, limit_pct: Decimal) -> bool:
    # Cross-multiplied so the comparison is exact; nothing fits in a non-positive equity.
    return value * _HUNDRED <= equity * limit_pct


def _versus(reference: Decimal, equity: Decimal) -> str:
    # After a halt equity may recover; "-2% below" would read as nonsense.
    change = loss_pct(reference, equity)
    if change == 0:
        return "level with"
    return f"{pct_text(abs(change))}% {'below' if change > 0 else 'above'}"


def _share(value: Decimal, equity: Decimal) -> Decimal:
    return value / equity * _HUNDRED if equity > 0 else Decimal("Infinity")


class RiskManager:
    """Applies one `[risk]` config section: sizing, order checks and the circuit breakers.

    Args:
        config: The `[risk]` section; percents are of current equity.
    """

    def __init__(self, config: RiskConfig) -> None:
        self.config = config
        self._risk_per_trade = _dec(config.risk_per_trade_pct)
        self._max_position = _dec(config.max_position_pct)
        self._max_exposure = _dec(config.max_exposure_per_asset_pct)
        self._max_daily_loss = _dec(config.max_daily_loss_pct)
        self._max_drawdown = _dec(config.max_drawdown_pct)
        stop = config.stop_loss_pct
        self._stop_loss = None if stop is None else _dec(stop)
        self._checks: tuple[tuple[RiskRule, _Check], ...] = (
            (RiskRule.COOLDOWN_AFTER_STOP_LOSSES, self._cooldown),
            (RiskRule.MAX_OPEN_POSITIONS, self._open_positions),
            (RiskRule.MAX_POSITION_PCT, self._position_size),
            (RiskRule.MAX_EXPOSURE_PER_ASSET_PCT, self._asset_exposure),
            (RiskRule.RISK_PER_TRADE_PCT, self._trade_risk),
            (RiskRule.INSUFFICIENT_CASH, self._cash),
        )

    # ----------------------------------------------------------------------------- sizing

    def size_entry(
        self,
        symbol: str,
        price: Decimal,
        stake_pct: Decimal,
        state: AccountState,
        stop_loss_pct: Decimal | None = None,
    ) -> Decimal:
        """Amount (base currency) for a new or larger position in `symbol` at `price`.

        Starts from `stake_pct` of equity; when a stop is known the loss to it is cut to
        `risk_per_trade_pct` of equity; then capped by what `max_position_pct`,
        `max_exposure_per_asset_pct` and cash leave. Floored to `AMOUNT_QUANTUM`, so `check`
        allows the result unless a breaker, the cooldown or `max_open_positions` refuses, or
        `stop_loss_pct` was tighter than the configured stop (`check` measures risk at that).

        Args:
            symbol: Market to buy.
            price: Expected entry price (quote per base unit), positive.
            stake_pct: Percent of equity to stake (`[trading] stake_pct`), positive.
            state: The account now.
            stop_loss_pct: Distance of this entry's stop in percent; None uses the configured
                `stop_loss_pct` (and no stop at all when that is unset too).

        Returns:
            The amount, 0 when nothing fits.

        Raises:
            RiskError: `price` or `stake_pct` is not positive.
        """
        if price <= 0 or stake_pct <= 0:
            raise RiskError(f"cannot size {symbol}: price and stake_pct must be positive")
        stop = self._stop_loss if stop_loss_pct is None else stop_loss_pct
        if stop is not None and stop <= 0:
            raise RiskError(f"cannot size {symbol}: stop_loss_pct must be positive")
        with localcontext(_CONTEXT):
            equity = max(state.equity, _ZERO)
            budgets = [
                equity * stake_pct / _HUNDRED,
                equity * self._max_position / _HUNDRED - self._symbol_value(symbol, state),
                equity * self._max_exposure / _HUNDRED - self._asset_value(symbol, state),
                state.cash,
            ]
            if stop is not None:
                # loss = budget * stop / 100 <= equity * risk / 100
                budgets.append(equity * self._risk_per_trade / stop)
            amount = (min(budgets) / price).quantize(AMOUNT_QUANTUM, rounding=ROUND_FLOOR)
        return max(amount, _ZERO)

    # ----------------------------------------------------------------------------- checks

    def check(
        self, request: OrderRequest, price: Decimal, state: AccountState, breaker: BreakerState
    ) -> RiskDecision:
        """Allow or refuse `request` valued at `price`, naming the refusing rule.

        Args:
            request: The order; a buy needs `amount` or `quote_amount`, a sell without either
                closes the whole position.
            price: Price the order is valued at (its limit, or the latest price), positive.
            state: The account now.
            breaker: The persisted breaker state.

        Returns:
            The decision; `amount` is what may be placed (the request's amount, a quote amount
            converted at `price`, or for a bare sell the amount held).

        Raises:
            RiskError: `price` is not positive, or a buy has no positive size.
        """
        if price <= 0:
            raise RiskError(f"cannot check the {request.symbol} order: the price must be positive")
        with localcontext(_CONTEXT):
            amount = self._amount_of(request, price, state)
            if request.side is Side.SELL:
                return RiskDecision(
                    True,
                    None,
                    f"allowed: selling {amount_text(amount)} {request.symbol} only reduces risk",
                    amount,
                )
            if amount <= 0:
                raise RiskError(
                    f"cannot check the {request.symbol} buy: it needs a positive amount or "
                    "quote amount (size it with size_entry)"
                )
            halt = self._halt(state, breaker)
            if halt is not None:
                return halt
            for rule, rule_check in self._checks:
                reason = rule_check(request, amount, price, state)
                if reason is not None:
                    return RiskDecision(False, rule, f"refused by {rule}: {reason}", _ZERO)
        return RiskDecision(
            True,
            None,
            f"allowed: buying {amount_text(amount)} {request.symbol} passes every risk rule",
            amount,
        )

    def _amount_of(self, request: OrderRequest, price: Decimal, state: AccountState) -> Decimal:
        if request.amount is not None:
            return request.amount
        if request.quote_amount is not None:
            return (request.quote_amount / price).quantize(AMOUNT_QUANTUM, rounding=ROUND_FLOOR)
        if request.side is Side.SELL:
            return state.held(request.symbol)
        return _ZERO

    def _halt(self, state: AccountState, breaker: BreakerState) -> RiskDecision | None:
        current = self.update_breaker(state, breaker)
        if not current.halted or current.rule is None or current.since_ms is None:
            return None
        since = utc_text(current.since_ms)
        if current.rule is RiskRule.MAX_DAILY_LOSS_PCT:
            reason = (
                f"new entries are halted since {since}, when the day's loss reached the "
                f"{pct_text(self._max_daily_loss)}% limit; equity is now "
                f"{_versus(state.day_start_equity, state.equity)} the start of the UTC day; "
                f"entries resume at {utc_text(next_day_ms(current.since_ms))}"
            )
        else:
            peak = drawdown_peak(state.peak_equity, current)
            reason = (
                f"new entries are halted since {since}, when the drawdown reached the "
                f"{pct_text(self._max_drawdown)}% limit; equity is now "
                f"{_versus(peak, state.equity)} its peak of {money_text(peak)}; entries stay "
                "halted until the breaker is reset"
            )
        return RiskDecision(False, current.rule, f"refused by {current.rule}: {reason}", _ZERO)

    def _cooldown(
        self, request: OrderRequest, amount: Decimal, price: Decimal, state: AccountState
    ) -> str | None:
        streak, last = state.consecutive_stop_losses, state.last_stop_loss_ms
        limit = self.config.cooldown_after_stop_losses
        if streak < limit or last is None:
            return None
        until = last + self.config.cooldown_minutes * 60_000
        if state.now_ms >= until:
            return None
        return (
            f"{streak} stop-losses in a row, the limit is {limit}; new entries resume at "
            f"{utc_text(until)} ({self.config.cooldown_minutes} minutes after the last one)"
        )

    def _open_positions(
        self, request: OrderRequest, amount: Decimal, price: Decimal, state: AccountState
    ) -> str | None:
        if state.held(request.symbol) > 0:
            return None
        count = len({p.symbol for p in state.open_positions()})
        limit = self.config.max_open_positions
        if count < limit:
            return None
        return f"{count} positions open, the limit is {limit}"

    def _position_size(
        self, request: OrderRequest, amount: Decimal, price: Decimal, state: AccountState
    ) -> str | None:
        value = self._symbol_value(request.symbol, state) + amount * price
        if _within(value, state.equity, self._max_position):
            return None
        shown, limit = pct_pair(_share(value, state.equity), self._max_position)
        return (
            f"{request.symbol} would be {shown}% of equity ({money_text(value)} of "
            f"{money_text(state.equity)}), the limit is {limit}%"
        )

    def _asset_exposure(
        self, request: OrderRequest, amount: Decimal, price: Decimal, state: AccountState
    ) -> str | None:
        value = self._asset_value(request.symbol, state) + amount * price
        if _within(value, state.equity, self._max_exposure):
            return None
        asset = base_asset(request.symbol)
        markets = sorted({p.symbol for p in state.asset_positions(asset)} | {request.symbol})
        shown, limit = pct_pair(_share(value, state.equity), self._max_exposure)
        return (
            f"{asset} exposure would be {shown}% of equity ({money_text(value)} across "
            f"{', '.join(markets)}), the limit is {limit}%"
        )

    def _trade_risk(
        self, request: OrderRequest, amount: Decimal, price: Decimal, state: AccountState
    ) -> str | None:
        if self._stop_loss is None:
            return None
        loss = amount * price * self._stop_loss / _HUNDRED
        if _within(loss, state.equity, self._risk_per_trade):
            return None
        shown, limit = pct_pair(_share(loss, state.equity), self._risk_per_trade)
        return (
            f"the loss to the {pct_text(self._stop_loss)}% stop would be {money_text(loss)}, "
            f"{shown}% of equity, the limit is {limit}%"
        )

    def _cash(
        self, request: OrderRequest, amount: Decimal, price: Decimal, state: AccountState
    ) -> str | None:
        cost = amount * price
        if cost <= state.cash:
            return None
        return f"the order costs {money_text(cost)}, cash is {money_text(state.cash)}"

    @staticmethod
    def _symbol_value(symbol: str, state: AccountState) -> Decimal:
        return sum((p.value for p in state.open_positions() if p.symbol == symbol), _ZERO)

    @staticmethod
    def _asset_value(symbol: str, state: AccountState) -> Decimal:
        return sum((p.value for p in state.asset_positions(base_asset(symbol))), _ZERO)

    # ----------------------------------------------------------------------------- breakers

    def update_breaker(self, state: AccountState, breaker: BreakerState) -> BreakerState:
        """Mark `state` against `max_daily_loss_pct` and `max_drawdown_pct`.

        The daily breaker trips when equity <= day_start_equity x (1 - max_daily_loss_pct/100)
        and clears at the next 00:00 UTC; the drawdown breaker trips when equity <= peak x
        (1 - max_drawdown_pct/100) and stays until `reset_drawdown`. Call it on every mark and
        persist the result; notify when `halted` changes (the message is worded for that).

        Returns:
            `breaker` itself when nothing changed, else the new state.
        """
        return next_breaker(state, breaker, self._max_daily_loss, self._max_drawdown)

    def reset_drawdown(self, state: AccountState, breaker: BreakerState) -> BreakerState:
        """Clear a `max_drawdown_pct` halt (an explicit user action); drawdown is then measured
        from the current equity. Other states come back unchanged; a daily loss past its limit
        halts again at once."""
        return reset_drawdown(state, breaker, self._max_daily_loss, self._max_drawdown)
