"""Charts: valid PNGs of the promised size whose drawn series are the backtest's own numbers."""

from __future__ import annotations

import io
import pickle
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from botcore.backtest import BacktestResult, BacktestSettings, run_backtest
from botcore.backtest.metrics import drawdown_pct
from botcore.charts import (
    DPI,
    HEIGHT_PX,
    WIDTH_PX,
    backtest_chart,
    build_backtest_figure,
    build_comparison_figure,
    build_equity_figure,
    build_price_figure,
    build_returns_figure,
    comparison_chart,
    equity_chart,
    figure_to_png,
    price_chart,
    returns_chart,
    write_charts,
)
from botcore.charts.downsample import envelope_indices
from botcore.charts.style import to_days
from botcore.errors import ParamError
from botcore.strategy import get_strategy
from tests.conftest import load_slice

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def backtest(strategy: str, *files: tuple[str, str, str], **params: object) -> BacktestResult:
    markets = [load_slice(name, start, end) for name, start, end in files]
    settings = BacktestSettings(max_open_positions=len(markets))
    return run_backtest(get_strategy(strategy)(**params), markets, settings)


BTC_1H = ("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2023-03-15")  # 1,728 bars: drawn whole
ETH_15M = ("binance_ETH-USDT_15m.csv.gz", "2023-06-01", "2023-06-20")  # 1,824 bars
BTC_15M = ("binance_BTC-USDT_15m.csv.gz", "2023-06-01", "2023-06-20")
BTC_15M_YEAR = ("binance_BTC-USDT_15m.csv.gz", "2023-04-01", "2024-04-01")  # 35,136 bars


@pytest.fixture(scope="module")
def sma() -> BacktestResult:
    result = backtest("sma_cross", BTC_1H)
    assert len(result.trades) > 20
    return result


@pytest.fixture(scope="module")
def bollinger() -> BacktestResult:
    return backtest("bollinger_breakout", ETH_15M)


@pytest.fixture(scope="module")
def long_run() -> BacktestResult:
    return backtest("sma_cross", BTC_15M_YEAR)


@pytest.fixture(scope="module")
def no_trades() -> BacktestResult:
    result = backtest("rsi_reversion", BTC_15M, oversold=5)
    assert result.trades.empty, "the fixture must be a backtest without trades"
    return result


@pytest.fixture(scope="module")
def one_trade() -> BacktestResult:
    result = backtest("sma_cross", ("binance_BTC-USDT_1h.csv.gz", "2023-01-01", "2023-01-04"))
    assert len(result.trades) == 1, "the fixture must be a backtest with exactly one trade"
    return result


@pytest.fixture(scope="module")
def pair() -> BacktestResult:
    return backtest("macd_trend", BTC_15M, ETH_15M)


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, after checking the file's structure and CRCs."""
    assert data[:8] == PNG_SIGNATURE
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, f"bad CRC in {kind!r}"
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR"
    assert chunks[-1][0] == b"IEND"
    assert pos == len(data)
    width, height = struct.unpack(">II", chunks[0][1][:8])
    return width, height


def pixels(data: bytes) -> np.ndarray:
    from matplotlib.image import imread

    return np.asarray(imread(io.BytesIO(data), format="png"))


