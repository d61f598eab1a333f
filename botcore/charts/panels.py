"""Drawing one panel of a chart onto a matplotlib `Axes`.

Every plotted artist carries a `gid` naming what it shows (`close`, `overlay:sma_fast`,
`entries`, `exits_win`, `exits_loss`, `equity`, `buy_hold`, `drawdown`, `wins`, `losses`,
`mean`, `result:0`, ...) so tests and callers can read the drawn data back.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.backtest.result import BacktestResult
from botcore.charts.downsample import envelope_indices
from botcore.charts.series import (
    band_pairs,
    buy_hold_equity,
    drawdown_series,
    overlay_columns,
    return_pct_series,
)
from botcore.charts.style import (
    COLORS,
    OVERLAY_COLORS,
    SERIES_COLORS,
    date_axis,
    legend_above,
    pct_text,
    percent_axis,
    to_days,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["draw_comparison", "draw_drawdown", "draw_equity", "draw_price", "draw_returns"]

FloatArray = npt.NDArray[np.float64]
_MAX_BINS = 60


def _thin_line(
    ax: Axes, stamps: npt.NDArray[np.int64], values: FloatArray, gid: str, **style: Any
) -> None:
    idx = envelope_indices(values)
    ax.plot(to_days(stamps[idx]), values[idx], gid=gid, **style)


def _money_axis(ax: Axes, typical: float) -> None:
    from matplotlib.ticker import StrMethodFormatter

    if math.isfinite(typical) and abs(typical) >= 1000:
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))


def _marker_size(trades: int) -> float:
    """Marker size in points: large for a few trades, small when they crowd the plot width."""
    return float(np.clip(2.2 * math.sqrt(900.0 / max(trades, 1)), 3.0, 9.0))


def _draw_overlays(ax: Axes, frame: pd.DataFrame, stamps: npt.NDArray[np.int64]) -> None:
    columns = overlay_columns(frame)
    colors = iter(OVERLAY_COLORS * (len(columns) // len(OVERLAY_COLORS) + 1))
    in_band: set[str] = set()
    for upper, lower in band_pairs(columns):
        hi = frame[upper].to_numpy(dtype=np.float64)
        lo = frame[lower].to_numpy(dtype=np.float64)
        idx = np.union1d(envelope_indices(hi), envelope_indices(lo))
        label = upper[: -len("upper")].rstrip("_-") or "band"
        ax.fill_between(
            to_days(stamps[idx]),
            lo[idx],
            hi[idx],
            color=COLORS["band"],
            alpha=0.25,
            linewidth=0,
            label=f"{label} band",
            gid=f"band:{upper}:{lower}",
            zorder=1,
        )
        for name in (upper, lower):
            _thin_line(
                ax,
                stamps,
                frame[name].to_numpy(dtype=np.float64),
                f"overlay:{name}",
                color=COLORS["band"],
                linewidth=1.0,
                zorder=1,
            )
        in_band.update((upper, lower))
    for name in columns:
        if name not in in_band:
            _thin_line(
                ax,
                stamps,
                frame[name].to_numpy(dtype=np.float64),
                f"overlay:{name}",
                color=next(colors),
                linewidth=1.6,
                label=name,
                zorder=1,
            )


def draw_price(ax: Axes, frame: pd.DataFrame, trades: pd.DataFrame, symbol: str) -> None:
    """Close price, price-scale indicators and trade markers of one symbol."""
    stamps = frame["timestamp"].to_numpy(dtype=np.int64)
    close = frame["close"].to_numpy(dtype=np.float64)
    _thin_line(ax, stamps, close, "close", color=COLORS["price"], linewidth=1.5, zorder=2)
    _draw_overlays(ax, frame, stamps)
    size = _marker_size(len(trades))
    crowded = size < 5.0
    # Few trades: markers with a white rim. Many: small and see-through so the price shows.
    marker_style: dict[str, Any] = {
        "linestyle": "none",
        "markersize": size,
        "markeredgecolor": "white",
        "markeredgewidth": 0.0 if crowded else 0.8,
        "alpha": 0.6 if crowded else 1.0,
        "zorder": 3,
    }
    # an empty marker series is still drawn (tests read it back) but kept out of the legend
    ax.plot(
        to_days(trades["entry_time"].to_numpy()),
        trades["entry_price"].to_numpy(),
        marker="^",
        color=COLORS["entry"],
        label="entry" if len(trades) else "_entry",
        gid="entries",
        **marker_style,
    )
    win = trades["pnl"].to_numpy() > 0
    for gid, mask, label in (("exits_win", win, "exit win"), ("exits_loss", ~win, "exit loss")):
        chosen = trades[mask]
        ax.plot(
            to_days(chosen["exit_time"].to_numpy()),
            chosen["exit_price"].to_numpy(),
            marker="v",
            color=COLORS["win" if gid == "exits_win" else "loss"],
            label=label if len(chosen) else f"_{label}",
            gid=gid,
            **marker_style,
        )
    _money_axis(ax, float(np.nanmedian(close)) if len(close) else math.nan)
    ax.set_ylabel(symbol)
    ax.margins(x=0.01)
    legend_above(ax, ncols=5, markerscale=max(1.0, 8.0 / size))
    date_axis(ax)


def draw_equity(ax: Axes, result: BacktestResult) -> None:
    """Equity of the strategy against buy and hold of the same symbols, in quote currency."""
    stamps = result.timestamps
    cash = result.metrics.initial_cash
    hold = buy_hold_equity(result)
    _thin_line(
        ax,
        stamps,
        result.equity,
        "equity",
        color=COLORS["equity"],
        linewidth=2.2,
        label=f"{result.strategy} {pct_text(result.metrics.total_return_pct)}",
        zorder=3,
    )
    _thin_line(
        ax,
        stamps,
        hold,
        "buy_hold",
        color=COLORS["buy_hold"],
        linewidth=1.6,
        linestyle="--",
        label=f"buy & hold {pct_text((hold[-1] / cash - 1.0) * 100.0)}",
    )
    ax.axhline(cash, color="#555555", linewidth=0.9, gid="initial_cash")
    _money_axis(ax, cash)
    quotes = sorted({s.split("/")[-1] for s in result.symbols})
    ax.set_ylabel(f"equity, {quotes[0]}" if len(quotes) == 1 else "equity")
    ax.margins(x=0.01)
    legend_above(ax, ncols=2)
    date_axis(ax)


def draw_drawdown(ax: Axes, result: BacktestResult) -> None:
    """Drawdown from the running equity peak, drawn downwards, with its deepest point marked."""
    dd = -drawdown_series(result)
    idx = envelope_indices(dd)
    x = to_days(result.timestamps[idx])
    ax.fill_between(
        x, dd[idx], 0.0, color=COLORS["drawdown"], alpha=0.35, linewidth=0, gid="drawdown_fill"
    )
    ax.plot(x, dd[idx], color=COLORS["drawdown"], linewidth=1.2, gid="drawdown")
    deepest = int(np.argmin(dd))
    if dd[deepest] < 0:
        ax.plot(
            to_days(result.timestamps[deepest : deepest + 1]),
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


def _bin_edges(pct: FloatArray) -> FloatArray:
    """Equal-width bins with an edge at 0, so no bin mixes wins and losses."""
    lo, hi = float(pct.min()), float(pct.max())
    auto = np.histogram_bin_edges(pct, bins="auto")
    width = float(auto[1] - auto[0]) if hi > lo else max(abs(lo) * 0.1, 0.1)
    width = max(width, (max(hi, 0.0) - min(lo, 0.0)) / _MAX_BINS, 1e-9)
    start = math.floor(min(lo, 0.0) / width) * width
    stop = math.ceil(max(hi, 0.0) / width) * width
    return np.arange(start, stop + width * 1.5, width)


def draw_returns(ax: Axes, trades: pd.DataFrame) -> None:
    """Histogram of trade returns (pnl_pct), wins and losses coloured, the mean marked."""
    pct = trades["pnl_pct"].to_numpy(dtype=np.float64)
    if len(pct) == 0:
        ax.text(
            0.5,
            0.5,
            "No trades",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=16,
            gid="no_trades",
        )
        ax.set_axis_off()
        return
    win = trades["pnl"].to_numpy() > 0
    edges = _bin_edges(pct)
    widths = np.diff(edges)
    for gid, mask, color in (("wins", win, COLORS["win"]), ("losses", ~win, COLORS["loss"])):
        counts, _ = np.histogram(pct[mask], bins=edges)
        ax.bar(
            edges[:-1],
            counts,
            width=widths,
            align="edge",
            color=color,
            alpha=0.85,
            edgecolor="white",
            linewidth=0.5,
            gid=gid,
            label=f"{gid} {int(mask.sum())}" if mask.any() else f"_{gid}",
        )
    mean = float(pct.mean())
    ax.axvline(0.0, color="#555555", linewidth=0.9, gid="zero")
    ax.axvline(
        mean,
        color=COLORS["mean"],
        linestyle="--",
        linewidth=2.0,
        gid="mean",
        label=f"mean {pct_text(mean, 2)}",
    )
    from matplotlib.ticker import MaxNLocator

    percent_axis(ax, "x")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel("return per trade")
    ax.set_ylabel("trades")
    ax.legend(loc="upper right")


def draw_comparison(ax: Axes, results: Sequence[BacktestResult], labels: Sequence[str]) -> None:
    """Each result's equity as percent return, best final return first in the legend."""
    first = results[0]
    hold = (buy_hold_equity(first) / first.metrics.initial_cash - 1.0) * 100.0
    _thin_line(
        ax,
        first.timestamps,
        hold,
        "buy_hold",
        color=COLORS["buy_hold"],
        linewidth=1.6,
        linestyle="--",
        label=f"buy & hold {pct_text(hold[-1])}",
        zorder=1,
    )
    order = sorted(range(len(results)), key=lambda i: -results[i].metrics.total_return_pct)
    for rank, i in enumerate(order):
        result = results[i]
        label = f"{labels[i]} {pct_text(result.metrics.total_return_pct)}"
        _thin_line(
            ax,
            result.timestamps,
            return_pct_series(result),
            f"result:{i}",
            color=SERIES_COLORS[i % len(SERIES_COLORS)],
            linewidth=2.0,
            label=label,
            zorder=3 + len(results) - rank,
        )
    ax.axhline(0.0, color="#555555", linewidth=0.9, gid="zero")
    percent_axis(ax)
    ax.set_ylabel("return")
    ax.margins(x=0.01)
    # ranked results first, buy & hold (drawn first, under the rest) last
    legend_above(ax, ncols=2, order=[*range(1, len(results) + 1), 0])
    date_axis(ax)
