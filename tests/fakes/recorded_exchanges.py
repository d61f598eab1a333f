"""Local stand-ins for Binance, Bybit and OKX spot REST, serving responses recorded from them.

Each fake speaks its exchange's wire format on a pytest-httpserver bound to 127.0.0.1, for the real
ccxt client to talk to: the one market-list endpoint ccxt's spot `load_markets` calls, the order
book, the 24 h ticker and the account balance. Order books and tickers are the `http_response`
bodies of `ccxt_fixtures/` in the shared data (recorded on 2026-02-08, see its README), served byte
for byte. Market entries are real where one was recorded (Bybit's BTCUSDT and ETHUSDT instruments,
OKX's spot instruments); Binance's come from `spot_symbol`, and OKX's BTC-USDT and ETH-USDT reuse
its recorded BTC-AUD entry with the id, quote currency and lot size changed (OKX prints BTC-USDT
sizes with 8 decimals in the recorded book).

Balances are given by the test. The private endpoint checks what the real one checks: the API-key
header, and the request signature recomputed from the secret (HMAC-SHA256 over Binance's query
string, over OKX's timestamp + method + path), answering with the exchange's own error codes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.binance_api import spot_symbol

__all__ = [
    "FIXTURES",
    "RecordedBinance",
    "RecordedBybit",
    "RecordedOkx",
    "binance_tickers",
    "fixture",
    "start_server",
]

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ccxt_fixtures"
_JSON = "application/json;charset=UTF-8"


def fixture(exchange: str, name: str) -> dict[str, Any]:
    """One recorded ccxt fixture (`exchange`, `method`, `args`, `http_response`, ...)."""
    data: dict[str, Any] = json.loads((FIXTURES / exchange / f"{name}.json").read_text())
    return data


def start_server() -> HTTPServer:
    """A started HTTP server on 127.0.0.1 and a free port; the caller stops it."""
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    return server


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type=_JSON)


def _recorded_market_infos(exchange: str) -> dict[str, dict[str, Any]]:
    """The raw market entries a recorded `fetch_markets` kept in its parsed markets' `info`."""
    parsed = fixture(exchange, "fetch_markets")["parsed_response"]
    return {market["symbol"]: market["info"] for market in parsed}


def _binance_error(status: int, code: int, msg: str) -> Response:
    return _json({"code": code, "msg": msg}, status)


def binance_tickers(symbols: tuple[str, ...]) -> Callable[[Request], Response]:
    """A handler for Binance's `/api/v3/ticker/24hr` serving the recorded BTC and ETH tickers.

    `symbol=BTCUSDT` gets the recorded single ticker, `symbols=[...]` or no parameter the
    recorded list (of the two); a symbol not in `symbols` is refused as Binance does.
    """
    single = {
        "BTCUSDT": fixture("binance", "fetch_ticker_BTC_USDT")["http_response"],
        "ETHUSDT": fixture("binance", "fetch_ticker_ETH_USDT")["http_response"],
    }
    every = fixture("binance", "fetch_tickers_BTC_ETH")["http_response"]
    listed = {symbol.replace("/", "") for symbol in symbols}

    def handler(request: Request) -> Response:
        if "symbol" in request.args:
            market_id = request.args["symbol"]
            if market_id not in single or market_id not in listed:
                return _binance_error(400, -1121, "Invalid symbol.")
            return _json(single[market_id])
        wanted = json.loads(request.args["symbols"]) if "symbols" in request.args else listed
        return _json([t for t in every if t["symbol"] in wanted and t["symbol"] in listed])

    return handler


