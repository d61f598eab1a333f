"""`tradechat strategies`: the strategies available and their parameters."""

from __future__ import annotations

import inspect

import typer
from rich.table import Table

from botcore.errors import BotcoreError
from botcore.strategy.registry import available_strategies
from tradechat.context import app_context, fail

__all__ = ["strategies"]


def strategies(ctx: typer.Context) -> None:
    """List built-in strategies and those in the strategy folder, with parameters and ranges."""
    app = app_context(ctx)
    try:
        found = available_strategies(app.settings.strategies.folder)
    except BotcoreError as exc:
        fail(app.console, str(exc))
    table = Table(title="Strategies", show_lines=True, title_justify="left")
    table.add_column("Name", style="bold")
    table.add_column("What it trades", ratio=3)
    table.add_column("Parameters (default, range)", ratio=2)
    for name, cls in sorted(found.items()):
        params = "\n".join(
            f"{p.name}={p.default} ({p.describe_range()})" for p in cls.parameters.values()
        )
        table.add_row(name, " ".join((inspect.getdoc(cls) or "").split()), params)
    app.console.print(table)
    app.console.print(f"Your own strategies: *.py files in {app.settings.strategies.folder}")
