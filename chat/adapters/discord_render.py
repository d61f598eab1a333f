"""Replies and commands as Discord shows them: markdown, message pieces, slash-command options.

Pure data and string work (no discord.py import), so it is cheap to import and to test:

- `to_markdown(text)`: the reply markup subset as Discord markdown. `**bold**`, `` `code` ``
  and ```` ``` ```` blocks are Discord's own syntax and stay; in plain text every other
  character Discord would read as markdown (`*`, `_`, `~`, `|`, `` ` ``, `\\`, `[`, `<`, a
  quote, heading or list marker opening a line) is escaped with a backslash, so quoted user or
  exchange text shows as written and cannot turn into a mention or a masked link.
- `split_markdown(text)`: the reply cut with `chat.reply.chunks` (at lines, re-fencing tables)
  into messages of at most 2000 characters after escaping.
- `outgoing(reply)`: what one Reply becomes: message texts, the PNG shown in an embed of the
  first message, the buttons under the last one.
- `slash_options(spec)`: a registry command's arguments as slash-command options (type,
  required, description within 100 characters, choices).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from chat.parse.normalize import TIMEFRAMES
from chat.registry import ArgKind, ArgSpec, CommandSpec
from chat.reply import BOLD, CODE, Reply, split_rendered

__all__ = [
    "BUTTON_LABEL_LIMIT",
    "CUSTOM_ID_LIMIT",
    "DESCRIPTION_LIMIT",
    "MAX_CHOICES",
    "TEXT_LIMIT",
    "OptionType",
    "Outgoing",
    "SlashOption",
    "attachment_name",
    "option_type",
    "outgoing",
    "short",
    "slash_options",
    "split_markdown",
    "to_markdown",
]

# Discord's limits (its API refuses anything longer).
TEXT_LIMIT = 2000  # characters of a message's content
DESCRIPTION_LIMIT = 100  # characters of a command's or an option's description
BUTTON_LABEL_LIMIT = 80
CUSTOM_ID_LIMIT = 100
MAX_CHOICES = 25

_FENCE = "```"
_INLINE = re.compile(r"([\\*_~|`\[<])")
# What opens a quote, heading, subtext or list when it starts a line.
_LINE_START = re.compile(r"^(\s*)(>|#{1,3} |-# |[-*+] |\d+\. )")
_FILE_NAME = re.compile(r"[^A-Za-z0-9._-]")

OptionType = Literal["string", "integer", "number"]
_OPTION_TYPES: dict[ArgKind, OptionType] = {
    "symbol": "string",
    "symbol_or_all": "string",
    "timeframe": "string",
    "strategy": "string",
    "choice": "string",
    "user": "string",
    "topic": "string",
    "period": "integer",
    "count": "integer",
    "amount": "number",
    "money": "number",
    "price": "number",
    "fraction": "number",
    "value": "number",
}


def _escape_inline(text: str) -> str:
    return _INLINE.sub(r"\\\1", text)


def _line_start(line: str) -> str:
    return _LINE_START.sub(lambda m: m[1] + _escape_marker(m[2]), line)


def _escape_marker(marker: str) -> str:
    if marker[0].isdigit():  # "1. " -> "1\. ": the dot makes the list
        return marker.replace(".", "\\.", 1)
    return "\\" + marker


def _code_spans(segment: str) -> str:
    out: list[str] = []
    pos = 0
    for match in CODE.finditer(segment):
        out.append(_escape_inline(segment[pos : match.start()]))
        out.append(f"`{match.group(1)}`")
        pos = match.end()
    out.append(_escape_inline(segment[pos:]))
    return "".join(out)


def _line(line: str) -> str:
    out: list[str] = []
    pos = 0
    for match in BOLD.finditer(line):
        out.append(_code_spans(line[pos : match.start()]))
        out.append(f"**{_code_spans(match.group(1))}**")
        pos = match.end()
    out.append(_code_spans(line[pos:]))
    # block markers only matter at the start of the line, after inline escaping
    return _line_start("".join(out))


def to_markdown(text: str) -> str:
    """The markup subset as Discord markdown (see the module docstring); an unclosed fence is
    closed, and a fence inside a block is broken up so it cannot end the block early."""
    out: list[str] = []
    in_block = False
    for line in text.split("\n"):
        if line.strip() == _FENCE:
            out.append(_FENCE)
            in_block = not in_block
        elif in_block:
            out.append(line.replace(_FENCE, "``\u200b`"))
        else:
            out.append(_line(line))
    if in_block:
        out.append(_FENCE)
    return "\n".join(out)


def split_markdown(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """`text` (markup) as Discord messages of at most `limit` characters each; blank pieces
    (a lone fence) are dropped, since Discord refuses an empty message."""
    # escaping makes a piece longer, so it may need cutting finer
    return split_rendered(text, limit, to_markdown, len, _blank)


def _blank(rendered: str) -> bool:
    return not rendered.replace(_FENCE, "").strip()


def attachment_name(name: str) -> str:
    """A file name Discord keeps as it is (it rewrites other characters), for `attachment://`."""
    cleaned = _FILE_NAME.sub("_", name).strip("._") or "image"
    return cleaned if "." in cleaned else f"{cleaned}.png"


def short(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    """`text` within `limit` characters (cut with an ellipsis); never empty."""
    text = text.strip() or "-"
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class Outgoing:
    """One Reply as Discord messages, sent in order.

    Attributes:
        texts: Message contents (Discord markdown), each within the limit; empty when the
            reply is only an image.
        image: PNG bytes, attached to the first message and shown in its embed.
        image_name: The attachment's file name (the embed points at `attachment://` it).
        buttons: (label, data) of the buttons under the last message.
        ephemeral: Only the asker should see it (honoured for interaction answers).
    """

    texts: tuple[str, ...]
    image: bytes | None
    image_name: str
    buttons: tuple[tuple[str, str], ...]
    ephemeral: bool

    @property
    def count(self) -> int:
        """How many messages the reply takes (at least one when it has anything to show)."""
        if self.texts:
            return len(self.texts)
        return 1 if self.image is not None or self.buttons else 0


def outgoing(reply: Reply) -> Outgoing:
    """How `reply` goes out on Discord (see `Outgoing`)."""
    buttons = tuple((short(b.label, BUTTON_LABEL_LIMIT), b.data) for b in reply.buttons)
    return Outgoing(
        texts=tuple(split_markdown(reply.text)),
        image=reply.image,
        image_name=attachment_name(reply.image_name),
        buttons=buttons,
        ephemeral=reply.ephemeral,
    )


@dataclass(frozen=True)
class SlashOption:
    """One slash-command option, as the registry describes the argument."""

    name: str
    type: OptionType
    description: str
    required: bool
    choices: tuple[str, ...]
    min_value: int | None


def option_type(kind: ArgKind) -> OptionType:
    """The Discord option type of an argument kind: whole numbers for periods and counts,
    numbers for amounts, prices and fractions, strings for the rest."""
    return _OPTION_TYPES[kind]


def _option(arg: ArgSpec) -> SlashOption:
    kind = option_type(arg.kind)
    choices = arg.choices or (TIMEFRAMES if arg.kind == "timeframe" else ())
    return SlashOption(
        name=arg.name.lower(),
        type=kind,
        description=short(arg.help),
        required=arg.required,
        choices=choices if len(choices) <= MAX_CHOICES else (),
        min_value=1 if kind == "integer" else None,
    )


def slash_options(spec: CommandSpec) -> list[SlashOption]:
    """The command's arguments as options, required ones first (Discord insists)."""
    options = [_option(arg) for arg in spec.args]
    return sorted(options, key=lambda option: not option.required)
