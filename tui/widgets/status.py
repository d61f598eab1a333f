"""The overview's read-outs: the account at a glance, and the circuit breakers against their limits.

Each widget holds one reactive value set by its screen and only draws it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from tui.formatting import money, pct, signed_money, signed_pct, utc

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.style import Style

    from botcore.config import RiskConfig
    from botcore.services.account import StatusReport
    from tui.readers import Gauge

__all__ = ["AccountSummary", "BreakerGauges", "RiskLimits", "run_state"]

_BAR_CELLS = 20


def run_state(report: StatusReport, engine_up: bool = True) -> str:
    """`halted` or `paused` (what holds entries, engine up or not), else `running`, `waiting`
    (before the engine's first bar) or `stopped` (no engine runs on the store)."""
    if report.breaker.halted:
        return "halted"
    if report.paused:
        return "paused"
    if not engine_up:
        return "stopped"
    return "running" if report.started else "waiting"


class AccountSummary(Widget):
    """Mode, run state, equity, today's P&L, cash and counts."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "summary--label",
        "summary--running",
        "summary--paused",
        "summary--halted",
        "summary--waiting",
        "summary--stopped",
        "summary--gain",
        "summary--loss",
    }

    report: reactive[StatusReport | None] = reactive(None, layout=True)
    engine_up: reactive[bool] = reactive(True)

    def _style(self, name: str) -> Style:
        return self.get_component_rich_style(f"summary--{name}")

    def _pnl(self, report: StatusReport) -> Text:
        value = report.today_pnl
        if value is None:
            return Text("—")
        style = self._style("loss" if value < 0 else "gain")
        return Text(f"{signed_money(value)} ({signed_pct(report.today_pnl_pct)})", style)

    def render(self) -> RenderableType:
        report = self.report
        if report is None:
            return Text("Reading the store…", self._style("label"))
        label = self._style("label")
        state = run_state(report, self.engine_up)
        grid = Table.grid(padding=(0, 2), expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_row(
            Text.assemble((f"{report.mode.upper()} ", label), (state.upper(), self._style(state))),
            Text.assemble(("Equity ", label), money(report.equity, report.quote)),
            Text.assemble(("Today ", label), self._pnl(report)),
        )
        grid.add_row(
            Text.assemble(("Cash ", label), money(report.cash)),
            Text.assemble(
                ("Positions ", label),
                str(report.open_positions),
                ("  Orders ", label),
                str(report.open_orders),
            ),
            Text.assemble(("Bar ", label), utc(report.last_bar_ms)),
        )
        return grid


class BreakerGauges(Widget):
    """Daily loss and drawdown as bars filling up towards their limits."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "gauge--label",
        "gauge--ok",
        "gauge--near",
        "gauge--over",
        "gauge--empty",
    }

    gauges: reactive[tuple[Gauge, ...]] = reactive((), layout=True)

    def _level(self, gauge: Gauge) -> str:
        if gauge.halted or gauge.fraction >= 1:
            return "over"
        return "near" if gauge.fraction >= 0.7 else "ok"

    def _bar(self, gauge: Gauge) -> Text:
        filled = round(gauge.fraction * _BAR_CELLS)
        style = self.get_component_rich_style(f"gauge--{self._level(gauge)}")
        empty = self.get_component_rich_style("gauge--empty")
        return Text.assemble(("█" * filled, style), ("░" * (_BAR_CELLS - filled), empty))

    def render(self) -> RenderableType:
        label = self.get_component_rich_style("gauge--label")
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        grid.add_column(no_wrap=True)
        for gauge in self.gauges:
            status = "HALTED" if gauge.halted else f"{gauge.fraction * 100:.0f}% of limit"
            grid.add_row(
                Text(f"{gauge.label:<10}", label),
                self._bar(gauge),
                Text(f"{pct(gauge.used_pct)} / {pct(gauge.limit_pct)}  {status}"),
            )
        return grid


class RiskLimits(Widget):
    """The other risk rules in force, on one line."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"limits--label"}

    risk: reactive[RiskConfig | None] = reactive(None, layout=True)

    def render(self) -> RenderableType:
        risk = self.risk
        if risk is None:
            return Text("")
        label = self.get_component_rich_style("limits--label")
        parts: list[tuple[str, str]] = [
            ("risk/trade ", pct(risk.risk_per_trade_pct, 1)),
            ("max positions ", str(risk.max_open_positions)),
            ("stop ", pct(risk.stop_loss_pct, 1)),
            ("take profit ", pct(risk.take_profit_pct, 1)),
        ]
        text = Text()
        for i, (name, value) in enumerate(parts):
            text.append(("  " if i else "") + name, label)
            text.append(value)
        return text
