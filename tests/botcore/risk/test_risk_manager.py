"""The risk manager on real candles: every rule refuses just past its limit, allows at it, and
names itself; the breakers trip at the exact bar a real decline crosses their limit.

Marks are real Binance (and Kraken) closes turned into Decimal through their text, so every
boundary below is exact. An account is marked at each bar's close time (open + 1 h), so the
mark at 00:00 UTC (the close of the 23:00 bar) is the day's starting equity.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import replace
from decimal import ROUND_FLOOR, Decimal

import pandas as pd
import pytest

from botcore.config import RiskConfig
from botcore.execution.orders import OrderRequest, OrderType, Side
from botcore.risk import (
    AMOUNT_QUANTUM,
    AccountState,
    BreakerState,
    HeldPosition,
    RiskError,
    RiskManager,
    RiskRule,
)
from botcore.timeframes import MS_PER_DAY, parse_datetime, to_iso, to_ms
from tests.conftest import load_slice

HOUR_MS = 3_600_000
BTC_1H = "binance_BTC-USDT_1h.csv.gz"
ETH_1H = "binance_ETH-USDT_1h.csv.gz"
# Limits that keep the position rules out of the way of the rule under test.
LOOSE = {"max_position_pct": 100.0, "max_exposure_per_asset_pct": 100.0}


@functools.cache
def _frame(name: str) -> pd.DataFrame:
    return load_slice(name).frame.set_index("timestamp")


def _close(name: str, when: str) -> Decimal:
    """The real close of the bar opening at `when` (UTC)."""
    return Decimal(str(_frame(name).loc[_ms(when), "close"]))


def _ms(when: str) -> int:
    return to_ms(parse_datetime(when))


def _buy(symbol: str, amount: str | Decimal) -> OrderRequest:
    return OrderRequest(symbol, Side.BUY, OrderType.MARKET, amount=Decimal(amount))


def _sell(symbol: str, amount: Decimal | None = None) -> OrderRequest:
    return OrderRequest(symbol, Side.SELL, OrderType.MARKET, amount=amount)


def _state(
    when: str, equity: Decimal, cash: Decimal, *positions: HeldPosition, **extra: int
) -> AccountState:
    return AccountState(_ms(when), equity, cash, positions, equity, equity, **extra)


def _marks(
    name: str, start: str, end: str, amount: Decimal, cash: Decimal
) -> Iterator[AccountState]:
    """An account holding `amount` BTC and `cash`, marked at every real close in [start, end).

    `start` is a 23:00 bar, so the first mark is at 00:00 UTC and sets the day's start equity.
    """
    frame = _frame(name).loc[_ms(start) : _ms(end) - 1]
    day_start = peak = Decimal(0)
    for open_ms, close in frame["close"].items():
        now_ms = int(open_ms) + HOUR_MS
        price = Decimal(str(close))
        equity = cash + amount * price
        if now_ms % MS_PER_DAY == 0:
            day_start = equity
        peak = max(peak, equity)
        yield AccountState(
            now_ms, equity, cash, (HeldPosition("BTC/USDT", amount, price),), day_start, peak
        )


def _run_breaker(
    manager: RiskManager, states: Iterator[AccountState], reset_at: str | None = None
) -> tuple[list[tuple[str, bool, str | None]], dict[str, tuple[AccountState, BreakerState]]]:
    """Feed every mark to the breaker; return its transitions and the (state, breaker) by time."""
    breaker = BreakerState()
    changes: list[tuple[str, bool, str | None]] = []
    seen: dict[str, tuple[AccountState, BreakerState]] = {}
    for state in states:
        if reset_at is not None and state.now_ms == _ms(reset_at):
            updated = manager.reset_drawdown(state, breaker)
        else:
            updated = manager.update_breaker(state, breaker)
        if updated.halted != breaker.halted or updated.rule != breaker.rule:
            changes.append((to_iso(state.now_ms), updated.halted, updated.rule))
        breaker = updated
        seen[to_iso(state.now_ms)] = (state, breaker)
    return changes, seen


def _assert_exit_allowed(manager: RiskManager, state: AccountState, breaker: BreakerState) -> None:
    held = state.open_positions()[0]
    whole = manager.check(_sell(held.symbol), held.price, state, breaker)
    part = manager.check(_sell(held.symbol, held.amount / 2), held.price, state, breaker)
    assert (whole.allowed, whole.rule, whole.amount) == (True, None, held.amount)
    assert (part.allowed, part.amount) == (True, held.amount / 2)


# --------------------------------------------------------------------------- position rules


def test_max_open_positions_refuses_a_fourth_market_and_allows_a_third() -> None:
    when = "2023-06-01T12:00"
    btc = HeldPosition("BTC/USDT", Decimal("0.05"), _close(BTC_1H, when))
    eth = HeldPosition("ETH/USDT", Decimal(1), _close(ETH_1H, when))
    sol = HeldPosition("SOL/USDT", Decimal(50), _close("binance_SOL-USDT_15m.csv.gz", when))
    xrp_price = _close("binance_XRP-USDT_15m.csv.gz", when)
    cash = Decimal(20_000)
    manager = RiskManager(RiskConfig(max_open_positions=3))

    full = _state(when, cash + btc.value + eth.value + sol.value, cash, btc, eth, sol)
    refused = manager.check(_buy("XRP/USDT", "1000"), xrp_price, full, BreakerState())
    assert refused.allowed is False
    assert refused.rule == "max_open_positions"
    assert refused.message == "refused by max_open_positions: 3 positions open, the limit is 3"
    assert refused.amount == 0

    # One slot free: the same order passes; adding to a held market never needs a slot.
    emptied = HeldPosition("SOL/USDT", Decimal(0), sol.price)
    two = _state(when, cash + btc.value + eth.value, cash, btc, eth, emptied)
    allowed = manager.check(_buy("XRP/USDT", "1000"), xrp_price, two, BreakerState())
    assert (allowed.allowed, allowed.rule, allowed.amount) == (True, None, Decimal(1000))
    more_btc = manager.check(_buy("BTC/USDT", "0.01"), btc.price, full, BreakerState())
    assert more_btc.allowed
    _assert_exit_allowed(manager, full, BreakerState())


def test_max_position_pct_allows_exactly_the_limit_and_refuses_one_satoshi_more() -> None:
    when = "2023-06-01T12:00"
    price = _close(BTC_1H, when)
    held = HeldPosition("BTC/USDT", Decimal("0.1"), price)
    # Equity chosen so that 0.1 held + 0.2 bought is exactly 50 % of it.
    equity = 2 * Decimal("0.3") * price
    state = _state(when, equity, equity - held.value, held)
    manager = RiskManager(RiskConfig(max_position_pct=50, max_exposure_per_asset_pct=100))

    at_limit = manager.check(_buy("BTC/USDT", "0.2"), price, state, BreakerState())
    beyond = manager.check(_buy("BTC/USDT", "0.20000001"), price, state, BreakerState())

    assert (at_limit.allowed, at_limit.amount) == (True, Decimal("0.2"))
    assert (beyond.allowed, beyond.rule) == (False, "max_position_pct")
    # The value is shown with enough decimals to differ from the limit.
    assert beyond.message == (
        "refused by max_position_pct: BTC/USDT would be 50.000002% of equity "
        "(8,082.54 of 16,165.07), the limit is 50%"
    )
    _assert_exit_allowed(manager, state, BreakerState())


def test_exposure_per_asset_sums_every_quote_of_the_same_base() -> None:
    when = "2023-03-15T12:00"
    binance_btc = _close(BTC_1H, when)
    kraken_btc = _close("kraken_BTC-USD_1h.csv.gz", when)
    held_btc = HeldPosition("BTC/USDT", Decimal("0.1"), binance_btc)
    held_eth = HeldPosition("ETH/USDT", Decimal(2), _close(ETH_1H, when))
    # BTC/USDT held plus 0.15 BTC/USD bought is exactly 40 % of equity; ETH does not count.
    equity = (held_btc.value + Decimal("0.15") * kraken_btc) * Decimal("2.5")
    state = _state(when, equity, equity - held_btc.value - held_eth.value, held_btc, held_eth)
    manager = RiskManager(RiskConfig(max_position_pct=100, max_exposure_per_asset_pct=40))

    at_limit = manager.check(_buy("BTC/USD", "0.15"), kraken_btc, state, BreakerState())
    beyond = manager.check(_buy("BTC/USD", "0.15000001"), kraken_btc, state, BreakerState())

    assert (at_limit.allowed, at_limit.amount) == (True, Decimal("0.15"))
    assert (beyond.allowed, beyond.rule) == (False, "max_exposure_per_asset_pct")
    assert beyond.message.startswith(
        "refused by max_exposure_per_asset_pct: BTC exposure would be 40.000002% of equity"
    )
    assert "across BTC/USD, BTC/USDT), the limit is 40%" in beyond.message
    # Alone, the BTC/USD position is far inside the limit: the refusal comes from the sum.
    alone = _state(when, equity, equity - held_eth.value, held_eth)
    assert manager.check(_buy("BTC/USD", "0.15000001"), kraken_btc, alone, BreakerState()).allowed
    _assert_exit_allowed(manager, state, BreakerState())


def test_insufficient_cash_allows_the_last_cent_and_refuses_beyond_it() -> None:
    when = "2023-06-01T12:00"
    price = _close(ETH_1H, when)
    cost = Decimal(3) * price
    manager = RiskManager(RiskConfig(**LOOSE))
    equity = Decimal(20_000)

    exact = manager.check(_buy("ETH/USDT", "3"), price, _state(when, equity, cost), BreakerState())
    short = _state(when, equity, cost - Decimal("0.01"))
    refused = manager.check(_buy("ETH/USDT", "3"), price, short, BreakerState())

    assert exact.allowed
    assert (refused.allowed, refused.rule) == (False, "insufficient_cash")
    assert refused.message == (
        "refused by insufficient_cash: the order costs 5,593.83, cash is 5,593.82"
    )


def test_quote_amount_buys_are_converted_at_the_price_and_floored() -> None:
    when = "2023-06-01T12:00"
    price = _close(BTC_1H, when)
    manager = RiskManager(RiskConfig(**LOOSE))
    request = OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET, quote_amount=Decimal(1000))
    state = _state(when, Decimal(10_000), Decimal(10_000))

    decision = manager.check(request, price, state, BreakerState())

    assert decision.allowed
    assert decision.amount == Decimal("0.037117058666")
    assert decision.amount * price <= 1000 < (decision.amount + AMOUNT_QUANTUM) * price


def test_a_buy_without_a_size_is_an_error_not_a_decision() -> None:
    state = _state("2023-06-01T12:00", Decimal(10_000), Decimal(10_000))
    unsized = OrderRequest("BTC/USDT", Side.BUY, OrderType.MARKET)
    with pytest.raises(RiskError, match="needs a positive amount"):
        RiskManager(RiskConfig()).check(unsized, Decimal(27_000), state, BreakerState())
    with pytest.raises(RiskError, match="price must be positive"):
        RiskManager(RiskConfig()).check(_buy("BTC/USDT", "1"), Decimal(0), state, BreakerState())


# --------------------------------------------------------------------------- risk per trade


def test_sizing_with_a_stop_loses_exactly_risk_per_trade_pct_at_the_stop() -> None:
    when = "2023-06-01T12:00"
    price = _close(BTC_1H, when)
    # Equity for which 1 % risk at a 2 % stop is exactly 0.25 BTC.
    equity = Decimal("0.5") * price
    state = _state(when, equity, equity)
    manager = RiskManager(RiskConfig(risk_per_trade_pct=1, stop_loss_pct=2, **LOOSE))

    amount = manager.size_entry("BTC/USDT", price, Decimal(100), state, None)

    assert amount == Decimal("0.25")
    assert amount * price * Decimal("0.02") == equity * Decimal("0.01")
    assert manager.check(_buy("BTC/USDT", amount), price, state, BreakerState()).allowed
    beyond = manager.check(_buy("BTC/USDT", amount + AMOUNT_QUANTUM), price, state, BreakerState())
    assert (beyond.allowed, beyond.rule) == (False, "risk_per_trade_pct")
    assert beyond.message.startswith("refused by risk_per_trade_pct: the loss to the 2% stop")
    assert beyond.message.endswith("the limit is 1%")


def test_sizing_on_a_real_account_stays_within_one_quantum_of_the_risk_limit() -> None:
    when = "2023-06-01T12:00"
    price = _close(BTC_1H, when)
    state = _state(when, Decimal(10_000), Decimal(10_000))
    manager = RiskManager(RiskConfig(risk_per_trade_pct=1, stop_loss_pct=5, **LOOSE))

    amount = manager.size_entry("BTC/USDT", price, Decimal(25), state, None)
    loss = amount * price * Decimal("0.05")

    # The 25 % stake would risk 125 at a 5 % stop; sizing cuts it to 100 (1 % of equity).
    assert Decimal(99) < loss <= Decimal(100)
    assert Decimal(100) - loss < price * Decimal("0.05") * AMOUNT_QUANTUM
    assert manager.check(_buy("BTC/USDT", amount), price, state, BreakerState()).allowed
    beyond = manager.check(_buy("BTC/USDT", amount + AMOUNT_QUANTUM), price, state, BreakerState())
    assert beyond.rule == "risk_per_trade_pct"
    # A wider stop passed explicitly sizes smaller; with no stop anywhere the stake decides.
    wider = manager.size_entry("BTC/USDT", price, Decimal(25), state, Decimal(10))
    assert wider * price * Decimal("0.10") <= Decimal(100)
    assert wider < amount
    no_stop = RiskManager(RiskConfig(**LOOSE)).size_entry(
        "BTC/USDT", price, Decimal(25), state, None
    )
    assert no_stop == (Decimal(2500) / price).quantize(AMOUNT_QUANTUM, rounding=ROUND_FLOOR)


@pytest.mark.parametrize(
    ("config", "held", "cash", "rule"),
    [
        (
            RiskConfig(max_position_pct=30, max_exposure_per_asset_pct=100),
            ("BTC/USDT", BTC_1H, "0.1"),
            "20000",
            "max_position_pct",
        ),
        (
            # No BTC/USDC candles here: the BTC/USDT close stands in for the stablecoin market.
            RiskConfig(max_position_pct=100, max_exposure_per_asset_pct=30),
            ("BTC/USDC", BTC_1H, "0.1"),
            "20000",
            "max_exposure_per_asset_pct",
        ),
        (RiskConfig(**LOOSE), ("ETH/USDT", ETH_1H, "5"), "1000", "insufficient_cash"),
    ],
    ids=["position-cap", "exposure-cap", "cash-cap"],
)
def test_sizing_caps_leave_exactly_what_the_check_allows(
    config: RiskConfig, held: tuple[str, str, str], cash: str, rule: str
) -> None:
    when = "2023-06-01T12:00"
    price = _close(BTC_1H, when)
    symbol, candles, amount_held = held
    position = HeldPosition(symbol, Decimal(amount_held), _close(candles, when))
    state = _state(when, Decimal(cash) + position.value, Decimal(cash), position)
    manager = RiskManager(config)

    amount = manager.size_entry("BTC/USDT", price, Decimal(100), state, None)

    # Well under the 100 % stake: the cap decided, and one quantum more is refused by it.
    assert Decimal(0) < amount < state.equity / price / 2
    assert manager.check(_buy("BTC/USDT", amount), price, state, BreakerState()).allowed
    beyond = manager.check(_buy("BTC/USDT", amount + AMOUNT_QUANTUM), price, state, BreakerState())
    assert (beyond.allowed, beyond.rule) == (False, rule)


# --------------------------------------------------------------------------- cooldown


def _stop_loss_times(start: str, end: str, stop_pct: Decimal, count: int) -> list[int]:
    """Enter at a close, exit on the first bar whose low reaches the stop, re-enter at its close:
    the open times of the first `count` real stop-loss bars."""
    frame = _frame(BTC_1H).loc[_ms(start) : _ms(end)]
    times: list[int] = []
    entry: Decimal | None = None
    for open_ms, row in frame.iterrows():
        if entry is not None and Decimal(str(row["low"])) <= entry * (1 - stop_pct / 100):
            times.append(int(open_ms))
            if len(times) == count:
                break
        elif entry is not None:
            continue
        entry = Decimal(str(row["close"]))
    return times


def test_cooldown_after_three_real_stop_losses_expires_after_cooldown_minutes() -> None:
    stops = _stop_loss_times("2022-06-10", "2022-06-20", Decimal(2), 3)
    assert [to_iso(ms) for ms in stops] == [
        "2022-06-10T16:00:00Z",
        "2022-06-11T13:00:00Z",
        "2022-06-11T16:00:00Z",
    ]
    manager = RiskManager(
        RiskConfig(cooldown_after_stop_losses=3, cooldown_minutes=240, stop_loss_pct=2, **LOOSE)
    )
    equity = Decimal(10_000)

    def attempt(now_ms: int, streak: int, last_ms: int) -> AccountState:
        return AccountState(now_ms, equity, equity, (), equity, equity, streak, last_ms)

    # After two stop-losses the re-entry at the next close is allowed.
    price = Decimal(str(_frame(BTC_1H).loc[stops[1], "close"]))
    second = manager.check(
        _buy("BTC/USDT", "0.01"), price, attempt(stops[1] + HOUR_MS, 2, stops[1]), BreakerState()
    )
    assert second.allowed

    # After the third, entries are refused until exactly 240 minutes after it.
    resume_ms = stops[2] + 240 * 60_000
    for now_ms, allowed in [
        (stops[2] + HOUR_MS, False),
        (resume_ms - 1, False),
        (resume_ms, True),
    ]:
        bar = (now_ms // HOUR_MS) * HOUR_MS - HOUR_MS
        close = Decimal(str(_frame(BTC_1H).loc[bar, "close"]))
        decision = manager.check(
            _buy("BTC/USDT", "0.01"), close, attempt(now_ms, 3, stops[2]), BreakerState()
        )
        assert decision.allowed is allowed, to_iso(now_ms)
        if not allowed:
            assert decision.rule == "cooldown_after_stop_losses"
            assert decision.message == (
                "refused by cooldown_after_stop_losses: 3 stop-losses in a row, the limit is 3; "
                "new entries resume at 2022-06-11 20:00 UTC (240 minutes after the last one)"
            )
    held = HeldPosition("BTC/USDT", Decimal("0.1"), price)
    cooling = AccountState(stops[2], equity, equity, (held,), equity, equity, 3, stops[2])
    _assert_exit_allowed(manager, cooling, BreakerState())


# --------------------------------------------------------------------------- breakers


def test_daily_loss_breaker_trips_on_the_ftx_crash_bar_and_clears_next_utc_day() -> None:
    manager = RiskManager(RiskConfig(max_daily_loss_pct=5, **LOOSE))
    amount, cash = Decimal("0.3"), Decimal(4000)
    states = list(_marks(BTC_1H, "2022-11-06T23:00", "2022-11-10T23:00", amount, cash))

    changes, seen = _run_breaker(manager, iter(states))

    daily = RiskRule.MAX_DAILY_LOSS_PCT
    assert changes == [
        ("2022-11-08T19:00:00Z", True, daily),
        ("2022-11-09T00:00:00Z", False, None),
        ("2022-11-09T19:00:00Z", True, daily),
        ("2022-11-10T00:00:00Z", False, None),
    ]
    # Independent oracle: each trip is the first mark of its UTC day at or below 95 % of the
    # day's start, found without the breaker.
    crossings: dict[int, str] = {}
    for state in states:
        if state.equity <= state.day_start_equity * Decimal("0.95"):
            crossings.setdefault(state.now_ms // MS_PER_DAY, to_iso(state.now_ms))
    assert [when for when, halted, _ in changes if halted] == sorted(crossings.values())
    first, breaker = seen["2022-11-08T19:00:00Z"]
    assert first.positions[0].price == Decimal("18600.51")
    assert breaker.message == (
        "New entries halted by max_daily_loss_pct at 2022-11-08 19:00 UTC: equity 9,580.15 is "
        "5.87% below 10,177.34 at the start of the UTC day, the limit is 5%. Entries resume at "
        "2022-11-09 00:00 UTC; exits still work."
    )

    # While halted buys are refused, exits allowed.
    later, halted = seen["2022-11-08T23:00:00Z"]
    buy = manager.check(_buy("BTC/USDT", "0.01"), later.positions[0].price, later, halted)
    assert (buy.allowed, buy.rule) == (False, "max_daily_loss_pct")
    assert buy.message == (
        "refused by max_daily_loss_pct: new entries are halted since 2022-11-08 19:00 UTC, when "
        "the day's loss reached the 5% limit; equity is now 6.28% below the start of the UTC "
        "day; entries resume at 2022-11-09 00:00 UTC"
    )
    _assert_exit_allowed(manager, later, halted)
    # Next UTC day, new entries are allowed again.
    midnight, cleared = seen["2022-11-09T00:00:00Z"]
    assert manager.check(
        _buy("BTC/USDT", "0.01"), midnight.positions[0].price, midnight, cleared
    ).allowed


def test_daily_halt_holds_through_a_same_day_recovery_until_midnight() -> None:
    # 2022-02-24: BTC fell on the invasion of Ukraine, then rallied the same afternoon.
    manager = RiskManager(RiskConfig(max_daily_loss_pct=5, **LOOSE))
    states = list(
        _marks(BTC_1H, "2022-02-23T23:00", "2022-02-25T01:00", Decimal("0.3"), Decimal(4000))
    )

    changes, seen = _run_breaker(manager, iter(states))

    assert changes == [
        ("2022-02-24T06:00:00Z", True, RiskRule.MAX_DAILY_LOSS_PCT),
        ("2022-02-25T00:00:00Z", False, None),
    ]
    evening, breaker = seen["2022-02-24T23:00:00Z"]
    # The evening's equity is back above the day's start, yet entries wait for 00:00 UTC.
    assert evening.equity > evening.day_start_equity
    assert breaker.halted
    buy = manager.check(_buy("BTC/USDT", "0.01"), evening.positions[0].price, evening, breaker)
    assert (buy.allowed, buy.rule) == (False, "max_daily_loss_pct")
    assert buy.message == (
        "refused by max_daily_loss_pct: new entries are halted since 2022-02-24 06:00 UTC, when "
        "the day's loss reached the 5% limit; equity is now 1.23% above the start of the UTC "
        "day; entries resume at 2022-02-25 00:00 UTC"
    )


def test_breakers_trip_when_equity_reaches_the_limit_exactly() -> None:
    manager = RiskManager(RiskConfig(max_daily_loss_pct=5, max_drawdown_pct=20, **LOOSE))
    states = _marks(BTC_1H, "2022-11-07T23:00", "2022-11-08T01:00", Decimal("0.3"), Decimal(4000))
    start = next(states)  # the real 00:00 UTC mark of 2022-11-08
    assert start.day_start_equity == start.peak_equity == Decimal("10177.339")
    step = Decimal("0.001")
    daily = replace(start, equity=start.equity * Decimal("0.95"))
    # For the drawdown case the day started lower, so only the drawdown limit is in play.
    drawdown = replace(
        start,
        equity=start.equity * Decimal("0.80"),
        day_start_equity=start.equity * Decimal("0.80"),
    )

    for at_limit, rule in ((daily, "max_daily_loss_pct"), (drawdown, "max_drawdown_pct")):
        inside = replace(at_limit, equity=at_limit.equity + step)
        assert manager.update_breaker(at_limit, BreakerState()).rule == rule
        assert manager.update_breaker(inside, BreakerState()) == BreakerState()


def test_check_applies_the_daily_breaker_even_before_the_engine_updates_it() -> None:
    manager = RiskManager(RiskConfig(max_daily_loss_pct=5, **LOOSE))
    states = _marks(BTC_1H, "2022-11-07T23:00", "2022-11-08T23:00", Decimal("0.3"), Decimal(4000))
    crossing = next(s for s in states if to_iso(s.now_ms) == "2022-11-08T19:00:00Z")

    stale = manager.check(_buy("BTC/USDT", "0.01"), Decimal("18600.51"), crossing, BreakerState())

    assert (stale.allowed, stale.rule) == (False, "max_daily_loss_pct")


def test_drawdown_breaker_is_sticky_until_reset_then_measures_from_the_reset() -> None:
    manager = RiskManager(RiskConfig(max_daily_loss_pct=100, max_drawdown_pct=20, **LOOSE))
    states = list(
        _marks(BTC_1H, "2021-12-31T23:00", "2022-06-30T23:00", Decimal("0.2"), Decimal(0))
    )

    changes, seen = _run_breaker(manager, iter(states), reset_at="2022-04-01T00:00")

    drawdown = RiskRule.MAX_DRAWDOWN_PCT
    assert changes == [
        ("2022-01-21T13:00:00Z", True, drawdown),
        ("2022-04-01T00:00:00Z", False, None),
        ("2022-05-05T16:00:00Z", True, drawdown),
    ]
    trip, breaker = seen["2022-01-21T13:00:00Z"]
    before, _ = seen["2022-01-21T12:00:00Z"]
    assert trip.equity <= trip.peak_equity * Decimal("0.8") < before.equity
    assert breaker.message.startswith(
        "New entries halted by max_drawdown_pct at 2022-01-21 13:00 UTC: equity 7,637.23 is "
        "20.1% below its peak of 9,558.46, the limit is 20%."
    )
    # BTC recovered past the old peak in March; the halt holds all the same.
    march, halted = seen["2022-03-28T19:00:00Z"]
    assert march.equity > trip.peak_equity
    assert halted.halted
    buy = manager.check(_buy("BTC/USDT", "0.01"), march.positions[0].price, march, halted)
    assert (buy.allowed, buy.rule) == (False, "max_drawdown_pct")
    assert buy.message == (
        "refused by max_drawdown_pct: new entries are halted since 2022-01-21 13:00 UTC, when "
        "the drawdown reached the 20% limit; equity is now level with its peak of 9,594.20; "
        "entries stay halted until the breaker is reset"
    )
    _assert_exit_allowed(manager, march, halted)

    # After the reset drawdown is measured from the highest equity since the reset, which
    # trips later than the engine's all-time peak would have.
    reset = [s for s in states if s.now_ms >= _ms("2022-04-01T00:00")]
    since_peak = all_time = None
    running = Decimal(0)
    for state in reset:
        running = max(running, state.equity)
        if since_peak is None and state.equity <= running * Decimal("0.8"):
            since_peak = to_iso(state.now_ms)
        if all_time is None and state.equity <= state.peak_equity * Decimal("0.8"):
            all_time = to_iso(state.now_ms)
    assert since_peak == "2022-05-05T16:00:00Z"
    assert all_time is not None and all_time < since_peak
    # A reset only touches a drawdown halt.
    assert manager.reset_drawdown(reset[0], BreakerState()) == BreakerState()


def test_a_daily_halt_escalates_to_a_drawdown_halt_that_survives_midnight() -> None:
    manager = RiskManager(RiskConfig(max_daily_loss_pct=5, max_drawdown_pct=20, **LOOSE))
    states = _marks(BTC_1H, "2021-12-31T23:00", "2022-01-23T23:00", Decimal("0.2"), Decimal(0))

    changes, seen = _run_breaker(manager, states)

    daily, drawdown = RiskRule.MAX_DAILY_LOSS_PCT, RiskRule.MAX_DRAWDOWN_PCT
    assert changes == [
        ("2022-01-05T23:00:00Z", True, daily),
        ("2022-01-06T00:00:00Z", False, None),
        ("2022-01-21T04:00:00Z", True, daily),
        ("2022-01-21T13:00:00Z", True, drawdown),
    ]
    # The daily halt would have ended at midnight; the drawdown halt it became does not.
    for when in ("2022-01-22T00:00:00Z", "2022-01-23T22:00:00Z"):
        _state_then, breaker = seen[when]
        assert (breaker.halted, breaker.rule, breaker.since_ms) == (
            True,
            drawdown,
            _ms("2022-01-21T13:00"),
        )


def test_breaker_state_round_trips_through_json_exactly() -> None:
    manager = RiskManager(RiskConfig(max_daily_loss_pct=100, max_drawdown_pct=20, **LOOSE))
    states = _marks(BTC_1H, "2021-12-31T23:00", "2022-05-31T23:00", Decimal("0.2"), Decimal(0))
    _, seen = _run_breaker(manager, states, reset_at="2022-04-01T00:00")
    tracking = seen["2022-04-20T00:00:00Z"][1]
    tripped = seen["2022-05-05T16:00:00Z"][1]
    assert tracking.drawdown_peak is not None and not tracking.halted

    for breaker in (BreakerState(), tracking, tripped):
        assert BreakerState.from_json(breaker.to_json()) == breaker
    assert BreakerState.from_json(None) == BreakerState.from_json("") == BreakerState()
    assert BreakerState.from_json(tripped.to_json()).rule is RiskRule.MAX_DRAWDOWN_PCT


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        '{"halted": true}',
        '{"halted": true, "rule": "max_open_positions", "message": "", "since_ms": 1, '
        '"drawdown_peak": null}',
        '{"halted": false, "rule": null, "message": "", "since_ms": null, "drawdown_peak": "x"}',
        '{"halted": 1, "rule": null, "message": "", "since_ms": null, "drawdown_peak": null}',
    ],
)
def test_a_corrupt_breaker_state_is_a_polite_error(text: str) -> None:
    with pytest.raises(RiskError, match="the saved circuit-breaker state does not parse"):
        BreakerState.from_json(text)