def line(figure: Figure, gid: str, ax_index: int | None = None) -> Line2D:
    axes = figure.axes if ax_index is None else [figure.axes[ax_index]]
    found = [ln for ax in axes for ln in ax.get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, f"expected one line {gid!r}, found {len(found)}"
    return found[0]


def xy(artist: Line2D) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(artist.get_xdata(), dtype=float), np.asarray(artist.get_ydata(), dtype=float)


# --- the PNG files -------------------------------------------------------------------------------

CHARTS: dict[str, Callable[[BacktestResult], bytes]] = {
    "backtest": backtest_chart,
    "price": price_chart,
    "equity": equity_chart,
    "returns": returns_chart,
    "comparison": lambda r: comparison_chart([r, r], ["first", "second"]),
}


@pytest.mark.parametrize("kind", CHARTS)
def test_each_chart_is_a_valid_png_of_its_documented_size(sma: BacktestResult, kind: str) -> None:
    data = CHARTS[kind](sma)
    assert png_size(data) == (WIDTH_PX, HEIGHT_PX[kind])
    image = pixels(data)
    assert image.shape[:2] == (HEIGHT_PX[kind], WIDTH_PX)
    # something was drawn: many colours, and not mostly blank
    rgba = np.ascontiguousarray((image * 255).round().astype(np.uint8))
    assert len(np.unique(rgba.view(np.uint32))) > 50
    assert (image[..., :3] < 0.9).any(axis=2).mean() > 0.03


def test_phone_size_and_dpi_are_as_documented() -> None:
    assert (WIDTH_PX, DPI) == (1080, 150)
    assert HEIGHT_PX == {
        "backtest": 1350,
        "price": 810,
        "equity": 810,
        "returns": 720,
        "comparison": 810,
    }


def test_the_same_result_renders_to_the_same_bytes(sma: BacktestResult) -> None:
    assert backtest_chart(sma) == backtest_chart(sma)
    assert returns_chart(sma) == returns_chart(sma)


def test_png_metadata_names_no_software_and_no_time(sma: BacktestResult) -> None:
    data = equity_chart(sma)
    assert b"tEXt" not in data
    assert b"tIME" not in data
    assert b"matplotlib" not in data


@pytest.mark.parametrize(
    "build", [build_backtest_figure, build_equity_figure, build_price_figure, build_returns_figure]
)
def test_every_text_is_at_least_11_points(
    sma: BacktestResult, build: Callable[[BacktestResult], Figure]
) -> None:
    figure = build(sma)
    figure_to_png(figure)  # tick labels exist once drawn
    texts = [t for t in figure.findobj(lambda a: hasattr(a, "get_fontsize")) if t.get_text()]
    assert len(texts) > 10
    small = [(t.get_text(), t.get_fontsize()) for t in texts if t.get_fontsize() < 11]
    assert not small


# --- what is drawn is the result's data ----------------------------------------------------------


def test_equity_line_is_the_equity_curve_with_its_extremes(sma: BacktestResult) -> None:
    figure = build_equity_figure(sma)
    x, y = xy(line(figure, "equity"))
    # few bars: every bar drawn, on the bars' UTC open times
    assert len(y) == len(sma.equity)
    np.testing.assert_array_equal(y, sma.equity)
    np.testing.assert_allclose(x, to_days(sma.timestamps))
    from matplotlib.dates import num2date

    assert num2date(x[0]) == datetime.fromtimestamp(sma.timestamps[0] / 1000, tz=UTC)


def test_drawdown_panel_reaches_the_reported_max_drawdown(sma: BacktestResult) -> None:
    figure = build_equity_figure(sma)
    _, y = xy(line(figure, "drawdown"))
    np.testing.assert_allclose(y, -drawdown_pct(sma.equity, sma.metrics.initial_cash))
    assert -y.min() == pytest.approx(sma.metrics.max_drawdown_pct, abs=1e-9)
    _, deepest = xy(line(figure, "max_drawdown"))
    assert deepest[0] == pytest.approx(-sma.metrics.max_drawdown_pct, abs=1e-9)


def test_buy_and_hold_line_ends_at_the_reported_buy_and_hold_return(sma: BacktestResult) -> None:
    _, y = xy(line(build_equity_figure(sma), "buy_hold"))
    cash = sma.metrics.initial_cash
    closes = sma.frames["BTC/USDT"]["close"].to_numpy()
    np.testing.assert_allclose(y, cash * closes / closes[0])
    assert y[-1] == pytest.approx(cash * (1 + sma.metrics.buy_hold_return_pct / 100), rel=1e-12)


def test_long_series_are_thinned_but_keep_every_extreme(long_run: BacktestResult) -> None:
    assert len(long_run.equity) == 35_136
    figure = build_backtest_figure(long_run)
    x, y = xy(line(figure, "equity"))
    assert 1_000 < len(y) <= 2_002
    assert y.max() == long_run.equity.max()
    assert y.min() == long_run.equity.min()
    assert y[0] == long_run.equity[0]
    assert y[-1] == long_run.equity[-1]
    # every drawn point is a real (time, equity) pair of the result
    idx = np.searchsorted(to_days(long_run.timestamps), x)
    np.testing.assert_array_equal(long_run.equity[idx], y)
    _, dd = xy(line(figure, "drawdown"))
    assert len(dd) <= 2_002
    assert -dd.min() == pytest.approx(long_run.metrics.max_drawdown_pct, abs=1e-9)
    _, close = xy(line(figure, "close"))
    frame = long_run.frames["BTC/USDT"]
    assert (close.min(), close.max()) == (frame["close"].min(), frame["close"].max())


def test_markers_sit_on_the_trades_fills(sma: BacktestResult) -> None:
    figure = build_price_figure(sma)
    trades = sma.trades
    x, y = xy(line(figure, "entries"))
    np.testing.assert_allclose(x, to_days(trades["entry_time"].to_numpy()))
    np.testing.assert_array_equal(y, trades["entry_price"].to_numpy())
    win = trades["pnl"].to_numpy() > 0
    for gid, mask in (("exits_win", win), ("exits_loss", ~win)):
        x, y = xy(line(figure, gid))
        np.testing.assert_allclose(x, to_days(trades.loc[mask, "exit_time"].to_numpy()))
        np.testing.assert_array_equal(y, trades.loc[mask, "exit_price"].to_numpy())
    assert line(figure, "entries").get_marker() == "^"
    assert line(figure, "exits_win").get_marker() == "v"
    assert line(figure, "exits_win").get_color() != line(figure, "exits_loss").get_color()


def test_moving_averages_are_drawn_over_the_price(sma: BacktestResult) -> None:
    figure = build_price_figure(sma)
    frame = sma.frames["BTC/USDT"]
    for name in ("sma_fast", "sma_slow"):
        _, y = xy(line(figure, f"overlay:{name}"))
        np.testing.assert_array_equal(y, frame[name].to_numpy())
    _, close = xy(line(figure, "close"))
    np.testing.assert_array_equal(close, frame["close"].to_numpy())


def test_bollinger_bands_are_a_shaded_band_and_rsi_stays_off_the_price(
    bollinger: BacktestResult, no_trades: BacktestResult
) -> None:
    figure = build_price_figure(bollinger)
    gids = {a.get_gid() for a in figure.axes[0].get_children()}
    assert {
        "band:bb_upper:bb_lower",
        "overlay:bb_upper",
        "overlay:bb_lower",
        "overlay:bb_middle",
    } <= gids
    rsi_gids = {a.get_gid() for a in build_price_figure(no_trades).axes[0].get_children()}
    assert "rsi" in no_trades.frames["BTC/USDT"].columns
    assert not any(str(g).startswith("overlay:") for g in rsi_gids)


def test_return_histogram_counts_every_trade_by_outcome(sma: BacktestResult) -> None:
    figure = build_returns_figure(sma)
    ax = figure.axes[0]
    pct = sma.trades["pnl_pct"].to_numpy()
    win = sma.trades["pnl"].to_numpy() > 0
    bars = {gid: [p for p in ax.patches if p.get_gid() == gid] for gid in ("wins", "losses")}
    assert sum(p.get_height() for p in bars["wins"]) == win.sum()
    assert sum(p.get_height() for p in bars["losses"]) == (~win).sum()
    # no bar mixes wins and losses: 0 is a bin edge
    assert all(p.get_x() >= 0 for p in bars["wins"] if p.get_height() > 0)
    assert all(p.get_x() + p.get_width() <= 1e-12 for p in bars["losses"] if p.get_height() > 0)
    x, _ = xy(line(figure, "mean"))
    assert x[0] == pytest.approx(pct.mean())


def test_comparison_draws_each_return_curve_and_ranks_the_legend(
    sma: BacktestResult, long_run: BacktestResult
) -> None:
    other = backtest("ema_cross", BTC_1H)
    figure = build_comparison_figure([sma, other])
    for i, result in enumerate((sma, other)):
        _, y = xy(line(figure, f"result:{i}"))
        np.testing.assert_allclose(y, (result.equity / result.metrics.initial_cash - 1) * 100)
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    ranked = sorted((sma, other), key=lambda r: -r.metrics.total_return_pct)
    assert [label.split()[0] for label in labels] == [r.strategy for r in ranked] + ["buy"]
    same = build_comparison_figure([sma, backtest("sma_cross", BTC_1H, fast=5, slow=50)])
    texts = [t.get_text() for t in same.axes[0].get_legend().get_texts()]
    assert any("fast=5" in t for t in texts)
    with pytest.raises(ParamError):
        build_comparison_figure([sma, long_run], ["only one label"])
    with pytest.raises(ParamError):
        build_comparison_figure([])


# --- edge cases ----------------------------------------------------------------------------------


def test_a_backtest_without_trades_renders_every_chart(
    no_trades: BacktestResult, tmp_path: Path
) -> None:
    for path in write_charts(no_trades, tmp_path):
        assert png_size(path.read_bytes())[0] == WIDTH_PX
    figure = build_price_figure(no_trades)
    assert len(xy(line(figure, "entries"))[0]) == 0
    legend = figure.axes[0].get_legend()  # nothing to name: no indicators, no markers
    assert legend is None or "entry" not in [t.get_text() for t in legend.get_texts()]
    returns = build_returns_figure(no_trades)
    assert any(t.get_gid() == "no_trades" for t in returns.axes[0].texts)
    _, dd = xy(line(build_equity_figure(no_trades), "drawdown"))
    assert not dd.any()


def test_a_single_trade_renders(one_trade: BacktestResult) -> None:
    assert png_size(returns_chart(one_trade)) == (WIDTH_PX, HEIGHT_PX["returns"])
    figure = build_returns_figure(one_trade)
    heights = [p.get_height() for p in figure.axes[0].patches if p.get_height() > 0]
    assert heights == [1]
    assert png_size(backtest_chart(one_trade)) == (WIDTH_PX, HEIGHT_PX["backtest"])


def test_a_two_symbol_result_draws_the_chosen_symbols_price_and_trades(
    pair: BacktestResult,
) -> None:
    assert set(pair.trades["symbol"]) == {"BTC/USDT", "ETH/USDT"}
    for asked, symbol in (("eth", "ETH/USDT"), ("BTC/USDT", "BTC/USDT"), (None, "BTC/USDT")):
        figure = build_backtest_figure(pair, asked)
        _, close = xy(line(figure, "close", 0))
        np.testing.assert_array_equal(close, pair.frames[symbol]["close"].to_numpy())
        _, entries = xy(line(figure, "entries", 0))
        mine = pair.trades[pair.trades["symbol"] == symbol]
        np.testing.assert_array_equal(entries, mine["entry_price"].to_numpy())
    # buy and hold splits the cash over both symbols
    _, hold = xy(line(build_equity_figure(pair), "buy_hold"))
    expected = pair.metrics.initial_cash * (1 + pair.metrics.buy_hold_return_pct / 100)
    assert hold[-1] == pytest.approx(expected, rel=1e-12)
    with pytest.raises(ParamError, match="did you mean ETH/USDT"):
        build_price_figure(pair, "ETH/USD")


def test_write_charts_writes_the_documented_files(pair: BacktestResult, tmp_path: Path) -> None:
    paths = write_charts(pair, tmp_path / "charts")
    assert [p.name for p in paths] == [
        "backtest.png",
        "equity.png",
        "returns.png",
        "price_BTC-USDT.png",
        "price_ETH-USDT.png",
    ]
    for path, kind in zip(paths, ["backtest", "equity", "returns", "price", "price"], strict=True):
        assert png_size(path.read_bytes()) == (WIDTH_PX, HEIGHT_PX[kind])


# --- thinning ------------------------------------------------------------------------------------


def test_envelope_keeps_each_buckets_extremes_of_real_prices(long_run: BacktestResult) -> None:
    close = long_run.frames["BTC/USDT"]["close"].to_numpy()
    idx = envelope_indices(close, buckets=500)
    assert np.all(np.diff(idx) > 0)
    assert idx[0] == 0
    assert idx[-1] == len(close) - 1
    assert len(idx) <= 2 * 500 + 2
    assert close.argmax() in idx
    assert close.argmin() in idx
    # every stretch between kept points stays within the kept envelope of its bucket
    size = -(-len(close) // 500)
    for start in range(0, len(close), size * 37):
        bucket = close[start : start + size]
        kept = close[idx[(idx >= start) & (idx < start + size)]]
        assert kept.max() == bucket.max()
        assert kept.min() == bucket.min()


def test_envelope_returns_short_series_whole_and_ignores_gaps() -> None:
    close = load_slice(*BTC_1H).frame["close"].to_numpy()
    np.testing.assert_array_equal(envelope_indices(close[:100]), np.arange(100))
    gappy = close.copy()
    gappy[500:700] = np.nan
    idx = envelope_indices(gappy, buckets=100)
    kept = gappy[idx]
    assert np.nanmax(kept) == np.nanmax(gappy)
    assert np.nanmin(kept) == np.nanmin(gappy)


# --- import cost ---------------------------------------------------------------------------------


def test_importing_charts_loads_no_matplotlib_and_rendering_no_pyplot(
    sma: BacktestResult, tmp_path: Path
) -> None:
    saved = tmp_path / "result.pickle"
    saved.write_bytes(pickle.dumps(sma))
    script = (
        "import pickle, sys\n"
        "import botcore.charts as charts\n"
        "assert 'matplotlib' not in sys.modules, 'import botcore.charts loaded matplotlib'\n"
        f"result = pickle.loads(open({str(saved)!r}, 'rb').read())\n"
        "assert charts.backtest_chart(result)[:4] == b'\\x89PNG'\n"
        "assert 'matplotlib' in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'rendering imported pyplot'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, timeout=120
    )
    assert done.returncode == 0, done.stderr
