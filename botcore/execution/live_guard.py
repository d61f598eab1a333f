"""The only door to a keyed exchange: live trading's switches and keys are checked here.

`open_live_exchange` refuses unless `[trading] mode` is `"live"`, `allow_live` is true and the
exchange's keys come from the encrypted keystore; it marks the exchange it opens, and
`LiveBroker` refuses any exchange without that mark (`guarded`). ccxt is imported lazily.
"""

from __future__ import annotations

import difflib
from typing import Any

from botcore.config import ExchangeConfig, TradingConfig
from botcore.data.exchanges import create_exchange, redirect_api
from botcore.errors import BotcoreError
from botcore.security.keystore import Keystore

__all__ = [
    "LiveGuardError",
    "LiveTradingError",
    "guarded",
    "open_live_exchange",
    "required_credentials",
]

# Put on an exchange by open_live_exchange; LiveBroker accepts no exchange without it.
_GUARD_KEY = "tradechat_live_guard"
_GUARD = object()


class LiveTradingError(BotcoreError):
    """Live trading cannot go on: the exchange failed, or an order's state is unknown."""


class LiveGuardError(LiveTradingError):
    """Live trading is not switched on, or its keys are missing; the message names the switch."""


def required_credentials(exchange_id: str) -> frozenset[str]:
    """The credentials ccxt needs for `exchange_id` (`apiKey`, `secret`, maybe `password`).

    Raises:
        LiveTradingError: ccxt knows no such exchange (close ids are suggested).
    """
    import ccxt  # lazy: see the module docstring

    known: list[str] = list(ccxt.exchanges)
    if exchange_id not in known:
        close = difflib.get_close_matches(exchange_id, known, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise LiveTradingError(f"ccxt knows no exchange '{exchange_id}'{hint}")
    needed = getattr(ccxt, exchange_id)().requiredCredentials
    return frozenset(name for name, required in needed.items() if required)


def open_live_exchange(
    trading: TradingConfig,
    exchange_config: ExchangeConfig,
    keystore: Keystore | None,
    *,
    api_url: str | None = None,
) -> Any:
    """A ccxt exchange carrying the keystore's keys, for `LiveBroker`; refuses unless allowed.

    Args:
        trading: `[trading]`: `mode` must be `"live"` and `allow_live` true.
        exchange_config: The `[[exchanges]]` entry; its `key_name` names the keystore entry.
        keystore: The opened keystore.
        api_url: Base URL replacing the exchange's hosts (a local stand-in in tests).

    Raises:
        LiveGuardError: a switch is off, or the keys are missing or for another exchange.
        KeystoreError: the keystore has no such entry, or it fails its integrity check.
        DownloadError: ccxt knows no such exchange.
    """
    name = exchange_config.name
    if trading.mode != "live":
        raise LiveGuardError(
            f'live trading is off: [trading] mode is "{trading.mode}"; set mode = "live" '
            "and allow_live = true to trade with real money"
        )
    if not trading.allow_live:
        raise LiveGuardError(
            '[trading] mode is "live" but allow_live is false; live trading needs that second '
            "switch set to true as well"
        )
    if not exchange_config.key_name:
        raise LiveGuardError(
            f"the [[exchanges]] entry '{name}' has no key_name; store its keys in the keystore "
            "and set key_name to that entry"
        )
    if keystore is None:
        raise LiveGuardError("live trading needs exchange keys from the encrypted keystore")
    keys = keystore.get(exchange_config.key_name)
    if keys.exchange != name:
        raise LiveGuardError(
            f"keystore entry '{keys.name}' holds keys for {keys.exchange}, not for {name}"
        )
    exchange = create_exchange(name, spot_only=True)
    exchange.apiKey, exchange.secret = keys.api_key, keys.secret
    if keys.password:
        exchange.password = keys.password
    if exchange_config.sandbox:
        exchange.set_sandbox_mode(True)
    if api_url:
        exchange.urls["api"] = redirect_api(exchange.urls["api"], api_url)
    if "fetchMargins" in exchange.options:
        # Spot only: the margin pair lists cost three signed requests per start and are unused.
        exchange.options["fetchMargins"] = False
    exchange.options[_GUARD_KEY] = _GUARD
    return exchange


def guarded(exchange: Any) -> bool:
    """True when `exchange` came from `open_live_exchange`."""
    return exchange.options.get(_GUARD_KEY) is _GUARD
