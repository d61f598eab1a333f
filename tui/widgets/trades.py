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

from rich.style import Style
from textual.message import Message
from textual.reactive import reactive

from tui.formatting import amount, price, signed_money, signed_pct, utc
from tui.widgets.line_table import LineTable

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


class TradesTable(LineTable):
    """Trades matching `symbol_filter` (part of the symbol, any case), sorted by `sort_key`,
    `page` by page, with a row cursor."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"trades--gain", "trades--loss"}

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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(
            [c.label for c in COLUMNS.values()],
            [c.numeric for c in COLUMNS.values()],
            [key in _TONED for key in COLUMNS],
            id=id,
        )
        self.matching: list[ClosedTrade] = []
        """The trades passing the filter, in the sort order (every page)."""
        self.shown: list[ClosedTrade] = []
        """The trades on the current page, top to bottom."""

    # -- what is shown ----------------------------------------------------------------------
    @property
    def pages(self) -> int:
        """How many pages the matching trades fill (at least one)."""
        return max(1, -(-len(self.matching) // PAGE_ROWS))

    @property
    def net_pnl(self) -> Decimal:
        """The P&L of every matching trade (all pages)."""
        return sum((t.pnl for t in self.matching), Decimal(0))

    def cells(self, key: str) -> list[str]:
        """The text of column `key` on the current page, top to bottom."""
        return self.column_text(_KEYS.index(key))

    def column_x(self, key: str) -> int:
        """Where column `key` starts, in cells from the table's left edge (unscrolled)."""
        return self.column_start(_KEYS.index(key))

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
        ids = [t.id for t in self.shown]
        self.set_cells(
            [tuple(c.text(t) for c in COLUMNS.values()) for t in self.shown],
            ids.index(selected) if selected in ids else 0,
        )

    def row_tone(self, row: int) -> Style:
        gain = "trades--loss" if self.shown[row].pnl < 0 else "trades--gain"
        return self.get_component_rich_style(gain, partial=True)

    def header_clicked(self, column: int) -> None:
        self.post_message(self.HeaderSelected(self, _KEYS[column]))
