"""Closed trades and profit over a period, read from the store.

Conventions, the clock and periods are described in `botcore.services.history`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings
from botcore.errors import ParamError
from botcore.execution.positions import ClosedTrade
from botcore.services.history import (
    change_pct,
    closed_trades,
    engine_clock_ms,
    equity_at,
    equity_before,
    market_symbol,
    period_start_ms,
)
from botcore.services.positions import positions

if TYPE_CHECKING:
    from botcore.persistence import Store

__all__ = ["ProfitReport", "TradeHistory", "TradesReport", "profit", "trades"]

_HUNDRED = Decimal(100)
_ZERO = Decimal(0)


@dataclass(frozen=True)
class TradesReport:
    """Closed trades newest first (at most the limit) and how many matched before the limit."""

    clock_ms: int
    trades: tuple[ClosedTrade, ...]
    total: int


@dataclass(frozen=True)
class ProfitReport:
    """Realised and unrealised profit over a period, quote currency.

    Attributes:
        since_ms: Start of the period (None: all time).
        symbol: The symbol the report is limited to (None: every symbol).
        trades, wins, losses: Trades closed in the period; a win has pnl > 0, a loss pnl < 0.
        win_rate_pct: wins / trades * 100 (None without trades).
        realised_pnl: Sum of those trades' pnl (net of both fees).
        fees: Sum of those trades' fees.
        unrealised_pnl: Open positions' unrealised pnl now (the symbol's only, when given).
        equity_start: Equity just before the period (the last snapshot before it, or the first
            snapshot when the run began inside it); None with a symbol or before the first bar.
        equity_end: Equity at the clock (the latest snapshot at or before it).
        equity_change, equity_change_pct: `equity_end - equity_start`, and in percent of it.
    """

    clock_ms: int
    since_ms: int | None
    symbol: str | None
    quote: str
    trades: int
    wins: int
    losses: int
    win_rate_pct: Decimal | None
    realised_pnl: Decimal
    fees: Decimal
    unrealised_pnl: Decimal
    equity_start: Decimal | None
    equity_end: Decimal | None
    equity_change: Decimal | None
    equity_change_pct: Decimal | None


def trades(
    settings: Settings,
    store: Store,
    symbol: str | None = None,
    limit: int | None = None,
    now_ms: int | None = None,
) -> TradesReport:
    """Closed trades up to the clock, newest first.

    Args:
        settings: The configuration (quote currency, for a bare symbol).
        store: The engine's store.
        symbol: Only this market's trades.
        limit: At most this many (None: all).
        now_ms: The moment of the report; None: the engine's clock.

    Raises:
        ParamError: `limit` is below 1.
    """
    if limit is not None and limit < 1:
        raise ParamError(f"the number of trades to show is at least 1, got {limit}")
    clock = engine_clock_ms(store, now_ms)
    found = closed_trades(store, clock, symbol=market_symbol(settings, symbol))
    newest = sorted(found, key=lambda t: (t.exit_ms, t.id), reverse=True)
    return TradesReport(clock, tuple(newest[:limit]), len(found))


class TradeHistory:
    """Every closed trade up to the engine's clock, for a reader that asks again and again (a
    dashboard): after the first read, each read fetches only the trades that closed since the
    newest one it holds.

    A closed trade never changes, and the engine writes them as they close. When the count in
    the store disagrees with what would be held (trades written out of order, a store replaced
    under the reader) or the clock went back, the read starts over from the whole history.
    Reads from several threads take turns.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._clock: int | None = None
        self._held: dict[str, ClosedTrade] = {}
        self._newest_exit: int | None = None

    def read(self, now_ms: int | None = None) -> TradesReport:
        """All closed trades up to the clock (`now_ms`, else the engine's), newest first."""
        with self._lock:
            return self._read(now_ms)

    def _read(self, now_ms: int | None) -> TradesReport:
        store = self._store
        clock = engine_clock_ms(store, now_ms)
        since = self._newest_exit
        if self._clock is None or clock < self._clock or since is None:
            self._held, since = {}, None
        for trade in closed_trades(store, clock, since_ms=since):  # since: inclusive
            self._held[trade.id] = trade
        if len(self._held) != store.trade_count(until_ms=clock):
            self._held = {t.id: t for t in closed_trades(store, clock)}
        self._clock = clock
        self._newest_exit = max((t.exit_ms for t in self._held.values()), default=None)
        newest = sorted(self._held.values(), key=lambda t: (t.exit_ms, t.id), reverse=True)
        return TradesReport(clock, tuple(newest), len(newest))


def profit(
    settings: Settings,
    store: Store,
    period_days: int | None = None,
    symbol: str | None = None,
    now_ms: int | None = None,
) -> ProfitReport:
    """Realised P&L of the trades closed in the period, unrealised P&L now, and (for the whole
    account) the equity change over the period.

    Args:
        settings: The configuration (quote currency).
        store: The engine's store.
        period_days: The last N days up to the clock (None: all time).
        symbol: Only this market (no equity change then: equity is not kept per symbol).
        now_ms: The moment of the report; None: the engine's clock.

    Raises:
        ParamError: `period_days` is below 1.
    """
    clock = engine_clock_ms(store, now_ms)
    since = period_start_ms(clock, period_days)
    wanted = market_symbol(settings, symbol)
    done = closed_trades(store, clock, since, wanted)
    wins = sum(1 for t in done if t.pnl > 0)
    start = end = change = pct = None
    if wanted is None:
        end = equity_at(store, clock)
        start = equity_before(store, since) if end is not None else None
        if start is not None and end is not None:
            change = end - start
            pct = change_pct(change, start)
    return ProfitReport(
        clock_ms=clock,
        since_ms=since,
        symbol=wanted,
        quote=settings.trading.quote,
        trades=len(done),
        wins=wins,
        losses=sum(1 for t in done if t.pnl < 0),
        win_rate_pct=Decimal(wins) / len(done) * _HUNDRED if done else None,
        realised_pnl=sum((t.pnl for t in done), _ZERO),
        fees=sum((t.fee for t in done), _ZERO),
        unrealised_pnl=positions(settings, store, wanted, clock).unrealised_pnl,
        equity_start=start,
        equity_end=end,
        equity_change=change,
        equity_change_pct=pct,
    )
