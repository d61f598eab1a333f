"""The Bot API's wire format as the fake Telegram server reads and checks it.

Request bodies (form, multipart or JSON; every form value a string, structured values JSON-encoded
strings) decoded into typed records, error answers in Telegram's envelope, and Telegram's own
rules for what a message may contain: `parse_mode` HTML (only the tags Telegram supports, properly
nested) and MarkdownV2 (reserved characters escaped outside code, links and entity markers; every
entity closed; approximated), the 4096/1024 UTF-16-unit limits measured on the parsed text, and
inline keyboards (callback data of 1-64 bytes). Error wording follows Telegram's where known.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from aiohttp import web
from aiohttp.web_request import FileField

__all__ = [
    "BotApiError",
    "BotCall",
    "EntityParseError",
    "Files",
    "UploadedFile",
    "checked_caption",
    "checked_markup",
    "checked_text",
    "decode_param",
    "plain_text",
    "png_size",
    "read_params",
]

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Parameters that are free text or opaque ids: never JSON-decoded, so a text "42" stays a string.
_TEXT_PARAMS = frozenset({
    "text", "caption", "callback_query_id", "file_id", "parse_mode", "action", "url",
    "description", "short_description", "name", "title", "query", "emoji", "language_code",
    "inline_message_id", "business_connection_id", "photo", "document", "message_effect_id",
    "first_name", "last_name",
})  # fmt: skip


_BUTTON_ACTIONS = frozenset({
    "callback_data", "url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "callback_game", "pay", "web_app", "login_url", "copy_text",
})  # fmt: skip


class EntityParseError(ValueError):
    """Telegram's "can't parse entities" refusal; the message is Telegram's wording."""


class BotApiError(Exception):
    """An error answer of the Bot API: HTTP status = `error_code`, PTB maps it to its exceptions."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": self.code}
        body["description"] = self.description
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.code)


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request: the form field it came in, as the client sent it."""

    field: str
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass(frozen=True)
class BotCall:
    """One Bot API call the bot made (getUpdates excepted).

    Attributes:
        method: The method name as called (`sendMessage`).
        params: Parameters with JSON values decoded (`chat_id` 1001, `reply_markup` a dict); free
            text (`text`, `caption`, `callback_query_id`...) stays a string.
        raw: The parameters exactly as received, all strings.
        files: Uploaded file parts by field name (`photo`, `document`).
        result: What the fake answered (a Message dict, True...), None when it refused.
        error: The refusal's description, None on success.
    """

    method: str
    params: dict[str, Any]
    raw: dict[str, str]
    files: dict[str, UploadedFile]
    result: Any = None
    error: str | None = None


Files = dict[str, UploadedFile]


def png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG header, None when `data` is not a PNG."""
    if data[:8] != _PNG_MAGIC or len(data) < 24:
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def decode_param(key: str, value: str) -> Any:
    """A form value as the Bot API reads it: JSON where it is JSON, except free-text params."""
    if key in _TEXT_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> tuple[dict[str, str], Files]:
    """(raw string params, file parts) of a query, form, multipart or JSON request."""
    raw: dict[str, str] = dict(request.query)
    files: Files = {}
    if request.content_type == "application/json":
        for key, value in (await request.json()).items():
            raw[key] = value if isinstance(value, str) else json.dumps(value)
        return raw, files
    for key, value in (await request.post()).items():
        if isinstance(value, FileField):
            files[key] = UploadedFile(key, value.filename, value.content_type, value.file.read())
        else:
            raw[key] = value if isinstance(value, str) else bytes(value).decode()
    return raw, files


def checked_text(params: dict[str, Any], name: str, limit: int = 4096) -> str:
    """A text or caption as a client shows it (markup parsed), refused as Telegram would."""
    try:
        text = plain_text(str(params.get(name, "")), params.get("parse_mode"))
    except EntityParseError as exc:
        raise BotApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    if name == "text" and not text.strip():
        raise BotApiError(400, "Bad Request: message text is empty")
    if len(text.encode("utf-16-le")) // 2 > limit:
        raise BotApiError(
            400, f"Bad Request: message {'caption ' if name != 'text' else ''}is too long"
        )
    return text


def checked_caption(params: dict[str, Any]) -> dict[str, Any]:
    """`{"caption": shown text}` when the call has a caption (1024 units at most), else {}."""
    return {"caption": checked_text(params, "caption", 1024)} if "caption" in params else {}


def checked_markup(params: dict[str, Any]) -> dict[str, Any] | None:
    """The inline keyboard of a call (Telegram keeps only those on a message), checked."""
    markup = params.get("reply_markup")
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        return None
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= 64:
                raise BotApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not _BUTTON_ACTIONS & button.keys():
                raise BotApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )
    return markup


class _TelegramHtml(HTMLParser):
    """Telegram's HTML subset: known tags only, properly nested; collects the plain text."""

    TAGS = frozenset({
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
        "code", "pre", "blockquote", "tg-emoji",
    })  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.TAGS:
            raise EntityParseError(f'Unsupported start tag "{tag}"')
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            expected = f"</{self.open[-1]}>" if self.open else "nothing"
            raise EntityParseError(f'Unmatched end tag, expected "{expected}", found "</{tag}>"')
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


_MD_MARKERS = {"*": "Bold", "_": "Italic", "~": "Strikethrough", "|": "Spoiler"}


def _markdown_v2(text: str) -> str:
    """Telegram's MarkdownV2 rules, approximated: reserved characters outside entities must be
    escaped, entities must be closed. Returns the text without markup."""
    out: list[str] = []
    counts = dict.fromkeys(_MD_MARKERS, 0)
    i, code = 0, False
    while i < len(text):
        ch, nxt = text[i], text[i + 1 : i + 2]
        i += 1
        if ch == "\\" and nxt:
            out.append(nxt)
            i += 1
        elif ch == "`":
            code = not code
        elif code:
            out.append(ch)
        elif ch in _MD_MARKERS:
            counts[ch] += 1
        elif ch == "]" and nxt == "(":
            end = text.find(")", i)
            if end < 0:
                raise EntityParseError("Can't find end of a URL")
            i = end + 1
        elif ch == "[" or (ch == ">" and (i == 1 or text[i - 2] == "\n")):
            continue
        elif ch in "[]()>#+-=|{}.!\\":
            raise EntityParseError(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        else:
            out.append(ch)
    _check_closed(code, counts)
    return "".join(out)


def _check_closed(code: bool, counts: dict[str, int]) -> None:
    if code:
        raise EntityParseError("Can't find end of Code entity")
    for marker, name in _MD_MARKERS.items():
        if counts[marker] % 2:
            raise EntityParseError(f"Can't find end of {name} entity")


def plain_text(text: str, parse_mode: object) -> str:
    """The text a Telegram client shows for `text` under `parse_mode` (refusing what Telegram
    refuses)."""
    mode = str(parse_mode or "").lower()
    if mode == "html":
        parser = _TelegramHtml()
        parser.feed(text)
        parser.close()
        if parser.open:
            raise EntityParseError(
                f'Can\'t find end tag corresponding to start tag "{parser.open[-1]}"'
            )
        return "".join(parser.text)
    if mode == "markdownv2":
        return _markdown_v2(text)
    return text
