"""MACD trend following with a long-term trend filter."""

from __future__ import annotations

from typing import Any

import pandas as pd

from botcore.errors import ParamError
from botcore.indicators import crossed_above, crossed_below, ema, macd
from botcore.strategy.base import Strategy
from botcore.strategy.params import IntParam


class MacdTrend(Strategy):
    """Trend following: long when the MACD line crosses above its signal line while the close is
    above the `trend`-bar EMA (only buy dips in an uptrend), flat when MACD crosses back below."""

    name = "macd_trend"
    fast = IntParam(12, low=2, high=50, help="MACD fast EMA period")
    slow = IntParam(26, low=5, high=150, help="MACD slow EMA period")
    signal = IntParam(9, low=2, high=50, help="signal line EMA period")
    trend = IntParam(200, low=20, high=400, help="trend filter EMA period")

    def validate(self) -> None:
        if self.fast >= self.slow:
            raise ParamError(f"macd_trend needs fast < slow, got fast={self.fast} slow={self.slow}")

    def warmup(self) -> int:
        return max(3 * (self.slow + self.signal), self.trend * 2)

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        line, signal, _ = macd(candles["close"], self.fast, self.slow, self.signal)
        candles["macd"], candles["macd_signal"] = line, signal
        candles["ema_trend"] = ema(candles["close"], self.trend)
        return candles

    def entries(self, frame: pd.DataFrame) -> Any:
        uptrend = (frame["close"] > frame["ema_trend"]).to_numpy()
        return crossed_above(frame["macd"], frame["macd_signal"]) & uptrend

    def exits(self, frame: pd.DataFrame) -> Any:
        return crossed_below(frame["macd"], frame["macd_signal"])
