"""The packaged Alembic migrations: they reach head, re-running is a no-op, and the migrated
schema is exactly what `tables.py` declares (the autogenerate diff is empty)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, inspect, text

from botcore.persistence import Store
from botcore.persistence.database import (
    HEAD_REVISION,
    MIGRATIONS,
    _at_head,
    alembic_config,
    create_store_engine,
)
from botcore.persistence.tables import metadata

TABLES = {
    "alerts",
    "audit_log",
    "balances",
    "cursors",
    "engine_state",
    "equity_snapshots",
    "fills",
    "orders",
    "positions",
    "risk_settings",
    "signals",
    "strategy_assignments",
    "trades",
    "users",
}


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    engine = create_store_engine(url)
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def schema_diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


def test_the_migrations_are_one_linear_history_shipped_in_the_package() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert Path(script.dir) == MIGRATIONS
    assert (MIGRATIONS / "env.py").is_file()
    assert script.get_heads() == ["0001"]
    assert [r.revision for r in script.walk_revisions()] == ["0001"]


def test_open_migrates_to_head_and_opening_again_changes_nothing(db_url: str) -> None:
    first = Store.open(db_url)
    with first.transaction() as uow:
        uow.set_balance("paper", "USDT", Decimal("10000"))
    first.close()
    again = Store.open(db_url)  # runs `upgrade head` again: nothing to do
    try:
        assert again.balances() == {"USDT": Decimal("10000")}
    finally:
        again.close()

    with connected(db_url) as connection:
        assert MigrationContext.configure(connection).get_current_heads() == ("0001",)
        names = set(inspect(connection).get_table_names())
        assert names == TABLES | {"alembic_version"}


def test_the_migrated_schema_is_exactly_the_declared_tables(db_url: str) -> None:
    Store.open(db_url).close()
    with connected(db_url) as connection:
        assert schema_diff(connection) == []
        indexes = {ix["name"] for ix in inspect(connection).get_indexes("orders")}
        assert indexes == {
            "ix_orders_created",
            "ix_orders_parent_id",
            "ix_orders_status",
            "ix_orders_symbol",
        }
        # The check notices drift: drop an index behind its back and the diff names it.
        connection.execute(text("DROP INDEX ix_trades_symbol"))
        diff = schema_diff(connection)
        connection.rollback()
    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_trades_symbol")]  # type: ignore[index]


def test_downgrade_to_nothing_and_upgrade_again(db_url: str) -> None:
    Store.open(db_url).close()
    engine = create_store_engine(db_url)
    try:
        with engine.begin() as connection:
            command.downgrade(alembic_config(connection=connection), "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()
    Store.open(db_url).close()
    with connected(db_url) as connection:
        assert schema_diff(connection) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys_on(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'tradechat.db'}"
    Store.open(url).close()
    assert (tmp_path / "a" / "b" / "tradechat.db").is_file()
    with connected(url) as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_an_in_memory_sqlite_store_works_for_one_process() -> None:
    with Store.open("sqlite://") as store:
        with store.transaction() as uow:
            uow.set_cursor("k", 5)
        assert store.cursor("k") == 5


def test_alembic_commands_by_url_upgrade_and_find_no_pending_change(db_url: str) -> None:
    """The path a developer takes to write the next migration (env.py opening its own engine)."""
    config = alembic_config(db_url)
    command.upgrade(config, "head")
    command.check(config)  # raises if tables.py and the migrations disagree
    with connected(db_url) as connection:
        assert MigrationContext.configure(connection).get_current_heads() == ("0001",)


def test_the_head_revision_opened_without_alembic_is_the_migrations_head() -> None:
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    assert head == HEAD_REVISION


def test_only_a_schema_at_head_skips_alembic(db_url: str) -> None:
    engine = create_store_engine(db_url)
    try:
        assert not _at_head(engine)  # an empty database
        with Store.open(db_url):
            pass
        assert _at_head(engine)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = 'older'"))
        assert not _at_head(engine)  # a schema behind head goes through alembic
    finally:
        engine.dispose()
