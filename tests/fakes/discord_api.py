"""A local stand-in for Discord's REST API and gateway, for the real discord.py to log in to.

An aiohttp server on 127.0.0.1 (port 0): REST under `/api/v10` and the gateway websocket at `/`.
`running_client()` points discord.py at it by setting the only two internals it has to touch,
`discord.http.Route.BASE` and `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`, starts the
client and waits until it is ready; build the client with `client_options()` so `on_ready` does
not wait discord.py's default 2 s for more guilds.

The world: one guild ("Trading Desk", owned by alice) with text channels `general` and
`trading`, roles `@everyone`, `admin` and `trader`, members alice (admin, trader), bob (trader)
and carol (no role), plus a DM channel per user. The gateway says HELLO, answers IDENTIFY with
READY and a GUILD_CREATE, acknowledges heartbeats and then delivers what the test scripts:
`user_sends` (MESSAGE_CREATE), `user_invokes` (a slash command, INTERACTION_CREATE type 2) and
`user_clicks` (a component, type 3). Discord's own behaviour is kept where adapters get it wrong:

- events are filtered by the intents the client identified with (no guild messages without
  GUILD_MESSAGES; without MESSAGE_CONTENT a guild message shows empty content unless it mentions
  the bot; the member list only with GUILD_MEMBERS), and the bot's own messages come back as
  MESSAGE_CREATE, so a bot that answers itself loops here as it would in production;
- a slash command can only be invoked once synced (bulk overwrite), with its options typed as
  synced; a button only if it is on the message as it is now and not disabled;
- an interaction is answered once (40060 "Interaction has already been acknowledged"), followups
  need that answer first, and a message the bot did not write cannot be edited;
- messages and commands must respect Discord's limits (see `discord_wire`).

The gateway (`discord_gateway`), interactions (`discord_interactions`) and message storage
(`discord_messages`) live beside this module and are reached as `fake.gateway`,
`fake.interactions` and `fake.store`.

Every REST request is recorded (`calls`, a `DiscordCall` each); `wait_for` waits for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import re
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_gateway import GUILD_MEMBERS, Gateway
from tests.fakes.discord_interactions import Interactions
from tests.fakes.discord_messages import ATTACHMENT_LIMIT, MessageStore
from tests.fakes.discord_wire import (
    DiscordCall,
    DiscordError,
    Snowflakes,
    check_commands,
    iso_now,
    json_response,
    read_body,
    role_payload,
    text_channel_payload,
    user_payload,
)
from tests.fakes.telegram_wire import UploadedFile

if TYPE_CHECKING:
    import discord
    import pytest

__all__ = ["FakeDiscord", "client_options", "point_discord_at", "running_client"]

_ADMINISTRATOR = 1 << 3
# View channel, send messages, embed links, attach files, read history, use application commands.
_EVERYONE = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 15) | (1 << 16) | (1 << 31)
_Handler = Callable[..., tuple[int, Any]]


@dataclass
class FakeDiscord:
    """Discord on 127.0.0.1 plus a scripted guild; use `async with FakeDiscord() as discord_:`.

    Attributes:
        token: The bot token the client must log in with (REST `Authorization: Bot ...` and
            IDENTIFY); anything else is refused as Discord would.
        calls: Every REST request since the last `reset()`.
        messages: Every message (users' and the bot's) by id, as Discord stores it now.
        commands: Synced application commands by guild id (None: global).
        gateway: The gateway side (`Gateway`): `gateway.frames` holds every frame the client
            sent (IDENTIFY, heartbeats...), `gateway.ready` is set once a client identified.
        interactions: The interaction side (`Interactions`); `interactions.by_token` holds what
            the bot did with each interaction.
    """

    token: str = "fake.discord.bot-token"  # noqa: S105 - accepted by this fake only
    calls: list[DiscordCall] = field(default_factory=list)
    messages: dict[int, dict[str, Any]] = field(default_factory=dict)
    commands: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.snowflake = Snowflakes()
        self.application_id = self.snowflake()
        self.bot_user = user_payload(self.application_id, "tradebot", bot=True)
        self.guild_id = self.snowflake()
        self.roles = {"@everyone": self.guild_id, "admin": self.snowflake()}
        self.roles["trader"] = self.snowflake()
        self._role_permissions = {self.guild_id: _EVERYONE, self.roles["admin"]: _ADMINISTRATOR}
        self.channels = {"general": self.snowflake(), "trading": self.snowflake()}
        self.users: dict[str, dict[str, Any]] = {}
        self.member_roles: dict[int, list[int]] = {self.application_id: []}
        for name, roles in (("alice", ["admin", "trader"]), ("bob", ["trader"]), ("carol", [])):
            self.add_member(name, roles)
        self.owner_id = int(self.users["alice"]["id"])
        self._dms: dict[int, int] = {}
        self.store = MessageStore(self)
        self.interactions = Interactions(self)
        self.gateway = Gateway(self)
        self._failures: list[tuple[str, re.Pattern[str], DiscordError]] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._routes: list[tuple[str, re.Pattern[str], _Handler]] = [
            (verb, re.compile(pattern), handler)
            for verb, pattern, handler in (
                ("GET", r"/users/@me", lambda m, q, p, f: (200, self.bot_user)),
                ("GET", r"/oauth2/applications/@me", lambda m, q, p, f: (200, self._app())),
                ("GET", r"/gateway", lambda m, q, p, f: (200, {"url": self.gateway_url})),
                ("GET", r"/gateway/bot", lambda m, q, p, f: (200, self._gateway_bot())),
                ("POST", r"/users/@me/channels", self._open_dm),
                ("GET", r"/channels/(\d+)", lambda m, q, p, f: (200, self.channel(m[1]))),
                ("POST", r"/channels/(\d+)/typing", lambda m, q, p, f: (204, self.channel(m[1]))),
                ("POST", r"/channels/(\d+)/messages", self._post_message),
                ("GET", r"/channels/(\d+)/messages/(\d+)", self._get_message),
                ("PATCH", r"/channels/(\d+)/messages/(\d+)", self._edit_message),
                ("DELETE", r"/channels/(\d+)/messages/(\d+)", self._delete_message),
                ("PUT", r"/applications/(\d+)(?:/guilds/(\d+))?/commands", self._put_commands),
                ("GET", r"/applications/(\d+)(?:/guilds/(\d+))?/commands", self._get_commands),
                *self.interactions.routes(),
            )
        ]

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> FakeDiscord:
        app = web.Application(client_max_size=4 * ATTACHMENT_LIMIT)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/attachments/{channel}/{id}/{name}", self.store.serve_file)
        app.router.add_get("/", self.gateway.serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_base(self) -> str:
        """For `discord.http.Route.BASE`."""
        return f"{self.root}/api/v10"

    @property
    def gateway_url(self) -> str:
        """For `discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY` (as a `yarl.URL`)."""
        return f"ws://127.0.0.1:{self._port}/"

    # -- the world -------------------------------------------------------------------------------

    def add_member(self, name: str, roles: Sequence[str | int] = ()) -> int:
        """Add a guild member (roles by name or id); returns the user id."""
        user_id = self.snowflake()
        self.users[name] = user_payload(user_id, name)
        self.member_roles[user_id] = [self._role_id(role) for role in roles]
        return user_id

    def user_id(self, user: str | int) -> int:
        """A member's id by name (`alice`), or the id itself."""
        if isinstance(user, int):
            return user
        return int(self.users[user]["id"])

    def channel_id(self, channel: str | int, user: str | int = "alice") -> int:
        """A channel by name (`general`), id, or `dm` (the DM channel with `user`)."""
        if channel == "dm":
            user_id = self.user_id(user)
            return self._dms.setdefault(user_id, self.snowflake())
        return channel if isinstance(channel, int) else self.channels[channel]

    def _role_id(self, role: str | int) -> int:
        return role if isinstance(role, int) else self.roles[role]

    def user(self, user_id: int) -> dict[str, Any]:
        """The User object of a member or the bot (404 Unknown User otherwise)."""
        if user_id == self.application_id:
            return self.bot_user
        for user in self.users.values():
            if int(user["id"]) == user_id:
                return user
        raise DiscordError(404, 10013, "Unknown User")

    def _app(self) -> dict[str, Any]:
        app: dict[str, Any] = {"id": str(self.application_id), "name": "tradebot", "icon": None}
        app |= {"description": "", "bot_public": True, "bot_require_code_grant": False}
        return app | {"owner": self.users["alice"], "verify_key": "0" * 64, "flags": 0}

    def _gateway_bot(self) -> dict[str, Any]:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}

    def is_guild_channel(self, channel_id: int) -> bool:
        """True for the guild's text channels, False for DMs."""
        return channel_id in self.channels.values()

    def channel(self, channel_id: int | str) -> dict[str, Any]:
        """The Channel object (guild text channel or DM); 404 Unknown Channel otherwise."""
        channel_id = int(channel_id)
        for position, (name, known) in enumerate(self.channels.items()):
            if known == channel_id:
                return text_channel_payload(known, self.guild_id, name, position)
        for user_id, dm in self._dms.items():
            if dm == channel_id:
                recipient = self.user(user_id)
                return {
                    "id": str(dm),
                    "type": 1,
                    "recipients": [recipient],
                    "last_message_id": None,
                }
        raise DiscordError(404, 10003, "Unknown Channel")

    def permissions(self, user_id: int) -> int:
        """Guild permission bits: @everyone's plus the member's roles'; all for owner/admins."""
        if user_id == self.owner_id:
            return (1 << 50) - 1
        bits = self._role_permissions[self.guild_id]
        for role in self.member_roles.get(user_id, []):
            bits |= self._role_permissions.get(role, 0)
        return (1 << 50) - 1 if bits & _ADMINISTRATOR else bits

    def member(self, user_id: int, with_user: bool = True) -> dict[str, Any]:
        """The guild Member object (gateway messages carry it without `user`)."""
        member: dict[str, Any] = {"roles": [str(r) for r in self.member_roles[user_id]]}
        member |= {"joined_at": "2024-01-01T00:00:00+00:00", "deaf": False, "mute": False}
        member |= {"flags": 0, "pending": False, "nick": None, "premium_since": None}
        if with_user:
            member["user"] = self.user(user_id)
        return member

    def guild_create(self, intents: int) -> dict[str, Any]:
        """GUILD_CREATE's data; all members only with the GUILD_MEMBERS intent, as Discord."""
        with_members = bool(intents & GUILD_MEMBERS)
        ids = list(self.member_roles) if with_members else [self.application_id]
        roles = [
            role_payload(role_id, name, self._role_permissions.get(role_id, 0), position)
            for position, (name, role_id) in enumerate(self.roles.items())
        ]
        guild: dict[str, Any] = {"id": str(self.guild_id), "name": "Trading Desk", "icon": None}
        guild |= {"owner_id": str(self.owner_id), "unavailable": False, "large": False}
        guild |= {"member_count": len(self.member_roles), "joined_at": iso_now()}
        guild |= {"members": [self.member(i) for i in ids], "roles": roles}
        guild["channels"] = [self.channel(c) for c in self.channels.values()]
        for empty in ("threads", "presences", "voice_states", "emojis", "stickers", "features"):
            guild[empty] = []
        return guild

    # -- recording and waiting -------------------------------------------------------------------

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def calls_to(self, method: str, path_pattern: str) -> list[DiscordCall]:
        """Recorded calls with this verb whose path fully matches the regular expression."""
        pattern = re.compile(path_pattern)
        return [c for c in self.calls if c.method == method and pattern.fullmatch(c.path)]

    async def wait_for(
        self,
        method: str,
        path_pattern: str,
        count: int = 1,
        timeout: float = 2.0,  # noqa: ASYNC109 - the deadline is reported in the error raised
    ) -> list[DiscordCall]:
        """All matching calls once there are at least `count` (TimeoutError lists what came)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(found := self.calls_to(method, path_pattern)) < count:
            if loop.time() >= deadline:
                seen = [(c.method, c.path, c.status) for c in self.calls]
                raise TimeoutError(f"{count} x {method} {path_pattern} not seen; saw {seen}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), deadline - loop.time())
        return found

    def fail_next(
        self, method: str, path_pattern: str, status: int = 500, code: int = 0, message: str = ""
    ) -> None:
        """Answer the next matching request with this error (429 carries a short retry_after)."""
        error = DiscordError(status, code, message or f"{status}: injected failure")
        self._failures.append((method, re.compile(path_pattern), error))

    def reset(self) -> None:
        """Forget recorded calls and frames and injected failures (the world stays)."""
        self.calls.clear()
        self.gateway.frames.clear()
        self._failures.clear()

    # -- REST ------------------------------------------------------------------------------------

    def _route(
        self, method: str, path: str
    ) -> tuple[Callable[..., tuple[int, Any]], re.Match[str]]:
        for verb, pattern, handler in self._routes:
            if verb == method and (match := pattern.fullmatch(path)):
                return handler, match
        raise DiscordError(404, 0, f"fake Discord: {method} {path} not implemented")

    def _injected(self, method: str, path: str) -> DiscordError | None:
        for index, (verb, pattern, error) in enumerate(self._failures):
            if verb == method and pattern.fullmatch(path):
                del self._failures[index]
                return error
        return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path, method = "/" + request.match_info["tail"], request.method
        payload, files = await read_body(request)
        query = dict(request.query)
        try:
            # Interaction callbacks and webhooks are authorised by the token in their path.
            public = path.startswith(("/webhooks/", "/interactions/"))
            if not public and request.headers.get("Authorization") != f"Bot {self.token}":
                raise DiscordError(401, 0, "401: Unauthorized")
            if error := self._injected(method, path):
                raise error
            handler, match = self._route(method, path)
            status, result = handler(match, query, payload, files)
        except DiscordError as exc:
            self._record(DiscordCall(method, path, query, payload, files, exc.status))
            return json_response(exc.body(), exc.status)
        result = None if status == 204 else result
        self._record(DiscordCall(method, path, query, payload, files, status, result))
        return web.Response(status=204) if result is None else json_response(result, status)

    def _record(self, call: DiscordCall) -> None:
        self.calls.append(call)
        self._notify()

    def _open_dm(self, m: re.Match[str], q: Any, payload: Any, f: Any) -> tuple[int, Any]:
        return 200, self.channel(self.channel_id("dm", int(payload["recipient_id"])))

    def _stored(self, channel_id: int | str, message_id: int | str) -> dict[str, Any]:
        message = self.messages.get(int(message_id))
        if message is None or message["channel_id"] != str(channel_id):
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _post_message(
        self, m: re.Match[str], q: Any, payload: Any, files: list[UploadedFile]
    ) -> tuple[int, Any]:
        self.channel(m[1])
        return 200, self.store.create(int(m[1]), payload or {}, files)

    def _get_message(self, m: re.Match[str], q: Any, p: Any, f: Any) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._stored(m[1], m[2]))

    def _edit_message(
        self, m: re.Match[str], q: Any, payload: Any, files: list[UploadedFile]
    ) -> tuple[int, Any]:
        message = self._stored(m[1], m[2])
        if message["author"]["id"] != self.bot_user["id"]:
            raise DiscordError(403, 50005, "Cannot edit a message authored by another user")
        return 200, self.store.edit(message, payload or {}, files)

    def _delete_message(self, m: re.Match[str], q: Any, p: Any, f: Any) -> tuple[int, Any]:
        self.store.delete(self._stored(m[1], m[2]))
        return 204, None

    def _put_commands(self, m: re.Match[str], q: Any, payload: Any, f: Any) -> tuple[int, Any]:
        check_commands(payload)
        guild = int(m[2]) if m[2] else None
        if guild is not None and guild != self.guild_id:
            raise DiscordError(403, 50001, "Missing Access")
        known = {(c["type"], c["name"]): c["id"] for c in self.commands.get(guild, [])}
        synced = []
        for command in payload:
            kind = command.get("type", 1)
            command_id = known.get((kind, command["name"])) or str(self.snowflake())
            synced.append(
                command
                | {"id": command_id, "application_id": str(self.application_id), "type": kind}
                | {"version": str(self.snowflake())}
                | ({"guild_id": str(guild)} if guild else {})
            )
        self.commands[guild] = synced
        return 200, synced

    def _get_commands(self, m: re.Match[str], q: Any, p: Any, f: Any) -> tuple[int, Any]:
        return 200, self.commands.get(int(m[2]) if m[2] else None, [])

    # -- the user side ---------------------------------------------------------------------------

    def user_sends(
        self,
        content: str,
        channel: str | int = "general",
        user: str | int = "alice",
        roles: Sequence[str | int] | None = None,
    ) -> dict[str, Any]:
        """A user posts `content` in a channel (name, id or "dm"); returns the stored message.

        `roles` (names or ids) replaces the member's roles from now on.
        """
        user_id = self.user_id(user)
        if roles is not None:
            self.member_roles[user_id] = [self._role_id(r) for r in roles]
        mentioned = [int(i) for i in re.findall(r"<@!?(\d+)>", content)]
        message = self.store.create(
            self.channel_id(channel, user_id),
            {"content": content},
            [],
            author=self.user(user_id),
            mentions=[self.user(i) for i in mentioned if self._known_user(i)],
            mention_roles=[str(r) for r in map(int, re.findall(r"<@&(\d+)>", content))],
        )
        return message

    def _known_user(self, user_id: int) -> bool:
        return user_id in self.member_roles

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway dispatch (held until a client has identified)."""
        self.gateway.dispatch(event, data)

    def user_invokes(
        self,
        command: str,
        options: Mapping[str, Any] | None = None,
        user: str | int = "alice",
        channel: str | int = "general",
    ) -> dict[str, Any]:
        """A user runs a synced slash command (options by name); returns the interaction."""
        return self.interactions.invoke(command, dict(options or {}), user, channel)

    def user_clicks(
        self,
        custom_id: str,
        message: dict[str, Any] | int | str,
        user: str | int = "alice",
        values: Sequence[str] = (),
    ) -> dict[str, Any]:
        """A user presses a button (or picks `values` in a select) on a message (dict or id)."""
        return self.interactions.click(custom_id, message, user, values)


