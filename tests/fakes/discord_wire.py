"""Discord's HTTP API wire format as the fake Discord reads, checks and answers it.

Error answers carry Discord's JSON error body (`{"code", "message", "errors"}`) with the
Content-Type exactly `application/json`: discord.py compares that header with `==` and would read
aiohttp's `application/json; charset=utf-8` as text. Bodies are JSON or multipart (`payload_json`
plus `files[n]` parts). Messages and application commands are checked against Discord's documented
limits (2000 characters of content, 10 embeds of at most 6000 characters, 5 rows of 5 buttons,
unique custom ids of at most 100 characters; command and option names lower case, 1-32
characters, descriptions 1-100, at most 25 options, required ones first), because an adapter that
breaks them works in a unit test and fails against the real Discord.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

from tests.fakes.telegram_wire import UploadedFile

__all__ = [
    "DiscordCall",
    "DiscordError",
    "Snowflakes",
    "check_commands",
    "check_message",
    "iso_now",
    "json_response",
    "read_body",
    "role_payload",
    "text_channel_payload",
    "user_payload",
]

_DISCORD_EPOCH_MS = 1_420_070_400_000
_NAME = re.compile(r"^[-_'\w]{1,32}$")
_EMBED_LIMITS = {"title": 256, "description": 4096}
_EMBED_TOTAL = 6000


class DiscordError(Exception):
    """An error answer: HTTP `status`, Discord's JSON error `code` and `message`."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        if self.status == 429:
            # discord.py sleeps `retry_after` and retries; keep it short for tests.
            body |= {"retry_after": 0.01, "global": False}
        return body


def _invalid(field: str, message: str, code: str = "BASE_TYPE_MAX_LENGTH") -> DiscordError:
    errors = {field: {"_errors": [{"code": code, "message": message}]}}
    return DiscordError(400, 50035, "Invalid Form Body", errors)


@dataclass(frozen=True)
class DiscordCall:
    """One REST request the bot made.

    Attributes:
        method: HTTP verb.
        path: Path below `/api/v10` (`/channels/123/messages`).
        query: Query parameters (`with_response`, `wait`...).
        json: The JSON payload (for multipart, the parsed `payload_json`), None without a body.
        files: The `files[n]` parts in order.
        status: The HTTP status the fake answered.
        result: The JSON the fake answered (a Message dict...), None for 204 or an error.
    """

    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: list[UploadedFile]
    status: int
    result: Any = None


