"""The trading account's equity curve with its drawdown beneath, as a figure or PNG bytes.

Unlike `figures.equity_chart`, which draws a backtest result, this draws any equity series (the
engine's per-bar snapshots): equity over time on top, drawdown from the running peak below.
Artists carry a `gid` (`equity`, `start_equity`, `drawdown`, `drawdown_fill`, `max_drawdown`) so
tests and callers can read the drawn data back. 1080 x 810 px, like the backtest equity chart.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from botcore.backtest.metrics import drawdown_pct
from botcore.charts.downsample import envelope_indices
from botcore.charts.style import (
    COLORS,
    chart_style,
    date_axis,
    figure_to_png,
    legend_above,
    new_figure,
    pct_text,
    percent_axis,
    to_days,
)
from botcore.errors import ParamError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["account_equity_chart", "build_account_equity_figure"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _check(timestamps_ms: IntArray, equity: FloatArray) -> None:
    if len(equity) == 0 or len(equity) != len(timestamps_ms):
        raise ParamError(
            f"an equity chart needs one equity value per timestamp and at least one point "
            f"(got {len(timestamps_ms)} timestamps, {len(equity)} values)"
        )


def _draw_curve(ax: Axes, stamps: IntArray, equity: FloatArray, start: float, quote: str) -> None:
    from matplotlib.ticker import StrMethodFormatter

    idx = envelope_indices(equity)
    change = (equity[-1] / start - 1.0) * 100.0 if start > 0 else math.nan
    label = f"equity {pct_text(change)}" if math.isfinite(change) else "equity"
    ax.plot(
        to_days(stamps[idx]),
        equity[idx],
        color=COLORS["equity"],
        linewidth=2.2,
        label=label,
        gid="equity",
        zorder=3,
    )
    ax.axhline(start, color="#555555", linewidth=0.9, gid="start_equity")
    if abs(float(np.median(equity))) >= 1000:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylabel(f"equity, {quote}")
    ax.margins(x=0.01)
    legend_above(ax, ncols=1)
    ax.tick_params(labelbottom=False)
    date_axis(ax)


def _draw_drawdown(ax: Axes, stamps: IntArray, equity: FloatArray, start: float) -> None:
    dd = -drawdown_pct(equity, start)
    idx = envelope_indices(dd)
    x = to_days(stamps[idx])
    ax.fill_between(
        x, dd[idx], 0.0, color=COLORS["drawdown"], alpha=0.35, linewidth=0, gid="drawdown_fill"
    )
    ax.plot(x, dd[idx], color=COLORS["drawdown"], linewidth=1.2, gid="drawdown")
    deepest = int(np.argmin(dd))
    if dd[deepest] < 0:
        ax.plot(
            to_days(stamps[deepest : deepest + 1]),
            dd[deepest : deepest + 1],
            marker="o",
            markersize=6,
            color=COLORS["drawdown"],
            gid="max_drawdown",
        )
    ax.set_ylim(float(dd.min()) * 1.15 if dd.min() < 0 else -1.0, 0.0)
    percent_axis(ax, nbins=4)
    ax.set_ylabel("drawdown")
    ax.set_title(f"max drawdown {-float(dd.min()):.1f}%", fontsize=12, fontweight="normal")
    ax.margins(x=0.01)
    date_axis(ax)


def build_account_equity_figure(
    timestamps_ms: npt.ArrayLike,
    equity: npt.ArrayLike,
    quote: str,
    title: str,
    start_equity: float | None = None,
) -> Figure:
    """Equity over time with the drawdown from its running peak beneath.

    Args:
        timestamps_ms: UTC milliseconds of each point, ascending.
        equity: Equity at each point, in `quote`.
        quote: The currency named on the axis.
        title: The figure's headline.
        start_equity: Equity before the first point (the period's opening value): the reference
            line, the base of the percent change in the legend and the first peak of the
            drawdown. None: the first point.

    Raises:
        ParamError: no points, or the two series differ in length.
    """
    stamps = np.asarray(timestamps_ms, dtype=np.int64)
    values = np.asarray(equity, dtype=np.float64)
    _check(stamps, values)
    start = float(values[0]) if start_equity is None else float(start_equity)
    with chart_style():
        figure = new_figure("equity", rows=2, height_ratios=[3.0, 1.3])
        top, bottom = figure.axes
        _draw_curve(top, stamps, values, start, quote)
        _draw_drawdown(bottom, stamps, values, start)
        figure.suptitle(title)
    return figure


def account_equity_chart(
    timestamps_ms: npt.ArrayLike,
    equity: npt.ArrayLike,
    quote: str,
    title: str,
    start_equity: float | None = None,
) -> bytes:
    """PNG bytes (1080 x 810 px) of `build_account_equity_figure` with the same arguments.

    Raises:
        ParamError: no points, or the two series differ in length.
    """
    figure = build_account_equity_figure(timestamps_ms, equity, quote, title, start_equity)
    return figure_to_png(figure)
