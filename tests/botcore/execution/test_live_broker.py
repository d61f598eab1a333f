"""The live broker driving the real ccxt binance client against a local Binance trading API.

Keys come from a real keystore file; the stand-in verifies every request's HMAC-SHA256 signature
with the test secret, so a passing test means those keys signed it. Prices are real BTC/USDT
1-minute closes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from botcore.config import ExchangeConfig, TradingConfig
from botcore.data.exchanges import RetryPolicy
from botcore.execution.live import (
    LiveBroker,
    LiveGuardError,
    LiveTradingError,
    open_live_exchange,
    order_capabilities,
)
from botcore.execution.orders import Order, OrderStatus, OrderType, Side, client_order_id
from botcore.security.keystore import Keystore, KeystoreError
from tests.fakes.binance_trading import FakeBinanceTrading, closes_from_csv

# Binance's documentation example key pair: public, never a real account.
API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # noqa: S105
LIVE = TradingConfig(mode="live", allow_live=True)
BINANCE = ExchangeConfig(name="binance", key_name="binance-main")
LAST_CLOSE = Decimal("106171.79")  # the last 1m close of binance_BTC-USDT_1m.csv.gz
_sequence = iter(range(1, 10_000))


def new_order(kind: OrderType, side: Side, amount: str, **fields: Any) -> Order:
    """A new order with a real deterministic client id, as the engine would persist it."""
    cid = client_order_id("live-test", "BTC/USDT", 1_751_390_280_000, next(_sequence))
    return Order(
        id=cid,
        symbol="BTC/USDT",
        side=side,
        type=kind,
        amount=Decimal(amount),
        status=OrderStatus.NEW,
        created_ms=1_751_390_280_000,
        updated_ms=1_751_390_280_000,
        **fields,
    )


@pytest.fixture(scope="module")
def closes(shared_data: Path) -> list[Decimal]:
    return closes_from_csv(shared_data / "binance_BTC-USDT_1m.csv.gz")


@pytest.fixture(scope="module")
def keystore(tmp_path_factory: pytest.TempPathFactory) -> Keystore:
    store = Keystore.create(tmp_path_factory.mktemp("keys") / "keystore.json", "test passphrase")
    store.add("binance-main", "binance", API_KEY, SECRET)
    store.add("binance-wrong-secret", "binance", API_KEY, SECRET[::-1])
    store.add("okx-main", "okx", "okx-key", "okx-secret", "okx-pass")
    return store


@pytest.fixture
def fake(httpserver_ipv4: HTTPServer, closes: list[Decimal]) -> FakeBinanceTrading:
    return FakeBinanceTrading(httpserver_ipv4, API_KEY, SECRET, closes, cursor=len(closes) - 1)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def connect(
    fake: FakeBinanceTrading, keystore: Keystore, sleeps: list[float]
) -> Callable[..., LiveBroker]:
    """Start a broker the way the engine does (a fresh ccxt client each time, like a restart)."""

    def start(attempts: int = 3) -> LiveBroker:
        exchange = open_live_exchange(LIVE, BINANCE, keystore, api_url=fake.api_url)
        return LiveBroker(exchange, retry=RetryPolicy(attempts=attempts), sleep=sleeps.append)

    return start


@pytest.fixture
def broker(connect: Callable[..., LiveBroker]) -> LiveBroker:
    return connect()


def start_before_drop(closes: list[Decimal], drop_pct: str, within: int) -> int:
    """The first minute after which the real price falls `drop_pct` % within `within` minutes."""
    factor = 1 - Decimal(drop_pct) / 100
    return next(
        i
        for i in range(len(closes) - within)
        if min(closes[i + 1 : i + within]) <= closes[i] * factor
    )


# -- placing, precision, minimums ----------------------------------------------------------------


def test_a_market_buy_fills_at_the_real_price_with_fills_and_fees(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    order = new_order(OrderType.MARKET, Side.BUY, "0.01")
    placed = broker.place(order)
    assert placed.status is OrderStatus.FILLED
    assert (placed.filled, placed.average_price) == (Decimal("0.01"), LAST_CLOSE)
    assert placed.exchange == "binance" and placed.exchange_order_id == str(fake.orders[0].order_id)
    update = broker.fetch(placed)
    (fill,) = update.fills
    assert fill.id == f"binance:BTCUSDT:{fake.trades[0]['id']}"
    assert (fill.amount, fill.price, fill.order_id) == (Decimal("0.01"), LAST_CLOSE, order.id)
    # Binance takes its 0.1 % in the asset bought; the order's fee is that valued in USDT.
    assert (fill.fee, fill.fee_currency) == (Decimal("0.00001"), "BTC")
    assert update.order.fee == Decimal("0.00001") * LAST_CLOSE == placed.fee
    assert broker.fetch(update.order, {fill.id}).fills == ()
    balances = broker.balances()
    assert balances["BTC"].total == Decimal("1.00999")
    assert balances["USDT"].total == Decimal(10_000) - Decimal("0.01") * LAST_CLOSE


def test_amount_and_price_are_sent_at_the_exchange_precision(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    order = new_order(OrderType.LIMIT, Side.SELL, "0.123456789", price=Decimal("110000.129"))
    placed = broker.place(order)
    assert placed.status is OrderStatus.OPEN
    assert (placed.amount, placed.price) == (Decimal("0.12345"), Decimal("110000.13"))
    (stored,) = fake.orders
    assert (stored.quantity, stored.price) == (Decimal("0.12345"), Decimal("110000.13"))


def test_orders_under_the_minimums_are_refused_before_anything_is_sent(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    calls_before = list(fake.calls)
    tiny = broker.place(new_order(OrderType.MARKET, Side.BUY, "0.000004"))
    assert tiny.status is OrderStatus.REJECTED
    assert "greater than minimum amount precision of 0.00001" in tiny.reject_reason
    cheap = broker.place(new_order(OrderType.LIMIT, Side.BUY, "0.00004", price=Decimal("100000")))
    assert cheap.status is OrderStatus.REJECTED
    assert cheap.reject_reason == "order value 4.00000 is below BTC/USDT's minimum of 5.0"
    market = broker.place(new_order(OrderType.MARKET, Side.SELL, "0.00004"), last_price=LAST_CLOSE)
    assert (
        market.status is OrderStatus.REJECTED and "below BTC/USDT's minimum" in market.reject_reason
    )
    assert fake.calls == calls_before
    assert fake.orders == []


def test_an_exchange_refusal_comes_back_as_a_rejected_order(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    refused = broker.place(new_order(OrderType.MARKET, Side.BUY, "1"))  # 106k USDT; we have 10k
    assert refused.status is OrderStatus.REJECTED
    assert refused.reject_reason == "Account has insufficient balance for requested action."
    assert fake.orders == []


def test_a_stop_loss_rests_as_a_stop_limit_and_fills_when_the_real_price_falls(
    broker: LiveBroker, fake: FakeBinanceTrading, closes: list[Decimal]
) -> None:
    fake.cursor = start_before_drop(closes, "0.5", within=120)
    stop = (fake.price * Decimal("0.997")).quantize(Decimal("0.01"))
    placed = broker.place(new_order(OrderType.STOP_LOSS, Side.SELL, "0.02", stop_price=stop))
    assert placed.status is OrderStatus.OPEN
    (stored,) = fake.orders
    assert stored.type == "STOP_LOSS_LIMIT" and stored.stop_price == stop
    assert stored.price == (stop * Decimal("0.99")).quantize(Decimal("0.01"))  # 1 % buffer
    while fake.price > stop:
        fake.advance()
    trigger_price = fake.price
    update = broker.fetch(placed)
    assert update.order.status is OrderStatus.FILLED
    assert update.order.average_price == trigger_price  # taken at the market, not the limit
    assert stored.price <= trigger_price <= stop
    assert [f.price for f in update.fills] == [trigger_price]


def test_an_iceberg_is_native_and_shows_only_its_slice(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    price = (LAST_CLOSE * Decimal("0.95")).quantize(Decimal("0.01"))
    order = new_order(
        OrderType.ICEBERG, Side.BUY, "0.05", price=price, visible_amount=Decimal("0.01")
    )
    assert broker.place(order).status is OrderStatus.OPEN
    assert fake.orders[0].iceberg_qty == Decimal("0.01")


def test_the_capability_table_follows_ccxt_and_emulated_types_are_never_sent(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    table = broker.capabilities
    assert table == order_capabilities(broker._exchange)
    native = {kind for kind, cap in table.items() if cap.native}
    assert native == {
        OrderType.MARKET,
        OrderType.LIMIT,
        OrderType.TAKE_PROFIT,
        OrderType.STOP_LOSS,
        OrderType.ICEBERG,
    }
    assert set(table) == set(OrderType)
    calls_before = list(fake.calls)
    trailing = new_order(OrderType.TRAILING_STOP, Side.SELL, "0.01", trail_pct=Decimal(2))
    with pytest.raises(LiveTradingError, match="trailing_stop orders are not native on binance"):
        broker.place(trailing)
    assert fake.calls == calls_before


# -- cancel, fetch, open orders --------------------------------------------------------------


def test_place_cancel_fetch_round_trip_releases_the_locked_funds(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    before = broker.balances()
    price = Decimal("95000.00")
    placed = broker.place(new_order(OrderType.LIMIT, Side.BUY, "0.02", price=price))
    assert placed.status is OrderStatus.OPEN
    assert broker.balances()["USDT"].used == Decimal("0.02") * price
    assert broker.fetch(placed).order == placed
    assert [o.id for o in broker.open_orders("BTC/USDT")] == [placed.id]
    canceled = broker.cancel(placed)
    assert canceled.status is OrderStatus.CANCELED and canceled.filled == 0
    assert broker.fetch(placed).order.status is OrderStatus.CANCELED
    assert broker.open_orders("BTC/USDT") == []
    assert broker.balances() == before


def test_cancelling_an_order_that_already_filled_reports_the_fill(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    placed = broker.place(new_order(OrderType.MARKET, Side.SELL, "0.01"))
    after = broker.cancel(placed)  # Binance answers -2011 "Unknown order sent."
    assert after.status is OrderStatus.FILLED and after.filled == Decimal("0.01")


def test_partial_fills_map_to_partially_filled_with_one_fill_per_trade(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    price = Decimal("108000.00")
    placed = broker.place(new_order(OrderType.TAKE_PROFIT, Side.SELL, "0.01", price=price))
    fake.fill(placed.id, Decimal("0.004"))
    fake.fill(placed.id, Decimal("0.003"))
    update = broker.fetch(placed)
    assert update.order.status is OrderStatus.PARTIALLY_FILLED
    assert (update.order.filled, update.order.average_price) == (Decimal("0.007"), price)
    assert [f.amount for f in update.fills] == [Decimal("0.004"), Decimal("0.003")]
    assert len({f.id for f in update.fills}) == 2
    assert update.order.fee == Decimal("0.007") * price * Decimal("0.001")  # paid in USDT


def test_open_orders_include_orders_placed_elsewhere(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    ours = broker.place(new_order(OrderType.LIMIT, Side.BUY, "0.01", price=Decimal("90000.00")))
    broker._exchange.create_order("BTC/USDT", "limit", "sell", 0.01, 120000.0)  # "by hand"
    found = {o.id: o for o in broker.open_orders("BTC/USDT")}
    assert ours.id in found and len(found) == 2
    (theirs,) = (o for o in found.values() if o.id != ours.id)
    assert (theirs.side, theirs.type, theirs.price) == (Side.SELL, OrderType.LIMIT, Decimal(120000))


# -- crashes, retries, restarts --------------------------------------------------------------


def test_a_lost_answer_is_looked_up_instead_of_sent_again(
    broker: LiveBroker, fake: FakeBinanceTrading, sleeps: list[float]
) -> None:
    fake.lose_answers = 1  # Binance executes, then answers -1007 "execution status unknown"
    order = new_order(OrderType.MARKET, Side.BUY, "0.01")
    placed = broker.place(order)
    assert placed.status is OrderStatus.FILLED
    assert len(fake.orders_with_client_id(order.id)) == 1
    assert fake.order_calls() == [
        ("GET", "/api/v3/order"),
        ("POST", "/api/v3/order"),
        ("GET", "/api/v3/order"),
    ]
    assert sleeps == [1.0]


def test_the_stand_in_like_binance_accepts_a_filled_orders_client_id_again(
    broker: LiveBroker, fake: FakeBinanceTrading
) -> None:
    # Why place() looks an id up before sending: resending blindly doubles a filled order.
    exchange = broker._exchange
    for _ in range(2):
        exchange.create_order("BTC/USDT", "market", "buy", 0.01, None, {"clientOrderId": "tc-x"})
    assert len(fake.orders_with_client_id("tc-x")) == 2


def test_a_restart_after_a_lost_answer_does_not_place_the_order_twice(
    connect: Callable[..., LiveBroker], fake: FakeBinanceTrading
) -> None:
    order = new_order(OrderType.MARKET, Side.BUY, "0.01")
    fake.lose_answers = 1
    with pytest.raises(LiveTradingError, match="state is unknown until reconcile"):
        connect(attempts=1).place(order)  # ...and the process dies here
    assert len(fake.orders_with_client_id(order.id)) == 1
    restarted = connect()
    calls_before = len(fake.calls)
    placed = restarted.place(order)  # the engine retries the order it persisted as new
    assert placed.status is OrderStatus.FILLED
    assert fake.calls[calls_before:] == [("GET", "/api/v3/order")]
    assert len(fake.orders_with_client_id(order.id)) == 1
    assert fake.balances["BTC"][0] == Decimal("1.00999")  # bought once


def test_the_exchanges_duplicate_refusal_counts_as_already_placed(
    connect: Callable[..., LiveBroker], fake: FakeBinanceTrading
) -> None:
    order = new_order(OrderType.LIMIT, Side.BUY, "0.01", price=Decimal("90000.00"))
    fake.lose_answers = 1
    with pytest.raises(LiveTradingError):
        connect(attempts=1).place(order)
    fake.query_lag = 1  # the order is not visible to the first query after the restart
    placed = connect().place(order)
    assert placed.status is OrderStatus.OPEN
    assert placed.exchange_order_id == str(fake.orders[0].order_id)
    assert len(fake.orders) == 1
    assert fake.order_calls()[-3:] == [
        ("GET", "/api/v3/order"),  # lagging: "Order does not exist."
        ("POST", "/api/v3/order"),  # refused: -2010 "Duplicate order sent."
        ("GET", "/api/v3/order"),  # found
    ]


def test_reconcile_after_a_restart_settles_every_known_order(
    connect: Callable[..., LiveBroker], fake: FakeBinanceTrading, closes: list[Decimal]
) -> None:
    fake.cursor = start_before_drop(closes, "0.5", within=120)
    before = connect()
    price = fake.price
    dip = before.place(
        new_order(
            OrderType.LIMIT,
            Side.BUY,
            "0.01",
            price=(price * Decimal("0.997")).quantize(Decimal("0.01")),
        )
    )
    deep = before.place(
        new_order(
            OrderType.LIMIT,
            Side.BUY,
            "0.01",
            price=(price * Decimal("0.8")).quantize(Decimal("0.01")),
        )
    )
    high = before.place(
        new_order(
            OrderType.LIMIT,
            Side.SELL,
            "0.01",
            price=(price * Decimal("1.05")).quantize(Decimal("0.01")),
        )
    )
    done = before.place(new_order(OrderType.MARKET, Side.BUY, "0.01"))
    lost = new_order(OrderType.MARKET, Side.SELL, "0.01")  # persisted as new, then sent...
    fake.lose_answers = 1
    with pytest.raises(LiveTradingError):
        connect(attempts=1).place(lost)  # ...and the answer never came back
    unsent = new_order(OrderType.LIMIT, Side.BUY, "0.01", price=Decimal("90000.00"))
    forgotten = replace(
        new_order(OrderType.LIMIT, Side.BUY, "0.01", price=Decimal("90000.00")),
        status=OrderStatus.OPEN,
        exchange_order_id="38000000001",
    )
    assert [o.status for o in (dip, deep, high)] == [OrderStatus.OPEN] * 3
    # The process stops; while it is down the market moves and a buyer takes part of `high`.
    fake.advance(120)
    fake.fill(high.id, Decimal("0.004"))
    after = connect()
    calls_before = len(fake.calls)
    updates = after.reconcile([dip, deep, high, done, lost, unsent, forgotten])
    by_id = {u.order.id: u for u in updates}
    assert set(by_id) == {dip.id, high.id, lost.id, unsent.id, forgotten.id}  # not `deep`
    assert by_id[lost.id].order.status is OrderStatus.FILLED
    assert by_id[lost.id].order.exchange_order_id is not None
    assert len(by_id[lost.id].fills) == 1
    assert by_id[dip.id].order.status is OrderStatus.FILLED
    assert [f.amount for f in by_id[dip.id].fills] == [Decimal("0.01")]
    assert by_id[high.id].order.status is OrderStatus.PARTIALLY_FILLED
    assert [f.amount for f in by_id[high.id].fills] == [Decimal("0.004")]
    assert by_id[unsent.id].order.status is OrderStatus.REJECTED
    assert "never reached binance; not resent" in by_id[unsent.id].order.reject_reason
    assert by_id[forgotten.id].order.status is OrderStatus.CANCELED
    assert ("POST", "/api/v3/order") not in fake.calls[calls_before:]
    known = {f.id for u in updates for f in u.fills}
    assert after.reconcile([by_id[dip.id].order, deep, by_id[high.id].order], known) == []


# -- the live guard --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trading", "exchange", "message"),
    [
        (TradingConfig(), BINANCE, 'mode is "paper"; set mode = "live"'),
        (TradingConfig(mode="live"), BINANCE, "allow_live is false"),
        (LIVE, ExchangeConfig(name="binance"), "'binance' has no key_name"),
        (
            LIVE,
            ExchangeConfig(name="binance", key_name="okx-main"),
            "keys for okx, not for binance",
        ),
    ],
)
def test_the_live_guard_names_the_missing_switch(
    trading: TradingConfig,
    exchange: ExchangeConfig,
    message: str,
    keystore: Keystore,
    fake: FakeBinanceTrading,
) -> None:
    with pytest.raises(LiveGuardError, match=message):
        open_live_exchange(trading, exchange, keystore, api_url=fake.api_url)
    assert fake.calls == []


def test_live_trading_needs_the_keystore_and_its_entry(
    keystore: Keystore, fake: FakeBinanceTrading
) -> None:
    with pytest.raises(LiveGuardError, match="keys from the encrypted keystore"):
        open_live_exchange(LIVE, BINANCE, None, api_url=fake.api_url)
    missing = ExchangeConfig(name="binance", key_name="binance-mian")
    with pytest.raises(KeystoreError, match="did you mean binance-main"):
        open_live_exchange(LIVE, missing, keystore, api_url=fake.api_url)


def test_a_broker_refuses_an_exchange_keyed_outside_the_guard(fake: FakeBinanceTrading) -> None:
    import ccxt

    exchange = ccxt.binance({"apiKey": API_KEY, "secret": SECRET})
    with pytest.raises(LiveGuardError, match="open_live_exchange"):
        LiveBroker(exchange)
    assert fake.calls == []


def test_keys_that_do_not_match_sign_nothing_the_exchange_accepts(
    keystore: Keystore, fake: FakeBinanceTrading
) -> None:
    config = ExchangeConfig(name="binance", key_name="binance-wrong-secret")
    exchange = open_live_exchange(LIVE, config, keystore, api_url=fake.api_url)
    with pytest.raises(LiveTradingError, match="Signature for this request is not valid"):
        LiveBroker(exchange, sleep=lambda _: None)
