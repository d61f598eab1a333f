"""The chat surfaces `tradechat run` starts next to the engine, in its event loop.

Telegram starts when it has a token (`[telegram] token` or `TRADECHAT_TELEGRAM_TOKEN`), Discord
likewise (`[discord] token` or `TRADECHAT_DISCORD_TOKEN`). They share one router, and each hears
of every committed bar and every sent order to push notifications.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Protocol

from botcore.config import Settings
from botcore.errors import BotcoreError
from chat.bot import build_router
from chat.commands import BotContext

if TYPE_CHECKING:
    from botcore.engine.live_trader import FlushReport
    from botcore.engine.trader import BarReport

__all__ = ["Surface", "SurfaceError", "Surfaces", "start_surfaces"]

_log = logging.getLogger("tradechat.chat")


class SurfaceError(BotcoreError):
    """A chat adapter could not start (the platform refused the token, or is unreachable)."""


class Surface(Protocol):
    """What the engine needs of a chat adapter."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def notify_bar(self, report: BarReport) -> None: ...

    def notify_flush(self, report: FlushReport) -> None: ...


class Surfaces:
    """The started adapters; fans the engine's events out to them."""

    def __init__(self, started: list[tuple[str, Surface]]) -> None:
        self.started = started

    @property
    def names(self) -> list[str]:
        """The running surfaces, e.g. ["telegram", "discord"]."""
        return [name for name, _ in self.started]

    def notify_bar(self, report: BarReport) -> None:
        for _, surface in self.started:
            surface.notify_bar(report)

    def notify_flush(self, report: FlushReport) -> None:
        for _, surface in self.started:
            surface.notify_flush(report)

    async def stop(self) -> None:
        """Stop every adapter (the last notifications are sent first)."""
        for name, surface in reversed(self.started):
            try:
                await surface.stop()
            except Exception:  # one adapter failing to stop must not keep the others running
                _log.exception("stopping %s failed", name)


async def start_surfaces(settings: Settings, context: BotContext) -> Surfaces:
    """Start the configured adapters over `context` (which shares the engine's store).

    Raises:
        SurfaceError: an adapter could not start (a refused token, no connection); the ones
            already started are stopped first.
    """
    router = build_router(settings, context)
    wanted: list[tuple[str, Surface]] = []
    if settings.telegram.token or os.environ.get("TRADECHAT_TELEGRAM_TOKEN"):
        from chat.adapters.telegram import TelegramBot

        wanted.append(("telegram", TelegramBot(settings, router)))
    if settings.discord.token or os.environ.get("TRADECHAT_DISCORD_TOKEN"):
        from chat.adapters.discord import DiscordBot

        wanted.append(("discord", DiscordBot(settings, router)))
    started = Surfaces([])
    if wanted:  # train the language parser once, off the event loop, before the first message
        from chat.parse import default_parser

        await asyncio.to_thread(default_parser(settings.trading.quote).fit)
    for name, surface in wanted:
        try:
            await surface.start()
        except Exception as exc:
            await started.stop()
            raise SurfaceError(f"{name} could not start: {exc}") from exc
        started.started.append((name, surface))
    return started
