"""Candle frames and files.

A candle frame is a pandas DataFrame with the columns `timestamp` (int64, candle open time in UTC
milliseconds), `open`, `high`, `low`, `close` and `volume` (float64, volume in the base currency),
in the order the file gives. File names follow the shared data's convention
`EXCHANGE_BASE-QUOTE_TIMEFRAME.csv.gz` (or `.csv`, `.parquet`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from botcore.errors import DataError

__all__ = ["CANDLE_COLUMNS", "MarketKey", "read_candles", "write_parquet"]

CANDLE_COLUMNS = ("timestamp", "open", "high", "low", "close", "volume")
_FILE_NAME = re.compile(
    r"^(?P<exchange>[a-z0-9]+)_(?P<base>[A-Za-z0-9]+)-(?P<quote>[A-Za-z0-9]+)_"
    r"(?P<timeframe>\d+[mhdwM])\.(?P<ext>csv\.gz|csv|parquet)$"
)


@dataclass(frozen=True, order=True)
class MarketKey:
    """One market's candle series: exchange id (ccxt), symbol (`BTC/USDT`) and timeframe."""

    exchange: str
    symbol: str
    timeframe: str

    @classmethod
    def from_filename(cls, name: str) -> MarketKey | None:
        """The key a file name encodes, or None when it does not follow the convention."""
        match = _FILE_NAME.match(Path(name).name)
        if not match:
            return None
        return cls(
            match["exchange"],
            f"{match['base'].upper()}/{match['quote'].upper()}",
            match["timeframe"],
        )

    def filename(self, ext: str = "parquet") -> str:
        """The file name for this key, e.g. `binance_BTC-USDT_1h.parquet`."""
        return f"{self.exchange}_{self.symbol.replace('/', '-')}_{self.timeframe}.{ext}"


def read_candles(path: Path) -> pd.DataFrame:
    """Read a candle file into a frame with the standard columns and dtypes.

    Rows stay in file order: sorting and de-duplication are decisions the caller reports
    (see `botcore.data.quality`).

    Raises:
        DataError: the file is missing, unreadable or lacks a column.
    """
    if not path.is_file():
        raise DataError(f"candle file {path} does not exist")
    try:
        is_parquet = path.name.endswith(".parquet")
        # one thread: on two cores pyarrow's thread pool costs more than it saves
        frame = pd.read_parquet(path, use_threads=False) if is_parquet else pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise DataError(f"could not read candle file {path}: {exc}") from exc
    missing = [c for c in CANDLE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"candle file {path} lacks column(s): {', '.join(missing)}")
    frame = frame.loc[:, list(CANDLE_COLUMNS)]
    try:
        frame = frame.astype({"timestamp": "int64"} | dict.fromkeys(CANDLE_COLUMNS[1:], "float64"))
    except (TypeError, ValueError) as exc:
        raise DataError(f"candle file {path} has non-numeric values: {exc}") from exc
    return frame.reset_index(drop=True)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write a candle frame atomically (temporary file, then rename): a crash never leaves half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.loc[:, list(CANDLE_COLUMNS)].to_parquet(tmp, index=False)
    tmp.replace(path)
