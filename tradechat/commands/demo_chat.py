"""The demo's last act: paper trading on replayed candles, then a scripted conversation with the
bot through its console face (plain language, a chart, a confirmed trade, a backtest)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from botcore.config import Settings

__all__ = ["chat_tour"]

_SCRIPT: tuple[str, ...] = (
    "how much did I make this week?",
    "/positions",
    "show me the chart of eth",
    "buy 0.01 btc",
    "1",  # presses Confirm
    "/status",
    "backtest ema cross on eth 1h over 90 days",
)


def chat_tour(console: Console, out: Path) -> list[Path]:
    """Replay the last weeks of the bundled BTC (1h) and ETH (15m) candles into `out`/paper.db,
    then talk to the bot about it. Returns the images the replies carried."""
    from botcore.engine.runner import EngineRunner
    from chat.adapters.console import ConsoleChat
    from chat.bot import build_router
    from chat.commands import BotContext
    from chat.parse import default_parser

    db = out / "paper.db"
    db.unlink(missing_ok=True)
    settings = Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db}"},
            "market": {"start": "2024-03-25", "loop": False, "speed": 1e12, "symbols": [
                {"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "ema_cross"},
                {"symbol": "ETH/USDT", "timeframe": "15m", "strategy": "rsi_reversion"},
            ]},
            "risk": {"stop_loss_pct": 2.0, "take_profit_pct": 4.0},
        }
    )  # fmt: skip
    runner = EngineRunner(settings)
    console.rule("[bold]paper trading[/]: the engine on replayed BTC 1h and ETH 15m candles")
    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("replaying", total=runner.remaining())
            asyncio.run(runner.run(asyncio.Event(), on_bar=lambda _: bar.advance(task)))
        console.print(f"{len(runner.store.trades())} trades, books in {db}")
    finally:
        runner.close()

    console.rule("[bold]chat[/]: the console face of the bot (the same router as Telegram/Discord)")
    default_parser(settings.trading.quote).fit()
    context = BotContext(settings)
    face = ConsoleChat(build_router(settings, context), console, image_dir=out, user="demo")

    async def talk() -> None:
        for text in _SCRIPT:
            console.print(f"[bold green]you>[/] {text}", highlight=False)
            await face.send(text)

    try:
        asyncio.run(talk())
    finally:
        context.close()
    return face.saved
