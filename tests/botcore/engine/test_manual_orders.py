"""Manual buy/sell/close and pause/resume through the trading service, worked by the real engine
on replayed Binance candles.

The service writes through its own store connection, as a chat front end or the TUI in another
process would; the engine adopts what it wrote at its next bar.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

import pytest

from botcore.config import Settings
from botcore.engine.runner import EngineRunner
from botcore.engine.state import RunState
from botcore.engine.streams import merged_bars
from botcore.errors import StrategyNotFoundError
from botcore.execution.fills import market_fill_price
from botcore.execution.orders import OrderStatus, OrderType
from botcore.persistence import Store
from botcore.risk.manager import AMOUNT_QUANTUM
from botcore.services.control import ControlError, EngineControl
from botcore.services.trading import TradingError, TradingService
from botcore.services.watch import WatchError, WatchService

SLIPPAGE = 0.0005
FEE = Decimal("0.001")


@dataclass
class Rig:
    runner: EngineRunner
    service: TradingService
    service_store: Store
    bars: Iterator[tuple[int, int]]

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            j, i = next(self.bars)
            self.runner.trader.process(j, i)

    def next_open(self) -> Decimal:
        """The open of the bar the engine processes next (where a market order fills)."""
        cursor = self.runner.trader.cursors()[0]
        stream = self.runner.streams[0]
        i = int((stream.timestamps > (cursor or -1)).argmax())
        return Decimal(str(stream.bar_values(i)["open"]))


def _settings(db: Path, cache: Path, **risk: float) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db}"},
            "data": {"cache_dir": str(cache)},
            "market": {
                "start": "2024-03-01",
                "symbols": [{"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "ema_cross"}],
            },
            "trading": {"fee": float(FEE), "slippage": SLIPPAGE},
            "risk": {"stop_loss_pct": 2.0, **risk},
        }
    )


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    settings = _settings(tmp_path / "bot.db", tmp_path / "cache")
    runner = EngineRunner(settings)
    store = Store.open(settings.database.url)
    bars = iter(merged_bars(runner.streams, runner.trader.cursors(), runner.start_ms))
    rig = Rig(runner, TradingService(settings, store), store, bars)
    rig.step(3)
    yield rig
    store.close()
    runner.close()


def _price(value: float) -> Decimal:
    """The broker's Decimal of a float fill price (to 1e-8)."""
    return Decimal(str(value)).quantize(Decimal("1e-8"))


def _counts(store: Store) -> tuple[int, int, int]:
    return len(store.orders()), len(store.fills()), len(store.audit_log())


def test_a_manual_buy_fills_at_the_next_open_with_fees_and_slippage_and_gets_protected(
    rig: Rig,
) -> None:
    ticket = rig.service.buy("btc/usdt", quote_amount=Decimal(1000), actor="tg:1", request_id="r1")
    assert ticket.order.status is OrderStatus.OPEN and ticket.order.type is OrderType.MARKET
    assert rig.service_store.order(ticket.order.id) is not None  # persisted before it returns
    assert rig.service_store.audit_log()[0].action == "manual_order"
    # floored: a quote amount is never overspent
    expected = (Decimal(1000) / ticket.last_price).quantize(Decimal("1e-8"), ROUND_DOWN)
    assert ticket.order.amount == expected
    opened = rig.next_open()
    rig.step()

    store = rig.runner.store
    [fill] = store.fills(order_id=ticket.order.id)
    assert fill.price == _price(market_fill_price(1, float(opened), SLIPPAGE))
    assert fill.amount == ticket.order.amount
    assert fill.fee == (fill.amount * fill.price * FEE).quantize(fill.fee)
    [position] = store.positions("paper")
    assert position.amount == ticket.order.amount
    [protective] = [o for o in store.orders(open_only=True) if o.reason == "protective"]
    assert protective.type is OrderType.STOP_LOSS and protective.amount == position.amount
    assert protective.stop_price == (fill.price * Decimal("0.98")).quantize(Decimal("1e-8"))


def test_partial_sell_replaces_protection_for_the_rest_and_close_all_flattens(rig: Rig) -> None:
    bought = rig.service.buy("BTC/USDT", amount=Decimal("0.04"), actor="a", request_id="b")
    rig.step()
    sold = rig.service.sell("BTC/USDT", fraction=Decimal("0.25"), actor="a", request_id="s")
    assert sold.order.amount == Decimal("0.01")
    opened = rig.next_open()
    rig.step()

    store = rig.runner.store
    [fill] = store.fills(order_id=sold.order.id)
    assert fill.price == _price(market_fill_price(-1, float(opened), SLIPPAGE))
    [position] = store.positions("paper")
    assert position.amount == bought.order.amount - Decimal("0.01")
    protective = [o for o in store.orders() if o.reason == "protective"]
    assert [o.status for o in protective] == [OrderStatus.CANCELED, OrderStatus.OPEN]
    assert protective[1].amount == position.amount
    [trade] = store.trades()
    assert trade.exit_reason == "manual" and trade.amount == Decimal("0.01")

    [closing] = rig.service.close("all", actor="a", request_id="c")
    assert closing.order.amount == position.amount
    rig.step()
    assert store.positions("paper") == []
    assert store.orders(open_only=True) == []
    assert store.balances("paper")["BTC"] == 0


