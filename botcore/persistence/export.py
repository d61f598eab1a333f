"""Stored history as flat tables, written as CSV or JSON (`tradechat export`).

Money is written as the stored Decimal's exact text, in JSON too (as a string), so nothing is
rounded on the way out; times appear twice, as UTC milliseconds and as ISO 8601 UTC text.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from botcore.timeframes import to_iso

if TYPE_CHECKING:
    from botcore.persistence.store import Store

__all__ = ["ExportFormat", "ExportKind", "ExportTable", "export_table", "to_csv", "to_json"]

Cell = str | int | None


class ExportKind(StrEnum):
    """What can be exported."""

    TRADES = "trades"
    ORDERS = "orders"
    EQUITY = "equity"


class ExportFormat(StrEnum):
    """How it is written."""

    CSV = "csv"
    JSON = "json"


@dataclass(frozen=True)
class ExportTable:
    """Named columns and rows of cells (Decimal text, ints, empty as None)."""

    kind: ExportKind
    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]


TRADE_COLUMNS = (
    "id", "symbol", "side", "amount", "entry_time", "entry_ms", "entry_price", "exit_time",
    "exit_ms", "exit_price", "fee", "pnl", "pnl_pct", "exit_reason", "strategy", "exchange",
)  # fmt: skip
ORDER_COLUMNS = (
    "id", "symbol", "side", "type", "status", "amount", "filled", "price", "stop_price",
    "average_price", "fee", "created_time", "created_ms", "updated_time", "updated_ms",
    "trail_pct", "trail_atr", "visible_amount", "duration_ms", "slices", "parent_id", "exchange",
    "exchange_order_id", "reason", "reject_reason",
)  # fmt: skip
EQUITY_COLUMNS = ("time", "timestamp_ms", "equity")


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"unexpected {type(value).__name__} in an export")


def export_table(store: Store, kind: ExportKind | str) -> ExportTable:
    """Every stored trade (by exit time), order (by creation time) or equity point (by time)."""
    kind = ExportKind(kind)
    columns: tuple[str, ...]
    rows: list[Sequence[object]]
    if kind is ExportKind.TRADES:
        columns = TRADE_COLUMNS
        rows = [
            (t.id, t.symbol, t.side, t.amount, to_iso(t.entry_ms), t.entry_ms, t.entry_price,
             to_iso(t.exit_ms), t.exit_ms, t.exit_price, t.fee, t.pnl, t.pnl_pct, t.exit_reason,
             t.strategy, t.exchange)
            for t in store.trades()
        ]  # fmt: skip
    elif kind is ExportKind.ORDERS:
        columns = ORDER_COLUMNS
        rows = [
            (o.id, o.symbol, o.side.value, o.type.value, o.status.value, o.amount, o.filled,
             o.price, o.stop_price, o.average_price, o.fee, to_iso(o.created_ms), o.created_ms,
             to_iso(o.updated_ms), o.updated_ms, o.trail_pct, o.trail_atr, o.visible_amount,
             o.duration_ms, o.slices, o.parent_id, o.exchange, o.exchange_order_id, o.reason,
             o.reject_reason)
            for o in store.orders()
        ]  # fmt: skip
    else:
        columns = EQUITY_COLUMNS
        rows = [(to_iso(ms), ms, equity) for ms, equity in store.equity_curve()]
    return ExportTable(kind, columns, tuple(tuple(_cell(v) for v in row) for row in rows))


def to_csv(table: ExportTable) -> str:
    """A header line, then one line per row; empty cells for missing values."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(table.columns)
    writer.writerows(table.rows)
    return buffer.getvalue()


def to_json(table: ExportTable) -> str:
    """A JSON array of objects keyed by column, one per row (Decimal values as strings)."""
    records = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
    return json.dumps(records, indent=2) + "\n"
