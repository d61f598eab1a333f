"""Equity use cases: daily results from the equity snapshots, and the equity curve with its chart.

Conventions, the clock and periods are described in `botcore.services.history`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings
from botcore.errors import ParamError
from botcore.services.history import (
    change_pct,
    closed_trades,
    engine_clock_ms,
    equity_before,
    period_start_ms,
)
from botcore.timeframes import MS_PER_DAY

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from botcore.persistence import Store

__all__ = [
    "DEFAULT_DAYS",
    "DailyReport",
    "DayResult",
    "EquityReport",
    "daily",
    "equity",
    "equity_figure",
]

DEFAULT_DAYS = 7
_ZERO = Decimal(0)


@dataclass(frozen=True)
class DayResult:
    """One UTC day.

    Attributes:
        day_ms: 00:00 UTC of the day.
        equity_start: Equity at the end of the previous day with snapshots (the first snapshot
            of the run on its first day).
        equity_end: The day's last snapshot (at or before the clock).
        pnl, return_pct: `equity_end - equity_start`, and in percent of `equity_start`.
        trades, realised_pnl: Trades closed that day and the sum of their pnl.
    """

    day_ms: int
    equity_start: Decimal
    equity_end: Decimal
    pnl: Decimal
    return_pct: Decimal | None
    trades: int
    realised_pnl: Decimal


@dataclass(frozen=True)
class DailyReport:
    """The last `days` UTC days up to the clock's day, newest first; days without snapshots
    (before the run, or while the engine was down) are left out."""

    clock_ms: int
    quote: str
    days: tuple[DayResult, ...]


@dataclass(frozen=True)
class EquityReport:
    """The equity curve over the period and its chart.

    Attributes:
        timestamps_ms, equity: The snapshots in `[since_ms, clock_ms]`, oldest first.
        start_equity: Equity just before the period: the last snapshot before it, or the first
            snapshot of the run when it began inside the period (see `history.equity_before`).
        end_equity: The last snapshot in the period.
        change_pct: (end_equity - start_equity) / start_equity * 100.
        max_drawdown_pct: Deepest fall from a running peak within the period, `start_equity`
            counting as the first peak.
        png: The chart (equity over drawdown, 1080 x 810 px); None without snapshots.
    """

    clock_ms: int
    since_ms: int | None
    period_days: int | None
    quote: str
    timestamps_ms: tuple[int, ...]
    equity: tuple[Decimal, ...]
    start_equity: Decimal | None
    end_equity: Decimal | None
    change_pct: Decimal | None
    max_drawdown_pct: float | None
    png: bytes | None


def _curve(store: Store, clock_ms: int, since_ms: int | None) -> list[tuple[int, Decimal]]:
    return [p for p in store.equity_curve(since_ms=since_ms) if p[0] <= clock_ms]


def daily(
    settings: Settings, store: Store, days: int | None = None, now_ms: int | None = None
) -> DailyReport:
    """P&L and return of each UTC day from the equity snapshots, with the trades closed that day.

    Args:
        settings: The configuration (quote currency).
        store: The engine's store.
        days: How many UTC days, the clock's own (partial) day included; None: 7.
        now_ms: The moment of the report; None: the engine's clock.

    Raises:
        ParamError: `days` is below 1.
    """
    count = DEFAULT_DAYS if days is None else days
    if count < 1:
        raise ParamError(f"the number of days is at least 1, got {count}")
    clock = engine_clock_ms(store, now_ms)
    first_ms = (clock // MS_PER_DAY - count + 1) * MS_PER_DAY
    ends: dict[int, Decimal] = {}
    for t, e in _curve(store, clock, first_ms):
        ends[t // MS_PER_DAY * MS_PER_DAY] = e  # the curve is in time order: the last one stays
    closed: dict[int, list[Decimal]] = {}
    for trade in closed_trades(store, clock, first_ms):
        closed.setdefault(trade.exit_ms // MS_PER_DAY * MS_PER_DAY, []).append(trade.pnl)
    previous = equity_before(store, first_ms)
    results = []
    for day, end in ends.items():
        start = end if previous is None else previous
        pnl = end - start
        pnls = closed.get(day, [])
        results.append(
            DayResult(
                day_ms=day,
                equity_start=start,
                equity_end=end,
                pnl=pnl,
                return_pct=change_pct(pnl, start),
                trades=len(pnls),
                realised_pnl=sum(pnls, _ZERO),
            )
        )
        previous = end
    return DailyReport(clock, settings.trading.quote, tuple(reversed(results)))


def _title(period_days: int | None) -> str:
    if period_days is None:
        return "Equity · all time"
    return f"Equity · last {period_days} day{'s' if period_days != 1 else ''}"


def equity_figure(report: EquityReport) -> Figure:
    """The chart of a report's curve as a matplotlib figure (what `png` is rendered from).

    Raises:
        ParamError: the report has no snapshots.
    """
    from botcore.charts.account import build_account_equity_figure

    start = None if report.start_equity is None else float(report.start_equity)
    values = [float(e) for e in report.equity]
    title = _title(report.period_days)
    return build_account_equity_figure(report.timestamps_ms, values, report.quote, title, start)


def equity(
    settings: Settings,
    store: Store,
    period_days: int | None = None,
    now_ms: int | None = None,
    chart: bool = True,
) -> EquityReport:
    """The equity curve over the period, its change and drawdown, and a PNG chart of it.

    Args:
        settings: The configuration (quote currency).
        store: The engine's store.
        period_days: The last N days up to the clock (None: all time).
        now_ms: The moment of the report; None: the engine's clock.
        chart: False skips rendering the PNG (about 0.2 s), e.g. for a table view.

    Raises:
        ParamError: `period_days` is below 1.
    """
    clock = engine_clock_ms(store, now_ms)
    since = period_start_ms(clock, period_days)
    curve = _curve(store, clock, since)
    quote = settings.trading.quote
    if not curve:
        return EquityReport(clock, since, period_days, quote, (), (), None, None, None, None, None)
    import numpy as np

    from botcore.backtest.metrics import drawdown_pct

    values = np.array([float(e) for _, e in curve], dtype=np.float64)
    # all time starts at the curve's own first snapshot; equity_before finds at least that one
    start = curve[0][1] if since is None else equity_before(store, since) or curve[0][1]
    end = curve[-1][1]
    report = EquityReport(
        clock_ms=clock,
        since_ms=since,
        period_days=period_days,
        quote=quote,
        timestamps_ms=tuple(t for t, _ in curve),
        equity=tuple(e for _, e in curve),
        start_equity=start,
        end_equity=end,
        change_pct=change_pct(end - start, start),
        max_drawdown_pct=float(drawdown_pct(values, float(start)).max()),
        png=None,
    )
    if not chart:
        return report
    from botcore.charts.style import figure_to_png

    return replace(report, png=figure_to_png(equity_figure(report)))
