"""Market data: candle files (CSV, gzip CSV, Parquet), their quality, the local cache, downloads."""

from botcore.data.candles import CANDLE_COLUMNS, MarketKey, read_candles, write_parquet
from botcore.data.catalog import DataCatalog, LoadedCandles
from botcore.data.quality import DataQuality, Gap, check_candles

__all__ = [
    "CANDLE_COLUMNS",
    "DataCatalog",
    "DataQuality",
    "Gap",
    "LoadedCandles",
    "MarketKey",
    "check_candles",
    "read_candles",
    "write_parquet",
]
