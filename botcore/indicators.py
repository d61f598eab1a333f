"""Technical indicators, computed by TA-Lib (imported on first use: it costs ~0.3-1.2 s to load).

Every function takes float64 numpy arrays (or pandas Series) and returns float64 arrays aligned with
the input, NaN where the indicator is not yet defined. All are causal: value t uses data up to t.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["atr", "bbands", "crossed_above", "crossed_below", "ema", "macd", "rsi", "sma"]

Array = npt.NDArray[np.float64]


def _talib() -> Any:
    import talib

    return talib


def _f64(values: Any) -> Array:
    return np.ascontiguousarray(values, dtype=np.float64)


def sma(close: Any, period: int) -> Array:
    """Simple moving average over `period` bars."""
    return _f64(_talib().SMA(_f64(close), timeperiod=period))


def ema(close: Any, period: int) -> Array:
    """Exponential moving average (TA-Lib seeds it with the SMA of the first `period` bars)."""
    return _f64(_talib().EMA(_f64(close), timeperiod=period))


def rsi(close: Any, period: int) -> Array:
    """Wilder's relative strength index, 0..100."""
    return _f64(_talib().RSI(_f64(close), timeperiod=period))


def bbands(close: Any, period: int, std: float) -> tuple[Array, Array, Array]:
    """Bollinger bands (upper, middle, lower): SMA +/- `std` population standard deviations."""
    upper, middle, lower = _talib().BBANDS(_f64(close), timeperiod=period, nbdevup=std, nbdevdn=std)
    return _f64(upper), _f64(middle), _f64(lower)


def macd(close: Any, fast: int, slow: int, signal: int) -> tuple[Array, Array, Array]:
    """MACD line, signal line and histogram."""
    line, sig, hist = _talib().MACD(
        _f64(close), fastperiod=fast, slowperiod=slow, signalperiod=signal
    )
    return _f64(line), _f64(sig), _f64(hist)


def atr(high: Any, low: Any, close: Any, period: int) -> Array:
    """Wilder's average true range."""
    return _f64(_talib().ATR(_f64(high), _f64(low), _f64(close), timeperiod=period))


def crossed_above(a: Any, b: Any) -> npt.NDArray[np.bool_]:
    """True at bar t when `a` is above `b` at t and was at or below it at t-1 (NaN never does)."""
    a, b = _f64(a), _f64(b)
    out = np.zeros(len(a), dtype=np.bool_)
    out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
    return out


def crossed_below(a: Any, b: Any) -> npt.NDArray[np.bool_]:
    """True at bar t when `a` is below `b` at t and was at or above it at t-1."""
    a, b = _f64(a), _f64(b)
    out = np.zeros(len(a), dtype=np.bool_)
    out[1:] = (a[1:] < b[1:]) & (a[:-1] >= b[:-1])
    return out
