"""Status, balances and positions, checked against the rows a real replay wrote."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path

import pytest

from botcore.config import Settings
from botcore.persistence import Store
from botcore.services.account import balance, status
from botcore.services.positions import positions
from tests.botcore.services import raw
from tests.botcore.services.conftest import Replay


def test_status_reports_the_books_at_the_engines_clock(replay: Replay, store: Store) -> None:
    db = replay.db
    curve = raw.equity(db)
    cash = raw.balances(db)["USDT"]
    marks = raw.marks(db)
    held = raw.positions(db)
    report = status(replay.settings, store)

    clock = raw.clock(db)
    assert clock > curve[-1][0]  # the last bar's close, after its open
    assert (report.clock_ms, report.last_bar_ms, report.started) == (clock, curve[-1][0], True)
    assert (report.mode, report.paused, report.quote) == ("paper", None, "USDT")
    assert report.cash == cash
    assert report.equity == cash + sum(p.amount * marks[p.symbol] for p in held)
    # the engine's own mark of the last bar agrees to the last digit
    assert report.equity == curve[-1][1]
    assert report.open_positions == len(held) == 2
    assert report.open_orders == len(raw.open_orders(db)) == 2
    day_start = clock // raw.DAY_MS * raw.DAY_MS
    assert report.today_pnl == curve[-1][1] - raw.last_before(curve, day_start)
    assert report.today_pnl_pct == report.today_pnl / raw.last_before(curve, day_start) * 100
    breaker = json.loads(raw.state(db, "engine.breaker") or "")
    assert not report.breaker.halted
    assert report.breaker.rule is None
    assert report.breaker.notice == breaker["message"]
    assert "resumed" in report.breaker.notice


def test_status_names_the_breaker_that_halted_entries(replay: Replay) -> None:
    breaker = json.loads(raw.state(replay.halted_db, "engine.breaker") or "")
    assert breaker["halted"]
    with Store.open(replay.halted.database.url) as store:
        report = status(replay.halted, store)
    assert report.breaker.halted
    assert report.breaker.rule == "max_daily_loss_pct" == breaker["rule"]
    assert report.breaker.since_ms == breaker["since_ms"]
    assert report.breaker.notice == breaker["message"]
    assert report.clock_ms == raw.clock(replay.halted_db)


def test_status_measures_the_losses_the_breaker_checks(replay: Replay, store: Store) -> None:
    # at the bar that tripped max_daily_loss_pct (1 %), the daily loss reached the limit
    with Store.open(replay.halted.database.url) as halted:
        tripped = status(replay.halted, halted).breaker
    assert tripped.halted and tripped.daily_loss_pct >= Decimal(1)
    assert tripped.drawdown_pct < Decimal(80)
    # at the end: no reset happened, so the drawdown is from the highest equity the engine marked
    curve = raw.equity(replay.db)
    peak = max(value for _, value in curve)
    report = status(replay.settings, store)
    assert report.breaker.drawdown_pct == (peak - curve[-1][1]) / peak * 100
    assert not report.breaker.halted and report.breaker.daily_loss_pct < Decimal(1)


def test_status_reads_the_pause_flag_the_trading_service_writes(
    replay: Replay, tmp_path: Path
) -> None:
    settings, _ = replay.copy(tmp_path)
    with Store.open(settings.database.url) as store:
        for text, paused in (("true", True), ("false", False)):
            with store.transaction() as uow:
                uow.set_state("engine.paused", text)
            assert status(settings, store).paused is paused


def test_status_at_an_earlier_moment_counts_today_from_that_day(
    replay: Replay, store: Store
) -> None:
    curve = raw.equity(replay.db)
    now = curve[len(curve) // 2][0] + 1  # just after a mid-run bar
    report = status(replay.settings, store, now_ms=now)
    day_start = now // raw.DAY_MS * raw.DAY_MS
    expected = raw.last_at_or_before(curve, now) - raw.last_before(curve, day_start)
    assert report.clock_ms == now
    assert report.today_pnl == expected


def test_an_empty_store_reports_the_starting_wallet_on_the_wall_clock(
    empty: tuple[Settings, Store],
) -> None:
    settings, store = empty
    before = int(time.time() * 1000)
    report = status(settings, store)
    after = int(time.time() * 1000)
    assert before <= report.clock_ms <= after
    assert not report.started
    assert report.last_bar_ms is None
    assert report.equity == report.cash == Decimal("10000.0")
    assert (report.open_positions, report.open_orders) == (0, 0)
    assert report.today_pnl is None
    assert report.today_pnl_pct is None
    assert not report.breaker.halted
    assert report.paused is None
    assert balance(settings, store).assets[0].value == Decimal("10000.0")
    assert positions(settings, store).positions == ()


def test_balance_values_every_asset_at_the_last_close(replay: Replay, store: Store) -> None:
    held = {a: v for a, v in raw.balances(replay.db).items() if v != 0}
    marks = raw.marks(replay.db)
    report = balance(replay.settings, store)
    assert [(a.exchange, a.asset) for a in report.assets] == [("paper", a) for a in sorted(held)]
    for asset in report.assets:
        price = Decimal(1) if asset.asset == "USDT" else marks[f"{asset.asset}/USDT"]
        assert asset.amount == held[asset.asset]
        assert asset.price == price
        assert asset.value == held[asset.asset] * price
    assert report.total_value == sum(held[a] * (marks.get(f"{a}/USDT") or 1) for a in held)
    assert report.total_value == report.paper_equity == raw.equity(replay.db)[-1][1]
    assert report.unpriced == ()


def test_balance_lists_the_rows_of_other_exchanges(replay: Replay, tmp_path: Path) -> None:
    settings, _ = replay.copy(tmp_path, exchanges=[{"name": "kraken"}])
    with Store.open(settings.database.url) as store:
        with store.transaction() as uow:
            uow.set_balance("kraken", "BTC", Decimal("0.5"))
            uow.set_balance("kraken", "USDT", Decimal("250"))
            uow.set_balance("kraken", "XMR", Decimal("3"))
        report = balance(settings, store)
    kraken = {a.asset: a for a in report.assets if a.exchange == "kraken"}
    btc_mark = raw.marks(replay.db)["BTC/USDT"]
    assert kraken["BTC"].value == Decimal("0.5") * btc_mark
    assert kraken["USDT"].value == Decimal("250")
    assert kraken["XMR"].price is None
    assert kraken["XMR"].value is None
    assert report.unpriced == ("kraken:XMR",)
    assert report.total_value == report.paper_equity + Decimal("0.5") * btc_mark + 250


def test_positions_are_marked_with_their_protective_orders(replay: Replay, store: Store) -> None:
    marks = raw.marks(replay.db)
    orders = raw.open_orders(replay.db)
    report = positions(replay.settings, store)
    expected = raw.positions(replay.db)
    assert [(p.exchange, p.symbol) for p in report.positions] == [
        (p.exchange, p.symbol) for p in expected
    ]
    for got, row in zip(report.positions, expected, strict=True):
        cost = row.amount * row.entry_price + row.entry_fee
        pnl = row.amount * marks[row.symbol] - cost
        assert (got.amount, got.entry_price, got.entry_ms) == (
            row.amount,
            row.entry_price,
            row.entry_ms,
        )
        assert got.strategy == row.strategy != ""
        assert got.mark_price == marks[row.symbol]
        assert got.unrealised_pnl == pnl
        assert got.unrealised_pnl_pct == pnl / cost * 100
        guards = [o for o in orders if o["symbol"] == row.symbol and o["side"] == "sell"]
        assert [g.order_id for g in got.protective_orders] == [o["id"] for o in guards]
        (oco,) = got.protective_orders
        assert oco.type == "oco"
        assert oco.amount == row.amount
        assert oco.stop_price == Decimal(guards[0]["stop_price"]) < row.entry_price
        assert oco.price == Decimal(guards[0]["price"]) > row.entry_price
    assert report.unrealised_pnl == sum(p.unrealised_pnl or 0 for p in report.positions)


@pytest.mark.parametrize(
    ("asked", "found"),
    [("eth", ["ETH/USDT"]), ("BTC/USDT", ["BTC/USDT"]), ("btc-usdt", ["BTC/USDT"]), ("DOGE", [])],
)
def test_positions_filter_by_symbol(
    replay: Replay, store: Store, asked: str, found: list[str]
) -> None:
    report = positions(replay.settings, store, symbol=asked)
    assert [p.symbol for p in report.positions] == found
    assert report.unrealised_pnl == sum(p.unrealised_pnl or 0 for p in report.positions)
