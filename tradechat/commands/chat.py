"""`tradechat chat`: talk to the bot in the terminal, the offline face that needs no token.

It reads and writes the same database as `tradechat run` (`[database] url`), so a running engine
picks up what is done here (orders, pause, risk changes) at its next bar.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from tradechat.context import app_context

__all__ = ["chat"]


def chat(
    ctx: typer.Context,
    command: Annotated[
        str | None,
        typer.Option("-c", "--command", help="Answer this one message and exit."),
    ] = None,
    image_out: Annotated[
        Path | None,
        typer.Option("--image-out", help="Save the reply's chart to this PNG file."),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes",
            help="With -c: press Confirm on the confirmation the message asks for.",
        ),
    ] = False,
    history: Annotated[Path, typer.Option("--history", help="REPL history file.")] = Path(
        "user_data/chat_history"
    ),
) -> None:
    """Chat with the bot: plain language or /commands, replies and charts in the terminal."""
    app = app_context(ctx)
    from chat.adapters.console import ConsoleChat
    from chat.bot import build_router
    from chat.commands import BotContext

    context = BotContext(app.settings)
    router = build_router(app.settings, context)
    face = ConsoleChat(router, app.console)
    face.image_out = image_out

    async def main() -> int:
        if command is None:
            await face.repl(history)
            return 0
        reply = await face.send(command)
        if yes and reply.buttons:
            reply = await face.press("Confirm")
        if image_out is not None and reply.image is None:
            app.console.print("[yellow]this reply has no image to save[/yellow]")
            return 1
        return 0

    try:
        code = asyncio.run(main())
    finally:
        context.close()
    if code:
        raise typer.Exit(code)
