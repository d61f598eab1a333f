"""The paper broker on real candles: every order type's fills, worked out by hand from the bars.

Each expected price below is written as the arithmetic on the candle values it comes from (the
candles are pinned first, so a changed data file fails loudly rather than silently re-deriving).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pytest

from botcore.backtest import BacktestSettings, MarketRules, run_backtest
from botcore.data.catalog import LoadedCandles
from botcore.execution.orders import Fill, Order, OrderStatus, OrderType, Side
from botcore.execution.paper import Bar, BarResult, PaperBroker
from botcore.indicators import atr
from tests.botcore.backtest.scripted import scripted
from tests.conftest import load_slice

FEE, SLIP = Decimal("0.001"), Decimal("0.0005")
UP, DOWN = 1 + SLIP, 1 - SLIP
HOUR = 3_600_000


def q(value: Decimal) -> Decimal:
    """A hand-computed price or fee at the broker's precision."""
    return value.quantize(Decimal("1e-8"), ROUND_HALF_EVEN)


def fee(amount: str, price: Decimal) -> Decimal:
    return q(Decimal(amount) * price * FEE)


def to_bars(candles: LoadedCandles, with_atr: bool = False) -> list[Bar]:
    f = candles.frame
    ranges = atr(f["high"], f["low"], f["close"], 14) if with_atr else np.full(len(f), np.nan)

    def d(x: float) -> Decimal:
        return Decimal(repr(float(x)))

    return [
        Bar(
            candles.key.symbol,
            int(row.timestamp),
            d(row.open),
            d(row.high),
            d(row.low),
            d(row.close),
            d(row.volume),
            None if np.isnan(r) else d(r),
        )
        for row, r in zip(f.itertuples(), ranges, strict=True)
    ]


@pytest.fixture(scope="module")
def btc() -> list[Bar]:
    """Binance BTC/USDT 1h, January 2024, with the 14-bar ATR known at each close."""
    return to_bars(load_slice("binance_BTC-USDT_1h.csv.gz", "2024-01-01", "2024-02-01"), True)


def new(
    kind: OrderType,
    side: Side,
    amount: str,
    created_ms: int,
    order_id: str = "o1",
    symbol: str = "BTC/USDT",
    **fields: Any,
) -> Order:
    return Order(
        id=order_id,
        symbol=symbol,
        side=side,
        type=kind,
        amount=Decimal(amount),
        status=OrderStatus.NEW,
        created_ms=created_ms,
        updated_ms=created_ms,
        **fields,
    )


def drive(
    broker: PaperBroker, orders: list[Order], bars: list[Bar]
) -> tuple[list[BarResult], dict[str, Order]]:
    """Work `orders` over `bars` as the engine does: keep what changed, pass back the open ones."""
    book = {o.id: o for o in orders}
    results = []
    for bar in bars:
        result = broker.on_bar([o for o in book.values() if not o.status.final], bar)
        book.update((o.id, o) for o in result.orders)
        results.append(result)
    return results, book


def only_fill(results: list[BarResult]) -> tuple[int, Fill]:
    """(bar position, fill) of the single fill in `results`."""
    found = [(i, f) for i, r in enumerate(results) for f in r.fills]
    assert len(found) == 1, found
    return found[0]


@pytest.fixture
def broker() -> PaperBroker:
    return PaperBroker(FEE, SLIP)


# -- market ------------------------------------------------------------------------------------


def test_market_orders_fill_at_the_next_open_with_slippage_and_fee(
    btc: list[Bar], broker: PaperBroker
) -> None:
    assert (btc[1].open, btc[2].open) == (Decimal("42475.23"), Decimal("42613.57"))
    # decided at bar 0's close, so stamped with bar 1's open time: bar 0 must not fill it
    buy = broker.accept(new(OrderType.MARKET, Side.BUY, "0.1", btc[1].timestamp_ms), 0)
    assert buy.status is OrderStatus.OPEN
    assert broker.on_bar([buy], btc[0]) == BarResult((), ())
    result = broker.on_bar([buy], btc[1])
    (fill,) = result.fills
    assert fill.price == Decimal("42475.23") * UP == Decimal("42496.467615")
    assert (fill.amount, fill.timestamp_ms) == (Decimal("0.1"), btc[1].timestamp_ms)
    assert fill.fee == Decimal("4.24964676")  # 0.1 × 42496.467615 × 0.001, to 1e-8
    assert (fill.id, fill.fee_currency, fill.side) == ("o1-f1", "USDT", Side.BUY)
    (done,) = result.orders
    assert (done.status, done.filled, done.average_price, done.fee) == (
        OrderStatus.FILLED,
        Decimal("0.1"),
        fill.price,
        fill.fee,
    )
    sell = broker.accept(new(OrderType.MARKET, Side.SELL, "0.1", btc[2].timestamp_ms, "o2"), 0)
    (fill,) = broker.on_bar([sell], btc[2]).fills
    assert fill.price == Decimal("42613.57") * DOWN == Decimal("42592.263215")
    assert fill.fee == fee("0.1", fill.price) == Decimal("4.25922632")


