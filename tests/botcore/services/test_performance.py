"""Statistics and performance by symbol and strategy, recomputed from a real replay's rows."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from decimal import Decimal

import numpy as np
import pytest

from botcore.config import Settings
from botcore.persistence import Store
from botcore.services.performance import performance, stats
from tests.botcore.services import raw
from tests.botcore.services.conftest import Replay


def _sharpe(curve: list[tuple[int, Decimal]]) -> float:
    """Daily returns between UTC day ends, the first snapshot before the first day, x sqrt(365)."""
    ends: dict[int, float] = {}
    for t, e in curve:
        ends[t // raw.DAY_MS] = float(e)
    closes = [float(curve[0][1]), *ends.values()]
    returns = [b / a - 1 for a, b in itertools.pairwise(closes)]
    return float(np.mean(returns) / np.std(returns, ddof=1) * math.sqrt(365))


def _max_drawdown_pct(curve: list[tuple[int, Decimal]]) -> float:
    peak, deepest = float(curve[0][1]), 0.0
    for _, e in curve:
        peak = max(peak, float(e))
        deepest = max(deepest, (1 - float(e) / peak) * 100)
    return deepest


def test_stats_of_the_whole_run(replay: Replay, store: Store) -> None:
    rows = raw.trades(replay.db)
    curve = raw.equity(replay.db)
    wins = [t.pnl for t in rows if t.pnl > 0]
    losses = [t.pnl for t in rows if t.pnl < 0]
    report = stats(replay.settings, store)

    assert (report.trades, report.wins, report.losses) == (len(rows), len(wins), len(losses))
    assert report.win_rate_pct == Decimal(len(wins)) / len(rows) * 100
    assert report.gross_profit == sum(wins)
    assert report.gross_loss == sum(losses)
    assert report.profit_factor == sum(wins) / -sum(losses)
    assert report.expectancy == sum(t.pnl for t in rows) / len(rows)
    assert report.avg_win == sum(wins) / len(wins)
    assert report.avg_loss == sum(losses) / len(losses)
    assert report.fees == sum(t.fee for t in rows)
    best = max(rows, key=lambda t: t.pnl_pct)
    worst = min(rows, key=lambda t: t.pnl_pct)
    assert report.best_trade is not None
    assert report.worst_trade is not None
    assert (report.best_trade.id, report.worst_trade.id) == (best.id, worst.id)
    assert (report.start_equity, report.end_equity) == (curve[0][1], curve[-1][1])
    assert report.total_return_pct == (curve[-1][1] - curve[0][1]) / curve[0][1] * 100
    assert report.days == len({t // raw.DAY_MS for t, _ in curve}) == 4
    assert report.max_drawdown_pct == pytest.approx(_max_drawdown_pct(curve), rel=1e-12)
    assert (report.max_drawdown_pct or 0) > 0
    assert report.sharpe == pytest.approx(_sharpe(curve), rel=1e-9)
    assert report.sortino is not None


def test_stats_at_an_earlier_clock_leave_out_what_came_later(replay: Replay, store: Store) -> None:
    curve = raw.equity(replay.db)
    now = curve[100][0]
    rows = [t for t in raw.trades(replay.db) if t.exit_ms <= now]
    report = stats(replay.settings, store, now_ms=now)
    assert report.trades == len(rows)
    assert report.end_equity == curve[100][1]
    assert report.max_drawdown_pct == pytest.approx(_max_drawdown_pct(curve[:101]), rel=1e-12)


def test_stats_of_an_empty_store(empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    report = stats(settings, store)
    assert report.trades == 0
    assert report.win_rate_pct is None
    assert report.profit_factor is None
    assert report.expectancy is None
    assert report.best_trade is None
    assert report.total_return_pct is None
    assert report.max_drawdown_pct is None
    assert report.sharpe is None
    assert report.days == 0


def _groups(rows: list[raw.Trade], by_symbol: bool) -> dict[str, list[raw.Trade]]:
    groups: dict[str, list[raw.Trade]] = defaultdict(list)
    for t in rows:
        groups[t.symbol if by_symbol else t.strategy].append(t)
    return groups


@pytest.mark.parametrize("period_days", [None, 1, 2])
def test_performance_by_symbol_and_by_strategy(
    replay: Replay, store: Store, period_days: int | None
) -> None:
    clock = raw.clock(replay.db)
    since = -1 if period_days is None else clock - period_days * raw.DAY_MS
    rows = [t for t in raw.trades(replay.db) if t.exit_ms >= since]
    report = performance(replay.settings, store, period_days=period_days)
    assert report.since_ms == (None if period_days is None else since)
    for by_symbol, got in ((True, report.by_symbol), (False, report.by_strategy)):
        expected = _groups(rows, by_symbol)
        assert {g.name for g in got} == set(expected)
        assert [g.pnl for g in got] == sorted((g.pnl for g in got), reverse=True)
        for group in got:
            mine = expected[group.name]
            pnl = sum(t.pnl for t in mine)
            assert group.trades == len(mine)
            assert group.wins == sum(1 for t in mine if t.pnl > 0)
            assert group.win_rate_pct == Decimal(group.wins) / len(mine) * 100
            assert group.pnl == pnl
            assert group.pnl_pct == pnl / sum(t.amount * t.entry_price for t in mine) * 100
            assert group.avg_trade_pct == sum(t.pnl_pct for t in mine) / len(mine)
            assert group.fees == sum(t.fee for t in mine)
    # this replay runs one strategy per symbol
    assert {g.name for g in report.by_strategy} <= {"sma_cross", "ema_cross"}


def test_performance_of_an_empty_store(empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    report = performance(settings, store, period_days=30)
    assert report.by_symbol == ()
    assert report.by_strategy == ()
