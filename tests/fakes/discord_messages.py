"""How the fake Discord stores messages: attachments, embeds, edits, deletes, gateway echoes.

Uploaded files get an attachment record and a URL on the fake (like Discord's CDN) and embeds
that show `attachment://name` point at it, with the PNG's size. Every message the bot or a user
posts, edits or deletes is announced on the gateway (MESSAGE_CREATE/UPDATE/DELETE) unless it is
ephemeral, as Discord does.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.discord_wire import check_message, iso_now
from tests.fakes.telegram_wire import UploadedFile, png_size

if TYPE_CHECKING:
    from tests.fakes.discord_api import FakeDiscord

__all__ = ["ATTACHMENT_LIMIT", "MessageStore"]

ATTACHMENT_LIMIT = 10 * 2**20


class MessageStore:
    """Reached as `fake.store`; the messages themselves are `fake.messages`, by id."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.files: dict[int, bytes] = {}

    async def serve_file(self, request: web.Request) -> web.StreamResponse:
        """The attachment URLs (`/attachments/{channel}/{id}/{name}`), like Discord's CDN."""
        data = self.files.get(int(request.match_info["id"]))
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    def _attachments(
        self, channel_id: int, payload: Mapping[str, Any], files: list[UploadedFile]
    ) -> list[dict[str, Any]]:
        described = {str(a.get("id")): a for a in payload.get("attachments") or []}
        attachments = []
        for index, upload in enumerate(files):
            meta = described.get(str(index), {})
            attachment_id = self.fake.snowflake()
            self.files[attachment_id] = upload.data
            name = meta.get("filename") or upload.filename or f"file{index}"
            url = f"{self.fake.root}/attachments/{channel_id}/{attachment_id}/{name}"
            attachment = {"id": str(attachment_id), "filename": name, "size": len(upload.data)}
            attachment |= {"url": url, "proxy_url": url, "content_type": upload.content_type}
            if meta.get("description"):
                attachment["description"] = meta["description"]
            if size := png_size(upload.data):
                attachment |= {"width": size[0], "height": size[1]}
            attachments.append(attachment)
        return attachments

    @staticmethod
    def _embeds(embeds: list[dict[str, Any]], attachments: list[dict[str, Any]]) -> list[Any]:
        """Embeds as Discord stores them: `attachment://name` images point at the upload."""
        by_name = {a["filename"]: a for a in attachments}
        stored = copy.deepcopy(embeds)
        for embed in stored:
            embed.setdefault("type", "rich")
            for key in ("image", "thumbnail"):
                url = (embed.get(key) or {}).get("url", "")
                if url.startswith("attachment://") and url[13:] in by_name:
                    upload = by_name[url[13:]]
                    embed[key] = {"url": upload["url"], "proxy_url": upload["proxy_url"]}
                    embed[key] |= {k: upload[k] for k in ("width", "height") if k in upload}
        return stored

    def create(
        self,
        channel_id: int,
        payload: dict[str, Any],
        files: list[UploadedFile],
        author: dict[str, Any] | None = None,
        checked: bool = True,
        **extra: Any,
    ) -> dict[str, Any]:
        """Store a message as Discord would, announce it on the gateway, return a copy.

        `extra` sets further fields (`type`, `interaction_metadata`...); `checked=False` skips
        the content rules (for the empty "thinking..." message of a deferred interaction).
        """
        if checked:
            check_message(payload, files, ATTACHMENT_LIMIT)
        attachments = self._attachments(channel_id, payload, files)
        message: dict[str, Any] = {"id": str(self.fake.snowflake()), "channel_id": str(channel_id)}
        message |= {"author": author or self.fake.bot_user, "content": payload.get("content") or ""}
        message |= {"timestamp": iso_now(), "edited_timestamp": None, "tts": False}
        message |= {"mention_everyone": False, "mentions": [], "mention_roles": []}
        message |= {"attachments": attachments, "pinned": False, "type": 0}
        message |= {"embeds": self._embeds(payload.get("embeds") or [], attachments)}
        message |= {
            "flags": payload.get("flags") or 0,
            "components": payload.get("components") or [],
        }
        if reference := payload.get("message_reference"):
            message |= {"type": 19, "message_reference": reference}
        message |= extra
        self.fake.messages[int(message["id"])] = message
        if not message["flags"] & 64:
            self.fake.dispatch("MESSAGE_CREATE", self.event(message))
        return copy.deepcopy(message)

    def edit(
        self, message: dict[str, Any], payload: dict[str, Any], files: list[UploadedFile]
    ) -> dict[str, Any]:
        """Apply an edit (content, embeds, components, attachments kept by id plus new files)."""
        channel_id = int(message["channel_id"])
        attachments = message["attachments"]
        if "attachments" in payload:
            kept = {str(a.get("id")) for a in payload["attachments"]}
            attachments = [a for a in attachments if a["id"] in kept]
        attachments = attachments + self._attachments(channel_id, payload, files)
        edited: dict[str, Any] = {k: payload[k] for k in ("content", "components") if k in payload}
        if "embeds" in payload:
            edited["embeds"] = self._embeds(payload["embeds"] or [], attachments)
        after = message | edited | {"attachments": attachments}
        shown = {k: after[k] for k in ("content", "components", "embeds", "attachments")}
        check_message(shown, files, ATTACHMENT_LIMIT)
        message |= edited | {"attachments": attachments, "edited_timestamp": iso_now()}
        message["content"] = message["content"] or ""
        message["flags"] = message["flags"] & ~128  # an edit ends "is thinking..."
        if not message["flags"] & 64:
            self.fake.dispatch("MESSAGE_UPDATE", self.event(message))
        return copy.deepcopy(message)

    def delete(self, message: dict[str, Any]) -> None:
        """Forget a message and announce MESSAGE_DELETE (unless it was ephemeral)."""
        del self.fake.messages[int(message["id"])]
        deleted = {"id": message["id"], "channel_id": message["channel_id"]}
        if self.fake.is_guild_channel(int(message["channel_id"])):
            deleted["guild_id"] = str(self.fake.guild_id)
        if not message["flags"] & 64:
            self.fake.dispatch("MESSAGE_DELETE", deleted)

    def event(self, message: dict[str, Any]) -> dict[str, Any]:
        """A stored message as the gateway carries it (with guild_id and the author's member)."""
        event = copy.deepcopy(message)
        if self.fake.is_guild_channel(int(message["channel_id"])):
            event["guild_id"] = str(self.fake.guild_id)
            author_id = int(message["author"]["id"])
            if author_id in self.fake.member_roles:
                event["member"] = self.fake.member(author_id, with_user=False)
        return event
