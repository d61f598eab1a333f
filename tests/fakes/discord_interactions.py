"""Interactions for the fake Discord: slash commands and component clicks, and their answers.

The user side builds INTERACTION_CREATE payloads as Discord sends them to discord.py 2.7 (which
needs `attachment_size_limit`), only for commands that were synced and buttons that exist. The
bot side serves `POST /interactions/{id}/{token}/callback` (4 message, 5 deferred "thinking", 6
deferred update, 7 update the clicked message, 8 autocomplete, 9 modal; once per interaction,
40060 after that, and within `answer_within_s` = 3 s, 10062 "Unknown interaction" after that, so a
slow command that does not defer fails here as on Discord), followups
`POST /webhooks/{app}/{token}` (only after the callback) and
`GET/PATCH/DELETE /webhooks/{app}/{token}/messages/{@original|id}`.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tests.fakes.discord_messages import ATTACHMENT_LIMIT
from tests.fakes.discord_wire import DiscordError
from tests.fakes.telegram_wire import UploadedFile

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

__all__ = ["Interaction", "Interactions"]

_ADMINISTRATOR = 1 << 3
_OPTION_TYPES: dict[int, Callable[[Any], Any]] = {3: str, 4: int, 5: bool, 10: float}
_SELECTS = {3, 5, 6, 7, 8}
Route = tuple[str, str, Callable[..., tuple[int, Any]]]


@dataclass
class Interaction:
    """One interaction the fake sent, and what the bot has done with it."""

    id: int
    token: str
    kind: int
    channel_id: int
    user_id: int
    payload: dict[str, Any]
    clicked: int | None = None
    created: float = field(default_factory=time.monotonic)
    acked: bool = False
    original: int | None = None
    messages: set[int] = field(default_factory=set)


def _invalid_type(kind: object) -> DiscordError:
    errors = {"type": {"_errors": [{"code": "BASE_TYPE_CHOICES", "message": f"bad {kind}"}]}}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


def _find_component(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    items = [item for row in message.get("components") or [] for item in row["components"]]
    for item in items:
        if item.get("custom_id") == custom_id:
            if item.get("disabled"):
                raise ValueError(f"component {custom_id!r} is disabled")
            return item
    have = [item.get("custom_id") for item in items]
    raise ValueError(f"no component {custom_id!r} on message {message['id']}; it has {have}")


class Interactions:
    """The interaction side of a `FakeDiscord` (reached as `fake.interactions`)."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.by_token: dict[str, Interaction] = {}
        # Discord forgets an interaction not answered (or deferred) within 3 seconds.
        self.answer_within_s = 3.0

    def routes(self) -> list[Route]:
        hook = r"/webhooks/(\d+)/([^/]+)"
        return [
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self._callback),
            ("POST", hook, self._followup),
            ("GET", hook + r"/messages/(@original|\d+)", self._get),
            ("PATCH", hook + r"/messages/(@original|\d+)", self._edit),
            ("DELETE", hook + r"/messages/(@original|\d+)", self._delete),
        ]

    # -- the user side ---------------------------------------------------------------------------

    def invoke(
        self, command: str, options: dict[str, Any], user: str | int, channel: str | int
    ) -> dict[str, Any]:
        """INTERACTION_CREATE for a synced chat-input command (see `FakeDiscord.user_invokes`)."""
        fake = self.fake
        user_id = fake.user_id(user)
        channel_id = fake.channel_id(channel, user_id)
        in_guild = fake.is_guild_channel(channel_id)
        in_this_guild = fake.commands.get(fake.guild_id, []) if in_guild else []
        synced = in_this_guild + fake.commands.get(None, [])
        slash = [c for c in synced if c.get("type", 1) == 1]
        definition = next((c for c in slash if c["name"] == command), None)
        if definition is None:
            names = sorted(c["name"] for c in synced)
            raise ValueError(f"/{command} is not synced here (synced: {names})")
        self._check_allowed(definition, user_id, in_guild)
        data = {"id": definition["id"], "name": command, "type": 1}
        data["options"] = self._options(definition, options)
        if "guild_id" in definition:
            data["guild_id"] = definition["guild_id"]
        return self._send(2, user_id, channel_id, data)

    def click(
        self,
        custom_id: str,
        message: dict[str, Any] | int | str,
        user: str | int,
        values: Sequence[str],
    ) -> dict[str, Any]:
        """INTERACTION_CREATE for a component (see `FakeDiscord.user_clicks`)."""
        fake = self.fake
        message_id = int(message["id"] if isinstance(message, dict) else message)
        stored = fake.messages.get(message_id)
        if stored is None:
            raise ValueError(f"message {message_id} does not exist (any more)")
        component = _find_component(stored, custom_id)
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": component["type"]}
        if component["type"] in _SELECTS:
            data["values"] = list(values)
        user_id = fake.user_id(user)
        event = fake.store.event(stored)
        return self._send(3, user_id, int(stored["channel_id"]), data, event, message_id)

    def _check_allowed(self, definition: dict[str, Any], user_id: int, in_guild: bool) -> None:
        """What Discord's client enforces: DM availability and default member permissions."""
        contexts = definition.get("contexts")
        if not in_guild and (definition.get("dm_permission") is False or contexts == [0]):
            raise ValueError(f"/{definition['name']} is not available in DMs")
        required = definition.get("default_member_permissions")
        if not in_guild or required is None:
            return
        have, needed = self.fake.permissions(user_id), int(required)
        if not have & _ADMINISTRATOR and (needed == 0 or have & needed != needed):
            raise ValueError(f"user {user_id} may not use /{definition['name']}")

    @staticmethod
    def _options(definition: dict[str, Any], given: dict[str, Any]) -> list[dict[str, Any]]:
        known = {o["name"]: o for o in definition.get("options") or []}
        if unknown := set(given) - set(known):
            raise ValueError(f"/{definition['name']} has no option {sorted(unknown)}")
        if missing := {n for n, o in known.items() if o.get("required")} - set(given):
            raise ValueError(f"/{definition['name']} needs {sorted(missing)}")
        options = []
        for name, value in given.items():
            kind = known[name]["type"]
            if kind not in _OPTION_TYPES:
                raise ValueError(f"option type {kind} of {name!r} is not supported by the fake")
            typed = _OPTION_TYPES[kind](value)
            choices = [c["value"] for c in known[name].get("choices") or []]
            if choices and typed not in choices:
                raise ValueError(f"{typed!r} is not a choice of {name!r}: {choices}")
            options.append({"name": name, "type": kind, "value": typed})
        return options

    def _send(
        self,
        kind: int,
        user_id: int,
        channel_id: int,
        data: dict[str, Any],
        message: dict[str, Any] | None = None,
        clicked: int | None = None,
    ) -> dict[str, Any]:
        fake = self.fake
        interaction_id = fake.snowflake()
        token = f"interaction-token-{interaction_id}"
        payload: dict[str, Any] = {"id": str(interaction_id), "type": kind, "token": token}
        payload |= {"application_id": str(fake.application_id), "version": 1, "data": data}
        payload |= {"channel_id": str(channel_id), "channel": fake.channel(channel_id)}
        payload |= {
            "locale": "en-US",
            "entitlements": [],
            "attachment_size_limit": ATTACHMENT_LIMIT,
        }
        payload["app_permissions"] = str(fake.permissions(fake.application_id))
        if fake.is_guild_channel(channel_id):
            member = fake.member(user_id) | {"permissions": str(fake.permissions(user_id))}
            payload |= {"guild_id": str(fake.guild_id), "member": member, "context": 0}
            payload |= {"guild": {"id": str(fake.guild_id), "locale": "en-US", "features": []}}
            payload |= {"guild_locale": "en-US"}
            payload["authorizing_integration_owners"] = {"0": str(fake.guild_id)}
        else:
            payload |= {"user": fake.user(user_id), "context": 1}
            payload["authorizing_integration_owners"] = {"0": "0"}
        if message is not None:
            payload["message"] = message
        self.by_token[token] = Interaction(
            interaction_id, token, kind, channel_id, user_id, payload, clicked
        )
        fake.dispatch("INTERACTION_CREATE", payload)
        return payload

    # -- the bot side ----------------------------------------------------------------------------

    def _find(self, token: str, interaction_id: int | None = None) -> Interaction:
        found = self.by_token.get(token)
        if found is None or (interaction_id is not None and found.id != interaction_id):
            raise DiscordError(404, 10062, "Unknown interaction")
        return found

    def _respond(
        self,
        interaction: Interaction,
        data: dict[str, Any],
        files: list[UploadedFile],
        **extra: Any,
    ) -> dict[str, Any]:
        fake = self.fake
        metadata = {"id": str(interaction.id), "type": interaction.kind}
        metadata |= {"user": fake.user(interaction.user_id)}
        metadata["authorizing_integration_owners"] = interaction.payload[
            "authorizing_integration_owners"
        ]
        if interaction.kind == 2:
            metadata["name"] = interaction.payload["data"]["name"]
        elif interaction.clicked is not None:
            metadata["interacted_message_id"] = str(interaction.clicked)
        message = fake.store.create(
            interaction.channel_id,
            data,
            files,
            type=20 if interaction.kind == 2 and interaction.original is None else 0,
            webhook_id=str(fake.application_id),
            application_id=str(fake.application_id),
            interaction_metadata=metadata,
            **extra,
        )
        interaction.messages.add(int(message["id"]))
        return message

    def _callback(
        self, m: re.Match[str], query: dict[str, str], payload: Any, files: list[UploadedFile]
    ) -> tuple[int, Any]:
        interaction = self._find(m[2], int(m[1]))
        if time.monotonic() - interaction.created > self.answer_within_s:
            raise DiscordError(404, 10062, "Unknown interaction")
        if interaction.acked:
            raise DiscordError(400, 40060, "Interaction has already been acknowledged.")
        kind, data = payload.get("type"), payload.get("data") or {}
        message: dict[str, Any] | None = None
        if kind == 4:
            message = self._respond(interaction, data, files)
        elif kind == 5:
            flags = (data.get("flags") or 0) | 128  # 128: "is thinking..."
            message = self._respond(interaction, {"flags": flags}, [], checked=False)
        elif kind in (6, 7) and interaction.clicked is not None:
            clicked = self.fake.messages[interaction.clicked]
            if kind == 7:
                message = self.fake.store.edit(clicked, data, files)
        elif kind not in (8, 9):
            raise _invalid_type(kind)
        interaction.acked = True
        interaction.original = int(message["id"]) if message else interaction.clicked
        if query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        answer: dict[str, Any] = {"id": str(interaction.id), "type": interaction.kind}
        answer["response_message_id"] = str(interaction.original) if interaction.original else None
        answer["response_message_loading"] = kind == 5
        answer["response_message_ephemeral"] = bool(message and message["flags"] & 64)
        body: dict[str, Any] = {"interaction": answer}
        if message is not None:
            body["resource"] = {"type": kind, "message": message}
        return 200, body

    def _followup(
        self, m: re.Match[str], query: dict[str, str], payload: Any, files: list[UploadedFile]
    ) -> tuple[int, Any]:
        interaction = self._find(m[2])
        if int(m[1]) != self.fake.application_id or not interaction.acked:
            raise DiscordError(404, 10015, "Unknown Webhook")
        message = self._respond(interaction, payload or {}, files)
        return (200, message) if query.get("wait") in ("1", "true", "True") else (204, None)

    def _target(self, m: re.Match[str]) -> dict[str, Any]:
        interaction = self._find(m[2])
        if int(m[1]) != self.fake.application_id:
            raise DiscordError(404, 10015, "Unknown Webhook")
        wanted = interaction.original if m[3] == "@original" else int(m[3])
        if m[3] != "@original" and wanted not in interaction.messages:
            wanted = None
        message = self.fake.messages.get(wanted) if wanted is not None else None
        if message is None:
            raise DiscordError(404, 10008, "Unknown Message")
        return message

    def _get(self, m: re.Match[str], q: Any, p: Any, f: Any) -> tuple[int, Any]:
        return 200, copy.deepcopy(self._target(m))

    def _edit(
        self, m: re.Match[str], q: Any, payload: Any, files: list[UploadedFile]
    ) -> tuple[int, Any]:
        return 200, self.fake.store.edit(self._target(m), payload or {}, files)

    def _delete(self, m: re.Match[str], q: Any, p: Any, f: Any) -> tuple[int, Any]:
        self.fake.store.delete(self._target(m))
        return 204, None
