"""Where a scan's candles come from: the candle files of a `DataCatalog`, or an exchange via ccxt.

`scan_catalog` is the offline default (the cache, the configured folders, the bundled data);
`scan_exchange` asks an exchange for its 24 h tickers (the symbol universe and quote volumes) and
the recent candles of each symbol, then scans at the exchange's current time, so the candle still
forming is never used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import pandas as pd

from botcore.data.candles import CANDLE_COLUMNS
from botcore.data.catalog import DataCatalog, normalize_symbol
from botcore.data.exchanges import RetryPolicy
from botcore.errors import DataNotFoundError, ParamError
from botcore.market.scanner import ScanParams, ScanResult, bars_needed, scan
from botcore.market.venues import QUICK_RETRY, fetch, require_symbol
from botcore.timeframes import MS_PER_DAY, timeframe_ms

__all__ = [
    "ExchangeCandles",
    "catalog_frames",
    "exchange_candles",
    "scan_catalog",
    "scan_exchange",
]

# Binance, Bybit and OKX all serve at least this many candles per request.
_MAX_OHLCV_LIMIT = 300


def catalog_frames(
    catalog: DataCatalog,
    timeframe: str,
    *,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    quote: str | None = None,
) -> dict[str, pd.DataFrame]:
    """Candle frames per symbol from the catalog's files.

    Args:
        catalog: Where to look.
        timeframe: Candle length, e.g. `15m`.
        symbols: Symbols to load (`btc` is completed with `quote` or USDT); None: every symbol
            with candles of `timeframe` (on `exchange` when given), filtered by `quote`.
        exchange: Prefer (symbols given) or require (symbols None) this exchange's files.
        quote: Quote currency completing bare symbols and filtering the full listing.

    Raises:
        DataNotFoundError: a requested symbol has no file (the available ones are listed), or
            nothing at all matches.
    """
    timeframe_ms(timeframe)
    if symbols:
        wanted = [normalize_symbol(s, quote or "USDT") for s in symbols]
    else:
        wanted = sorted(
            {
                key.symbol
                for key, _ in catalog.entries()
                if key.timeframe == timeframe
                and (exchange is None or key.exchange == exchange)
                and (quote is None or key.symbol.partition("/")[2] == quote.upper())
            }
        )
    if not wanted:
        where = f" on {exchange}" if exchange else ""
        quoted = f" quoted in {quote.upper()}" if quote else ""
        raise DataNotFoundError(f"no {timeframe} candle files{where}{quoted} in the data folders")
    return {symbol: catalog.load(symbol, timeframe, exchange).frame for symbol in wanted}


def scan_catalog(
    catalog: DataCatalog,
    timeframe: str,
    params: ScanParams | None = None,
    *,
    symbols: Sequence[str] | None = None,
    exchange: str | None = None,
    at_ms: int | None = None,
) -> ScanResult:
    """Scan candle files; `at_ms` None scans at the latest candle close among them."""
    params = params or ScanParams()
    frames = catalog_frames(
        catalog, timeframe, symbols=symbols, exchange=exchange, quote=params.quote
    )
    return scan(frames, timeframe, params, at_ms=at_ms)


@dataclass(frozen=True)
class ExchangeCandles:
    """Recent candles and 24 h quote volumes fetched from one exchange, and its clock then.

    Attributes:
        exchange: ccxt id.
        now_ms: The scan time: when the candles were fetched (UTC ms).
        frames: Symbol -> candle frame (the candle still forming included; `scan` drops it).
        quote_volumes: Symbol -> the ticker's 24 h quote volume, where the exchange gave one.
    """

    exchange: str
    now_ms: int
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    quote_volumes: dict[str, float] = field(default_factory=dict)


def _quote_volume(ticker: dict[str, Any]) -> float | None:
    value = ticker.get("quoteVolume")
    if value is None and ticker.get("baseVolume") is not None and ticker.get("last") is not None:
        value = ticker["baseVolume"] * ticker["last"]
    return float(value) if value is not None else None


def _universe(
    exchange: Any, tickers: dict[str, dict[str, Any]], params: ScanParams, size: int
) -> list[str]:
    """The `size` spot symbols with the largest 24 h quote volume that pass the filters."""
    ranked: list[tuple[float, str]] = []
    for symbol, ticker in tickers.items():
        market = (exchange.markets or {}).get(symbol)
        if market is None or not market.get("spot") or market.get("active") is False:
            continue
        if params.quote is not None and market.get("quote") != params.quote.upper():
            continue
        volume = _quote_volume(ticker)
        if volume is None or volume < params.min_quote_volume:
            continue
        ranked.append((volume, symbol))
    ranked.sort(key=lambda item: (-item[0], item[1]))
    return [symbol for _, symbol in ranked[:size]]


def _ohlcv_frame(rows: list[list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=list(CANDLE_COLUMNS)).dropna()
    frame = frame.astype({"timestamp": "int64"} | dict.fromkeys(CANDLE_COLUMNS[1:], "float64"))
    frame = frame.sort_values("timestamp").drop_duplicates("timestamp", keep="last")
    return frame.reset_index(drop=True)


def exchange_candles(
    exchange: Any,
    timeframe: str,
    params: ScanParams,
    *,
    symbols: Sequence[str] | None = None,
    universe: int = 30,
    retry: RetryPolicy = QUICK_RETRY,
    now_ms: Callable[[], int] | None = None,
) -> ExchangeCandles:
    """Tickers and recent candles from a ccxt exchange (markets loaded or loadable).

    Args:
        exchange: A ccxt client (e.g. from `create_exchange`).
        timeframe: Candle length; the exchange must offer it.
        params: The scan's windows and filters (they decide how many candles to fetch and, with
            `symbols` None, which symbols are considered).
        symbols: Symbols to scan; None: the `universe` spot symbols with the largest 24 h quote
            volume passing `params.quote` and `params.min_quote_volume`.
        universe: How many symbols to fetch candles for when `symbols` is None.
        retry: Retries per request.
        now_ms: The clock deciding which candles had closed; default the exchange's.

    Raises:
        UnknownSymbolError: a requested symbol is not listed.
        ParamError: the exchange has no such timeframe, or the windows need too many candles.
        DownloadError: the exchange kept failing.
    """
    fetch(exchange, exchange.load_markets, retry)
    timeframes = exchange.timeframes or {}
    if timeframes and timeframe not in timeframes:
        raise ParamError(
            f"{exchange.id} has no {timeframe} candles; it offers {', '.join(timeframes)}"
        )
    step = timeframe_ms(timeframe)
    limit = max(bars_needed(params), max(1, MS_PER_DAY // step)) + 1  # + the forming candle
    if limit > _MAX_OHLCV_LIMIT:
        raise ParamError(
            f"the scan windows need {limit} candles, more than one request returns "
            f"({_MAX_OHLCV_LIMIT}); shorten them or use a longer timeframe"
        )
    if symbols:
        quote = params.quote or "USDT"
        wanted = [
            require_symbol(exchange, normalize_symbol(symbol, quote))["symbol"]
            for symbol in symbols
        ]
        tickers = _tickers(exchange, wanted, retry)
    else:
        tickers = fetch(exchange, exchange.fetch_tickers, retry)
        wanted = _universe(exchange, tickers, params, universe)
    frames = {
        symbol: _ohlcv_frame(
            fetch(exchange, partial(exchange.fetch_ohlcv, symbol, timeframe, limit=limit), retry)
        )
        for symbol in wanted
    }
    volumes = {
        symbol: volume
        for symbol in wanted
        if symbol in tickers and (volume := _quote_volume(tickers[symbol])) is not None
    }
    clock = now_ms or exchange.milliseconds
    return ExchangeCandles(exchange.id, int(clock()), frames, volumes)


def _tickers(exchange: Any, symbols: list[str], retry: RetryPolicy) -> dict[str, dict[str, Any]]:
    if exchange.has.get("fetchTickers"):
        found: dict[str, dict[str, Any]] = fetch(
            exchange, lambda: exchange.fetch_tickers(symbols), retry
        )
        return found
    return {s: fetch(exchange, partial(exchange.fetch_ticker, s), retry) for s in symbols}


def scan_exchange(
    exchange: Any,
    timeframe: str,
    params: ScanParams | None = None,
    *,
    symbols: Sequence[str] | None = None,
    universe: int = 30,
    retry: RetryPolicy = QUICK_RETRY,
    now_ms: Callable[[], int] | None = None,
) -> ScanResult:
    """Scan an exchange's live candles at its current time; see `exchange_candles`."""
    params = params or ScanParams()
    fetched = exchange_candles(
        exchange,
        timeframe,
        params,
        symbols=symbols,
        universe=universe,
        retry=retry,
        now_ms=now_ms,
    )
    if not fetched.frames:
        raise DataNotFoundError(
            f"{exchange.id} lists no spot symbol passing the filters (quote "
            f"{params.quote or 'any'}, 24 h quote volume >= {params.min_quote_volume:,.0f})"
        )
    return scan(
        fetched.frames,
        timeframe,
        params,
        at_ms=fetched.now_ms,
        quote_volumes=fetched.quote_volumes,
    )
