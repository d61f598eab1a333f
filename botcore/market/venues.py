"""Several ccxt exchanges in one process: opening them, their markets, and checked symbols.

Every exchange is its own ccxt client with its own markets and fees; calls go through
`call_with_retry`, so a failing exchange becomes a `DownloadError` naming it. ccxt is imported by
`botcore.data.exchanges` inside its functions, never at import time here.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection, Iterable, Mapping
from decimal import Decimal
from typing import Any, TypeVar

from botcore.data.exchanges import RetryPolicy, call_with_retry, create_exchange
from botcore.errors import BotcoreError, ParamError

__all__ = [
    "MarketError",
    "UnknownSymbolError",
    "close_venues",
    "fetch",
    "open_venues",
    "require_symbol",
    "to_decimal",
]

T = TypeVar("T")

#: Market data calls retry a little, then give up: a scan or a spread is stale after seconds.
QUICK_RETRY = RetryPolicy(attempts=3, base_delay_s=0.5, max_delay_s=5.0)


class MarketError(BotcoreError):
    """A multi-exchange market request cannot be served as asked."""


class UnknownSymbolError(MarketError):
    """An exchange does not list the symbol; the message suggests the closest it lists."""


def fetch(exchange: Any, request: Callable[[], T], retry: RetryPolicy = QUICK_RETRY) -> T:
    """`request()` with bounded retries; failures raise `DownloadError` naming the exchange."""
    return call_with_retry(request, exchange, retry)


def require_symbol(exchange: Any, symbol: str) -> dict[str, Any]:
    """The exchange's market for `symbol` (markets must be loaded).

    Raises:
        UnknownSymbolError: the exchange does not list it; up to three close symbols suggested.
    """
    markets: Mapping[str, Any] = exchange.markets or {}
    if symbol in markets:
        market: dict[str, Any] = markets[symbol]
        return market
    close = difflib.get_close_matches(symbol, list(markets), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownSymbolError(f"{exchange.id} does not list {symbol}{hint}")


def open_venues(
    exchange_ids: Iterable[str],
    *,
    api_urls: Mapping[str, str] | None = None,
    sandbox: Collection[str] = (),
    retry: RetryPolicy = QUICK_RETRY,
    prepare: Callable[[str, Any], None] | None = None,
) -> dict[str, Any]:
    """One ccxt client per exchange id, spot markets loaded, in the order given.

    Args:
        exchange_ids: ccxt ids, each at most once.
        api_urls: Exchange id -> base URL replacing that exchange's REST host (a mirror, a
            testnet or a local stand-in); see `create_exchange`.
        sandbox: Ids switched to the exchange's testnet (ccxt `set_sandbox_mode`), unless an
            API URL is given for them, which wins.
        retry: Retries of the market loading.
        prepare: Called with (id, client) after the markets are loaded, e.g. to attach API keys
            (public market loading first keeps ccxt from asking private endpoints for currency
            details a market view does not need).

    Raises:
        ParamError: no ids, an id given twice, or an `api_urls` key that is not among the ids.
        DownloadError: an unknown id (with suggestions), or an exchange failed to load markets.
    """
    ids = list(exchange_ids)
    urls = dict(api_urls or {})
    if not ids:
        raise ParamError("name at least one exchange")
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ParamError(f"exchange(s) named twice: {', '.join(repeated)}")
    stray = sorted(set(urls) - set(ids))
    if stray:
        raise ParamError(f"API URL given for exchange(s) not in use: {', '.join(stray)}")
    opened: dict[str, Any] = {}
    try:
        # Every id is checked (no network) before any exchange is asked for its markets.
        for exchange_id in ids:
            client = create_exchange(exchange_id, api_url=urls.get(exchange_id))
            opened[exchange_id] = client
            if exchange_id in sandbox and exchange_id not in urls:
                if not client.urls.get("test"):
                    raise ParamError(f"ccxt knows no testnet (sandbox) for {exchange_id}")
                client.set_sandbox_mode(True)
        for exchange_id, client in opened.items():
            fetch(client, client.load_markets, retry)
            if prepare is not None:
                prepare(exchange_id, client)
    except BaseException:
        close_venues(opened)
        raise
    return opened


def close_venues(exchanges: Mapping[str, Any]) -> None:
    """Close every client's HTTP session."""
    for client in exchanges.values():
        client.close()


def to_decimal(value: Any) -> Decimal:
    """A ccxt number (float, int or numeric string) as the Decimal it prints as.

    ccxt parses wire strings such as `"69383.05000000"` to floats; the shortest repr of that float
    is the decimal the exchange sent, so `Decimal(str(x))` recovers it exactly.
    """
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ParamError(f"not a number: {value!r}")
    return Decimal(str(value))
