"""Replies as Telegram shows them: the markup subset as Telegram HTML, cut at Telegram's limits.

Pure string work (no python-telegram-bot import), so it is cheap to import and to test:

- `to_html(text)`: `**bold**` -> `<b>`, `` `code` `` -> `<code>`, lines between ```` ``` ````
  fences -> one `<pre>` block; `&`, `<` and `>` escaped everywhere else. Telegram refuses code
  inside bold, so code markers inside a bold span are dropped (the text stays), which is also
  what `chat.reply.strip_markup` shows on plain-text surfaces.
- `split_html(text)`: the reply cut with `chat.reply.chunks` (at lines, re-fencing tables) into
  HTML messages of at most 4096 UTF-16 units as Telegram counts them (after parsing the HTML).
- `outgoing(reply)`: what one Reply becomes on Telegram: a photo (with the text as its caption
  when it fits Telegram's 1024 units, else the text follows as messages), text messages, and
  the buttons for the last message, their callback data at most 64 bytes.
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict
from dataclasses import dataclass

from chat.reply import BOLD, CODE, Reply, split_rendered

__all__ = [
    "CALLBACK_DATA_LIMIT",
    "CAPTION_LIMIT",
    "TEXT_LIMIT",
    "ButtonData",
    "Outgoing",
    "outgoing",
    "split_html",
    "to_html",
    "visible_length",
]

TEXT_LIMIT = 4096  # UTF-16 units of a message's text after entity parsing
CAPTION_LIMIT = 1024  # the same for a photo's caption
CALLBACK_DATA_LIMIT = 64  # bytes of an inline button's callback_data

_TAG = re.compile(r"<[^>]*>")
_FENCE = "```"


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _code_spans(segment: str) -> str:
    out: list[str] = []
    pos = 0
    for match in CODE.finditer(segment):
        out.append(_escape(segment[pos : match.start()]))
        out.append(f"<code>{_escape(match.group(1))}</code>")
        pos = match.end()
    out.append(_escape(segment[pos:]))
    return "".join(out)


def _line(line: str) -> str:
    # bold first, then code, in the order strip_markup applies them
    out: list[str] = []
    pos = 0
    for match in BOLD.finditer(line):
        out.append(_code_spans(line[pos : match.start()]))
        inner = CODE.sub(r"\1", match.group(1))
        out.append(f"<b>{_escape(inner)}</b>")
        pos = match.end()
    out.append(_code_spans(line[pos:]))
    return "".join(out)


def _pre(lines: list[str]) -> list[str]:
    if not lines:
        return []
    return ["<pre>" + "\n".join(_escape(line) for line in lines) + "</pre>"]


def to_html(text: str) -> str:
    """The markup subset as Telegram HTML (`parse_mode="HTML"`); an unclosed fence is closed."""
    out: list[str] = []
    block: list[str] | None = None
    for line in text.split("\n"):
        if line.strip() == _FENCE:
            if block is None:
                block = []
            else:
                out.extend(_pre(block))
                block = None
        elif block is not None:
            block.append(line)
        else:
            out.append(_line(line))
    if block is not None:
        out.extend(_pre(block))
    return "\n".join(out)


def visible_length(html_text: str) -> int:
    """What Telegram counts against its limits: UTF-16 units of the text once parsed."""
    shown = html.unescape(_TAG.sub("", html_text))
    return len(shown.encode("utf-16-le")) // 2


def _blank(html_text: str) -> bool:
    return not html.unescape(_TAG.sub("", html_text)).strip()


def split_html(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` (markup) as HTML messages of at most `limit` visible UTF-16 units; blank pieces
    (a lone fence) are dropped, since Telegram refuses an empty message."""
    # characters outside the BMP count twice, so a piece may need cutting finer
    return split_rendered(text, limit, to_html, visible_length, _blank)


class ButtonData:
    """Callback data within Telegram's 64 bytes: short data goes as it is, longer data is kept
    here (the newest `capacity` entries) and sent as a short key.

    Keys start with "#", which no router button data does.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = capacity
        self._long: OrderedDict[str, str] = OrderedDict()
        self._next = 0

    def encode(self, data: str) -> str:
        """What to put in `callback_data` for a button carrying `data`."""
        if len(data.encode()) <= CALLBACK_DATA_LIMIT and not data.startswith("#"):
            return data
        self._next += 1
        key = f"#{self._next}"
        self._long[key] = data
        while len(self._long) > self._capacity:
            self._long.popitem(last=False)
        return key

    def decode(self, callback_data: str) -> str:
        """The button's data for a pressed `callback_data` ("" for a forgotten long one)."""
        if callback_data.startswith("#"):
            return self._long.get(callback_data, "")
        return callback_data


@dataclass(frozen=True)
class Outgoing:
    """One Reply as Telegram messages, sent in this order: the photo, then the texts.

    Attributes:
        image: PNG bytes for sendPhoto, if any.
        image_name: The upload's file name.
        caption: HTML caption of the photo (the whole text, when it fits), else None.
        texts: HTML texts for sendMessage, each within the limit.
        buttons: (label, callback_data) for an inline keyboard on the last message.
    """

    image: bytes | None
    image_name: str
    caption: str | None
    texts: tuple[str, ...]
    buttons: tuple[tuple[str, str], ...]


def outgoing(reply: Reply, button_data: ButtonData) -> Outgoing:
    """How `reply` goes out on Telegram (see `Outgoing`)."""
    texts = split_html(reply.text)
    caption = None
    if reply.image is not None and len(texts) == 1 and visible_length(texts[0]) <= CAPTION_LIMIT:
        caption, texts = texts[0], []
    buttons = tuple((b.label, button_data.encode(b.data)) for b in reply.buttons)
    return Outgoing(reply.image, reply.image_name, caption, tuple(texts), buttons)
