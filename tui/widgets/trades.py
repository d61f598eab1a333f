"""Closed trades as a table that filters by symbol, sorts by any column, and pages.

Filtering and sorting work on the trades themselves (numbers and moments, not their text), over
all of them; the table then holds one page. A DataTable measures every cell it is given, so
handing it ten thousand rows would make each key press cost a second; a page of `PAGE_ROWS`
(a few screens) keeps a redraw in the tens of milliseconds whatever the history's length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.reactive import reactive

from tui.formatting import amount, price, signed_money, signed_pct, utc
from tui.widgets.columns import SteadyTable, set_rows

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

# numbers are right-aligned: so are their headers
_HEADERS = tuple(
    (key, Text(c.label, justify="right" if c.numeric else "left")) for key, c in COLUMNS.items()
)


class TradesTable(SteadyTable):
    """Trades matching `symbol_filter` (part of the symbol, any case), sorted by `sort_key`,
    `page` by page."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"trades--gain", "trades--loss"}

    trades: reactive[tuple[ClosedTrade, ...]] = reactive((), always_update=True)
    symbol_filter: reactive[str] = reactive("")
    sort_key: reactive[str] = reactive("exit")
    descending: reactive[bool] = reactive(True)
    page: reactive[int] = reactive(0)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._rows: dict[str, tuple[Text, ...]] = {}
        self.matching: list[ClosedTrade] = []
        """The trades passing the filter, in the sort order (every page)."""
        self.shown: list[ClosedTrade] = []
        """The trades on the current page, top to bottom."""

    def on_mount(self) -> None:
        set_rows(self, _HEADERS, ())

    @property
    def pages(self) -> int:
        """How many pages the matching trades fill (at least one)."""
        return max(1, -(-len(self.matching) // PAGE_ROWS))

    @property
    def net_pnl(self) -> Decimal:
        """The P&L of every matching trade (all pages)."""
        return sum((t.pnl for t in self.matching), Decimal(0))

    def _row(self, trade: ClosedTrade) -> tuple[Text, ...]:
        cached = self._rows.get(trade.id)
        if cached is not None:
            return cached
        # partial: the colour only, so the cursor and zebra rows keep their own background
        tone = self.get_component_rich_style(
            "trades--loss" if trade.pnl < 0 else "trades--gain", partial=True
        )
        cells = tuple(
            Text(
                column.text(trade),
                tone if key in ("pnl", "pnl_pct") else "",
                justify="right" if column.numeric else "left",
            )
            for key, column in COLUMNS.items()
        )
        self._rows[trade.id] = cells
        return cells

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
        if not self.is_mounted:
            return
        selected = self._selected()
        start = self.page * PAGE_ROWS
        self.shown = self.matching[start : start + PAGE_ROWS]
        # only the shown page's cells are kept: a cache of every trade ever shown would grow
        # with the session and slow each garbage collection
        self._rows = {t.id: self._row(t) for t in self.shown}
        set_rows(self, _HEADERS, self._rows.items())
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    def _selected(self) -> str | None:
        if self.row_count == 0:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value
