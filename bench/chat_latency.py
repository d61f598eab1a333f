"""`python bench/chat_latency.py`: end-to-end latency of chat replies through the Telegram path.

What is measured: the time from a user's message being queued at the fake Telegram Bot API
(tests/fakes/telegram_api.py, aiohttp on 127.0.0.1) to the bot's answer being recorded there:
the real python-telegram-bot long poll returning the update, `TelegramBot` building the caller,
the router (slash grammar or the offline language parser, then the command over the store), the
rendering to Telegram HTML and the real HTTP call (multipart for photos). One message at a time.

- text replies: a rotation of account commands and plain-language questions, answered from the
  store of a real engine replay (BTC/USDT 1h and ETH/USDT 15m of bundled Binance candles,
  2023-06-01 to 2023-06-04 13:30 UTC); target median under 100 ms;
- chart replies: price charts (PNG) of those markets; target median under 500 ms.

The same messages are also timed through `router.handle_text` alone, so the adapter's share is
visible. Warm-up messages (the first chart imports matplotlib) are not counted; the very first
chart's time is shown on its own. Messages rotate over many allowed users, so the router's
per-user rate limit (30 a minute) never answers instead. This is a measurement: it exits 0
whatever the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replay_store import REPLAY_STOP, replay_config, run_replay  # noqa: E402 - bench/ is first

from botcore.config import Settings  # noqa: E402 - the project root goes on the path first
from chat.access import Caller  # noqa: E402
from chat.adapters.telegram import TelegramBot  # noqa: E402
from chat.bot import build_router  # noqa: E402
from chat.commands import BotContext  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram  # noqa: E402

TEXTS = (
    "/profit 7", "/status", "/balance", "/positions", "/trades 5", "/risk", "/help",
    "how much did I make this week", "show my open positions", "what's my balance",
)  # fmt: skip
CHARTS = ("chart eth 1h", "chart btc 1h", "/chart ETH/USDT 15m", "chart btc")
TARGET_TEXT_MS = 100.0
TARGET_CHART_MS = 500.0
USERS = tuple(range(5000, 5100))


def _settings(folder: Path, **sections: Any) -> Settings:
    return Settings(**(replay_config(folder, "engine.db") | sections))


async def _through_telegram(
    fake: FakeTelegram, messages: Sequence[str], method: str, first_user: int
) -> list[float]:
    """Milliseconds from each message queued at the fake to the bot's `method` call recorded."""
    times: list[float] = []
    for n, text in enumerate(messages):
        done = len(fake.calls_to(method)) + 1
        started = time.perf_counter()
        fake.user_says(text, user_id=USERS[(first_user + n) % len(USERS)])
        calls = await fake.wait_for(method, done, timeout=30)
        times.append((time.perf_counter() - started) * 1000)
        if calls[-1].error is not None:
            raise RuntimeError(f"Telegram refused the answer to {text!r}: {calls[-1].error}")
    return times


async def _through_router(bot: TelegramBot, messages: Sequence[str]) -> list[float]:
    times: list[float] = []
    for n, text in enumerate(messages):
        user = str(USERS[n % len(USERS)])
        started = time.perf_counter()
        await bot.router.handle_text(Caller("telegram", user, user, "bench"), text)
        times.append((time.perf_counter() - started) * 1000)
    return times


def _row(table: Table, kind: str, e2e: list[float], router: list[float], target: float) -> None:
    median = statistics.median(e2e)
    p95 = statistics.quantiles(e2e, n=20)[18]
    verdict = "[green]OK[/green]" if median < target else "[red]MISS[/red]"
    table.add_row(
        kind, str(len(e2e)), f"{median:.1f}", f"{p95:.1f}", f"{max(e2e):.1f}",
        f"{statistics.median(router):.1f}", f"< {target:.0f}", verdict,
    )  # fmt: skip


async def _measure(folder: Path, texts: int, charts: int, console: Console) -> None:
    async with FakeTelegram() as fake:
        telegram = {
            "token": fake.token, "base_url": fake.base_url, "base_file_url": fake.base_file_url,
            "allowed_users": list(USERS),
        }  # fmt: skip
        settings = _settings(folder, telegram=telegram)
        context = BotContext(settings)
        bot = TelegramBot(settings, build_router(settings, context), poll_timeout_s=5.0)
        await bot.start()
        try:
            cold = await _through_telegram(fake, CHARTS[:1], "sendPhoto", 0)
            await _through_telegram(fake, CHARTS, "sendPhoto", 1)
            await _through_telegram(fake, TEXTS, "sendMessage", 0)
            text_messages = [TEXTS[n % len(TEXTS)] for n in range(texts)]
            chart_messages = [CHARTS[n % len(CHARTS)] for n in range(charts)]
            text_e2e = await _through_telegram(fake, text_messages, "sendMessage", 0)
            chart_e2e = await _through_telegram(fake, chart_messages, "sendPhoto", 0)
            text_router = await _through_router(bot, text_messages)
            chart_router = await _through_router(bot, chart_messages)
        finally:
            await bot.stop()
            context.close()
    table = Table(title="Chat latency through the Telegram path (ms, one message at a time)")
    for column in ("reply", "n", "median", "p95", "max", "router only (median)", "target", ""):
        table.add_column(column, justify="left" if column in ("reply", "") else "right")
    _row(table, "text", text_e2e, text_router, TARGET_TEXT_MS)
    _row(table, "chart (PNG)", chart_e2e, chart_router, TARGET_CHART_MS)
    console.print(table)
    console.print(f"first chart of the process (matplotlib import, not counted): {cold[0]:.0f} ms")
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    console.print(f"{os.cpu_count()} CPUs, load average (1, 5, 15 min) at the end: {load}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--texts", type=int, default=200, help="text messages to time")
    parser.add_argument("--charts", type=int, default=40, help="chart messages to time")
    args = parser.parse_args(argv)
    console = Console()
    with tempfile.TemporaryDirectory(prefix="chat-latency-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        run_replay(_settings(folder), REPLAY_STOP)
        console.print(f"engine replay for the store: {time.perf_counter() - started:.1f} s")
        asyncio.run(_measure(folder, args.texts, args.charts, console))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
