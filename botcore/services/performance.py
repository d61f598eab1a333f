"""Account performance use cases: statistics of the whole run, and performance by symbol and by
strategy over a period, from what the engine persisted.

Conventions, the clock and periods are described in `botcore.services.history`. The
equity statistics (Sharpe, Sortino, max drawdown) are those of `botcore.backtest.metrics`, with the
first equity snapshot as the initial cash, so a paper run and a backtest are measured alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings
from botcore.execution.positions import ClosedTrade
from botcore.services.history import change_pct, closed_trades, engine_clock_ms, period_start_ms
from botcore.timeframes import MS_PER_DAY, timeframe_ms

if TYPE_CHECKING:
    from botcore.persistence import Store

__all__ = ["GroupPerformance", "PerformanceReport", "StatsReport", "performance", "stats"]

_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class StatsReport:
    """All-time statistics up to the clock.

    Attributes:
        trades, wins, losses: Closed trades; a win has pnl > 0, a loss pnl < 0.
        win_rate_pct: wins / trades * 100.
        profit_factor: gross profit / gross loss (None without a losing trade).
        expectancy: Mean pnl per trade.
        avg_win, avg_loss: Mean pnl of the wins, of the losses (a loss is negative).
        gross_profit, gross_loss: Sum of winning pnl, of losing pnl (negative).
        best_trade, worst_trade: The trades with the highest and lowest pnl_pct.
        fees: Sum of the trades' fees.
        start_equity, end_equity: First snapshot, and the latest at or before the clock.
        total_return_pct: (end_equity - start_equity) / start_equity * 100.
        max_drawdown_pct: Deepest fall from a running peak of the equity curve.
        sharpe, sortino: From daily returns (equity at the last snapshot of each UTC day),
            annualised with 365 days, risk-free rate 0; None with fewer than two days.
        days: UTC days with snapshots (the daily returns behind Sharpe).
    """

    clock_ms: int
    quote: str
    trades: int
    wins: int
    losses: int
    win_rate_pct: Decimal | None
    profit_factor: Decimal | None
    expectancy: Decimal | None
    avg_win: Decimal | None
    avg_loss: Decimal | None
    gross_profit: Decimal
    gross_loss: Decimal
    best_trade: ClosedTrade | None
    worst_trade: ClosedTrade | None
    fees: Decimal
    start_equity: Decimal | None
    end_equity: Decimal | None
    total_return_pct: Decimal | None
    max_drawdown_pct: float | None
    sharpe: float | None
    sortino: float | None
    days: int


@dataclass(frozen=True)
class GroupPerformance:
    """Trades of one symbol or one strategy.

    Attributes:
        name: The symbol or the strategy ("" for trades no strategy opened).
        pnl: Sum of pnl (net of fees).
        pnl_pct: pnl in percent of the capital the trades committed (sum of amount x entry price).
        avg_trade_pct: Mean of the trades' pnl_pct.
    """

    name: str
    trades: int
    wins: int
    win_rate_pct: Decimal
    pnl: Decimal
    pnl_pct: Decimal | None
    avg_trade_pct: Decimal
    fees: Decimal


@dataclass(frozen=True)
class PerformanceReport:
    """Trades closed in the period, grouped by symbol and by strategy, best pnl first."""

    clock_ms: int
    since_ms: int | None
    quote: str
    by_symbol: tuple[GroupPerformance, ...]
    by_strategy: tuple[GroupPerformance, ...]


def _mean(values: Sequence[Decimal]) -> Decimal | None:
    return sum(values, _ZERO) / len(values) if values else None


def _step_ms(settings: Settings) -> int:
    steps = [timeframe_ms(s.timeframe) for s in settings.market.symbols]
    return min(steps, default=3_600_000)


def _equity_stats(
    settings: Settings, curve: Sequence[tuple[int, Decimal]], done: Sequence[ClosedTrade]
) -> tuple[float | None, float | None, float | None]:
    """(max drawdown %, Sharpe, Sortino) as the backtester defines them."""
    if not curve:
        return None, None, None
    import numpy as np
    import pandas as pd

    from botcore.backtest.metrics import compute_metrics

    stamps = np.array([t for t, _ in curve], dtype=np.int64)
    values = np.array([float(e) for _, e in curve], dtype=np.float64)
    frame = pd.DataFrame(
        {
            "entry_time": [t.entry_ms for t in done],
            "exit_time": [t.exit_ms for t in done],
            "pnl": [float(t.pnl) for t in done],
            "pnl_pct": [float(t.pnl_pct) for t in done],
            "fee": [float(t.fee) for t in done],
        }
    )
    m = compute_metrics(stamps, values, frame, float(values[0]), _step_ms(settings), None, 0.0)
    return m.max_drawdown_pct, m.sharpe, m.sortino


def stats(settings: Settings, store: Store, now_ms: int | None = None) -> StatsReport:
    """Trade and equity statistics of the whole run up to the clock.

    Args:
        settings: The configuration (quote currency).
        store: The engine's store.
        now_ms: The moment of the report; None: the engine's clock.
    """
    clock = engine_clock_ms(store, now_ms)
    done = closed_trades(store, clock)
    curve = [p for p in store.equity_curve() if p[0] <= clock]
    won = [t.pnl for t in done if t.pnl > 0]
    lost = [t.pnl for t in done if t.pnl < 0]
    gross_profit, gross_loss = sum(won, _ZERO), sum(lost, _ZERO)
    start = curve[0][1] if curve else None
    end = curve[-1][1] if curve else None
    max_dd, sharpe, sortino = _equity_stats(settings, curve, done)
    by_pct = sorted(done, key=lambda t: t.pnl_pct)
    return StatsReport(
        clock_ms=clock,
        quote=settings.trading.quote,
        trades=len(done),
        wins=len(won),
        losses=len(lost),
        win_rate_pct=Decimal(len(won)) / len(done) * _HUNDRED if done else None,
        profit_factor=gross_profit / -gross_loss if lost else None,
        expectancy=_mean([t.pnl for t in done]),
        avg_win=_mean(won),
        avg_loss=_mean(lost),
        gross_profit=gross_profit,
        gross_loss=gross_loss,
        best_trade=by_pct[-1] if by_pct else None,
        worst_trade=by_pct[0] if by_pct else None,
        fees=sum((t.fee for t in done), _ZERO),
        start_equity=start,
        end_equity=end,
        total_return_pct=None if start is None or end is None else change_pct(end - start, start),
        max_drawdown_pct=max_dd,
        sharpe=sharpe,
        sortino=sortino,
        days=len({t // MS_PER_DAY for t, _ in curve}),
    )


def _group(name: str, group: Sequence[ClosedTrade]) -> GroupPerformance:
    wins = sum(1 for t in group if t.pnl > 0)
    pnl = sum((t.pnl for t in group), _ZERO)
    committed = sum((t.amount * t.entry_price for t in group), _ZERO)
    return GroupPerformance(
        name=name,
        trades=len(group),
        wins=wins,
        win_rate_pct=Decimal(wins) / len(group) * _HUNDRED,
        pnl=pnl,
        pnl_pct=pnl / committed * _HUNDRED if committed > 0 else None,
        avg_trade_pct=sum((t.pnl_pct for t in group), _ZERO) / len(group),
        fees=sum((t.fee for t in group), _ZERO),
    )


def _grouped(done: Iterable[ClosedTrade], by_symbol: bool) -> tuple[GroupPerformance, ...]:
    groups: dict[str, list[ClosedTrade]] = {}
    for t in done:
        groups.setdefault(t.symbol if by_symbol else t.strategy, []).append(t)
    rows = [_group(name, group) for name, group in groups.items()]
    return tuple(sorted(rows, key=lambda g: (-g.pnl, g.name)))


def performance(
    settings: Settings, store: Store, period_days: int | None = None, now_ms: int | None = None
) -> PerformanceReport:
    """Trades closed in the period, by symbol and by strategy.

    Args:
        settings: The configuration (quote currency).
        store: The engine's store.
        period_days: The last N days up to the clock (None: all time).
        now_ms: The moment of the report; None: the engine's clock.

    Raises:
        ParamError: `period_days` is below 1.
    """
    clock = engine_clock_ms(store, now_ms)
    since = period_start_ms(clock, period_days)
    done = closed_trades(store, clock, since)
    return PerformanceReport(
        clock, since, settings.trading.quote, _grouped(done, True), _grouped(done, False)
    )
