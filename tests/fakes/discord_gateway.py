"""The gateway side of the fake Discord: one websocket speaking Discord's gateway protocol.

Plain JSON text frames (discord.py accepts them although it asks for `compress=zlib-stream`):
HELLO on connect; IDENTIFY is answered with READY (the guild listed as unavailable) and a
GUILD_CREATE, a heartbeat with its ACK, a RESUME with "invalid session", a member request with one
GUILD_MEMBERS_CHUNK. Dispatches are filtered by the identified intents as Discord does, and held
until a client has identified.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

__all__ = [
    "DIRECT_MESSAGES",
    "GUILDS",
    "GUILD_MEMBERS",
    "GUILD_MESSAGES",
    "MESSAGE_CONTENT",
    "Gateway",
]

GUILDS, GUILD_MEMBERS, GUILD_MESSAGES = 1 << 0, 1 << 1, 1 << 9
DIRECT_MESSAGES, MESSAGE_CONTENT = 1 << 12, 1 << 15


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    outbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    intents: int | None = None

    async def write_loop(self) -> None:
        # One writer per socket keeps frames whole and in order.
        with contextlib.suppress(ConnectionResetError):
            while True:
                await self.ws.send_str(json.dumps(await self.outbox.get()))


class Gateway:
    """Reached as `fake.gateway`; `frames` holds what the client sent, `ready` is set once it
    has identified."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.frames: list[dict[str, Any]] = []
        self.ready = asyncio.Event()
        self._seq = itertools.count(1)
        self._backlog: list[tuple[str, dict[str, Any]]] = []
        self._conn: _Connection | None = None
        self._sockets: set[web.WebSocketResponse] = set()

    async def close(self) -> None:
        for ws in list(self._sockets):
            await ws.close()

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a dispatch (op 0) to the identified client, or hold it until IDENTIFY."""
        conn = self._conn
        if conn is None or conn.intents is None:
            self._backlog.append((event, data))
            return
        filtered = self._filter(event, data, conn.intents)
        if filtered is not None:
            conn.outbox.put_nowait({"op": 0, "s": next(self._seq), "t": event, "d": filtered})

    def _filter(self, event: str, data: dict[str, Any], intents: int) -> dict[str, Any] | None:
        if not event.startswith("MESSAGE_"):
            return data
        in_guild = "guild_id" in data
        if not intents & (GUILD_MESSAGES if in_guild else DIRECT_MESSAGES):
            return None
        mentions_bot = any(u["id"] == self.fake.bot_user["id"] for u in data.get("mentions", []))
        own = data.get("author", {}).get("id") == self.fake.bot_user["id"]
        if in_guild and not intents & MESSAGE_CONTENT and not (own or mentions_bot):
            hidden = {"content": "", "embeds": [], "attachments": [], "components": []}
            return data | {k: v for k, v in hidden.items() if k in data}
        return data

    async def serve(self, request: web.Request) -> web.StreamResponse:
        """The websocket at `/`: HELLO, then IDENTIFY -> READY + GUILD_CREATE, heartbeats."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        conn = _Connection(ws)
        writer = asyncio.create_task(conn.write_loop())
        conn.outbox.put_nowait({"op": 10, "d": {"heartbeat_interval": 45000}})
        try:
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    data = json.loads(frame.data)
                    self.frames.append(data)
                    await self._on_frame(conn, data)
        finally:
            self._sockets.discard(ws)
            if self._conn is conn:
                self._conn = None
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        return ws

    async def _on_frame(self, conn: _Connection, frame: dict[str, Any]) -> None:
        op, data = frame.get("op"), frame.get("d") or {}
        if op == 1:
            conn.outbox.put_nowait({"op": 11})
        elif op == 2:
            if data.get("token") != self.fake.token:
                await conn.ws.close(code=4004, message=b"Authentication failed.")
                return
            self._identify(conn, int(data.get("intents", 0)))
        elif op == 6:
            conn.outbox.put_nowait({"op": 9, "d": False})  # no resuming: start a new session
        elif op == 8:
            chunk = {"guild_id": str(self.fake.guild_id), "chunk_index": 0, "chunk_count": 1}
            chunk |= {"members": [self.fake.member(i) for i in self.fake.member_roles]}
            chunk |= {"nonce": data.get("nonce"), "not_found": []}
            self._dispatch_now(conn, "GUILD_MEMBERS_CHUNK", chunk)

    def _dispatch_now(self, conn: _Connection, event: str, data: dict[str, Any]) -> None:
        conn.outbox.put_nowait({"op": 0, "s": next(self._seq), "t": event, "d": data})

    def _identify(self, conn: _Connection, intents: int) -> None:
        conn.intents = intents
        self._conn = conn
        ready = {"v": 10, "user": self.fake.bot_user, "session_id": "fake-session", "shard": [0, 1]}
        ready |= {"guilds": [{"id": str(self.fake.guild_id), "unavailable": True}]}
        ready |= {"resume_gateway_url": self.fake.gateway_url, "private_channels": []}
        ready["application"] = {"id": str(self.fake.application_id), "flags": 0}
        self._dispatch_now(conn, "READY", ready)
        if intents & GUILDS:
            self._dispatch_now(conn, "GUILD_CREATE", self.fake.guild_create(intents))
        backlog, self._backlog = self._backlog, []
        for event, data in backlog:
            self.dispatch(event, data)
        self.ready.set()