# -- limit and take-profit ---------------------------------------------------------------------


def test_limit_buy_waits_for_the_low_and_fills_at_its_price_without_slippage(
    btc: list[Bar], broker: PaperBroker
) -> None:
    # bar 2's low (42500) stays above 42400; bar 3 opens at 42581.09 and trades down to 42230.08
    assert (btc[2].low, btc[3].open, btc[3].low) == (
        Decimal("42500.00"),
        Decimal("42581.09"),
        Decimal("42230.08"),
    )
    order = broker.accept(
        new(OrderType.LIMIT, Side.BUY, "0.1", btc[2].timestamp_ms, price=Decimal(42400)), 0
    )
    results, book = drive(broker, [order], btc[2:6])
    bar, fill = only_fill(results)
    assert (bar, fill.price, fill.fee) == (1, Decimal(42400), Decimal("4.24"))
    assert book["o1"].status is OrderStatus.FILLED


def test_limit_sell_and_take_profit_fill_at_the_price_the_high_reaches(
    btc: list[Bar], broker: PaperBroker
) -> None:
    # highs: bar 8 42556.50, bar 9 42699.32 (a near miss of 42700), bar 10 42749.36
    assert [b.high for b in btc[8:11]] == [Decimal(x) for x in ("42556.50", "42699.32", "42749.36")]
    for kind in (OrderType.LIMIT, OrderType.TAKE_PROFIT):
        order = new(kind, Side.SELL, "0.25", btc[8].timestamp_ms, price=Decimal(42700))
        results, book = drive(broker, [broker.accept(order, 0)], btc[8:12])
        bar, fill = only_fill(results)
        assert (bar, fill.price, fill.amount) == (2, Decimal(42700), Decimal("0.25"))
        assert fill.fee == Decimal("10.675")  # 0.25 × 42700 × 0.001
        assert book["o1"].status is OrderStatus.FILLED


def test_a_buy_take_profit_fills_at_the_better_open() -> None:
    broker = PaperBroker(FEE, SLIP)
    bars = to_bars(load_slice("binance_BTC-USDT_1h.csv.gz", "2024-01-01", "2024-01-02"))
    # bar 4 opens at 42330.50, already below a 42400 target: the short is covered at the open
    order = new(OrderType.TAKE_PROFIT, Side.BUY, "0.1", bars[4].timestamp_ms, price=Decimal(42400))
    (fill,) = broker.on_bar([broker.accept(order, 0)], bars[4]).fills
    assert fill.price == bars[4].open == Decimal("42330.50")


# -- stops -------------------------------------------------------------------------------------


def test_sell_stop_fills_at_the_stop_less_slippage(btc: list[Bar], broker: PaperBroker) -> None:
    order = new(
        OrderType.STOP_LOSS, Side.SELL, "0.1", btc[2].timestamp_ms, stop_price=Decimal(42300)
    )
    results, _ = drive(broker, [broker.accept(order, 0)], btc[2:6])
    bar, fill = only_fill(results)
    # bar 3 opens at 42581.09 above the stop and trades down to 42230.08
    assert bar == 1
    assert fill.price == Decimal(42300) * DOWN == Decimal("42278.85")
    assert fill.fee == Decimal("4.227885")


@pytest.fixture(scope="module")
def kraken_gap_down() -> list[Bar]:
    """Kraken BTC/USDT 5m around 2023-03-10 00:20, a bar that opened 0.47 % under the last close."""
    bars = to_bars(load_slice("kraken_BTC-USDT_5m.csv.gz", "2023-03-10T00:10", "2023-03-10T00:35"))
    assert [(b.open, b.close) for b in bars[1:3]] == [
        (Decimal("20200.1"), Decimal("20227.6")),
        (Decimal("20132.9"), Decimal("20082.3")),
    ]
    return bars


@pytest.fixture(scope="module")
def kraken_gap_up() -> list[Bar]:
    """Kraken BTC/USDT 5m around 2023-02-22 02:35, a bar that opened 0.46 % over the last close."""
    bars = to_bars(load_slice("kraken_BTC-USDT_5m.csv.gz", "2023-02-22T02:25", "2023-02-22T02:45"))
    assert [(b.open, b.close) for b in bars[0:2]] == [
        (Decimal("24027.3"), Decimal("23931.9")),
        (Decimal("24041.3"), Decimal("24074.2")),
    ]
    return bars


