"""Look and output of every chart: size, fonts, colours, date axes and PNG rendering.

matplotlib is imported inside the functions: `import botcore.charts` must stay cheap, and
`matplotlib.pyplot` is never imported (figures are plain `Figure` objects on the Agg canvas).
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.typing import RcKeyType

__all__ = [
    "COLORS",
    "DPI",
    "HEIGHT_PX",
    "WIDTH_PX",
    "chart_style",
    "date_axis",
    "figure_to_png",
    "legend_above",
    "new_figure",
    "pct_text",
    "percent_axis",
    "to_days",
]

DPI = 150
WIDTH_PX = 1080
# Heights in pixels per chart kind; widths are all WIDTH_PX (a phone screen's width).
HEIGHT_PX = {"backtest": 1350, "price": 810, "equity": 810, "returns": 720, "comparison": 810}

# Colour-blind-safe where it matters (Okabe-Ito based); wins green, losses vermilion.
COLORS = {
    "price": "#2b2b2b",
    "equity": "#0072b2",
    "buy_hold": "#8c8c8c",
    "drawdown": "#d55e00",
    "entry": "#0072b2",
    "win": "#009e73",
    "loss": "#d55e00",
    "mean": "#1a1a1a",
    "band": "#cc79a7",
}
OVERLAY_COLORS = ("#e69f00", "#cc79a7", "#56b4e9", "#009e73", "#8c6d31", "#000000")
SERIES_COLORS = (
    "#0072b2",
    "#e69f00",
    "#009e73",
    "#cc79a7",
    "#d55e00",
    "#56b4e9",
    "#000000",
    "#f0e442",
)

# Sizes in points at DPI 150: 12 pt is 25 px, legible on a phone showing the image 1080 px wide.
_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 12,
    "axes.titlesize": 13,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.labelsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
    "legend.fontsize": 11,
    "figure.titlesize": 15,
    "figure.titleweight": "bold",
    "lines.linewidth": 2.0,
    "axes.linewidth": 1.0,
    "axes.grid": True,
    "grid.linewidth": 0.8,
    "grid.alpha": 0.35,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}


@contextmanager
def chart_style() -> Iterator[None]:
    """matplotlib's defaults plus our style, ignoring any user matplotlibrc (for repeatability)."""
    import matplotlib
    import matplotlib.style

    with matplotlib.style.context("default"), matplotlib.rc_context(_RC):
        yield


def new_figure(kind: str, rows: int = 1, height_ratios: list[float] | None = None) -> Figure:
    """A blank figure of the size of chart `kind` with `rows` axes sharing the x axis.

    Call inside `chart_style()`.
    """
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    figure = Figure(
        figsize=(WIDTH_PX / DPI, HEIGHT_PX[kind] / DPI),
        dpi=DPI,
        layout=ConstrainedLayoutEngine(w_pad=0.08, h_pad=0.08, hspace=0.03),
    )
    if rows > 1:
        figure.subplots(rows, 1, sharex=True, gridspec_kw={"height_ratios": height_ratios})
    else:
        figure.add_subplot()
    return figure


def figure_to_png(figure: Figure) -> bytes:
    """Render `figure` to PNG bytes on the Agg canvas.

    The same figure always gives the same bytes: fixed DPI, matplotlib's bundled DejaVu fonts and
    no software or time stamp in the PNG metadata.

    Args:
        figure: A figure built by this package (or any matplotlib `Figure`).

    Returns:
        The PNG file's bytes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    with chart_style():
        figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def to_days(ms: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """UTC milliseconds since the epoch as matplotlib date numbers (days since its epoch)."""
    import matplotlib.dates as mdates

    stamps = np.asarray(ms, dtype=np.int64).astype("datetime64[ms]")
    return np.asarray(mdates.date2num(stamps), dtype=np.float64)


def date_axis(ax: Axes) -> None:
    """UTC dates on `ax`'s x axis: a few ticks, labelled concisely (`Mar`, `2024`, `12:00`)."""
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(tz=mdates.UTC, minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(locator)
    # the offset (bottom right) names only what the tick labels leave out
    offsets = ["", "%Y", "%Y", "%Y-%b-%d", "%Y-%b-%d", "%Y-%b-%d %H:%M"]
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(locator, tz=mdates.UTC, offset_formats=offsets)
    )


def percent_axis(ax: Axes, axis: str = "y", nbins: int = 6) -> None:
    """Ticks at nice steps labelled in percent (`−20%`, `2.5%`); values are already percent."""
    from matplotlib.ticker import Formatter, MaxNLocator

    class _Percent(Formatter):
        # as many decimals as the tick step needs, and no more
        def __call__(self, x: float, pos: int | None = None) -> str:
            return self.format_ticks([x])[0]

        def format_ticks(self, values: Any) -> list[str]:
            ticks = np.asarray(values, dtype=np.float64)
            decimals = next(
                (d for d in range(4) if np.allclose(np.round(ticks, d), ticks, atol=1e-9)), 4
            )
            return [_percent(v, decimals) for v in ticks]

    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(MaxNLocator(nbins=nbins, steps=[1, 2, 2.5, 5, 10]))
    target.set_major_formatter(_Percent())


def _percent(value: float, decimals: int) -> str:
    value = 0.0 if round(value, decimals) == 0 else value  # no "−0%"
    return f"{value:.{decimals}f}%".replace("-", "\u2212")


def legend_above(ax: Axes, ncols: int, **options: Any) -> None:
    """The axes' legend in rows just above its top edge, left-aligned, clear of the data."""
    handles, labels = ax.get_legend_handles_labels()
    if not handles:
        return
    order = options.pop("order", range(len(handles)))
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncols=min(ncols, len(handles)),
        borderaxespad=0.2,
        handlelength=1.4,
        handletextpad=0.4,
        columnspacing=1.2,
        **options,
    )


def pct_text(value: float, decimals: int = 1) -> str:
    """`+12.3%` / `−4.0%` (a true minus sign, as on the axes)."""
    return f"{value:+.{decimals}f}%".replace("-", "\u2212")