def test_the_same_request_twice_makes_one_order(rig: Rig) -> None:
    first = rig.service.buy("BTC/USDT", amount=Decimal("0.01"), actor="a", request_id="x")
    again = rig.service.buy("BTC/USDT", amount=Decimal("0.01"), actor="a", request_id="x")
    assert again.duplicate and again.order.id == first.order.id
    assert len(rig.service_store.orders()) == 1


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.buy("ETH/USDT", amount=Decimal(1), actor="a", request_id="1"),
         "ETH/USDT is not traded by this bot (it runs BTC/USDT)"),
        (lambda s: s.buy("BTC/USDC", amount=Decimal(1), actor="a", request_id="1"),
         "Did you mean BTC/USDT?"),
        (lambda s: s.buy("BTC/USDT", amount=Decimal(1000), actor="a", request_id="1"),
         "refused by max_position_pct"),
        (lambda s: s.buy("BTC/USDT", amount=Decimal(-1), actor="a", request_id="1"),
         "must be positive"),
        (lambda s: s.buy("BTC/USDT", amount=Decimal(1), quote_amount=Decimal(5), actor="a",
                         request_id="1"), "not both"),
        (lambda s: s.buy("BTC/USDT", amount=Decimal("0.01"), price=Decimal(1), actor="a",
                         request_id="1"), "away from BTC/USDT's last price"),
        (lambda s: s.sell("BTC/USDT", actor="a", request_id="1"), "no open BTC/USDT position"),
        (lambda s: s.sell("BTC/USDT", fraction=Decimal(2), actor="a", request_id="1"),
         "at most 1"),
        (lambda s: s.close("all", actor="a", request_id="1"), "no open positions"),
    ],
)  # fmt: skip
def test_bad_requests_are_refused_politely_and_change_nothing(
    rig: Rig, call: object, message: str
) -> None:
    before = _counts(rig.service_store)
    with pytest.raises(TradingError, match=re.escape(message)):
        call(rig.service)  # type: ignore[operator]
    assert _counts(rig.service_store) == before


def test_selling_more_than_held_is_refused(rig: Rig) -> None:
    rig.service.buy("BTC/USDT", amount=Decimal("0.01"), actor="a", request_id="b")
    rig.step()
    rig.service.sell("BTC/USDT", amount=Decimal("0.006"), price=None, actor="a", request_id="s1")
    with pytest.raises(TradingError, match=r"at most 0.004 BTC/USDT \(the rest is already"):
        rig.service.sell("BTC/USDT", amount=Decimal("0.005"), actor="a", request_id="s2")


def test_pause_stops_strategy_entries_until_resumed(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "p.db", tmp_path / "cache")
    runner = EngineRunner(settings)
    store = Store.open(settings.database.url)
    try:
        service = EngineControl(settings, store)
        assert service.pause("tg:1") and not service.pause("tg:1")
        bars = merged_bars(runner.streams, runner.trader.cursors(), runner.start_ms)
        for n, (j, i) in enumerate(bars):
            runner.trader.process(j, i)
            if n == 400:
                break
        signals = store.signals()
        assert signals, "ema_cross gives entry signals over 400 hours of BTC"
        entries = [s for s in signals if s.action == "enter"]
        assert entries and all(s.outcome.startswith("paused") for s in entries)
        assert store.orders() == []
        assert service.resume("tg:1")
        for j, i in bars:
            runner.trader.process(j, i)
            if store.orders():
                break
        assert store.orders()[0].reason == "entry_signal"
        assert [a.action for a in store.audit_log(limit=10)][-2:] in (
            ["pause", "resume"],
            ["resume", "pause"],
        )
    finally:
        store.close()
        runner.close()


