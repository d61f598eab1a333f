"""Rich tables for `tradechat optimize`: the best trials of a search, walk-forward OOS results."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from botcore.backtest.metrics import Metrics
from botcore.optimize.search import SearchResult
from botcore.optimize.walkforward import WalkForwardResult
from botcore.timeframes import to_iso

__all__ = ["params_text", "render_search", "render_walk_forward"]


def _num(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):  # bool is an int too
        return str(value)
    return f"{value:,.{digits}f}"


def _param(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def params_text(params: dict[str, Any]) -> str:
    """`fast=10 slow=30 std=2.5`: parameters as the command line writes them."""
    return " ".join(f"{k}={_param(v)}" for k, v in params.items())


def render_search(console: Console, result: SearchResult, objective: str, top: int = 10) -> None:
    """Print the study summary, a table of the best trials and the best parameters."""
    counts = result.counts()
    states = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
    console.print(f"[bold]Study[/] {result.study}\n[bold]Storage[/] {result.storage}")
    console.print(
        f"[bold]Trials[/] {result.total} wanted: ran {result.ran} now in {result.seconds:.1f} s "
        f"({states})"
    )
    searched = [name for name, text in result.space.items() if not text.startswith("fixed")]
    table = Table(title=f"Best trials by {objective}", box=box.SIMPLE_HEAD)
    for column in ("#", "trial", objective, "return %", "max DD %", "trades", *searched):
        table.add_column(column, justify="right")
    for rank, trial in enumerate(result.top(top), start=1):
        m = trial.metrics
        table.add_row(
            str(rank),
            str(trial.number),
            _num(trial.value, 4),
            _num(m.get("total_return_pct")),
            _num(m.get("max_drawdown_pct")),
            _num(m.get("trades")),
            *(_param(trial.params[name]) for name in searched),
        )
    console.print(table)
    fixed = {k: v for k, v in result.best_params.items() if k not in searched}
    if fixed:
        console.print(f"[bold]Fixed[/] {params_text(fixed)}")
    console.print(
        f"[bold]Best[/] {params_text(result.best_params)}  ({objective} {result.best_value:.4f})"
    )


def render_walk_forward(console: Console, result: WalkForwardResult) -> None:
    """Print the out-of-sample fold table and the stitched OOS totals (nothing in-sample)."""
    console.print(
        f"[bold]Walk-forward[/] {result.strategy}, {len(result.folds)} folds, in-sample "
        f"{result.ratio:g}× out-of-sample, objective {result.objective}, {result.seconds:.1f} s\n"
        f"[bold]Studies[/] {result.study}.fold<k>of{len(result.folds)} in {result.storage}"
    )
    table = Table(title="Out-of-sample folds", box=box.SIMPLE_HEAD)
    for column in (
        "fold",
        "optimised on",
        "tested on (OOS)",
        "params",
        result.objective,
        "return %",
        "max DD %",
        "trades",
    ):
        table.add_column(column, justify="left" if column in ("params",) else "right")
    for fold in result.folds:
        w, m = fold.window, fold.oos_metrics
        table.add_row(
            str(w.index),
            f"{_day(w.in_sample_start_ms)} → {_day(w.in_sample_end_ms)}",
            f"{_day(w.oos_start_ms)} → {_day(w.oos_end_ms)}",
            params_text(fold.best_params),
            _num(fold.oos_value, 4),
            _num(m.total_return_pct),
            _num(m.max_drawdown_pct),
            _num(m.trades),
        )
    console.print(table)
    console.print(_totals(result.stitched.metrics))


def _day(ms: int) -> str:
    text = to_iso(ms)
    return text[:10] if text.endswith("T00:00:00Z") else text[:16].replace("T", " ")


def _totals(m: Metrics) -> Table:
    table = Table(
        title="Out-of-sample totals (folds chained)", box=box.SIMPLE_HEAD, show_header=False
    )
    table.add_column("metric")
    table.add_column("value", justify="right")
    rows = [
        ("Period", f"{m.start} → {m.end}"),
        ("Total return %", _num(m.total_return_pct)),
        ("CAGR %", _num(m.cagr_pct)),
        ("Buy & hold %", _num(m.buy_hold_return_pct)),
        ("Max drawdown %", _num(m.max_drawdown_pct)),
        ("Sharpe", _num(m.sharpe)),
        ("Sortino", _num(m.sortino)),
        ("Calmar", _num(m.calmar)),
        ("Trades", _num(m.trades)),
        ("Win rate %", _num(m.win_rate_pct)),
        ("Exposure %", _num(m.exposure_pct)),
        ("Fees paid", _num(m.fees_paid)),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table
