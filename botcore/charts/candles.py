"""A candlestick chart of one market with price-scale indicators and the bot's entries and exits.

The backtest price chart (`figures.price_chart`) draws a close line over thousands of bars; this
one draws the candles themselves, for the few hundred bars a chat reply shows. Artists carry a
`gid`: `bodies_up` / `bodies_down` (one rectangle per candle, bottom and height are the open and
close), `wicks` (one segment per candle, low to high), `overlay:<column>`, `band:<upper>:<lower>`,
`entries`, `exits_win`, `exits_loss`. 1080 x 810 px, like the backtest price chart.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.charts.series import band_pairs
from botcore.charts.style import (
    COLORS,
    OVERLAY_COLORS,
    chart_style,
    date_axis,
    legend_above,
    new_figure,
    to_days,
)
from botcore.errors import ParamError
from botcore.timeframes import MS_PER_DAY

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["BODY_WIDTH", "TradeMarkers", "build_candles_figure"]

FloatArray = npt.NDArray[np.float64]
# Share of a bar's duration a candle body covers; the rest is the gap between candles.
BODY_WIDTH = 0.7
_MARKER_SIZE = 9.0


def _empty_ms() -> npt.NDArray[np.int64]:
    return np.zeros(0, dtype=np.int64)


def _empty_price() -> FloatArray:
    return np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class TradeMarkers:
    """Where the bot bought and sold: UTC ms times and prices; `exit_win` marks pnl > 0."""

    entry_ms: npt.NDArray[np.int64] = field(default_factory=_empty_ms)
    entry_price: FloatArray = field(default_factory=_empty_price)
    exit_ms: npt.NDArray[np.int64] = field(default_factory=_empty_ms)
    exit_price: FloatArray = field(default_factory=_empty_price)
    exit_win: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))


def _draw_candles(ax: Axes, frame: pd.DataFrame, step_ms: int) -> None:
    stamps = frame["timestamp"].to_numpy(dtype=np.int64)
    o, h, lo, c = (frame[k].to_numpy(dtype=np.float64) for k in ("open", "high", "low", "close"))
    centre = to_days(stamps + step_ms // 2)
    up = c >= o
    colors = np.where(up, COLORS["win"], COLORS["loss"])
    ax.vlines(centre, lo, h, colors=list(colors), linewidth=1.0, gid="wicks", zorder=2)
    width = step_ms / MS_PER_DAY * BODY_WIDTH
    for gid, mask, color in (
        ("bodies_up", up, COLORS["win"]),
        ("bodies_down", ~up, COLORS["loss"]),
    ):
        # an edge of the body's colour keeps a doji (open == close) visible as a line
        ax.bar(
            centre[mask],
            np.abs(c - o)[mask],
            bottom=np.minimum(o, c)[mask],
            width=width,
            color=color,
            edgecolor=color,
            linewidth=0.6,
            gid=gid,
            zorder=3,
        )


def _draw_overlays(ax: Axes, frame: pd.DataFrame, overlays: Sequence[str], step_ms: int) -> None:
    x = to_days(frame["timestamp"].to_numpy(dtype=np.int64) + step_ms // 2)
    colors = iter(OVERLAY_COLORS * (len(overlays) // len(OVERLAY_COLORS) + 1))
    banded: set[str] = set()
    for upper, lower in band_pairs(overlays):
        label = upper[: -len("upper")].rstrip("_-") or "band"
        ax.fill_between(
            x,
            frame[lower].to_numpy(dtype=np.float64),
            frame[upper].to_numpy(dtype=np.float64),
            color=COLORS["band"],
            alpha=0.2,
            linewidth=0,
            label=f"{label} band",
            gid=f"band:{upper}:{lower}",
            zorder=1,
        )
        banded.update((upper, lower))
    for name in overlays:
        style: dict[str, Any] = (
            {"color": COLORS["band"], "linewidth": 1.0}
            if name in banded
            else {"color": next(colors), "linewidth": 1.6, "label": name}
        )
        ax.plot(x, frame[name].to_numpy(dtype=np.float64), gid=f"overlay:{name}", zorder=4, **style)


def _draw_markers(ax: Axes, markers: TradeMarkers) -> None:
    style: dict[str, Any] = {
        "linestyle": "none",
        "markersize": _MARKER_SIZE,
        "markeredgecolor": "white",
        "markeredgewidth": 0.8,
        "zorder": 5,
    }
    # empty series are still drawn (tests read them back) but kept out of the legend
    count = len(markers.entry_ms)
    ax.plot(
        to_days(markers.entry_ms),
        markers.entry_price,
        marker="^",
        color=COLORS["entry"],
        label="entry" if count else "_entry",
        gid="entries",
        **style,
    )
    for gid, mask, label in (
        ("exits_win", markers.exit_win, "exit win"),
        ("exits_loss", ~markers.exit_win, "exit loss"),
    ):
        ax.plot(
            to_days(markers.exit_ms[mask]),
            markers.exit_price[mask],
            marker="v",
            color=COLORS["win" if gid == "exits_win" else "loss"],
            label=label if mask.any() else f"_{label}",
            gid=gid,
            **style,
        )


def build_candles_figure(
    frame: pd.DataFrame,
    step_ms: int,
    title: str,
    overlays: Sequence[str] = (),
    markers: TradeMarkers | None = None,
    ylabel: str = "",
) -> Figure:
    """Candlesticks with indicator lines over them and the trades' entries and exits.

    Args:
        frame: Candles (`timestamp` open time in UTC ms, `open`, `high`, `low`, `close`) plus
            the `overlays` columns, oldest first.
        step_ms: The candles' timeframe in ms (the width of one candle).
        title: The figure's headline.
        overlays: Columns of `frame` drawn as lines on the price scale; an `X_upper`/`X_lower`
            pair is shaded as a band.
        markers: Entries (up triangles) and exits (down triangles, green for a win).
        ylabel: The price axis label, e.g. the symbol.

    Raises:
        ParamError: no candles, or an overlay column is missing.
    """
    if frame.empty:
        raise ParamError("a candle chart needs at least one candle")
    missing = [name for name in overlays if name not in frame.columns]
    if missing:
        raise ParamError(f"no column {', '.join(missing)} to draw over the candles")
    from matplotlib.ticker import StrMethodFormatter

    with chart_style():
        figure = new_figure("price")
        ax = figure.axes[0]
        _draw_candles(ax, frame, step_ms)
        _draw_overlays(ax, frame, overlays, step_ms)
        _draw_markers(ax, markers or TradeMarkers())
        median = float(np.nanmedian(frame["close"].to_numpy(dtype=np.float64)))
        if math.isfinite(median) and abs(median) >= 1000:
            ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_ylabel(ylabel)
        ax.margins(x=0.01)
        legend_above(ax, ncols=5)
        date_axis(ax)
        figure.suptitle(title)
    return figure
