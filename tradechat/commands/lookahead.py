"""`tradechat lookahead`: prove a strategy does not use future data."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from botcore.backtest.lookahead import check_lookahead
from botcore.errors import BotcoreError
from botcore.services.backtests import BacktestRequest, BacktestService, cut_period
from tradechat.commands.options import (
    ExchangeOpt,
    StrategyOpt,
    TimeframeOpt,
    existing_files,
    parse_params,
    parse_symbols,
    parse_when,
)
from tradechat.context import app_context, fail

__all__ = ["lookahead"]


def lookahead(
    ctx: typer.Context,
    strategy: StrategyOpt,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter k=v; repeatable.")
    ] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="Candle file named EXCHANGE_BASE-QUOTE_TF.csv.gz.")
    ] = None,
    symbol: Annotated[
        str | None, typer.Option("--symbol", help="Symbol from the cache or data folders.")
    ] = None,
    timeframe: TimeframeOpt = None,
    exchange: ExchangeOpt = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Start of the data checked (UTC).")
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="End of the data checked (UTC).")] = None,
    cuts: Annotated[int, typer.Option("--cuts", help="How many cut points to probe.", min=2)] = 30,
) -> None:
    """Run the strategy on full data and on data cut at many points; report any past decision or
    indicator value that changes (exit code 1 when one does)."""
    app = app_context(ctx)
    console = app.console
    try:
        request = BacktestRequest(
            strategy=strategy,
            params=parse_params(param),
            symbols=parse_symbols([symbol] if symbol else None),
            timeframe=timeframe,
            exchange=exchange,
            data_files=existing_files([data] if data else None),
        )
        service = BacktestService(app.settings)
        instance = service.strategy(strategy, request.params)
        market = cut_period(service.load_markets(request)[0], parse_when(start), parse_when(end), 0)
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("cutting and re-running", total=cuts)
            report = check_lookahead(
                instance,
                market.frame,
                cuts=cuts,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    except BotcoreError as exc:
        fail(console, str(exc))
    where = f"{market.key.symbol} {market.key.timeframe}, {report.bars:,} bars"
    if not report.biased:
        console.print(
            f"[green]no look-ahead[/]: {instance} gave identical decisions and indicators before "
            f"each of {len(report.cuts)} cut points ({where})"
        )
        return
    table = Table(title=f"Look-ahead bias in {instance} ({where})", title_justify="left")
    for col in (
        "Signal / column",
        "First changed bar (UTC)",
        "Cut at bar",
        "Full data",
        "Cut data",
    ):
        table.add_column(col)
    for f in report.findings[:40]:
        table.add_row(f.what, f.timestamp, str(f.cut_at), f.full_value, f.cut_value)
    console.print(table)
    console.print(f"[red]look-ahead bias[/] in: {', '.join(report.columns)}")
    raise typer.Exit(1)
