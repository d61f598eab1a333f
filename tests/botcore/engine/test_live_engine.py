"""`mode = "live"`: the engine trading through the real ccxt client on a Binance stand-in.

One local server speaks Binance's public API (real 1-minute BTC/USDT candles, served as they
close on a simulated clock) and its signed trading API (orders matched along the same real
prices, commission charged in the asset received). The engine runs exactly as `tradechat run`
starts it: keys from a real keystore file, orders persisted before they are sent, fills read
back from the exchange. Afterwards the ledger must equal the exchange's account to the satoshi.
"""

from __future__ import annotations

import asyncio
import bisect
import gzip
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from botcore.config import Settings
from botcore.engine.exchange_source import ExchangeSource
from botcore.engine.live_trader import LiveTrader
from botcore.engine.runner import EngineRunner
from botcore.engine.trader import BarReport
from botcore.errors import ConfigError
from botcore.execution.live import LiveGuardError
from botcore.execution.orders import OrderStatus, OrderType, Side
from botcore.persistence import Store
from botcore.security.keystore import Keystore
from botcore.services.trading import TradingService
from tests.fakes.binance_api import FakeBinance, klines_from_csv
from tests.fakes.binance_trading import FakeBinanceTrading, closes_from_csv

API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"  # noqa: S105
MINUTE_MS = 60_000

START_MS = 1_749_000_000_000  # 2025-06-04 01:20 UTC, inside the recorded month


class Market:
    """The simulated clock, and the trading stand-in's price kept at the last closed minute."""

    def __init__(self, fake: FakeBinanceTrading, data: FakeBinance, opens: list[int]) -> None:
        self.fake = fake
        self.data = data
        self.opens = opens
        self.now_ms = START_MS
        self._sync()

    def __call__(self) -> int:
        return self.now_ms

    async def sleep(self, seconds: float) -> None:
        self.now_ms += round(seconds * 1000)
        self._sync()
        await asyncio.sleep(0)

    def wait(self, minutes: int) -> None:
        """Time passes while the engine is down."""
        self.now_ms += minutes * MINUTE_MS
        self._sync()

    def _sync(self) -> None:
        self.data.server_time_ms = self.now_ms  # the tickers' "now"
        closed = bisect.bisect_right(self.opens, self.now_ms - MINUTE_MS) - 1
        if closed > self.fake.cursor:
            self.fake.advance(closed - self.fake.cursor)


@pytest.fixture(scope="module")
def recorded(shared_data: Path) -> tuple[list[list[Any]], list[Decimal], list[int]]:
    path = shared_data / "binance_BTC-USDT_1m.csv.gz"
    klines = klines_from_csv(path, "1m")
    with gzip.open(path, "rt") as handle:
        opens = [int(line.split(",")[0]) for line in handle.readlines()[1:]]
    return klines, closes_from_csv(path), opens


@pytest.fixture
def exchange(
    httpserver_ipv4: HTTPServer, recorded: tuple[list[list[Any]], list[Decimal], list[int]]
) -> tuple[FakeBinanceTrading, Market]:
    klines, closes, opens = recorded
    data = FakeBinance(httpserver_ipv4, {("BTCUSDT", "1m"): klines}, serve_tickers=True)
    fake = FakeBinanceTrading(
        httpserver_ipv4, API_KEY, SECRET, closes, cursor=0,
        balances={"BTC": [Decimal(0), Decimal(0)], "USDT": [Decimal(10_000), Decimal(0)]},
    )  # fmt: skip
    return fake, Market(fake, data, opens)


@pytest.fixture
def keystore(tmp_path: Path) -> Keystore:
    store = Keystore.create(tmp_path / "keystore.json", "test passphrase")
    store.add("binance-main", "binance", API_KEY, SECRET)
    return store


def live_settings(db: Path, **risk: float) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db}"},
            "market": {
                "source": "exchange",
                "symbols": [
                    {"symbol": "BTC/USDT", "timeframe": "1m", "strategy": "ema_cross",
                     "params": {"fast": 3, "slow": 8}},
                ],
            },
            "trading": {"mode": "live", "allow_live": True, "stake_pct": 20.0},
            "risk": {"max_daily_loss_pct": 50.0, "max_drawdown_pct": 80.0, **risk},
            "exchanges": [{"name": "binance", "key_name": "binance-main"}],
        }
    )  # fmt: skip


