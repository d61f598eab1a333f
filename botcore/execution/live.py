"""Live trading through ccxt's unified API: place, cancel and follow real orders.

`open_live_exchange` (in `live_guard.py`) is the only door to a keyed exchange: it refuses unless
`[trading] mode` is
`"live"`, `allow_live` is true and the exchange's keys come from the encrypted keystore, and
`LiveBroker` refuses any exchange that did not come through it.

Idempotence. An order's `id` is its client order id (ccxt `clientOrderId`, Binance
`newClientOrderId`). `place` first looks that id up and sends only when the exchange does not know
it, so placing an order again -- after a crash or a lost answer -- never makes a second one. The
lookup is needed: Binance refuses a reused id ("-2010 Duplicate order sent.") only while the
earlier order is unfilled. That refusal still counts as "already placed" (then fetched), for
orders not yet visible to queries. When a send fails in transit the outcome is unknown: the
broker waits, looks the id up, and resends only if it is absent.

Capabilities (`order_capabilities`, read from ccxt's `exchange.features` and `exchange.has`); on
Binance spot with ccxt 4.5:

| our type        | Binance spot | sent as / why                                                |
|-----------------|--------------|--------------------------------------------------------------|
| `market`        | native       | MARKET                                                       |
| `limit`         | native       | LIMIT GTC                                                    |
| `take_profit`   | native       | LIMIT GTC resting at the target price                        |
| `stop_loss`     | native       | STOP_LOSS_LIMIT via ccxt `stopLossPrice`; limit = `price`,   |
|                 |              | else the stop widened by `stop_limit_buffer_pct`             |
| `iceberg`       | native       | LIMIT with `icebergQty` (ccxt `icebergAmount`)               |
| `trailing_stop` | emulated     | ccxt lists no standard spot trailing stop (Binance's         |
|                 |              | `trailingDelta` differs); ATR trails have no exchange form   |
| `oco`           | emulated     | ccxt has no unified OCO order                                |
| `twap`          | emulated     | no exchange order type; the engine sends market slices       |

Emulated types are run by the engine, which sends native child orders; `place` refuses them.

Amounts (truncated) and prices go through ccxt's `amount_to_precision`/`price_to_precision`;
the market's minimum amount and notional are checked before anything is sent. Orders failing
them, or refused by the exchange, come back `rejected` with the reason. An `Order`'s fee is in
the quote currency (base-asset fees valued at the fill price); BNB fees are only on its `Fill`s.

Restarts: `reconcile` looks every known unfinished order up by client id. One the exchange never
received is marked rejected, not resent: the signal behind it may be hours old, so deciding again
is the engine's job. One it acknowledged but no longer knows is marked canceled (Binance forgets
canceled orders without fills). ccxt is imported lazily, as in `botcore/data/exchanges.py`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from botcore.data.exchanges import (
    DownloadError,
    RetryPolicy,
    call_with_retry,
)
from botcore.data.market_rules import MarketRules, rules_from_ccxt
from botcore.execution.live_guard import (
    LiveGuardError,
    LiveTradingError,
    guarded,
    open_live_exchange,
    required_credentials,
)
from botcore.execution.orders import Fill, Order, OrderStatus, OrderType, Side

__all__ = [
    "Balance",
    "Capability",
    "LiveBroker",
    "LiveGuardError",
    "LiveTradingError",
    "OrderUpdate",
    "open_live_exchange",
    "order_capabilities",
    "required_credentials",
]

_STATUS = {
    "open": OrderStatus.OPEN,
    "canceling": OrderStatus.OPEN,
    "closed": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "expired": OrderStatus.CANCELED,
    "rejected": OrderStatus.REJECTED,
}


@dataclass(frozen=True)
class Capability:
    """How one of our order types reaches an exchange.

    Attributes:
        order_type: Our order type.
        native: True when the exchange runs it; False when the engine emulates it.
        how: What is sent, or why the engine emulates it.
    """

    order_type: OrderType
    native: bool
    how: str


@dataclass(frozen=True)
class Balance:
    """One asset of the exchange account (`free + used = total`, in units of the asset)."""

    asset: str
    free: Decimal
    used: Decimal
    total: Decimal


@dataclass(frozen=True)
class OrderUpdate:
    """An order as the exchange now reports it, and its fills not seen before."""

    order: Order
    fills: tuple[Fill, ...] = ()


def _dec(value: Any) -> Decimal | None:
    # ccxt hands out floats; str() gives their shortest exact decimal form (0.1, not 0.1000…01).
    return None if value is None else Decimal(str(value))


_NATIVE_HOW = {
    OrderType.MARKET: "market order",
    OrderType.LIMIT: "limit order, good till canceled",
    OrderType.TAKE_PROFIT: "limit order resting at the target price",
    OrderType.STOP_LOSS: "stop-limit via ccxt stopLossPrice (STOP_LOSS_LIMIT on Binance spot)",
    OrderType.ICEBERG: "limit order showing a slice (ccxt icebergAmount)",
}
_EMULATED_WHY = {
    OrderType.TRAILING_STOP: "ATR trails have no exchange form and percentage trails differ "
    "between exchanges (ccxt features.trailing)",
    OrderType.OCO: "ccxt has no unified OCO order",
    OrderType.TWAP: "no exchange has it; the engine sends market slices",
}


def order_capabilities(exchange: Any, market_type: str = "spot") -> dict[OrderType, Capability]:
    """Which of our order types `exchange` runs natively (per ccxt), which the engine emulates."""
    create = ((exchange.features or {}).get(market_type) or {}).get("createOrder") or {}
    has = exchange.has
    native = {
        OrderType.MARKET: has.get("createMarketOrder", True),
        OrderType.LIMIT: has.get("createLimitOrder", True),
        OrderType.TAKE_PROFIT: has.get("createLimitOrder", True),
        OrderType.STOP_LOSS: create.get("stopLossPrice") or create.get("triggerPrice"),
        OrderType.ICEBERG: create.get("icebergAmount"),
    }
    return {
        kind: Capability(kind, True, _NATIVE_HOW[kind])
        if native.get(kind)
        else Capability(
            kind, False, "emulated: " + _EMULATED_WHY.get(kind, "ccxt lists no such order here")
        )
        for kind in OrderType
    }


def _exchange_message(exc: Exception, exchange_id: str) -> str:
    """The exchange's own words from a ccxt error (`binance {"code":-2010,"msg":"..."}`)."""
    text = str(exc)
    if not text.startswith(exchange_id + " "):
        return text
    rest = text[len(exchange_id) + 1 :]
    try:
        msg = json.loads(rest).get("msg")
    except (ValueError, AttributeError):
        return rest  # ccxt matched the message itself: "binance Account has insufficient..."
    return str(msg) if msg else rest


