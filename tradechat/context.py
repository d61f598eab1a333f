"""What every subcommand receives: the loaded settings and a rich console."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from botcore.config import Settings

__all__ = ["AppContext", "app_context", "fail"]


@dataclass(frozen=True)
class AppContext:
    """Settings loaded once at start-up and the console to print to."""

    settings: Settings
    console: Console


def app_context(ctx: typer.Context) -> AppContext:
    """The AppContext the top-level callback stored on the click context."""
    root = ctx.find_root()
    obj = root.obj
    if not isinstance(obj, AppContext):
        raise RuntimeError("tradechat's main callback did not run")
    return obj


def fail(console: Console, message: str, code: int = 2) -> NoReturn:
    """Print a polite error (no traceback) and exit with `code`."""
    # messages quote config sections like [market]: printed as text, not as markup
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)
