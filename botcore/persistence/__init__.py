"""Persistence: the store that keeps orders, fills, balances and history across restarts.

`Store.open(url)` connects to SQLite (default `sqlite:///user_data/tradechat.db`) or PostgreSQL
and migrates the schema; `Store.transaction()` hands out a `UnitOfWork` whose writes commit
together. Table classes stay private to the package; the API speaks domain types.
"""

from __future__ import annotations

from botcore.persistence.errors import DuplicateFillError, StoreError
from botcore.persistence.records import (
    AlertCondition,
    AlertRecord,
    AuditRecord,
    ParamValue,
    SignalRecord,
    StrategyAssignment,
    UserRecord,
    UserRole,
)
from botcore.persistence.store import Store
from botcore.persistence.unit_of_work import UnitOfWork

__all__ = [
    "AlertCondition",
    "AlertRecord",
    "AuditRecord",
    "DuplicateFillError",
    "ParamValue",
    "SignalRecord",
    "Store",
    "StoreError",
    "StrategyAssignment",
    "UnitOfWork",
    "UserRecord",
    "UserRole",
]
