"""The database tables (private to the package: the public API speaks domain types).

Conventions, the same on SQLite and PostgreSQL:

- money and amounts are `DecimalText`: the Decimal's exact text, because SQLite's NUMERIC is a
  float underneath and would turn 0.000012345678901234 into a neighbour;
- times are BIGINT UTC milliseconds;
- enums are their string values; small lists and dicts are JSON text.

A change here needs a new migration in `migrations/versions/`; a test fails while the two differ.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

__all__ = [
    "AlertRow",
    "AuditRow",
    "BalanceRow",
    "CursorRow",
    "DecimalText",
    "EquityRow",
    "FillRow",
    "OrderRow",
    "PositionRow",
    "RiskSettingRow",
    "SignalRow",
    "StateRow",
    "StrategyAssignmentRow",
    "TradeRow",
    "UserRow",
    "metadata",
]

# Stable constraint names on every backend, so migrations can name what they alter.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DecimalText(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text; NaN, infinities and floats are refused."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        """The value's text; raises TypeError for a float and ValueError for NaN or infinity."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            raise TypeError(f"money must be a Decimal, not {type(value).__name__} ({value!r})")
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"money must be a finite Decimal, not {number}")
        return str(number)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The Decimal the text spells, digit for digit."""
        return None if value is None else Decimal(value)


class _Table(SQLModel, registry=registry(metadata=metadata)):
    """Base of the store's tables: its own metadata, apart from any other SQLModel user."""


def _key(sa_type: Any = String) -> Any:
    # Natural keys only: autoincrement off so PostgreSQL makes no sequence for a BIGINT key.
    return Field(primary_key=True, sa_type=sa_type, sa_column_kwargs={"autoincrement": False})


def _col(sa_type: Any = String, *, index: bool = False, nullable: bool = False) -> Any:
    return Field(sa_type=sa_type, index=index, nullable=nullable)


class OrderRow(_Table, table=True):
    """One row per order id; updated in place as the order fills or is canceled."""

    __tablename__ = "orders"
    __table_args__ = (Index("ix_orders_created", "created_ms", "id"),)

    id: str = _key()
    symbol: str = _col(index=True)
    side: str = _col()
    type: str = _col()
    amount: Decimal = _col(DecimalText)
    status: str = _col(index=True)
    created_ms: int = _col(BigInteger)
    updated_ms: int = _col(BigInteger)
    price: Decimal | None = _col(DecimalText, nullable=True)
    stop_price: Decimal | None = _col(DecimalText, nullable=True)
    trail_pct: Decimal | None = _col(DecimalText, nullable=True)
    trail_atr: Decimal | None = _col(DecimalText, nullable=True)
    visible_amount: Decimal | None = _col(DecimalText, nullable=True)
    duration_ms: int | None = _col(BigInteger, nullable=True)
    slices: int | None = _col(Integer, nullable=True)
    filled: Decimal = _col(DecimalText)
    average_price: Decimal | None = _col(DecimalText, nullable=True)
    fee: Decimal = _col(DecimalText)
    parent_id: str | None = _col(index=True, nullable=True)
    exchange: str = _col()
    exchange_order_id: str | None = _col(nullable=True)
    reason: str = _col(Text)
    reject_reason: str = _col(Text)


class FillRow(_Table, table=True):
    """One row per execution; never updated. The order must exist by the end of the transaction."""

    __tablename__ = "fills"
    __table_args__ = (Index("ix_fills_time", "timestamp_ms", "id"),)

    id: str = _key()
    # Checked at commit, not per statement, so a unit of work may save a fill before its order.
    order_id: str = Field(
        sa_column=Column(
            String,
            ForeignKey("orders.id", deferrable=True, initially="DEFERRED"),
            nullable=False,
            index=True,
        )
    )
    symbol: str = _col()
    side: str = _col()
    amount: Decimal = _col(DecimalText)
    price: Decimal = _col(DecimalText)
    fee: Decimal = _col(DecimalText)
    fee_currency: str = _col()
    timestamp_ms: int = _col(BigInteger)
    exchange: str = _col()


class BalanceRow(_Table, table=True):
    """The current total of one asset on one exchange (the paper wallet is exchange "paper")."""

    __tablename__ = "balances"

    exchange: str = _key()
    asset: str = _key()
    total: Decimal = _col(DecimalText)


