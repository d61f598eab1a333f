"""`tradechat tui`: the terminal dashboard, or (`--serve`) the same dashboard in a web browser.

It attaches to the engine's database (`[database] url`), so it shows and steers a `tradechat run`
in another terminal or on another machine sharing the database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from tradechat.context import app_context, fail

__all__ = ["tui"]


def tui(
    ctx: typer.Context,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Serve the dashboard to web browsers (textual-serve)."),
    ] = False,
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="With --serve: the address to listen on; anything but localhost needs the "
            "login token (printed, or $TRADECHAT_TUI_TOKEN).",
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="With --serve: the port.")] = 8000,
    attach: Annotated[
        bool,
        typer.Option(
            "--attach",
            help="Only watch the database: never start the engine here when none runs.",
        ),
    ] = False,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML config file (same as tradechat --config)."),
    ] = None,
) -> None:
    """Open the dashboard: overview, chart, trades, backtests, chat, and the controls.

    It attaches to the engine running on `[database] url`; when none runs and the market is
    the replay, it runs the engine itself until it quits (`--attach` never does)."""
    app = app_context(ctx)
    settings = app.settings
    if config is not None:
        from botcore.config import load_settings
        from botcore.errors import BotcoreError

        try:
            settings = load_settings(config)
        except BotcoreError as exc:
            fail(app.console, str(exc))
    root_config = ctx.find_root().params.get("config")
    config = config or (Path(root_config) if root_config else None)
    if not serve:
        from tui.app import TradechatApp

        TradechatApp(settings, start_engine=not attach, tune_gc=True).run()
        return
    from tui.serve import DashboardServer, app_command, login_token, needs_token

    token = login_token(dict(os.environ)) if needs_token(host) else None
    shown = "localhost" if host in ("127.0.0.1", "::1") else host
    address = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    app.console.print(f"Dashboard at [bold]{address}[/bold]", highlight=False, soft_wrap=True)
    if host in ("0.0.0.0", "::"):  # noqa: S104 (comparing, not binding)
        app.console.print("(from another device, use this machine's LAN address for the host)")
    DashboardServer(app_command(config, attach=attach), host, port, token).serve()
