"""`tradechat export`: trades, orders or the equity curve from the database as CSV or JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from botcore.config import Settings, load_settings
from botcore.errors import BotcoreError
from botcore.persistence.export import ExportFormat, ExportKind, export_table, to_csv, to_json
from tradechat.context import app_context, fail

__all__ = ["export"]


def _settings(ctx: typer.Context, config: Path | None) -> Settings:
    app = app_context(ctx)
    if config is None:
        return app.settings
    try:
        return load_settings(config)
    except BotcoreError as exc:
        fail(app.console, escape(str(exc)))


def export(
    ctx: typer.Context,
    what: Annotated[ExportKind, typer.Argument(help="What to export: trades, orders or equity.")],
    fmt: Annotated[
        ExportFormat, typer.Option("--format", "-f", help="csv (default) or json.")
    ] = ExportFormat.CSV,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML config file naming the \\[database] url."),
    ] = None,
) -> None:
    """Export closed trades, orders or the equity curve from the database (money exact)."""
    console = app_context(ctx).console
    url = _settings(ctx, config).database.url
    # the store's libraries (~0.8 s) load only when an export actually runs
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from botcore.persistence import Store
    from botcore.persistence.database import sqlite_file

    shown = make_url(url).render_as_string(hide_password=True)

    path = sqlite_file(url)
    if path is not None and not path.is_file():
        hint = "set [database] url or --config"
        fail(console, escape(f"no database at {path}: nothing has been recorded yet ({hint})"))
    try:
        store = Store.open(url)
        try:
            table = export_table(store, what)
        finally:
            store.close()
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        fail(console, escape(f"cannot read the database {shown}: {reason}"))
    text = to_csv(table) if fmt is ExportFormat.CSV else to_json(table)
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(console, escape(f"cannot write {out}: {exc.strerror or exc}"))
    console.print(
        escape(f"wrote {len(table.rows)} rows of {what.value} to {out} ({fmt.value})"),
        soft_wrap=True,
    )
