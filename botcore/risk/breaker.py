"""The circuit breakers: max daily loss and max drawdown halt new entries; exits keep working.

A `BreakerState` is what the engine persists (as `to_json` text) after every update, so a halt
survives a restart. The daily breaker clears itself at the next 00:00 UTC; the drawdown breaker
stays until `reset_drawdown`, after which drawdown is measured from the equity at the reset (the
old peak would re-trip it at once) until equity climbs back above the engine's own peak.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from botcore.risk.account import AccountState
from botcore.risk.rules import BREAKER_RULES, RiskError, RiskRule
from botcore.risk.wording import money_text, pct_pair, utc_text
from botcore.timeframes import MS_PER_DAY

__all__ = [
    "BreakerState",
    "drawdown_peak",
    "loss_pct",
    "next_breaker",
    "next_day_ms",
    "reset_drawdown",
]

_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class BreakerState:
    """Whether new entries are halted, by which breaker, since when, and why.

    Attributes:
        halted: True while new entries are refused.
        rule: `max_daily_loss_pct` or `max_drawdown_pct` while halted, else None.
        message: The latest trip, clearance or reset, worded for a notification.
        since_ms: When the current halt began (None when not halted).
        drawdown_peak: After a drawdown reset, the highest equity since the reset; drawdown is
            measured from it until equity passes `AccountState.peak_equity` (then None).
    """

    halted: bool = False
    rule: RiskRule | None = None
    message: str = ""
    since_ms: int | None = None
    drawdown_peak: Decimal | None = None

    def __post_init__(self) -> None:
        if self.halted and (self.rule not in BREAKER_RULES or self.since_ms is None):
            raise RiskError(
                "a halted breaker needs a rule (max_daily_loss_pct or max_drawdown_pct) "
                "and the time it tripped"
            )
        if not self.halted and (self.rule is not None or self.since_ms is not None):
            raise RiskError("a breaker that is not halted has no rule and no start time")

    def to_json(self) -> str:
        """Exact text form for the store (Decimal as a string, keys sorted)."""
        data = {
            "halted": self.halted,
            "rule": None if self.rule is None else str(self.rule),
            "message": self.message,
            "since_ms": self.since_ms,
            "drawdown_peak": None if self.drawdown_peak is None else str(self.drawdown_peak),
        }
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> BreakerState:
        """The state saved by `to_json`; a missing or empty text is a fresh, clear breaker.

        Raises:
            RiskError: the text is not a breaker state written by `to_json`.
        """
        if not text:
            return cls()
        try:
            data: Any = json.loads(text)
            rule = data["rule"]
            peak = data["drawdown_peak"]
            return cls(
                halted=_typed(data["halted"], bool),
                rule=None if rule is None else RiskRule(rule),
                message=_typed(data["message"], str),
                since_ms=None if data["since_ms"] is None else _typed(data["since_ms"], int),
                drawdown_peak=None if peak is None else Decimal(_typed(peak, str)),
            )
        except (ValueError, KeyError, TypeError, InvalidOperation, RiskError) as exc:
            raise RiskError(f"the saved circuit-breaker state does not parse ({exc})") from None


def _typed(value: Any, kind: type) -> Any:
    # bool is an int in Python; a stored `true` must not pass as a timestamp.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{value!r} is not a {kind.__name__}")
    return value


def _day(ms: int) -> int:
    return ms // MS_PER_DAY


def drawdown_peak(peak_equity: Decimal, breaker: BreakerState) -> Decimal:
    """The equity drawdown is measured from: the post-reset peak, else the engine's peak."""
    return peak_equity if breaker.drawdown_peak is None else breaker.drawdown_peak


def _tracked_peak(state: AccountState, breaker: BreakerState) -> Decimal | None:
    if breaker.drawdown_peak is None:
        return None
    peak = max(breaker.drawdown_peak, state.equity)
    # Once equity passes the engine's all-time peak the two agree; hand back to the engine's.
    return None if peak >= state.peak_equity else peak


def next_day_ms(ms: int) -> int:
    """00:00 UTC of the day after `ms`."""
    return (_day(ms) + 1) * MS_PER_DAY