def test_a_gap_down_fills_a_sell_stop_at_the_open_and_a_buy_limit_at_the_better_open(
    kraken_gap_down: list[Bar], broker: PaperBroker
) -> None:
    gap = kraken_gap_down[2]
    # placed when the 00:15 bar closed at 20227.6, above both levels
    stop = new(
        OrderType.STOP_LOSS, Side.SELL, "0.5", gap.timestamp_ms, "s", stop_price=Decimal(20200)
    )
    limit = new(OrderType.LIMIT, Side.BUY, "0.5", gap.timestamp_ms, "l", price=Decimal(20200))
    orders = [broker.accept(stop, 0), broker.accept(limit, 0)]
    assert broker.on_bar(orders, kraken_gap_down[1]).fills == ()
    by_order = {f.order_id: f for f in broker.on_bar(orders, gap).fills}
    assert by_order["s"].price == Decimal("20132.9") * DOWN == Decimal("20122.83355")
    assert by_order["s"].price < Decimal(20200)  # worse than the stop: the market gapped past it
    assert by_order["l"].price == Decimal("20132.9")  # better than the limit, no slippage
    assert by_order["l"].fee == q(Decimal("0.5") * Decimal("20132.9") * FEE)


def test_a_gap_up_fills_a_buy_stop_at_the_open_and_a_sell_limit_at_the_better_open(
    kraken_gap_up: list[Bar], broker: PaperBroker
) -> None:
    gap = kraken_gap_up[1]
    stop = new(
        OrderType.STOP_LOSS, Side.BUY, "0.5", gap.timestamp_ms, "s", stop_price=Decimal(24000)
    )
    limit = new(OrderType.LIMIT, Side.SELL, "0.5", gap.timestamp_ms, "l", price=Decimal(24000))
    orders = [broker.accept(stop, 0), broker.accept(limit, 0)]
    by_order = {f.order_id: f for f in broker.on_bar(orders, gap).fills}
    assert by_order["s"].price == Decimal("24041.3") * UP == Decimal("24053.32065")
    assert by_order["l"].price == Decimal("24041.3")


# -- OCO ---------------------------------------------------------------------------------------


def test_oco_stop_wins_when_one_bar_touches_both_and_nothing_of_the_target_remains(
    btc: list[Bar], broker: PaperBroker
) -> None:
    # bar 24 ranges 44148.34 .. 45200.00 from an open of 44179.55; bar 25 then reaches 45372.79
    bar = btc[24]
    assert (bar.open, bar.low, bar.high) == (
        Decimal("44179.55"),
        Decimal("44148.34"),
        Decimal("45200.00"),
    )
    oco = new(
        OrderType.OCO,
        Side.SELL,
        "0.2",
        bar.timestamp_ms,
        stop_price=Decimal(44150),
        price=Decimal(45100),
    )
    results, book = drive(broker, [broker.accept(oco, 0)], btc[24:30])
    i, fill = only_fill(results)
    assert i == 0
    assert fill.price == Decimal(44150) * DOWN == Decimal("44127.925")
    assert fill.fee == fee("0.2", fill.price)
    assert book["o1"].status is OrderStatus.FILLED and book["o1"].remaining == 0
    # the take-profit leg went with it: bars 25-29 trade above 45100 and fill nothing
    assert max(b.high for b in btc[25:30]) > Decimal(45100)
    assert all(r == BarResult((), ()) for r in results[1:])


def test_oco_target_fills_when_only_the_target_is_reached(
    btc: list[Bar], broker: PaperBroker
) -> None:
    oco = new(
        OrderType.OCO,
        Side.SELL,
        "0.2",
        btc[24].timestamp_ms,
        stop_price=Decimal(44000),
        price=Decimal(45100),
    )
    results, book = drive(broker, [broker.accept(oco, 0)], btc[24:30])
    i, fill = only_fill(results)
    assert (i, fill.price) == (0, Decimal(45100))
    # a later low under the stop finds nothing left to sell
    assert book["o1"].status is OrderStatus.FILLED


def test_canceling_an_oco_removes_both_legs(btc: list[Bar], broker: PaperBroker) -> None:
    oco = broker.accept(
        new(
            OrderType.OCO,
            Side.SELL,
            "0.2",
            btc[24].timestamp_ms,
            stop_price=Decimal(44150),
            price=Decimal(45100),
        ),
        0,
    )
    canceled = broker.cancel(oco, btc[24].timestamp_ms)
    assert canceled.status is OrderStatus.CANCELED
    assert broker.on_bar([canceled], btc[24]) == BarResult((), ())
    assert broker.cancel(canceled, 1) is canceled  # final orders stay as they are


# -- trailing stops ----------------------------------------------------------------------------


