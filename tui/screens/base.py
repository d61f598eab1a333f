"""What the data screens share: reading in a thread worker on the app's refresh tick.

A screen reads through `readers` only while it is shown: when it becomes current and on every
tick of the app's refresh interval; hidden screens read nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, TypeVar, cast

from textual.screen import Screen

from tui.readers import engine_clock

if TYPE_CHECKING:
    from tui.app import TradechatApp

__all__ = ["DataScreen"]

T = TypeVar("T")


class DataScreen(Screen[None]):
    """A screen that reloads its data from the store when asked."""

    _read_mark: tuple[Hashable, int] | None = None

    def __init__(self) -> None:
        super().__init__()
        # Textual marks a new screen's styles out of date, so showing it the first time
        # re-parses every stylesheet and restyles the app (30-50 ms of that key press), though
        # its widgets are styled from the app's current stylesheet when they are mounted. A
        # stylesheet change after this (a theme switch) still restyles it when it is shown.
        self._css_update_count = self.app._css_update_count

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

    def show_read(self, show: Callable[..., object], *args: object) -> None:
        """From a worker thread: `show(*args)` on the event loop, unless the app is shutting
        down meanwhile. A screen read while hidden can finish as the app takes its screens
        down, widget by widget; its result is dropped then."""

        def deliver() -> None:
            if self.is_attached and self.app.is_running:
                show(*args)

        self.app.call_from_thread(deliver)

    def read_if_moved(
        self, what: str, read: Callable[[], T], force: bool, key: Hashable = None
    ) -> T | None:
        """`read()`, in the calling thread worker, unless neither the engine's clock nor `key`
        (the market shown...) moved since the last read and `force` is False: then None. A
        failing read leaves the dashboard up: it is reported as "Could not read `what`"."""
        app = self.dashboard
        try:
            mark = (key, engine_clock(app.store))
            if not force and mark == self._read_mark:
                return None
            result = read()
        except Exception as exc:  # a read failing must leave the dashboard up and say why
            app.call_from_thread(app.report_error, what, exc)
            return None
        self._read_mark = mark
        return result
