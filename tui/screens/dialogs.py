"""Dialogs over the dashboard: confirm closing a position, pick a strategy for a market.

They only ask; the app does what was chosen through the services.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Select, Static

__all__ = ["ALL_MARKETS", "ConfirmDialog", "StrategyDialog"]

ALL_MARKETS = "*"


class ConfirmDialog(ModalScreen[bool]):
    """A yes/no question about an action that trades; Cancel has the focus.

    Dismissed with True only when the confirm button (or `y`) is pressed.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "answer(False)", "Cancel"),
        Binding("y", "answer(True)", "Confirm"),
    ]

    def __init__(self, title: str, body: str, confirm: str) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.confirm = confirm

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.body, classes="dialog-body", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm, variant="error", id="confirm")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class StrategyDialog(ModalScreen[tuple[str, str | None] | None]):
    """Pick a strategy and the market it should trade (or every market).

    Dismissed with `(strategy, symbol)` (`symbol` None for all markets), or None on cancel.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self, strategies: tuple[str, ...], current: tuple[tuple[str, str], ...], symbol: str
    ) -> None:
        super().__init__()
        self.strategies = strategies
        self.current = dict(current)
        self.symbol = symbol

    def compose(self) -> ComposeResult:
        markets = [(f"{s} (now {name})", s) for s, name in self.current.items()]
        with Vertical(classes="dialog"):
            yield Label("Change a market's strategy", classes="dialog-title")
            yield Select(
                [*markets, ("All markets", ALL_MARKETS)],
                value=self.symbol if self.symbol in self.current else ALL_MARKETS,
                allow_blank=False,
                id="market",
            )
            yield Select(
                [(name, name) for name in self.strategies],
                value=self.current.get(self.symbol, Select.BLANK),
                prompt="strategy",
                id="strategy",
            )
            yield Static(
                "It trades from the engine's next bar, with its default parameters.",
                classes="dialog-body",
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", variant="primary", id="apply")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        strategy = self.query_one("#strategy", Select).value
        market = self.query_one("#market", Select).value
        if not isinstance(strategy, str):
            self.notify("Pick a strategy first.", severity="warning")
            return
        self.dismiss((strategy, None if market == ALL_MARKETS else str(market)))
