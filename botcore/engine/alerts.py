"""When a price alert fires: on the first bar, from its creation on, whose range reaches it."""

from __future__ import annotations

from decimal import Decimal

from botcore.persistence.records import AlertCondition, AlertRecord

__all__ = ["alert_fires"]


def alert_fires(alert: AlertRecord, bar_open_ms: int, high: Decimal, low: Decimal) -> bool:
    """True when the bar opening at `bar_open_ms` with this range fires the active `alert`
    (`above`: its high reaches the price; `below`: its low does)."""
    if not alert.active or bar_open_ms < alert.created_ms:
        return False
    if alert.condition is AlertCondition.ABOVE:
        return high >= alert.price
    return low <= alert.price