def test_a_risk_change_applies_from_the_next_bar_and_survives_a_restart(rig: Rig) -> None:
    control = EngineControl(rig.runner.settings, rig.service_store)
    change = control.set_risk("stop_loss_pct", 5.0, "tg:1")
    assert (change.before, change.after) == (2.0, 5.0)
    rig.service.buy("BTC/USDT", amount=Decimal("0.01"), actor="a", request_id="b")
    rig.step()
    [protective] = [o for o in rig.runner.store.orders(open_only=True) if o.reason == "protective"]
    [fill] = rig.runner.store.fills()
    assert protective.stop_price == (fill.price * Decimal("0.95")).quantize(Decimal("1e-8"))
    assert rig.runner.trader.risk.config.stop_loss_pct == 5.0
    restarted = EngineRunner(rig.runner.settings, store=rig.runner.store)
    assert restarted.trader.settings.risk.stop_loss_pct == 5.0
    assert control.risk().stop_loss_pct == 5.0


def test_a_strategy_assignment_switches_the_stream_and_bad_requests_write_nothing(
    rig: Rig,
) -> None:
    control = EngineControl(rig.runner.settings, rig.service_store)
    before = _counts(rig.service_store)
    with pytest.raises(ControlError, match="not accepted"):
        control.set_risk("max_open_positions", 0, "a")
    with pytest.raises(ControlError, match="cannot be changed from chat"):
        control.set_risk("cooldown_minutes", 5, "a")
    with pytest.raises(StrategyNotFoundError, match="rsi_reversion"):
        control.set_strategy("rsi_reverson", None, "a")
    with pytest.raises(ControlError, match="does not trade ETH/USDT"):
        control.set_strategy("rsi_reversion", "ETH/USDT", "a")
    assert _counts(rig.service_store) == before
    assert rig.service_store.risk_settings() == {}

    [assignment] = control.set_strategy("rsi_reversion", "BTC/USDT", "tg:1")
    assert assignment.strategy == "rsi_reversion" and control.strategy_of("BTC/USDT") == (
        "rsi_reversion"
    )
    assert rig.runner.streams[0].strategy.name == "ema_cross"
    rig.step()
    assert rig.runner.streams[0].strategy.name == "rsi_reversion"
    assert [a.action for a in rig.service_store.audit_log()][-1] == "set_strategy"


def test_a_price_alert_fires_once_on_the_first_bar_reaching_it(rig: Rig) -> None:
    watch = WatchService(rig.runner.settings, rig.service_store)
    last = RunState.from_json(rig.service_store.state("engine.run_state")).marks["BTC/USDT"]
    with pytest.raises(WatchError, match="already above"):
        watch.add_alert("BTC/USDT", "above", last - 1, "a")
    with pytest.raises(WatchError, match="it trades BTC/USDT"):
        watch.add_alert("ETH/USDT", "above", Decimal(1), "a")
    target = (last * Decimal("1.004")).quantize(Decimal("0.01"))
    alert = watch.add_alert("BTC/USDT", "above", target, "tg:1")
    stream = rig.runner.streams[0]
    fired_at, seen = None, []
    for _ in range(200):
        j, i = next(rig.bars)
        seen.append(i)
        report = rig.runner.trader.process(j, i)
        if report.alerts:
            fired_at = i
            break
    assert fired_at is not None, "BTC rose 0.4% within 200 hours"
    highs = [Decimal(str(stream.bar_values(k)["high"])) for k in seen]
    assert highs[-1] >= target and all(h < target for h in highs[:-1])  # the first bar reaching it
    [stored] = rig.service_store.alerts()
    assert stored.id == alert.id and stored.triggered_ms == report.timestamp_ms + stream.step_ms
    assert watch.alerts() == []
    rig.step(5)  # fires once only
    assert rig.service_store.alerts()[0].triggered_ms == stored.triggered_ms


def test_the_watchlist_takes_markets_with_prices_only(rig: Rig) -> None:
    watch = WatchService(rig.runner.settings, rig.service_store)
    assert watch.watch("ETH/USDT", "a") and not watch.watch("ETH/USDT", "a")
    assert watch.watch("BTC/USDT", "a")
    with pytest.raises(WatchError, match="no prices for DOGE/USDT"):
        watch.watch("DOGE/USDT", "a")
    assert watch.watchlist() == ["ETH/USDT", "BTC/USDT"]
    assert watch.unwatch("ETH/USDT", "a") and not watch.unwatch("ETH/USDT", "a")
    assert watch.watchlist() == ["BTC/USDT"]


def test_a_buy_without_a_size_takes_the_strategies_stake_within_the_risk_limits(rig: Rig) -> None:
    ticket = rig.service.buy("BTC/USDT", actor="a", request_id="stake")
    equity = Decimal(10_000)
    # 25 % of equity, but the 2 % stop with 1 % risk per trade allows 50 %: the stake decides
    expected = (equity * Decimal("0.25") / ticket.last_price).quantize(AMOUNT_QUANTUM, ROUND_DOWN)
    assert ticket.order.amount == expected
