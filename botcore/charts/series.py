"""What the charts plot, computed from a backtest result (numbers only, no drawing)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.backtest.metrics import drawdown_pct
from botcore.backtest.result import BacktestResult
from botcore.data.candles import CANDLE_COLUMNS
from botcore.errors import ParamError

__all__ = [
    "band_pairs",
    "buy_hold_equity",
    "drawdown_series",
    "overlay_columns",
    "pick_symbol",
    "return_pct_series",
]

FloatArray = npt.NDArray[np.float64]

# An indicator whose median distance from the close is below this fraction is drawn on the
# price panel (moving averages, bands, trend lines); oscillators such as RSI or MACD are not.
_OVERLAY_MAX_MEDIAN_DISTANCE = 0.25
# Oscillators and volume-like indicators never go on the price panel, whatever their values.
_NOT_OVERLAY_PREFIXES = (
    "rsi",
    "macd",
    "stoch",
    "adx",
    "cci",
    "mfi",
    "atr",
    "obv",
    "roc",
    "willr",
    "mom",
    "volume",
)


def pick_symbol(result: BacktestResult, symbol: str | None) -> str:
    """The result's symbol named by `symbol` (`ETH/USDT`, `eth-usdt` or just `eth`); default first.

    Raises:
        ParamError: `symbol` is not one of the result's symbols.
    """
    if symbol is None:
        return result.symbols[0]
    wanted = symbol.strip().upper().replace("-", "/").replace("_", "/")
    matches = [
        known
        for known in result.symbols
        if known.upper() == wanted or ("/" not in wanted and known.upper().split("/")[0] == wanted)
    ]
    if len(matches) == 1:
        return matches[0]
    close = difflib.get_close_matches(wanted, list(result.symbols), n=1, cutoff=0.4)
    hint = f"; did you mean {close[0]}?" if close else ""
    raise ParamError(
        f"{symbol} is not in this backtest (symbols: {', '.join(result.symbols)}){hint}"
    )


def overlay_columns(frame: pd.DataFrame) -> list[str]:
    """Indicator columns of `frame` that live on the price scale, in frame order."""
    close = frame["close"].to_numpy(dtype=np.float64)
    found = []
    for name in frame.columns:
        if (
            name in CANDLE_COLUMNS
            or str(name).lower().startswith(_NOT_OVERLAY_PREFIXES)
            or not pd.api.types.is_numeric_dtype(frame[name])
            or pd.api.types.is_bool_dtype(frame[name])
        ):
            continue
        values = frame[name].to_numpy(dtype=np.float64)
        ok = np.isfinite(values) & (close > 0)
        if not ok.any():
            continue
        distance = np.median(np.abs(values[ok] / close[ok] - 1.0))
        if distance < _OVERLAY_MAX_MEDIAN_DISTANCE:
            found.append(str(name))
    return found


def band_pairs(columns: Sequence[str]) -> list[tuple[str, str]]:
    """(upper, lower) column pairs sharing a prefix, e.g. (`bb_upper`, `bb_lower`)."""
    pairs = []
    for name in columns:
        if name.endswith("upper"):
            lower = name[: -len("upper")] + "lower"
            if lower in columns:
                pairs.append((name, lower))
    return pairs


def drawdown_series(result: BacktestResult) -> FloatArray:
    """Drawdown from the running peak at each bar in percent (positive numbers, 0 at a high)."""
    return drawdown_pct(result.equity, result.metrics.initial_cash)


def return_pct_series(result: BacktestResult) -> FloatArray:
    """Equity as percent return on the initial cash at each bar."""
    return (result.equity / result.metrics.initial_cash - 1.0) * 100.0


def buy_hold_equity(result: BacktestResult) -> FloatArray:
    """Value at each bar of the initial cash split equally over the symbols and held.

    Each symbol's share is bought at its first close in the window (cash until then) and marked
    at its latest close; the final value matches the metrics' `buy_hold_return_pct`.
    """
    cash = result.metrics.initial_cash
    growth = np.zeros(len(result.timestamps), dtype=np.float64)
    for symbol in result.symbols:
        frame = result.frames[symbol]
        stamps = frame["timestamp"].to_numpy(dtype=np.int64)
        close = frame["close"].to_numpy(dtype=np.float64)
        if len(close) == 0:
            growth += 1.0
            continue
        latest = np.searchsorted(stamps, result.timestamps, side="right") - 1
        growth += np.where(latest >= 0, close[np.maximum(latest, 0)] / close[0], 1.0)
    return cash * growth / len(result.symbols)
