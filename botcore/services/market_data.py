"""Market-data use cases: download candles into the cache, list what is stored, check a series."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from botcore.config import DataConfig
from botcore.data.candles import MarketKey, read_candles
from botcore.data.catalog import DataCatalog, normalize_symbol
from botcore.data.download import DownloadProgress, DownloadSummary, download_candles
from botcore.data.exchanges import RetryPolicy, create_exchange
from botcore.data.quality import DataQuality, check_candles
from botcore.errors import DataError, DataNotFoundError, ParamError

__all__ = ["DownloadRequest", "FolderKind", "MarketDataService", "StoredSeries"]

FolderKind = Literal["cache", "folder", "bundled", "file"]


@dataclass(frozen=True)
class DownloadRequest:
    """One market to download; missing fields come from `[data]` (exchange, quote currency).

    Attributes:
        symbol: `BTC/USDT`, or a bare base (`btc`) completed with `[data] quote`.
        timeframe: ccxt timeframe such as `1h`.
        exchange: ccxt id; default `[data] default_exchange`.
        since: First candle wanted (inclusive); optional when the cache has the market.
        until: End of the period (exclusive); default now.
        api_url: Base URL replacing the exchange's REST host (mirror, testnet, local stand-in).
    """

    symbol: str
    timeframe: str
    exchange: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    api_url: str | None = None


@dataclass(frozen=True)
class StoredSeries:
    """One candle file in the cache or a data folder, with its quality check.

    Attributes:
        key: Exchange, symbol and timeframe, from the file name.
        path: The file.
        folder: The folder searched (the file's parent for a file given directly).
        folder_kind: `cache`, a configured `folder`, the `bundled` data, or a `file` given by path.
        in_use: True when this is the file loads of `key` read (the first folder and best
            format win; the others are shadowed).
        quality: The check of the file as stored, or None when it could not be read.
        problem: Why the file could not be read.
    """

    key: MarketKey
    path: Path
    folder: Path
    folder_kind: FolderKind
    in_use: bool
    quality: DataQuality | None
    problem: str | None = None


def _wall_clock_ms() -> int:
    return int(time.time() * 1000)


class MarketDataService:
    """Downloads into and reads from the folders `[data]` configures."""

    def __init__(
        self,
        config: DataConfig,
        *,
        retry: RetryPolicy | None = None,
        clock_ms: Callable[[], int] = _wall_clock_ms,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._config = config
        self._retry = retry or RetryPolicy()
        self._clock_ms = clock_ms
        self._sleep = sleep
        self.catalog = DataCatalog.create(config.cache_dir, config.dirs, config.default_exchange)

    def normalize(self, symbol: str) -> str:
        """`btc` -> `BTC/<[data] quote>`, `eth-btc` -> `ETH/BTC`."""
        return normalize_symbol(symbol, self._config.quote)

    def download(
        self,
        request: DownloadRequest,
        progress: Callable[[DownloadProgress], None] | None = None,
    ) -> DownloadSummary:
        """Download a market into `[data] cache_dir` (see `botcore.data.download`).

        Raises:
            ParamError: bad dates, timeframe or API URL.
            DownloadError: unknown exchange or market, refusals, failures beyond the retries.
        """
        symbol = self.normalize(request.symbol)
        exchange = create_exchange(
            request.exchange or self._config.default_exchange,
            api_url=request.api_url,
            spot_only=":" not in symbol,
        )
        try:
            return download_candles(
                exchange,
                symbol,
                request.timeframe,
                self._config.cache_dir,
                request.since,
                request.until,
                progress=progress,
                retry=self._retry,
                clock_ms=self._clock_ms,
                sleep=self._sleep,
            )
        finally:
            exchange.close()

    def _folders(self) -> list[tuple[Path, FolderKind]]:
        last = len(self.catalog.dirs) - 1
        return [
            (folder, "cache" if i == 0 else "bundled" if i == last else "folder")
            for i, folder in enumerate(self.catalog.dirs)
        ]

    def _inspect(
        self, key: MarketKey, path: Path, folder: Path, kind: FolderKind, in_use: bool
    ) -> StoredSeries:
        try:
            quality = check_candles(read_candles(path), key.timeframe)
        except DataError as exc:
            return StoredSeries(key, path, folder, kind, in_use, None, str(exc))
        return StoredSeries(key, path, folder, kind, in_use, quality)

    def inventory(self) -> list[StoredSeries]:
        """Every candle file in the cache, the configured folders and the bundled data.

        Files are read and checked (gaps, duplicates, zero volume); an unreadable file is
        listed with its problem instead of stopping the listing. Ordered by folder, then key.
        """
        in_use = set(self.catalog.entries())
        found: list[StoredSeries] = []
        for folder, kind in self._folders():
            if not folder.is_dir():
                continue
            named = [(MarketKey.from_filename(p.name), p) for p in sorted(folder.iterdir())]
            for key, path in sorted((k, p) for k, p in named if k is not None):
                found.append(self._inspect(key, path, folder, kind, (key, path) in in_use))
        return found

    def check(
        self, target: str, timeframe: str | None = None, exchange: str | None = None
    ) -> StoredSeries:
        """Check one series: a file path, or a symbol looked up like a backtest would.

        Raises:
            ParamError: a symbol without a timeframe.
            DataNotFoundError: no such file or series, or a file name that names no market.
            DataError: the file cannot be read.
        """
        path = Path(target).expanduser()
        if path.is_file():
            key = MarketKey.from_filename(path.name)
            if key is None:
                raise DataNotFoundError(
                    f"cannot tell the market from the file name {path.name}; name it like "
                    "binance_BTC-USDT_1h.parquet"
                )
            resolved = path.resolve()
            kinds = {folder.resolve(): kind for folder, kind in self._folders()}
            kind = kinds.get(resolved.parent, "file")
            in_use = any(k == key and p.resolve() == resolved for k, p in self.catalog.entries())
        else:
            if not timeframe:
                raise ParamError(f"'{target}' is not a file; to check a symbol give --timeframe")
            key, path = self.catalog.find(self.normalize(target), timeframe, exchange)
            kind = dict(self._folders()).get(path.parent, "folder")
            in_use = True
        series = self._inspect(key, path, path.parent, kind, in_use)
        if series.problem is not None:
            raise DataError(series.problem)
        return series
