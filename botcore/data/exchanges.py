"""Opening ccxt exchanges for market data, and calling them with bounded retries.

ccxt is imported inside the functions that need it: importing it costs about 0.7 s, which commands
that never touch an exchange (`tradechat backtest`) must not pay.
"""

from __future__ import annotations

import asyncio
import difflib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from botcore.errors import DataError, ParamError

__all__ = [
    "DownloadError",
    "RetryPolicy",
    "call_with_retry",
    "call_with_retry_async",
    "create_async_exchange",
    "create_exchange",
    "redirect_api",
]

T = TypeVar("T")


class DownloadError(DataError):
    """An exchange refused a market-data request, or kept failing after every retry."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failing request is retried.

    Attributes:
        attempts: Total tries per request, the first included (at least 1).
        base_delay_s: Wait after the first failure, in seconds; doubles after each further one.
        max_delay_s: Longest single wait in seconds, also the cap on a server's `Retry-After`.
    """

    attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ParamError("a retry policy needs at least one attempt")
        if self.base_delay_s < 0 or self.max_delay_s < 0:
            raise ParamError("retry delays cannot be negative")

    def delay_s(self, failures: int, retry_after_s: float | None = None) -> float:
        """Seconds to wait after the `failures`-th consecutive failure (1-based).

        Exponential backoff; a server's `Retry-After` wins when it asks for longer, because
        asking again sooner only extends a rate-limit ban.
        """
        backoff = self.base_delay_s * 2 ** (failures - 1)
        if retry_after_s is not None:
            backoff = max(backoff, retry_after_s)
        return min(backoff, self.max_delay_s)


