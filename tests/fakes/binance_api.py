"""A local stand-in for Binance's spot REST API, speaking its wire format, for ccxt to talk to.

Serves `GET /api/v3/exchangeInfo` (a minimal but real-format spot entry per symbol) and
`GET /api/v3/klines` (arrays of strings exactly like Binance) from real recorded candles, honouring
`startTime`, `endTime` and `limit` so a client really has to paginate; with `serve_tickers`, also
`GET /api/v3/ticker/24hr`, derived from the same candles as they stand at `server_time_ms`. It is
stricter than Binance where that catches client bugs: an unknown query parameter or a `limit`
above 1000 is refused with Binance's own error codes. Faults can be injected: 429 answers with
`Retry-After`, and an outage (503 with an HTML page) once a number of pages has been served.
"""

from __future__ import annotations

import bisect
import csv
import gzip
import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from botcore.timeframes import timeframe_ms

__all__ = ["FakeBinance", "klines_from_csv", "spot_symbol"]

_EIGHT_PLACES = Decimal("0.00000001")
_OUTAGE_PAGE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head>"
    "<body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
_KLINES_PARAMS = {"symbol", "interval", "startTime", "endTime", "limit", "timeZone"}
_TICKER_PARAMS = {"symbol", "symbols"}
_DAY_MS = 86_400_000
_ZERO_WIRE = "0.00000000"
_JSON = "application/json;charset=UTF-8"
# Binance's spot intervals (https://developers.binance.com, "Kline/Candlestick data").
_INTERVALS = {
    "1s", "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d",
    "1w", "1M",
}  # fmt: skip


def _wire_decimal(text: str) -> str:
    """`4261.48` -> `4261.48000000`: Binance prints prices and volumes with 8 decimals."""
    value = Decimal(text)
    quantized = value.quantize(_EIGHT_PLACES)
    if quantized != value:
        raise ValueError(f"{text} has more than 8 decimals; Binance never sends that")
    return f"{quantized:f}"


def klines_from_csv(path: Path, interval: str) -> list[list[Any]]:
    """Binance kline arrays for a recorded candle file (`timestamp,open,high,low,close,volume`).

    Open time, OHLC, volume and close time (open + interval - 1 ms) are the recorded values. The
    quote volume, trade count and taker volumes were not recorded and are sent as zero; ccxt's
    unified OHLCV does not read them.
    """
    step = timeframe_ms(interval)
    with gzip.open(path, "rt", newline="") as handle:
        rows = list(csv.DictReader(handle))
    klines = [
        [
            int(row["timestamp"]),
            *(_wire_decimal(row[col]) for col in ("open", "high", "low", "close", "volume")),
            int(row["timestamp"]) + step - 1,
            "0.00000000",
            0,
            "0.00000000",
            "0.00000000",
            "0",
        ]
        for row in rows
    ]
    return sorted(klines, key=lambda k: k[0])


