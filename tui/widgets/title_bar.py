"""The title bar at the top of every screen."""

from __future__ import annotations

from textual.widgets import Header

__all__ = ["TitleBar"]


class TitleBar(Header):
    """Textual's header (a click on the icon opens the command palette) with an icon every
    monospace font has: the default, U+2B58, is missing from the fonts a browser draws the
    served dashboard with, where it showed as an empty box."""

    def __init__(self) -> None:
        super().__init__(icon="≡")
