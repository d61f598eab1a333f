"""Closed trades as a table that filters by symbol, sorts by any column, and pages.

Filtering and sorting work on the trades themselves (numbers and moments, not their text), over
all of them; the table then holds one page of `PAGE_ROWS` (a few screens).

The table draws its lines itself (Textual's line API) rather than through a DataTable: each
line is a handful of segments of text already cut to the column widths. A DataTable renders
every visible cell through Rich and measures every cell again when idle, about 45 ms a page:
most of a sort, filter or page key's 100 ms budget. It looks and moves like the DataTable
(header, zebra rows, a row cursor, a click on a header sorts, scrolling both ways).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.formatting import amount, price, signed_money, signed_pct, utc

if TYPE_CHECKING:
    from botcore.execution.positions import ClosedTrade

__all__ = ["COLUMNS", "PAGE_ROWS", "Column", "TradesTable"]

PAGE_ROWS = 100


@dataclass(frozen=True)
class Column:
    """A column: its header, what it sorts by, its text, and whether it holds a number."""

    label: str
    sort: Callable[[ClosedTrade], Any]
    text: Callable[[ClosedTrade], str]
    numeric: bool = False


COLUMNS: dict[str, Column] = {
    "exit": Column("Exit (UTC)", lambda t: t.exit_ms, lambda t: utc(t.exit_ms)),
    "symbol": Column("Symbol", lambda t: t.symbol, lambda t: t.symbol),
    "pnl": Column("P&L", lambda t: t.pnl, lambda t: signed_money(t.pnl), numeric=True),
    "pnl_pct": Column("P&L %", lambda t: t.pnl_pct, lambda t: signed_pct(t.pnl_pct), True),
    "entry_price": Column("Entry", lambda t: t.entry_price, lambda t: price(t.entry_price), True),
    "exit_price": Column("Exit", lambda t: t.exit_price, lambda t: price(t.exit_price), True),
    "amount": Column("Amount", lambda t: t.amount, lambda t: amount(t.amount), numeric=True),
    "strategy": Column("Strategy", lambda t: t.strategy, lambda t: t.strategy or "manual"),
    "reason": Column("Reason", lambda t: t.exit_reason, lambda t: t.exit_reason),
    "entry": Column("Entry (UTC)", lambda t: t.entry_ms, lambda t: utc(t.entry_ms)),
}

_KEYS = tuple(COLUMNS)
_TONED = frozenset({"pnl", "pnl_pct"})  # drawn green for a gain, red for a loss
_PAD = 1  # blank cells either side of each column's text


class TradesTable(ScrollView, can_focus=True):
    """Trades matching `symbol_filter` (part of the symbol, any case), sorted by `sort_key`,
    `page` by page, with a row cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "trades--header",
        "trades--even-row",
        "trades--odd-row",
        "trades--cursor",
        "trades--gain",
        "trades--loss",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
    ]

    class HeaderSelected(Message):
        """A column's header was clicked."""

        def __init__(self, table: TradesTable, column_key: str) -> None:
            super().__init__()
            self.table = table
            self.column_key = column_key

        @property
        def control(self) -> TradesTable:
            return self.table

    trades: reactive[tuple[ClosedTrade, ...]] = reactive((), always_update=True)
    symbol_filter: reactive[str] = reactive("")
    sort_key: reactive[str] = reactive("exit")
    descending: reactive[bool] = reactive(True)
    page: reactive[int] = reactive(0)
    cursor_row: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.matching: list[ClosedTrade] = []
        """The trades passing the filter, in the sort order (every page)."""
        self.shown: list[ClosedTrade] = []
        """The trades on the current page, top to bottom."""
        self._cells: list[tuple[str, ...]] = []
        self._widths: tuple[int, ...] = tuple(len(c.label) for c in COLUMNS.values())
        self._lines: dict[tuple[int, bool], Strip] = {}

    # -- what is shown ----------------------------------------------------------------------
    @property
    def pages(self) -> int:
        """How many pages the matching trades fill (at least one)."""
        return max(1, -(-len(self.matching) // PAGE_ROWS))

    @property
    def net_pnl(self) -> Decimal:
        """The P&L of every matching trade (all pages)."""
        return sum((t.pnl for t in self.matching), Decimal(0))

    @property
    def row_count(self) -> int:
        """Rows on the current page."""
        return len(self.shown)

    def cells(self, key: str) -> list[str]:
        """The text of column `key` on the current page, top to bottom."""
        index = _KEYS.index(key)
        return [row[index] for row in self._cells]

    def column_x(self, key: str) -> int:
        """Where column `key` starts, in cells from the table's left edge (unscrolled)."""
        index = _KEYS.index(key)
        return sum(w + 2 * _PAD for w in self._widths[:index])

    def watch_trades(self) -> None:
        self._select()

    def watch_symbol_filter(self) -> None:
        self.set_reactive(TradesTable.page, 0)  # the new selection starts at its first page
        self._select()

    def watch_sort_key(self) -> None:
        self._select()

    def watch_descending(self) -> None:
        self._select()

    def watch_page(self) -> None:
        self._fill()

    def _select(self) -> None:
        wanted = self.symbol_filter.strip().lower()
        found = [t for t in self.trades if wanted in t.symbol.lower()]
        found.sort(key=COLUMNS[self.sort_key].sort, reverse=self.descending)
        self.matching = found
        self.set_reactive(TradesTable.page, min(self.page, self.pages - 1))
        self._fill()

    def _fill(self) -> None:
        selected = self.shown[self.cursor_row].id if self.cursor_row < len(self.shown) else None
        start = self.page * PAGE_ROWS
        self.shown = self.matching[start : start + PAGE_ROWS]
        self._cells = [tuple(c.text(t) for c in COLUMNS.values()) for t in self.shown]
        widths = [len(c.label) for c in COLUMNS.values()]
        for texts in self._cells:
            widths = [max(w, len(text)) for w, text in zip(widths, texts, strict=True)]
        self._widths = tuple(widths)
        self._lines.clear()
        table_width = self.column_x(_KEYS[-1]) + widths[-1] + 2 * _PAD
        self.virtual_size = Size(table_width, 1 + len(self.shown))  # the header, the rows
        ids = [t.id for t in self.shown]
        self.set_reactive(TradesTable.cursor_row, ids.index(selected) if selected in ids else 0)
        self._show_cursor()
        self.refresh()

    # -- the cursor ---------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self._show_cursor()
        self.refresh_line_of(old)
        self.refresh_line_of(new)

    def refresh_line_of(self, row: int) -> None:
        """Redraw the line of page row `row` (nothing happens when it is out of view)."""
        self.refresh_line(row + 1)  # a line of the virtual table, where the header is line 0

    def _show_cursor(self) -> None:
        """Scroll so that the cursor's row is in view below the header."""
        if not self.is_mounted:
            return
        rows_in_view = max(1, self.scrollable_content_region.height - 1)
        top = self.scroll_offset.y
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + rows_in_view:
            self.scroll_to(y=self.cursor_row - rows_in_view + 1, animate=False, immediate=True)

    def _move(self, row: int) -> None:
        if self.shown:
            self.cursor_row = max(0, min(row, len(self.shown) - 1))

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor_row + step)

    def action_cursor_page(self, step: int) -> None:
        self._move(self.cursor_row + step * max(1, self.scrollable_content_region.height - 1))

    def action_cursor_to(self, row: int) -> None:
        self._move(row if row >= 0 else len(self.shown) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + self.scroll_offset.x
            for key in reversed(_KEYS):
                if x >= self.column_x(key):
                    self.post_message(self.HeaderSelected(self, key))
                    return
        else:
            self._move(self.scroll_offset.y + offset.y - 1)

    # -- drawing ------------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()  # drawn in the styles before (a theme, the focus)

    def on_focus(self) -> None:
        self.refresh_line_of(self.cursor_row)

    def on_blur(self) -> None:
        self.refresh_line_of(self.cursor_row)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if y == 0:
            line = self._line(-1, False)
        elif scroll_y + y - 1 < len(self.shown):
            row = scroll_y + y - 1
            line = self._line(row, row == self.cursor_row)
        else:
            return Strip.blank(width, self.rich_style)
        return line.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _line(self, row: int, cursor: bool) -> Strip:
        """The whole width of the header (row -1) or of page row `row`."""
        key = (row, cursor)
        line = self._lines.get(key)
        if line is not None:
            return line
        style = self.get_component_rich_style
        if row < 0:
            base = style("trades--header")
            texts: tuple[str, ...] = tuple(c.label for c in COLUMNS.values())
            tone = Style()
        else:
            base = style("trades--even-row" if row % 2 == 0 else "trades--odd-row")
            if cursor:
                base += style("trades--cursor")
            texts = self._cells[row]
            gain = "trades--loss" if self.shown[row].pnl < 0 else "trades--gain"
            tone = style(gain, partial=True) if not cursor else Style()
        segments: list[Segment] = []
        pad = " " * _PAD
        for key_name, text, width in zip(_KEYS, texts, self._widths, strict=True):
            column = COLUMNS[key_name]
            body = text.rjust(width) if column.numeric else text.ljust(width)
            cell_style = base + tone if key_name in _TONED else base
            segments.append(Segment(pad + body + pad, cell_style))
        line = Strip(segments)
        self._lines[key] = line
        return line
