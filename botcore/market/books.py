"""Order books of several exchanges: their levels as Decimals, walking them, fetching them.

A `VenueBook` is one exchange's book for one symbol together with what trading there costs (the
taker fee) and the market's amount step. `fetch_books` fills them through ccxt.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from botcore.data.exchanges import RetryPolicy
from botcore.errors import ParamError
from botcore.market.venues import QUICK_RETRY, MarketError, fetch, require_symbol, to_decimal

__all__ = ["Level", "VenueBook", "fetch_books", "notional", "walk_levels"]

_ZERO = Decimal(0)


@dataclass(frozen=True)
class Level:
    """One price level of a book (or the part of it a walk takes): price and base amount."""

    price: Decimal
    amount: Decimal


def _levels(raw: Sequence[Sequence[Any]], descending: bool) -> tuple[Level, ...]:
    levels = [Level(to_decimal(row[0]), to_decimal(row[1])) for row in raw]
    if any(level.price <= 0 or level.amount < 0 for level in levels):
        raise MarketError("an order book has a non-positive price or a negative amount")
    kept = [level for level in levels if level.amount > 0]
    return tuple(sorted(kept, key=lambda level: level.price, reverse=descending))


@dataclass(frozen=True)
class VenueBook:
    """One exchange's order book for a symbol with the costs of trading it there.

    Attributes:
        exchange: ccxt id.
        symbol: Unified symbol, e.g. `BTC/USDT`.
        bids: Buy orders, best (highest) first.
        asks: Sell orders, best (lowest) first.
        taker_fee: Taker fee as a fraction of the notional (0.001 = 0.1 %).
        amount_step: The market's amount step (None: no rounding).
        timestamp_ms: When the exchange says the book was taken (UTC ms); None if it did not.
        received_ms: When the book arrived, by the client's clock (UTC ms), if known.
    """

    exchange: str
    symbol: str
    bids: tuple[Level, ...]
    asks: tuple[Level, ...]
    taker_fee: Decimal
    amount_step: Decimal | None = None
    timestamp_ms: int | None = None
    received_ms: int | None = None

    def __post_init__(self) -> None:
        if not _ZERO <= self.taker_fee < Decimal("0.1"):
            raise ParamError(f"taker fee of {self.exchange} must be in [0, 0.1), a fraction")
        if self.bids and self.asks and self.bids[0].price >= self.asks[0].price:
            raise MarketError(
                f"the {self.symbol} book of {self.exchange} is crossed (best bid "
                f"{self.bids[0].price} >= best ask {self.asks[0].price}); it cannot be current"
            )

    @classmethod
    def from_ccxt(
        cls,
        exchange: str,
        book: Mapping[str, Any],
        taker_fee: Decimal,
        amount_step: Decimal | None = None,
        received_ms: int | None = None,
    ) -> VenueBook:
        """From ccxt's unified order book (`bids`/`asks` as [price, amount, ...] rows)."""
        return cls(
            exchange=exchange,
            symbol=str(book["symbol"]),
            bids=_levels(book.get("bids") or [], descending=True),
            asks=_levels(book.get("asks") or [], descending=False),
            taker_fee=taker_fee,
            amount_step=amount_step,
            timestamp_ms=book.get("timestamp"),
            received_ms=received_ms,
        )


def walk_levels(levels: Sequence[Level], amount: Decimal) -> tuple[Level, ...]:
    """The parts of `levels` (best first) that fill `amount`.

    Raises:
        ParamError: the levels hold less than `amount`.
    """
    taken: list[Level] = []
    left = amount
    for level in levels:
        if left <= 0:
            break
        part = min(level.amount, left)
        taken.append(Level(level.price, part))
        left -= part
    if left > 0:
        raise ParamError(f"the book holds {amount - left} of the {amount} asked for")
    return tuple(taken)


def notional(levels: Sequence[Level]) -> Decimal:
    """Σ price × amount: the quote value of `levels`."""
    return sum((level.price * level.amount for level in levels), _ZERO)


def _amount_step(exchange: Any, market: Mapping[str, Any]) -> Decimal | None:
    from ccxt.base.decimal_to_precision import TICK_SIZE  # lazy: ccxt is slow to import

    precision = (market.get("precision") or {}).get("amount")
    if precision is None:
        return None
    if exchange.precisionMode == TICK_SIZE:
        return to_decimal(precision)
    return Decimal(1).scaleb(-int(precision))  # decimal places: 8 -> 0.00000001


def _taker_fee(exchange: Any, market: Mapping[str, Any]) -> Decimal:
    fee = market.get("taker")
    if fee is None:
        fee = ((exchange.fees or {}).get("trading") or {}).get("taker")
    if fee is None:
        raise MarketError(
            f"ccxt knows no taker fee for {market.get('symbol')} on {exchange.id}; pass one"
        )
    return to_decimal(fee)


def fetch_books(
    exchanges: Mapping[str, Any],
    symbol: str,
    *,
    limit: int | None = None,
    taker_fees: Mapping[str, Decimal] | None = None,
    retry: RetryPolicy = QUICK_RETRY,
) -> tuple[VenueBook, ...]:
    """Each exchange's order book for `symbol` through ccxt, with its taker fee and amount step.

    The fee is, in order: `taker_fees[id]`, the market's `taker` as ccxt loaded it, the
    exchange's default trading fee. Each book keeps the exchange's timestamp (Binance sends
    none) and the client's clock when it arrived.

    Args:
        exchanges: ccxt id -> client (e.g. from `open_venues`), markets loaded or loadable.
        symbol: Unified symbol such as `BTC/USDT`.
        limit: Levels per side to ask for (None: the exchange's default).
        taker_fees: Fee overrides per exchange id, fractions (your VIP tier, a discount).
        retry: Retries per request.

    Raises:
        UnknownSymbolError: an exchange does not list `symbol` (with suggestions).
        ParamError: a fee override for an exchange not in use.
        DownloadError: an exchange kept failing.
    """
    overrides = dict(taker_fees or {})
    stray = sorted(set(overrides) - set(exchanges))
    if stray:
        raise ParamError(f"taker fee given for exchange(s) not in use: {', '.join(stray)}")
    books = []
    for exchange_id, client in exchanges.items():
        fetch(client, client.load_markets, retry)
        market = require_symbol(client, symbol)
        raw = fetch(client, partial(client.fetch_order_book, symbol, limit), retry)
        received = int(client.milliseconds())
        fee = overrides.get(exchange_id)
        books.append(
            VenueBook.from_ccxt(
                exchange_id,
                raw,
                taker_fee=fee if fee is not None else _taker_fee(client, market),
                amount_step=_amount_step(client, market),
                received_ms=received,
            )
        )
    return tuple(books)
