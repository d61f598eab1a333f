"""Alembic environment for the store: migrates the connection `database.upgrade` passes in.

Run by `alembic.command` with the configuration from `database.alembic_config`; there is no
alembic.ini and no logging set-up here (logging belongs to the application).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from botcore.persistence.database import create_store_engine
from botcore.persistence.tables import metadata


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite alters a table by copying it; batch mode lets later migrations say ALTER.
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    if context.is_offline_mode():
        raise RuntimeError("the store's migrations run on a live connection, not as SQL scripts")
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("alembic_config() needs a url or a connection")
    engine = create_store_engine(url)
    try:
        with engine.connect() as own:
            _migrate(own)
            own.commit()
    finally:
        engine.dispose()


_run()
