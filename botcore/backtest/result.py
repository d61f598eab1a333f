"""What a backtest produces: trades, the equity curve, metrics and the data it ran on."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.backtest.metrics import Metrics
from botcore.data.quality import DataQuality
from botcore.timeframes import to_iso

__all__ = ["TRADE_COLUMNS", "BacktestResult"]

TRADE_COLUMNS = (
    "symbol", "side", "entry_time", "exit_time", "entry_price", "exit_price", "amount", "fee",
    "pnl", "pnl_pct", "exit_reason",
)


@dataclass(frozen=True)
class BacktestResult:
    """One strategy run over one or more symbols.

    `trades` has the `TRADE_COLUMNS` with times in UTC milliseconds, plus `entry_index` and
    `exit_index` (bar positions in `timestamps`). `frames` holds, per symbol, the candles of the
    window with the strategy's indicator columns (used by charts).
    """

    strategy: str
    params: dict[str, Any]
    exchange: str
    symbols: tuple[str, ...]
    timeframe: str
    settings: dict[str, Any]
    timestamps: npt.NDArray[np.int64]
    equity: npt.NDArray[np.float64]
    trades: pd.DataFrame
    metrics: Metrics
    frames: dict[str, pd.DataFrame] = field(repr=False)
    quality: dict[str, DataQuality] = field(repr=False)
    warnings: tuple[str, ...] = ()

    def trade_records(self) -> list[dict[str, Any]]:
        """Trades as JSON-ready dicts, times as ISO 8601 UTC text."""
        records = self.trades.loc[:, list(TRADE_COLUMNS)].to_dict("records")
        for record in records:
            record["entry_time"] = to_iso(int(record["entry_time"]))
            record["exit_time"] = to_iso(int(record["exit_time"]))
        return records

    def to_json_dict(self) -> dict[str, Any]:
        """`{"metrics", "trades", "equity", ...}` as written by `tradechat backtest --json`."""
        return {
            "strategy": self.strategy,
            "params": self.params,
            "exchange": self.exchange,
            "symbols": list(self.symbols),
            "timeframe": self.timeframe,
            "settings": self.settings,
            "metrics": self.metrics.to_dict(),
            "trades": self.trade_records(),
            "equity": [
                [int(ts), float(v)] for ts, v in zip(self.timestamps, self.equity, strict=True)
            ],
        }

    def write_json(self, path: Path) -> None:
        """Write `to_json_dict()` to `path` (strict JSON: no NaN)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json_dict(), allow_nan=False, indent=1))
