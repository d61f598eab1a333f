"""Daily results and the equity curve with its chart, recomputed from a real replay's rows."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from botcore.charts.style import HEIGHT_PX, WIDTH_PX, figure_to_png, to_days
from botcore.config import Settings
from botcore.errors import ParamError
from botcore.persistence import Store
from botcore.services.equity import daily, equity, equity_figure
from tests.botcore.services import raw
from tests.botcore.services.conftest import Replay


def _line(figure: Figure, gid: str) -> Line2D:
    found = [ln for ax in figure.axes for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def _xy(line: Line2D) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)


def _day_rows(
    replay: Replay, first_day: int, clock: int
) -> list[tuple[int, Decimal, Decimal, int]]:
    """(day, start, end, trades) per UTC day with snapshots from `first_day` on, oldest first."""
    curve = [(t, e) for t, e in raw.equity(replay.db) if t <= clock]
    rows = []
    for day in sorted({t // raw.DAY_MS for t, _ in curve if t // raw.DAY_MS >= first_day}):
        start = raw.last_before(curve, day * raw.DAY_MS)
        end = raw.last_at_or_before(curve, (day + 1) * raw.DAY_MS - 1)
        closed = [t for t in raw.trades(replay.db) if t.exit_ms // raw.DAY_MS == day]
        rows.append((day * raw.DAY_MS, start, end, len(closed)))
    return rows


def test_daily_compares_each_days_last_snapshot_with_the_day_before(
    replay: Replay, store: Store
) -> None:
    clock = raw.clock(replay.db)
    report = daily(replay.settings, store, days=3)
    expected = _day_rows(replay, clock // raw.DAY_MS - 2, clock)
    assert len(report.days) == 3
    assert [(d.day_ms, d.equity_start, d.equity_end, d.trades) for d in report.days] == list(
        reversed(expected)
    )
    for day in report.days:
        assert day.pnl == day.equity_end - day.equity_start
        assert day.return_pct == day.pnl / day.equity_start * 100
        closed = [
            t for t in raw.trades(replay.db) if t.exit_ms // raw.DAY_MS * raw.DAY_MS == day.day_ms
        ]
        assert day.realised_pnl == sum(t.pnl for t in closed)
    # consecutive days chain: each day starts where the one before ended
    assert report.days[0].equity_start == report.days[1].equity_end


def test_daily_over_more_days_than_the_run_starts_at_the_first_snapshot(
    replay: Replay, store: Store
) -> None:
    curve = raw.equity(replay.db)
    report = daily(replay.settings, store, days=30)
    assert len(report.days) == 4  # the run's days; days before it are left out
    first = report.days[-1]
    assert first.equity_start == curve[0][1]
    assert sum(d.pnl for d in report.days) == curve[-1][1] - curve[0][1]
    assert sum(d.trades for d in report.days) == len(raw.trades(replay.db))
    assert len(daily(replay.settings, store).days) == 4  # 7 days by default
    with pytest.raises(ParamError):
        daily(replay.settings, store, days=0)


def test_daily_at_an_earlier_clock(replay: Replay, store: Store) -> None:
    curve = raw.equity(replay.db)
    now = curve[150][0]
    report = daily(replay.settings, store, days=2, now_ms=now)
    expected = _day_rows(replay, now // raw.DAY_MS - 1, now)
    assert [(d.day_ms, d.equity_start, d.equity_end) for d in report.days] == [
        (day, start, end) for day, start, end, _ in reversed(expected)
    ]
    assert report.days[0].equity_end == curve[150][1]


def test_equity_over_a_period_is_the_curve_inside_it(replay: Replay, store: Store) -> None:
    curve = raw.equity(replay.db)
    clock = raw.clock(replay.db)
    since = clock - raw.DAY_MS
    inside = [(t, e) for t, e in curve if since <= t <= clock]
    report = equity(replay.settings, store, period_days=1)
    assert report.since_ms == since
    assert report.timestamps_ms == tuple(t for t, _ in inside)
    assert report.equity == tuple(e for _, e in inside)
    assert report.start_equity == raw.last_before(curve, since)
    assert report.end_equity == curve[-1][1]
    start = raw.last_before(curve, since)
    assert report.change_pct == (curve[-1][1] - start) / start * 100
    values = [float(e) for _, e in inside]
    peak, deepest = float(report.start_equity or 0), 0.0
    for v in values:
        peak = max(peak, v)
        deepest = max(deepest, (1 - v / peak) * 100)
    assert report.max_drawdown_pct == pytest.approx(deepest, rel=1e-12)

    assert report.png is not None
    assert raw.png_size(report.png) == (WIDTH_PX, HEIGHT_PX["equity"])
    figure = equity_figure(report)
    assert figure_to_png(figure) == report.png  # the PNG is this figure
    x, y = _xy(_line(figure, "equity"))
    np.testing.assert_array_equal(y, values)
    np.testing.assert_allclose(x, to_days([t for t, _ in inside]))
    _, start_line = _xy(_line(figure, "start_equity"))
    assert start_line[0] == float(report.start_equity or 0)
    _, dd = _xy(_line(figure, "drawdown"))
    running = np.maximum.accumulate(np.array([float(report.start_equity or 0), *values]))[1:]
    np.testing.assert_allclose(dd, -(1 - np.array(values) / running) * 100, rtol=1e-12)
    assert -dd.min() == pytest.approx(report.max_drawdown_pct, rel=1e-12)


def test_equity_of_all_time_starts_at_the_first_snapshot(replay: Replay, store: Store) -> None:
    curve = raw.equity(replay.db)
    report = equity(replay.settings, store, chart=False)
    assert report.since_ms is None
    assert len(report.timestamps_ms) == len(curve)
    assert report.start_equity == curve[0][1]
    assert report.png is None


def test_equity_of_an_empty_store_has_no_curve_and_no_chart(
    empty: tuple[Settings, Store],
) -> None:
    settings, store = empty
    report = equity(settings, store, period_days=7)
    assert report.timestamps_ms == ()
    assert report.png is None
    assert report.change_pct is None
    assert daily(settings, store).days == ()
    with pytest.raises(ParamError):
        equity_figure(report)
