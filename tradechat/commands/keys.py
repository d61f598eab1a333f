"""`tradechat keys`: add, list and remove exchange API keys in the encrypted keystore.

The keystore is a file (default `user_data/keystore.json`, or `--keystore`, or
`$TRADECHAT_KEYSTORE`); its passphrase comes from `$TRADECHAT_KEYSTORE_PASSPHRASE` or a hidden
prompt. Keys are asked for with hidden input; `--api-key`/`--secret` exist for scripts, but values
given on a command line can end up in the shell history. Nothing here ever prints a key or secret.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from botcore.errors import BotcoreError
from botcore.security.keystore import Keystore, KeystoreError, resolve_passphrase
from tradechat.context import app_context, fail

__all__ = ["DEFAULT_KEYSTORE", "app"]

DEFAULT_KEYSTORE = Path("user_data/keystore.json")

app = typer.Typer(
    help="Exchange API keys in the encrypted keystore: add, list, remove.",
    no_args_is_help=True,
)

KeystoreOpt = Annotated[
    Path,
    typer.Option(
        "--keystore",
        help="Keystore file.",
        envvar="TRADECHAT_KEYSTORE",
    ),
]


def _ask_passphrase(confirm: bool) -> str:
    return str(typer.prompt("Keystore passphrase", hide_input=True, confirmation_prompt=confirm))


def open_keystore(path: Path) -> Keystore:
    if not path.is_file():
        raise KeystoreError(
            f"no keystore at {path}; add keys first with `tradechat keys add NAME --exchange ID`"
        )
    return Keystore.open(path, resolve_passphrase(lambda: _ask_passphrase(confirm=False)))


@app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Entry name, e.g. binance-main.")],
    exchange: Annotated[str, typer.Option("--exchange", help="ccxt exchange id, e.g. binance.")],
    api_key: Annotated[
        str | None, typer.Option("--api-key", help="API key (prompted, hidden, when omitted).")
    ] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="API secret (prompted, hidden, when omitted).")
    ] = None,
    password: Annotated[
        str | None,
        typer.Option(
            "--password", help="API passphrase, for exchanges that have one (OKX, KuCoin...)."
        ),
    ] = None,
    keystore: KeystoreOpt = DEFAULT_KEYSTORE,
) -> None:
    """Store an exchange's API key and secret, encrypted; creates the keystore if needed."""
    from botcore.execution.live import required_credentials

    console = app_context(ctx).console
    try:
        needed = required_credentials(exchange)
        if keystore.exists():
            store = open_keystore(keystore)
        else:
            phrase = resolve_passphrase(lambda: _ask_passphrase(confirm=True))
            store = Keystore.create(keystore, phrase)
            console.print(f"created keystore {keystore} (readable by you only)")
        if api_key is None:
            api_key = str(typer.prompt("API key", hide_input=True))
        if secret is None:
            secret = str(typer.prompt("API secret", hide_input=True))
        if password is None and "password" in needed:
            password = str(typer.prompt(f"{exchange} API passphrase", hide_input=True))
        store.add(name, exchange, api_key, secret, password)
    except BotcoreError as exc:
        fail(console, str(exc))
    console.print(f"added '{name}' ({exchange}) to {keystore}")


@app.command("list")
def list_keys(ctx: typer.Context, keystore: KeystoreOpt = DEFAULT_KEYSTORE) -> None:
    """Show the entries: name and exchange (never a key or secret)."""
    console = app_context(ctx).console
    try:
        store = open_keystore(keystore)
    except BotcoreError as exc:
        fail(console, str(exc))
    if not store.names():
        console.print(f"{keystore} holds no keys yet")
        return
    table = Table(title=f"Keys in {keystore}", title_justify="left")
    table.add_column("name", style="bold")
    table.add_column("exchange")
    for entry in store.names():
        table.add_row(entry, store.exchange_of(entry))
    console.print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Entry to delete.")],
    keystore: KeystoreOpt = DEFAULT_KEYSTORE,
) -> None:
    """Delete an entry from the keystore."""
    console = app_context(ctx).console
    try:
        store = open_keystore(keystore)
        store.remove(name)
    except BotcoreError as exc:
        fail(console, str(exc))
    console.print(f"removed '{name}' from {keystore}")
