"""RSI mean reversion."""

from __future__ import annotations

from typing import Any

import pandas as pd

from botcore.errors import ParamError
from botcore.indicators import crossed_above, rsi
from botcore.strategy.base import Strategy
from botcore.strategy.params import FloatParam, IntParam


class RsiReversion(Strategy):
    """Mean reversion: long when RSI climbs back above `oversold` (the dip is ending), flat when
    RSI reaches `overbought`; a stop-loss caps the falling-knife case."""

    name = "rsi_reversion"
    period = IntParam(14, low=2, high=50, help="RSI period (bars)")
    oversold = FloatParam(30.0, low=5.0, high=45.0, step=1.0, help="RSI level that arms entries")
    overbought = FloatParam(70.0, low=55.0, high=95.0, step=1.0, help="RSI level that exits")
    stop_loss_pct = FloatParam(5.0, low=0.5, high=20.0, step=0.5, help="stop-loss below entry, %")

    def validate(self) -> None:
        if self.oversold >= self.overbought:
            raise ParamError("rsi_reversion needs oversold < overbought")

    def warmup(self) -> int:
        return 5 * self.period  # Wilder smoothing carries its seed for a while

    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        candles["rsi"] = rsi(candles["close"], self.period)
        return candles

    def entries(self, frame: pd.DataFrame) -> Any:
        return crossed_above(frame["rsi"], pd.Series(self.oversold, index=frame.index))

    def exits(self, frame: pd.DataFrame) -> Any:
        return frame["rsi"].to_numpy() >= self.overbought
