"""The dashboard in a web browser: textual-serve, behind a login token off localhost.

textual-serve starts one dashboard process per browser session and streams its terminal over a
websocket; it has no authentication of its own. `DashboardServer` adds it: when a token is set,
every request (the page, its scripts, the websocket, downloads) must carry it, either as
`?token=...` in the address or in the cookie set when the page was first opened with it. The
page's script and websocket addresses follow the address the browser used, so a phone on the
local network reaches a server bound to 0.0.0.0 by the host's LAN address.
"""

from __future__ import annotations

import asyncio
import hmac
import secrets
import shlex
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from textual_serve.server import Server

__all__ = [
    "COOKIE",
    "LOCAL_HOSTS",
    "TOKEN_ENV",
    "DashboardServer",
    "app_command",
    "login_token",
    "needs_token",
]

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
COOKIE = "tradechat_token"
TOKEN_ENV = "TRADECHAT_TUI_TOKEN"  # noqa: S105 (the variable's name, not a secret)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def needs_token(host: str) -> bool:
    """True unless the server only listens on this machine's loopback interface."""
    return host not in LOCAL_HOSTS


def login_token(environ: dict[str, str]) -> str:
    """The token from `$TRADECHAT_TUI_TOKEN`, else a new random one (128 bits)."""
    return environ.get(TOKEN_ENV) or secrets.token_urlsafe(16)


def app_command(config: Path | None, *, attach: bool = False) -> str:
    """The shell command textual-serve runs for each browser session: this Python, `-m tui`."""
    args = [sys.executable, "-m", "tui", *(["--attach"] if attach else [])]
    if config is not None:
        args += ["--config", str(config.resolve())]
    return shlex.join(args)


class DashboardServer(Server):
    """textual-serve's server with an optional login token.

    Args:
        command: The shell command that runs one dashboard (see `app_command`).
        host, port: Where to listen.
        token: Required on every request when set; None serves without one (localhost only:
            the command line refuses that combination elsewhere).
    """

    def __init__(self, command: str, host: str, port: int, token: str | None) -> None:
        super().__init__(command, host=host, port=port, title="tradechat")
        self.token = token
        self._sessions: set[asyncio.Task[Any]] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        if self.token is not None:
            app.middlewares.append(self._token_middleware(self.token))
        app.middlewares.append(self._track_sessions)
        return app

    @web.middleware
    async def _track_sessions(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        # a browser session's websocket handler runs as long as the tab is open
        if request.path != "/ws":
            return await handler(request)
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs every handler in a task
        self._sessions.add(task)
        try:
            return await handler(request)
        finally:
            self._sessions.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        # aiohttp would wait up to a minute for open tabs; cancelling their handlers makes
        # textual-serve close each websocket and stop each dashboard process (and its engine)
        for task in list(self._sessions):
            task.cancel()

    @staticmethod
    def _token_middleware(token: str) -> Any:
        expected = token.encode()

        @web.middleware
        async def require_token(request: web.Request, handler: Handler) -> web.StreamResponse:
            given = request.query.get("token") or request.cookies.get(COOKIE, "")
            if not hmac.compare_digest(given.encode(), expected):
                raise web.HTTPUnauthorized(
                    text="tradechat: open the address printed by `tradechat tui --serve`, "
                    "with its ?token=...\n"
                )
            response = await handler(request)
            if "token" in request.query and not response.prepared:
                # the page's scripts and websocket then authenticate without the query
                response.set_cookie(COOKIE, token, httponly=True, samesite="Strict")
            return response

        return require_token

    async def handle_index(self, request: web.Request) -> Any:
        # textual-serve writes `public_url` into the page; the address the browser used is the
        # one that works for it. Nothing awaits between setting and reading it, so concurrent
        # requests cannot see each other's.
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)