def run_engine(
    settings: Settings, fake: FakeBinanceTrading, market: Market, keystore: Keystore,
    bars: int, before: Callable[[EngineRunner], None] | None = None,
) -> EngineRunner:  # fmt: skip
    """Start the engine like `tradechat run`, let `bars` candles close, stop it cleanly."""
    source = ExchangeSource.from_settings(
        settings, api_urls={"binance": fake.api_url}, clock_ms=market, sleep=market.sleep
    )
    runner = EngineRunner(settings, api_urls={"binance": fake.api_url}, keystore=keystore,
                          source=source)  # fmt: skip
    if before is not None:
        before(runner)
    stop = asyncio.Event()
    seen: list[BarReport] = []

    def on_bar(report: BarReport) -> None:
        seen.append(report)
        if len(seen) >= bars:
            stop.set()

    try:
        asyncio.run(runner.run(stop, on_bar=on_bar))
    finally:
        runner.close()
    return runner


def exchange_totals(fake: FakeBinanceTrading) -> dict[str, Decimal]:
    """The account as the exchange reports it (Binance's `/account` shows 8 decimals)."""
    eight = Decimal("1e-8")
    totals = {a: (free + used).quantize(eight) for a, (free, used) in fake.balances.items()}
    return {asset: total for asset, total in totals.items() if total}


def books(db: Path) -> tuple[Store, dict[str, Decimal]]:
    store = Store.open(f"sqlite:///{db}")
    return store, {a: v for a, v in store.balances("binance").items() if v}


def test_live_engine_trades_on_the_exchange_and_its_ledger_equals_the_account(
    exchange: tuple[FakeBinanceTrading, Market], keystore: Keystore, tmp_path: Path
) -> None:
    fake, market = exchange
    db = tmp_path / "live.db"
    run_engine(live_settings(db, stop_loss_pct=0.3), fake, market, keystore, bars=240)
    store, ledger = books(db)
    try:
        orders = store.orders()
        sent = [o for o in orders if o.exchange_order_id is not None]
        assert len([o for o in sent if o.reason == "entry_signal"]) >= 3
        for order in sent:  # each went out once, under the id it was persisted with
            [remote] = fake.orders_with_client_id(order.id)
            assert str(remote.order_id) == order.exchange_order_id
            assert order.exchange == "binance"
        protective = [o for o in orders if o.reason == "protective"]
        assert protective and all(o.type is OrderType.STOP_LOSS for o in protective)
        # every fill is one of the exchange's trades, booked once
        trade_ids = {f"binance:BTCUSDT:{t['id']}" for t in fake.trades}
        fills = store.fills()
        assert {f.id for f in fills} == trade_ids
        assert any(f.fee_currency == "BTC" for f in fills if f.side is Side.BUY)
        # the ledger kept from fills equals the account the exchange reports
        assert ledger == exchange_totals(fake)
        assert market.data.ticker_requests, "the engine read the tickers before sending"
        assert store.trades(), "round trips closed"
        assert {t.exit_reason for t in store.trades()} <= {"exit_signal", "stop_loss"}
    finally:
        store.close()


def test_a_restart_reconciles_what_filled_while_the_engine_was_down(
    exchange: tuple[FakeBinanceTrading, Market], keystore: Keystore, tmp_path: Path
) -> None:
    fake, market = exchange
    db = tmp_path / "restart.db"
    settings = live_settings(db, stop_loss_pct=0.2)

    # run until a position is open with its stop resting on the exchange
    for _ in range(20):
        run_engine(settings, fake, market, keystore, bars=10)
        store = Store.open(f"sqlite:///{db}")
        resting = [o for o in store.orders(open_only=True) if o.reason == "protective"]
        held = store.positions("binance")
        store.close()
        if held and resting:
            break
    else:
        pytest.fail("no position was opened")
    [stop] = resting
    assert stop.status is OrderStatus.OPEN
    # down for a while: the real price falls through the stop, which fills on the exchange
    for _ in range(600):
        market.wait(1)
        if fake.orders_with_client_id(stop.id)[0].status == "FILLED":
            break
    else:
        pytest.fail("the recorded prices never reached the stop")
    trades_before = len(fake.trades)
    run_engine(settings, fake, market, keystore, bars=1)
    store, ledger = books(db)
    try:
        assert store.order(stop.id).status is OrderStatus.FILLED  # type: ignore[union-attr]
        stopped = [t for t in store.trades() if t.exit_reason == "stop_loss"]
        assert stopped and stopped[-1].exit_price <= stop.stop_price  # type: ignore[operator]
        assert ledger == exchange_totals(fake)
        assert {f.id for f in store.fills()} == {f"binance:BTCUSDT:{t['id']}" for t in fake.trades}
        assert len(fake.trades) >= trades_before
    finally:
        store.close()


