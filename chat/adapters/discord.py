"""The Discord face: slash commands from the registry, plain messages, charts and confirmations.

`DiscordBot(settings, router)` runs in the event loop it is started from (`tradechat run`
starts it beside the engine): `await bot.start()` logs in, connects to the gateway as a task,
waits until ready and syncs one slash command per registry command to `[discord] guild_ids`
(instantly), or globally when that is empty (Discord takes up to an hour to show them);
`await bot.stop()` closes it. discord.py is imported only when the bot starts.

What it translates (the router decides everything else):

- a slash command -> `router.handle_command` with its options by argument name. The answer is
  sent at once when it is ready within `defer_after_s`; slower work is deferred ("thinking...")
  and answered by editing that response, with progress messages and long answers following.
  `Reply.ephemeral` answers only the asker.
- a plain message in one of `[discord] channels` (or a thread in one), or a direct message ->
  `router.handle_text`. The bot's own messages and other bots' are ignored, and so is every
  other channel. A leading mention of the bot is dropped.
- a button press -> `router.handle_button`; for the user the reply answered, the outcome
  replaces the message and its buttons; anyone else gets the outcome privately.
- the caller: platform "discord", the user id, the channel id, the display name and the
  member's role names (for `[discord] allowed_roles`/`admin_roles`). With `guild_ids` set, only
  roles in those guilds count; in a direct message they are the user's roles there.

The bot reads plain messages in guild channels, so it needs the privileged **Message Content
intent**: enable it for the application in the Discord developer portal (Bot -> Privileged
Gateway Intents), or the bot cannot start. Slash commands and direct messages work without it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botcore.config import Settings
from botcore.errors import ConfigError
from chat import registry
from chat.access import Caller
from chat.adapters.discord_render import outgoing
from chat.notify import Outbox
from chat.reply import Reply
from chat.router import Router

if TYPE_CHECKING:
    import discord
    from discord import app_commands

    from botcore.engine.live_trader import FlushReport
    from botcore.engine.trader import BarReport
    from chat.adapters.discord_views import MakeView, ReplyView

__all__ = ["TOKEN_ENV", "DiscordBot", "slash_specs"]

TOKEN_ENV = "TRADECHAT_DISCORD_TOKEN"  # noqa: S105 - the variable's name, not a token
_log = logging.getLogger("tradechat.discord")
_DRAIN_S = 5.0
_MENTION = re.compile(r"^<@!?(\d+)>\s*")


def slash_specs() -> list[registry.CommandSpec]:
    """The registry commands offered as slash commands: all but `unknown`, which is what the
    parser answers to anything else, not something to pick from a menu."""
    return [spec for spec in registry.COMMANDS.values() if spec.name != "unknown"]


class DiscordBot:
    """The Discord adapter.

    Args:
        settings: The whole configuration (`[discord]` and `[chat] confirm_ttl_s` are read).
        router: The router every surface shares.
        token: The bot token (default `[discord] token`, then env `TRADECHAT_DISCORD_TOKEN`).
        defer_after_s: How long a slash command may work before its answer is deferred
            (Discord drops an interaction not answered within 3 s).
        ready_timeout_s: How long `start()` waits for the gateway to be ready.
        client_options: Passed to `discord.Client` (e.g. `guild_ready_timeout`, `intents`).
    """

    def __init__(
        self,
        settings: Settings,
        router: Router,
        *,
        token: str | None = None,
        defer_after_s: float = 1.5,
        ready_timeout_s: float = 60.0,
        **client_options: Any,
    ) -> None:
        self.config = settings.discord
        self.router = router
        self._token = token
        self._ttl = settings.chat.confirm_ttl_s
        self._defer_after_s = defer_after_s
        self._ready_timeout_s = ready_timeout_s
        self._options = client_options
        self._client: discord.Client | None = None
        self._gateway: asyncio.Task[None] | None = None
        self._views: weakref.WeakSet[ReplyView] = weakref.WeakSet()
        self._outbox = Outbox(self.notify, "discord-notify")

    @property
    def client(self) -> discord.Client:
        """The running discord.py client.

        Raises:
            RuntimeError: the bot is not started.
        """
        if self._client is None:
            raise RuntimeError("the Discord bot is not started")
        return self._client

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Log in, connect, wait until ready and sync the slash commands.

        Raises:
            ConfigError: no token, a token Discord refuses, or the Message Content intent not
                enabled for the application.
            TimeoutError: the gateway was not ready within `ready_timeout_s`.
        """
        import discord

        token = self._token or self.config.token or os.environ.get(TOKEN_ENV)
        if not token:
            raise ConfigError(f"[discord] token is not set (nor the {TOKEN_ENV} variable)")
        intents = discord.Intents.default()
        intents.message_content = True
        # quoted user or exchange text must never ping anyone
        quiet = discord.AllowedMentions.none()
        options: dict[str, Any] = {"intents": intents, "allowed_mentions": quiet}
        client = discord.Client(**(options | self._options))
        client.on_message = self._on_message  # type: ignore[attr-defined]
        tree = self._command_tree(client)
        self._client = client
        try:
            await client.login(token)
        except discord.LoginFailure as exc:
            await self.stop()
            raise ConfigError("Discord refused the [discord] token") from exc
        self._gateway = asyncio.create_task(client.connect(), name="discord-gateway")
        try:
            await self._until_ready(client, self._gateway)
        except BaseException:
            await self.stop()
            raise
        await self._sync(tree)
        self._outbox.start()

    async def _until_ready(self, client: discord.Client, gateway: asyncio.Task[None]) -> None:
        import discord

        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, gateway},
            timeout=self._ready_timeout_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        if ready in done:
            return
        ready.cancel()
        if gateway not in done:
            raise TimeoutError(f"Discord was not ready within {self._ready_timeout_s:.0f} s")
        error = gateway.exception()
        if isinstance(error, discord.PrivilegedIntentsRequired):
            raise ConfigError(
                "Discord refused the Message Content intent: enable it for the application "
                "in the developer portal (Bot -> Privileged Gateway Intents)"
            ) from error
        raise error or RuntimeError("the Discord connection closed before it was ready")

    async def stop(self) -> None:
        """Send pending notifications, remove live buttons' timers and close the connection."""
        client, self._client = self._client, None
        if client is None:
            return
        await self._outbox.stop(_DRAIN_S)
        for view in list(self._views):
            view.stop()
        await client.close()
        gateway, self._gateway = self._gateway, None
        if gateway is not None:
            try:
                await gateway
            except Exception:  # closing anyway: the reason belongs in the log
                _log.exception("the Discord gateway connection ended with an error")

    # -- slash commands -------------------------------------------------------------------------
    def _command_tree(self, client: discord.Client) -> app_commands.CommandTree[Any]:
        import discord
        from discord import app_commands

        from chat.adapters.discord_views import slash_command

        tree: app_commands.CommandTree[Any] = app_commands.CommandTree(client)
        guilds = [discord.Object(id=guild) for guild in self.config.guild_ids]
        for spec in slash_specs():
            command = slash_command(spec, self._on_slash)
            if guilds:
                tree.add_command(command, guilds=guilds)
            else:
                tree.add_command(command)
        return tree

    async def _sync(self, tree: app_commands.CommandTree[Any]) -> None:
        import discord

        targets: Sequence[discord.Object | None] = [
            discord.Object(id=guild) for guild in self.config.guild_ids
        ] or [None]
        for guild in targets:
            where = f"guild {guild.id}" if guild else "every guild"
            try:
                synced = await tree.sync(guild=guild)
            except discord.HTTPException:
                # the engine keeps running; plain messages still work
                _log.exception("could not register the slash commands in %s", where)
            else:
                _log.info("registered %d slash commands in %s", len(synced), where)

    async def _on_slash(
        self, interaction: discord.Interaction, name: str, options: Mapping[str, Any]
    ) -> None:
        from chat.adapters.discord_views import InteractionAnswer

        answer = InteractionAnswer(interaction, self._view_maker(interaction.user.id))
        caller = await self._caller(interaction.user, interaction.channel_id)
        work = asyncio.create_task(
            self.router.handle_command(caller, name, options, progress=answer.progress)
        )
        try:
            reply = await asyncio.wait_for(asyncio.shield(work), self._defer_after_s)
        except TimeoutError:
            await answer.acknowledge()
            reply = await work
        await answer.send(reply)

    # -- plain messages and buttons -------------------------------------------------------------
    def _listens(self, message: discord.Message) -> bool:
        if message.guild is None:
            return True
        channel = message.channel
        channels = set(self.config.channels)
        return channel.id in channels or getattr(channel, "parent_id", None) in channels

    async def _on_message(self, message: discord.Message) -> None:
        from chat.adapters.discord_views import send_to_channel

        if message.author.bot or not self._listens(message):
            return
        text = self._without_own_mention(message.content)
        if not text:
            return
        caller = await self._caller(message.author, message.channel.id)
        channel = message.channel
        make_view = self._view_maker(message.author.id)

        async def progress(note: str) -> None:
            await send_to_channel(channel, outgoing(Reply(note)), make_view)

        reply = await self.router.handle_text(caller, text, progress=progress)
        reference = message if message.guild is not None else None
        await send_to_channel(channel, outgoing(reply), make_view, reference)

    def _without_own_mention(self, content: str) -> str:
        own = self._client.user if self._client is not None else None
        mention = _MENTION.match(content)
        if mention and own is not None and int(mention[1]) == own.id:
            content = content[mention.end() :]
        return content.strip()

    async def _on_press(self, interaction: discord.Interaction, data: str, view: ReplyView) -> None:
        from chat.adapters.discord_views import InteractionAnswer

        answer = InteractionAnswer(interaction, self._view_maker(interaction.user.id))
        await answer.acknowledge()
        caller = await self._caller(interaction.user, interaction.channel_id)
        reply = await self.router.handle_button(caller, data, progress=answer.progress)
        if await answer.send(reply, private=not view.for_asker(interaction.user.id)):
            view.stop()

    def _view_maker(self, asker_id: int | None) -> MakeView:
        from chat.adapters.discord_views import ReplyView

        def make(buttons: Sequence[tuple[str, str]]) -> ReplyView:
            view = ReplyView(buttons, self._on_press, asker_id, timeout=self._ttl)
            self._views.add(view)
            return view

        return make

    # -- who is asking --------------------------------------------------------------------------
    async def _caller(self, user: discord.User | discord.Member, channel_id: int | None) -> Caller:
        roles = await self._roles(user)
        return Caller("discord", str(user.id), str(channel_id or ""), user.display_name, roles)

    async def _roles(self, user: discord.User | discord.Member) -> tuple[str, ...]:
        import discord

        configured = set(self.config.guild_ids)
        if not configured:
            return ()  # roles count only in configured guilds: no member lookups for nothing
        if isinstance(user, discord.Member):
            # role names are the guild's own: only a configured guild's roles count
            if user.guild.id not in configured:
                return ()
            return tuple(role.name for role in user.roles)
        names: list[str] = []
        for guild in self._role_guilds():
            member = guild.get_member(user.id)
            if member is None:
                with contextlib.suppress(discord.HTTPException):
                    member = await guild.fetch_member(user.id)
            if member is not None:
                names += [role.name for role in member.roles]
        return tuple(dict.fromkeys(names))

    def _role_guilds(self) -> list[discord.Guild]:
        found = (self.client.get_guild(guild) for guild in self.config.guild_ids)
        return [guild for guild in found if guild is not None]

    # -- notifications --------------------------------------------------------------------------
    async def notify(self, reply: Reply) -> None:
        """Post `reply` in the first of `[discord] channels` now. No channel, a stopped bot or
        a failure is logged and skipped; nothing is raised (the engine must not notice)."""
        import discord

        from chat.adapters.discord_views import send_to_channel

        if self._client is None or not self.config.channels:
            _log.warning("Discord notification dropped: no [discord] channels or not running")
            return
        channel_id = self.config.channels[0]
        try:
            channel = self._client.get_channel(channel_id) or await self._client.fetch_channel(
                channel_id
            )
            if not isinstance(channel, discord.abc.Messageable):
                raise TypeError(f"channel {channel_id} cannot take messages")
            await send_to_channel(channel, outgoing(reply), self._view_maker(None))
        except Exception:  # a notification must never take the engine down
            _log.warning("could not notify Discord channel %s", channel_id, exc_info=True)

    def notify_bar(self, report: BarReport) -> None:
        """Queue what a committed bar did for the notification channel (sent in the background;
        synchronous, for the engine's `on_bar` hook)."""
        self._outbox.bar(report)

    def notify_flush(self, report: FlushReport) -> None:
        """Queue what sending orders to the exchange did."""
        self._outbox.flush(report)