class Snowflakes:
    """Discord ids: milliseconds since Discord's epoch shifted left 22 bits, plus a counter."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def __call__(self) -> int:
        millis = int(time.time() * 1000) - _DISCORD_EPOCH_MS
        return (millis << 22) | (next(self._counter) & 0x3FFFFF)


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int, name: str, bot: bool = False) -> dict[str, Any]:
    user: dict[str, Any] = {"id": str(user_id), "username": name, "discriminator": "0"}
    user["avatar"] = None
    return user | {"global_name": name.title(), "bot": bot, "public_flags": 0}


def role_payload(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    role: dict[str, Any] = {"id": str(role_id), "name": name, "permissions": str(permissions)}
    role |= {"position": position, "color": 0, "colors": {"primary_color": 0}, "hoist": False}
    return role | {"managed": False, "mentionable": True, "flags": 0, "icon": None}


def text_channel_payload(
    channel_id: int, guild_id: int, name: str, position: int
) -> dict[str, Any]:
    channel: dict[str, Any] = {"id": str(channel_id), "type": 0, "guild_id": str(guild_id)}
    channel["name"] = name
    channel |= {"position": position, "permission_overwrites": [], "parent_id": None}
    return channel | {"topic": None, "nsfw": False, "rate_limit_per_user": 0}


def json_response(data: Any, status: int = 200) -> web.Response:
    """JSON with the Content-Type discord.py insists on (exactly `application/json`).

    `Via` is there because discord.py takes a 429 without it for a Cloudflare ban and raises
    instead of waiting `retry_after` and retrying.
    """
    headers = {"Content-Type": "application/json", "Via": "1.1 google"}
    return web.Response(body=json.dumps(data), status=status, headers=headers)


async def read_body(request: web.Request) -> tuple[Any, list[UploadedFile]]:
    """(JSON payload, file parts) of a JSON or multipart request; (None, []) without a body."""
    if not request.body_exists:
        return None, []
    if request.content_type != "multipart/form-data":
        return await request.json(), []
    payload: Any = None
    files: list[UploadedFile] = []
    for name, value in (await request.post()).items():
        if isinstance(value, FileField):
            data = value.file.read()
            files.append(UploadedFile(name, value.filename, value.content_type, data))
        elif name == "payload_json":
            payload = json.loads(value if isinstance(value, str) else bytes(value).decode())
    return payload, files


def _check_embeds(embeds: list[dict[str, Any]]) -> None:
    if len(embeds) > 10:
        raise _invalid("embeds", "Must be 10 or fewer in length.")
    total = 0
    for index, embed in enumerate(embeds):
        for key, limit in _EMBED_LIMITS.items():
            text = str(embed.get(key) or "")
            total += len(text)
            if len(text) > limit:
                raise _invalid(f"embeds.{index}.{key}", f"Must be {limit} or fewer in length.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _invalid(f"embeds.{index}.fields", "Must be 25 or fewer in length.")
        total += sum(len(str(f.get("name", ""))) + len(str(f.get("value", ""))) for f in fields)
        total += len(str((embed.get("footer") or {}).get("text", "")))
    if total > _EMBED_TOTAL:
        raise _invalid("embeds", "Embed size exceeds maximum size of 6000")


def _check_components(rows: list[dict[str, Any]]) -> None:
    if len(rows) > 5:
        raise _invalid("components", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(rows):
        items = row.get("components") or []
        if len(items) > 5:
            raise _invalid(f"components.{r}.components", "Must be 5 or fewer in length.")
        for item in items:
            custom_id = item.get("custom_id")
            if custom_id is None:
                continue
            if len(custom_id) > 100 or len(str(item.get("label") or "")) > 80:
                raise _invalid(f"components.{r}", "Must be 100 or fewer in length.")
            if custom_id in seen:
                raise _invalid("components", "Component custom id cannot be duplicated", "DUP")
            seen.add(custom_id)


def check_message(payload: dict[str, Any], files: list[UploadedFile], size_limit: int) -> None:
    """Refuse a message payload as Discord would (limits above; an empty message; a big file)."""
    content = payload.get("content") or ""
    if len(content) > 2000:
        raise _invalid("content", "Must be 2000 or fewer in length.")
    _check_embeds(payload.get("embeds") or [])
    _check_components(payload.get("components") or [])
    for upload in files:
        if len(upload.data) > size_limit:
            raise DiscordError(413, 40005, "Request entity too large")
    parts = ("embeds", "components", "sticker_ids", "poll", "attachments")
    if not content and not files and not any(payload.get(part) for part in parts):
        raise DiscordError(400, 50006, "Cannot send an empty message")


def _check_options(where: str, options: list[dict[str, Any]]) -> None:
    if len(options) > 25:
        raise _invalid(f"{where}.options", "Must be 25 or fewer in length.")
    optional_seen = False
    for index, option in enumerate(options):
        at = f"{where}.options.{index}"
        name, description = option.get("name", ""), option.get("description", "")
        if not _NAME.match(name) or name != name.lower():
            raise _invalid(f"{at}.name", "Invalid application command option name", "NAME")
        if not 1 <= len(description) <= 100:
            raise _invalid(f"{at}.description", "Must be between 1 and 100 in length.")
        if option.get("required") and optional_seen:
            raise _invalid(at, "Required options must be placed before non-required options")
        optional_seen = optional_seen or not option.get("required")
        if len(option.get("choices") or []) > 25:
            raise _invalid(f"{at}.choices", "Must be 25 or fewer in length.")


def check_commands(commands: list[dict[str, Any]]) -> None:
    """Refuse a bulk command overwrite as Discord would (see the module docstring)."""
    if len([c for c in commands if c.get("type", 1) == 1]) > 100:
        raise _invalid("_errors", "Maximum number of application commands reached (100)")
    names: set[tuple[int, str]] = set()
    for index, command in enumerate(commands):
        name, kind = command.get("name", ""), command.get("type", 1)
        if kind == 1 and (not _NAME.match(name) or name != name.lower()):
            raise _invalid(f"{index}.name", "Invalid application command name", "NAME")
        if kind == 1 and not 1 <= len(command.get("description", "")) <= 100:
            raise _invalid(f"{index}.description", "Must be between 1 and 100 in length.")
        if (kind, name) in names:
            raise _invalid(f"{index}.name", "Application command names must be unique", "DUP")
        names.add((kind, name))
        _check_options(str(index), command.get("options") or [])
