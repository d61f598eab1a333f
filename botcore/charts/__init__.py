"""Backtest charts as PNG bytes, for the CLI and for chat replies.

Each chart has a `build_*_figure` function returning a matplotlib `Figure` (whose artists carry
a `gid` naming the data they show) and a `*_chart` function returning the rendered PNG bytes:

- `backtest_chart`: the main chart, price with trades over equity over drawdown (1080 x 1350 px)
- `price_chart`: one symbol's price, price-scale indicators, entries and exits (1080 x 810 px)
- `equity_chart`: equity against buy and hold, drawdown beneath (1080 x 810 px)
- `returns_chart`: histogram of the trades' percent returns (1080 x 720 px)
- `comparison_chart`: several results' equity as percent return (1080 x 810 px)

`write_charts` writes all of a result's charts into a folder. Long series are thinned for drawing
with a per-pixel min/max envelope, so extremes (peaks, the deepest drawdown) are kept exactly.
Rendering is deterministic: the same result always gives the same bytes.

matplotlib is imported only when a chart is built (never `matplotlib.pyplot`), so importing this
package costs nothing.
"""

from botcore.charts.figures import (
    backtest_chart,
    build_backtest_figure,
    build_comparison_figure,
    build_equity_figure,
    build_price_figure,
    build_returns_figure,
    comparison_chart,
    equity_chart,
    price_chart,
    returns_chart,
    write_charts,
)
from botcore.charts.style import DPI, HEIGHT_PX, WIDTH_PX, figure_to_png

__all__ = [
    "DPI",
    "HEIGHT_PX",
    "WIDTH_PX",
    "backtest_chart",
    "build_backtest_figure",
    "build_comparison_figure",
    "build_equity_figure",
    "build_price_figure",
    "build_returns_figure",
    "comparison_chart",
    "equity_chart",
    "figure_to_png",
    "price_chart",
    "returns_chart",
    "write_charts",
]
