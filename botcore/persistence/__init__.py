"""Persistence: the store that keeps orders, fills, balances and history across restarts.

`Store.open(url)` connects to SQLite (default `sqlite:///user_data/tradechat.db`) or PostgreSQL
and migrates the schema; `Store.transaction()` hands out a `UnitOfWork` whose writes commit
together. Table classes stay private to the package; the API speaks domain types.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    # The store pulls in SQLAlchemy, sqlmodel and Alembic (~0.8 s): commands that only need the
    # records or the export enums must not pay for it at start-up.
    if name == "Store":
        from botcore.persistence.store import Store

        return Store
    if name == "UnitOfWork":
        from botcore.persistence.unit_of_work import UnitOfWork

        return UnitOfWork
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
