"""A table that draws its own lines (Textual's line API) rather than through a DataTable.

Each line is a handful of segments of text already cut to the column widths. A DataTable
renders every visible cell through Rich and measures every cell again when idle: about 45 ms a
page of trades, and some 70 ms of a first showing of the signals. This looks and moves like the
DataTable (a header, zebra rows, a row cursor, scrolling both ways); subclasses say what the
rows hold and what a click on a header does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["LineTable"]

PAD = 1  # blank cells either side of each column's text


class LineTable(ScrollView, can_focus=True):
    """Rows of text under a header, with a row cursor.

    Args:
        labels: The column headers, left to right.
        numeric: Which columns hold numbers (drawn right-aligned).
        toned: Which columns are drawn in their row's tone (`row_tone`).
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "line-table--header",
        "line-table--even-row",
        "line-table--odd-row",
        "line-table--cursor",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "cursor_page(-1)", "Page up", show=False),
        Binding("pagedown", "cursor_page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
    ]

    cursor_row: reactive[int] = reactive(0)

    def __init__(
        self,
        labels: Sequence[str],
        numeric: Sequence[bool],
        toned: Sequence[bool] = (),
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.labels = tuple(labels)
        self._numeric = tuple(numeric)
        self._toned = tuple(toned) or (False,) * len(self.labels)
        self._cells: list[tuple[str, ...]] = []
        self._widths: tuple[int, ...] = tuple(len(label) for label in self.labels)
        self._lines: dict[tuple[int, bool], Strip] = {}

    # -- the rows -----------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._cells)

    def column_text(self, index: int) -> list[str]:
        """The text of column `index`, top to bottom."""
        return [row[index] for row in self._cells]

    def column_start(self, index: int) -> int:
        """Where column `index` starts, in cells from the table's left edge (unscrolled)."""
        return sum(w + 2 * PAD for w in self._widths[:index])

    def set_cells(self, cells: list[tuple[str, ...]], cursor_row: int = 0) -> None:
        """Show `cells` (rows of one text per column), each column as wide as its widest text,
        with the cursor on `cursor_row`."""
        self._cells = cells
        widths = [len(label) for label in self.labels]
        for texts in cells:
            widths = [max(w, len(text)) for w, text in zip(widths, texts, strict=True)]
        self._widths = tuple(widths)
        self._lines.clear()
        table_width = self.column_start(len(widths) - 1) + widths[-1] + 2 * PAD
        self.virtual_size = Size(table_width, 1 + len(cells))  # the header, the rows
        self.set_reactive(LineTable.cursor_row, max(0, min(cursor_row, len(cells) - 1)))
        self._show_cursor()
        self.refresh()

    def row_tone(self, row: int) -> Style:
        """The style the toned columns of `row` take (when the cursor is not on it)."""
        return Style()

    def header_clicked(self, column: int) -> None:
        """A click on column `column`'s header."""

    # -- the cursor ---------------------------------------------------------------------------
    def watch_cursor_row(self, old: int, new: int) -> None:
        self._show_cursor()
        self.refresh_line_of(old)
        self.refresh_line_of(new)

    def refresh_line_of(self, row: int) -> None:
        """Redraw the line of row `row` (nothing happens when it is out of view)."""
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
        if self._cells:
            self.cursor_row = max(0, min(row, len(self._cells) - 1))

    def action_cursor(self, step: int) -> None:
        self._move(self.cursor_row + step)

    def action_cursor_page(self, step: int) -> None:
        self._move(self.cursor_row + step * max(1, self.scrollable_content_region.height - 1))

    def action_cursor_to(self, row: int) -> None:
        self._move(row if row >= 0 else len(self._cells) - 1)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            x = offset.x + self.scroll_offset.x
            for index in reversed(range(len(self.labels))):
                if x >= self.column_start(index):
                    self.header_clicked(index)
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
        elif scroll_y + y - 1 < len(self._cells):
            row = scroll_y + y - 1
            line = self._line(row, row == self.cursor_row)
        else:
            return Strip.blank(width, self.rich_style)
        return line.crop_extend(scroll_x, scroll_x + width, self.rich_style)

    def _line(self, row: int, cursor: bool) -> Strip:
        """The whole width of the header (row -1) or of row `row`."""
        key = (row, cursor)
        line = self._lines.get(key)
        if line is not None:
            return line
        style = self.get_component_rich_style
        if row < 0:
            base = style("line-table--header")
            texts: tuple[str, ...] = self.labels
            tone = Style()
        else:
            base = style("line-table--even-row" if row % 2 == 0 else "line-table--odd-row")
            if cursor:
                base += style("line-table--cursor")
            texts = self._cells[row]
            tone = self.row_tone(row) if not cursor else Style()
        segments: list[Segment] = []
        pad = " " * PAD
        for text, width, numeric, toned in zip(
            texts, self._widths, self._numeric, self._toned, strict=True
        ):
            body = text.rjust(width) if numeric else text.ljust(width)
            segments.append(Segment(pad + body + pad, base + tone if toned else base))
        line = Strip(segments)
        self._lines[key] = line
        return line
