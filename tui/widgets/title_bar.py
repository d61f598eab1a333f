"""The title bar at the top of every screen: an icon that opens the command palette, and the
app's and screen's titles centred, laid out as Textual's `Header` lays them out.

One widget drawing one line, rather than Textual's `Header` (a container of three widgets):
the header's title watcher looks its title widget up when a title changes, and a screen built
while the app shut down had that widget removed first (NoMatches, a traceback on quitting
during the warm-up). Drawing the line itself, the bar has nothing to look up.
"""

from __future__ import annotations

from textual.content import Content
from textual.events import Click
from textual.widget import Widget

__all__ = ["TitleBar"]

ICON_CELLS = 8  # the icon's box on the left, as in Textual's header
RIGHT_CELLS = 10  # the clock's space on the right, which keeps the title centred alike


class TitleBar(Widget):
    """`≡` (every monospace font has it; Textual's default icon showed as an empty box in the
    browser's fonts) and "app title — screen title" in the middle."""

    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
    }
    """

    ICON = "≡"

    def on_mount(self) -> None:
        for node in (self.app, self.screen):
            self.watch(node, "title", self._retitle, init=False)
            self.watch(node, "sub_title", self._retitle, init=False)
        if self.app.ENABLE_COMMAND_PALETTE:
            self.tooltip = "Open the command palette (the icon)"

    def _retitle(self) -> None:
        self.refresh()

    @property
    def title_text(self) -> Content:
        """The title as drawn, before it is fitted to the width."""
        screen = self.screen
        title = screen.title if screen.title is not None else self.app.title
        sub_title = screen.sub_title if screen.sub_title is not None else self.app.sub_title
        return self.app.format_title(title, sub_title)

    def render(self) -> Content:
        width = self.size.width
        middle = max(0, width - ICON_CELLS - RIGHT_CELLS)
        title = self.title_text
        if title.cell_length > middle:
            title = title.truncate(middle, ellipsis=True)
        indent = ICON_CELLS + (middle - title.cell_length) // 2
        line = Content.assemble(f" {self.ICON}".ljust(indent), title)
        return line.pad_right(max(0, width - line.cell_length))

    async def on_click(self, event: Click) -> None:
        if event.x < ICON_CELLS and self.app.ENABLE_COMMAND_PALETTE:
            event.stop()
            await self.run_action("app.command_palette")
