"""Risk management: position sizing, pre-order checks and the circuit breakers.

`RiskManager.check` runs before every order; a refusal names its rule (`RiskRule`). The breaker
state is persisted by the engine (`BreakerState.to_json`) so a halt survives a restart.
"""

from botcore.risk.account import AccountState, HeldPosition, base_asset
from botcore.risk.breaker import BreakerState
from botcore.risk.manager import AMOUNT_QUANTUM, RiskManager
from botcore.risk.rules import BREAKER_RULES, RiskDecision, RiskError, RiskRule

__all__ = [
    "AMOUNT_QUANTUM",
    "BREAKER_RULES",
    "AccountState",
    "BreakerState",
    "HeldPosition",
    "RiskDecision",
    "RiskError",
    "RiskManager",
    "RiskRule",
    "base_asset",
]
