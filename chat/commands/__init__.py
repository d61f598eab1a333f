"""Intent -> services -> Reply: every command's wording and chat policy live here.

`dispatch` runs the handler registered for an intent (see `base.handles`); `preview` says what a
command that needs confirmation would do. Importing this package registers every handler.
"""

from __future__ import annotations

from chat.access import Caller

# importing the handler modules registers their handlers
from chat.commands import account, control, help, market, research, trading  # noqa: F401
from chat.commands.base import HANDLERS, BotContext, Call, Progress
from chat.commands.trading import preview
from chat.intents import Intent
from chat.reply import Reply

__all__ = ["HANDLERS", "BotContext", "Call", "Progress", "dispatch", "preview"]


async def dispatch(
    ctx: BotContext,
    intent: Intent,
    caller: Caller,
    progress: Progress | None = None,
    confirmed: str | None = None,
) -> Reply:
    """Answer `intent` with its handler.

    Raises:
        BotcoreError: the services refused (the router words it politely).
        KeyError: no handler is registered for the intent (a programming error).
    """
    handler = HANDLERS[intent.name]
    return await handler(Call(ctx, intent, caller, progress, confirmed))
