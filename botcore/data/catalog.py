"""Where candles come from: the local cache, configured folders and the data bundled in the package.

Folders are searched in order (cache first, bundled data last); within a folder a Parquet file wins
over CSV. A symbol can be asked for with or without an exchange; without one, the default exchange
is preferred, then any exchange that has the series.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import pandas as pd

from botcore.data.candles import MarketKey, read_candles
from botcore.data.quality import DataQuality, clean_candles
from botcore.errors import DataNotFoundError
from botcore.timeframes import timeframe_ms, to_ms

__all__ = ["DataCatalog", "LoadedCandles", "bundled_data_dir", "normalize_symbol"]

_EXT_RANK = {"parquet": 0, "csv.gz": 1, "csv": 2}


def bundled_data_dir() -> Path:
    """The folder of real candles shipped inside the package (Binance BTC and ETH, 15m and 1h)."""
    return Path(str(resources.files("botcore.data") / "bundled"))


def normalize_symbol(text: str, quote: str = "USDT") -> str:
    """`btc` -> `BTC/USDT`, `eth-btc` / `ETH_BTC` / `eth/btc` -> `ETH/BTC`."""
    cleaned = text.strip().upper().replace("-", "/").replace("_", "/")
    if "/" not in cleaned:
        return f"{cleaned}/{quote.upper()}"
    return cleaned


@dataclass(frozen=True)
class LoadedCandles:
    """A cleaned candle frame with where it came from and what its quality check found."""

    key: MarketKey
    path: Path
    frame: pd.DataFrame
    quality: DataQuality


@dataclass(frozen=True)
class DataCatalog:
    """Finds and loads candle series from an ordered list of folders."""

    dirs: tuple[Path, ...]
    default_exchange: str = "binance"

    @classmethod
    def create(
        cls, cache_dir: Path, extra_dirs: tuple[Path, ...] = (), default_exchange: str = "binance"
    ) -> DataCatalog:
        """Cache first, then the configured folders, then the bundled data."""
        return cls((cache_dir, *extra_dirs, bundled_data_dir()), default_exchange)

    def entries(self) -> list[tuple[MarketKey, Path]]:
        """Every series found, one entry per key (the first folder and best format win)."""
        best: dict[MarketKey, tuple[int, int, Path]] = {}
        for order, folder in enumerate(self.dirs):
            if not folder.is_dir():
                continue
            for path in folder.iterdir():
                key = MarketKey.from_filename(path.name)
                if key is None:
                    continue
                ext = path.name.split(".", 1)[1]
                rank = (order, _EXT_RANK[ext])
                if key not in best or rank < best[key][:2]:
                    best[key] = (*rank, path)
        return sorted((key, entry[2]) for key, entry in best.items())

    def find(
        self, symbol: str, timeframe: str, exchange: str | None = None
    ) -> tuple[MarketKey, Path]:
        """The file for a market, preferring `exchange`, then the default exchange."""
        timeframe_ms(timeframe)  # validates the timeframe before searching
        symbol = normalize_symbol(symbol)
        matches = [
            (k, p) for k, p in self.entries() if k.symbol == symbol and k.timeframe == timeframe
        ]
        if exchange:
            matches = [(k, p) for k, p in matches if k.exchange == exchange]
        if not matches:
            where = f" on {exchange}" if exchange else ""
            have = sorted({f"{k.symbol} {k.timeframe}" for k, _ in self.entries()})
            raise DataNotFoundError(
                f"no {symbol} {timeframe} candles{where} in the cache or data folders; "
                f"download them with `tradechat data download` (available: {', '.join(have)})"
            )
        preferred = [m for m in matches if m[0].exchange == self.default_exchange]
        return (preferred or matches)[0]

    def load(
        self,
        symbol: str,
        timeframe: str,
        exchange: str | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> LoadedCandles:
        """Load, clean and cut a market's candles to `[start, end)`."""
        key, path = self.find(symbol, timeframe, exchange)
        return load_file(path, key, start, end)


def load_file(
    path: Path,
    key: MarketKey | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> LoadedCandles:
    """Load one candle file; the key comes from its name unless given."""
    key = key or MarketKey.from_filename(path.name)
    if key is None:
        raise DataNotFoundError(
            f"cannot tell the market from the file name {path.name}; name it like "
            "binance_BTC-USDT_1h.csv.gz or pass --symbol, --timeframe and --exchange"
        )
    frame, quality = clean_candles(read_candles(path), key.timeframe)
    if start is not None:
        frame = frame[frame["timestamp"] >= to_ms(start)]
    if end is not None:
        frame = frame[frame["timestamp"] < to_ms(end)]
    if start is not None or end is not None:
        frame = frame.reset_index(drop=True)
    if frame.empty:
        raise DataNotFoundError(f"no {key.symbol} {key.timeframe} candles in the requested period")
    return LoadedCandles(key, path, frame, quality)
