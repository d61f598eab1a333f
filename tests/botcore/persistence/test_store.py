"""Every table written and read back through the store's API, on SQLite and PostgreSQL.

Values come from real BTC/USDT candles (see builders.py); each test starts from an empty,
freshly migrated database.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from botcore.execution.orders import OrderStatus, OrderType, Side
from botcore.persistence import (
    AlertCondition,
    AlertRecord,
    DuplicateFillError,
    SignalRecord,
    Store,
    StrategyAssignment,
    UserRecord,
    UserRole,
)
from tests.botcore.persistence.builders import (
    BTC,
    bars,
    commit,
    filled,
    order,
    position,
    trade,
)

EXACT = [
    Decimal("0.000012345678901234"),
    Decimal("69383.05"),
    Decimal("1.10"),  # the scale is kept: 1.10, not 1.1
    Decimal("-0.5"),
    Decimal("1E-18"),
    Decimal("123456789012345678901234.5678901234"),
    Decimal("0"),
]


def test_decimals_come_back_digit_for_digit(store: Store) -> None:
    with store.transaction() as uow:
        for i, value in enumerate(EXACT):
            uow.set_balance("paper", f"A{i}", value)
            uow.save_equity(1_709_251_200_000 + i, value)
        uow.save_order(order(0, amount=EXACT[0], price=EXACT[1], type=OrderType.LIMIT))

    balances = store.balances("paper")
    assert [balances[f"A{i}"].as_tuple() for i in range(len(EXACT))] == [
        v.as_tuple() for v in EXACT
    ]
    assert [v.as_tuple() for _, v in store.equity_curve()] == [v.as_tuple() for v in EXACT]
    stored = store.order(order(0).id)
    assert stored is not None
    assert stored.amount.as_tuple() == Decimal("0.000012345678901234").as_tuple()
    assert stored.price is not None and stored.price.as_tuple() == Decimal("69383.05").as_tuple()


def test_an_order_round_trips_every_field_and_is_updated_in_place(store: Store) -> None:
    ts, _open, close = bars()[5]
    full = order(
        5,
        type=OrderType.OCO,
        side=Side.SELL,
        price=close * Decimal("1.05"),
        stop_price=close * Decimal("0.97"),
        trail_pct=Decimal("2.5"),
        trail_atr=Decimal("1.5"),
        visible_amount=Decimal("0.01"),
        duration_ms=3_600_000,
        slices=6,
        parent_id="tc-parent",
        exchange="binance",
        exchange_order_id="8391023",
        reason="take profit / stop",
    )
    with store.transaction() as uow:
        uow.save_order(full)
    assert store.order(full.id) == full

    canceled = replace(
        full, status=OrderStatus.CANCELED, updated_ms=ts + 60_000, reject_reason="user canceled"
    )
    with store.transaction() as uow:
        uow.save_order(canceled)
    assert store.order(full.id) == canceled
    assert store.orders() == [canceled]
    assert store.order("tc-missing") is None


def test_orders_are_listed_by_creation_and_filtered(store: Store) -> None:
    eth = order(3, id="tc-eth", symbol="ETH/USDT")
    done, _fill = filled(order(1), 2)
    same_time = order(1, id="tc-order-001a")  # same created_ms: the id breaks the tie
    with store.transaction() as uow:
        for o in (order(7), eth, same_time, done, replace(order(9), status=OrderStatus.NEW)):
            uow.save_order(o)

    assert [o.id for o in store.orders()] == [
        "tc-order-001",
        "tc-order-001a",
        "tc-eth",
        "tc-order-007",
        "tc-order-009",
    ]
    assert [o.id for o in store.orders(symbol="ETH/USDT")] == ["tc-eth"]
    assert [o.id for o in store.orders(open_only=True)] == [
        "tc-order-001a",
        "tc-eth",
        "tc-order-007",
        "tc-order-009",
    ]
    assert [o.id for o in store.orders(symbol=BTC, open_only=True)] == [
        "tc-order-001a",
        "tc-order-007",
        "tc-order-009",
    ]


def test_fills_are_booked_once_and_listed_by_time(store: Store) -> None:
    first, first_fill = filled(order(1), 2)
    second, second_fill = filled(order(4), 5)
    with store.transaction() as uow:
        uow.save_order(second)
        uow.save_fill(second_fill)
        uow.save_fill(first_fill)  # before its order: the order check waits for the commit
        uow.save_order(first)

    assert store.fills() == [first_fill, second_fill]
    assert store.fills(order_id=second.id) == [second_fill]
    assert store.fills(order_id="tc-missing") == []

    # The same fill again, in a later transaction: refused, and that transaction keeps nothing.
    with pytest.raises(DuplicateFillError, match=first_fill.id):
        commit(
            store,
            lambda uow: uow.set_balance("paper", "BTC", Decimal("0.15")),
            lambda uow: uow.save_fill(replace(first_fill, amount=Decimal("0.01"))),
        )
    assert store.balances() == {}
    assert store.fills() == [first_fill, second_fill]

    # Twice within one transaction: refused as well.
    _third, third_fill = filled(order(8), 9)
    with pytest.raises(DuplicateFillError):
        commit(
            store,
            lambda uow: uow.save_order(order(8)),
            lambda uow: uow.save_fill(third_fill),
            lambda uow: uow.save_fill(third_fill),
        )
    assert store.fills() == [first_fill, second_fill]
    assert store.order(order(8).id) is None


def test_balances_are_kept_per_exchange_and_overwritten(store: Store) -> None:
    with store.transaction() as uow:
        uow.set_balance("paper", "USDT", Decimal("10000"))
        uow.set_balance("binance", "USDT", Decimal("512.33"))
    with store.transaction() as uow:
        uow.set_balance("paper", "USDT", Decimal("6934.27446153"))
        uow.set_balance("paper", "BTC", Decimal("0.05"))
    assert store.balances() == {"BTC": Decimal("0.05"), "USDT": Decimal("6934.27446153")}
    assert store.balances("binance") == {"USDT": Decimal("512.33")}
    assert store.balances("kraken") == {}


def test_positions_are_upserted_by_exchange_and_symbol_and_deleted(store: Store) -> None:
    btc = position(3)
    eth = position(3, symbol="ETH/USDT", entry_price=Decimal("3421.1"), protective_order_ids=())
    live = position(4, exchange="binance", protective_order_ids=("a", "b"))
    with store.transaction() as uow:
        for p in (btc, eth, live):
            uow.save_position(p)
    assert store.positions() == [live, btc, eth]
    assert store.positions("paper") == [btc, eth]

    grown = replace(btc, amount=Decimal("0.1"), protective_order_ids=("tc-stop-a", "tc-tp-b"))
    with store.transaction() as uow:
        uow.save_position(grown)
        uow.delete_position("paper", "ETH/USDT")
        uow.delete_position("paper", "SOL/USDT")  # none: nothing happens
    assert store.positions("paper") == [grown]
    assert store.positions("binance") == [live]


def test_trades_are_listed_by_exit_time_and_filtered(store: Store) -> None:
    late = trade(10, 30, "take_profit")
    early = trade(2, 8, "stop_loss")
    eth = trade(5, 20, symbol="ETH/USDT", id="tc-eth-trade")
    with store.transaction() as uow:
        for t in (late, early, eth):
            uow.save_trade(t)
    assert store.trades() == [early, eth, late]
    assert store.trades(symbol=BTC) == [early, late]
    assert store.trades(since_ms=eth.exit_ms) == [eth, late]
    assert store.trades(symbol=BTC, since_ms=eth.exit_ms) == [late]
    assert early.pnl == early.amount * (early.exit_price - early.entry_price) - early.fee
    assert store.trade_count() == 3
    assert store.trade_count(until_ms=eth.exit_ms) == 2
    assert store.trade_count(until_ms=early.exit_ms - 1) == 0


def test_equity_snapshots_are_replaced_per_timestamp(store: Store) -> None:
    curve = [(ts, Decimal("10000") + (close - bars()[0][2])) for ts, _o, close in bars()[:24]]
    with store.transaction() as uow:
        for ts, equity in curve:
            uow.save_equity(ts, equity)
        uow.save_equity(curve[3][0], Decimal("9999.99"))
    expected = [*curve[:3], (curve[3][0], Decimal("9999.99")), *curve[4:]]
    assert store.equity_curve() == expected
    assert store.equity_curve(since_ms=curve[20][0]) == expected[20:]


def test_signals_are_kept_per_bar_and_replaced_when_a_bar_is_reprocessed(store: Store) -> None:
    ts, _open, close = bars()[6]
    enter = SignalRecord(ts, BTC, "1h", "ema_cross", "enter", close, reason="fast above slow")
    eth = SignalRecord(ts, "ETH/USDT", "1h", "ema_cross", "exit", Decimal("3422.5"))
    later = SignalRecord(bars()[7][0], BTC, "1h", "ema_cross", "exit", bars()[7][2])
    with store.transaction() as uow:
        for s in (later, eth, enter):
            uow.save_signal(s)
    assert store.signals() == [enter, eth, later]

    refused = replace(enter, outcome="refused: max_open_positions")
    with store.transaction() as uow:
        uow.save_signal(refused)
    assert store.signals(symbol=BTC) == [refused, later]
    assert store.signals(since_ms=later.timestamp_ms) == [later]


def test_cursors_and_engine_state_are_small_key_values(store: Store) -> None:
    key = "replay|BTC/USDT|1h"
    assert store.cursor(key) is None
    assert store.state("risk") is None
    with store.transaction() as uow:
        uow.set_cursor(key, bars()[10][0])
        uow.set_state("risk", '{"breaker": "ok"}')
        uow.set_state("run_id", '"r-2024-03-01"')
    with store.transaction() as uow:
        uow.set_cursor(key, bars()[11][0])
        uow.set_state("risk", '{"breaker": "tripped", "until_ms": 1709300000000}')
    assert store.cursor(key) == bars()[11][0]
    assert store.cursor("replay|ETH/USDT|1h") is None
    assert store.state("risk") == '{"breaker": "tripped", "until_ms": 1709300000000}'
    assert store.state("run_id") == '"r-2024-03-01"'


def test_the_audit_log_is_appended_and_read_newest_first(store: Store) -> None:
    with store.transaction() as uow:
        for n in range(5):
            uow.audit("telegram:4242", "order", f"buy 0.05 BTC/USDT #{n}", bars()[n][0])
        uow.audit("engine", "start", "paper mode", bars()[0][0])  # same time as #0, later id
    entries = store.audit_log()
    assert [e.detail for e in entries] == [
        "buy 0.05 BTC/USDT #4",
        "buy 0.05 BTC/USDT #3",
        "buy 0.05 BTC/USDT #2",
        "buy 0.05 BTC/USDT #1",
        "paper mode",
        "buy 0.05 BTC/USDT #0",
    ]
    assert len({e.id for e in entries}) == 6
    assert entries[0].actor == "telegram:4242" and entries[0].timestamp_ms == bars()[4][0]
    assert [e.detail for e in store.audit_log(limit=2)] == [e.detail for e in entries[:2]]


def test_strategy_assignments_are_replaced_per_symbol_and_removed(store: Store) -> None:
    ema = StrategyAssignment(BTC, "1h", "ema_cross", bars()[0][0], {"fast": 12, "slow": 26})
    rsi = StrategyAssignment(
        "ETH/USDT", "4h", "rsi_reversion", bars()[0][0], {"period": 14, "low": 30.5, "x": True}
    )
    with store.transaction() as uow:
        uow.assign_strategy(ema)
        uow.assign_strategy(rsi)
    assert store.strategy_assignments() == [ema, rsi]

    macd = StrategyAssignment(
        BTC, "1h", "macd_trend", bars()[5][0], {"signal": "ema"}, assigned_by="discord:77"
    )
    with store.transaction() as uow:
        uow.assign_strategy(macd)
        uow.unassign_strategy("paper", "ETH/USDT")
    assert store.strategy_assignments() == [macd]
    assert dict(store.strategy_assignments()[0].params) == {"signal": "ema"}


def test_risk_settings_are_name_values(store: Store) -> None:
    with store.transaction() as uow:
        uow.set_risk_setting("max_daily_loss_pct", "5")
        uow.set_risk_setting("max_open_positions", "3")
    with store.transaction() as uow:
        uow.set_risk_setting("max_daily_loss_pct", "2.5")
    assert store.risk_settings() == {"max_daily_loss_pct": "2.5", "max_open_positions": "3"}


def test_alerts_are_saved_triggered_and_listed(store: Store) -> None:
    ts, _open, close = bars()[0]
    above = AlertRecord("al-1", BTC, AlertCondition.ABOVE, Decimal("65000"), ts, created_by="tg:1")
    below = AlertRecord("al-2", BTC, AlertCondition.BELOW, close - 1000, ts + 1)
    with store.transaction() as uow:
        uow.save_alert(above)
        uow.save_alert(below)
    assert store.alerts() == [above, below]
    assert all(a.active for a in store.alerts())

    fired = replace(below, triggered_ms=bars()[20][0])
    with store.transaction() as uow:
        uow.save_alert(fired)
    assert store.alerts() == [above, fired]
    assert store.alerts(active_only=True) == [above]


def test_users_are_saved_by_platform_and_id_and_their_role_changes(store: Store) -> None:
    owner = UserRecord("telegram", "4242", UserRole.OWNER, bars()[0][0], name="Ada")
    member = UserRecord("discord", "77", UserRole.MEMBER, bars()[1][0])
    with store.transaction() as uow:
        uow.save_user(owner)
        uow.save_user(member)
    assert store.users() == [member, owner]
    promoted = replace(member, role=UserRole.ADMIN)
    with store.transaction() as uow:
        uow.save_user(promoted)
    assert store.user("discord", "77") == promoted
    assert store.user("telegram", "77") is None
    assert store.users() == [promoted, owner]


def test_an_alert_or_user_with_an_unknown_kind_is_refused(store: Store) -> None:
    ts = bars()[0][0]
    alert = AlertRecord("al-x", BTC, "sideways", Decimal(1), ts)  # type: ignore[arg-type]
    user = UserRecord("telegram", "1", "king", ts)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="sideways"):
        commit(store, lambda uow: uow.save_alert(alert))
    with pytest.raises(ValueError, match="king"):
        commit(store, lambda uow: uow.save_user(user))
    assert store.alerts() == [] and store.users() == []