def test_percent_trailing_stop_follows_completed_highs_and_fills_at_its_level(
    btc: list[Bar], broker: PaperBroker
) -> None:
    bars = btc[18:26]
    assert [(b.open, b.high, b.low) for b in bars[:5]] == [
        (Decimal(o), Decimal(h), Decimal(lo))
        for o, h, lo in (
            ("42812.71", "43208.86", "42812.70"),
            ("43111.10", "43550.00", "43103.64"),
            ("43517.98", "43829.99", "43510.71"),
            ("43687.85", "43792.59", "43480.76"),
            ("43619.22", "43661.10", "43361.60"),
        )
    ]
    order = new(
        OrderType.TRAILING_STOP, Side.SELL, "0.1", bars[0].timestamp_ms, trail_pct=Decimal(1)
    )
    results, book = drive(broker, [broker.accept(order, 0)], bars)
    levels = [r.orders[0].stop_price if r.orders else None for r in results[:4]]
    # the level in force on bar k is 99 % of the highest open/high of the bars before it
    assert levels == [
        q(Decimal("43208.86") * Decimal("0.99")),  # set after bar 0 (whose own level was 42384.58)
        q(Decimal("43550.00") * Decimal("0.99")),
        q(Decimal("43829.99") * Decimal("0.99")),
        None,  # bar 3's high 43792.59 is under the anchor: nothing changes
    ]
    i, fill = only_fill(results)
    assert i == 4  # bar 4's low 43361.60 crosses 43391.6901
    assert fill.price == q(Decimal("43829.99") * Decimal("0.99") * DOWN)
    assert fill.fee == fee("0.1", fill.price)
    assert book["o1"].price == Decimal("43829.99")  # the anchor it trailed


def test_trailing_stop_never_uses_the_current_bars_high(
    btc: list[Bar], broker: PaperBroker
) -> None:
    # bar 24 opens 44179.55 and reaches 45200 then 44148.34: a level from its own high
    # (45200 × 0.99 = 44748) would stop out on the same bar; only completed bars count
    order = new(
        OrderType.TRAILING_STOP, Side.SELL, "0.1", btc[24].timestamp_ms, trail_pct=Decimal(1)
    )
    results, _ = drive(broker, [broker.accept(order, 0)], btc[24:27])
    i, fill = only_fill(results)
    assert results[0].orders[0].price == Decimal("45200.00")
    assert i == 1  # bar 25: low 44686.00 under 44748, open 45056.00 above it
    assert fill.price == Decimal(44748) * DOWN == Decimal("44725.626")


def test_atr_trailing_stop_arms_after_a_completed_bar_and_only_tightens(
    btc: list[Bar], broker: PaperBroker
) -> None:
    bars = btc[24:40]
    atrs = [b.atr for b in bars if b.atr is not None]
    assert len(atrs) == len(bars)
    order = new(
        OrderType.TRAILING_STOP, Side.SELL, "0.1", bars[0].timestamp_ms, trail_atr=Decimal(2)
    )
    results, _ = drive(broker, [broker.accept(order, 0)], bars)
    states = [
        (r.orders[0].price, r.orders[0].stop_price) if r.orders else (None, None) for r in results
    ]
    two = Decimal(2)
    # no ATR of a completed bar on the first bar, so no level yet; then anchor - 2 × ATR
    assert states[0] == (Decimal("45200.00"), q(Decimal("45200.00") - two * atrs[0]))
    assert states[1] == (Decimal("45372.79"), q(Decimal("45372.79") - two * atrs[1]))
    # bar 26: the anchor rises to 45381.42 but its ATR grew: the level would drop, so it stays
    assert q(Decimal("45381.42") - two * atrs[2]) < states[1][1]
    assert states[2] == (Decimal("45381.42"), states[1][1])
    i, fill = only_fill(results)
    assert i == 14  # bar 38 (low 44970.00) is the first under the level set after bar 34
    level = q(Decimal("45879.63") - two * atrs[10])
    assert results[10].orders[0].stop_price == level
    assert bars[14].low <= level < bars[14].open
    assert fill.price == q(level * DOWN)


def test_atr_trailing_stop_with_an_initial_level_guards_its_first_bar(
    btc: list[Bar], broker: PaperBroker
) -> None:
    # an initial stop above bar 24's low 44148.34 triggers on that bar
    order = new(
        OrderType.TRAILING_STOP,
        Side.SELL,
        "0.1",
        btc[24].timestamp_ms,
        trail_atr=Decimal(2),
        stop_price=Decimal(44160),
    )
    (fill,) = broker.on_bar([broker.accept(order, 0)], btc[24]).fills
    assert fill.price == Decimal(44160) * DOWN


# -- iceberg and TWAP --------------------------------------------------------------------------


