"""The price chart: real candles up to the engine's clock, indicator lines and the bot's trades.

Candles are checked against the bundled files read directly with pandas, trades against the
store's rows, and the drawn artists against both; the replay's clock sits months before the
files end, so a chart that looked ahead would show it.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

import botcore.data
from botcore.charts.style import HEIGHT_PX, WIDTH_PX, figure_to_png, to_days
from botcore.config import Settings
from botcore.errors import DataNotFoundError, ParamError
from botcore.persistence import Store, StrategyAssignment
from botcore.services.charts import PriceChart, price_chart, price_figure
from tests.botcore.services import raw
from tests.botcore.services.conftest import Replay

BUNDLED = Path(botcore.data.__file__).parent / "bundled"
STEP_MS = {"15m": 900_000, "1h": 3_600_000}


def candles(symbol: str, timeframe: str) -> pd.DataFrame:
    name = f"binance_{symbol.replace('/', '-')}_{timeframe}.csv.gz"
    return pd.read_csv(BUNDLED / name).sort_values("timestamp").reset_index(drop=True)


def ema(close: pd.Series, period: int) -> np.ndarray:
    # hundreds of bars of history make the seed irrelevant, so the plain recursion must agree
    return close.ewm(span=period, adjust=False).mean().to_numpy()


def line(figure: Figure, gid: str) -> Line2D:
    found = [ln for ln in figure.axes[0].get_lines() if ln.get_gid() == gid]
    assert len(found) == 1, gid
    return found[0]


def xy(artist: Line2D) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(artist.get_xdata(), dtype=float), np.asarray(artist.get_ydata(), dtype=float)


def check_drawing(chart: PriceChart, frame: pd.DataFrame) -> Figure:
    """The PNG is the figure, and the figure draws `frame`'s candles and the chart's lines."""
    assert raw.png_size(chart.png) == (WIDTH_PX, HEIGHT_PX["price"])
    figure = price_figure(chart)
    assert figure_to_png(figure) == chart.png
    step = STEP_MS[chart.timeframe]
    o, h, lo, c = (frame[k].to_numpy() for k in ("open", "high", "low", "close"))
    centre = to_days(frame["timestamp"].to_numpy() + step // 2)
    ax = figure.axes[0]
    up = c >= o
    for gid, mask in (("bodies_up", up), ("bodies_down", ~up)):
        bodies = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == gid]
        assert len(bodies) == mask.sum()
        np.testing.assert_allclose([b.get_x() + b.get_width() / 2 for b in bodies], centre[mask])
        np.testing.assert_array_equal([b.get_y() for b in bodies], np.minimum(o, c)[mask])
        np.testing.assert_allclose([b.get_height() for b in bodies], np.abs(c - o)[mask])
    (wicks,) = [
        a for a in ax.collections if isinstance(a, LineCollection) and a.get_gid() == "wicks"
    ]
    segments = wicks.get_segments()
    np.testing.assert_array_equal([s[0][1] for s in segments], lo)
    np.testing.assert_array_equal([s[1][1] for s in segments], h)
    for series in chart.indicators:
        x, y = xy(line(figure, f"overlay:{series.name}"))
        np.testing.assert_array_equal(y, series.values)
        np.testing.assert_allclose(x, centre)
    entries = [m for m in chart.marks if m.kind == "entry"]
    x, y = xy(line(figure, "entries"))
    np.testing.assert_allclose(x, to_days([m.timestamp_ms for m in entries]))
    np.testing.assert_array_equal(y, [float(m.price) for m in entries])
    exits = [m for m in chart.marks if m.kind == "exit"]
    _, won = xy(line(figure, "exits_win"))
    _, lost = xy(line(figure, "exits_loss"))
    assert sorted([*won, *lost]) == sorted(float(m.price) for m in exits)
    return figure


def expected_marks(
    db: Path, symbol: str, first_ms: int, clock_ms: int
) -> set[tuple[str, int, Decimal]]:
    marks = set()
    for t in raw.trades(db):
        if t.symbol == symbol and first_ms <= t.entry_ms <= clock_ms:
            marks.add(("entry", t.entry_ms, t.entry_price))
        if t.symbol == symbol and first_ms <= t.exit_ms <= clock_ms:
            marks.add(("exit", t.exit_ms, t.exit_price))
    for p in raw.positions(db):
        if p.symbol == symbol and first_ms <= p.entry_ms <= clock_ms:
            marks.add(("entry", p.entry_ms, p.entry_price))
    return marks


def test_chart_of_a_traded_market_shows_its_strategy_and_trades_up_to_the_clock(
    replay: Replay, store: Store
) -> None:
    clock = raw.equity(replay.db)[-1][0]
    last = raw.cursor(replay.db, "ETH/USDT|15m")
    rows = candles("ETH/USDT", "15m")
    assert rows["timestamp"].max() > clock + 100 * raw.DAY_MS  # the file goes on for months
    seen = rows[rows["timestamp"] <= last]
    window = seen.iloc[-120:].reset_index(drop=True)

    chart = price_chart(replay.settings, store, "eth")
    assert (chart.symbol, chart.timeframe, chart.exchange) == ("ETH/USDT", "15m", "binance")
    assert chart.clock_ms == raw.clock(replay.db) == last + 15 * 60_000  # the bar's close
    assert clock == last
    assert chart.timestamps_ms == tuple(window["timestamp"])
    assert chart.close == tuple(window["close"])
    assert (chart.open, chart.high, chart.low) == (
        tuple(window["open"]),
        tuple(window["high"]),
        tuple(window["low"]),
    )
    assert chart.strategy == "ema_cross"
    assert [s.name for s in chart.indicators] == ["ema_fast", "ema_slow"]
    for series, period in zip(chart.indicators, (5, 13), strict=True):
        np.testing.assert_allclose(series.values, ema(seen["close"], period)[-120:], rtol=1e-9)
    got = {(m.kind, m.timestamp_ms, m.price) for m in chart.marks}
    assert got == expected_marks(replay.db, "ETH/USDT", chart.timestamps_ms[0], clock)
    assert any(m.kind == "exit" for m in chart.marks)
    assert any(m.trade_id is None for m in chart.marks)  # the open position's entry
    check_drawing(chart, window)
    # the dashboard draws the data itself: the same chart, without rendering the image
    data_only = price_chart(replay.settings, store, "eth", png=False)
    assert data_only.png == b"" and replace(data_only, png=chart.png) == chart


def test_a_longer_bar_appears_only_once_the_engine_has_processed_it(
    replay: Replay, store: Store
) -> None:
    clock = raw.equity(replay.db)[-1][0]
    last_btc = raw.cursor(replay.db, "BTC/USDT|1h")
    chart = price_chart(replay.settings, store, "BTC/USDT", bars=48)
    assert chart.timeframe == "1h"
    assert len(chart.timestamps_ms) == 48
    # the 1h bar open at the clock's hour closes after the 15m bar at the clock: not seen yet
    assert chart.timestamps_ms[-1] == last_btc < clock
    assert chart.strategy == "sma_cross"
    rows = candles("BTC/USDT", "1h")
    check_drawing(chart, rows[rows["timestamp"] <= last_btc].iloc[-48:].reset_index(drop=True))


def test_a_timeframe_the_engine_does_not_trade_gets_emas_and_no_bar_past_the_clock(
    replay: Replay, store: Store
) -> None:
    clock = raw.equity(replay.db)[-1][0]
    chart = price_chart(replay.settings, store, "btc", "15m")
    assert chart.strategy is None
    assert [s.name for s in chart.indicators] == ["ema_20", "ema_50"]
    rows = candles("BTC/USDT", "15m")
    seen = rows[rows["timestamp"] <= clock]
    assert chart.timestamps_ms[-1] == clock
    for series, period in zip(chart.indicators, (20, 50), strict=True):
        np.testing.assert_allclose(series.values, ema(seen["close"], period)[-120:], rtol=1e-9)
    # the BTC trades were made on 1h bars; they are still marked on the 15m candles
    got = {(m.kind, m.timestamp_ms, m.price) for m in chart.marks}
    assert got == expected_marks(replay.db, "BTC/USDT", chart.timestamps_ms[0], clock)


@pytest.mark.parametrize(
    ("symbol", "timeframe"), [("ETH/USDT", "15m"), ("BTC/USDT", "1h"), ("BTC/USDT", "15m")]
)
def test_a_chart_at_an_earlier_clock_never_shows_a_later_bar_or_trade(
    replay: Replay, store: Store, symbol: str, timeframe: str
) -> None:
    now = raw.trades(replay.db)[6].exit_ms + 1
    chart = price_chart(replay.settings, store, symbol, timeframe, now_ms=now)
    step = STEP_MS[timeframe]
    assert max(chart.timestamps_ms) <= now
    # nothing the engine could not have seen: closed by one of its shortest (15m) bars later
    assert max(chart.timestamps_ms) + step <= now + STEP_MS["15m"]
    rows = candles(symbol, timeframe)
    earlier = rows[rows["timestamp"] < chart.timestamps_ms[-1]]
    assert earlier["timestamp"].iloc[-1] == chart.timestamps_ms[-2]  # no gap before the end
    assert all(m.timestamp_ms <= now for m in chart.marks)
    got = {(m.kind, m.timestamp_ms, m.price) for m in chart.marks}
    assert got == expected_marks(replay.db, symbol, chart.timestamps_ms[0], now) - {
        ("entry", p.entry_ms, p.entry_price) for p in raw.positions(replay.db) if p.entry_ms > now
    }


def test_a_run_time_assignment_wins_over_the_config(replay: Replay, tmp_path: Path) -> None:
    settings, _ = replay.copy(tmp_path)
    assignment = StrategyAssignment("ETH/USDT", "15m", "bollinger_breakout", 0, {"period": 20})
    with Store.open(settings.database.url) as store:
        with store.transaction() as uow:
            uow.assign_strategy(assignment)
        chart = price_chart(settings, store, "ETH/USDT")
    assert chart.strategy == "bollinger_breakout"
    assert {s.name for s in chart.indicators} >= {"bb_upper", "bb_lower"}
    figure = check_drawing(
        chart,
        pd.DataFrame(
            {
                "timestamp": chart.timestamps_ms,
                "open": chart.open,
                "high": chart.high,
                "low": chart.low,
                "close": chart.close,
            }
        ),
    )
    gids = {a.get_gid() for a in figure.axes[0].get_children()}
    assert "band:bb_upper:bb_lower" in gids


def test_another_accounts_assignment_is_not_the_engines(replay: Replay, tmp_path: Path) -> None:
    settings, _ = replay.copy(tmp_path)
    on_binance = StrategyAssignment(
        "ETH/USDT", "15m", "bollinger_breakout", 0, {"period": 20}, exchange="binance"
    )
    with Store.open(settings.database.url) as store:
        with store.transaction() as uow:
            uow.assign_strategy(on_binance)
        # the engine books to "paper": the binance account's assignment is not its strategy
        assert price_chart(settings, store, "ETH/USDT").strategy == "ema_cross"


def test_unknown_markets_and_bad_arguments_raise_specific_errors(
    replay: Replay, store: Store
) -> None:
    with pytest.raises(DataNotFoundError, match="DOGE/USDT"):
        price_chart(replay.settings, store, "doge")
    with pytest.raises(DataNotFoundError, match="ETH/BTC"):
        price_chart(replay.settings, store, "eth-btc", "1h")
    with pytest.raises(DataNotFoundError, match="up to 2015"):
        price_chart(replay.settings, store, "btc", "1h", now_ms=1_420_070_400_000)
    with pytest.raises(ParamError):
        price_chart(replay.settings, store, "btc", "7x")
    with pytest.raises(ParamError):
        price_chart(replay.settings, store, "btc", bars=5)


def test_an_empty_store_charts_up_to_the_wall_clock(empty: tuple[Settings, Store]) -> None:
    settings, store = empty
    chart = price_chart(settings, store, "btc", bars=30)
    rows = candles("BTC/USDT", "1h")
    assert chart.timestamps_ms == tuple(rows["timestamp"].iloc[-30:])
    assert chart.strategy == "sma_cross"
    assert chart.marks == ()
    assert raw.png_size(chart.png) == (WIDTH_PX, HEIGHT_PX["price"])
