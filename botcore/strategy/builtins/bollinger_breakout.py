"""Bollinger band breakout."""

from __future__ import annotations

from typing import Any

import pandas as pd

from botcore.indicators import bbands, crossed_above, crossed_below
from botcore.strategy.base import Strategy
from botcore.strategy.params import FloatParam, IntParam


class BollingerBreakout(Strategy):
    """Volatility breakout: long when the close crosses above the upper Bollinger band, flat when
    it falls back below the middle band; a trailing stop locks in part of a run."""

    name = "bollinger_breakout"
    period = IntParam(20, low=5, high=100, help="band period (bars)")
    std = FloatParam(2.0, low=1.0, high=4.0, step=0.1, help="band width in standard deviations")
    trailing_stop_pct = FloatParam(
        4.0, low=0.5, high=20.0, step=0.5, help="trailing stop below the highest high, %"
    )

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        upper, middle, lower = bbands(candles["close"], self.period, self.std)
        candles["bb_upper"], candles["bb_middle"], candles["bb_lower"] = upper, middle, lower
        return candles

    def entries(self, frame: pd.DataFrame) -> Any:
        return crossed_above(frame["close"], frame["bb_upper"])

    def exits(self, frame: pd.DataFrame) -> Any:
        return crossed_below(frame["close"], frame["bb_middle"])
