"""The discord.py objects of the adapter: slash commands built from the registry, a reply's
buttons as a View, and how a Reply reaches Discord (channel messages with embeds and files, the
answer to an interaction).

This module imports discord.py; `chat.adapters.discord` imports it only when the bot starts.

- `slash_command(spec, run)`: a registry command as an `app_commands.Command` whose options are
  typed, described and limited to their choices as `discord_render.slash_options` says; an
  invocation calls `run(interaction, name, options)`.
- `ReplyView`: a reply's buttons. A press is handed to the bot's `on_press` with the button's
  data and the view (which knows whom the reply was for); on timeout the buttons are removed.
- `send_to_channel`: a reply as channel messages: the chart attached to the first one and shown
  in its embed (`attachment://chart.png`), the buttons under the last one.
- `InteractionAnswer`: the answer to one interaction. It answers at once when the work is quick;
  `acknowledge()` defers it ("thinking..." for a command, a silent acknowledgement for a press)
  when the work is slow; then the first message replaces the deferred response (for a press:
  the clicked message) and the rest follow as followups, ephemeral when the reply is.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import io
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import discord
from discord import app_commands

from chat.adapters.discord_render import (
    CUSTOM_ID_LIMIT,
    Outgoing,
    SlashOption,
    outgoing,
    short,
    slash_options,
)
from chat.registry import CommandSpec
from chat.reply import Reply

__all__ = [
    "InteractionAnswer",
    "MakeView",
    "Press",
    "ReplyView",
    "RunSlash",
    "send_to_channel",
    "slash_command",
]

_log = logging.getLogger("tradechat.discord")

Press = Callable[[discord.Interaction, str, "ReplyView"], Awaitable[None]]
MakeView = Callable[[Sequence[tuple[str, str]]], "ReplyView"]
RunSlash = Callable[[discord.Interaction, str, Mapping[str, Any]], Awaitable[None]]


def _annotation(option: SlashOption) -> Any:
    if option.type == "integer":
        return app_commands.Range[int, option.min_value or 1]
    return float if option.type == "number" else str


def slash_command(spec: CommandSpec, run: RunSlash) -> app_commands.Command[Any, ..., None]:
    """`spec` as a slash command; an invocation calls `run` with the options given (by
    argument name; an optional option not given is left out)."""
    name = spec.name

    async def invoke(interaction: discord.Interaction, **options: Any) -> None:
        await run(interaction, name, {k: v for k, v in options.items() if v is not None})

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    params = [inspect.Parameter("interaction", positional, annotation=discord.Interaction)]
    described: dict[str, str] = {}
    choices: dict[str, list[app_commands.Choice[str]]] = {}
    for option in slash_options(spec):
        default = inspect.Parameter.empty if option.required else None
        keyword = inspect.Parameter.KEYWORD_ONLY
        params.append(
            inspect.Parameter(option.name, keyword, annotation=_annotation(option), default=default)
        )
        described[option.name] = option.description
        if option.choices:
            choices[option.name] = [app_commands.Choice(name=c, value=c) for c in option.choices]
    # discord.py reads the options from the callback's signature: give it the registry's
    invoke.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    if described:
        app_commands.describe(**described)(invoke)
    if choices:
        app_commands.choices(**choices)(invoke)
    return app_commands.Command(name=name, description=short(spec.help), callback=invoke)


class _ReplyButton(discord.ui.Button["ReplyView"]):
    def __init__(self, label: str, data: str, custom_id: str, first: bool) -> None:
        style = discord.ButtonStyle.primary if first else discord.ButtonStyle.secondary
        super().__init__(label=label, style=style, custom_id=custom_id)
        self.data = data

    async def callback(self, interaction: discord.Interaction) -> None:
        view = self.view
        if view is not None:
            await view.on_press(interaction, self.data, view)


class ReplyView(discord.ui.View):
    """The buttons under one reply.

    Args:
        buttons: (label, data) per button; the data goes back to the router on a press.
        on_press: Called with the interaction, the pressed button's data and this view.
        asker_id: The user the reply answered (None: a notification, for anyone allowed).
        timeout: Seconds until the buttons are removed (the router's confirmation expiry).
    """

    def __init__(
        self,
        buttons: Sequence[tuple[str, str]],
        on_press: Press,
        asker_id: int | None,
        timeout: float | None,
    ) -> None:
        super().__init__(timeout=timeout)
        self.on_press = on_press
        self.asker_id = asker_id
        self.message: discord.Message | None = None
        used: set[str] = set()
        for index, (label, data) in enumerate(buttons):
            # the data itself when Discord takes it (readable in logs), else a position
            custom_id = data if len(data) <= CUSTOM_ID_LIMIT else f"tradechat-button-{index}"
            if custom_id in used:
                custom_id = f"tradechat-button-{index}"
            used.add(custom_id)
            self.add_item(_ReplyButton(label, data, custom_id, first=index == 0))

    def for_asker(self, user_id: int) -> bool:
        """True when `user_id` may see the outcome of a press in place of the message."""
        return self.asker_id is None or self.asker_id == user_id

    async def on_timeout(self) -> None:
        # expired buttons would only answer "expired": take them away
        if self.message is not None:
            with contextlib.suppress(discord.HTTPException):
                await self.message.edit(view=None)

    async def on_error(
        self, interaction: discord.Interaction, error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        message_id = interaction.message.id if interaction.message else None
        _log.error("button press on message %s failed", message_id, exc_info=error)


@dataclass
class _Message:
    content: str | None
    embeds: list[discord.Embed] = field(default_factory=list)
    files: list[discord.File] = field(default_factory=list)
    view: ReplyView | None = None

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `send`/`send_message` (only what the message has)."""
        found: dict[str, Any] = {"content": self.content}
        if self.embeds:
            found["embeds"] = self.embeds
        if self.files:
            found["files"] = self.files
        if self.view is not None:
            found["view"] = self.view
        return found


def _messages(out: Outgoing, make_view: MakeView) -> list[_Message]:
    texts: list[str | None] = list(out.texts) or [None] * min(out.count, 1)
    messages: list[_Message] = []
    for index, text in enumerate(texts):
        message = _Message(text)
        if index == 0 and out.image is not None:
            name = out.image_name
            message.files.append(discord.File(io.BytesIO(out.image), filename=name))
            message.embeds.append(discord.Embed().set_image(url=f"attachment://{name}"))
        if index == len(texts) - 1 and out.buttons:
            message.view = make_view(out.buttons)
        messages.append(message)
    return messages


async def send_to_channel(
    channel: discord.abc.Messageable,
    out: Outgoing,
    make_view: MakeView,
    reference: discord.Message | None = None,
) -> list[discord.Message]:
    """Post `out` in `channel`; the first message answers `reference` (without pinging)."""
    sent: list[discord.Message] = []
    for message in _messages(out, make_view):
        kwargs = message.kwargs()
        if reference is not None and not sent:
            kwargs |= {"reference": reference, "mention_author": False}
        posted = await channel.send(**kwargs)
        if message.view is not None:
            message.view.message = posted
        sent.append(posted)
    return sent


class InteractionAnswer:
    """The answer to one interaction (see the module docstring).

    Args:
        interaction: A slash command or a button press.
        make_view: Builds the View for buttons in the answer.
    """

    def __init__(self, interaction: discord.Interaction, make_view: MakeView) -> None:
        self._interaction = interaction
        self._make_view = make_view
        self._clicked = interaction.type is discord.InteractionType.component
        self._original_used = False
        self._lock = asyncio.Lock()  # progress and the answer go out in order, never both first

    async def acknowledge(self) -> None:
        """Defer the answer (Discord waits 3 s for one); nothing happens if already answered."""
        async with self._lock:
            await self._acknowledge()

    async def _acknowledge(self) -> None:
        response = self._interaction.response
        if not response.is_done():
            # a press: acknowledge silently and edit the clicked message later
            await response.defer(thinking=not self._clicked)

    async def progress(self, text: str) -> None:
        """An interim message (long work): defers the answer first, as the work takes time."""
        async with self._lock:
            await self._acknowledge()
            await self._deliver(outgoing(Reply(text)), private=False)

    async def send(self, reply: Reply, private: bool = False) -> bool:
        """Deliver `reply` (only to the user when `private`); True when it replaced the
        deferred response or the clicked message."""
        async with self._lock:
            return await self._deliver(outgoing(reply), private)

    async def _deliver(self, out: Outgoing, private: bool) -> bool:
        ephemeral = out.ephemeral or private
        replaced = False
        for message in _messages(out, self._make_view):
            posted, in_place = await self._one(message, ephemeral)
            replaced = replaced or in_place
            if message.view is not None and isinstance(posted, discord.Message):
                message.view.message = posted
        return replaced

    async def _one(self, message: _Message, ephemeral: bool) -> tuple[object, bool]:
        interaction = self._interaction
        if not interaction.response.is_done():
            answered = await interaction.response.send_message(
                **message.kwargs(), ephemeral=ephemeral
            )
            self._original_used = True
            return answered.resource, True
        if not self._original_used and not ephemeral:
            self._original_used = True
            edited = await interaction.edit_original_response(
                content=message.content,
                embeds=message.embeds,
                attachments=message.files,
                view=message.view,
            )
            return edited, True
        if not self._original_used and not self._clicked:
            # a public "thinking..." cannot turn private: remove it and answer privately
            self._original_used = True
            await interaction.delete_original_response()
        followup = await interaction.followup.send(
            **message.kwargs(), ephemeral=ephemeral, wait=True
        )
        return followup, False
