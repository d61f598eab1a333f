"""The writes of one database transaction (`Store.transaction()` hands one out).

Every method sends its SQL at once (the session is flushed), so a write that breaks a
constraint, or money that is not a finite Decimal (StoreError), fails at the call that made
it; nothing is visible to other connections until the transaction commits, and nothing at all
is kept if it rolls back.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import Session

from botcore.execution.orders import Fill, Order
from botcore.execution.positions import ClosedTrade, Position
from botcore.persistence import convert
from botcore.persistence.errors import DuplicateFillError, StoreError
from botcore.persistence.records import AlertRecord, SignalRecord, StrategyAssignment, UserRecord
from botcore.persistence.tables import (
    AuditRow,
    BalanceRow,
    CursorRow,
    EquityRow,
    FillRow,
    PositionRow,
    RiskSettingRow,
    StateRow,
    StrategyAssignmentRow,
)

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """Writes that commit together or not at all; valid only inside its `with` block."""

    def __init__(self, session: Session) -> None:
        self._session: Session | None = session

    def _open(self) -> Session:
        if self._session is None:
            raise StoreError("this unit of work has ended; open a new store.transaction()")
        return self._session

    def _close(self) -> None:
        self._session = None

    def _flush(self, session: Session) -> None:
        try:
            session.flush()
        except StatementError as exc:
            # A value our column types refuse (a float or NaN for money): say which, plainly.
            if isinstance(exc.orig, TypeError | ValueError):
                raise StoreError(str(exc.orig)) from exc
            raise

    def _upsert(self, row: object) -> None:
        session = self._open()
        session.merge(row)
        self._flush(session)

    def save_order(self, order: Order) -> None:
        """Insert the order, or replace the stored order with the same id."""
        self._upsert(convert.order_row(order))

    def save_fill(self, fill: Fill) -> None:
        """Book a fill. Its order must be saved in the same transaction or before.

        Raises:
            DuplicateFillError: a fill with this id is already booked (now or earlier).
        """
        session = self._open()
        if session.get(FillRow, fill.id) is not None:
            raise DuplicateFillError(f"fill {fill.id} of order {fill.order_id} is already booked")
        session.add(convert.fill_row(fill))
        try:
            self._flush(session)
        except IntegrityError as exc:
            # Another process booked it between our look and our insert.
            raise DuplicateFillError(f"fill {fill.id} is already booked") from exc

    def set_balance(self, exchange: str, asset: str, total: Decimal) -> None:
        """Set the total of `asset` (in units of the asset) held on `exchange`."""
        self._upsert(BalanceRow(exchange=exchange, asset=asset, total=total))

    def save_position(self, position: Position) -> None:
        """Insert or replace the open position on (exchange, symbol)."""
        self._upsert(convert.position_row(position))

    def delete_position(self, exchange: str, symbol: str) -> None:
        """Remove the open position on (exchange, symbol); nothing happens if there is none."""
        session = self._open()
        row = session.get(PositionRow, (exchange, symbol))
        if row is not None:
            session.delete(row)
            self._flush(session)

    def save_trade(self, trade: ClosedTrade) -> None:
        """Insert or replace the closed trade with this id."""
        self._upsert(convert.trade_row(trade))

    def save_equity(self, timestamp_ms: int, equity: Decimal) -> None:
        """Record equity (quote currency) at `timestamp_ms`, replacing a value at the same time."""
        self._upsert(EquityRow(timestamp_ms=timestamp_ms, equity=equity))

    def save_signal(self, record: SignalRecord) -> None:
        """Record a signal; the same bar, strategy and action again replaces the earlier record."""
        self._upsert(convert.signal_row(record))

    def set_cursor(self, key: str, timestamp_ms: int) -> None:
        """Remember the last bar (open time, UTC ms) finished for the stream `key`."""
        self._upsert(CursorRow(key=key, timestamp_ms=timestamp_ms))

    def locked_state(self, key: str) -> str | None:
        """The engine state under `key`, its row locked until the transaction ends (PostgreSQL
        `FOR UPDATE`; an SQLite transaction holds the database's write lock already)."""
        row = self._open().get(StateRow, key, with_for_update=True)
        return None if row is None else row.value

    def add_state(self, key: str, value: str) -> None:
        """Store engine state under a `key` that must be new: a concurrent transaction adding
        the same key makes one of the two fail (IntegrityError), where `set_state` would let
        the later overwrite the earlier."""
        session = self._open()
        session.add(StateRow(key=key, value=value))
        self._flush(session)

    def set_state(self, key: str, value: str) -> None:
        """Store a small piece of engine state (JSON text by convention) under `key`."""
        self._upsert(StateRow(key=key, value=value))

    def audit(self, actor: str, action: str, detail: str, timestamp_ms: int) -> None:
        """Append an entry to the audit log."""
        session = self._open()
        session.add(AuditRow(timestamp_ms=timestamp_ms, actor=actor, action=action, detail=detail))
        self._flush(session)

    def assign_strategy(self, assignment: StrategyAssignment) -> None:
        """Make `assignment` the strategy for its (exchange, symbol), replacing any other."""
        self._upsert(convert.assignment_row(assignment))

    def unassign_strategy(self, exchange: str, symbol: str) -> None:
        """Remove the assignment of (exchange, symbol); nothing happens if there is none."""
        session = self._open()
        row = session.get(StrategyAssignmentRow, (exchange, symbol))
        if row is not None:
            session.delete(row)
            self._flush(session)

    def set_risk_setting(self, name: str, value: str) -> None:
        """Set a risk rule's value (text; the risk module parses it)."""
        self._upsert(RiskSettingRow(name=name, value=value))

    def save_alert(self, alert: AlertRecord) -> None:
        """Insert or replace the price alert with this id (e.g. to mark it triggered)."""
        self._upsert(convert.alert_row(alert))

    def save_user(self, user: UserRecord) -> None:
        """Insert or replace the user (platform, user_id), e.g. to change their role."""
        self._upsert(convert.user_row(user))
