"""Charts drawn in the terminal with plotext: a market's closes with the bot's entries and exits,
and an equity curve.

Series colours come from component classes, so they are set in the `.tcss` files like every other
style. Candles are plotted against their position (not their time) so gaps in the data do not
squash the line; the x ticks name the dates.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ClassVar

from textual.reactive import reactive
from textual_plotext import PlotextPlot

if TYPE_CHECKING:
    from botcore.services.charts import PriceChart

__all__ = ["EquityPlot", "PricePlot", "date_ticks"]

_TICKS = 4
_MAX_POINTS = 1000
_ENTRY = "▲"
_EXIT = "▼"


def date_ticks(stamps_ms: Sequence[int], count: int = _TICKS) -> tuple[list[float], list[str]]:
    """Evenly spread x positions over `stamps_ms` and their UTC dates as labels."""
    if not stamps_ms:
        return [], []
    span_days = (stamps_ms[-1] - stamps_ms[0]) / 86_400_000
    form = "%Y-%m-%d" if span_days > 60 else "%m-%d %H:%M"
    last = len(stamps_ms) - 1
    picks = sorted({round(last * k / max(count - 1, 1)) for k in range(count)})
    labels = [datetime.fromtimestamp(stamps_ms[i] / 1000, UTC).strftime(form) for i in picks]
    return [float(i) for i in picks], labels


class _StyledPlot(PlotextPlot):
    """A plot whose series colours are component classes."""

    def _rgb(self, component: str) -> tuple[int, int, int] | str:
        color = self.get_component_rich_style(component).color
        if color is None:
            return "default"
        triplet = color.get_truecolor()
        return (triplet.red, triplet.green, triplet.blue)


class PricePlot(_StyledPlot):
    """Closes, the strategy's price-scale indicators, and the bot's entries (▲) and exits (▼)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "plot--close",
        "plot--indicator",
        "plot--entry",
        "plot--win",
        "plot--loss",
    }

    chart: reactive[PriceChart | None] = reactive(None)
    problem: reactive[str] = reactive("")

    def on_mount(self) -> None:
        self.draw()

    def watch_chart(self) -> None:
        self.draw()

    def watch_problem(self) -> None:
        self.draw()

    def draw(self) -> None:
        """Redraw from `chart` (or say why there is none)."""
        plt = self.plt
        plt.clear_data()
        chart = self.chart
        if chart is None:
            plt.title(self.problem or "No chart yet")
            self.refresh()
            return
        x = list(range(len(chart.close)))
        lines = chart.strategy or "EMA"
        plt.title(f"{chart.symbol} {chart.timeframe} · {lines} · ▲ entry ▼ exit")
        for series in chart.indicators:
            points = [(i, v) for i, v in zip(x, series.values, strict=True) if v == v]  # not NaN
            if points:
                xs, ys = zip(*points, strict=True)
                plt.plot(list(xs), list(ys), color=self._rgb("plot--indicator"), marker="braille")
        # drawn after the indicators so the price stays on top where the lines meet
        plt.plot(x, list(chart.close), color=self._rgb("plot--close"), marker="braille")
        self._marks(chart)
        ticks, labels = date_ticks(chart.timestamps_ms)
        plt.xticks(ticks, labels)
        self.refresh()

    def _marks(self, chart: PriceChart) -> None:
        stamps = chart.timestamps_ms
        groups: dict[str, tuple[list[float], list[float], str]] = {
            "plot--entry": ([], [], _ENTRY),
            "plot--win": ([], [], _EXIT),
            "plot--loss": ([], [], _EXIT),
        }
        for mark in chart.marks:
            # a fill happens inside a candle: it is drawn on the candle it fell in
            index = max(bisect_right(stamps, mark.timestamp_ms) - 1, 0)
            if mark.kind == "entry":
                group = "plot--entry"
            else:
                group = "plot--win" if mark.pnl is not None and mark.pnl > 0 else "plot--loss"
            groups[group][0].append(float(index))
            groups[group][1].append(float(mark.price))
        for component, (xs, ys, marker) in groups.items():
            if xs:
                plt = self.plt
                plt.scatter(xs, ys, marker=marker, color=self._rgb(component))


class EquityPlot(_StyledPlot):
    """An equity curve (quote currency) over time."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"plot--equity"}

    curve: reactive[tuple[tuple[int, ...], tuple[float, ...]]] = reactive(((), ()))
    label: reactive[str] = reactive("Equity")
    empty: reactive[str] = reactive("no snapshots yet")

    def on_mount(self) -> None:
        self.draw()

    def watch_curve(self) -> None:
        self.draw()

    def watch_label(self) -> None:
        self.draw()

    def draw(self) -> None:
        """Redraw from `curve`."""
        plt = self.plt
        plt.clear_data()
        stamps, values = self.curve
        plt.title(self.label if values else f"{self.label}: {self.empty}")
        if values:
            # a terminal is a few hundred dots wide: more points only slow the drawing down
            step = max(1, len(values) // _MAX_POINTS)
            xs = [*range(0, len(values), step)]
            if xs[-1] != len(values) - 1:
                xs.append(len(values) - 1)
            plt.plot(xs, [values[i] for i in xs], color=self._rgb("plot--equity"),
                     marker="braille")  # fmt: skip
            ticks, labels = date_ticks(stamps)
            plt.xticks(ticks, labels)
        self.refresh()
