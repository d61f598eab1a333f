"""A unified portfolio across several exchanges: balances per exchange, valued in one currency.

Each `[[exchanges]]` entry becomes its own ccxt client (own markets, own fees, own keys). Every
asset held is valued in the quote currency with a ticker's last price, preferring the exchange
that holds it (`BTC/USDT` on that exchange), then the other exchanges in configuration order; an
asset no exchange prices is reported as unpriced, never guessed. The quote currency itself is
worth 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from botcore.config import ExchangeConfig
from botcore.data.exchanges import RetryPolicy
from botcore.errors import ConfigError
from botcore.market.venues import QUICK_RETRY, fetch, open_venues, to_decimal

__all__ = [
    "ApiCredentials",
    "ApiKeys",
    "AssetTotal",
    "ExchangeTotal",
    "Holding",
    "PortfolioView",
    "fetch_portfolio",
    "open_exchanges",
]

_ZERO = Decimal(0)


class ApiKeys(Protocol):
    """What `open_exchanges` reads from a key entry (the keystore's `ExchangeKeys` fits)."""

    @property
    def api_key(self) -> str: ...

    @property
    def secret(self) -> str: ...

    @property
    def password(self) -> str | None: ...


@dataclass(frozen=True)
class ApiCredentials:
    """An exchange API key; the secret and passphrase never appear in a repr or a log."""

    api_key: str
    secret: str = field(repr=False)
    password: str | None = field(default=None, repr=False)


def open_exchanges(
    configs: Sequence[ExchangeConfig],
    *,
    credentials: Mapping[str, ApiKeys] | None = None,
    api_urls: Mapping[str, str] | None = None,
    retry: RetryPolicy = QUICK_RETRY,
) -> dict[str, Any]:
    """One ccxt client per `[[exchanges]]` entry, markets loaded, keys attached.

    Args:
        configs: The entries; each `name` (ccxt id) at most once.
        credentials: Keystore entry name -> keys (e.g. the keystore's decrypted entries); an
            entry's `key_name` picks its keys.
        api_urls: Exchange id -> base URL replacing its REST host (mirror, local stand-in).
        retry: Retries of the market loading.

    Raises:
        ConfigError: an entry's `key_name` has no credentials.
        ParamError, DownloadError: see `open_venues`.
    """
    keys = credentials or {}
    by_name = {config.name: config for config in configs}
    for config in configs:
        if config.key_name is not None and config.key_name not in keys:
            raise ConfigError(
                f"exchanges.{config.name}.key_name: no keys stored as '{config.key_name}'"
            )

    def attach(exchange_id: str, client: Any) -> None:
        key_name = by_name[exchange_id].key_name
        if key_name is not None:
            found = keys[key_name]
            client.apiKey, client.secret = found.api_key, found.secret
            if found.password is not None:
                client.password = found.password

    return open_venues(
        [config.name for config in configs],
        api_urls=api_urls,
        sandbox=[config.name for config in configs if config.sandbox],
        retry=retry,
        prepare=attach,
    )


@dataclass(frozen=True)
class Holding:
    """One asset on one exchange. Amounts in the asset; `price` and `value` in the quote.

    Attributes:
        price_source: Exchange whose ticker priced it (`quote` for the quote currency itself),
            None when unpriced.
    """

    exchange: str
    asset: str
    free: Decimal
    used: Decimal
    total: Decimal
    price: Decimal | None
    price_source: str | None
    value: Decimal | None


@dataclass(frozen=True)
class AssetTotal:
    """One asset across every exchange; `value` None when some holding of it is unpriced."""

    asset: str
    total: Decimal
    value: Decimal | None
    exchanges: tuple[str, ...]


@dataclass(frozen=True)
class ExchangeTotal:
    """One exchange's priced value and the assets on it that could not be priced."""

    exchange: str
    value: Decimal
    unpriced: tuple[str, ...]


@dataclass(frozen=True)
class PortfolioView:
    """Every holding, per-asset and per-exchange totals, and the priced total, in `quote`.

    Attributes:
        total_value: Sum of the priced holdings (the unpriced ones are listed, not counted).
        timestamp_ms: When the balances were fetched (UTC ms).
    """

    quote: str
    holdings: tuple[Holding, ...]
    assets: tuple[AssetTotal, ...]
    exchanges: tuple[ExchangeTotal, ...]
    total_value: Decimal
    unpriced: tuple[str, ...]
    timestamp_ms: int


def _amounts(balance: Mapping[str, Any]) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
    """Asset -> (free, used, total) of a ccxt balance, zero totals left out."""
    found = {}
    for asset, total in (balance.get("total") or {}).items():
        free = (balance.get("free") or {}).get(asset)
        used = (balance.get("used") or {}).get(asset)
        free_d = to_decimal(free) if free is not None else _ZERO
        used_d = to_decimal(used) if used is not None else _ZERO
        total_d = to_decimal(total) if total is not None else free_d + used_d
        if total_d != 0:
            found[asset] = (free_d, used_d, total_d)
    return found


class _Pricer:
    """Last prices of `ASSET/QUOTE` per exchange, each ticker fetched at most once."""

    def __init__(self, exchanges: Mapping[str, Any], quote: str, retry: RetryPolicy) -> None:
        self._exchanges = exchanges
        self._quote = quote
        self._retry = retry
        self._cache: dict[tuple[str, str], Decimal | None] = {}

    def _price_on(self, exchange_id: str, asset: str) -> Decimal | None:
        key = (exchange_id, asset)
        if key not in self._cache:
            client = self._exchanges[exchange_id]
            symbol = f"{asset}/{self._quote}"
            price = None
            if symbol in (client.markets or {}):
                ticker = fetch(client, partial(client.fetch_ticker, symbol), self._retry)
                last = ticker.get("last") or ticker.get("close")
                price = to_decimal(last) if last is not None else None
            self._cache[key] = price
        return self._cache[key]

    def price(self, holder: str, asset: str) -> tuple[Decimal | None, str | None]:
        """(price, source exchange) preferring `holder`'s own market."""
        if asset == self._quote:
            return Decimal(1), "quote"
        for exchange_id in (holder, *(e for e in self._exchanges if e != holder)):
            found = self._price_on(exchange_id, asset)
            if found is not None:
                return found, exchange_id
        return None, None


def fetch_portfolio(
    exchanges: Mapping[str, Any],
    quote: str = "USDT",
    *,
    retry: RetryPolicy = QUICK_RETRY,
    now_ms: Callable[[], int] | None = None,
) -> PortfolioView:
    """Fetch every exchange's balance and value the holdings in `quote`.

    Args:
        exchanges: ccxt id -> client with keys (e.g. from `open_exchanges`), in preference
            order for pricing.
        quote: Valuation currency, e.g. `USDT`.
        retry: Retries per request.
        now_ms: Clock for the view's timestamp; default the first exchange's.

    Raises:
        DownloadError: an exchange refused (bad keys) or kept failing.
    """
    quote = quote.upper()
    pricer = _Pricer(exchanges, quote, retry)
    holdings: list[Holding] = []
    for exchange_id, client in exchanges.items():
        balance = fetch(client, client.fetch_balance, retry)
        for asset, (free, used, total) in sorted(_amounts(balance).items()):
            price, source = pricer.price(exchange_id, asset)
            value = total * price if price is not None else None
            holdings.append(Holding(exchange_id, asset, free, used, total, price, source, value))
    clock = now_ms or (next(iter(exchanges.values())).milliseconds if exchanges else None)
    return _summarise(quote, list(exchanges), holdings, int(clock()) if clock else 0)


def _summarise(
    quote: str, exchange_ids: list[str], holdings: list[Holding], timestamp_ms: int
) -> PortfolioView:
    assets: list[AssetTotal] = []
    for asset in sorted({h.asset for h in holdings}):
        mine = [h for h in holdings if h.asset == asset]
        values = [h.value for h in mine]
        value = sum((v for v in values if v is not None), _ZERO) if None not in values else None
        total = sum((h.total for h in mine), _ZERO)
        assets.append(AssetTotal(asset, total, value, tuple(h.exchange for h in mine)))
    assets.sort(key=lambda a: (a.value is None, -(a.value or _ZERO), a.asset))
    per_exchange = []
    for exchange_id in exchange_ids:
        mine = [h for h in holdings if h.exchange == exchange_id]
        priced = sum((h.value for h in mine if h.value is not None), _ZERO)
        unpriced = tuple(h.asset for h in mine if h.value is None)
        per_exchange.append(ExchangeTotal(exchange_id, priced, unpriced))
    return PortfolioView(
        quote=quote,
        holdings=tuple(holdings),
        assets=tuple(assets),
        exchanges=tuple(per_exchange),
        total_value=sum((h.value for h in holdings if h.value is not None), _ZERO),
        unpriced=tuple(a.asset for a in assets if a.value is None),
        timestamp_ms=timestamp_ms,
    )