def _check_id(exchange_id: str, known: list[str]) -> None:
    if exchange_id not in known:
        close = difflib.get_close_matches(exchange_id, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise DownloadError(f"ccxt knows no exchange '{exchange_id}'{hint}")


def _spot_markets_only(exchange: Any) -> None:
    market_types = exchange.options.get("fetchMarkets")
    if isinstance(market_types, dict) and "spot" in market_types.get("types", ()):
        exchange.options["fetchMarkets"] = {**market_types, "types": ["spot"]}


def create_exchange(exchange_id: str, *, api_url: str | None = None, spot_only: bool = True) -> Any:
    """A ccxt (synchronous) exchange object for public market data, rate limiting switched on.

    Args:
        exchange_id: ccxt id such as `binance` or `kraken`.
        api_url: Base URL (`https://host[:port][/prefix]`) replacing the scheme and host of every
            REST endpoint the exchange uses, for mirrors such as `https://data-api.binance.vision`,
            testnets or a local stand-in; the endpoint paths are kept.
        spot_only: Load only the spot markets when the exchange lets us choose (the Binance
            family loads spot, USD-M and COIN-M markets from three hosts otherwise); a spot
            download needs nothing else, and a spot-only mirror can then serve it.

    Raises:
        DownloadError: no exchange by that id (the closest ids are suggested), or it has no
            OHLCV endpoint.
        ParamError: `api_url` is not an http(s) URL.
    """
    import ccxt  # lazy: see the module docstring

    _check_id(exchange_id, list(ccxt.exchanges))
    exchange = getattr(ccxt, exchange_id)({"enableRateLimit": True})
    if not exchange.has.get("fetchOHLCV"):
        exchange.close()
        raise DownloadError(f"{exchange_id} does not publish candles (no fetchOHLCV in ccxt)")
    if api_url:
        exchange.urls["api"] = redirect_api(exchange.urls["api"], api_url)
    if spot_only:
        _spot_markets_only(exchange)
    return exchange


def create_async_exchange(
    exchange_id: str, *, api_url: str | None = None, sandbox: bool = False, spot_only: bool = True
) -> Any:
    """A ccxt asyncio exchange (`ccxt.async_support`) for public market data, rate limited.

    The same checks and options as `create_exchange`; the caller must `await exchange.close()`.

    Args:
        exchange_id: ccxt id such as `binance`.
        api_url: Base URL replacing every REST endpoint's scheme and host (see `create_exchange`);
            applied after the sandbox switch, so it also redirects the sandbox's endpoints.
        sandbox: Switch ccxt to the exchange's sandbox/testnet URLs (`set_sandbox_mode(True)`).
        spot_only: Load only the spot markets when the exchange lets us choose.

    Raises:
        DownloadError: no exchange by that id, no OHLCV endpoint, or no sandbox for it.
        ParamError: `api_url` is not an http(s) URL.
    """
    import ccxt
    import ccxt.async_support as ccxt_async  # lazy: see the module docstring

    _check_id(exchange_id, list(ccxt_async.exchanges))
    # No HTTP session exists before the first request, so an exchange refused here needs no close.
    exchange = getattr(ccxt_async, exchange_id)({"enableRateLimit": True})
    if not exchange.has.get("fetchOHLCV"):
        raise DownloadError(f"{exchange_id} does not publish candles (no fetchOHLCV in ccxt)")
    if sandbox:
        try:
            exchange.set_sandbox_mode(True)
        except ccxt.NotSupported as exc:
            raise DownloadError(f"{exchange_id} has no sandbox in ccxt: {exc}") from exc
    if api_url:
        exchange.urls["api"] = redirect_api(exchange.urls["api"], api_url)
    if spot_only:
        _spot_markets_only(exchange)
    return exchange


def redirect_api(urls: Any, api_url: str) -> Any:
    """`urls` (a URL or a nested mapping of them) with every scheme and host replaced by `api_url`.

    `https://api.binance.com/api/v3` with `http://127.0.0.1:8080` becomes
    `http://127.0.0.1:8080/api/v3`; a path in `api_url` is put in front of the endpoint's path.
    """
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ParamError(f"'{api_url}' is not an http(s) URL like https://data-api.binance.vision")
    base = api_url.rstrip("/")
    if isinstance(urls, str):
        return base + urlsplit(urls).path
    if isinstance(urls, Mapping):
        return {name: redirect_api(value, api_url) for name, value in urls.items()}
    return urls


def _retry_after_s(exchange: Any) -> float | None:
    """The `Retry-After` seconds of the exchange's last answer, when it sent one."""
    headers = getattr(exchange, "last_response_headers", None) or {}
    # requests hands ccxt a case-insensitive mapping; a plain dict may come from elsewhere.
    value = headers.get("Retry-After") or headers.get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date instead of seconds: fall back to our own backoff


def call_with_retry(
    request: Callable[[], T],
    exchange: Any,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, float, Exception], None] | None = None,
) -> T:
    """Call `request`, retrying transient exchange failures with backoff.

    Transient means ccxt's `OperationFailed` branch: `NetworkError` with its `RateLimitExceeded`,
    `DDoSProtection` (Binance answers 429 this way), `RequestTimeout` and `ExchangeNotAvailable`
    (5xx), lost connections, and `BadResponse` or "server busy" answers. Anything in ccxt's
    `ExchangeError` branch (bad symbol, bad parameter) fails at once: asking again cannot help.

    Args:
        request: The call to make, e.g. a bound `fetch_ohlcv` with its arguments.
        exchange: The ccxt exchange `request` talks to (its last response headers are read).
        policy: Attempts and delays.
        sleep: Waits the given seconds; injected so tests do not wait.
        on_retry: Told (failures so far, seconds about to wait, the error) before each wait.

    Raises:
        DownloadError: a non-transient refusal, or the last transient failure once every
            attempt is spent.
    """
    import ccxt  # lazy: see the module docstring

    failures = 0
    while True:
        try:
            return request()
        except ccxt.OperationFailed as exc:
            failures += 1
            if failures >= policy.attempts:
                raise DownloadError(
                    f"{exchange.id} still failing after {failures} attempt(s): {exc}"
                ) from exc
            delay = policy.delay_s(failures, _retry_after_s(exchange))
            if on_retry is not None:
                on_retry(failures, delay, exc)
            sleep(delay)
        except ccxt.BaseError as exc:
            raise DownloadError(f"{exchange.id} refused the request: {exc}") from exc


async def call_with_retry_async(
    request: Callable[[], Awaitable[T]],
    exchange: Any,
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_retry: Callable[[int, float, Exception], None] | None = None,
) -> T:
    """`call_with_retry` for ccxt's asyncio exchanges: the same transient errors, backoff and
    `Retry-After` handling, waiting with `await sleep(seconds)` so the event loop keeps running.

    Raises:
        DownloadError: a non-transient refusal, or the last transient failure once every
            attempt is spent.
    """
    import ccxt  # lazy: see the module docstring

    failures = 0
    while True:
        try:
            return await request()
        except ccxt.OperationFailed as exc:
            failures += 1
            if failures >= policy.attempts:
                raise DownloadError(
                    f"{exchange.id} still failing after {failures} attempt(s): {exc}"
                ) from exc
            delay = policy.delay_s(failures, _retry_after_s(exchange))
            if on_retry is not None:
                on_retry(failures, delay, exc)
            await sleep(delay)
        except ccxt.BaseError as exc:
            raise DownloadError(f"{exchange.id} refused the request: {exc}") from exc
