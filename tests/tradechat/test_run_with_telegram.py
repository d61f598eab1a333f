"""`tradechat run` as deployed: the real process runs the engine and the Telegram bot in one event
loop, polling the Bot API stand-in on 127.0.0.1, and stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from botcore.persistence import Store
from tests.fakes.telegram_api import FakeTelegram

TRADECHAT = str(Path(sys.executable).with_name("tradechat"))
TOKEN = "4242:TEST-TOKEN"  # noqa: S105 (the stand-in's token)
ADMIN = 1001
CONFIG = """
[database]
url = "sqlite:///{db}"

[data]
cache_dir = "{cache}"

[market]
start = "2024-04-08"
speed = 1e12

[[market.symbols]]
symbol = "BTC/USDT"
timeframe = "1h"
strategy = "ema_cross"

[risk]
stop_loss_pct = 1.0

[telegram]
base_url = "{base_url}"
base_file_url = "{base_file_url}"
admins = [{admin}]
"""


async def test_run_answers_on_telegram_and_pushes_fills_then_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    async with FakeTelegram(token=TOKEN) as fake:
        fake.add_private_chat(ADMIN, "Ann")
        config = tmp_path / "bot.toml"
        db = tmp_path / "bot.db"
        config.write_text(CONFIG.format(db=db, cache=tmp_path / "cache", base_url=fake.base_url,
                                        base_file_url=fake.base_file_url, admin=ADMIN))  # fmt: skip
        proc = await asyncio.create_subprocess_exec(
            TRADECHAT, "--config", str(config), "run", "--log-file", str(tmp_path / "log.jsonl"),
            cwd=tmp_path, env=os.environ | {"TRADECHAT_TELEGRAM_TOKEN": TOKEN},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            await fake.wait_for("setMyCommands", timeout=60)
            # the replay runs (and ends) while the bot stays up: fills are pushed to the admin
            pushed = await fake.wait_for("sendMessage", timeout=60)
            assert any(c.params["chat_id"] == ADMIN for c in pushed)
            assert any("Bought" in str(c.params.get("text")) for c in pushed)
            fake.user_says("/status", user_id=ADMIN)
            answers = await fake.wait_for("sendMessage", count=len(pushed) + 1, timeout=30)
            status = [c for c in answers if "Status" in str(c.params.get("text"))]
            assert status and "paper trading" in status[-1].params["text"]
            fake.user_says("/stop", user_id=ADMIN)
            for _ in range(100):
                with Store.open(f"sqlite:///{db}") as store:
                    if store.state("engine.paused") == "true":
                        break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the /stop from Telegram never reached the store")
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(proc.communicate(), 60)
        assert proc.returncode == 0, err.decode()
        assert "chat: telegram connected" in out.decode()
        assert "Traceback" not in err.decode()
    with Store.open(f"sqlite:///{db}") as store:
        assert store.fills(), "the replay traded"
