"""The key bar: the shown screen's key bindings on one line at the bottom, clickable.

It shows what Textual's `Footer` shows (each key and its description, keys of a compact binding
group side by side under the group's name, the command palette's key on the right, disabled
keys dimmed), as one widget drawing one line of text. The `Footer` rebuilds a child widget per
key, restyling each, whenever the bindings are announced (every screen switch and focus move):
about 44 ms of every screen switch at 120 columns, most of a 100 ms budget. This bar redraws
only when the keys it shows change.
"""

from __future__ import annotations

from itertools import groupby
from typing import TYPE_CHECKING, ClassVar, NamedTuple

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.widget import Widget

if TYPE_CHECKING:
    from textual.binding import Binding
    from textual.events import Click
    from textual.screen import Screen

__all__ = ["KeyBar", "Shown"]


class Shown(NamedTuple):
    """One key as the bar shows it."""

    key: str
    display: str
    description: str
    enabled: bool
    group: Binding.Group | None


class KeyBar(Widget, can_focus=False):
    """The screen's bindings (those with `show`), drawn as one line; a click presses the key."""

    ALLOW_SELECT = False
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "key-bar--key",
        "key-bar--description",
        "key-bar--disabled",
        "key-bar--palette",
    }

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.keys: tuple[Shown, ...] = ()
        """The keys shown, in binding order; the command palette's key is `palette`."""
        self.palette: Shown | None = None
        self._spans: list[tuple[int, int, Shown]] = []

    def on_mount(self) -> None:
        self.screen.bindings_updated_signal.subscribe(self, self._bindings_changed)
        self._bindings_changed(self.screen)

    def on_unmount(self) -> None:
        self.screen.bindings_updated_signal.unsubscribe(self)

    def _bindings_changed(self, screen: Screen[object]) -> None:
        if screen is not self.screen:
            return
        keys, palette = self._collect(screen)
        if (keys, palette) != (self.keys, self.palette):
            self.keys, self.palette = keys, palette
            self.refresh()

    def _collect(self, screen: Screen[object]) -> tuple[tuple[Shown, ...], Shown | None]:
        app = self.app
        active = screen.active_bindings
        by_action: dict[str, Shown] = {}
        for _node, binding, enabled, _tooltip in active.values():
            if binding.show and binding.action not in by_action:  # one key per action
                by_action[binding.action] = self._shown(binding, enabled)
        palette = None
        if app.ENABLE_COMMAND_PALETTE and app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, _tooltip = active[app.COMMAND_PALETTE_BINDING]
            palette = self._shown(binding, enabled)
        return tuple(by_action.values()), palette

    def _shown(self, binding: Binding, enabled: bool) -> Shown:
        display = self.app.get_key_display(binding)
        return Shown(binding.key, display, binding.description, enabled, binding.group)

    def render(self) -> Text:
        key_style = self.get_component_rich_style("key-bar--key")
        description_style = self.get_component_rich_style("key-bar--description")
        dim = self.get_component_rich_style("key-bar--disabled")
        line = Text(no_wrap=True, overflow="crop", end="")
        spans: list[tuple[int, int, Shown]] = []

        def add_key(shown: Shown, text: str, style: Style) -> None:
            start = line.cell_len
            line.append(text, style + dim if not shown.enabled else style)
            spans.append((start, line.cell_len, shown))

        for group, members in groupby(self.keys, key=lambda s: s.group):
            run = list(members)
            if group is not None and group.compact and len(run) > 1:
                line.append(" ")
                for shown in run:
                    add_key(shown, shown.display, key_style)
                line.append(f" {group.description} ", description_style)
                continue
            for shown in run:
                add_key(shown, f" {shown.display} ", key_style)
                add_key(shown, f"{shown.description} ", description_style)
        if self.palette is not None:
            # the palette reaches every key and command: on a narrow screen the keys give way
            palette = self.palette
            room = self.size.width - cell_len(f"▏{palette.display} {palette.description} ")
            if room >= 0:
                line.truncate(room, pad=True)
                spans[:] = [(a, min(b, room), k) for a, b, k in spans if a < room]
                add_key(palette, "▏", self.get_component_rich_style("key-bar--palette"))
                add_key(palette, palette.display, key_style)
                add_key(palette, f" {palette.description} ", description_style)
        self._spans = spans
        return line

    def key_at(self, x: int) -> Shown | None:
        """The key drawn at column `x` of the bar, if any (as last drawn)."""
        return next((shown for a, b, shown in self._spans if a <= x < b), None)

    def on_click(self, event: Click) -> None:
        shown = self.key_at(event.x)
        if shown is None:
            return
        event.stop()
        if shown.enabled:
            self.app.simulate_key(shown.key)
        else:
            self.app.bell()
