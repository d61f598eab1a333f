"""The store: everything the engine must not forget, in SQLite (default) or PostgreSQL.

    store = Store.open("sqlite:///user_data/tradechat.db")
    with store.transaction() as uow:  # one database transaction
        uow.save_order(order)
        uow.save_fill(fill)
        uow.set_balance("paper", "USDT", Decimal("9312.5"))
        uow.set_cursor("replay|BTC/USDT|1h", bar_ms)
    # committed here; an exception inside the block would have rolled all of it back

Reads return domain objects (`Order`, `Fill`, `Position`, `ClosedTrade`, the records in
`records.py`) and see committed data only: a read inside a `transaction()` block does not see
that block's own writes yet.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Self

from sqlalchemy import Engine, func
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from botcore.execution.orders import Fill, Order, OrderStatus
from botcore.execution.positions import ClosedTrade, Position
from botcore.persistence import convert
from botcore.persistence.database import WRITE, create_store_engine, upgrade
from botcore.persistence.errors import StoreError
from botcore.persistence.records import (
    AlertRecord,
    AuditRecord,
    SignalRecord,
    StrategyAssignment,
    UserRecord,
)
from botcore.persistence.tables import (
    AlertRow,
    AuditRow,
    BalanceRow,
    CursorRow,
    EquityRow,
    FillRow,
    OrderRow,
    PositionRow,
    RiskSettingRow,
    SignalRow,
    StateRow,
    StrategyAssignmentRow,
    TradeRow,
    UserRow,
)
from botcore.persistence.unit_of_work import UnitOfWork

__all__ = ["Store"]

_OPEN_STATUSES = tuple(s.value for s in OrderStatus if not s.final)


class Store:
    """Orders, fills, balances, positions, trades, equity, signals and the rest, persisted.

    Open with `Store.open(url)`; write through `transaction()`; `close()` when done (or use
    the store as a context manager: `with Store.open(url) as store: ...`).
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._writer = engine.execution_options(**{WRITE: True})
        self._local = threading.local()

    @classmethod
    def open(cls, url: str, *, busy_timeout_s: float = 30.0) -> Self:
        """Connect to `url`, migrate the schema to the newest revision, return the store.

        Args:
            url: an SQLAlchemy URL: `sqlite:///path/file.db` (the folder is created) or
                `postgresql+psycopg://user:password@host/db`.
            busy_timeout_s: SQLite only: how long to wait for another process's write lock.

        Opening again, or from several processes at once, is safe: migrations that already ran
        are skipped.
        """
        engine = create_store_engine(url, busy_timeout_s=busy_timeout_s)
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    def close(self) -> None:
        """Close every pooled connection. The store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[UnitOfWork]:
        """One database transaction: its writes commit together at the end of the block, or,
        if the block raises, none of them are kept (the exception propagates).

        Raises:
            StoreError: a transaction is already open in this thread (they do not nest), or
                the writes broke a rule checked at commit (a fill whose order was never saved);
                nothing was saved.
        """
        if getattr(self._local, "active", False):
            # On SQLite a second writer would wait for our own lock until the busy timeout.
            raise StoreError("store transactions do not nest; write in the open one")
        self._local.active = True
        try:
            with Session(self._writer) as session:
                session.begin()
                # Connect (and on SQLite take the write lock) now, not at the first write.
                session.connection()
                uow = UnitOfWork(session)
                try:
                    yield uow
                except BaseException:
                    session.rollback()
                    raise
                finally:
                    uow._close()
                try:
                    session.commit()
                except IntegrityError as exc:
                    # Deferred checks (a fill whose order was never saved) fail only here.
                    session.rollback()
                    raise StoreError(
                        f"nothing was saved: the writes broke a database rule ({exc.orig})"
                    ) from exc
        finally:
            self._local.active = False

    def _read(self) -> Session:
        return Session(self._engine)

    def order(self, order_id: str) -> Order | None:
        """The order with this client order id, or None."""
        with self._read() as session:
            row = session.get(OrderRow, order_id)
            return None if row is None else convert.order_of(row)

    def orders(self, *, symbol: str | None = None, open_only: bool = False) -> list[Order]:
        """Orders by creation time (then id); `open_only` keeps those that can still fill."""
        query = select(OrderRow).order_by(col(OrderRow.created_ms), col(OrderRow.id))
        if symbol is not None:
            query = query.where(OrderRow.symbol == symbol)
        if open_only:
            query = query.where(col(OrderRow.status).in_(_OPEN_STATUSES))
        with self._read() as session:
            return [convert.order_of(row) for row in session.exec(query)]

    def fills(self, *, order_id: str | None = None, since_ms: int | None = None) -> list[Fill]:
        """Fills by time (then id), all or those of one order; `since_ms` inclusive."""
        query = select(FillRow).order_by(col(FillRow.timestamp_ms), col(FillRow.id))
        if order_id is not None:
            query = query.where(FillRow.order_id == order_id)
        if since_ms is not None:
            query = query.where(FillRow.timestamp_ms >= since_ms)
        with self._read() as session:
            return [convert.fill_of(row) for row in session.exec(query)]

    def balances(self, exchange: str = "paper") -> dict[str, Decimal]:
        """Asset -> total held on `exchange`, in units of the asset."""
        query = (
            select(BalanceRow)
            .where(BalanceRow.exchange == exchange)
            .order_by(col(BalanceRow.asset))
        )
        with self._read() as session:
            return {row.asset: row.total for row in session.exec(query)}

    def positions(self, exchange: str | None = None) -> list[Position]:
        """Open positions by exchange and symbol, on every exchange or one."""
        query = select(PositionRow).order_by(col(PositionRow.exchange), col(PositionRow.symbol))
        if exchange is not None:
            query = query.where(PositionRow.exchange == exchange)
        with self._read() as session:
            return [convert.position_of(row) for row in session.exec(query)]

    def trades(
        self, *, symbol: str | None = None, since_ms: int | None = None
    ) -> list[ClosedTrade]:
        """Closed trades by exit time (then id); `since_ms` keeps exits at or after it."""
        # plain column tuples in the dataclass's field order, not ORM objects or dicts: a
        # tenth of the time for a long history
        table = TradeRow.__table__.columns  # type: ignore[attr-defined]
        query = sa_select(*(table[name] for name in convert.TRADE_FIELDS)).order_by(
            col(TradeRow.exit_ms), col(TradeRow.id)
        )
        if symbol is not None:
            query = query.where(col(TradeRow.symbol) == symbol)
        if since_ms is not None:
            query = query.where(col(TradeRow.exit_ms) >= since_ms)
        with self._read() as session:
            return [ClosedTrade(*row) for row in session.execute(query)]

    def trade_count(self, *, until_ms: int | None = None) -> int:
        """How many closed trades there are; `until_ms` counts exits at or before it."""
        query = sa_select(func.count()).select_from(TradeRow)
        if until_ms is not None:
            query = query.where(col(TradeRow.exit_ms) <= until_ms)
        with self._read() as session:
            return int(session.execute(query).scalar_one())

    def equity_curve(self, *, since_ms: int | None = None) -> list[tuple[int, Decimal]]:
        """(timestamp UTC ms, equity in quote currency) by time; `since_ms` inclusive."""
        query = sa_select(col(EquityRow.timestamp_ms), col(EquityRow.equity)).order_by(
            col(EquityRow.timestamp_ms)
        )
        if since_ms is not None:
            query = query.where(col(EquityRow.timestamp_ms) >= since_ms)
        with self._read() as session:
            return [(stamp, equity) for stamp, equity in session.execute(query)]

    def cursor(self, key: str) -> int | None:
        """The last bar (open time, UTC ms) finished for the stream `key`, or None."""
        with self._read() as session:
            row = session.get(CursorRow, key)
            return None if row is None else row.timestamp_ms

    def state(self, key: str) -> str | None:
        """The engine state stored under `key`, or None."""
        with self._read() as session:
            row = session.get(StateRow, key)
            return None if row is None else row.value

    def signals(
        self, *, symbol: str | None = None, since_ms: int | None = None
    ) -> list[SignalRecord]:
        """Signals by bar time (then symbol, strategy, action); `since_ms` inclusive."""
        query = select(SignalRow).order_by(
            col(SignalRow.timestamp_ms),
            col(SignalRow.symbol),
            col(SignalRow.strategy),
            col(SignalRow.action),
        )
        if symbol is not None:
            query = query.where(SignalRow.symbol == symbol)
        if since_ms is not None:
            query = query.where(SignalRow.timestamp_ms >= since_ms)
        with self._read() as session:
            return [convert.signal_of(row) for row in session.exec(query)]

    def audit_log(self, *, limit: int = 100) -> list[AuditRecord]:
        """The latest `limit` audit entries, newest first."""
        query = (
            select(AuditRow)
            .order_by(col(AuditRow.timestamp_ms).desc(), col(AuditRow.id).desc())
            .limit(limit)
        )
        with self._read() as session:
            return [convert.audit_of(row) for row in session.exec(query)]

    def strategy_assignments(self) -> list[StrategyAssignment]:
        """Every strategy assignment, by exchange and symbol."""
        query = select(StrategyAssignmentRow).order_by(
            col(StrategyAssignmentRow.exchange), col(StrategyAssignmentRow.symbol)
        )
        with self._read() as session:
            return [convert.assignment_of(row) for row in session.exec(query)]

    def risk_settings(self) -> dict[str, str]:
        """Risk rule name -> value as set at run time."""
        query = select(RiskSettingRow).order_by(col(RiskSettingRow.name))
        with self._read() as session:
            return {row.name: row.value for row in session.exec(query)}

    def alerts(self, *, active_only: bool = False) -> list[AlertRecord]:
        """Price alerts by creation time (then id); `active_only` drops those already fired."""
        query = select(AlertRow).order_by(col(AlertRow.created_ms), col(AlertRow.id))
        if active_only:
            query = query.where(col(AlertRow.triggered_ms).is_(None))
        with self._read() as session:
            return [convert.alert_of(row) for row in session.exec(query)]

    def users(self) -> list[UserRecord]:
        """Every known chat user, by platform and user id."""
        query = select(UserRow).order_by(col(UserRow.platform), col(UserRow.user_id))
        with self._read() as session:
            return [convert.user_of(row) for row in session.exec(query)]

    def user(self, platform: str, user_id: str) -> UserRecord | None:
        """The user with this id on `platform`, or None."""
        with self._read() as session:
            row = session.get(UserRow, (platform, user_id))
            return None if row is None else convert.user_of(row)
