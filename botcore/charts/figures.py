"""Whole charts of a backtest: `build_*_figure` returns the Figure, `*_chart` its PNG bytes."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from botcore.backtest.result import BacktestResult
from botcore.charts.panels import (
    draw_comparison,
    draw_drawdown,
    draw_equity,
    draw_price,
    draw_returns,
)
from botcore.charts.series import pick_symbol
from botcore.charts.style import chart_style, figure_to_png, new_figure, pct_text
from botcore.errors import ParamError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "backtest_chart",
    "build_backtest_figure",
    "build_comparison_figure",
    "build_equity_figure",
    "build_price_figure",
    "build_returns_figure",
    "comparison_chart",
    "equity_chart",
    "price_chart",
    "returns_chart",
    "write_charts",
]


def _market(result: BacktestResult) -> str:
    symbols = (
        " + ".join(result.symbols)
        if len(result.symbols) <= 2
        else (f"{len(result.symbols)} symbols")
    )
    return f"{symbols} {result.timeframe}"


def _headline(result: BacktestResult) -> str:
    return f"{_market(result)} · {result.strategy} · {pct_text(result.metrics.total_return_pct)}"


def _trades_text(count: int) -> str:
    return "1 trade" if count == 1 else f"{count} trades"


def _symbol_trades(result: BacktestResult, symbol: str) -> pd.DataFrame:
    return result.trades[result.trades["symbol"] == symbol]


def build_price_figure(result: BacktestResult, symbol: str | None = None) -> Figure:
    """Price of one symbol with the strategy's price-scale indicators and its trades.

    Entries are up triangles at the fill price; exits are down triangles, green for a winning
    trade and vermilion for a losing one.

    Args:
        result: A finished backtest.
        symbol: Which of the result's symbols to draw (default: the first).

    Raises:
        ParamError: `symbol` is not one of the result's symbols.
    """
    name = pick_symbol(result, symbol)
    trades = _symbol_trades(result, name)
    with chart_style():
        figure = new_figure("price")
        ax = figure.axes[0]
        draw_price(ax, result.frames[name], trades, name)
        title = f"{name} {result.timeframe} · {result.strategy} · {_trades_text(len(trades))}"
        figure.suptitle(title)
    return figure


def build_equity_figure(result: BacktestResult) -> Figure:
    """Equity against buy and hold (initial cash in the same symbols) with drawdown beneath.

    Args:
        result: A finished backtest; equity in quote currency, drawdown in percent of the peak.
    """
    with chart_style():
        figure = new_figure("equity", rows=2, height_ratios=[3.0, 1.3])
        top, bottom = figure.axes
        draw_equity(top, result)
        draw_drawdown(bottom, result)
        figure.suptitle(_headline(result))
    return figure


def build_returns_figure(result: BacktestResult) -> Figure:
    """Histogram of the trades' returns in percent (pnl_pct), wins and losses coloured.

    Bins are of equal width with an edge at 0; the mean return is a dashed line. A result
    without trades gives a figure saying "No trades".

    Args:
        result: A finished backtest.
    """
    with chart_style():
        figure = new_figure("returns")
        draw_returns(figure.axes[0], result.trades)
        m = result.metrics
        wins = f", {m.win_rate_pct:.0f}% won" if m.win_rate_pct is not None else ""
        figure.suptitle(f"{_market(result)} · {result.strategy} · {_trades_text(m.trades)}{wins}")
    return figure


def build_comparison_figure(
    results: Sequence[BacktestResult], labels: Sequence[str] | None = None
) -> Figure:
    """Several results' equity curves as percent return on their initial cash.

    Args:
        results: Backtests to compare, usually of different strategies on the same data.
        labels: Legend names, one per result (default: the strategy names, with the
            parameters added when a strategy appears twice).

    Raises:
        ParamError: no results, or `labels` of the wrong length.
    """
    if not results:
        raise ParamError("nothing to compare: give at least one backtest result")
    names = list(labels) if labels is not None else _default_labels(results)
    if len(names) != len(results):
        raise ParamError(f"{len(names)} labels for {len(results)} results")
    with chart_style():
        figure = new_figure("comparison")
        draw_comparison(figure.axes[0], results, names)
        markets = {_market(r) for r in results}
        where = markets.pop() if len(markets) == 1 else "several markets"
        figure.suptitle(f"{where} · strategy comparison")
    return figure


def _default_labels(results: Sequence[BacktestResult]) -> list[str]:
    names = [r.strategy for r in results]
    return [
        f"{r.strategy}({', '.join(f'{k}={v}' for k, v in r.params.items())})"
        if names.count(r.strategy) > 1
        else r.strategy
        for r in results
    ]


def build_backtest_figure(result: BacktestResult, symbol: str | None = None) -> Figure:
    """The main chart: price with trades, equity against buy and hold, drawdown, stacked.

    Args:
        result: A finished backtest.
        symbol: Whose price to draw for a multi-symbol result (default: the first).

    Raises:
        ParamError: `symbol` is not one of the result's symbols.
    """
    name = pick_symbol(result, symbol)
    with chart_style():
        figure = new_figure("backtest", rows=3, height_ratios=[3.0, 2.0, 1.2])
        price, equity, drawdown = figure.axes
        draw_price(price, result.frames[name], _symbol_trades(result, name), name)
        draw_equity(equity, result)
        draw_drawdown(drawdown, result)
        for ax in (price, equity):
            ax.tick_params(labelbottom=False)
        figure.suptitle(_headline(result))
    return figure


def price_chart(result: BacktestResult, symbol: str | None = None) -> bytes:
    """PNG bytes of `build_price_figure(result, symbol)` (1080 x 810 px).

    Args:
        result: A finished backtest.
        symbol: Which of the result's symbols to draw (default: the first).

    Raises:
        ParamError: `symbol` is not one of the result's symbols.
    """
    return figure_to_png(build_price_figure(result, symbol))


def equity_chart(result: BacktestResult) -> bytes:
    """PNG bytes of `build_equity_figure(result)` (1080 x 810 px).

    Args:
        result: A finished backtest.
    """
    return figure_to_png(build_equity_figure(result))


def returns_chart(result: BacktestResult) -> bytes:
    """PNG bytes of `build_returns_figure(result)` (1080 x 720 px).

    Args:
        result: A finished backtest.
    """
    return figure_to_png(build_returns_figure(result))


def comparison_chart(
    results: Sequence[BacktestResult], labels: Sequence[str] | None = None
) -> bytes:
    """PNG bytes of `build_comparison_figure(results, labels)` (1080 x 810 px).

    Args:
        results: Backtests to compare.
        labels: Legend names, one per result (default: the strategy names).

    Raises:
        ParamError: no results, or `labels` of the wrong length.
    """
    return figure_to_png(build_comparison_figure(results, labels))


def backtest_chart(result: BacktestResult, symbol: str | None = None) -> bytes:
    """PNG bytes of the main chart, `build_backtest_figure(result, symbol)` (1080 x 1350 px).

    This is what `tradechat backtest --chart OUT.png` writes and what chat replies attach.

    Args:
        result: A finished backtest.
        symbol: Whose price to draw for a multi-symbol result (default: the first).

    Raises:
        ParamError: `symbol` is not one of the result's symbols.
    """
    return figure_to_png(build_backtest_figure(result, symbol))


def _slug(symbol: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", symbol).strip("-")


def write_charts(result: BacktestResult, folder: Path) -> list[Path]:
    """Write every chart of `result` into `folder` (created if missing), replacing old files.

    File names: `backtest.png` (the main chart), `equity.png`, `returns.png`, and one
    `price_<SYMBOL>.png` per symbol with `/` written `-` (e.g. `price_BTC-USDT.png`).

    Args:
        result: A finished backtest.
        folder: Where to write; files of the same names are overwritten.

    Returns:
        The written paths in that order.
    """
    folder.mkdir(parents=True, exist_ok=True)
    charts: list[tuple[str, Callable[[], bytes]]] = [
        ("backtest.png", partial(backtest_chart, result)),
        ("equity.png", partial(equity_chart, result)),
        ("returns.png", partial(returns_chart, result)),
    ]
    charts += [(f"price_{_slug(s)}.png", partial(price_chart, result, s)) for s in result.symbols]
    paths = []
    for name, render in charts:
        path = folder / name
        path.write_bytes(render())
        paths.append(path)
    return paths
