"""Tables whose column widths are measured here, from the cells, when the rows are set.

A DataTable measures auto-width columns later, when it is next idle; a screen drawn before then
(a busy machine, a snapshot) shows every column cut to its header's width. Columns given a
width when they are added are never wrong, and measuring a page of short cells costs little.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text
from textual.widgets import DataTable

__all__ = ["set_rows"]


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
