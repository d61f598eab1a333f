"""Domain objects to table rows and back; the only place that knows both shapes.

Enums are stored by value (psycopg would otherwise write a Python enum by its *name*) after a
round through the enum, so a misspelt plain string fails here and not in a later read; lists
and dicts as JSON text. A field added to a domain type without a column fails the round-trip
tests, which compare every field.
"""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

from botcore.execution.orders import Fill, Order, OrderStatus, OrderType, Side
from botcore.execution.positions import ClosedTrade, Position
from botcore.persistence.records import (
    AlertCondition,
    AlertRecord,
    AuditRecord,
    SignalRecord,
    StrategyAssignment,
    UserRecord,
    UserRole,
)
from botcore.persistence.tables import (
    AlertRow,
    AuditRow,
    FillRow,
    OrderRow,
    PositionRow,
    SignalRow,
    StrategyAssignmentRow,
    TradeRow,
    UserRow,
)

__all__ = [
    "TRADE_FIELDS",
    "alert_of",
    "alert_row",
    "assignment_of",
    "assignment_row",
    "audit_of",
    "fill_of",
    "fill_row",
    "order_of",
    "order_row",
    "position_of",
    "position_row",
    "signal_of",
    "signal_row",
    "trade_row",
    "user_of",
    "user_row",
]


def _values(obj: Any, cls: type) -> dict[str, Any]:
    # The dataclass's fields read off a dataclass or a row alike.
    return {f.name: getattr(obj, f.name) for f in fields(cls)}


def order_row(order: Order) -> OrderRow:
    values = _values(order, Order)
    values.update(
        side=Side(order.side).value,
        type=OrderType(order.type).value,
        status=OrderStatus(order.status).value,
    )
    return OrderRow(**values)


def order_of(row: OrderRow) -> Order:
    values = _values(row, Order)
    values.update(side=Side(row.side), type=OrderType(row.type), status=OrderStatus(row.status))
    return Order(**values)


def fill_row(fill: Fill) -> FillRow:
    return FillRow(**(_values(fill, Fill) | {"side": Side(fill.side).value}))


def fill_of(row: FillRow) -> Fill:
    return Fill(**(_values(row, Fill) | {"side": Side(row.side)}))


def position_row(position: Position) -> PositionRow:
    ids = json.dumps(list(position.protective_order_ids))
    return PositionRow(**(_values(position, Position) | {"protective_order_ids": ids}))


def position_of(row: PositionRow) -> Position:
    ids = tuple(json.loads(row.protective_order_ids))
    return Position(**(_values(row, Position) | {"protective_order_ids": ids}))


TRADE_FIELDS = tuple(f.name for f in fields(ClosedTrade))
"""A closed trade's fields in the order its dataclass takes them."""


def trade_row(trade: ClosedTrade) -> TradeRow:
    return TradeRow(**_values(trade, ClosedTrade))


def signal_row(record: SignalRecord) -> SignalRow:
    return SignalRow(**_values(record, SignalRecord))


def signal_of(row: SignalRow) -> SignalRecord:
    return SignalRecord(**_values(row, SignalRecord))


def audit_of(row: AuditRow) -> AuditRecord:
    return AuditRecord(**_values(row, AuditRecord))


def assignment_row(assignment: StrategyAssignment) -> StrategyAssignmentRow:
    # sort_keys: the same params always make the same text.
    params = json.dumps(dict(assignment.params), sort_keys=True)
    return StrategyAssignmentRow(**(_values(assignment, StrategyAssignment) | {"params": params}))


def assignment_of(row: StrategyAssignmentRow) -> StrategyAssignment:
    params = json.loads(row.params)
    return StrategyAssignment(**(_values(row, StrategyAssignment) | {"params": params}))


def alert_row(alert: AlertRecord) -> AlertRow:
    return AlertRow(
        **(_values(alert, AlertRecord) | {"condition": AlertCondition(alert.condition).value})
    )


def alert_of(row: AlertRow) -> AlertRecord:
    condition = AlertCondition(row.condition)
    return AlertRecord(**(_values(row, AlertRecord) | {"condition": condition}))


def user_row(user: UserRecord) -> UserRow:
    return UserRow(**(_values(user, UserRecord) | {"role": UserRole(user.role).value}))


def user_of(row: UserRow) -> UserRecord:
    return UserRecord(**(_values(row, UserRecord) | {"role": UserRole(row.role)}))