def test_iceberg_fills_one_visible_slice_per_touching_bar(
    btc: list[Bar], broker: PaperBroker
) -> None:
    # opens of bars 3, 4, 5: 42581.09 (above 42400), 42330.50 and 42399.98 (both below it)
    assert [b.open for b in btc[3:6]] == [
        Decimal("42581.09"),
        Decimal("42330.50"),
        Decimal("42399.98"),
    ]
    order = new(
        OrderType.ICEBERG,
        Side.BUY,
        "0.5",
        btc[2].timestamp_ms,
        price=Decimal(42400),
        visible_amount=Decimal("0.2"),
    )
    results, book = drive(broker, [broker.accept(order, 0)], btc[2:8])
    assert results[0] == BarResult((), ())  # bar 2's low 42500 stays above the limit
    got = [(i, f.id, f.amount, f.price) for i, r in enumerate(results) for f in r.fills]
    assert got == [
        (1, "o1-f1", Decimal("0.2"), Decimal(42400)),
        (2, "o1-f2", Decimal("0.2"), Decimal("42330.50")),
        (3, "o1-f3", Decimal("0.1"), Decimal("42399.98")),
    ]
    assert [r.orders[0].status for r in results[1:4]] == [
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    done = book["o1"]
    assert done.fee == sum(f.fee for r in results for f in r.fills)
    assert done.fee == fee("0.2", Decimal(42400)) + fee("0.2", Decimal("42330.50")) + fee(
        "0.1", Decimal("42399.98")
    )
    # the running average, each step to 1e-8
    two = q(
        (Decimal(42400) * Decimal("0.2") + Decimal("42330.50") * Decimal("0.2")) / Decimal("0.4")
    )
    assert two == Decimal("42365.25")
    assert done.average_price == q(
        (two * Decimal("0.4") + Decimal("42399.98") * Decimal("0.1")) / Decimal("0.5")
    )


def test_twap_releases_evenly_spaced_market_slices_and_the_last_takes_the_remainder(
    btc: list[Bar], broker: PaperBroker
) -> None:
    parent = new(
        OrderType.TWAP, Side.BUY, "0.1", btc[1].timestamp_ms, "tw", duration_ms=3 * HOUR, slices=3
    )
    results, book = drive(broker, [broker.accept(parent, 0)], btc[0:6])
    children = [(i, o) for i, r in enumerate(results) for o in r.orders if o.parent_id == "tw"]
    assert [(i, o.id, o.amount, o.type, o.status) for i, o in children] == [
        (1, "tw-0", Decimal("0.03333333"), OrderType.MARKET, OrderStatus.FILLED),
        (2, "tw-1", Decimal("0.03333333"), OrderType.MARKET, OrderStatus.FILLED),
        (3, "tw-2", Decimal("0.03333334"), OrderType.MARKET, OrderStatus.FILLED),
    ]
    fills = [f for r in results for f in r.fills]
    opens = [Decimal("42475.23"), Decimal("42613.57"), Decimal("42581.09")]
    assert [b.open for b in btc[1:4]] == opens
    assert [(f.id, f.order_id, f.price) for f in fills] == [
        (f"tw-{k}-f1", f"tw-{k}", q(o * UP)) for k, o in enumerate(opens)
    ]
    assert [f.fee for f in fills] == [
        fee(str(o.amount), f.price) for (_, o), f in zip(children, fills, strict=True)
    ]
    assert [r.orders[-1].status for r in results[1:4]] == [
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.FILLED,
    ]
    done = book["tw"]
    assert (done.filled, done.fee) == (Decimal("0.1"), sum(f.fee for f in fills))
    avg1 = fills[0].price
    avg2 = q(
        (avg1 * Decimal("0.03333333") + fills[1].price * Decimal("0.03333333"))
        / Decimal("0.06666666")
    )
    assert done.average_price == q(
        (avg2 * Decimal("0.06666666") + fills[2].price * Decimal("0.03333334")) / Decimal("0.1")
    )
    assert results[4:] == [BarResult((), ()), BarResult((), ())]


def test_twap_slices_land_on_the_first_bar_at_or_after_their_due_time(btc: list[Bar]) -> None:
    rules = {"BTC/USDT": MarketRules(amount_step=0.00001)}
    broker = PaperBroker(FEE, SLIP, rules)
    # 3 slices over 4.5 h: due at +0, +1.5 h, +3 h -> bars 1, 3 and 4 (1h bars)
    parent = new(
        OrderType.TWAP,
        Side.SELL,
        "0.1",
        btc[1].timestamp_ms,
        "tw",
        duration_ms=9 * HOUR // 2,
        slices=3,
    )
    results, _ = drive(broker, [broker.accept(parent, 0)], btc[0:7])
    got = [(i, f.amount, f.price) for i, r in enumerate(results) for f in r.fills]
    assert got == [
        (1, Decimal("0.03333"), q(btc[1].open * DOWN)),
        (3, Decimal("0.03333"), q(btc[3].open * DOWN)),
        (4, Decimal("0.03334"), q(btc[4].open * DOWN)),
    ]


def test_a_canceled_twap_releases_no_more_slices(btc: list[Bar], broker: PaperBroker) -> None:
    parent = broker.accept(
        new(
            OrderType.TWAP,
            Side.BUY,
            "0.1",
            btc[1].timestamp_ms,
            "tw",
            duration_ms=3 * HOUR,
            slices=3,
        ),
        0,
    )
    _, book = drive(broker, [parent], btc[1:2])
    canceled = broker.cancel(book["tw"], btc[2].timestamp_ms)
    assert (canceled.status, canceled.filled) == (OrderStatus.CANCELED, Decimal("0.03333333"))
    assert broker.on_bar([canceled], btc[2]) == BarResult((), ())


# -- acceptance ----------------------------------------------------------------------------------


def test_amounts_are_floored_to_the_step_and_small_orders_rejected(btc: list[Bar]) -> None:
    broker = PaperBroker(FEE, SLIP, {"BTC/USDT": MarketRules(amount_step=0.00001, min_notional=5)})
    limit = Decimal(42000)

    def accepted(amount: str, kind: OrderType = OrderType.LIMIT, **fields: Any) -> Order:
        extra = {"price": limit} if kind is OrderType.LIMIT else {}
        return broker.accept(new(kind, Side.BUY, amount, 0, **(extra | fields)), 7)

    floored = accepted("0.123456789")
    assert (floored.status, floored.amount, floored.updated_ms) == (
        OrderStatus.OPEN,
        Decimal("0.12345"),
        7,
    )
    ok = accepted("0.00012")  # 0.00012 × 42000 = 5.04 >= 5
    assert ok.status is OrderStatus.OPEN
    small = accepted("0.00011")  # 4.62 < 5
    assert small.status is OrderStatus.REJECTED
    assert small.reject_reason == "notional 4.62000000 USDT is under the market minimum of 5 USDT"
    dust = accepted("0.000009")
    assert dust.status is OrderStatus.REJECTED and "amount step" in dust.reject_reason
    # a market order has no price of its own: its notional is checked at the fill price
    market = accepted("0.00011", OrderType.MARKET)
    assert market.status is OrderStatus.OPEN
    (rejected,) = broker.on_bar([replace(market, created_ms=btc[1].timestamp_ms)], btc[1]).orders
    assert rejected.status is OrderStatus.REJECTED and "notional" in rejected.reject_reason
    # every iceberg slice is an order on the book: the visible part must meet the minimum too
    iceberg = accepted("0.01", OrderType.ICEBERG, price=limit, visible_amount=Decimal("0.0001"))
    assert iceberg.status is OrderStatus.REJECTED and "notional" in iceberg.reject_reason
    fine = accepted("0.01", OrderType.ICEBERG, price=limit, visible_amount=Decimal("0.0012345"))
    assert (fine.status, fine.visible_amount) == (OrderStatus.OPEN, Decimal("0.00123"))


def test_minimum_amount_is_enforced() -> None:
    broker = PaperBroker(FEE, SLIP, {"ETH/USDT": MarketRules(min_amount=0.01)})
    order = new(OrderType.LIMIT, Side.SELL, "0.005", 0, symbol="ETH/USDT", price=Decimal(2000))
    rejected = broker.accept(order, 0)
    assert rejected.status is OrderStatus.REJECTED
    assert rejected.reject_reason == "amount 0.005 is under the market minimum of 0.01"


@pytest.mark.parametrize(
    ("kind", "side", "amount", "fields", "reason"),
    [
        (OrderType.MARKET, Side.BUY, "0", {}, "the amount must be positive"),
        (OrderType.MARKET, Side.BUY, "-1", {}, "the amount must be positive"),
        (OrderType.LIMIT, Side.BUY, "1", {}, "limit orders need a positive price"),
        (
            OrderType.TAKE_PROFIT,
            Side.SELL,
            "1",
            {"price": Decimal(0)},
            "take_profit orders need a positive price",
        ),
        (OrderType.STOP_LOSS, Side.SELL, "1", {}, "stop_loss orders need a positive stop_price"),
        (
            OrderType.OCO,
            Side.SELL,
            "1",
            {"price": Decimal(100)},
            "oco orders need a positive stop_price",
        ),
        (
            OrderType.OCO,
            Side.SELL,
            "1",
            {"price": Decimal(100), "stop_price": Decimal(110)},
            "a sell OCO needs its stop below its take-profit price",
        ),
        (
            OrderType.TRAILING_STOP,
            Side.SELL,
            "1",
            {},
            "trailing_stop orders need exactly one of trail_pct and trail_atr",
        ),
        (
            OrderType.TRAILING_STOP,
            Side.SELL,
            "1",
            {"trail_pct": Decimal(100)},
            "trail_pct must be between 0 and 100",
        ),
        (
            OrderType.ICEBERG,
            Side.BUY,
            "1",
            {"price": Decimal(100)},
            "iceberg orders need a positive visible_amount",
        ),
        (
            OrderType.TWAP,
            Side.BUY,
            "1",
            {"duration_ms": HOUR, "slices": 0},
            "twap orders need a positive duration_ms and at least one slice",
        ),
    ],
)
def test_orders_missing_what_their_type_needs_are_rejected(
    broker: PaperBroker,
    kind: OrderType,
    side: Side,
    amount: str,
    fields: dict[str, Any],
    reason: str,
) -> None:
    rejected = broker.accept(new(kind, side, amount, 0, **fields), 5)
    assert (rejected.status, rejected.reject_reason, rejected.updated_ms) == (
        OrderStatus.REJECTED,
        reason,
        5,
    )


def test_accepting_twice_is_a_programming_error(broker: PaperBroker) -> None:
    order = broker.accept(new(OrderType.MARKET, Side.BUY, "1", 0), 0)
    with pytest.raises(ValueError, match="only a new order"):
        broker.accept(order, 0)


# -- determinism -------------------------------------------------------------------------------


def _mixed_orders(bars: list[Bar]) -> list[Order]:
    t = bars[1].timestamp_ms
    return [
        new(OrderType.MARKET, Side.BUY, "0.3", t, "a"),
        new(OrderType.LIMIT, Side.BUY, "0.2", t, "b", price=Decimal(42000)),
        new(OrderType.STOP_LOSS, Side.SELL, "0.2", t, "c", stop_price=Decimal(42000)),
        new(OrderType.TRAILING_STOP, Side.SELL, "0.2", t, "d", trail_pct=Decimal("1.5")),
        new(OrderType.TRAILING_STOP, Side.SELL, "0.2", t, "e", trail_atr=Decimal(3)),
        new(
            OrderType.OCO, Side.SELL, "0.2", t, "f", price=Decimal(46000), stop_price=Decimal(41000)
        ),
        new(
            OrderType.ICEBERG,
            Side.SELL,
            "1",
            t,
            "g",
            price=Decimal(44000),
            visible_amount=Decimal("0.3"),
        ),
        new(OrderType.TWAP, Side.BUY, "1", t, "h", duration_ms=7 * HOUR, slices=7),
    ]


def test_the_same_bars_give_identical_results_in_any_input_order_and_across_a_restart(
    btc: list[Bar],
) -> None:
    bars = btc[:200]
    orders = [PaperBroker(FEE, SLIP).accept(o, 0) for o in _mixed_orders(bars)]
    first, book1 = drive(PaperBroker(FEE, SLIP), orders, bars)
    second, book2 = drive(PaperBroker(FEE, SLIP), list(reversed(orders)), bars)
    assert first == second and book1 == book2
    assert sum(len(r.fills) for r in first) >= 12  # every type filled something
    assert {f.order_id.split("-")[0] for r in first for f in r.fills} == set("abcdefgh")
    # a crash after bar 60: a fresh broker resumes from the persisted orders alone
    part, saved = drive(PaperBroker(FEE, SLIP), orders, bars[:60])
    rest, book3 = drive(PaperBroker(FEE, SLIP), list(saved.values()), bars[60:])
    assert part + rest == first and book3 == book1
    shuffled = orders[:]
    random.Random(4).shuffle(shuffled)
    assert drive(PaperBroker(FEE, SLIP), shuffled, bars)[0] == first


# -- the backtester's prices -------------------------------------------------------------------


Protect = Callable[[Decimal], tuple[OrderType, dict[str, Any]]]


def _paper_round_trips(
    bars: list[Bar],
    entries: set[int],
    exits: set[int],
    amounts: list[Decimal],
    protect: Protect | None,
) -> list[tuple[int, int, Fill, Fill]]:
    """Trade the decisions as the engine does: a decision at bar t's close is stamped with bar
    t+1's open; a protective order is placed when the entry fills and guards that same bar."""
    broker = PaperBroker(FEE, SLIP, {"BTC/USDT": MarketRules(amount_step=0.00001)})
    book: dict[str, Order] = {}
    trades: list[tuple[int, int, Fill, Fill]] = []
    entry: tuple[int, Fill] | None = None
    entered = 0
    for t, bar in enumerate(bars):
        pending = [o for o in book.values() if not o.status.final]
        while pending:
            result = broker.on_bar(pending, bar)
            book.update((o.id, o) for o in result.orders)
            pending = []
            for fill in result.fills:
                if fill.side is Side.SELL:
                    assert entry is not None
                    trades.append((entry[0], t, entry[1], fill))
                    entry = None
                    continue
                entry = (t, fill)
                if protect is not None:
                    kind, fields = protect(fill.price)
                    guard = new(
                        kind, Side.SELL, str(fill.amount), bar.timestamp_ms, f"p{t}", **fields
                    )
                    book[guard.id] = broker.accept(guard, bar.timestamp_ms)
                    pending.append(book[guard.id])
        if t + 1 == len(bars):
            break
        stamp = bars[t + 1].timestamp_ms
        working = [o for o in book.values() if not o.status.final]
        if entry is not None and t in exits:
            book.update((o.id, broker.cancel(o, stamp)) for o in working)
            sell = new(OrderType.MARKET, Side.SELL, str(entry[1].amount), stamp, f"x{t}")
            book[sell.id] = broker.accept(sell, stamp)
        elif entry is None and t in entries and t not in exits and not working:
            buy = new(OrderType.MARKET, Side.BUY, str(amounts[entered]), stamp, f"e{t}")
            book[buy.id] = broker.accept(buy, stamp)
            entered += 1
    return trades


def _compare(
    candles: LoadedCandles,
    bars: list[Bar],
    entries: list[int],
    exits: list[int],
    protect: Protect | None,
    **stops: float,
) -> int:
    """Backtest the decisions, trade them on paper, and compare every closed trade."""
    settings = BacktestSettings(
        fee=float(FEE),
        slippage=float(SLIP),
        stake_amount=2_000.0,
        rules={"BTC/USDT": MarketRules(amount_step=0.00001)},
    )
    bt = run_backtest(scripted(entries, exits, **stops), [candles], settings).trades
    # sizing is the engine's job, not the broker's: the paper orders take the backtester's amounts
    amounts = [Decimal(repr(a)).quantize(Decimal("1e-5")) for a in bt["amount"]]
    closed = bt[bt["exit_reason"] != "end_of_data"]
    paper = _paper_round_trips(bars, set(entries), set(exits), amounts, protect)
    assert len(paper) == len(closed) > 3
    for row, (e_bar, x_bar, buy, sell) in zip(closed.itertuples(), paper, strict=True):
        assert (row.entry_index, row.exit_index) == (e_bar, x_bar)
        assert (row.entry_time, row.exit_time) == (buy.timestamp_ms, sell.timestamp_ms)
        assert buy.amount == sell.amount == Decimal(repr(row.amount)).quantize(Decimal("1e-5"))
        assert (row.exit_reason == "exit_signal") == sell.order_id.startswith("x")
        # market fills are the same float arithmetic, quantized; stop levels differ by < 1e-8
        assert buy.price == q(Decimal(repr(row.entry_price)))
        assert abs(sell.price - Decimal(repr(row.exit_price))) <= Decimal("2e-8")
        assert abs(buy.fee + sell.fee - Decimal(repr(row.fee))) <= Decimal("2e-8")
    return len(paper)


@pytest.fixture(scope="module")
def btc_candles() -> LoadedCandles:
    return load_slice("binance_BTC-USDT_1h.csv.gz", "2024-01-01", "2024-02-01")


def test_paper_market_round_trips_reproduce_the_backtesters_prices_and_fees(
    btc_candles: LoadedCandles, btc: list[Bar]
) -> None:
    entries = [5, 40, 41, 120, 300, 500, 640]
    exits = [30, 90, 200, 301, 560, 700]
    assert _compare(btc_candles, btc, entries, exits, None) == 6


def _pct(price: Decimal, pct: str) -> Decimal:
    """The trader's protective levels: a percentage of the entry fill, to 1e-8."""
    return q(price * (1 + Decimal(pct) / 100))


def test_paper_protective_orders_reproduce_the_backtesters_stop_exits(
    btc_candles: LoadedCandles, btc: list[Bar]
) -> None:
    rng = np.random.default_rng(11)
    entries = sorted(set(rng.integers(0, 700, 80).tolist()))
    exits = sorted(set(rng.integers(0, 700, 25).tolist()))

    def oco(px: Decimal) -> tuple[OrderType, dict[str, Any]]:
        return OrderType.OCO, {"stop_price": _pct(px, "-1.5"), "price": _pct(px, "2")}

    def trail(px: Decimal) -> tuple[OrderType, dict[str, Any]]:
        return OrderType.TRAILING_STOP, {"trail_pct": Decimal("1.2")}

    n = _compare(btc_candles, btc, entries, exits, oco, stop_loss_pct=1.5, take_profit_pct=2.0)
    m = _compare(btc_candles, btc, entries, exits, trail, trailing_stop_pct=1.2)
    assert n > 10 and m > 10
