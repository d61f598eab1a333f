"""A strategy whose decisions are given as bar positions: it isolates the engine under test."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from botcore.strategy.base import Strategy


def scripted(entries: list[int], exits: list[int], **stops: float) -> Strategy:
    """A strategy deciding to enter at `entries` and exit at `exits` (bar positions)."""

    class Scripted(Strategy):
        name: ClassVar[str] = "scripted"

        def stops(self) -> Any:
            from botcore.strategy.base import Stops

            return Stops(**stops)

        def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
            return candles

        def entries(self, frame: pd.DataFrame) -> Any:
            out = np.zeros(len(frame), dtype=bool)
            out[[i for i in entries if i < len(frame)]] = True
            return out

        def exits(self, frame: pd.DataFrame) -> Any:
            out = np.zeros(len(frame), dtype=bool)
            out[[i for i in exits if i < len(frame)]] = True
            return out

    return Scripted()
