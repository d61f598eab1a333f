"""The chart: the selected market's closes with the bot's entries and exits, over the account's
equity curve. It is read again only when the engine has processed a bar or the market changes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive

from tui.readers import engine_clock, read_chart
from tui.screens.base import DataScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.plots import EquityPlot, PricePlot
from tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from tui.readers import ChartData

__all__ = ["ChartScreen"]


class ChartScreen(DataScreen):
    """Price and equity, drawn in the terminal."""

    chart: reactive[ChartData | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield PricePlot(id="price")
        yield EquityPlot(id="equity")
        yield KeyBar()

    def on_mount(self) -> None:
        self.watch(self.dashboard, "symbol", self._market_changed, init=False)

    def _market_changed(self) -> None:
        if self.is_current:
            self.reload(force=True)

    def reload(self, force: bool = False) -> None:
        if self.dashboard.ready:
            self._read(self.dashboard.symbol, force)

    @work(thread=True, exclusive=True, group="chart")
    def _read(self, symbol: str, force: bool) -> None:
        app = self.dashboard

        def read() -> ChartData:
            ahead = app.chart_read_ahead(symbol, engine_clock(app.store))
            return ahead or read_chart(app.settings, app.store, symbol, app.equity_curve)

        data = self.read_if_moved("the chart", read, force, key=symbol)
        if data is not None:
            self.show_read(setattr, self, "chart", data)

    def watch_chart(self, data: ChartData | None) -> None:
        if data is None:
            return
        price = self.query_one(PricePlot)
        price.problem = data.problem
        price.chart = data.price
        equity = self.query_one(EquityPlot)
        equity.label = f"Equity ({data.quote})"
        equity.curve = (data.equity_ms, data.equity)
        self.sub_title = data.symbol
