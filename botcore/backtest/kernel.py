"""The backtest event loop, compiled with numba.

It walks bars in time order over one or many symbols sharing one wallet. For each bar t:

1. Orders decided at the close of t-1 fill at the open of t: exits first (they free cash and slots),
   then entries in symbol order while slots and cash last.
2. Open positions are checked intrabar against the bar's low and high: stop-loss and trailing stop
   first, then take-profit (when both are touched the stop is assumed to come first). The trailing
   stop trails the highest high of *completed* bars since entry (and the entry price), never the
   current bar's high, whose timing relative to the low is unknown.
3. At the close the decisions of bar t are read; only data up to t exists for them. With
   `fill_on_close` they fill at this close instead of the next open.
4. Equity is marked at the close.

Open positions are closed at the last close when the data ends (exit reason `end_of_data`).
Prices, fees and sizes go through `botcore.execution.fills`, the code the paper engine uses too.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from botcore.execution.fills import (
    BUY,
    SELL,
    affordable_amount,
    fee_for,
    market_fill_price,
    meets_minimums,
    stop_fill_price,
    take_profit_fill_price,
)

__all__ = [
    "CFG_FIELDS",
    "EXIT_REASONS",
    "SIZE_FIXED",
    "SIZE_PCT",
    "SIZE_RISK",
    "TRADE_FIELDS",
    "simulate",
]

SIZE_PCT = 0  # percent of equity
SIZE_FIXED = 1  # fixed quote amount
SIZE_RISK = 2  # percent of equity at risk to the stop

EXIT_SIGNAL, EXIT_STOP, EXIT_TAKE_PROFIT, EXIT_TRAILING, EXIT_END = 0, 1, 2, 3, 4
EXIT_REASONS = ("exit_signal", "stop_loss", "take_profit", "trailing_stop", "end_of_data")
TRADE_FIELDS = (
    "symbol_index",
    "entry_index",
    "exit_index",
    "entry_price",
    "exit_price",
    "amount",
    "entry_fee",
    "exit_fee",
    "exit_reason",
)
# Scalar settings travel as one float array: numba compiles one signature for every run.
CFG_FIELDS = (
    "fee_rate",
    "slippage",
    "size_mode",
    "size_value",
    "stop_loss",
    "take_profit",
    "trailing",
    "max_open",
)
_FEE, _SLIP, _MODE, _SIZE, _SL, _TP, _TRAIL, _MAXOPEN = range(8)
# Per-symbol position state columns.
_AMT, _PX, _EFEE, _BAR, _STOP, _TPX, _HIGH = range(7)
# Account scalars: cash, open positions, trades recorded.
_CASH, _NOPEN, _NTRADES = range(3)


@njit(cache=True)
def _close_position(
    trades: np.ndarray,
    acct: np.ndarray,
    pos: np.ndarray,
    s: int,
    t: int,
    px: float,
    reason: int,
    fee_rate: float,
) -> None:
    proceeds = pos[s, _AMT] * px
    fee = fee_for(proceeds, fee_rate)
    acct[_CASH] += proceeds - fee
    row = trades[int(acct[_NTRADES])]
    row[0], row[1], row[2] = s, pos[s, _BAR], t
    row[3], row[4], row[5] = pos[s, _PX], px, pos[s, _AMT]
    row[6], row[7], row[8] = pos[s, _EFEE], fee, reason
    acct[_NTRADES] += 1
    acct[_NOPEN] -= 1
    pos[s, _AMT] = 0.0


@njit(cache=True)
def _fill_pending(  # noqa: C901 - one flat loop over symbols; splitting it costs numba calls
    trades: np.ndarray,
    acct: np.ndarray,
    pos: np.ndarray,
    t: int,
    ref: np.ndarray,
    valid: np.ndarray,
    last_close: np.ndarray,
    pending_entry: np.ndarray,
    pending_exit: np.ndarray,
    cfg: np.ndarray,
    amount_step: np.ndarray,
    min_amount: np.ndarray,
    min_notional: np.ndarray,
    rejected: np.ndarray,
) -> None:
    n_sym = pos.shape[0]
    fee_rate, slippage = cfg[_FEE], cfg[_SLIP]
    for s in range(n_sym):
        if pending_exit[s] and valid[t, s]:
            pending_exit[s] = False
            if pos[s, _AMT] > 0.0:
                px = market_fill_price(SELL, ref[t, s], slippage)
                _close_position(trades, acct, pos, s, t, px, 0, fee_rate)
    marked = -1.0
    for s in range(n_sym):
        if not (pending_entry[s] and valid[t, s]):
            continue
        pending_entry[s] = False
        if pos[s, _AMT] > 0.0:
            continue
        if acct[_NOPEN] >= cfg[_MAXOPEN]:
            rejected[0] += 1
            continue
        if marked < 0.0:
            # Equity for sizing, marked at the prices known at this moment.
            marked = acct[_CASH]
            for k in range(n_sym):
                if pos[k, _AMT] > 0.0:
                    marked += pos[k, _AMT] * (ref[t, k] if valid[t, k] else last_close[k])
        px = market_fill_price(BUY, ref[t, s], slippage)
        mode = int(cfg[_MODE])
        if mode == SIZE_PCT:
            quote = marked * cfg[_SIZE] / 100.0
        elif mode == SIZE_FIXED:
            quote = cfg[_SIZE]
        else:
            quote = marked * cfg[_SIZE] / 100.0 / cfg[_SL]
        quote = min(quote, acct[_CASH])
        qty = affordable_amount(quote, px, fee_rate, amount_step[s])
        if not meets_minimums(qty, px, min_amount[s], min_notional[s]):
            rejected[1] += 1
            continue
        fee = fee_for(qty * px, fee_rate)
        acct[_CASH] -= qty * px + fee
        acct[_NOPEN] += 1
        pos[s, _AMT], pos[s, _PX], pos[s, _EFEE], pos[s, _BAR] = qty, px, fee, t
        pos[s, _STOP] = px * (1.0 - cfg[_SL]) if cfg[_SL] > 0.0 else 0.0
        pos[s, _TPX] = px * (1.0 + cfg[_TP]) if cfg[_TP] > 0.0 else 0.0
        pos[s, _HIGH] = ref[t, s]


@njit(cache=True)
def _protect(
    trades: np.ndarray,
    acct: np.ndarray,
    pos: np.ndarray,
    t: int,
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    valid: np.ndarray,
    cfg: np.ndarray,
) -> None:
    for s in range(pos.shape[0]):
        if pos[s, _AMT] <= 0.0 or not valid[t, s]:
            continue
        entered_now = pos[s, _BAR] == t
        level, reason = pos[s, _STOP], 1
        if cfg[_TRAIL] > 0.0:
            trail_level = pos[s, _HIGH] * (1.0 - cfg[_TRAIL])
            if trail_level > level:
                level, reason = trail_level, 3
        px = -1.0
        if level > 0.0 and low[t, s] <= level:
            # On the entry bar the position began at the open, so no gap below the stop applies.
            px = stop_fill_price(level, level if entered_now else open_[t, s], cfg[_SLIP])
        elif pos[s, _TPX] > 0.0 and high[t, s] >= pos[s, _TPX]:
            px = take_profit_fill_price(pos[s, _TPX], pos[s, _TPX] if entered_now else open_[t, s])
            reason = 2
        if px > 0.0:
            _close_position(trades, acct, pos, s, t, px, reason, cfg[_FEE])
        elif high[t, s] > pos[s, _HIGH]:
            pos[s, _HIGH] = high[t, s]


@njit(cache=True)
def simulate(  # noqa: C901 - the event loop reads best as one body
    open_: np.ndarray,
    high: np.ndarray,
    low: np.ndarray,
    close: np.ndarray,
    valid: np.ndarray,
    entries: np.ndarray,
    exits: np.ndarray,
    trade_from: int,
    cash0: float,
    cfg: np.ndarray,
    fill_on_close: bool,
    amount_step: np.ndarray,
    min_amount: np.ndarray,
    min_notional: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run the event loop over (bars, symbols) arrays; `cfg` holds `CFG_FIELDS` (stops as fractions,
    0 = off). Decisions before `trade_from` are ignored (those bars only warm indicators up).

    Returns:
        trades: (n, len(TRADE_FIELDS)) floats, one row per closed trade, in closing order.
        equity: (bars,) cash plus open positions marked at each close.
        rejected: [entries refused for lack of a free slot, entries too small for the market].
    """
    n_bars, n_sym = close.shape
    # Every trade begins with an entry decision, so their count bounds the trades: the table never
    # grows, and no array is reassigned in the loop (that would cost reference counting per bar).
    trades = np.empty((int(entries[max(trade_from, 0) :].sum()) + 1, len(TRADE_FIELDS)))
    equity = np.empty(n_bars)
    rejected = np.zeros(2, dtype=np.int64)
    acct = np.array([cash0, 0.0, 0.0])
    pos = np.zeros((n_sym, 7))
    last_close = np.full(n_sym, np.nan)
    pending_entry = np.zeros(n_sym, dtype=np.bool_)
    pending_exit = np.zeros(n_sym, dtype=np.bool_)

    pending = False  # any order waiting for a fill: most bars have none
    for t in range(n_bars):
        if pending and not fill_on_close:
            _fill_pending(
                trades,
                acct,
                pos,
                t,
                open_,
                valid,
                last_close,
                pending_entry,
                pending_exit,
                cfg,
                amount_step,
                min_amount,
                min_notional,
                rejected,
            )
        if acct[_NOPEN] > 0:
            _protect(trades, acct, pos, t, open_, high, low, valid, cfg)
        pending = False
        for s in range(n_sym):
            if valid[t, s]:
                last_close[s] = close[t, s]
                if t >= trade_from:
                    if pos[s, _AMT] > 0.0:
                        pending_exit[s] = exits[t, s]
                    else:
                        pending_entry[s] = entries[t, s] and not exits[t, s]
            pending = pending or pending_entry[s] or pending_exit[s]
        if pending and fill_on_close:
            _fill_pending(
                trades,
                acct,
                pos,
                t,
                close,
                valid,
                last_close,
                pending_entry,
                pending_exit,
                cfg,
                amount_step,
                min_amount,
                min_notional,
                rejected,
            )
        value = acct[_CASH]
        if acct[_NOPEN] > 0:
            for s in range(n_sym):
                if pos[s, _AMT] > 0.0:
                    value += pos[s, _AMT] * last_close[s]
        equity[t] = value

    for s in range(n_sym):
        if pos[s, _AMT] > 0.0:
            px = market_fill_price(SELL, last_close[s], cfg[_SLIP])
            _close_position(trades, acct, pos, s, n_bars - 1, px, 4, cfg[_FEE])
    if n_bars > 0:
        equity[n_bars - 1] = acct[_CASH]
    return trades[: int(acct[_NTRADES])].copy(), equity, rejected
