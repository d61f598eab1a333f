"""`tradechat backtest`: run a strategy over candles and print the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from botcore.errors import BotcoreError
from botcore.services.backtests import BacktestService
from tradechat.commands.options import (
    CashOpt,
    DataOpt,
    EndOpt,
    ExchangeOpt,
    FeeOpt,
    SlippageOpt,
    StakePctOpt,
    StartOpt,
    StrategyOpt,
    SymbolOpt,
    TimeframeOpt,
    market_request,
)
from tradechat.context import app_context, fail
from tradechat.report import render_comparison, render_result

__all__ = ["backtest"]


def backtest(
    ctx: typer.Context,
    strategy: StrategyOpt,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter k=v; repeatable.")
    ] = None,
    data: DataOpt = None,
    symbol: SymbolOpt = None,
    timeframe: TimeframeOpt = None,
    exchange: ExchangeOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    cash: CashOpt = None,
    fee: FeeOpt = None,
    slippage: SlippageOpt = None,
    stake_pct: StakePctOpt = None,
    stake_amount: Annotated[
        float | None, typer.Option("--stake-amount", help="Fixed quote amount per position.")
    ] = None,
    risk_pct: Annotated[
        float | None,
        typer.Option("--risk-pct", help="Percent of equity at risk to the stop-loss per position."),
    ] = None,
    stop_loss: Annotated[
        float | None,
        typer.Option(
            "--stop-loss", help="Stop-loss, percent below entry (overrides the strategy's)."
        ),
    ] = None,
    take_profit: Annotated[
        float | None, typer.Option("--take-profit", help="Take-profit, percent above entry.")
    ] = None,
    trailing_stop: Annotated[
        float | None,
        typer.Option("--trailing-stop", help="Trailing stop, percent below the highest high."),
    ] = None,
    fill: Annotated[
        str | None,
        typer.Option("--fill", help="next_open (default, realistic) or close (optimistic; warns)."),
    ] = None,
    max_open: Annotated[
        int | None,
        typer.Option("--max-open", help="Most positions open at once across symbols (default 1)."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write metrics, trades and equity as JSON.")
    ] = None,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart", help="Write the chart (price with trades, equity, drawdown) as PNG."
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            help="Also run these strategies (comma-separated) on the same data and compare.",
        ),
    ] = None,
) -> None:
    """Backtest a strategy on real candles: decisions at a bar's close fill at the next bar's open,
    fees and slippage on every fill, stops checked intrabar with the stop first."""
    app = app_context(ctx)
    console = app.console
    try:
        request = market_request(
            app.settings.backtest, strategy, param, data, symbol, timeframe, exchange, start, end,
            cash, fee, slippage, stake_pct, stake_amount=stake_amount, risk_pct=risk_pct,
            stop_loss_pct=stop_loss, take_profit_pct=take_profit,
            trailing_stop_pct=trailing_stop, fill=fill, max_open_positions=max_open,
        )  # fmt: skip
        service = BacktestService(app.settings)
        with console.status("backtesting…"):
            others = [n.strip() for n in (compare or "").split(",") if n.strip()]
            results = service.compare(request, others)
    except BotcoreError as exc:
        fail(console, str(exc))
    result = results[0]
    render_result(console, result)
    if len(results) > 1:
        render_comparison(
            console, results, f"Comparison on {', '.join(result.symbols)} {result.timeframe}"
        )
    if json_out:
        result.write_json(json_out)
        console.print(f"wrote {json_out}")
    if chart:
        from botcore.charts import backtest_chart

        chart.parent.mkdir(parents=True, exist_ok=True)
        chart.write_bytes(backtest_chart(result))
        console.print(f"wrote {chart}")
