"""Domain objects built from real Binance BTC/USDT 1h candles (March 2024), for the store tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from functools import cache
from typing import Any

from botcore.execution.orders import Fill, Order, OrderStatus, OrderType, Side
from botcore.execution.positions import ClosedTrade, Position
from botcore.persistence import (
    AlertCondition,
    AlertRecord,
    SignalRecord,
    Store,
    StrategyAssignment,
    UnitOfWork,
    UserRecord,
    UserRole,
)
from tests.conftest import load_slice

BTC = "BTC/USDT"
Write = Callable[[UnitOfWork], object]
FEE_RATE = Decimal("0.001")


@cache
def bars() -> tuple[tuple[int, Decimal, Decimal], ...]:
    """(open time ms, open, close) of 48 real hourly bars, prices as exchange-quoted Decimals."""
    frame = load_slice("binance_BTC-USDT_1h.csv.gz", "2024-03-01", "2024-03-03").frame
    return tuple(
        (int(ts), Decimal(repr(float(o))), Decimal(repr(float(c))))
        for ts, o, c in zip(frame["timestamp"], frame["open"], frame["close"], strict=True)
    )


def order(n: int, **changes: Any) -> Order:
    """A 0.05 BTC market buy placed on bar `n`, still open."""
    ts, _open, _close = bars()[n]
    base = Order(
        id=f"tc-order-{n:03d}",
        symbol=BTC,
        side=Side.BUY,
        type=OrderType.MARKET,
        amount=Decimal("0.05"),
        status=OrderStatus.OPEN,
        created_ms=ts,
        updated_ms=ts,
        reason="ema_cross entry",
    )
    return replace(base, **changes)


def filled(o: Order, n: int) -> tuple[Order, Fill]:
    """`o` filled completely at the open of bar `n`, with the fill that did it."""
    ts, price, _close = bars()[n]
    fee = (o.amount * price * FEE_RATE).quantize(Decimal("0.00000001"))
    fill = Fill(
        id=f"{o.id}-fill-1",
        order_id=o.id,
        symbol=o.symbol,
        side=o.side,
        amount=o.amount,
        price=price,
        fee=fee,
        fee_currency="USDT",
        timestamp_ms=ts,
    )
    done = replace(
        o, status=OrderStatus.FILLED, filled=o.amount, average_price=price, fee=fee, updated_ms=ts
    )
    return done, fill


def position(n: int, **changes: Any) -> Position:
    """0.05 BTC bought at the open of bar `n`, protected by a stop order."""
    ts, price, _close = bars()[n]
    base = Position(
        symbol=BTC,
        amount=Decimal("0.05"),
        entry_price=price,
        entry_ms=ts,
        entry_fee=(Decimal("0.05") * price * FEE_RATE).quantize(Decimal("0.00000001")),
        strategy="ema_cross",
        protective_order_ids=(f"tc-stop-{n:03d}",),
    )
    return replace(base, **changes)


def trade(entry: int, exit_: int, reason: str = "signal", **changes: Any) -> ClosedTrade:
    """A 0.05 BTC round trip from the open of bar `entry` to the close of bar `exit_`."""
    entry_ms, entry_price, _ = bars()[entry]
    exit_ms, _, exit_price = bars()[exit_]
    amount = Decimal("0.05")
    fee = (amount * (entry_price + exit_price) * FEE_RATE).quantize(Decimal("0.00000001"))
    pnl = amount * (exit_price - entry_price) - fee
    base = ClosedTrade(
        id=f"tc-trade-{entry:03d}-{exit_:03d}",
        symbol=BTC,
        side="long",
        amount=amount,
        entry_ms=entry_ms,
        exit_ms=exit_ms,
        entry_price=entry_price,
        exit_price=exit_price,
        fee=fee,
        pnl=pnl,
        pnl_pct=(pnl / (amount * entry_price) * 100).quantize(Decimal("0.0001")),
        exit_reason=reason,
        strategy="ema_cross",
    )
    return replace(base, **changes)


def snapshot(store: Store) -> dict[str, object]:
    """Everything the store can read back, to compare before and after."""
    return {
        "orders": store.orders(),
        "fills": store.fills(),
        "balances": store.balances(),
        "positions": store.positions(),
        "trades": store.trades(),
        "equity": store.equity_curve(),
        "cursor": store.cursor("replay|BTC/USDT|1h"),
        "state": store.state("risk"),
        "signals": store.signals(),
        "audit": store.audit_log(),
        "assignments": store.strategy_assignments(),
        "risk": store.risk_settings(),
        "alerts": store.alerts(),
        "users": store.users(),
    }


def write_a_whole_bar(store: Store, n: int) -> None:
    """What the engine commits for one bar: every kind of write, in one transaction."""
    ts, _open, close = bars()[n]
    done, fill = filled(order(n), n)
    with store.transaction() as uow:
        uow.save_order(done)
        uow.save_fill(fill)
        uow.set_balance("paper", "USDT", Decimal("10000") - fill.amount * fill.price - fill.fee)
        uow.set_balance("paper", "BTC", fill.amount)
        uow.save_position(position(n))
        uow.save_trade(trade(max(n - 3, 0), n))
        uow.save_equity(ts, Decimal("10000") - fill.fee)
        uow.save_signal(SignalRecord(ts, BTC, "1h", "ema_cross", "enter", close))
        uow.set_cursor("replay|BTC/USDT|1h", ts)
        uow.set_state("risk", f'{{"bar": {n}}}')
        uow.audit("engine", "fill", fill.id, ts)
        uow.assign_strategy(StrategyAssignment(BTC, "1h", "ema_cross", ts, {"n": n}))
        uow.set_risk_setting("stake_pct", str(n))
        uow.save_alert(AlertRecord(f"al-{n}", BTC, AlertCondition.ABOVE, close, ts))
        uow.save_user(UserRecord("telegram", str(n), UserRole.MEMBER, ts))


def commit(store: Store, *writes: Write) -> None:
    """Run `writes` in one transaction (so a test can expect it to raise in one statement)."""
    with store.transaction() as uow:
        for write in writes:
            write(uow)
