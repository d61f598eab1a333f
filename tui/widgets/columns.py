"""The dashboard's DataTables (the positions; the trades and signals draw their own lines, see
`line_table`): column widths measured from the cells when the rows are set, and render caches
that survive a screen switch.

A DataTable measures auto-width columns later, when it is next idle; a screen drawn before then
(a busy machine, a snapshot) shows every column cut to its header's width. Columns given a
width when they are added are never wrong, and measuring a page of short cells costs little.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.style import Style
from rich.text import Text
from textual.widget import Widget
from textual.widgets import DataTable

__all__ = ["SteadyTable", "set_rows"]


class SteadyTable(DataTable[Text]):
    """A DataTable that keeps its rendered cells while its look stays the same.

    Textual re-applies a screen's styles each time the screen is shown again, and a DataTable
    then drops every rendered cell and line, though nothing changed: re-rendering them was most
    of the time to switch back to a screen with a table (about 50 ms for a page of trades at
    120x40, when the trades were a DataTable).
    Here the caches are dropped only when a style the cells are drawn with differs (a theme
    change, a class that restyles the table).
    """

    _look: tuple[Style, ...] | None = None

    def notify_style_update(self) -> None:
        Widget.notify_style_update(self)  # the widget's own style caches, which `look` reads
        no_style = Style()
        look = (
            self.rich_style,
            *(
                self.get_component_rich_style(name, default=no_style)
                for name in sorted(self.COMPONENT_CLASSES)
            ),
        )
        if look != self._look:
            self._look = look
            super().notify_style_update()


def set_rows(
    table: DataTable[Text],
    headers: Sequence[tuple[str, Text]],
    rows: Iterable[tuple[str, Sequence[Text]]],
) -> None:
    """Replace the table's columns and rows: `headers` are (column key, header text), `rows`
    are (row key, cells in column order). Each column is as wide as its widest cell."""
    body = list(rows)
    widths = [header.cell_len for _, header in headers]
    for _, cells in body:
        widths = [max(w, cell.cell_len) for w, cell in zip(widths, cells, strict=True)]
    table.clear(columns=True)
    for (key, header), width in zip(headers, widths, strict=True):
        table.add_column(header, key=key, width=width)
    for key, cells in body:
        table.add_row(*cells, key=key)
