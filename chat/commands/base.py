"""What every command handler receives, and the shared services it reaches them through.

A handler is `async def handler(call: Call) -> Reply`, registered by intent name. Handlers do
their blocking work (database reads, a backtest) in a worker thread (`call.run`), so the event
loop the engine and the adapters share stays responsive; they word the services' typed results
and never import a chat SDK.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from botcore.config import Settings
from chat.access import Caller
from chat.intents import Intent
from chat.reply import Reply

if TYPE_CHECKING:  # the store loads SQLAlchemy: only when a command first needs it
    from botcore.persistence import Store
    from botcore.services.trading import TradingService

__all__ = ["HANDLERS", "BotContext", "Call", "Handler", "Progress", "handles"]

I = TypeVar("I", bound=Intent)  # noqa: E741 (the intent type, as in the registry)
T = TypeVar("T")
Progress = Callable[[str], Awaitable[None]]


@dataclass
class BotContext:
    """The configuration and the engine's store, opened on first use and shared.

    Args:
        settings: The whole configuration.
        store: An open store; by default `[database] url` is opened when first needed.
    """

    settings: Settings
    _store: Store | None = field(default=None, repr=False)

    @property
    def quote(self) -> str:
        """The quote currency a bare base gets (`eth` -> ETH/USDT)."""
        return self.settings.trading.quote

    @property
    def store(self) -> Store:
        """The engine's database (opened, and migrated, on first use)."""
        if self._store is None:
            from botcore.persistence import Store

            url = self.settings.database.url
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self._store = Store.open(url)
        return self._store

    @cached_property
    def trading(self) -> TradingService:
        """Manual orders and entry control over the store."""
        from botcore.services.trading import TradingService

        return TradingService(self.settings, self.store)

    def close(self) -> None:
        """Close the store if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None


@dataclass(frozen=True)
class Call(Generic[I]):
    """One command to answer.

    Attributes:
        ctx: The services.
        intent: What was asked, validated.
        caller: Who asked.
        progress: Sends an interim message (long work), if the surface can.
        confirmed: The confirmation token when the caller pressed Confirm (it doubles as the
            request id that makes a trade idempotent); None for commands needing none.
    """

    ctx: BotContext
    intent: I
    caller: Caller
    progress: Progress | None = None
    confirmed: str | None = None

    async def run(self, work: Callable[[], T]) -> T:
        """Run blocking `work` in a worker thread."""
        return await asyncio.to_thread(work)

    async def say(self, text: str) -> None:
        """An interim message, where the surface shows them."""
        if self.progress is not None:
            await self.progress(text)


Handler = Callable[[Call[Any]], Awaitable[Reply]]
HANDLERS: dict[str, Handler] = {}


def handles(*names: str) -> Callable[[Handler], Handler]:
    """Register the decorated handler for the intents called `names`."""

    def register(handler: Handler) -> Handler:
        for name in names:
            HANDLERS[name] = handler
        return handler

    return register
