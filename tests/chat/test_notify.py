"""Push-notification wording: engine reports in, one short line per event out.

The last test runs the engine on bundled Binance candles (the services' replay configuration,
with its tight daily-loss breaker) and checks the notifier against what the store recorded.
"""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

from botcore.engine.live_trader import FlushReport
from botcore.engine.runner import EngineRunner
from botcore.engine.trader import BarReport
from botcore.execution.orders import Fill, Order, OrderStatus, OrderType, Side
from botcore.execution.positions import ClosedTrade
from botcore.persistence import Store
from botcore.persistence.records import AlertCondition, AlertRecord
from botcore.risk.breaker import BreakerState
from botcore.risk.rules import RiskRule
from botcore.timeframes import parse_datetime, to_ms
from chat.notify import Notifier, merge
from chat.reply import Button, Reply
from tests.botcore.services.conftest import replay_settings

T0 = 1_685_800_000_000
CLEAR = BreakerState()
HALTED = BreakerState(True, RiskRule.MAX_DAILY_LOSS_PCT, "New entries halted by max_daily_loss_pct "
                      "at 2023-06-03 20:00 UTC.", T0)  # fmt: skip
ESCALATED = BreakerState(True, RiskRule.MAX_DRAWDOWN_PCT, "New entries halted by max_drawdown_pct.",
                         T0)  # fmt: skip
RESUMED = BreakerState(message="New entries resumed at 2023-06-04 00:00 UTC.")


def fill(fill_id: str = "f1", side: Side = Side.BUY, exchange: str = "paper") -> Fill:
    return Fill(fill_id, "o1", "ETH/USDT", side, Decimal("1.614448235408"), Decimal("1859.139105"),
                Decimal("3.00148385"), "USDT", T0, exchange)  # fmt: skip


def trade(trade_id: str = "f2") -> ClosedTrade:
    return ClosedTrade(trade_id, "ETH/USDT", "long", Decimal("1.6144"), T0 - 3_600_000, T0,
                       Decimal("1859.139105"), Decimal("1857.8706"), Decimal("6.0009"),
                       Decimal("-8.048855"), Decimal("-0.26789"), "exit_signal")  # fmt: skip


def rejected() -> Order:
    return Order("o9", "BTC/USDT", Side.SELL, OrderType.LIMIT, Decimal("0.5"), OrderStatus.REJECTED,
                 T0, T0, price=Decimal(30000), reject_reason="insufficient balance")  # fmt: skip


def report(breaker: BreakerState = CLEAR, **events: object) -> BarReport:
    values: dict[str, object] = {"fills": (), "orders": (), "trades": (), "alerts": ()} | events
    return BarReport("s", T0, equity=Decimal(10_000), action="hold", breaker=breaker,
                     **values)  # type: ignore[arg-type]  # fmt: skip


def test_a_fill_and_a_closed_trade_are_one_line_each() -> None:
    reply = Notifier().bar(report(fills=(fill(), fill("f2", Side.SELL)), trades=(trade(),)))

    assert reply is not None
    assert reply.text.split("\n") == [
        "**Bought** 1.614448235408 ETH/USDT at 1,859.14, fee 3.00 USDT (paper)",
        "**Closed** ETH/USDT: -8.05 USDT (-0.27%), 1,859.14 → 1,857.87, exit signal (paper)",
    ]  # the exit fill f2 is the trade's own: not told twice
    assert reply.image is None and reply.buttons == ()


def test_nothing_to_tell_gives_none() -> None:
    assert Notifier().bar(report()) is None
    assert Notifier().flush(FlushReport()) is None


def test_the_breaker_is_told_when_it_trips_escalates_and_clears_not_every_bar() -> None:
    notifier = Notifier()
    told = [notifier.bar(report(b)) for b in (CLEAR, HALTED, HALTED, ESCALATED, RESUMED, RESUMED)]

    assert [r.text if r else None for r in told] == [
        None,
        f"**Entries halted:** {HALTED.message}",
        None,
        f"**Entries halted:** {ESCALATED.message}",
        f"**Entries resumed:** {RESUMED.message}",
        None,
    ]
    assert Notifier().bar(report(HALTED)) is not None  # a halt in force at start-up is told


def test_alerts_and_refused_orders() -> None:
    alert = AlertRecord("a1", "BTC/USDT", AlertCondition.ABOVE, Decimal(70000), T0 - 1, T0)
    reply = Notifier().bar(report(alerts=(alert,), orders=(rejected(),)))

    assert reply is not None
    assert reply.text.split("\n") == [
        "**Order refused:** sell 0.5 BTC/USDT (limit): insufficient balance",
        "**Alert:** BTC/USDT went above 70,000.00",
    ]


def test_live_flush_tells_fills_refusals_and_orders_not_sent() -> None:
    flushed = FlushReport(
        orders=(rejected(),),
        fills=(fill(exchange="binance"),),
        errors=("binance: connection reset",),
    )

    reply = Notifier().flush(flushed)

    assert reply is not None
    assert reply.text.split("\n") == [
        "**Bought** 1.614448235408 ETH/USDT at 1,859.14, fee 3.00 USDT",
        "**Order refused:** sell 0.5 BTC/USDT (limit): insufficient balance",
        "**Order not sent:** binance: connection reset; retrying at the next bar.",
    ]


def test_merge_joins_plain_replies_and_keeps_images_and_buttons_apart() -> None:
    chart = Reply("chart", image=b"png")
    ask = Reply("sure?", buttons=(Button("Confirm", "ok:1"),))

    merged = merge([Reply("a"), Reply("b"), chart, Reply("c"), ask, Reply("d"), Reply("e")])

    assert [r.text for r in merged] == ["a\nb", "chart", "c", "sure?", "d\ne"]
    assert merged[1] is chart and merged[3] is ask


def test_a_real_replay_is_told_completely(tmp_path: Path) -> None:
    settings = replay_settings(tmp_path / "engine.db", tmp_path)
    stop_ms = to_ms(parse_datetime("2023-06-04T01:00:00Z"))
    notifier = Notifier()
    told: list[str] = []
    halted: list[bool] = []

    def on_bar(bar: BarReport) -> None:
        halted.append(bar.breaker.halted)
        reply = notifier.bar(bar)
        if reply is not None:
            told.extend(reply.text.split("\n"))
        if bar.timestamp_ms >= stop_ms:
            stop.set()

    stop = asyncio.Event()
    runner = EngineRunner(settings)
    try:
        asyncio.run(runner.run(stop, until_end=True, on_bar=on_bar))
    finally:
        runner.close()

    with Store.open(settings.database.url) as store:
        trades, fills = store.trades(), store.fills()
    switches = sum(a != b for a, b in zip([False, *halted], halted, strict=False))
    assert trades and switches >= 2  # the breaker tripped and cleared at least once
    assert sum(line.startswith("**Closed**") for line in told) == len(trades)
    assert sum(line.startswith(("**Bought**", "**Sold**")) for line in told) == len(fills) - len(
        trades
    )
    breaker_lines = [line for line in told if line.startswith("**Entries")]
    assert len(breaker_lines) == switches
    assert breaker_lines[0].startswith("**Entries halted:** New entries halted by")
    assert breaker_lines[1].startswith("**Entries resumed:** New entries resumed at")
