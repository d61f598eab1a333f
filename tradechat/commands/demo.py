"""`tradechat demo`: a tour on the real candles bundled in the package; no network, no keys."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from botcore.backtest.engine import BacktestSettings
from botcore.backtest.lookahead import check_lookahead
from botcore.backtest.result import BacktestResult
from botcore.data.catalog import DataCatalog, bundled_data_dir
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.strategy.builtins import BUILTINS
from botcore.timeframes import parse_datetime
from tradechat.context import app_context
from tradechat.report import render_comparison, render_result

__all__ = ["demo"]

_START, _END = "2023-01-01", "2024-04-01"


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the charts and JSON.")] = Path(
        "out/demo"
    ),
) -> None:
    """Backtest every built-in strategy on bundled Binance BTC/USDT 1h candles, compare them, run a
    two-symbol portfolio on BTC and ETH, prove no look-ahead, write the charts; then paper-trade
    a replay and talk to the bot about it through its console face."""
    from botcore.charts import backtest_chart, comparison_chart

    app = app_context(ctx)
    console = app.console
    service = BacktestService(app.settings)
    service.catalog = DataCatalog((bundled_data_dir(),))
    console.rule("[bold]tradechat demo[/]: real Binance candles bundled with the package")
    for key, _ in service.catalog.entries():
        quality = service.catalog.load(key.symbol, key.timeframe, key.exchange).quality
        console.print(
            f"{key.exchange} {key.symbol} {key.timeframe}: {quality.rows:,} candles · "
            f"{'; '.join(quality.issues()) or 'no gaps or duplicates'}"
        )
    start, end = parse_datetime(_START), parse_datetime(_END)
    settings = BacktestSettings(fee=0.001, slippage=0.0005)
    request = BacktestRequest(
        "sma_cross", symbols=("BTC/USDT",), timeframe="1h", start=start, end=end, settings=settings
    )
    out.mkdir(parents=True, exist_ok=True)
    results: list[BacktestResult] = []
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("backtesting the built-ins", total=len(BUILTINS) * 2 + 1)
        markets = service.load_markets(request)
        for cls in BUILTINS:
            results.append(service.run(request, cls(), markets))
            bar.advance(task)
        biased = []
        for cls in BUILTINS:
            report = check_lookahead(
                cls(), markets[0].frame.iloc[-6000:].reset_index(drop=True), cuts=12
            )
            if report.biased:
                biased.append(f"{cls.name}: {', '.join(report.columns)}")
            bar.advance(task)
        best = max(results, key=lambda r: r.metrics.total_return_pct)
        portfolio_request = BacktestRequest(
            best.strategy,
            best.params,
            ("BTC/USDT", "ETH/USDT"),
            "1h",
            start=start,
            end=end,
            settings=BacktestSettings(max_open_positions=2),
        )
        portfolio = service.run(portfolio_request)
        bar.advance(task)
    render_comparison(
        console,
        results,
        f"Built-in strategies on BTC/USDT 1h, {_START} → {_END}, "
        "fee 0.1 %, slippage 0.05 %, next-open fills",
    )
    console.print(
        "[green]look-ahead check passed[/] for every built-in (12 cut points each)"
        if not biased
        else f"[red]look-ahead found[/]: {'; '.join(biased)}"
    )
    console.rule(f"best: {best.strategy} on BTC/USDT and ETH/USDT, shared wallet, 2 slots")
    render_result(console, portfolio)
    written = []
    for result in results:
        path = out / f"{result.strategy}_BTC-USDT_1h.png"
        path.write_bytes(backtest_chart(result))
        written.append(path)
    compare_path = out / "comparison_BTC-USDT_1h.png"
    compare_path.write_bytes(comparison_chart(results))
    portfolio_path = out / f"{portfolio.strategy}_portfolio_1h.png"
    portfolio_path.write_bytes(backtest_chart(portfolio))
    json_path = out / f"{portfolio.strategy}_portfolio_1h.json"
    portfolio.write_json(json_path)
    console.print(f"charts: {', '.join(str(p) for p in [compare_path, portfolio_path, *written])}")
    console.print(f"trades and equity as JSON: {json_path}")
    from tradechat.commands.demo_chat import chat_tour

    images = chat_tour(console, out)
    console.print(f"chart replies saved: {', '.join(str(p) for p in images)}")
