"""A local stand-in for Binance's spot TRADING API (signed endpoints), for ccxt to trade against.

Speaks Binance's wire format on pytest-httpserver, so the real ccxt `binance` client runs unchanged:

- every signed request must carry the API key in `X-MBX-APIKEY` and an HMAC-SHA256 `signature` of
  its parameters made with the matching secret (checked here; a wrong key or secret gets Binance's
  -2015 or -1022), and a `timestamp` inside `recvWindow`;
- `POST /api/v3/order` (LIMIT, MARKET, STOP_LOSS_LIMIT, icebergs) applies the symbol's LOT_SIZE,
  PRICE_FILTER, NOTIONAL and ICEBERG_PARTS filters and the account balance, stores the order under
  its `newClientOrderId`, and refuses a reused id with Binance's -2010 "Duplicate order sent." --
  only while the earlier order is not filled, as Binance documents ("orders with the same
  newClientOrderId can be accepted only when the previous one is filled");
- `GET/DELETE /api/v3/order`, `GET /api/v3/openOrders`, `GET /api/v3/myTrades`,
  `GET /api/v3/account`, `GET /sapi/v1/capital/config/getall` (ccxt loads currencies with it once
  it has keys) and the public `GET /api/v3/exchangeInfo`.

Unknown parameters are refused with -1104 as Binance does. The market moves along a real price
path (closes of recorded candles): market orders fill at the current close, resting limit and
stop-limit orders fill when `advance()` moves the price through them. Commission is Binance's
default 0.1 %, charged in the asset received. Faults: `lose_answers` executes the next order
requests but answers -1007 "execution status unknown" (the client never learns the outcome), and
`query_lag` hides orders from the next queries like Binance's lagging order database.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import itertools
import json
import math
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from tests.fakes.binance_api import spot_symbol

__all__ = ["FakeBinanceTrading", "closes_from_csv"]

_COMMISSION = Decimal("0.001")
_EIGHT = Decimal("0.00000001")
_CLIENT_ID = re.compile(r"^[.A-Z:/a-z0-9_-]{1,36}$")
# (base, quote, tickSize, stepSize) of the symbols served; the filters come from `spot_symbol`.
_SYMBOLS = {
    "BTCUSDT": ("BTC", "USDT", "0.01000000", "0.00001000"),
    "ETHUSDT": ("ETH", "USDT", "0.01000000", "0.00010000"),
}
_MIN_NOTIONAL = Decimal(5)
_ICEBERG_PARTS = 10
_SIGNED = {"timestamp", "recvWindow", "signature"}
_ALLOWED = {
    ("POST", "/api/v3/order"): {
        "symbol", "side", "type", "timeInForce", "quantity", "quoteOrderQty", "price",
        "newClientOrderId", "stopPrice", "trailingDelta", "icebergQty", "newOrderRespType",
        "selfTradePreventionMode", "strategyId", "strategyType",
    },
    ("GET", "/api/v3/order"): {"symbol", "orderId", "origClientOrderId"},
    ("DELETE", "/api/v3/order"): {
        "symbol", "orderId", "origClientOrderId", "newClientOrderId", "cancelRestrictions",
    },
    ("GET", "/api/v3/openOrders"): {"symbol"},
    ("GET", "/api/v3/myTrades"): {
        "symbol", "orderId", "startTime", "endTime", "fromId", "limit",
    },
    ("GET", "/api/v3/account"): {"omitZeroBalances"},
    ("GET", "/sapi/v1/capital/config/getall"): set(),
}  # fmt: skip


def closes_from_csv(path: Path) -> list[Decimal]:
    """The close of every candle in a recorded file (`timestamp,open,high,low,close,volume`)."""
    with gzip.open(path, "rt", newline="") as handle:
        return [Decimal(row["close"]) for row in csv.DictReader(handle)]


def _wire(value: Decimal) -> str:
    return f"{value.quantize(_EIGHT):f}"


def _error(status: int, code: int, msg: str) -> Response:
    return Response(
        json.dumps({"code": code, "msg": msg}),
        status=status,
        content_type="application/json;charset=UTF-8",
    )


def _ok(body: Any) -> Response:
    return Response(json.dumps(body), content_type="application/json;charset=UTF-8")


class _Refusal(Exception):
    """An error answer, raised from deep inside a handler."""

    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(msg)
        self.response = _error(status, code, msg)


def _mandatory(params: dict[str, str], *names: str) -> None:
    for name in names:
        if not params.get(name):
            raise _Refusal(
                400,
                -1102,
                f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
            )


def _filter_failure(name: str) -> _Refusal:
    return _Refusal(400, -1013, f"Filter failure: {name}")


@dataclass
class _Order:
    """One order as the matching engine keeps it (wire names in `wire()`)."""

    order_id: int
    client_id: str
    symbol: str
    side: str
    type: str
    quantity: Decimal
    price: Decimal
    stop_price: Decimal
    iceberg_qty: Decimal
    time_in_force: str | None
    time_ms: int
    status: str = "NEW"
    executed: Decimal = Decimal(0)
    quote_done: Decimal = Decimal(0)
    update_ms: int = 0
    triggered: bool = False

    def wire(self) -> dict[str, Any]:
        return {
            "symbol": self.symbol,
            "orderId": self.order_id,
            "orderListId": -1,
            "clientOrderId": self.client_id,
            "price": _wire(self.price),
            "origQty": _wire(self.quantity),
            "executedQty": _wire(self.executed),
            "cummulativeQuoteQty": _wire(self.quote_done),
            "status": self.status,
            "timeInForce": self.time_in_force or "GTC",
            "type": self.type,
            "side": self.side,
            "stopPrice": _wire(self.stop_price),
            "icebergQty": _wire(self.iceberg_qty),
            "time": self.time_ms,
            "updateTime": self.update_ms or self.time_ms,
            "isWorking": self.type != "STOP_LOSS_LIMIT" or self.triggered,
            "workingTime": self.time_ms,
            "origQuoteOrderQty": "0.00000000",
            "selfTradePreventionMode": "EXPIRE_MAKER",
        }


@dataclass
class FakeBinanceTrading:
    """Binance spot trading on a pytest-httpserver; point ccxt at `api_url` with these keys.

    Attributes:
        server: The running HTTP server (127.0.0.1).
        api_key: The only API key accepted.
        secret: The secret signatures must be made with.
        prices: The price path (real closes); `price` is `prices[cursor]`.
        cursor: Index of the current price in `prices`.
        balances: Free and locked amount per asset.
        lose_answers: The next this-many order requests are executed, then answered -1007.
        query_lag: The next this-many order queries answer -2013 even for existing orders.
        calls: Method and path of every request received, in order.
    """

    server: HTTPServer
    api_key: str
    secret: str
    prices: list[Decimal]
    cursor: int = 0
    balances: dict[str, list[Decimal]] = field(
        default_factory=lambda: {
            "BTC": [Decimal(1), Decimal(0)],
            "USDT": [Decimal(10_000), Decimal(0)],
        }
    )
    lose_answers: int = 0
    query_lag: int = 0
    calls: list[tuple[str, str]] = field(default_factory=list)
    orders: list[_Order] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    _order_ids: itertools.count[int] = field(
        default_factory=lambda: itertools.count(38_104_562_001)
    )
    _trade_ids: Any = field(default_factory=lambda: itertools.count(4_987_110_001))

    def __post_init__(self) -> None:
        self.server.expect_request("/api/v3/exchangeInfo", method="GET").respond_with_handler(
            self._exchange_info
        )
        for method, path in _ALLOWED:
            self.server.expect_request(path, method=method).respond_with_handler(self._private)

    @property
    def api_url(self) -> str:
        """Base URL replacing `https://api.binance.com` (ccxt keeps the `/api/v3` paths)."""
        return self.server.url_for("/").rstrip("/")

    @property
    def price(self) -> Decimal:
        """The current market price."""
        return self.prices[self.cursor]

    def order_calls(self) -> list[tuple[str, str]]:
        """The requests that touched orders (placing, querying, cancelling)."""
        return [call for call in self.calls if call[1] == "/api/v3/order"]

    def orders_with_client_id(self, client_id: str) -> list[_Order]:
        """Every order stored under `client_id`, oldest first."""
        return [o for o in self.orders if o.client_id == client_id]

    def advance(self, steps: int = 1) -> Decimal:
        """Move along the price path, matching resting orders at each step; the new price."""
        for _ in range(steps):
            self.cursor += 1
            for order in self.orders:
                if order.status in ("NEW", "PARTIALLY_FILLED"):
                    self._match_resting(order)
        return self.price

    def fill(self, client_id: str, quantity: Decimal) -> None:
        """Execute part of a resting order at its limit price (a counterparty took it)."""
        order = next(o for o in self.orders_with_client_id(client_id) if o.status != "FILLED")
        self._execute(order, quantity, order.price)

    # -- request handling -------------------------------------------------------------------

    def _exchange_info(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        symbols = [spot_symbol(*spec) for spec in _SYMBOLS.values()]
        return _ok(
            {"timezone": "UTC", "serverTime": _now_ms(), "rateLimits": [], "symbols": symbols}
        )

    def _private(self, request: Request) -> Response:
        self.calls.append((request.method, request.path))
        try:
            params = self._authenticate(request)
            allowed = _ALLOWED[(request.method, request.path)] | _SIGNED
            if set(params) - allowed:
                raise _Refusal(
                    400,
                    -1104,
                    f"Not all sent parameters were read; read '{len(set(params) & allowed)}' "
                    f"parameter(s) but was sent '{len(params)}'.",
                )
            handler = {
                ("POST", "/api/v3/order"): self._new_order,
                ("GET", "/api/v3/order"): self._query_order,
                ("DELETE", "/api/v3/order"): self._cancel_order,
                ("GET", "/api/v3/openOrders"): self._open_orders,
                ("GET", "/api/v3/myTrades"): self._my_trades,
                ("GET", "/api/v3/account"): self._account,
                ("GET", "/sapi/v1/capital/config/getall"): self._coins,
            }[(request.method, request.path)]
            return handler(params)
        except _Refusal as refusal:
            return refusal.response

    def _authenticate(self, request: Request) -> dict[str, str]:
        if request.headers.get("X-MBX-APIKEY") != self.api_key:
            raise _Refusal(401, -2015, "Invalid API-key, IP, or permissions for action.")
        # Binance signs "totalParams": the query string followed by the request body.
        total = request.query_string.decode() + request.get_data(as_text=True)
        payload, sep, signature = total.rpartition("&signature=")
        if not sep:
            raise _Refusal(
                400,
                -1102,
                "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
            )
        expected = hmac.new(self.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise _Refusal(400, -1022, "Signature for this request is not valid.")
        params = dict(parse_qsl(payload, keep_blank_values=True))
        _mandatory(params, "timestamp")
        window = int(params.get("recvWindow", 5000))
        if not -1000 <= _now_ms() - int(params["timestamp"]) <= window:
            raise _Refusal(400, -1021, "Timestamp for this request is outside of the recvWindow.")
        return params

    def _symbol(self, params: dict[str, str]) -> str:
        _mandatory(params, "symbol")
        if params["symbol"] not in _SYMBOLS:
            raise _Refusal(400, -1121, "Invalid symbol.")
        return params["symbol"]

    def _find(self, params: dict[str, str]) -> _Order | None:
        symbol = self._symbol(params)
        if "orderId" not in params and "origClientOrderId" not in params:
            raise _Refusal(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        for order in reversed(self.orders):
            if order.symbol != symbol:
                continue
            if "orderId" in params and str(order.order_id) == params["orderId"]:
                return order
            if params.get("origClientOrderId") == order.client_id:
                return order
        return None

    def _new_order(self, params: dict[str, str]) -> Response:
        symbol = self._symbol(params)
        _mandatory(params, "side", "type")
        kind, side = params["type"], params["side"]
        if kind not in ("LIMIT", "MARKET", "STOP_LOSS_LIMIT"):
            raise _Refusal(400, -1116, "Invalid orderType.")
        if side not in ("BUY", "SELL"):
            raise _Refusal(400, -1117, "Invalid side.")
        _mandatory(params, "quantity")
        if kind != "MARKET":
            _mandatory(params, "timeInForce", "price")
        if kind == "STOP_LOSS_LIMIT":
            _mandatory(params, "stopPrice")
        client_id = params.get("newClientOrderId") or f"web_{next(self._order_ids)}"
        if not _CLIENT_ID.match(client_id):
            raise _Refusal(
                400,
                -1100,
                "Illegal characters found in parameter 'newClientOrderId'; legal range is "
                "'^[\\.A-Z\\:/a-z0-9_-]{1,36}$'.",
            )
        order = _Order(
            order_id=next(self._order_ids),
            client_id=client_id,
            symbol=symbol,
            side=side,
            type=kind,
            quantity=Decimal(params["quantity"]),
            price=Decimal(params.get("price", "0")),
            stop_price=Decimal(params.get("stopPrice", "0")),
            iceberg_qty=Decimal(params.get("icebergQty", "0")),
            time_in_force=params.get("timeInForce"),
            time_ms=_now_ms(),
        )
        self._check_filters(order)
        if any(o.status != "FILLED" for o in self.orders_with_client_id(client_id)):
            raise _Refusal(400, -2010, "Duplicate order sent.")
        if order.type == "STOP_LOSS_LIMIT" and (
            (side == "SELL" and order.stop_price >= self.price)
            or (side == "BUY" and order.stop_price <= self.price)
        ):
            raise _Refusal(400, -2010, "Stop price would trigger immediately.")
        self._lock(order)
        self.orders.append(order)
        fills_before = len(self.trades)
        if kind == "MARKET":
            self._execute(order, order.quantity, self.price)
        elif kind == "LIMIT":
            self._match_resting(order, fresh=True)
        if self.lose_answers > 0:
            self.lose_answers -= 1
            return _error(
                503,
                -1007,
                "Timeout waiting for response from backend server. Send status unknown; "
                "execution status unknown.",
            )
        body = order.wire()
        body["transactTime"] = body.pop("time")
        body["fills"] = [
            {
                "price": t["price"],
                "qty": t["qty"],
                "commission": t["commission"],
                "commissionAsset": t["commissionAsset"],
                "tradeId": t["id"],
            }
            for t in self.trades[fills_before:]
        ]
        return _ok(body)

    def _check_filters(self, order: _Order) -> None:
        _, _, tick_text, step_text = _SYMBOLS[order.symbol]
        tick, step = Decimal(tick_text), Decimal(step_text)
        if order.quantity < step or order.quantity % step:
            raise _filter_failure("LOT_SIZE")
        for price in (order.price, order.stop_price):
            if price and price % tick:
                raise _filter_failure("PRICE_FILTER")
        if order.quantity * (order.price or self.price) < _MIN_NOTIONAL:
            raise _filter_failure("NOTIONAL")
        if order.iceberg_qty:
            if order.iceberg_qty % step or order.type == "MARKET":
                raise _filter_failure("LOT_SIZE")
            if math.ceil(order.quantity / order.iceberg_qty) > _ICEBERG_PARTS:
                raise _filter_failure("ICEBERG_PARTS")

    def _assets(self, symbol: str) -> tuple[str, str]:
        base, quote, _, _ = _SYMBOLS[symbol]
        return base, quote

    def _lock(self, order: _Order) -> None:
        base, quote = self._assets(order.symbol)
        asset, need = (
            (quote, order.quantity * (order.price or self.price))
            if order.side == "BUY"
            else (base, order.quantity)
        )
        free, locked = self.balances.setdefault(asset, [Decimal(0), Decimal(0)])
        if free < need:
            raise _Refusal(400, -2010, "Account has insufficient balance for requested action.")
        self.balances[asset] = [free - need, locked + need]

    def _execute(self, order: _Order, quantity: Decimal, price: Decimal) -> None:
        base, quote = self._assets(order.symbol)
        quantity = min(quantity, order.quantity - order.executed)
        cost = quantity * price
        if order.side == "BUY":
            reserved = quantity * (order.price or self.price)
            self.balances[quote][1] -= reserved
            self.balances[quote][0] += reserved - cost  # a better price gives change back
            # Binance charges (and reports) commission at the asset's 8 decimals
            commission, asset = (quantity * _COMMISSION).quantize(_EIGHT), base
            self.balances.setdefault(base, [Decimal(0), Decimal(0)])[0] += quantity - commission
        else:
            self.balances[base][1] -= quantity
            commission, asset = (cost * _COMMISSION).quantize(_EIGHT), quote
            self.balances.setdefault(quote, [Decimal(0), Decimal(0)])[0] += cost - commission
        order.executed += quantity
        order.quote_done += cost
        order.update_ms = _now_ms()
        order.status = "FILLED" if order.executed == order.quantity else "PARTIALLY_FILLED"
        self.trades.append(
            {
                "symbol": order.symbol,
                "id": next(self._trade_ids),
                "orderId": order.order_id,
                "orderListId": -1,
                "price": _wire(price),
                "qty": _wire(quantity),
                "quoteQty": _wire(cost),
                "commission": _wire(commission),
                "commissionAsset": asset,
                "time": order.update_ms,
                "isBuyer": order.side == "BUY",
                "isMaker": order.type != "MARKET",
                "isBestMatch": True,
            }
        )

    def _match_resting(self, order: _Order, fresh: bool = False) -> None:
        """Fill a working order the current price has reached.

        An order that takes liquidity (a marketable limit on arrival, a stop-limit as it
        triggers) fills at the market price; one resting in the book fills at its limit.
        """
        price = self.price
        taker = fresh
        if order.type == "STOP_LOSS_LIMIT" and not order.triggered:
            hit = price <= order.stop_price if order.side == "SELL" else price >= order.stop_price
            if not hit:
                return
            order.triggered = taker = True
        reached = price <= order.price if order.side == "BUY" else price >= order.price
        if reached:
            self._execute(order, order.quantity - order.executed, price if taker else order.price)

    def _query_order(self, params: dict[str, str]) -> Response:
        order = self._find(params)
        if self.query_lag > 0:
            self.query_lag -= 1
            order = None
        if order is None:
            raise _Refusal(400, -2013, "Order does not exist.")
        return _ok(order.wire())

    def _cancel_order(self, params: dict[str, str]) -> Response:
        order = self._find(params)
        if order is None or order.status not in ("NEW", "PARTIALLY_FILLED"):
            raise _Refusal(400, -2011, "Unknown order sent.")
        base, quote = self._assets(order.symbol)
        remaining = order.quantity - order.executed
        asset, release = (
            (quote, remaining * (order.price or self.price))
            if order.side == "BUY"
            else (base, remaining)
        )
        self.balances[asset][0] += release
        self.balances[asset][1] -= release
        order.status = "CANCELED"
        order.update_ms = _now_ms()
        body = order.wire()
        body["origClientOrderId"] = order.client_id
        body["clientOrderId"] = params.get("newClientOrderId") or f"cancel{order.order_id}"
        body["transactTime"] = order.update_ms
        return _ok(body)

    def _open_orders(self, params: dict[str, str]) -> Response:
        symbol = self._symbol(params) if "symbol" in params else None
        return _ok(
            [
                o.wire()
                for o in self.orders
                if o.status in ("NEW", "PARTIALLY_FILLED") and symbol in (None, o.symbol)
            ]
        )

    def _my_trades(self, params: dict[str, str]) -> Response:
        symbol = self._symbol(params)
        wanted = params.get("orderId")
        return _ok(
            [
                t
                for t in self.trades
                if t["symbol"] == symbol and (wanted is None or str(t["orderId"]) == wanted)
            ]
        )

    def _account(self, params: dict[str, str]) -> Response:
        return _ok(
            {
                "makerCommission": 10,
                "takerCommission": 10,
                "buyerCommission": 0,
                "sellerCommission": 0,
                "commissionRates": {
                    "maker": "0.00100000",
                    "taker": "0.00100000",
                    "buyer": "0.00000000",
                    "seller": "0.00000000",
                },
                "canTrade": True,
                "canWithdraw": True,
                "canDeposit": True,
                "brokered": False,
                "requireSelfTradePrevention": False,
                "preventSor": False,
                "updateTime": _now_ms(),
                "accountType": "SPOT",
                "balances": [
                    {"asset": asset, "free": _wire(free), "locked": _wire(locked)}
                    for asset, (free, locked) in sorted(self.balances.items())
                ],
                "permissions": ["SPOT"],
                "uid": 354937868,
            }
        )

    def _coins(self, params: dict[str, str]) -> Response:
        def coin(code: str, name: str, network: str, multiple: str) -> dict[str, Any]:
            free, locked = self.balances.get(code, [Decimal(0), Decimal(0)])
            return {
                "coin": code,
                "depositAllEnable": True,
                "withdrawAllEnable": True,
                "name": name,
                "free": _wire(free),
                "locked": _wire(locked),
                "freeze": "0",
                "withdrawing": "0",
                "ipoing": "0",
                "ipoable": "0",
                "storage": "0",
                "isLegalMoney": False,
                "trading": True,
                "networkList": [
                    {
                        "network": network,
                        "coin": code,
                        "withdrawIntegerMultiple": multiple,
                        "isDefault": True,
                        "depositEnable": True,
                        "withdrawEnable": True,
                        "name": name,
                        "withdrawFee": "0.0000077" if code == "BTC" else "1",
                        "withdrawMin": "0.0001" if code == "BTC" else "10",
                        "withdrawMax": "10000",
                        "minConfirm": 1,
                        "unLockConfirm": 2,
                        "busy": False,
                    }
                ],
            }

        return _ok(
            [
                coin("BTC", "Bitcoin", "BTC", "0.00000001"),
                coin("ETH", "Ethereum", "ETH", "0.00000001"),
                coin("USDT", "TetherUS", "ETH", "0.000001"),
            ]
        )


def _now_ms() -> int:
    return int(time.time() * 1000)
