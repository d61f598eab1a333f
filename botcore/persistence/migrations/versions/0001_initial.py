"""The initial schema: every table of the store, with its indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Written out in full rather than imported from `tables.py`: a migration is a snapshot of the
schema at its revision and must not change when the tables change later. Money columns are
VARCHAR holding a Decimal's exact text (`tables.DecimalText`); times are BIGINT UTC ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _key(name: str, type_: sa.types.TypeEngine[Any] | None = None) -> sa.Column[Any]:
    column_type = type_ if type_ is not None else sa.String()
    return sa.Column(name, column_type, autoincrement=False, nullable=False)


def _text(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _long(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _money(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(), nullable=nullable)


def _prose(name: str) -> sa.Column[Any]:
    return sa.Column(name, sa.Text(), nullable=False)


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*columns, name=f"pk_{table}")


def upgrade() -> None:
    """Create every table and index."""
    op.create_table(
        "orders",
        _key("id"),
        _text("symbol"),
        _text("side"),
        _text("type"),
        _money("amount"),
        _text("status"),
        _long("created_ms"),
        _long("updated_ms"),
        _money("price", nullable=True),
        _money("stop_price", nullable=True),
        _money("trail_pct", nullable=True),
        _money("trail_atr", nullable=True),
        _money("visible_amount", nullable=True),
        _long("duration_ms", nullable=True),
        sa.Column("slices", sa.Integer(), nullable=True),
        _money("filled"),
        _money("average_price", nullable=True),
        _money("fee"),
        _text("parent_id", nullable=True),
        _text("exchange"),
        _text("exchange_order_id", nullable=True),
        _prose("reason"),
        _prose("reject_reason"),
        _pk("orders", "id"),
    )
    op.create_index("ix_orders_created", "orders", ["created_ms", "id"])
    op.create_index("ix_orders_parent_id", "orders", ["parent_id"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_symbol", "orders", ["symbol"])

    op.create_table(
        "fills",
        _key("id"),
        _text("order_id"),
        _text("symbol"),
        _text("side"),
        _money("amount"),
        _money("price"),
        _money("fee"),
        _text("fee_currency"),
        _long("timestamp_ms"),
        _text("exchange"),
        _pk("fills", "id"),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["orders.id"],
            name="fk_fills_order_id_orders",
            deferrable=True,
            initially="DEFERRED",
        ),
    )
    op.create_index("ix_fills_order_id", "fills", ["order_id"])
    op.create_index("ix_fills_time", "fills", ["timestamp_ms", "id"])

    op.create_table(
        "balances",
        _key("exchange"),
        _key("asset"),
        _money("total"),
        _pk("balances", "exchange", "asset"),
    )

    op.create_table(
        "positions",
        _key("exchange"),
        _key("symbol"),
        _money("amount"),
        _money("entry_price"),
        _long("entry_ms"),
        _money("entry_fee"),
        _text("strategy"),
        _prose("protective_order_ids"),
        _pk("positions", "exchange", "symbol"),
    )

    op.create_table(
        "trades",
        _key("id"),
        _text("symbol"),
        _text("side"),
        _money("amount"),
        _long("entry_ms"),
        _long("exit_ms"),
        _money("entry_price"),
        _money("exit_price"),
        _money("fee"),
        _money("pnl"),
        _money("pnl_pct"),
        _prose("exit_reason"),
        _text("exchange"),
        _text("strategy"),
        _pk("trades", "id"),
    )
    op.create_index("ix_trades_exit", "trades", ["exit_ms", "id"])
    op.create_index("ix_trades_symbol", "trades", ["symbol"])

    op.create_table(
        "equity_snapshots",
        _key("timestamp_ms", sa.BigInteger()),
        _money("equity"),
        _pk("equity_snapshots", "timestamp_ms"),
    )

    op.create_table(
        "signals",
        _key("exchange"),
        _key("symbol"),
        _key("timeframe"),
        _key("strategy"),
        _key("timestamp_ms", sa.BigInteger()),
        _key("action"),
        _money("price"),
        _prose("reason"),
        _prose("outcome"),
        _pk("signals", "exchange", "symbol", "timeframe", "strategy", "timestamp_ms", "action"),
    )
    op.create_index("ix_signals_time", "signals", ["timestamp_ms"])

    op.create_table(
        "audit_log",
        # INTEGER PRIMARY KEY: SQLite's rowid, PostgreSQL's SERIAL.
        sa.Column("id", sa.Integer(), nullable=False),
        _long("timestamp_ms"),
        _text("actor"),
        _text("action"),
        _prose("detail"),
        _pk("audit_log", "id"),
    )
    op.create_index("ix_audit_log_timestamp_ms", "audit_log", ["timestamp_ms"])

    op.create_table(
        "strategy_assignments",
        _key("exchange"),
        _key("symbol"),
        _text("timeframe"),
        _text("strategy"),
        _prose("params"),
        _long("assigned_ms"),
        _text("assigned_by"),
        _pk("strategy_assignments", "exchange", "symbol"),
    )

    op.create_table("risk_settings", _key("name"), _prose("value"), _pk("risk_settings", "name"))
    op.create_table("cursors", _key("key"), _long("timestamp_ms"), _pk("cursors", "key"))
    op.create_table("engine_state", _key("key"), _prose("value"), _pk("engine_state", "key"))

    op.create_table(
        "alerts",
        _key("id"),
        _text("symbol"),
        _text("condition"),
        _money("price"),
        _long("created_ms"),
        _long("triggered_ms", nullable=True),
        _text("created_by"),
        _text("exchange"),
        _pk("alerts", "id"),
    )
    op.create_index("ix_alerts_symbol", "alerts", ["symbol"])

    op.create_table(
        "users",
        _key("platform"),
        _key("user_id"),
        _text("role"),
        _text("name"),
        _long("created_ms"),
        _pk("users", "platform", "user_id"),
    )


def downgrade() -> None:
    """Drop every table (and with them their indexes), children before parents."""
    for table in (
        "users",
        "alerts",
        "engine_state",
        "cursors",
        "risk_settings",
        "strategy_assignments",
        "audit_log",
        "signals",
        "equity_snapshots",
        "trades",
        "positions",
        "balances",
        "fills",
        "orders",
    ):
        op.drop_table(table)
