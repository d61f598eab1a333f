"""Trade history: every closed trade, filtered by symbol and sorted by any column.

The trades are read again only when the engine has processed a bar since the last read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.widgets import Input, Label

from tui.formatting import signed_money
from tui.screens.base import DataScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.title_bar import TitleBar
from tui.widgets.trades import COLUMNS, TradesTable

if TYPE_CHECKING:
    from botcore.execution.positions import ClosedTrade

__all__ = ["TradesScreen"]


class TradesScreen(DataScreen):
    """Closed trades in a table."""

    SUB_TITLE = "trades"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("o", "sort_next", "Sort"),
        Binding("v", "reverse", "Reverse"),
        Binding("left_square_bracket", "page(-1)", "Page", key_display="[", show=False),
        Binding("right_square_bracket", "page(1)", "Page", key_display="]"),
        Binding("escape", "leave_filter", "Done", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._total = 0
        self._quote = ""
        self._paging = False

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="trades-bar"):
            yield Input(placeholder="filter: symbol", id="trades-filter", compact=True)
            yield Label("", id="trades-count")
        yield TradesTable(id="trades")
        yield KeyBar()

    def on_mount(self) -> None:
        self.query_one(TradesTable).focus()

    def reload(self, force: bool = False) -> None:
        if self.dashboard.ready:
            self._read(force)

    @work(thread=True, exclusive=True, group="trades")
    def _read(self, force: bool) -> None:
        app = self.dashboard
        report = self.read_if_moved("the trades", app.trades.read, force)
        if report is not None:
            self.show_read(self._show, report.trades, report.total)

    def _show(self, trades: tuple[ClosedTrade, ...], total: int) -> None:
        self._total = total
        self._quote = self.dashboard.settings.trading.quote
        self.query_one(TradesTable).trades = trades
        self._count()

    def _count(self) -> None:
        table = self.query_one(TradesTable)
        label = COLUMNS[table.sort_key].label
        arrow = "↓" if table.descending else "↑"
        matching = len(table.matching)
        shown = f"{matching} of {self._total}" if table.symbol_filter else f"{self._total}"
        net = signed_money(table.net_pnl, self._quote)
        text = f"{shown} trades · net {net} · by {label} {arrow}"
        if table.pages > 1:
            text += f" · page {table.page + 1}/{table.pages}"
        self.query_one("#trades-count", Label).update(text)
        paging = table.pages > 1
        if paging != self._paging:  # the footer is rebuilt only when the page keys come or go
            self._paging = paging
            self.refresh_bindings()

    @on(Input.Changed, "#trades-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.query_one(TradesTable).symbol_filter = event.value
        self._count()

    @on(Input.Submitted, "#trades-filter")
    def _filtered(self) -> None:
        self.query_one(TradesTable).focus()

    @on(TradesTable.HeaderSelected)
    def _header(self, event: TradesTable.HeaderSelected) -> None:
        self._sort_by(event.column_key)

    def _sort_by(self, key: str) -> None:
        table = self.query_one(TradesTable)
        if table.sort_key == key:
            table.descending = not table.descending
        else:
            table.sort_key = key
        self._count()

    def action_focus_filter(self) -> None:
        self.query_one("#trades-filter", Input).focus()

    def action_leave_filter(self) -> None:
        self.query_one(TradesTable).focus()

    def action_sort_next(self) -> None:
        table = self.query_one(TradesTable)
        keys = list(COLUMNS)
        table.sort_key = keys[(keys.index(table.sort_key) + 1) % len(keys)]
        self._count()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "page":
            return True
        # one page (or the table not mounted yet): no paging keys in the footer
        tables = self.query(TradesTable)
        return bool(tables) and tables.first().pages > 1

    def action_page(self, step: int) -> None:
        table = self.query_one(TradesTable)
        table.page = max(0, min(table.page + step, table.pages - 1))
        self._count()

    def action_reverse(self) -> None:
        table = self.query_one(TradesTable)
        table.descending = not table.descending
        self._count()
