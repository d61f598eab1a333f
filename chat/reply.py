"""What the bot says back: text in a tiny markup subset, an optional PNG and optional buttons.

Markup (rendered by each adapter for its platform, escaped everywhere else):

- `**bold**`
- `` `code` `` (inline, monospace)
- one block of monospace lines between lines holding only ```` ``` ```` (tables)

Nothing else is markup: every other character is text, so user-supplied text can be quoted
safely once it goes through `plain_text`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BOLD", "CODE", "Button", "Reply", "chunks", "plain_text", "split_rendered", "table"]

# the markup subset's inline forms, for every renderer
BOLD = re.compile(r"\*\*(.+?)\*\*")
CODE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Button:
    """A button under a reply: its label, and the opaque data the adapter hands back on a press
    (a confirmation token, or a command to run)."""

    label: str
    data: str


@dataclass(frozen=True)
class Reply:
    """One answer to one message.

    Attributes:
        text: The message, in the markup subset above.
        image: PNG bytes to attach (a chart), if any.
        image_name: File name for the attachment.
        buttons: Buttons to show, in one row.
        ephemeral: Only the asker should see it (Discord honours it; elsewhere it is a hint).
    """

    text: str
    image: bytes | None = None
    image_name: str = "chart.png"
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = False


def plain_text(text: str) -> str:
    """`text` with markup characters neutralised, for quoting what a user or exchange wrote."""
    return text.replace("`", "'").replace("**", "*")


def table(rows: list[list[str]], header: list[str] | None = None) -> str:
    """A monospace table block: columns padded, numbers right-aligned."""
    lines = [header, *rows] if header else rows
    if not lines:
        return ""
    widths = [max(len(row[c]) for row in lines) for c in range(len(lines[0]))]

    def fmt(row: list[str]) -> str:
        cells = [
            cell.rjust(w) if _numeric(cell) else cell.ljust(w)
            for cell, w in zip(row, widths, strict=True)
        ]
        return "  ".join(cells).rstrip()

    body = [fmt(row) for row in lines]
    if header:
        body.insert(1, "  ".join("-" * w for w in widths))
    return "```\n" + "\n".join(body) + "\n```"


def chunks(text: str, limit: int) -> list[str]:
    """`text` split into pieces of at most `limit` characters, at line breaks where possible,
    never inside a monospace block (a block longer than `limit` is split and re-fenced)."""
    pieces: list[str] = []
    current = ""
    in_block = False
    for line in text.split("\n"):
        fence = line.strip() == "```"
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) + (4 if in_block else 0) <= limit:
            current = candidate
        else:
            if current:
                pieces.append(current + ("\n```" if in_block and not fence else ""))
            current = ("```\n" if in_block and not fence else "") + line
            while len(current) > limit:  # a single line longer than the limit
                pieces.append(current[:limit])
                current = current[limit:]
        if fence:
            in_block = not in_block
    if current:
        pieces.append(current)
    return pieces


def _numeric(cell: str) -> bool:
    stripped = cell.replace(",", "").replace("%", "").replace("+", "").replace("-", "", 1)
    return bool(stripped) and stripped.replace(".", "", 1).isdigit()


def strip_markup(text: str) -> str:
    """The text without markup (for platforms and logs that show plain text)."""
    lines = [line for line in text.split("\n") if line.strip() != "```"]
    return CODE.sub(r"\1", BOLD.sub(r"\1", "\n".join(lines)))


def split_rendered(
    text: str,
    limit: int,
    render: Callable[[str], str],
    length: Callable[[str], int],
    blank: Callable[[str], bool],
) -> list[str]:
    """`text` (markup) cut into pieces whose rendering is at most `limit` long (as `length`
    counts it), rendered; `blank` renderings are dropped (a platform refuses an empty message).
    Rendering may lengthen a piece (escapes, UTF-16 units): such a piece is cut finer."""
    pieces: list[str] = []
    _split(text, limit, _Splitter(limit, render, length, blank), pieces)
    return pieces


@dataclass(frozen=True)
class _Splitter:
    limit: int
    render: Callable[[str], str]
    length: Callable[[str], int]
    blank: Callable[[str], bool]


def _split(text: str, size: int, how: _Splitter, pieces: list[str]) -> None:
    for piece in chunks(text, size):
        rendered = how.render(piece)
        if how.blank(rendered):
            continue
        length = how.length(rendered)
        if length <= how.limit:
            pieces.append(rendered)
        else:
            smaller = max(1, min(size - 1, size * how.limit // length - 1))
            _split(piece, smaller, how, pieces)
