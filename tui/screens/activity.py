"""Signals and the log stream: the strategies' latest signals with what the engine did about
each, above a log of fills and control actions that grows as the engine works."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import RichLog

from tui.activity import Activity, ActivityFeed
from tui.formatting import utc
from tui.screens.base import DataScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.signals import SignalsTable
from tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from botcore.persistence.records import SignalRecord

__all__ = ["ActivityScreen"]


class ActivityScreen(DataScreen):
    """The latest signals and the log stream."""

    SUB_TITLE = "signals & log"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next pane", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.feed = ActivityFeed()
        self.signals: tuple[SignalRecord, ...] = ()
        """The signals the table shows, newest first."""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        table = SignalsTable(id="signals")
        table.border_title = "Signals"
        yield table
        log = RichLog(id="log", wrap=True, markup=False, max_lines=5000)
        log.border_title = "Log: fills and control actions"
        yield log
        yield KeyBar()

    def reload(self, force: bool = False) -> None:
        if self.dashboard.ready:
            self._read(force)

    @work(thread=True, exclusive=True, group="activity")
    def _read(self, force: bool) -> None:
        app = self.dashboard
        activity = self.read_if_moved(
            "the signals and the log", lambda: self.feed.read(app.store), force
        )
        if activity is not None:
            self.show_read(self._show, activity)

    def _show(self, activity: Activity) -> None:
        self.signals = activity.signals
        self.query_one(SignalsTable).show(activity.signals)
        log = self.query_one("#log", RichLog)
        if log.scrollable_content_region.width == 0:
            # not laid out yet: lines written now would wrap at a guessed width for good
            self.call_after_refresh(self._show, activity)
            return
        lines = [
            Text.assemble(
                (utc(line.timestamp_ms), "dim"),
                "  ",
                (line.text, "bold" if line.kind == "fill" else "italic"),
            )
            for line in self.feed.accept(activity)
        ]
        if lines:
            # one write: RichLog renders each write on its own (the 200-line backlog written
            # line by line cost some 50 ms of a first showing)
            log.write(Text("\n").join(lines), expand=True)  # the log's width, not 78 columns
