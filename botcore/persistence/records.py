"""The store's own facts: signals, audit entries, strategy assignments, alerts and users.

Orders, fills, positions and trades have their domain types in `botcore.execution`; the records
here exist only because the store keeps them. All are frozen; money is `Decimal`, times are UTC
milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

__all__ = [
    "AlertCondition",
    "AlertRecord",
    "AuditRecord",
    "ParamValue",
    "SignalRecord",
    "StrategyAssignment",
    "UserRecord",
    "UserRole",
]

ParamValue = float | int | bool | str


@dataclass(frozen=True)
class SignalRecord:
    """What a strategy said about one bar, and what the engine did about it.

    Attributes:
        timestamp_ms: open time of the bar the signal was computed on (UTC ms).
        action: the signal, e.g. "enter" or "exit".
        price: the price the signal saw (the bar's close), in quote currency.
        outcome: what happened, e.g. "ordered" or "refused: max_open_positions"; empty if unknown.
    """

    timestamp_ms: int
    symbol: str
    timeframe: str
    strategy: str
    action: str
    price: Decimal
    reason: str = ""
    outcome: str = ""
    exchange: str = "paper"


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log: who did what, when. `id` grows with every entry."""

    id: int
    timestamp_ms: int
    actor: str
    action: str
    detail: str


@dataclass(frozen=True)
class StrategyAssignment:
    """The strategy trading one symbol on one exchange (one strategy per symbol).

    `params` are the strategy's parameter values; treat them as read-only (build a new
    assignment to change them).
    """

    symbol: str
    timeframe: str
    strategy: str
    assigned_ms: int
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    exchange: str = "paper"
    assigned_by: str = ""

    def __hash__(self) -> int:
        # The params dict is unhashable; the other fields identify an assignment well enough.
        return hash((self.exchange, self.symbol, self.timeframe, self.strategy, self.assigned_ms))


class AlertCondition(StrEnum):
    """When a price alert fires."""

    ABOVE = "above"
    BELOW = "below"


@dataclass(frozen=True)
class AlertRecord:
    """A price alert: fire once when `symbol` trades above or below `price`."""

    id: str
    symbol: str
    condition: AlertCondition
    price: Decimal
    created_ms: int
    triggered_ms: int | None = None
    created_by: str = ""
    exchange: str = "paper"

    @property
    def active(self) -> bool:
        """True until the alert has fired."""
        return self.triggered_ms is None


class UserRole(StrEnum):
    """What a chat user may do: owner > admin > member."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


@dataclass(frozen=True)
class UserRecord:
    """A chat user known to the bot, by platform ("telegram", "discord", ...) and its user id."""

    platform: str
    user_id: str
    role: UserRole
    created_ms: int
    name: str = ""