def _is_duplicate(ccxt: Any, exc: Exception) -> bool:
    if isinstance(exc, ccxt.DuplicateOrderId):
        return True
    return isinstance(exc, ccxt.InvalidOrder) and "duplicate order" in str(exc).lower()


class LiveBroker:
    """Orders on a real exchange through ccxt, as immutable `Order`s and `Fill`s.

    Args:
        exchange: A ccxt exchange from `open_live_exchange`; its markets are loaded here.
        rules: Minimum amount and notional per symbol; by default ccxt's market limits.
        clock: Current UTC time in ms, for updates the exchange does not timestamp.
        retry: Attempts and backoff for lookups and for sends whose outcome is unknown.
        sleep: Waits the given seconds (injected so tests do not wait).
        stop_limit_buffer_pct: How far beyond the stop a stop-loss's limit sits when the order
            has no `price`, in percent: wide enough to fill like the market stop it stands for.

    Raises:
        LiveGuardError: the exchange did not come from `open_live_exchange`.
        LiveTradingError: the markets could not be loaded.
    """

    def __init__(
        self,
        exchange: Any,
        rules: Mapping[str, MarketRules] | None = None,
        *,
        clock: Callable[[], int] | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        stop_limit_buffer_pct: Decimal = Decimal(1),
    ) -> None:
        import ccxt  # lazy: see the module docstring

        if not guarded(exchange):
            raise LiveGuardError(
                "a live broker only accepts an exchange opened by open_live_exchange, which "
                "checks the live switches and takes the keys from the keystore"
            )
        self._ccxt = ccxt
        self._exchange = exchange
        self._rules = dict(rules or {})
        self._clock = clock or (lambda: int(time.time() * 1000))
        self._retry = retry or RetryPolicy(attempts=3, base_delay_s=1.0, max_delay_s=10.0)
        self._sleep = sleep
        self._buffer = stop_limit_buffer_pct / 100
        self._read(exchange.load_markets)
        self.capabilities = order_capabilities(exchange)

    @property
    def exchange_id(self) -> str:
        """The ccxt id of the exchange traded on."""
        return str(self._exchange.id)

    def close(self) -> None:
        """Release the exchange's HTTP session."""
        self._exchange.close()

    # -- orders ----------------------------------------------------------------------------

    def place(self, order: Order, *, last_price: Decimal | None = None) -> Order:
        """Send a new order, or find it when an earlier attempt already reached the exchange.

        Args:
            order: A `new` order; its `id` becomes the exchange's client order id.
            last_price: The latest market price, used to check a market order's minimum
                notional (unchecked without it; the exchange still checks).

        Returns:
            The order as the exchange has it (`open`, `filled`...; amount and prices at the
            exchange's precision), or `rejected` with the reason when a minimum or the exchange
            refused it. Fills: `fetch`.

        Raises:
            LiveTradingError: the type is emulated, the order is not new, the exchange is
                unreachable (the order's state is then unknown until `reconcile`), or the keys
                were refused.
        """
        capability = self.capabilities[order.type]
        if not capability.native:
            raise LiveTradingError(
                f"{order.type} orders are not native on {self.exchange_id} ({capability.how}); "
                "the engine runs them and places their child orders"
            )
        if order.status is not OrderStatus.NEW:
            raise LiveTradingError(
                f"order {order.id} is {order.status}; only new orders are placed"
            )
        try:
            prepared, args = self._prepare(order)
        except self._ccxt.BaseError as exc:
            return self._rejected(order, self._words(exc))
        problem = self._below_minimum(prepared, last_price)
        if problem:
            return self._rejected(prepared, problem)
        raw = self._lookup(prepared)
        if raw is None:
            try:
                raw = self._send(prepared, args)
            except self._ccxt.ExchangeError as exc:  # a refusal: filters, balance, bad type
                return self._rejected(prepared, self._words(exc))
        return self._apply(prepared, raw)

    def cancel(self, order: Order) -> Order:
        """Cancel a working order; an order that finished first comes back as it finished.

        Raises:
            LiveTradingError: the exchange does not know the order, or cannot be reached.
        """
        try:
            raw = self._read(
                lambda: self._exchange.cancel_order(
                    order.exchange_order_id or order.id, order.symbol, {"clientOrderId": order.id}
                )
            )
        except LiveTradingError as exc:
            if not isinstance(exc.__cause__, self._ccxt.OrderNotFound):
                raise
            raw = self._lookup(order)  # filled or canceled before our cancel arrived
            if raw is None:
                raise LiveTradingError(f"{self.exchange_id} has no order {order.id}") from None
        return self._apply(order, raw)

    def fetch(self, order: Order, known_fill_ids: Collection[str] = ()) -> OrderUpdate:
        """The order's current state and its fills not in `known_fill_ids`.

        Fill ids are derived from the exchange's trade ids (`binance:BTCUSDT:4987110001`), so
        fetching twice yields the same fills.

        Raises:
            LiveTradingError: the exchange does not know the order, or cannot be reached.
        """
        raw = self._lookup(order)
        if raw is None:
            raise LiveTradingError(f"{self.exchange_id} has no order {order.id}")
        return self._update(order, raw, known_fill_ids)

    def open_orders(self, symbol: str) -> list[Order]:
        """Every order working on `symbol`, ours or not (`id` is the exchange's client id)."""
        raws = self._read(lambda: self._exchange.fetch_open_orders(symbol))
        return [self._foreign(raw) for raw in raws]

    def balances(self) -> dict[str, Balance]:
        """Assets with a non-zero total, by currency code."""
        raw = self._read(self._exchange.fetch_balance)
        found: dict[str, Balance] = {}
        for asset, total in (raw.get("total") or {}).items():
            if total:
                found[asset] = Balance(
                    asset=asset,
                    free=_dec(raw["free"].get(asset)) or Decimal(0),
                    used=_dec(raw["used"].get(asset)) or Decimal(0),
                    total=Decimal(str(total)),
                )
        return found

    def reconcile(
        self, known_open_orders: Iterable[Order], known_fill_ids: Collection[str] = ()
    ) -> list[OrderUpdate]:
        """After a restart: what became of the orders we believed unfinished.

        Each unfinished order is looked up by client id. Found: its current state and new fills.
        Not found: `rejected` if the exchange never acknowledged it (it is not resent; the
        engine decides again), `canceled` if it did (Binance forgets canceled orders that had
        no fills). Orders whose state did not change are left out.

        Raises:
            LiveTradingError: the exchange cannot be reached.
        """
        changed: list[OrderUpdate] = []
        for order in known_open_orders:
            if order.status.final:
                continue
            raw = self._lookup(order)
            if raw is not None:
                update = self._update(order, raw, known_fill_ids)
                if update.order != order or update.fills:
                    changed.append(update)
            elif order.exchange_order_id is None:
                reason = f"never reached {self.exchange_id}; not resent after the restart"
                changed.append(OrderUpdate(self._rejected(order, reason)))
            else:
                gone = replace(
                    order,
                    status=OrderStatus.CANCELED,
                    updated_ms=self._clock(),
                    reject_reason=f"{self.exchange_id} no longer knows this order",
                )
                changed.append(OrderUpdate(gone))
        return changed

    # -- internals -------------------------------------------------------------------------

    def _prepare(self, order: Order) -> tuple[Order, tuple[Any, ...]]:
        """The order at the exchange's precision, and the create_order arguments for it."""
        ex, symbol = self._exchange, order.symbol
        amount = Decimal(ex.amount_to_precision(symbol, str(order.amount)))
        params: dict[str, Any] = {"clientOrderId": order.id}
        price: Decimal | None = None
        kind = "limit"
        stop: Decimal | None = None
        if order.type is OrderType.MARKET:
            kind = "market"
        elif order.type is OrderType.STOP_LOSS:
            if order.stop_price is None:
                raise LiveTradingError(f"stop-loss order {order.id} has no stop_price")
            stop = Decimal(ex.price_to_precision(symbol, str(order.stop_price)))
            widen = -self._buffer if order.side is Side.SELL else self._buffer
            price = order.price if order.price is not None else stop * (1 + widen)
            params["stopLossPrice"] = str(stop)
        else:
            price = order.price
            if price is None:
                raise LiveTradingError(f"{order.type} order {order.id} has no price")
        if price is not None:
            price = Decimal(ex.price_to_precision(symbol, str(price)))
        visible = order.visible_amount
        if order.type is OrderType.ICEBERG:
            if visible is None:
                raise LiveTradingError(f"iceberg order {order.id} has no visible_amount")
            visible = Decimal(ex.amount_to_precision(symbol, str(visible)))
            params["icebergAmount"] = str(visible)
        prepared = replace(
            order,
            amount=amount,
            price=price,
            stop_price=stop if stop is not None else order.stop_price,
            visible_amount=visible,
            exchange=self.exchange_id,
        )
        price_arg = float(price) if price is not None else None
        args = (symbol, kind, order.side.value, float(amount), price_arg, params)
        return prepared, args

    def rules(self, symbol: str) -> MarketRules:
        """The market's amount step and minimums (given, or ccxt's market limits)."""
        return self._rules.get(symbol) or rules_from_ccxt(
            self._exchange.market(symbol), self._exchange.precisionMode
        )

    def smallest_amount(self, symbol: str) -> Decimal:
        """The least amount the exchange trades: its amount step or minimum, the larger."""
        rules = self.rules(symbol)
        return Decimal(str(max(rules.amount_step, rules.min_amount)))

    def _below_minimum(self, order: Order, last_price: Decimal | None) -> str:
        """Why the order is under the market's minimums, or '' when it is not."""
        rules = self.rules(order.symbol)
        min_amount = Decimal(str(rules.min_amount))
        if order.amount <= 0 or order.amount < min_amount:
            return (
                f"amount {order.amount} is below {order.symbol}'s minimum of {min_amount} "
                "(after rounding to the exchange's precision)"
            )
        price = order.price if order.price is not None else last_price
        min_notional = Decimal(str(rules.min_notional))
        if price is not None and order.amount * price < min_notional:
            return (
                f"order value {order.amount * price} is below {order.symbol}'s minimum of "
                f"{min_notional}"
            )
        return ""

    def _send(self, order: Order, args: tuple[Any, ...]) -> Any:
        """create_order; after a lost answer or a duplicate refusal, find the order instead."""
        failures = 0
        while True:
            try:
                return self._exchange.create_order(*args)
            except self._ccxt.OperationFailed as exc:
                problem: Exception = exc  # timeout, 5xx, dropped connection: outcome unknown
            except self._ccxt.InvalidOrder as exc:
                if not _is_duplicate(self._ccxt, exc):
                    raise
                problem = exc
            except self._ccxt.AuthenticationError as exc:
                raise LiveTradingError(
                    f"{self.exchange_id} refused the API keys: {self._words(exc)}"
                ) from exc
            failures += 1
            if failures >= self._retry.attempts:
                raise LiveTradingError(
                    f"{self.exchange_id} did not confirm order {order.id} after {failures} "
                    f"attempt(s) ({self._words(problem)}); its state is unknown until "
                    "reconcile looks it up"
                ) from problem
            # Binance's order queries lag fresh orders a little: wait before looking.
            self._sleep(self._retry.delay_s(failures))
            found = self._lookup(order)
            if found is not None:
                return found

    def _lookup(self, order: Order) -> Any:
        """The exchange's record of the order by client id, or None when it has none."""

        def request() -> Any:
            try:
                return self._exchange.fetch_order(
                    order.exchange_order_id or order.id, order.symbol, {"clientOrderId": order.id}
                )
            except self._ccxt.OrderNotFound:
                return None

        return self._read(request)

    def _read(self, request: Callable[[], Any]) -> Any:
        try:
            return call_with_retry(request, self._exchange, self._retry, sleep=self._sleep)
        except DownloadError as exc:
            raise LiveTradingError(str(exc)) from exc.__cause__

    def _apply(self, order: Order, raw: Mapping[str, Any]) -> Order:
        """`order` updated with the exchange's status, fill progress and ids."""
        filled = _dec(raw.get("filled")) or Decimal(0)
        status = _STATUS.get(str(raw.get("status")))
        if status is None:
            raise LiveTradingError(
                f"{self.exchange_id} reported a status tradechat does not know for order "
                f"{order.id}: {raw.get('status')!r}"
            )
        if status is OrderStatus.OPEN and filled > 0:
            status = OrderStatus.PARTIALLY_FILLED
        trades = raw.get("trades") or []
        fee = self._quote_fee(order.symbol, trades) if trades else order.fee
        return replace(
            order,
            status=status,
            filled=filled,
            average_price=_dec(raw.get("average")) if filled > 0 else None,
            fee=fee,
            exchange=self.exchange_id,
            exchange_order_id=str(raw["id"]) if raw.get("id") is not None else None,
            updated_ms=int(raw.get("lastUpdateTimestamp") or raw.get("timestamp") or self._clock()),
        )

    def _update(
        self, order: Order, raw: Mapping[str, Any], known_fill_ids: Collection[str]
    ) -> OrderUpdate:
        updated = self._apply(order, raw)
        if updated.filled <= 0:
            return OrderUpdate(updated)
        trades = self._read(
            lambda: self._exchange.fetch_order_trades(updated.exchange_order_id, order.symbol)
        )
        fills = [self._fill(updated, trade) for trade in trades]
        updated = replace(updated, fee=self._quote_fee(order.symbol, trades))
        return OrderUpdate(updated, tuple(f for f in fills if f.id not in known_fill_ids))

    def _fill(self, order: Order, trade: Mapping[str, Any]) -> Fill:
        fee = trade.get("fee") or {}
        market_id = self._exchange.market(order.symbol)["id"]
        return Fill(
            id=f"{self.exchange_id}:{market_id}:{trade['id']}",
            order_id=order.id,
            symbol=order.symbol,
            side=order.side,
            amount=Decimal(str(trade["amount"])),
            price=Decimal(str(trade["price"])),
            fee=_dec(fee.get("cost")) or Decimal(0),
            fee_currency=str(fee.get("currency") or ""),
            timestamp_ms=int(trade.get("timestamp") or self._clock()),
            exchange=self.exchange_id,
        )

    def _quote_fee(self, symbol: str, trades: Iterable[Mapping[str, Any]]) -> Decimal:
        """Fees in the quote currency; base-asset fees valued at their fill's price."""
        market = self._exchange.market(symbol)
        total = Decimal(0)
        for trade in trades:
            fee = trade.get("fee") or {}
            cost = _dec(fee.get("cost")) or Decimal(0)
            if fee.get("currency") == market["quote"]:
                total += cost
            elif fee.get("currency") == market["base"]:
                total += cost * Decimal(str(trade["price"]))
        return total

    def _words(self, exc: Exception) -> str:
        return _exchange_message(exc, self.exchange_id)

    def _rejected(self, order: Order, reason: str) -> Order:
        return replace(
            order,
            status=OrderStatus.REJECTED,
            reject_reason=reason,
            exchange=self.exchange_id,
            updated_ms=self._clock(),
        )

    def _foreign(self, raw: Mapping[str, Any]) -> Order:
        """An exchange order as an `Order`, for orders we may not have placed ourselves."""
        kind = OrderType.MARKET if raw.get("type") == "market" else OrderType.LIMIT
        if raw.get("triggerPrice"):
            kind = OrderType.TAKE_PROFIT if raw.get("takeProfitPrice") else OrderType.STOP_LOSS
        created = int(raw.get("timestamp") or self._clock())
        skeleton = Order(
            id=str(raw.get("clientOrderId") or raw["id"]),
            symbol=str(raw["symbol"]),
            side=Side(raw["side"]),
            type=kind,
            amount=Decimal(str(raw["amount"])),
            status=OrderStatus.NEW,
            created_ms=created,
            updated_ms=created,
            price=_dec(raw.get("price")),
            stop_price=_dec(raw.get("triggerPrice")),
        )
        return self._apply(skeleton, raw)
