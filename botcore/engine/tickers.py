"""Last traded prices from an exchange's tickers, for the engine's live market source.

A few symbols are asked for one `fetch_ticker` each: exchanges weigh a ticker request without a
symbol heavily (Binance counts 80 against 2 for one symbol, and ccxt's rate limiter waits
accordingly, 4 s at its 50 ms pace). From `BATCH_FROM` symbols on, one `fetch_tickers` request
covers them all where the exchange offers it (ccxt's `has["fetchTickers"]`). Prices are exact: ccxt
parses the wire strings to floats, whose shortest repr is the decimal the exchange sent. Nothing
is guessed: a symbol the exchange does not list, does not return, or returns without a last
price is left out of the answer.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from botcore.data.exchanges import RetryPolicy, call_with_retry_async

__all__ = ["BATCH_FROM", "fetch_last_prices"]

BATCH_FROM = 20  # symbols; below, single-symbol requests weigh less in total
Sleep = Callable[[float], Awaitable[None]]
OnRetry = Callable[[int, float, Exception], None]


def _last_price(ticker: Mapping[str, Any] | None) -> Decimal | None:
    last = (ticker or {}).get("last")
    if last is None or isinstance(last, bool):
        return None
    price = Decimal(str(last))
    # Binance answers 0 for a listed market that never traded: that is no price at all.
    return price if price.is_finite() and price > 0 else None


async def fetch_last_prices(
    client: Any,
    symbols: Iterable[str],
    retry: RetryPolicy,
    *,
    sleep: Sleep = asyncio.sleep,
    on_retry: OnRetry | None = None,
    batch_from: int = BATCH_FROM,
) -> dict[str, Decimal]:
    """Last traded price of each symbol, in its quote currency, as an exact Decimal.

    Args:
        client: A ccxt asyncio exchange with its markets loaded.
        symbols: Unified symbols (`BTC/USDT`); repeats are asked for once.
        retry: Attempts and backoff for rate limits and network failures, per request.
        sleep: Waits between retries; injected so tests and simulated clocks do not wait.
        on_retry: Told (failures so far, seconds about to wait, the error) before each wait.
        batch_from: From this many symbols on, one `fetch_tickers` request asks for them all.

    Returns:
        Symbol -> last price, for the symbols the exchange priced; the others are left out.

    Raises:
        DownloadError: the exchange refused a request, or kept failing beyond `retry`.
    """
    markets = client.markets or {}
    # An unlisted symbol would make ccxt refuse the whole batch; it simply has no price here.
    wanted = [s for s in dict.fromkeys(symbols) if s in markets]
    if not wanted:
        return {}

    async def call(request: Callable[[], Awaitable[Any]]) -> Any:
        return await call_with_retry_async(request, client, retry, sleep=sleep, on_retry=on_retry)

    if client.has.get("fetchTickers") and len(wanted) >= batch_from:
        tickers = await call(functools.partial(client.fetch_tickers, wanted))
    else:
        tickers = {s: await call(functools.partial(client.fetch_ticker, s)) for s in wanted}
    prices: dict[str, Decimal] = {}
    for symbol in wanted:
        price = _last_price(tickers.get(symbol))
        if price is not None:
            prices[symbol] = price
    return prices
