"""Account use cases: the bot's status and its balances, read from the store.

What the engine persists: balances and positions of the `paper` exchange, one equity snapshot
per bar, the run state (the last close per symbol) and the circuit-breaker state. Conventions
and the clock are described in `botcore.services.history`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings
from botcore.engine.identity import account_name
from botcore.engine.ledger import Book
from botcore.engine.state import BREAKER_KEY, PAUSED_KEY, STATE_KEY, RunState
from botcore.execution.positions import Position
from botcore.risk.breaker import BreakerState, drawdown_peak, loss_pct
from botcore.services.history import (
    change_pct,
    engine_clock_ms,
    equity_at,
    equity_before,
    latest_snapshot,
    marks,
)
from botcore.timeframes import MS_PER_DAY

if TYPE_CHECKING:
    from botcore.persistence import Store

__all__ = [
    "BalanceReport",
    "BreakerStatus",
    "HeldAsset",
    "StatusReport",
    "balance",
    "engine_book",
    "status",
]

_PAPER = "paper"
_ZERO = Decimal(0)


@dataclass(frozen=True)
class BreakerStatus:
    """The circuit breaker as the engine last persisted it.

    Attributes:
        halted: True while new entries are refused.
        rule: `max_daily_loss_pct` or `max_drawdown_pct` while halted, else None.
        since_ms: When the current halt began (None when not halted).
        notice: The engine's own notification text of the latest trip or clearance ("" if none).
        daily_loss_pct: How far equity was below the UTC day's start at the engine's last bar,
            in percent (0 for none): what `max_daily_loss_pct` is checked against.
        drawdown_pct: How far equity was below the peak the breaker measures from (the
            engine's, or the one since a reset), in percent: what `max_drawdown_pct` is
            checked against.
    """

    halted: bool
    rule: str | None
    since_ms: int | None
    notice: str
    daily_loss_pct: Decimal = _ZERO
    drawdown_pct: Decimal = _ZERO


@dataclass(frozen=True)
class StatusReport:
    """The bot at a glance.

    Attributes:
        mode: `paper` or `live`, from `[trading] mode`.
        paused: True when new entries are paused, False when running, None when never set.
        started: True once the engine has processed a bar (the store holds equity snapshots).
        clock_ms: The moment the report describes.
        last_bar_ms: Open time of the latest bar processed (None before the first).
        quote: The quote currency all money fields are in.
        equity: Paper cash plus positions at the last closes (the starting balance before the
            first bar).
        cash: Paper quote balance.
        open_positions: Open positions on every exchange in the store.
        open_orders: Orders that can still fill.
        today_pnl: Equity at the clock minus equity at the end of the previous UTC day (the
            first snapshot when the run began that day); None before the first bar.
        today_pnl_pct: `today_pnl` in percent of that day-start equity.
        breaker: The circuit-breaker state.
    """

    mode: str
    paused: bool | None
    started: bool
    clock_ms: int
    last_bar_ms: int | None
    quote: str
    equity: Decimal
    cash: Decimal
    open_positions: int
    open_orders: int
    today_pnl: Decimal | None
    today_pnl_pct: Decimal | None
    breaker: BreakerStatus


@dataclass(frozen=True)
class HeldAsset:
    """One asset balance on one exchange, valued at the last close.

    Attributes:
        amount: Units of the asset.
        price: Quote currency per unit: 1 for the quote itself, else the last close of
            `ASSET/QUOTE` (a paper position's entry price until its first close); None when
            unknown.
        value: `amount * price` in the quote currency, None when unpriced.
    """

    exchange: str
    asset: str
    amount: Decimal
    price: Decimal | None
    value: Decimal | None


@dataclass(frozen=True)
class BalanceReport:
    """Balances per exchange and asset (zero balances left out).

    Attributes:
        total_value: Sum of the priced assets' values over every exchange, quote currency.
        paper_equity: The equity of the account the engine books to (the paper wallet unless
            live), as the engine computes it.
        unpriced: `exchange:asset` of held assets without a price (not in `total_value`).
    """

    clock_ms: int
    quote: str
    assets: tuple[HeldAsset, ...]
    total_value: Decimal
    paper_equity: Decimal
    unpriced: tuple[str, ...]


def engine_book(settings: Settings, store: Store) -> Book:
    """The balances and positions of the account the engine books to (`account_name`): the
    paper wallet, or in live mode the exchange's. Before the engine's first bar a paper wallet
    holds the starting balance (the engine opens it so); a live one holds nothing yet."""
    account = account_name(settings)
    balances = store.balances(account)
    if not balances and account == _PAPER:
        balances = {settings.trading.quote: Decimal(str(settings.trading.starting_balance))}
    return Book(balances, {p.symbol: p for p in store.positions(account)})


def _paused(text: str | None) -> bool | None:
    return {"true": True, "false": False}.get((text or "").strip().lower())


def _breaker(store: Store) -> BreakerStatus:
    state = BreakerState.from_json(store.state(BREAKER_KEY))
    rule = None if state.rule is None else str(state.rule)
    run = RunState.from_json(store.state(STATE_KEY))
    daily = drawdown = _ZERO
    if run.last_equity is not None:
        if run.day_start_equity is not None:
            daily = max(_ZERO, loss_pct(run.day_start_equity, run.last_equity))
        if run.peak_equity is not None:
            peak = drawdown_peak(run.peak_equity, state)
            drawdown = max(_ZERO, loss_pct(peak, run.last_equity))
    return BreakerStatus(state.halted, rule, state.since_ms, state.message, daily, drawdown)


def status(settings: Settings, store: Store, now_ms: int | None = None) -> StatusReport:
    """Mode, run state, equity, cash, counts, today's P&L and the circuit breaker.

    Args:
        settings: The configuration (mode and quote currency).
        store: The engine's store.
        now_ms: The moment of the report; None: the engine's clock.

    Raises:
        RiskError: the stored breaker state does not parse.
    """
    latest = latest_snapshot(store)
    clock = engine_clock_ms(store, now_ms)
    quote = settings.trading.quote
    book = engine_book(settings, store)
    today_pnl = today_pct = None
    end = equity_at(store, clock)
    start = equity_before(store, clock // MS_PER_DAY * MS_PER_DAY) if end is not None else None
    if start is not None and end is not None:
        today_pnl = end - start
        today_pct = change_pct(today_pnl, start)
    return StatusReport(
        mode=settings.trading.mode,
        paused=_paused(store.state(PAUSED_KEY)),
        started=latest is not None,
        clock_ms=clock,
        last_bar_ms=None if latest is None else latest[0],
        quote=quote,
        equity=book.equity(marks(store), quote),
        cash=book.balance(quote),
        open_positions=len(store.positions()),
        open_orders=len(store.orders(open_only=True)),
        today_pnl=today_pnl,
        today_pnl_pct=today_pct,
        breaker=_breaker(store),
    )


def _exchanges(settings: Settings, store: Store) -> list[str]:
    # The store cannot list the exchanges it holds balances for: ask the ones it could know.
    names = [
        _PAPER,
        *(e.name for e in settings.exchanges),
        *(p.exchange for p in store.positions()),
    ]
    return list(dict.fromkeys(names))


def _price(
    asset: str, quote: str, last: dict[str, Decimal], paper: dict[str, Position]
) -> Decimal | None:
    if asset == quote:
        return Decimal(1)
    symbol = f"{asset}/{quote}"
    if symbol in last:
        return last[symbol]
    held = paper.get(symbol)
    return None if held is None else held.entry_price


def balance(settings: Settings, store: Store, now_ms: int | None = None) -> BalanceReport:
    """Every non-zero balance on the paper exchange and the configured exchanges, valued in the
    quote currency at the last closes the engine saw.

    Args:
        settings: The configuration (quote currency, exchanges).
        store: The engine's store.
        now_ms: The moment of the report; None: the engine's clock.
    """
    quote = settings.trading.quote
    last = marks(store)
    paper = {p.symbol: p for p in store.positions(_PAPER)}
    book, account = engine_book(settings, store), account_name(settings)
    assets: list[HeldAsset] = []
    for exchange in _exchanges(settings, store):
        held = book.balances if exchange == account else store.balances(exchange)
        for asset, amount in sorted(held.items()):
            if amount == 0:
                continue
            price = _price(asset, quote, last, paper)
            value = None if price is None else amount * price
            assets.append(HeldAsset(exchange, asset, amount, price, value))
    return BalanceReport(
        clock_ms=engine_clock_ms(store, now_ms),
        quote=quote,
        assets=tuple(assets),
        total_value=sum((a.value for a in assets if a.value is not None), _ZERO),
        paper_equity=book.equity(last, quote),
        unpriced=tuple(f"{a.exchange}:{a.asset}" for a in assets if a.value is None),
    )