def test_an_emulated_oco_is_carried_out_with_market_orders_on_the_exchange(
    exchange: tuple[FakeBinanceTrading, Market], keystore: Keystore, tmp_path: Path
) -> None:
    fake, market = exchange
    db = tmp_path / "oco.db"
    settings = live_settings(db, stop_loss_pct=0.15, take_profit_pct=0.15)
    run_engine(settings, fake, market, keystore, bars=240)
    store, ledger = books(db)
    try:
        ocos = [o for o in store.orders() if o.type is OrderType.OCO]
        done = [o for o in ocos if o.status is OrderStatus.FILLED]
        assert len(done) >= 2
        for oco in done:
            assert fake.orders_with_client_id(oco.id) == []  # never sent: ccxt has no OCO
            children = [o for o in store.orders() if o.parent_id == oco.id]
            assert children and all(c.type is OrderType.MARKET for c in children)
            for child in children:
                [remote] = fake.orders_with_client_id(child.id)
                assert remote.type == "MARKET" and remote.side == "SELL"
            # the exchange's fills are booked to the OCO, so the trade says which leg fired
            assert sum(f.amount for f in store.fills(order_id=oco.id)) == oco.filled
        reasons = {t.exit_reason for t in store.trades()}
        assert reasons & {"stop_loss", "take_profit"}
        assert ledger == exchange_totals(fake)
    finally:
        store.close()


def test_a_manual_buy_in_live_mode_is_persisted_then_sent_at_the_next_bar(
    exchange: tuple[FakeBinanceTrading, Market], keystore: Keystore, tmp_path: Path
) -> None:
    fake, market = exchange
    db = tmp_path / "manual.db"
    settings = live_settings(db)
    settings = settings.model_copy(
        update={"market": settings.market.model_copy(update={"symbols": (
            settings.market.symbols[0].model_copy(update={"strategy": "rsi_reversion",
                                                          "params": {}}),
        )})}
    )  # fmt: skip
    run_engine(settings, fake, market, keystore, bars=2)
    store = Store.open(f"sqlite:///{db}")
    try:
        ticket = TradingService(settings, store).buy(
            "BTC/USDT", quote_amount=Decimal(500), actor="tg:1", request_id="m1"
        )
        assert ticket.order.status is OrderStatus.NEW  # persisted, not sent
        assert fake.orders_with_client_id(ticket.order.id) == []
    finally:
        store.close()
    run_engine(settings, fake, market, keystore, bars=1)
    [remote] = fake.orders_with_client_id(ticket.order.id)
    assert remote.type == "MARKET" and remote.status == "FILLED"
    store, ledger = books(db)
    try:
        order = store.order(ticket.order.id)
        assert order is not None and order.status is OrderStatus.FILLED
        assert ledger == exchange_totals(fake)
    finally:
        store.close()


def test_live_mode_refuses_a_replay_and_missing_switches(
    keystore: Keystore, tmp_path: Path
) -> None:
    settings = live_settings(tmp_path / "x.db")
    replay = settings.model_copy(
        update={"market": settings.market.model_copy(update={"source": "replay"})}
    )
    with pytest.raises(ConfigError, match='source = "exchange"'):
        EngineRunner(replay)
    off = settings.model_copy(
        update={"trading": settings.trading.model_copy(update={"allow_live": False})}
    )
    with pytest.raises(LiveGuardError, match="allow_live"):
        EngineRunner(off, keystore=keystore)
    with pytest.raises(LiveGuardError, match="keystore"):
        EngineRunner(settings)
    assert isinstance(LiveTrader, type)
