"""Closed trades and profit, checked against the rows a real replay wrote, periods to the ms."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest

from botcore.config import Settings
from botcore.errors import ParamError
from botcore.persistence import Store
from botcore.services.positions import positions
from botcore.services.trades import TradeHistory, profit, trades
from tests.botcore.services import raw
from tests.botcore.services.conftest import Replay


def test_trades_come_newest_first(replay: Replay, store: Store) -> None:
    expected = sorted(raw.trades(replay.db), key=lambda t: (t.exit_ms, t.id), reverse=True)
    report = trades(replay.settings, store)
    assert [t.id for t in report.trades] == [t.id for t in expected]
    assert report.total == len(expected) > 10
    assert [(t.pnl, t.fee, t.strategy) for t in report.trades] == [
        (t.pnl, t.fee, t.strategy) for t in expected
    ]


def test_trades_take_a_limit_and_a_symbol(replay: Replay, store: Store) -> None:
    eth = [t for t in raw.trades(replay.db) if t.symbol == "ETH/USDT"]
    newest = sorted(eth, key=lambda t: (t.exit_ms, t.id), reverse=True)
    report = trades(replay.settings, store, symbol="eth", limit=3)
    assert [t.id for t in report.trades] == [t.id for t in newest[:3]]
    assert report.total == len(eth)
    assert trades(replay.settings, store, symbol="DOGE/USDT").trades == ()
    with pytest.raises(ParamError):
        trades(replay.settings, store, limit=0)


def test_trades_stop_at_an_earlier_clock(replay: Replay, store: Store) -> None:
    rows = raw.trades(replay.db)
    now = rows[4].exit_ms
    report = trades(replay.settings, store, now_ms=now)
    assert {t.id for t in report.trades} == {t.id for t in rows if t.exit_ms <= now}
    assert report.trades[0].exit_ms == now


def test_a_trade_history_read_again_matches_a_full_read_as_the_store_moves(
    replay: Replay, tmp_path: Path
) -> None:
    settings, _ = replay.copy(tmp_path)
    rows = raw.trades(replay.db)
    early, end = rows[8].exit_ms, rows[-1].exit_ms
    with Store.open(settings.database.url) as store:
        history = TradeHistory(store)

        def same(now_ms: int) -> list[str]:
            report = history.read(now_ms=now_ms)
            full = trades(settings, store, now_ms=now_ms)
            assert report.trades == full.trades and report.total == full.total
            assert report.clock_ms == now_ms
            return [t.id for t in report.trades]

        assert len(same(early)) == 9
        assert len(same(end)) == len(rows)  # the clock moved: the later trades join
        assert len(same(end)) == len(rows)  # nothing new
        # a trade written out of order (its exit before the newest held): caught by the count
        trade = store.trades()[0]
        with store.transaction() as uow:
            uow.save_trade(replace(trade, id="late", exit_ms=rows[3].exit_ms))
        assert "late" in same(end)
        assert len(same(early)) == 10  # the clock went back
        assert same(end)[0] == rows[-1].id


def test_profit_of_all_time_is_every_trade_and_the_whole_curve(
    replay: Replay, store: Store
) -> None:
    rows = raw.trades(replay.db)
    curve = raw.equity(replay.db)
    marks = raw.marks(replay.db)
    report = profit(replay.settings, store)
    assert report.since_ms is None
    assert report.trades == len(rows)
    assert report.wins == sum(1 for t in rows if t.pnl > 0) > 0
    assert report.losses == sum(1 for t in rows if t.pnl < 0) > 0
    assert report.win_rate_pct == Decimal(report.wins) / len(rows) * 100
    assert report.realised_pnl == sum(t.pnl for t in rows)
    assert report.fees == sum(t.fee for t in rows)
    unrealised = sum(
        p.amount * marks[p.symbol] - p.amount * p.entry_price - p.entry_fee
        for p in raw.positions(replay.db)
    )
    assert report.unrealised_pnl == unrealised
    assert (report.equity_start, report.equity_end) == (curve[0][1], curve[-1][1])
    assert report.equity_change == curve[-1][1] - curve[0][1]
    assert report.equity_change_pct == report.equity_change / curve[0][1] * 100
    # the books balance: what the account gained is what trading made, closed and open
    assert report.equity_change == report.realised_pnl + unrealised


def _expected(replay: Replay, since: int, now: int) -> tuple[list[raw.Trade], Decimal, Decimal]:
    curve = raw.equity(replay.db)
    inside = [t for t in raw.trades(replay.db) if since <= t.exit_ms <= now]
    return inside, raw.last_before(curve, since), raw.last_at_or_before(curve, now)


def test_a_period_includes_a_trade_closed_exactly_at_its_start(
    replay: Replay, store: Store
) -> None:
    rows = raw.trades(replay.db)
    edge = rows[3]
    now = edge.exit_ms + raw.DAY_MS
    report = profit(replay.settings, store, period_days=1, now_ms=now)
    inside, start, end = _expected(replay, edge.exit_ms, now)
    assert report.since_ms == edge.exit_ms
    assert edge.id in {t.id for t in inside}
    assert report.trades == len(inside)
    assert report.realised_pnl == sum(t.pnl for t in inside)
    assert (report.equity_start, report.equity_end) == (start, end)
    # one millisecond later the trade has left the period
    later = profit(replay.settings, store, period_days=1, now_ms=now + 1)
    inside_later, start_later, _ = _expected(replay, edge.exit_ms + 1, now + 1)
    assert edge.id not in {t.id for t in inside_later}
    assert later.trades == len(inside_later) == report.trades - 1
    assert later.realised_pnl == sum(t.pnl for t in inside_later)
    assert later.equity_start == start_later


def test_a_period_ends_at_the_clock(replay: Replay, store: Store) -> None:
    rows = raw.trades(replay.db)
    edge = rows[-3]
    report = profit(replay.settings, store, period_days=2, now_ms=edge.exit_ms - 1)
    inside, start, end = _expected(replay, edge.exit_ms - 1 - 2 * raw.DAY_MS, edge.exit_ms - 1)
    assert edge.id not in {t.id for t in inside}
    assert report.trades == len(inside)
    assert report.realised_pnl == sum(t.pnl for t in inside)
    assert (report.equity_start, report.equity_end) == (start, end)


def test_profit_of_one_symbol_has_no_equity_change(replay: Replay, store: Store) -> None:
    clock = raw.equity(replay.db)[-1][0]
    since = clock - raw.DAY_MS
    eth = [t for t in raw.trades(replay.db) if t.symbol == "ETH/USDT" and t.exit_ms >= since]
    report = profit(replay.settings, store, period_days=1, symbol="ETH")
    assert report.symbol == "ETH/USDT"
    assert report.trades == len(eth) > 0
    assert report.realised_pnl == sum(t.pnl for t in eth)
    assert report.unrealised_pnl == positions(replay.settings, store, "ETH/USDT").unrealised_pnl
    assert report.unrealised_pnl != positions(replay.settings, store).unrealised_pnl
    assert report.equity_start is None
    assert report.equity_change is None
    with pytest.raises(ParamError):
        profit(replay.settings, store, period_days=0)


def test_an_empty_store_has_no_profit(empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    report = profit(settings, store, period_days=7)
    assert (report.trades, report.realised_pnl, report.unrealised_pnl) == (0, 0, 0)
    assert report.win_rate_pct is None
    assert report.equity_start is None
    assert report.equity_change is None
    assert trades(settings, store).trades == ()
