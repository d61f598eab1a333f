"""The chat panel's pieces: messages in the reply markup subset, and reply buttons.

The markup (`**bold**`, `` `code` ``, and ``` fenced monospace blocks) is turned into styled text;
everything else is shown as written, never interpreted as Textual or Rich markup.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar, Literal

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Button

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.style import Style

__all__ = ["ChatLog", "ChatMessage", "ReplyButton", "reply_text"]

Speaker = Literal["you", "bot", "note"]
_INLINE = re.compile(r"\*\*(.+?)\*\*|`([^`\n]+)`")


def reply_text(text: str, code: Style | str = "", bold: Style | str = "bold") -> Text:
    """The reply markup as styled text: bold, inline code, and fenced blocks kept verbatim."""
    out = Text()
    in_block = False
    lines = text.split("\n")
    for n, line in enumerate(lines):
        if line.strip() == "```":
            in_block = not in_block
            continue
        if in_block:
            out.append(line, code)
        else:
            position = 0
            for match in _INLINE.finditer(line):
                out.append(line[position : match.start()])
                if match.group(1) is not None:
                    out.append(match.group(1), bold)
                else:
                    out.append(match.group(2), code)
                position = match.end()
            out.append(line[position:])
        if n < len(lines) - 1:
            out.append("\n")
    out.rstrip()
    return out


class ChatMessage(Widget):
    """One message: what the user sent, the bot's reply, or a note (progress, errors)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"message--code", "message--speaker"}

    def __init__(self, speaker: Speaker, text: str) -> None:
        super().__init__(classes=f"-{speaker}")
        self.speaker = speaker
        self.text = text

    def render(self) -> RenderableType:
        code = self.get_component_rich_style("message--code")
        name = self.get_component_rich_style("message--speaker")
        prefix = {"you": "you› ", "bot": "bot› ", "note": "… "}[self.speaker]
        body = Text(self.text) if self.speaker == "you" else reply_text(self.text, code)
        return Text.assemble((prefix, name), body)


class ReplyButton(Button):
    """A button under a reply; `data` goes back to the router when it is pressed."""

    def __init__(self, label: str, data: str) -> None:
        super().__init__(label, compact=True)
        self.data = data


class ChatLog(VerticalScroll):
    """The conversation, newest at the bottom."""

    def add(self, speaker: Speaker, text: str) -> ChatMessage:
        """Append a message and scroll to it."""
        message = ChatMessage(speaker, text)
        self.mount(message)
        self.scroll_end(animate=False)
        return message