class PositionRow(_Table, table=True):
    """An open position; deleted when it closes (the round trip becomes a `TradeRow`)."""

    __tablename__ = "positions"

    exchange: str = _key()
    symbol: str = _key()
    amount: Decimal = _col(DecimalText)
    entry_price: Decimal = _col(DecimalText)
    entry_ms: int = _col(BigInteger)
    entry_fee: Decimal = _col(DecimalText)
    strategy: str = _col()
    protective_order_ids: str = _col(Text)  # JSON list of order ids


class TradeRow(_Table, table=True):
    """A closed round trip."""

    __tablename__ = "trades"
    __table_args__ = (Index("ix_trades_exit", "exit_ms", "id"),)

    id: str = _key()
    symbol: str = _col(index=True)
    side: str = _col()
    amount: Decimal = _col(DecimalText)
    entry_ms: int = _col(BigInteger)
    exit_ms: int = _col(BigInteger)
    entry_price: Decimal = _col(DecimalText)
    exit_price: Decimal = _col(DecimalText)
    fee: Decimal = _col(DecimalText)
    pnl: Decimal = _col(DecimalText)
    pnl_pct: Decimal = _col(DecimalText)
    exit_reason: str = _col(Text)
    exchange: str = _col()
    strategy: str = _col()


class EquityRow(_Table, table=True):
    """Account equity (quote currency) at one moment."""

    __tablename__ = "equity_snapshots"

    timestamp_ms: int = _key(BigInteger)
    equity: Decimal = _col(DecimalText)


class SignalRow(_Table, table=True):
    """A strategy's signal on one bar; the key makes re-processing a bar overwrite, not repeat."""

    __tablename__ = "signals"
    __table_args__ = (Index("ix_signals_time", "timestamp_ms"),)

    exchange: str = _key()
    symbol: str = _key()
    timeframe: str = _key()
    strategy: str = _key()
    timestamp_ms: int = _key(BigInteger)
    action: str = _key()
    price: Decimal = _col(DecimalText)
    reason: str = _col(Text)
    outcome: str = _col(Text)


class AuditRow(_Table, table=True):
    """Who did what, when; appended, never changed."""

    __tablename__ = "audit_log"

    # The one surrogate key: SQLite's INTEGER PRIMARY KEY and PostgreSQL's SERIAL both count up.
    id: int | None = Field(default=None, primary_key=True)
    timestamp_ms: int = _col(BigInteger, index=True)
    actor: str = _col()
    action: str = _col()
    detail: str = _col(Text)


class StrategyAssignmentRow(_Table, table=True):
    """The strategy that trades a symbol on an exchange."""

    __tablename__ = "strategy_assignments"

    exchange: str = _key()
    symbol: str = _key()
    timeframe: str = _col()
    strategy: str = _col()
    params: str = _col(Text)  # JSON object
    assigned_ms: int = _col(BigInteger)
    assigned_by: str = _col()


class RiskSettingRow(_Table, table=True):
    """A risk rule's value as changed at run time (text; the risk module parses it)."""

    __tablename__ = "risk_settings"

    name: str = _key()
    value: str = _col(Text)


class CursorRow(_Table, table=True):
    """The last bar the engine finished for one stream, e.g. "replay|BTC/USDT|1h"."""

    __tablename__ = "cursors"

    key: str = _key()
    timestamp_ms: int = _col(BigInteger)


class StateRow(_Table, table=True):
    """Small engine state as JSON text, e.g. the risk breaker or the run id."""

    __tablename__ = "engine_state"

    key: str = _key()
    value: str = _col(Text)


class AlertRow(_Table, table=True):
    """A price alert."""

    __tablename__ = "alerts"

    id: str = _key()
    symbol: str = _col(index=True)
    condition: str = _col()
    price: Decimal = _col(DecimalText)
    created_ms: int = _col(BigInteger)
    triggered_ms: int | None = _col(BigInteger, nullable=True)
    created_by: str = _col()
    exchange: str = _col()


class UserRow(_Table, table=True):
    """A chat user and their role."""

    __tablename__ = "users"

    platform: str = _key()
    user_id: str = _key()
    role: str = _col()
    name: str = _col()
    created_ms: int = _col(BigInteger)