def spot_symbol(base: str, quote: str, tick: str, step: str) -> dict[str, Any]:
    """One `symbols` entry of `/api/v3/exchangeInfo` in Binance's format (filters trimmed)."""
    return {
        "symbol": f"{base}{quote}",
        "status": "TRADING",
        "baseAsset": base,
        "baseAssetPrecision": 8,
        "quoteAsset": quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": True,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": tick,
                "maxPrice": "1000000.00000000",
                "tickSize": tick,
            },
            {"filterType": "LOT_SIZE", "minQty": step, "maxQty": "9000.00000000", "stepSize": step},
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "NOTIONAL",
                "minNotional": "5.00000000",
                "applyMinToMarket": True,
                "maxNotional": "9000000.00000000",
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": 200},
        ],
        "permissions": [],
        "permissionSets": [["SPOT", "MARGIN"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


def _error(status: int, code: int, msg: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps({"code": code, "msg": msg}),
        status=status,
        headers=headers or {},
        content_type="application/json;charset=UTF-8",
    )


@dataclass
class FakeBinance:
    """Binance spot REST on a pytest-httpserver; `api_url` is what ccxt should be pointed at.

    Attributes:
        server: The running HTTP server (127.0.0.1).
        klines: Kline arrays per (Binance symbol id, interval), oldest first.
        server_time_ms: The `serverTime` exchangeInfo reports.
        rate_limited: The next this-many klines requests are answered 429 (then served).
        retry_after_s: The `Retry-After` header sent with a 429.
        fail_after_pages: Once this many klines pages have been served, answer 503 (an outage).
        klines_requests: The query of every klines request received, in order.
        serve_tickers: Also serve `/api/v3/ticker/24hr` (see `_ticker_24hr`); off by default so
            tests that route that path themselves keep their own handler.
        tickers_rate_limited: The next this-many ticker requests are answered 429.
        ticker_requests: The query of every ticker request received, in order.
    """

    server: HTTPServer
    klines: dict[tuple[str, str], list[list[Any]]]
    server_time_ms: int = 1_713_708_000_000
    rate_limited: int = 0
    retry_after_s: int = 1
    fail_after_pages: int | None = None
    klines_requests: list[dict[str, str]] = field(default_factory=list)
    pages_served: int = 0
    serve_tickers: bool = False
    tickers_rate_limited: int = 0
    ticker_requests: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server.expect_request("/api/v3/exchangeInfo", method="GET").respond_with_handler(
            self._exchange_info
        )
        self.server.expect_request("/api/v3/klines", method="GET").respond_with_handler(
            self._klines
        )
        if self.serve_tickers:
            self.server.expect_request("/api/v3/ticker/24hr", method="GET").respond_with_handler(
                self._tickers
            )

    @property
    def api_url(self) -> str:
        """Base URL replacing `https://api.binance.com` (ccxt keeps the `/api/v3` path)."""
        return self.server.url_for("/").rstrip("/")

    def _exchange_info(self, request: Request) -> Response:
        symbols = [spot_symbol("BTC", "USDT", "0.01000000", "0.00001000")]
        symbols.append(spot_symbol("ETH", "USDT", "0.01000000", "0.00010000"))
        body = {
            "timezone": "UTC",
            "serverTime": self.server_time_ms,
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 6000,
                },
                {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
                {
                    "rateLimitType": "RAW_REQUESTS",
                    "interval": "MINUTE",
                    "intervalNum": 5,
                    "limit": 61000,
                },
            ],
            "exchangeFilters": [],
            "symbols": symbols,
        }
        return Response(json.dumps(body), content_type="application/json;charset=UTF-8")

    def _klines(self, request: Request) -> Response:
        query = dict(request.args.items())
        self.klines_requests.append(query)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            return _error(
                429,
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute. "
                "Please use WebSocket Streams for live updates to avoid polling the API.",
                {"Retry-After": str(self.retry_after_s)},
            )
        if self.fail_after_pages is not None and self.pages_served >= self.fail_after_pages:
            # An outage answered by the CDN in front of Binance: HTML, no JSON error code.
            return Response(_OUTAGE_PAGE, status=503, content_type="text/html")
        unknown = set(query) - _KLINES_PARAMS
        if unknown:
            return _error(
                400,
                -1104,
                f"Not all sent parameters were read; read '{len(query) - len(unknown)}' "
                f"parameter(s) but was sent '{len(query)}'.",
            )
        if "symbol" not in query or "interval" not in query:
            missing = "symbol" if "symbol" not in query else "interval"
            return _error(
                400,
                -1102,
                f"Mandatory parameter '{missing}' was not sent, was empty/null, or malformed.",
            )
        if query["interval"] not in _INTERVALS:
            return _error(400, -1120, "Invalid interval.")
        rows = self.klines.get((query["symbol"], query["interval"]))
        if rows is None:
            known = {symbol for symbol, _ in self.klines} | {"BTCUSDT", "ETHUSDT"}
            if query["symbol"] not in known:
                return _error(400, -1121, "Invalid symbol.")
            rows = []
        for name in ("startTime", "endTime", "limit"):
            if name in query and not query[name].isdigit():
                return _error(
                    400,
                    -1100,
                    f"Illegal characters found in parameter '{name}'; legal range is "
                    "'^[0-9]{1,20}$'.",
                )
        limit = int(query.get("limit", 500))
        if not 1 <= limit <= 1000:
            return _error(400, -1130, "Invalid data sent for a parameter.")
        page = self._select(rows, query.get("startTime"), query.get("endTime"), limit)
        self.pages_served += 1
        return Response(
            json.dumps(page, separators=(",", ":")),
            content_type="application/json;charset=UTF-8",
            headers={"x-mbx-used-weight": "2", "x-mbx-used-weight-1m": "2"},
        )

    def _listed(self) -> set[str]:
        """Symbol ids exchangeInfo lists and those the klines route knows."""
        return {symbol for symbol, _ in self.klines} | {"BTCUSDT", "ETHUSDT"}

    def _tickers(self, request: Request) -> Response:
        query = dict(request.args.items())
        self.ticker_requests.append(query)
        if self.tickers_rate_limited > 0:
            self.tickers_rate_limited -= 1
            return _error(
                429,
                -1003,
                "Too many requests; current limit of IP(127.0.0.1) is 6000 requests per minute.",
                {"Retry-After": str(self.retry_after_s)},
            )
        unknown = set(query) - _TICKER_PARAMS
        if unknown:
            return _error(
                400,
                -1104,
                f"Not all sent parameters were read; read '{len(query) - len(unknown)}' "
                f"parameter(s) but was sent '{len(query)}'.",
            )
        if "symbol" in query and "symbols" in query:
            return _error(400, -1128, "Combination of optional parameters invalid.")
        listed = self._listed()
        if "symbol" in query:
            if query["symbol"] not in listed:
                return _error(400, -1121, "Invalid symbol.")
            return Response(json.dumps(self._ticker_24hr(query["symbol"])), content_type=_JSON)
        if "symbols" in query:
            try:
                wanted = json.loads(query["symbols"])
            except ValueError:
                wanted = None
            if not isinstance(wanted, list) or not all(isinstance(w, str) for w in wanted):
                return _error(400, -1100, "Illegal characters found in parameter 'symbols'.")
            if any(w not in listed for w in wanted):
                return _error(400, -1121, "Invalid symbol.")
        else:
            wanted = sorted(listed)
        body = [self._ticker_24hr(market_id) for market_id in dict.fromkeys(wanted)]
        return Response(json.dumps(body), content_type=_JSON)

    def _ticker_24hr(self, market_id: str) -> dict[str, Any]:
        """Binance's full 24 h ticker of one symbol at `server_time_ms`, from its klines.

        Uses the symbol's finest recorded interval. `lastPrice` is the close of the last kline
        closed by then, `prevClosePrice` the close of the last one before the 24 h window; open,
        high, low, volume, quote volume and trade count come from the klines closed inside the
        window, the weighted average from quote volume / volume. What klines do not record is sent
        as Binance sends it when it has none: zero bid, ask and last quantity (an empty book),
        trade ids -1. A market without closed klines gets Binance's never-traded answer: zeros.
        """
        now = self.server_time_ms
        series = [(timeframe_ms(tf), rows) for (sym, tf), rows in self.klines.items()
                  if sym == market_id and rows]  # fmt: skip
        step, rows = min(series, key=lambda s: s[0]) if series else (0, [])
        opens = [row[0] for row in rows]
        closed = rows[: bisect.bisect_right(opens, now - step)]
        start = bisect.bisect_left(opens, now - _DAY_MS)
        window = closed[start:]
        last = Decimal(closed[-1][4]) if closed else Decimal(0)
        previous = Decimal(closed[start - 1][4]) if 0 < start <= len(closed) else Decimal(0)
        open_ = Decimal(window[0][1]) if window else last
        volume = sum((Decimal(r[5]) for r in window), Decimal(0))
        quote_volume = sum((Decimal(r[7]) for r in window), Decimal(0))
        change = last - open_
        percent = (change / open_ * 100).quantize(Decimal("0.001")) if open_ else Decimal(0)
        average = quote_volume / volume if volume and quote_volume else Decimal(0)

        def wire(value: Decimal) -> str:
            return f"{value.quantize(_EIGHT_PLACES):f}"

        return {
            "symbol": market_id,
            "priceChange": wire(change),
            "priceChangePercent": f"{percent:f}",
            "weightedAvgPrice": wire(average),
            "prevClosePrice": wire(previous),
            "lastPrice": wire(last),
            "lastQty": _ZERO_WIRE,
            "bidPrice": _ZERO_WIRE,
            "bidQty": _ZERO_WIRE,
            "askPrice": _ZERO_WIRE,
            "askQty": _ZERO_WIRE,
            "openPrice": wire(open_),
            "highPrice": wire(max((Decimal(r[2]) for r in window), default=last)),
            "lowPrice": wire(min((Decimal(r[3]) for r in window), default=last)),
            "volume": wire(volume),
            "quoteVolume": wire(quote_volume),
            "openTime": now - _DAY_MS,
            "closeTime": now,
            "firstId": -1,
            "lastId": -1,
            "count": sum(int(r[8]) for r in window),
        }

    @staticmethod
    def _select(
        rows: list[list[Any]], start: str | None, end: str | None, limit: int
    ) -> list[list[Any]]:
        """Binance's rule: from `startTime` on, oldest first; without it, the newest up to end."""
        opens = [row[0] for row in rows]
        hi = bisect.bisect_right(opens, int(end)) if end is not None else len(rows)
        if start is not None:
            lo = bisect.bisect_left(opens, int(start))
            return rows[lo : min(hi, lo + limit)]
        return rows[max(0, hi - limit) : hi]
