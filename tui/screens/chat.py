"""The chat panel: the same command router as Telegram and Discord, as the console user.

Text goes to `router.handle_text` (slash commands or plain language); buttons under a reply go
to `router.handle_button`. Anything that trades answers with Confirm/Cancel buttons first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Button, Input

from tui.screens.base import DataScreen
from tui.widgets.chat_log import ChatLog, ReplyButton
from tui.widgets.key_bar import KeyBar
from tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from chat.reply import Reply

__all__ = ["ChatScreen"]

_WELCOME = (
    "Ask in plain language (`how am I doing today?`) or with /commands; `/help` lists them. "
    "Esc leaves the input so the number keys switch screens again."
)


class ChatScreen(DataScreen):
    """A conversation with the bot."""

    SUB_TITLE = "chat"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave_input", "Leave input"),
        Binding("i", "focus_input", "Type"),
    ]

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ChatLog(id="chat-log")
        yield Horizontal(id="chat-buttons")
        yield Input(placeholder="Ask the bot… (/help)", id="chat-input", compact=True)
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(ChatLog).add("note", _WELCOME)

    def on_screen_resume(self) -> None:
        # built unseen by the warm-up, the screen is resumed too: focused then, the input's
        # cursor would blink on a hidden screen and keep that beat once shown
        if self.is_current:
            self.action_focus_input()

    def action_focus_input(self) -> None:
        self.query_one("#chat-input", Input).focus()

    def action_leave_input(self) -> None:
        self.set_focus(None)

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        if not text:
            return
        self.query_one(ChatLog).add("you", text)
        self._ask(text, None)

    @on(Button.Pressed, "#chat-buttons ReplyButton")
    def _pressed(self, event: Button.Pressed) -> None:
        button = event.button
        assert isinstance(button, ReplyButton)  # the selector matched only reply buttons
        self.query_one(ChatLog).add("you", f"[{button.label}]")
        self._clear_buttons()
        self._ask(None, button.data)

    @work(group="chat")
    async def _ask(self, text: str | None, button: str | None) -> None:
        app = self.dashboard
        router = await app.chat_router()

        async def progress(message: str) -> None:
            self.query_one(ChatLog).add("note", message)

        if button is not None:
            reply = await router.handle_button(app.caller, button, progress)
        else:
            reply = await router.handle_text(app.caller, text or "", progress)
        self._show(reply)

    def _show(self, reply: Reply) -> None:
        log = self.query_one(ChatLog)
        log.add("bot", reply.text)
        if reply.image is not None:
            log.add("note", "(a chart came with this reply; press 2 for the terminal chart)")
        self._clear_buttons()
        row = self.query_one("#chat-buttons", Horizontal)
        row.mount_all(ReplyButton(b.label, b.data) for b in reply.buttons)
        row.set_class(bool(reply.buttons), "-shown")

    def _clear_buttons(self) -> None:
        row = self.query_one("#chat-buttons", Horizontal)
        row.remove_children()
        row.set_class(False, "-shown")
