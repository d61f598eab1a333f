"""Rich tables for backtest results: summary, per-pair and exit-reason breakdowns, comparisons."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table

from botcore.backtest.result import BacktestResult

__all__ = ["render_comparison", "render_result"]


def _num(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value:,.{digits}f}{suffix}"


def _signed(value: Any, suffix: str = " %") -> str:
    if value is None:
        return "-"
    colour = "green" if value > 0 else "red" if value < 0 else "white"
    return f"[{colour}]{value:+,.2f}{suffix}[/]"


def _describe_sizing(settings: dict[str, Any]) -> str:
    mode, value = settings["size_mode"], settings["size_value"]
    if mode == 1:
        return f"{value:,.2f} quote per trade"
    if mode == 2:
        return f"risk {value:g} % of equity to the stop"
    return f"{value:g} % of equity per trade"


def _describe_stops(settings: dict[str, Any]) -> str:
    parts = [
        f"{label} {settings[key]:g} %"
        for key, label in (
            ("stop_loss_pct", "stop"),
            ("take_profit_pct", "take-profit"),
            ("trailing_stop_pct", "trailing"),
        )
        if settings.get(key)
    ]
    return ", ".join(parts) or "none"


def _summary_rows(result: BacktestResult) -> list[tuple[str, str]]:
    m = result.metrics
    return [
        ("Period", f"{m.start} → {m.end}"),
        ("Initial cash", _num(m.initial_cash)),
        ("Final equity", _num(m.final_equity)),
        ("Total return", _signed(m.total_return_pct)),
        ("CAGR", _signed(m.cagr_pct)),
        ("Buy & hold return", _signed(m.buy_hold_return_pct)),
        ("Max drawdown", _num(m.max_drawdown_pct, suffix=" %")),
        ("Max drawdown duration", _num(m.max_drawdown_duration_days, 1, " days")),
        ("Sharpe", _num(m.sharpe)),
        ("Sortino", _num(m.sortino)),
        ("Calmar", _num(m.calmar)),
        ("SQN", _num(m.sqn)),
        ("Trades", _num(m.trades)),
        ("Win rate", _num(m.win_rate_pct, 1, " %")),
        ("Profit factor", _num(m.profit_factor)),
        ("Expectancy (per trade)", _num(m.expectancy)),
        (
            "Avg / best / worst trade",
            f"{_num(m.avg_trade_pct)} / {_num(m.best_trade_pct)} / {_num(m.worst_trade_pct)} %",
        ),
        ("Avg trade duration", _num(m.avg_trade_duration_hours, 1, " h")),
        ("Max consecutive wins / losses", f"{m.max_consecutive_wins} / {m.max_consecutive_losses}"),
        ("Exposure", _num(m.exposure_pct, 1, " %")),
        ("Fees paid", _num(m.fees_paid)),
        ("Rejected entries", _num(m.rejected_entries)),
    ]


def _group_table(title: str, key: str, trades: pd.DataFrame) -> Table:
    table = Table(title=title, title_justify="left")
    for col in (key, "Trades", "Avg %", "Total P&L", "Win %", "Avg hours"):
        table.add_column(col, justify="left" if col == key else "right")
    hours = (trades["exit_time"] - trades["entry_time"]) / 3_600_000
    grouped = trades.assign(hours=hours).groupby(key, sort=True)
    for name, group in grouped:
        table.add_row(
            str(name),
            str(len(group)),
            _signed(group["pnl_pct"].mean(), ""),
            _signed(group["pnl"].sum(), ""),
            f"{(group['pnl'] > 0).mean() * 100:.1f}",
            f"{group['hours'].mean():.1f}",
        )
    return table


def render_result(console: Console, result: BacktestResult) -> None:
    """Print the full report of one backtest."""
    params = ", ".join(f"{k}={v}" for k, v in result.params.items())
    s = result.settings
    console.print(
        f"[bold]{result.strategy}[/]({params}) on {', '.join(result.symbols)} "
        f"{result.timeframe} ({result.exchange})"
    )
    console.print(
        f"fills: {'next bar open' if s['fill'] == 'next_open' else 'signal bar close'} · "
        f"fee {s['fee'] * 100:g} % · slippage {s['slippage'] * 100:g} % · "
        f"sizing: {_describe_sizing(s)} · stops: {_describe_stops(s)} · "
        f"max open {s['max_open_positions']}"
    )
    for warning in result.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    for symbol, quality in result.quality.items():
        for issue in quality.issues():
            console.print(f"[yellow]data {symbol}:[/] {issue}")
    summary = Table(title="Summary", title_justify="left", show_header=False)
    summary.add_column("Metric")
    summary.add_column("Value", justify="right")
    for name, value in _summary_rows(result):
        summary.add_row(name, value)
    console.print(summary)
    if len(result.trades):
        if len(result.symbols) > 1:
            console.print(_group_table("By pair", "symbol", result.trades))
        console.print(_group_table("By exit reason", "exit_reason", result.trades))


def _plain(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


_COMPARE_COLUMNS: tuple[tuple[str, Callable[[BacktestResult], str]], ...] = (
    ("Trades", lambda r: str(r.metrics.trades)),
    ("Ret %", lambda r: _signed(r.metrics.total_return_pct, "")),
    ("CAGR %", lambda r: _plain(r.metrics.cagr_pct, 1)),
    ("DD %", lambda r: _plain(r.metrics.max_drawdown_pct, 1)),
    ("Sharpe", lambda r: _plain(r.metrics.sharpe)),
    ("Sortino", lambda r: _plain(r.metrics.sortino)),
    ("Calmar", lambda r: _plain(r.metrics.calmar)),
    ("Win %", lambda r: _plain(r.metrics.win_rate_pct, 1)),
    ("PF", lambda r: _plain(r.metrics.profit_factor)),
    ("Exp %", lambda r: _plain(r.metrics.exposure_pct, 0)),
)


def render_comparison(console: Console, results: Sequence[BacktestResult], title: str) -> None:
    """One row per result, best return first, with buy & hold as a reference line."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("Strategy", no_wrap=True)
    for name, _ in _COMPARE_COLUMNS:
        table.add_column(name, justify="right")
    ranked = sorted(results, key=lambda r: r.metrics.total_return_pct, reverse=True)
    for result in ranked:
        table.add_row(result.strategy, *(render(result) for _, render in _COMPARE_COLUMNS))
    if results:
        table.add_row(
            "[dim]buy & hold[/]",
            "",
            _signed(results[0].metrics.buy_hold_return_pct, ""),
            *([""] * (len(_COMPARE_COLUMNS) - 2)),
        )
    console.print(table)
