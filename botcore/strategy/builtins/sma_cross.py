"""Simple moving average crossover."""

from __future__ import annotations

from typing import Any

import pandas as pd

from botcore.errors import ParamError
from botcore.indicators import crossed_above, crossed_below, sma
from botcore.strategy.base import Strategy
from botcore.strategy.params import IntParam


class SmaCross(Strategy):
    """Trend following: long when the fast SMA crosses above the slow SMA at a bar's close, flat
    when it crosses back below. Works in trending markets, bleeds fees in ranges."""

    name = "sma_cross"
    fast = IntParam(10, low=2, high=100, help="fast SMA period (bars)")
    slow = IntParam(30, low=5, high=300, help="slow SMA period (bars)")

    def validate(self) -> None:
        if self.fast >= self.slow:
            raise ParamError(f"sma_cross needs fast < slow, got fast={self.fast} slow={self.slow}")

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        candles["sma_fast"] = sma(candles["close"], self.fast)
        candles["sma_slow"] = sma(candles["close"], self.slow)
        return candles

    def entries(self, frame: pd.DataFrame) -> Any:
        return crossed_above(frame["sma_fast"], frame["sma_slow"])

    def exits(self, frame: pd.DataFrame) -> Any:
        return crossed_below(frame["sma_fast"], frame["sma_slow"])
