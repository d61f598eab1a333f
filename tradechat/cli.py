"""`tradechat`: the command line. Each subcommand lives in `tradechat/commands/`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from botcore.config import load_settings
from botcore.errors import BotcoreError
from tradechat.commands import (
    backtest,
    chat,
    data,
    demo,
    export,
    keys,
    lookahead,
    market,
    optimize,
    parse,
    portfolio,
    run,
    strategies,
    tui,
)
from tradechat.context import AppContext, fail

__all__ = ["app", "main"]

app = typer.Typer(
    name="tradechat",
    help="Chat-first crypto trading bot: data, strategies, backtests and optimisation.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="TOML config file (see config.example.toml).",
            envvar="TRADECHAT_CONFIG",
        ),
    ] = None,
) -> None:
    # Piped output (files, CI logs) gets room for the comparison tables unless COLUMNS says
    # otherwise; a terminal keeps its own width.
    wide = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    console = Console(highlight=False, width=120 if wide else None)
    try:
        settings = load_settings(config)
    except BotcoreError as exc:
        fail(console, str(exc))
    ctx.obj = AppContext(settings, console)


# Subcommand registration: one line per module.
app.add_typer(data.app, name="data")
app.command("strategies")(strategies.strategies)
app.command("backtest")(backtest.backtest)
app.command("lookahead")(lookahead.lookahead)
app.command("demo")(demo.demo)
app.command("optimize")(optimize.optimize)
app.command("run")(run.run)
app.add_typer(keys.app, name="keys")
app.command("export")(export.export)
app.command("scan")(market.scan)
app.command("arbitrage")(market.arbitrage)
app.command("parse")(parse.parse)
app.command("chat")(chat.chat)
app.command("portfolio")(portfolio.portfolio)
app.command("tui")(tui.tui)


def main() -> None:
    """Console-script entry point."""
    app()
