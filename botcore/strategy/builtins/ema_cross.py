"""Exponential moving average crossover."""

from __future__ import annotations

from typing import Any

import pandas as pd

from botcore.errors import ParamError
from botcore.indicators import crossed_above, crossed_below, ema
from botcore.strategy.base import Strategy
from botcore.strategy.params import IntParam


class EmaCross(Strategy):
    """Trend following, faster to react than sma_cross: long when the fast EMA crosses above the
    slow EMA at a bar's close, flat when it crosses back below."""

    name = "ema_cross"
    fast = IntParam(12, low=2, high=100, help="fast EMA period (bars)")
    slow = IntParam(26, low=5, high=300, help="slow EMA period (bars)")

    def validate(self) -> None:
        if self.fast >= self.slow:
            raise ParamError(f"ema_cross needs fast < slow, got fast={self.fast} slow={self.slow}")

    def warmup(self) -> int:
        # An EMA carries its seed for a few periods; three slow periods make it negligible.
        return 3 * self.slow

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        candles["ema_fast"] = ema(candles["close"], self.fast)
        candles["ema_slow"] = ema(candles["close"], self.slow)
        return candles

    def entries(self, frame: pd.DataFrame) -> Any:
        return crossed_above(frame["ema_fast"], frame["ema_slow"])

    def exits(self, frame: pd.DataFrame) -> Any:
        return crossed_below(frame["ema_fast"], frame["ema_slow"])
