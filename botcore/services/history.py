"""The engine's history as of a clock: the clock itself, periods, equity at a moment, closed trades.

The read-side services (`account`, `positions`, `trades`, `performance`, `equity`, `charts`) all
report "as of" a clock and share these reads. Conventions for all of them: money is `Decimal` in
the quote currency, times are UTC milliseconds, percentages are in percent, nothing is written.

The clock: every report takes `now_ms`. None means the engine's clock: the close time of the
last bar it processed (`RunState.clock_ms`; older stores: the latest equity snapshot's bar open
time), which in a replay is market time, not the wall clock; an empty store falls back to the
wall clock. `period_days` counts back from that clock: a period of
N days holds the moments in `[clock - N days, clock]`, both ends included.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings
from botcore.engine.state import STATE_KEY, RunState
from botcore.errors import ParamError
from botcore.execution.positions import ClosedTrade
from botcore.timeframes import MS_PER_DAY

if TYPE_CHECKING:
    from botcore.persistence import Store

__all__ = [
    "change_pct",
    "closed_trades",
    "engine_clock_ms",
    "equity_at",
    "equity_before",
    "latest_snapshot",
    "market_symbol",
    "marks",
    "period_start_ms",
]

_HUNDRED = Decimal(100)


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


def latest_snapshot(store: Store) -> tuple[int, Decimal] | None:
    """The latest equity snapshot (timestamp UTC ms, equity), or None before the first bar."""
    state = RunState.from_json(store.state(STATE_KEY))
    if state.day is not None:
        # A year of bars takes half a second to read; the run state names the latest bar's day.
        recent = store.equity_curve(since_ms=(state.day - 1) * MS_PER_DAY)
        if recent:
            return recent[-1]
    curve = store.equity_curve()
    return curve[-1] if curve else None


def engine_clock_ms(store: Store, now_ms: int | None = None) -> int:
    """`now_ms` when given, else the engine's clock, else the wall clock (UTC ms)."""
    if now_ms is not None:
        return now_ms
    state = RunState.from_json(store.state(STATE_KEY))
    if state.clock_ms is not None:
        return state.clock_ms
    latest = latest_snapshot(store)
    return _wall_clock_ms() if latest is None else latest[0]


def period_start_ms(clock_ms: int, period_days: int | None) -> int | None:
    """Start of a period of `period_days` days ending at `clock_ms` (None: all time).

    Raises:
        ParamError: `period_days` is below 1.
    """
    if period_days is None:
        return None
    if period_days < 1:
        raise ParamError(f"a period is at least 1 day, got {period_days}")
    return clock_ms - period_days * MS_PER_DAY


def equity_before(store: Store, start_ms: int | None) -> Decimal | None:
    """Equity just before `start_ms`: the last snapshot before it, else the first snapshot of the
    run (which began later). `start_ms` None (all time): the first snapshot. None when empty."""
    if start_ms is not None:
        recent = store.equity_curve(since_ms=start_ms - MS_PER_DAY)
        before = [e for t, e in recent if t < start_ms]
        if before:
            return before[-1]
    curve = store.equity_curve()
    if not curve:
        return None
    before = [e for t, e in curve if start_ms is not None and t < start_ms]
    return before[-1] if before else curve[0][1]


def equity_at(store: Store, clock_ms: int) -> Decimal | None:
    """The latest snapshot's equity at or before `clock_ms` (None: none yet)."""
    recent = [p for p in store.equity_curve(since_ms=clock_ms - MS_PER_DAY) if p[0] <= clock_ms]
    if recent:
        return recent[-1][1]
    older = [p for p in store.equity_curve() if p[0] <= clock_ms]
    return older[-1][1] if older else None


def change_pct(change: Decimal, reference: Decimal) -> Decimal | None:
    """`change` in percent of `reference` (None for a reference of zero or below)."""
    return change / reference * _HUNDRED if reference > 0 else None


def marks(store: Store) -> dict[str, Decimal]:
    """Symbol -> the last close the engine marked it at (quote currency per unit)."""
    return dict(RunState.from_json(store.state(STATE_KEY)).marks)


def closed_trades(
    store: Store, clock_ms: int, since_ms: int | None = None, symbol: str | None = None
) -> list[ClosedTrade]:
    """Trades that closed in `[since_ms, clock_ms]` (one symbol's, or all), oldest first."""
    return [t for t in store.trades(symbol=symbol, since_ms=since_ms) if t.exit_ms <= clock_ms]


def market_symbol(settings: Settings, symbol: str | None) -> str | None:
    """`symbol` in ccxt form (`eth` -> `ETH/USDT` with the configured quote); None stays None."""
    if symbol is None:
        return None
    from botcore.data.catalog import normalize_symbol  # pandas: only when a symbol is given

    return normalize_symbol(symbol, settings.trading.quote)
