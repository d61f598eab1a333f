"""Open positions as a table, one row per position, marked at the last close."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.reactive import reactive

from tui.formatting import amount, price, signed_money, signed_pct
from tui.widgets.columns import SteadyTable, set_rows

if TYPE_CHECKING:
    from rich.style import Style

    from botcore.services.positions import OpenPosition, PositionsReport

__all__ = ["PositionsTable"]

_COLUMNS = ("Symbol", "Strategy", "Amount", "Entry", "Mark", "P&L", "%", "Guard")
_TEXT_COLUMNS = frozenset({"Symbol", "Strategy", "Guard"})
# numbers are right-aligned: so are their headers
_HEADERS = tuple(
    (name, Text(name, justify="left" if name in _TEXT_COLUMNS else "right")) for name in _COLUMNS
)


def _guard(position: OpenPosition) -> str:
    """The protective orders in a few characters: `oco`, `stop`, or `none`."""
    kinds = sorted({str(o.type.value).replace("_", " ") for o in position.protective_orders})
    return ", ".join(kinds) or "none"


def _right(text: str, style: Style | str = "") -> Text:
    # cells are Text, never strings: a string cell would be parsed as Rich markup
    return Text(text, style, justify="right")


class PositionsTable(SteadyTable):
    """The open positions; the highlighted row's symbol is what a close acts on."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"positions--gain", "positions--loss"}

    report: reactive[PositionsReport | None] = reactive(None, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        set_rows(self, _HEADERS, ())

    @property
    def selected_symbol(self) -> str | None:
        """The symbol of the highlighted row (None without positions)."""
        if self.row_count == 0:
            return None
        key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        return key.value

    def watch_report(self, report: PositionsReport | None) -> None:
        if not self.is_mounted:
            return
        selected = self.selected_symbol
        positions = report.positions if report is not None else ()
        set_rows(self, _HEADERS, ((p.symbol, self._cells(p)) for p in positions))
        if selected is not None and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected))

    def _cells(self, p: OpenPosition) -> tuple[Text, ...]:
        pnl = p.unrealised_pnl
        # partial: the colour only, so the cursor row keeps its own background
        style = self.get_component_rich_style(
            "positions--loss" if pnl is not None and pnl < 0 else "positions--gain",
            partial=True,
        )
        return (
            Text(p.symbol),
            Text(p.strategy or "manual"),
            _right(amount(p.amount, 6)),
            _right(price(p.entry_price)),
            _right(price(p.mark_price)),
            _right(signed_money(pnl), style),
            _right(signed_pct(p.unrealised_pnl_pct), style),
            Text(_guard(p)),
        )