def loss_pct(reference: Decimal, equity: Decimal) -> Decimal:
    """How far `equity` is below `reference`, in percent of `reference` (0 for no reference)."""
    if reference <= 0:
        return Decimal(0)
    return (reference - equity) / reference * _HUNDRED


def _trip_daily(state: AccountState, limit_pct: Decimal, peak: Decimal | None) -> BreakerState:
    loss, limit = pct_pair(loss_pct(state.day_start_equity, state.equity), limit_pct)
    resume = utc_text(next_day_ms(state.now_ms))
    message = (
        f"New entries halted by max_daily_loss_pct at {utc_text(state.now_ms)}: equity "
        f"{money_text(state.equity)} is {loss}% below {money_text(state.day_start_equity)} at "
        f"the start of the UTC day, the limit is {limit}%. Entries resume at {resume}; exits "
        "still work."
    )
    return BreakerState(True, RiskRule.MAX_DAILY_LOSS_PCT, message, state.now_ms, peak)


def _trip_drawdown(
    state: AccountState, limit_pct: Decimal, reference: Decimal, tracked: Decimal | None
) -> BreakerState:
    loss, limit = pct_pair(loss_pct(reference, state.equity), limit_pct)
    message = (
        f"New entries halted by max_drawdown_pct at {utc_text(state.now_ms)}: equity "
        f"{money_text(state.equity)} is {loss}% below its peak of {money_text(reference)}, the "
        f"limit is {limit}%. Entries stay halted until the breaker is reset; exits still work."
    )
    return BreakerState(True, RiskRule.MAX_DRAWDOWN_PCT, message, state.now_ms, tracked)


def next_breaker(
    state: AccountState,
    breaker: BreakerState,
    max_daily_loss_pct: Decimal,
    max_drawdown_pct: Decimal,
) -> BreakerState:
    """The breaker after marking `state`: trips, clears at a new UTC day, or stays.

    A drawdown halt is sticky and wins over a daily one (a daily halt is escalated when the
    drawdown limit is crossed too). Trips happen when equity reaches the limit exactly.

    Returns:
        `breaker` itself when nothing changed, else a new state to persist; compare `halted`
        with the previous state to know when to notify.
    """
    if breaker.halted and breaker.rule is RiskRule.MAX_DRAWDOWN_PCT:
        return breaker
    tracked = _tracked_peak(state, breaker)
    current = breaker
    if (
        current.halted
        and current.since_ms is not None
        and _day(state.now_ms) > _day(current.since_ms)
    ):
        current = BreakerState(
            message=(
                f"New entries resumed at {utc_text(state.now_ms)}: the max_daily_loss_pct halt "
                f"of {utc_text(current.since_ms)} ended with the UTC day."
            ),
            drawdown_peak=tracked,
        )
    reference = state.peak_equity if tracked is None else tracked
    if state.equity <= reference * (1 - max_drawdown_pct / _HUNDRED):
        return _trip_drawdown(state, max_drawdown_pct, reference, tracked)
    if not current.halted and state.equity <= state.day_start_equity * (
        1 - max_daily_loss_pct / _HUNDRED
    ):
        return _trip_daily(state, max_daily_loss_pct, tracked)
    if current.drawdown_peak != tracked:
        current = replace(current, drawdown_peak=tracked)
    return current


def reset_drawdown(
    state: AccountState,
    breaker: BreakerState,
    max_daily_loss_pct: Decimal,
    max_drawdown_pct: Decimal,
) -> BreakerState:
    """Clear a drawdown halt; drawdown is then measured from today's equity.

    Any other breaker state is returned unchanged (a daily halt ends by itself at 00:00 UTC).
    The cleared state is marked at once, so a daily loss beyond its limit halts again.
    """
    if not (breaker.halted and breaker.rule is RiskRule.MAX_DRAWDOWN_PCT):
        return breaker
    cleared = BreakerState(
        message=(
            f"New entries resumed at {utc_text(state.now_ms)}: the max_drawdown_pct halt was "
            f"reset; drawdown is now measured from equity {money_text(state.equity)}."
        ),
        drawdown_peak=state.equity if state.equity < state.peak_equity else None,
    )
    return next_breaker(state, cleared, max_daily_loss_pct, max_drawdown_pct)
