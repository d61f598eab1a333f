"""Engines and migrations: how the store reaches SQLite or PostgreSQL, the same way every time.

SQLite is tuned for one engine process plus readers (the TUI, `tradechat export`, a second
bot by mistake): write-ahead logging so readers never block the writer, a busy timeout so a
second writer waits instead of failing, `synchronous=FULL` so a commit survives a power cut,
foreign keys on. Python's sqlite3 module would begin transactions on its own and only before
INSERT/UPDATE/DELETE; we switch that off and emit BEGIN ourselves (the recipe in SQLAlchemy's
SQLite documentation), so a unit of work is one real transaction. Write transactions start
with `BEGIN IMMEDIATE`: the write lock is taken at the start, so two writers queue up instead
of one failing half way with "database is locked".

Migrations ship inside the package (`migrations/`) and run programmatically at open; no
alembic.ini. To write a new migration after changing `tables.py`:

    from alembic import command
    from botcore.persistence.database import alembic_config
    command.revision(alembic_config("sqlite:///scratch.db"), "what changed", autogenerate=True)
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "MIGRATIONS",
    "WRITE",
    "alembic_config",
    "create_store_engine",
    "sqlite_file",
    "upgrade",
]

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Execution option marking a connection that will write (SQLite: BEGIN IMMEDIATE).
WRITE = "tradechat_write"
# Any constant shared by every process; serialises concurrent migrations on PostgreSQL.
_PG_MIGRATION_LOCK = 0x7472616465  # "trade"
# The newest migration's revision. A database already there is opened without loading alembic
# (a seventh of a second); a test checks this against the migrations folder's head.
HEAD_REVISION = "0001"


def sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def create_store_engine(url: str, *, busy_timeout_s: float = 30.0) -> Engine:
    """An Engine for `url`, with the SQLite settings described in the module docstring.

    The folder of an SQLite file is created. Nothing is connected yet.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # pre_ping: a PostgreSQL restart must not turn the next bar into an error.
        return create_engine(parsed, pool_pre_ping=True)
    path = sqlite_file(url)
    if path is None:
        # In-memory: every connection would be a new empty database; share one.
        engine = create_engine(
            parsed, poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": busy_timeout_s})
    wal = path is not None
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _begin)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if wal:
            _switch_to_wal(cursor, busy_timeout_s)
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        writes = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine


def _switch_to_wal(cursor: Any, timeout_s: float) -> None:
    # Switching a new database to WAL needs an exclusive lock, and SQLite answers "database is
    # locked" at once instead of calling the busy handler when another process holds one (two
    # processes opening a new file together). Retry for as long as a write would wait.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.01)


def alembic_config(url: str | None = None, connection: Connection | None = None) -> Config:
    """Alembic configuration for the packaged migrations, without an ini file.

    Args:
        url: a database URL, for running alembic commands by hand (env.py opens an engine).
        connection: an open connection to migrate on (what `upgrade` passes).
    """
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if url is not None:
        # configparser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine) -> None:
    """Migrate the database to the newest schema, in one transaction.

    Safe when several processes open the same database at once: on SQLite the transaction
    holds the write lock from its start, on PostgreSQL an advisory lock queues the others;
    whoever comes second finds the schema at head and does nothing.
    """
    if _at_head(engine):
        return
    from alembic import command

    with engine.execution_options(**{WRITE: True}).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
            )
        command.upgrade(alembic_config(connection=connection), "head")


def _at_head(engine: Engine) -> bool:
    """True when the schema is at `HEAD_REVISION` already (read without a write lock)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return False
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        return list(versions) == [HEAD_REVISION]