@dataclass
class _RecordedExchange:
    """What the three fakes share: a server, the listed symbols, balances and a request log.

    Attributes:
        server: The running HTTP server (127.0.0.1).
        symbols: Unified symbols (`BTC/USDT`) the market list offers.
        balances: Asset -> (free, locked) as decimal strings, for the balance endpoint.
        api_key: The key the balance endpoint accepts.
        secret: The secret it checks signatures with.
        requests: (path, query) of every request received, in order.
    """

    server: HTTPServer
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    balances: dict[str, tuple[str, str]] = field(default_factory=dict)
    api_key: str = "test-key"
    secret: str = "test-secret"  # noqa: S105 - the fake's own test key, no real credential
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    exchange_id = ""

    @property
    def api_url(self) -> str:
        """Base URL to give `create_exchange(..., api_url=...)`."""
        return self.server.url_for("/").rstrip("/")

    def _route(self, path: str, handler: Any) -> None:
        def logged(request: Request) -> Response:
            self.requests.append((request.path, dict(request.args.items())))
            response: Response = handler(request)
            return response

        self.server.expect_request(path, method="GET").respond_with_handler(logged)

    def _recorded(self, name: str) -> Any:
        return fixture(self.exchange_id, name)["http_response"]


@dataclass
class RecordedBinance(_RecordedExchange):
    """Binance spot: `/api/v3/exchangeInfo`, `depth`, `ticker/24hr` and `account`."""

    exchange_id = "binance"

    def __post_init__(self) -> None:
        self._route("/api/v3/exchangeInfo", self._exchange_info)
        self._route("/api/v3/depth", self._depth)
        self._route("/api/v3/ticker/24hr", binance_tickers(self.symbols))
        self._route("/api/v3/account", self._account)

    @staticmethod
    def _error(status: int, code: int, msg: str) -> Response:
        return _binance_error(status, code, msg)

    def _exchange_info(self, request: Request) -> Response:
        steps = {"BTC": "0.00001000", "ETH": "0.00010000"}
        entries = []
        for symbol in self.symbols:
            base, quote = symbol.split("/")
            entries.append(spot_symbol(base, quote, "0.01000000", steps.get(base, "0.01000000")))
        body = {
            "timezone": "UTC",
            "serverTime": 1770531546004,
            "rateLimits": [],
            "exchangeFilters": [],
            "symbols": entries,
        }
        return _json(body)

    def _known(self, market_id: str) -> bool:
        return market_id in {s.replace("/", "") for s in self.symbols}

    def _depth(self, request: Request) -> Response:
        limit = request.args.get("limit", "100")
        if not limit.isdigit() or not 1 <= int(limit) <= 5000:
            return self._error(400, -1130, "Invalid data sent for a parameter.")
        if request.args.get("symbol") != "BTCUSDT" or not self._known("BTCUSDT"):
            return self._error(400, -1121, "Invalid symbol.")
        return _json(self._recorded("fetch_order_book_BTC_USDT"))

    def _account(self, request: Request) -> Response:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            return self._error(401, -2014, "API-key format invalid.")
        query = request.query_string.decode()
        unsigned, _, signature = query.rpartition("&signature=")
        expected = hmac.new(self.secret.encode(), unsigned.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return self._error(400, -1022, "Signature for this request is not valid.")
        body = {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": 1770531546004,
            "accountType": "SPOT",
            "balances": [
                {"asset": asset, "free": free, "locked": locked}
                for asset, (free, locked) in self.balances.items()
            ],
            "permissions": ["SPOT"],
            "uid": 354937868,
        }
        return _json(body)


@dataclass
class RecordedBybit(_RecordedExchange):
    """Bybit v5 spot: `/v5/market/instruments-info`, `orderbook` and `tickers` (no balances)."""

    exchange_id = "bybit"

    def __post_init__(self) -> None:
        self._route("/v5/market/instruments-info", self._instruments)
        self._route("/v5/market/orderbook", self._orderbook)
        self._route("/v5/market/tickers", self._tickers)

    def _envelope(self, result: Any, code: int = 0, msg: str = "OK") -> Response:
        body = {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {}}
        return _json(body | {"time": 1770531564141})

    def _instruments(self, request: Request) -> Response:
        if request.args.get("category") != "spot":
            return self._envelope({}, 10001, "params error: category only support spot")
        infos = _recorded_market_infos("bybit")
        entries = [infos[symbol] for symbol in self.symbols]
        return self._envelope({"category": "spot", "list": entries, "nextPageCursor": ""})

    def _orderbook(self, request: Request) -> Response:
        if request.args.get("category") != "spot" or request.args.get("symbol") != "BTCUSDT":
            return self._envelope({}, 10001, "params error: symbol invalid")
        return _json(self._recorded("fetch_order_book_BTC_USDT"))

    def _tickers(self, request: Request) -> Response:
        recorded = {
            "BTCUSDT": self._recorded("fetch_ticker_BTC_USDT"),
            "ETHUSDT": self._recorded("fetch_ticker_ETH_USDT"),
        }
        market_id = request.args.get("symbol", "")
        if request.args.get("category") != "spot" or market_id not in recorded:
            return self._envelope({}, 10001, "params error: symbol invalid")
        return _json(recorded[market_id])


@dataclass
class RecordedOkx(_RecordedExchange):
    """OKX v5 spot: `/api/v5/public/instruments`, `market/books`, `market/ticker`, balance.

    Attributes:
        password: The API passphrase the balance endpoint accepts.
    """

    password: str = "test-passphrase"  # noqa: S105 - a test passphrase for the fake
    exchange_id = "okx"

    def __post_init__(self) -> None:
        self._route("/api/v5/public/instruments", self._instruments)
        self._route("/api/v5/market/books", self._books)
        self._route("/api/v5/market/ticker", self._ticker)
        self._route("/api/v5/account/balance", self._balance)

    @staticmethod
    def _envelope(data: Any, code: str = "0", msg: str = "", status: int = 200) -> Response:
        return _json({"code": code, "data": data, "msg": msg}, status)

    def _instrument(self, symbol: str) -> dict[str, Any]:
        infos = _recorded_market_infos("okx")
        if symbol in infos:
            return infos[symbol]
        base, quote = symbol.split("/")
        template = infos["BTC/AUD"]
        return template | {
            "instId": f"{base}-{quote}",
            "baseCcy": base,
            "quoteCcy": quote,
            "tradeQuoteCcyList": [quote],
            "lotSz": "0.00000001" if base == "BTC" else "0.000001",
            "tickSz": "0.1" if base == "BTC" else "0.01",
        }

    def _instruments(self, request: Request) -> Response:
        if request.args.get("instType") != "SPOT":
            return self._envelope([], "51000", "Parameter instType error")
        return self._envelope([self._instrument(symbol) for symbol in self.symbols])

    def _books(self, request: Request) -> Response:
        if request.args.get("instId") != "BTC-USDT" or "BTC/USDT" not in self.symbols:
            return self._envelope([], "51001", "Instrument ID does not exist")
        return _json(self._recorded("fetch_order_book_BTC_USDT"))

    def _ticker(self, request: Request) -> Response:
        recorded = {
            "BTC-USDT": self._recorded("fetch_ticker_BTC_USDT"),
            "ETH-USDT": self._recorded("fetch_ticker_ETH_USDT"),
        }
        inst_id = request.args.get("instId", "")
        if inst_id not in recorded:
            return self._envelope([], "51001", "Instrument ID does not exist")
        return _json(recorded[inst_id])

    def _balance(self, request: Request) -> Response:
        if request.headers.get("OK-ACCESS-KEY") != self.api_key:
            return self._envelope([], "50111", "Invalid OK-ACCESS-KEY", 401)
        if request.headers.get("OK-ACCESS-PASSPHRASE") != self.password:
            return self._envelope([], "50105", "Your OK-ACCESS-PASSPHRASE is incorrect.", 401)
        timestamp = request.headers.get("OK-ACCESS-TIMESTAMP", "")
        path = request.full_path.rstrip("?")
        digest = hmac.new(
            self.secret.encode(), f"{timestamp}GET{path}".encode(), hashlib.sha256
        ).digest()
        if not hmac.compare_digest(
            request.headers.get("OK-ACCESS-SIGN", ""), base64.b64encode(digest).decode()
        ):
            return self._envelope([], "50113", "Invalid Sign", 401)
        details = [
            {
                "availBal": free,
                "availEq": "",
                "cashBal": str(Decimal(free) + Decimal(locked)),
                "ccy": asset,
                "eq": str(Decimal(free) + Decimal(locked)),
                "frozenBal": locked,
                "ordFrozen": locked,
                "uTime": "1770531570756",
            }
            for asset, (free, locked) in self.balances.items()
        ]
        return self._envelope([{"details": details, "totalEq": "", "uTime": "1770531570756"}])
