"""The console face: `tradechat chat`, the offline default (no token, no network).

A REPL with completion of the slash commands and a history file, or one message with `-c`.
Replies print with their markup as terminal styles; a chart is saved as a PNG and its path
printed; buttons print numbered, and typing the number (or the label) presses one.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from chat import registry
from chat.access import Caller
from chat.reply import BOLD, CODE, Button, Reply
from chat.router import Router

__all__ = ["ConsoleChat", "to_rich"]

_EXIT = {"exit", "quit", ":q"}


def to_rich(text: str) -> str:
    """The reply markup as rich console markup, everything else escaped."""
    out: list[str] = []
    in_block = False
    for line in text.split("\n"):
        if line.strip() == "```":
            in_block = not in_block
            continue
        safe = escape(line)
        if not in_block:
            safe = CODE.sub(r"[cyan]\1[/cyan]", BOLD.sub(r"[bold]\1[/bold]", safe))
        out.append(safe)
    return "\n".join(out)


class ConsoleChat:
    """One console user talking to the router.

    Args:
        router: The shared command router.
        console: Where replies print.
        image_dir: Where chart replies are saved (`image_out` overrides it for the next image).
        user: The console user's name (the console is the machine owner's).
    """

    def __init__(
        self,
        router: Router,
        console: Console,
        image_dir: Path = Path("user_data/chat_images"),
        user: str | None = None,
    ) -> None:
        self.router = router
        self.console = console
        self.image_dir = image_dir
        self.image_out: Path | None = None
        name = user or getpass.getuser()
        self.caller = Caller("console", name, name=name)
        self.buttons: tuple[Button, ...] = ()
        self.saved: list[Path] = []

    async def send(self, text: str) -> Reply:
        """Answer one message (or a press of a numbered button) and print the reply."""
        button = self._button(text)
        if button is not None:
            reply = await self.router.handle_button(self.caller, button.data, self._progress)
        else:
            reply = await self.router.handle_text(self.caller, text, self._progress)
        self.show(reply)
        return reply

    async def press(self, label: str) -> Reply:
        """Press the button labelled `label` under the last reply."""
        button = next((b for b in self.buttons if b.label.lower() == label.lower()), None)
        if button is None:
            raise ValueError(f"no button '{label}' under the last reply")
        reply = await self.router.handle_button(self.caller, button.data, self._progress)
        self.show(reply)
        return reply

    def show(self, reply: Reply) -> None:
        """Print a reply: text, the saved image's path, numbered buttons."""
        self.console.print(to_rich(reply.text), highlight=False)
        if reply.image is not None:
            path = self._save(reply.image, reply.image_name)
            self.console.print(f"[dim]chart saved to {escape(str(path))}[/dim]")
        self.buttons = reply.buttons
        if reply.buttons:
            choices = "  ".join(f"[{n}] {escape(b.label)}" for n, b in enumerate(reply.buttons, 1))
            self.console.print(f"[bold]{choices}[/bold]  (type the number)")

    async def repl(self, history: Path | None = None) -> None:
        """Read messages until EOF or `exit`; completion and history through readline."""
        _enable_readline(history)
        self.console.print("tradechat: ask in plain language or with /commands; /help lists "
                           "them, exit quits.")  # fmt: skip
        while True:
            try:
                text = await asyncio.to_thread(input, "you> ")
            except (EOFError, KeyboardInterrupt):
                self.console.print()
                return
            if text.strip().lower() in _EXIT:
                return
            if text.strip():
                await self.send(text)

    async def _progress(self, text: str) -> None:
        self.console.print(f"[dim]… {escape(text)}[/dim]", highlight=False)

    def _button(self, text: str) -> Button | None:
        choice = text.strip().lower()
        for n, button in enumerate(self.buttons, 1):
            if choice in (str(n), button.label.lower()):
                self.buttons = ()
                return button
        return None

    def _save(self, image: bytes, name: str) -> Path:
        if self.image_out is not None:
            path, self.image_out = self.image_out, None
        else:
            stem, _, ext = name.rpartition(".")
            path = self.image_dir / f"{stem or name}-{len(self.saved) + 1}.{ext or 'png'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(image)
        self.saved.append(path)
        return path


def _enable_readline(history: Path | None) -> None:
    """Tab completion of /commands and a persistent history, where readline exists."""
    try:
        import readline
    except ImportError:  # pragma: no cover - not on every platform
        return
    names = {*registry.COMMANDS, *(a for s in registry.COMMANDS.values() for a in s.aliases)}
    words: Sequence[str] = sorted(f"/{name}" for name in names)

    def complete(text: str, state: int) -> str | None:
        matches = [w for w in words if w.startswith(text)]
        return matches[state] if state < len(matches) else None

    readline.set_completer(complete)
    readline.set_completer_delims(" \t\n")
    readline.parse_and_bind("tab: complete")
    if history is not None:
        history.parent.mkdir(parents=True, exist_ok=True)
        if history.exists():
            readline.read_history_file(history)
        import atexit

        atexit.register(readline.write_history_file, history)
