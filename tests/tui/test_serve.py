"""Serving the dashboard: the login token off localhost, and the `tradechat tui` command."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
import typer
from aiohttp.test_utils import TestClient, TestServer
from rich.console import Console
from typer.testing import CliRunner

from botcore.config import Settings
from tradechat.commands.tui import tui
from tradechat.context import AppContext
from tui.serve import COOKIE, DashboardServer, app_command, login_token, needs_token


def test_only_loopback_addresses_go_without_a_token() -> None:
    assert not needs_token("127.0.0.1") and not needs_token("localhost")
    assert needs_token("0.0.0.0") and needs_token("192.168.1.20")


def test_the_token_comes_from_the_environment_or_is_random() -> None:
    assert login_token({"TRADECHAT_TUI_TOKEN": "abc"}) == "abc"
    first, second = login_token({}), login_token({})
    assert first != second and len(first) >= 20


def test_each_browser_session_runs_this_python_on_the_same_config(tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    assert shlex.split(app_command(config)) == [
        sys.executable, "-m", "tui", "--config", str(config.resolve()),
    ]  # fmt: skip
    assert shlex.split(app_command(None)) == [sys.executable, "-m", "tui"]


async def _client(token: str | None) -> TestClient[object, object]:
    server = DashboardServer("true", "0.0.0.0", 0, token)
    server.console = Console(file=None, quiet=True)
    return TestClient(TestServer(await server._make_app()))


async def test_without_the_token_nothing_is_served() -> None:
    async with await _client("s3cret") as client:
        for path in ("/", "/?token=wrong", "/ws", "/static/js/textual.js"):
            response = await client.get(path)
            assert response.status == 401, path
            assert "token" in await response.text()


async def test_the_token_in_the_address_opens_the_page_and_a_cookie_serves_the_rest() -> None:
    async with await _client("s3cret") as client:
        page = await client.get("/?token=s3cret")
        assert page.status == 200
        assert page.cookies[COOKIE].value == "s3cret"
        assert page.cookies[COOKIE]["httponly"]
        html = await page.text()
        # the page's websocket follows the address the browser used, not the bound 0.0.0.0
        host = f"{client.host}:{client.port}"
        assert f"ws://{host}/ws" in html and "0.0.0.0" not in html
        script = await client.get("/static/js/textual.js")  # the cookie, no query
        assert script.status == 200


async def test_on_localhost_no_token_is_asked_for() -> None:
    async with await _client(None) as client:
        assert (await client.get("/")).status == 200


def _cli() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main(ctx: typer.Context) -> None:
        ctx.obj = AppContext(Settings(), Console(width=200))

    app.command("tui")(tui)
    return app


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[DashboardServer]:
    started: list[DashboardServer] = []
    monkeypatch.setattr(DashboardServer, "serve", lambda self, debug=False: started.append(self))
    return started


def test_serving_on_the_network_prints_an_address_with_the_token(
    served: list[DashboardServer],
) -> None:
    result = CliRunner().invoke(
        _cli(),
        ["tui", "--serve", "--host", "0.0.0.0", "--port", "8123"],
        env={"TRADECHAT_TUI_TOKEN": "t0ken"},
    )
    assert result.exit_code == 0, result.output
    [server] = served
    assert (server.host, server.port, server.token) == ("0.0.0.0", 8123, "t0ken")
    assert "http://0.0.0.0:8123/?token=t0ken" in result.output
    assert shlex.split(server.command)[1:] == ["-m", "tui"]


def test_serving_on_localhost_needs_no_token(served: list[DashboardServer], tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_text('[trading]\nquote = "USDT"\n')
    result = CliRunner().invoke(_cli(), ["tui", "--serve", "--config", str(config)])
    assert result.exit_code == 0, result.output
    [server] = served
    assert server.token is None and "http://localhost:8000/" in result.output
    assert "?token" not in result.output
    assert shlex.split(server.command)[-2:] == ["--config", str(config.resolve())]


def test_a_bad_config_file_is_refused_politely(
    served: list[DashboardServer], tmp_path: Path
) -> None:
    result = CliRunner().invoke(_cli(), ["tui", "--config", str(tmp_path / "missing.toml")])
    assert result.exit_code == 2 and "does not exist" in result.output
    assert served == []
