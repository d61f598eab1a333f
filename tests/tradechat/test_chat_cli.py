"""`tradechat chat` as a user meets it: one message with -c, a chart saved, a confirmed trade,
and the REPL fed from stdin, all on a store a real replay filled."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from botcore.config import Settings
from botcore.engine.runner import EngineRunner
from botcore.persistence import Store

TRADECHAT = str(Path(sys.executable).with_name("tradechat"))
CONFIG = """
[database]
url = "sqlite:///{db}"

[data]
cache_dir = "{cache}"

[market]
start = "2024-04-01"

[[market.symbols]]
symbol = "BTC/USDT"
timeframe = "1h"
strategy = "ema_cross"
"""


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("chatcli")
    path = root / "bot.toml"
    path.write_text(CONFIG.format(db=root / "bot.db", cache=root / "cache"))
    runner = EngineRunner(Settings.model_validate({
        "database": {"url": f"sqlite:///{root / 'bot.db'}"},
        "data": {"cache_dir": str(root / "cache")},
        "market": {"start": "2024-04-01", "symbols": [
            {"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "ema_cross"}]},
    }))  # fmt: skip
    try:
        asyncio.run(runner.run(asyncio.Event(), until_end=True, speed=1e12))
    finally:
        runner.close()
    return path


def chat(config: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [TRADECHAT, "--config", str(config), "chat", *args],
        capture_output=True, text=True, input=stdin, timeout=120, cwd=config.parent,
        env=os.environ | {"COLUMNS": "120"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    return done.stdout


def test_plain_language_is_answered_from_the_engines_books(config: Path) -> None:
    out = chat(config, "-c", "how much did I make this week?")
    assert "Profit" in out and "USDT" in out


def test_a_chart_reply_is_saved_as_png(config: Path, tmp_path: Path) -> None:
    image = tmp_path / "btc.png"
    out = chat(config, "-c", "chart btc 1h", "--image-out", str(image))
    assert f"chart saved to {image}" in " ".join(out.split())
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_trade_asks_and_only_yes_places_it(config: Path) -> None:
    db = config.parent / "bot.db"

    def manual() -> int:
        with Store.open(f"sqlite:///{db}") as store:
            return sum(o.reason == "manual" for o in store.orders())

    asked = chat(config, "-c", "buy 0.01 btc")
    assert "Confirm within" in asked and "[1] Confirm" in asked
    assert manual() == 0
    placed = chat(config, "-c", "buy 0.01 btc", "--yes")
    assert "Placed" in placed
    assert manual() == 1


def test_the_repl_reads_messages_and_numbered_buttons_from_stdin(config: Path) -> None:
    out = chat(config, stdin="/help risk\n/stop\n/set_risk stop_loss_pct 4\n2\nexit\n")
    assert "/risk" in out and "New entries paused" in out
    assert "Cancelled: /set_risk" in out
