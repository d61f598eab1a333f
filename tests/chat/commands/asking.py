"""Driving one handler the way the router does, and reading a PNG's size."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from chat import registry
from chat.access import Caller
from chat.commands import account, market, research  # noqa: F401 (they register their handlers)
from chat.commands.base import HANDLERS, BotContext, Call
from chat.reply import Reply

__all__ = ["Asked", "ask", "png_size"]

_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass
class Asked:
    """A reply and the progress messages sent before it."""

    reply: Reply
    progress: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.reply.text


async def ask(ctx: BotContext, name: str, **args: object) -> Asked:
    """Validate `name` with `args` as the router would and answer it from the console owner."""
    intent = registry.validate(name, args, quote=ctx.quote)
    said: list[str] = []

    async def progress(text: str) -> None:
        said.append(text)

    handler = HANDLERS[intent.name]
    reply = await handler(Call(ctx, intent, Caller("console", "me"), progress))
    return Asked(reply, said)


def png_size(data: bytes | None) -> tuple[int, int]:
    """(width, height) of a PNG; fails on anything else."""
    assert data is not None and data.startswith(_PNG), "not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
