"""The names of the risk rules, the decision a check returns and the risk layer's error.

Rule names are a contract: replies, notifications and stored breaker states quote them, so a
`RiskRule` compares equal to its plain text (`RiskRule.MAX_OPEN_POSITIONS == "max_open_positions"`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from botcore.errors import BotcoreError

__all__ = ["BREAKER_RULES", "RiskDecision", "RiskError", "RiskRule"]


class RiskRule(StrEnum):
    """Every rule that can refuse an order; the values match the `[risk]` config keys."""

    MAX_POSITION_PCT = "max_position_pct"
    MAX_OPEN_POSITIONS = "max_open_positions"
    MAX_EXPOSURE_PER_ASSET_PCT = "max_exposure_per_asset_pct"
    MAX_DAILY_LOSS_PCT = "max_daily_loss_pct"
    MAX_DRAWDOWN_PCT = "max_drawdown_pct"
    COOLDOWN_AFTER_STOP_LOSSES = "cooldown_after_stop_losses"
    RISK_PER_TRADE_PCT = "risk_per_trade_pct"
    INSUFFICIENT_CASH = "insufficient_cash"


# The circuit breakers: rules that halt every new entry, not just one order.
BREAKER_RULES = frozenset({RiskRule.MAX_DAILY_LOSS_PCT, RiskRule.MAX_DRAWDOWN_PCT})


class RiskError(BotcoreError):
    """A risk check was asked something it cannot answer (an unsized buy, a non-positive price,
    a stored breaker state that does not parse); the message says what was wrong."""


@dataclass(frozen=True)
class RiskDecision:
    """The answer to one order request.

    Attributes:
        allowed: True when the order may be placed.
        rule: The rule that refused it (None when allowed).
        message: One sentence naming the rule, its limit and the value that broke it, e.g.
            "refused by max_open_positions: 3 positions open, the limit is 3".
        amount: The amount (base currency) that may be placed; 0 when refused.
    """

    allowed: bool
    rule: RiskRule | None
    message: str
    amount: Decimal
