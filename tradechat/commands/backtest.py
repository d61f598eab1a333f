"""`tradechat backtest`: run a strategy over candles and print the report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from botcore.backtest.engine import BacktestSettings
from botcore.errors import BotcoreError
from botcore.services.backtests import BacktestRequest, BacktestService
from tradechat.commands.options import existing_files, parse_params, parse_symbols, parse_when
from tradechat.context import app_context, fail
from tradechat.report import render_comparison, render_result

__all__ = ["backtest"]


def backtest(
    ctx: typer.Context,
    strategy: Annotated[
        str, typer.Option("--strategy", "-s", help="Strategy name (see `tradechat strategies`).")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Strategy parameter k=v; repeatable.")
    ] = None,
    data: Annotated[
        list[Path] | None,
        typer.Option(
            "--data",
            help="Candle file(s) named EXCHANGE_BASE-QUOTE_TF.csv.gz (or .parquet); repeatable.",
        ),
    ] = None,
    symbol: Annotated[
        list[str] | None,
        typer.Option(
            "--symbol",
            help="Symbol(s) from the cache or data folders, e.g. BTC/USDT; repeat or "
            "comma-separate for a multi-symbol run.",
        ),
    ] = None,
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", "-t", help="Timeframe, e.g. 15m, 1h, 1d.")
    ] = None,
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange",
            help="Exchange id (default: the file name's, else \\[data] default_exchange).",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="First bar traded, YYYY-MM-DD or ISO 8601 UTC; earlier bars only warm "
            "indicators up.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--end", help="End of the period (exclusive), YYYY-MM-DD or ISO 8601 UTC."),
    ] = None,
    cash: Annotated[
        float | None,
        typer.Option("--cash", help="Starting cash in quote currency (default 10000)."),
    ] = None,
    fee: Annotated[
        float | None,
        typer.Option("--fee", help="Fee per fill as a fraction, 0.001 = 0.1 % (default 0.001)."),
    ] = None,
    slippage: Annotated[
        float | None,
        typer.Option("--slippage", help="Slippage per market fill as a fraction (default 0.0005)."),
    ] = None,
    stake_pct: Annotated[
        float | None,
        typer.Option("--stake-pct", help="Percent of equity per position (100 = all-in)."),
    ] = None,
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
    defaults = app.settings.backtest
    try:
        settings = BacktestSettings(
            cash=cash if cash is not None else defaults.cash,
            fee=fee if fee is not None else defaults.fee,
            slippage=slippage if slippage is not None else defaults.slippage,
            stake_pct=stake_pct
            if stake_pct is not None
            else (defaults.stake_pct if stake_amount is None and risk_pct is None else None),
            stake_amount=stake_amount,
            risk_pct=risk_pct,
            stop_loss_pct=stop_loss,
            take_profit_pct=take_profit,
            trailing_stop_pct=trailing_stop,
            fill=fill or defaults.fill,  # type: ignore[arg-type]
            max_open_positions=max_open if max_open is not None else defaults.max_open_positions,
        )
        request = BacktestRequest(
            strategy=strategy,
            params=parse_params(param),
            symbols=parse_symbols(symbol),
            timeframe=timeframe,
            exchange=exchange,
            data_files=existing_files(data),
            start=parse_when(start),
            end=parse_when(end),
            settings=settings,
        )
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