def client_options() -> dict[str, Any]:
    """Keyword arguments for a discord.py Client/Bot under test: all intents, and a short
    `guild_ready_timeout` (on_ready otherwise waits 2 s after the last GUILD_CREATE)."""
    import discord

    return {"intents": discord.Intents.all(), "guild_ready_timeout": 0.05}


def point_discord_at(fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch) -> None:
    """Send discord.py's REST calls and gateway connection to the fake (for this test only)."""
    import discord.gateway
    import discord.http
    import yarl

    monkeypatch.setattr(discord.http.Route, "BASE", fake.api_base)
    monkeypatch.setattr(
        discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url)
    )


@contextlib.asynccontextmanager
async def running_client(
    fake: FakeDiscord,
    client: discord.Client,
    monkeypatch: pytest.MonkeyPatch,
    timeout: float = 5.0,  # noqa: ASYNC109 - the deadline is reported in the error raised
) -> AsyncIterator[discord.Client]:
    """Start `client` against the fake, wait until it is ready; close it on exit."""
    point_discord_at(fake, monkeypatch)
    task = asyncio.create_task(client.start(fake.token))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        # wait_until_ready() cannot be awaited before login has run, so poll the public flag.
        while not client.is_ready():
            if task.done():
                task.result()
                raise RuntimeError("the discord client stopped before it was ready")
            if loop.time() > deadline:
                raise TimeoutError(f"discord client not ready within {timeout}s")
            await asyncio.sleep(0.005)
        yield client
    finally:
        await client.close()
        if not task.done():
            await task
