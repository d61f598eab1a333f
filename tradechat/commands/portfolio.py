"""`tradechat portfolio`: balances on every configured exchange, valued in one currency.

Each `[[exchanges]]` entry is its own ccxt client with the keys its `key_name` picks from the
encrypted keystore (passphrase from `$TRADECHAT_KEYSTORE_PASSPHRASE` or a hidden prompt). Every
asset is valued in `[trading] quote` with a ticker's last price; an asset no exchange prices is
flagged and left out of the totals, never guessed. Nothing here prints a key or secret.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from botcore.config import ExchangeConfig
from botcore.errors import BotcoreError, ConfigError, ParamError
from botcore.market.portfolio import PortfolioView, fetch_portfolio, open_exchanges
from botcore.market.venues import close_venues
from botcore.security.keystore import ExchangeKeys
from botcore.timeframes import to_iso
from tradechat.commands.keys import DEFAULT_KEYSTORE, open_keystore
from tradechat.commands.market import parse_mapping
from tradechat.context import app_context, fail

__all__ = ["portfolio", "portfolio_json"]

_STDOUT = Path("-")
# Values in these are shown to the cent; in any other quote (BTC, ETH...) to 8 decimals.
_CASH = frozenset({"USD", "USDT", "USDC", "FDUSD", "TUSD", "DAI", "EUR", "GBP", "JPY", "AUD"})


def _select(configured: Sequence[ExchangeConfig], names: str | None) -> list[ExchangeConfig]:
    """The `[[exchanges]]` entries named by `--exchanges` (all of them by default)."""
    if not configured:
        raise ConfigError(
            "no [[exchanges]] in the config: add one per exchange, e.g. "
            '[[exchanges]] name = "binance", key_name = "binance-main"'
        )
    by_name = {config.name: config for config in configured}
    wanted = [n.strip().lower() for n in (names or "").split(",") if n.strip()]
    for name in wanted:
        if name not in by_name:
            raise ParamError(_not_configured(name, list(by_name)))
    return [by_name[name] for name in dict.fromkeys(wanted)] if wanted else list(configured)


def _not_configured(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]}?" if close else ""
    return f"{name} is not among the config's [[exchanges]] ({', '.join(known)}){hint}"


def _credentials(configs: Sequence[ExchangeConfig], keystore: Path) -> dict[str, ExchangeKeys]:
    """Keystore entry name -> decrypted keys, for every selected exchange.

    Raises:
        ConfigError: an entry has no `key_name`, or its keys belong to another exchange.
        KeystoreError: no keystore, wrong passphrase, or no such entry.
    """
    named: list[tuple[str, str]] = []
    for config in configs:
        if config.key_name is None:
            raise ConfigError(
                f"exchanges.{config.name} has no key_name: store its keys with "
                f"`tradechat keys add NAME --exchange {config.name}` and set key_name = NAME"
            )
        named.append((config.name, config.key_name))
    store = open_keystore(keystore)
    found: dict[str, ExchangeKeys] = {}
    for exchange_id, key_name in named:
        keys = store.get(key_name)
        # Keys sent to the wrong exchange would only earn a baffling signature error.
        if keys.exchange != exchange_id:
            raise ConfigError(
                f"exchanges.{exchange_id}.key_name: '{key_name}' holds keys for "
                f"{keys.exchange}, not {exchange_id}"
            )
        found[key_name] = keys
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # exact: a float would round the money
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def portfolio_json(view: PortfolioView) -> str:
    """The view as JSON: amounts, prices and values as exact decimal strings, null if unpriced."""
    data = _plain(dataclasses.asdict(view)) | {"as_of": to_iso(view.timestamp_ms)}
    return json.dumps(data, indent=2)


def _amount(value: Decimal) -> str:
    return f"{value.normalize():f}"  # `0.0` from a float balance reads as `0`


def _money(value: Decimal | None, quote: str) -> str:
    if value is None:
        return "unpriced"
    places = 2 if quote in _CASH else 8
    # Money is read half-up (17,336.025 shows as .03); the JSON keeps every digit.
    return f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,.{places}f}"


def _print_view(console: Console, view: PortfolioView, sandbox: Sequence[str]) -> None:
    venues = ", ".join(f"{e.exchange} (sandbox)" if e.exchange in sandbox else e.exchange
                       for e in view.exchanges)  # fmt: skip
    console.print(f"portfolio on {venues} at {to_iso(view.timestamp_ms)}, valued in {view.quote}")
    q = view.quote
    holdings = Table(title="holdings", title_justify="left")
    for name in ("exchange", "asset", "free", "used", "total", f"price {q}", "priced on",
                 f"value {q}"):  # fmt: skip
        holdings.add_column(name, justify="left" if name in ("exchange", "asset") else "right")
    for h in view.holdings:
        price = "-" if h.price is None else f"{h.price.normalize():,f}"
        holdings.add_row(h.exchange, h.asset, _amount(h.free), _amount(h.used), _amount(h.total),
                         price, h.price_source or "-", _money(h.value, q))  # fmt: skip
    console.print(holdings)
    if not view.holdings:
        console.print("no balances held")
    assets = Table(title="by asset", title_justify="left")
    for name in ("asset", "total", f"value {q}", "on"):
        assets.add_column(name, justify="right" if name in ("total", f"value {q}") else "left")
    for a in view.assets:
        assets.add_row(a.asset, _amount(a.total), _money(a.value, q), ", ".join(a.exchanges))
    console.print(assets)
    exchanges = Table(title="by exchange", title_justify="left")
    for name in ("exchange", f"value {q}", "unpriced"):
        exchanges.add_column(name, justify="right" if name == f"value {q}" else "left")
    for e in view.exchanges:
        exchanges.add_row(e.exchange, _money(e.value, q), ", ".join(e.unpriced) or "-")
    console.print(exchanges)
    console.print(f"total: {_money(view.total_value, q)} {q}")
    if view.unpriced:
        console.print(
            f"not priced, left out of the totals (no {q} market for them on these exchanges): "
            f"{', '.join(view.unpriced)}"
        )


def portfolio(
    ctx: typer.Context,
    exchanges: Annotated[
        str | None,
        typer.Option(
            "--exchanges",
            "-e",
            help="Comma-separated ccxt ids among the config's \\[\\[exchanges]] \\[default: all].",
        ),
    ] = None,
    api_url: Annotated[
        list[str] | None,
        typer.Option(
            "--api-url",
            help="EXCHANGE=URL replacing that exchange's REST host (a mirror or a local "
            "stand-in; wins over its sandbox flag); repeat or comma-separate.",
        ),
    ] = None,
    quote: Annotated[
        str | None,
        typer.Option("--quote", help="Valuation currency \\[default: \\[trading] quote]."),
    ] = None,
    keystore: Annotated[
        Path, typer.Option("--keystore", help="Keystore file.", envvar="TRADECHAT_KEYSTORE")
    ] = DEFAULT_KEYSTORE,
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the portfolio as JSON to this file ('-': stdout only)."),
    ] = None,
) -> None:
    """Balances on every configured exchange, valued in one currency, with the total."""
    context = app_context(ctx)
    console = context.console
    try:
        configs = _select(context.settings.exchanges, exchanges)
        urls = parse_mapping(api_url, "API URL")
        names = [config.name for config in configs]
        for name in urls:
            if name not in names:
                raise ParamError(f"--api-url: {_not_configured(name, names)}")
        clients = open_exchanges(
            configs, credentials=_credentials(configs, keystore), api_urls=urls
        )
        try:
            view = fetch_portfolio(clients, (quote or context.settings.trading.quote).upper())
        finally:
            close_venues(clients)
        text = portfolio_json(view) if json_out is not None else ""
        if json_out is not None and json_out != _STDOUT:
            json_out.parent.mkdir(parents=True, exist_ok=True)
            json_out.write_text(text + "\n", encoding="utf-8")
    except (BotcoreError, OSError) as exc:
        fail(console, str(exc))
    if json_out == _STDOUT:
        console.out(text, highlight=False)
        return
    sandbox = [c.name for c in configs if c.sandbox and c.name not in urls]
    _print_view(console, view, sandbox)
    if json_out is not None:
        console.print(f"wrote {json_out}")
