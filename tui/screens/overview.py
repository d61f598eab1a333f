"""The overview: mode and run state, equity and today's P&L, the circuit breakers against their
limits, the risk rules in force, and the open positions."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive

from tui.formatting import signed_money
from tui.messages import CloseRequested
from tui.readers import read_overview
from tui.screens.base import DataScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.plots import EquityPlot
from tui.widgets.positions import PositionsTable
from tui.widgets.status import AccountSummary, BreakerGauges, RiskLimits, run_state
from tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from tui.readers import Overview

__all__ = ["OverviewScreen"]


class OverviewScreen(DataScreen):
    """The bot at a glance."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("x", "close_selected", "Close"),
    ]

    overview: reactive[Overview | None] = reactive(None)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Vertical(id="account") as account:
            account.border_title = "Account"
            yield AccountSummary(id="summary")
            yield BreakerGauges(id="gauges")
            yield RiskLimits(id="limits")
        with Horizontal(id="body"):
            table = PositionsTable(id="positions")
            table.border_title = "Open positions"
            yield table
            yield EquityPlot(id="overview-equity")
        yield KeyBar()

    def reload(self, force: bool = False) -> None:
        if self.dashboard.ready:
            self._read()

    @work(thread=True, exclusive=True, group="overview")
    def _read(self) -> None:
        app = self.dashboard
        try:
            data = read_overview(app.settings, app.store, app.equity_curve)
        except Exception as exc:  # a read failing must leave the dashboard up and say why
            app.call_from_thread(app.report_error, "the overview", exc)
            return
        self.show_read(setattr, self, "overview", data)

    def watch_overview(self, data: Overview | None) -> None:
        if data is None:
            return
        summary = self.query_one(AccountSummary)
        summary.engine_up = data.engine.startswith("engine running")
        summary.report = data.status
        self.query_one(BreakerGauges).gauges = data.gauges
        self.query_one(RiskLimits).risk = data.risk
        table = self.query_one(PositionsTable)
        table.report = data.positions
        count = len(data.positions.positions)
        pnl = signed_money(data.positions.unrealised_pnl, data.status.quote)
        table.border_subtitle = f"{count} open · unrealised {pnl}"
        plot = self.query_one(EquityPlot)
        plot.label = f"Equity ({data.status.quote})"
        plot.curve = (data.equity_ms, data.equity)
        self.query_one("#account", Vertical).border_subtitle = data.engine
        self.sub_title = f"{data.status.mode} · {run_state(data.status, summary.engine_up)}"
        self.call_after_refresh(self.dashboard.data_drawn)

    def action_close_selected(self) -> None:
        symbol = self.query_one(PositionsTable).selected_symbol
        if symbol is None:
            self.notify("There is no open position to close.", severity="warning")
            return
        self.post_message(CloseRequested(symbol))
