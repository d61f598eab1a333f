"""What the data screens share: reading in a thread worker on the app's refresh tick.

A screen reads through `readers` only while it is shown: when it becomes current and on every
tick of the app's refresh interval; hidden screens read nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual.screen import Screen

if TYPE_CHECKING:
    from tui.app import TradechatApp

__all__ = ["DataScreen"]


class DataScreen(Screen[None]):
    """A screen that reloads its data from the store when asked."""

    @property
    def dashboard(self) -> TradechatApp:
        """The app, with its settings, store and controls."""
        return cast("TradechatApp", self.app)

    def reload(self, force: bool = False) -> None:
        """Read fresh data (in a worker) once the store is open; `force` skips change checks.

        The base screen has nothing to read; data screens override it.
        """

    def on_screen_resume(self) -> None:
        self.reload()
