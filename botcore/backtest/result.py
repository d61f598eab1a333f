"""What a backtest produces: trades, the equity curve, metrics and the data it ran on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.backtest.metrics import Metrics
from botcore.data.quality import DataQuality

__all__ = ["TRADE_COLUMNS", "BacktestResult", "iso_times"]


def iso_times(ms: npt.NDArray[np.int64]) -> list[str]:
    """ISO 8601 UTC texts (`2024-01-31T12:00:00Z`) of millisecond timestamps, vectorised."""
    text = np.datetime_as_string(ms.astype("datetime64[ms]"), unit="s")
    return [f"{t}Z" for t in text.tolist()]


TRADE_COLUMNS = (
    "symbol",
    "side",
    "entry_time",
    "exit_time",
    "entry_price",
    "exit_price",
    "amount",
    "fee",
    "pnl",
    "pnl_pct",
    "exit_reason",
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
        frame = self.trades.loc[:, list(TRADE_COLUMNS)].copy()
        for col in ("entry_time", "exit_time"):
            frame[col] = iso_times(frame[col].to_numpy(dtype=np.int64))
        return frame.to_dict("records")

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
            "equity": list(zip(self.timestamps.tolist(), self.equity.tolist(), strict=True)),
        }

    def write_json(self, path: Path) -> None:
        """Write `to_json_dict()` to `path` as strict JSON (a NaN or infinity is an error)."""
        import orjson  # a million equity points take 0.1 s here, 3 s with the json module

        data = self.to_json_dict()
        if not np.isfinite(self.equity).all():
            raise ValueError("equity holds a non-finite value")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(orjson.dumps(data))
