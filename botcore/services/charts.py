"""Chart use cases: a market's recent candles with indicators and the bot's trades, as a PNG.

Candles come from the local catalog the engine replays from (the cache, `[market] data_dir`,
`[data] dirs`, then the bundled candles), never from the network, and stop at the engine's clock
(see `botcore.services.history`): a candle is drawn only if it opened at or before the clock and
had closed by the close of the latest bar the engine processed (the run state's `clock_ms`; for
an explicit `now_ms`, or a store without it, one of the engine's shortest bars after the clock),
so a replay's chart never shows a price the engine had not seen yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from botcore.config import Settings
from botcore.engine.identity import account_name
from botcore.engine.state import STATE_KEY, RunState
from botcore.errors import DataNotFoundError, ParamError
from botcore.services.history import engine_clock_ms
from botcore.timeframes import timeframe_ms, to_iso

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

    from botcore.charts.candles import TradeMarkers
    from botcore.persistence import Store
    from botcore.strategy.base import Strategy

__all__ = [
    "DEFAULT_BARS",
    "FALLBACK_EMAS",
    "WARMUP_BARS",
    "IndicatorSeries",
    "PriceChart",
    "TradeMark",
    "price_chart",
    "price_figure",
]

DEFAULT_BARS = 120
MAX_BARS = 1000
MIN_BARS = 10
DEFAULT_TIMEFRAME = "1h"
# Drawn when the market has no assigned strategy, or its strategy has no price-scale indicator.
FALLBACK_EMAS = (20, 50)
# Candles before the first drawn one that feed the indicators: an EMA forgets its seed after about
# ten periods, so 500 bars settle EMA 50 and every built-in's lines to float precision.
WARMUP_BARS = 500


@dataclass(frozen=True)
class IndicatorSeries:
    """One indicator line, one value per candle (NaN where not yet defined)."""

    name: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class TradeMark:
    """An entry or exit of the bot drawn on the chart (a fill's time and price).

    `trade_id` is None for the entry of a position still open; `pnl` is set on exits.
    """

    kind: Literal["entry", "exit"]
    timestamp_ms: int
    price: Decimal
    trade_id: str | None
    pnl: Decimal | None


@dataclass(frozen=True)
class PriceChart:
    """The chart and the data drawn on it.

    Attributes:
        symbol, timeframe, exchange: The market drawn (exchange of the candle file).
        clock_ms: The clock the candles stop at.
        strategy: The strategy whose indicators are drawn; None when `FALLBACK_EMAS` are.
        timestamps_ms: Candle open times (UTC ms), oldest first; open/high/low/close alike.
        indicators: The lines drawn over the candles.
        marks: Entries and exits inside the drawn period, by time.
        png: 1080 x 810 px; empty when the caller asked for the data only.
    """

    symbol: str
    timeframe: str
    exchange: str
    clock_ms: int
    strategy: str | None
    timestamps_ms: tuple[int, ...]
    open: tuple[float, ...]
    high: tuple[float, ...]
    low: tuple[float, ...]
    close: tuple[float, ...]
    indicators: tuple[IndicatorSeries, ...]
    marks: tuple[TradeMark, ...]
    png: bytes


@dataclass(frozen=True)
class _Assigned:
    timeframe: str
    strategy: str
    params: dict[str, float | int | bool | str]
    data_exchange: str | None


def _assigned(settings: Settings, store: Store, symbol: str) -> _Assigned | None:
    """The strategy trading `symbol` on the engine's account: its run-time assignment first,
    then `[[market.symbols]]`. (The store may hold another account's assignments: paper ones
    from before a switch to live.)"""
    account = account_name(settings)
    chosen = [
        a for a in store.strategy_assignments() if a.symbol == symbol and a.exchange == account
    ]
    configured = [s for s in settings.market.symbols if s.symbol == symbol]
    data_exchange = configured[0].exchange if configured else None
    if chosen:
        a = chosen[0]
        return _Assigned(a.timeframe, a.strategy, dict(a.params), data_exchange)
    if configured:
        s = configured[0]
        return _Assigned(s.timeframe, s.strategy, dict(s.params), data_exchange)
    return None


def _seen_until_ms(settings: Settings, store: Store, clock_ms: int, now_ms: int | None) -> int:
    """The moment up to which candles had closed, as far as the engine knows, at the clock."""
    if now_ms is None:
        # the engine records the close time of the latest bar it processed
        closed = RunState.from_json(store.state(STATE_KEY)).clock_ms
        if closed is not None:
            return closed
    # The clock is a bar's open time; the engine had then seen closes up to one of its shortest
    # bars later at least.
    steps = [timeframe_ms(s.timeframe) for s in settings.market.symbols]
    return clock_ms + min(steps, default=0)


def _strategy(assigned: _Assigned | None, timeframe: str, settings: Settings) -> Strategy | None:
    """The assigned strategy, when the chart is in its timeframe (its indicators fit no other)."""
    if assigned is None or assigned.timeframe != timeframe:
        return None
    from botcore.strategy.registry import get_strategy

    return get_strategy(assigned.strategy, settings.strategies.folder)(**assigned.params)


def _overlays(
    history: pd.DataFrame, strategy: Strategy | None
) -> tuple[pd.DataFrame, list[str], str | None]:
    """The candles with indicator columns, the columns to draw, and whose indicators they are."""
    from botcore.charts.series import overlay_columns

    if strategy is not None:
        frame = strategy.run_signals(history).frame
        columns = overlay_columns(frame)
        if columns:
            return frame, columns, strategy.name
    from botcore.indicators import ema

    frame = history.copy()
    names = [f"ema_{n}" for n in FALLBACK_EMAS]
    for n, name in zip(FALLBACK_EMAS, names, strict=True):
        frame[name] = ema(frame["close"], n)
    return frame, names, None


def _marks(store: Store, symbol: str, first_ms: int, clock_ms: int) -> list[TradeMark]:
    # a position sold in several fills books one trade per fill, all with the same entry
    entries: dict[tuple[int, Decimal], TradeMark] = {}
    exits: list[TradeMark] = []
    # a trade entered in the window exits after its start too, so older exits are not read
    for t in store.trades(symbol=symbol, since_ms=first_ms):
        if first_ms <= t.entry_ms <= clock_ms:
            mark = TradeMark("entry", t.entry_ms, t.entry_price, t.id, None)
            entries.setdefault((t.entry_ms, t.entry_price), mark)
        if first_ms <= t.exit_ms <= clock_ms:
            exits.append(TradeMark("exit", t.exit_ms, t.exit_price, t.id, t.pnl))
    for p in store.positions():
        if p.symbol == symbol and first_ms <= p.entry_ms <= clock_ms:
            mark = TradeMark("entry", p.entry_ms, p.entry_price, None, None)
            entries.setdefault((p.entry_ms, p.entry_price), mark)
    return sorted([*entries.values(), *exits], key=lambda m: (m.timestamp_ms, m.kind))


def _markers(marks: Sequence[TradeMark]) -> TradeMarkers:
    import numpy as np

    from botcore.charts.candles import TradeMarkers

    entries = [m for m in marks if m.kind == "entry"]
    exits = [m for m in marks if m.kind == "exit"]
    return TradeMarkers(
        entry_ms=np.array([m.timestamp_ms for m in entries], dtype=np.int64),
        entry_price=np.array([float(m.price) for m in entries], dtype=np.float64),
        exit_ms=np.array([m.timestamp_ms for m in exits], dtype=np.int64),
        exit_price=np.array([float(m.price) for m in exits], dtype=np.float64),
        exit_win=np.array([m.pnl is not None and m.pnl > 0 for m in exits], dtype=np.bool_),
    )


def price_figure(chart: PriceChart) -> Figure:
    """The chart's figure, built from the data it holds (what `png` is rendered from)."""
    import pandas as pd

    from botcore.charts.candles import build_candles_figure

    columns = {
        "timestamp": chart.timestamps_ms,
        "open": chart.open,
        "high": chart.high,
        "low": chart.low,
        "close": chart.close,
    }
    frame = pd.DataFrame(columns | {s.name: s.values for s in chart.indicators})
    lines = chart.strategy or "EMA " + "/".join(map(str, FALLBACK_EMAS))
    title = f"{chart.symbol} {chart.timeframe} · {lines}"
    overlays = [s.name for s in chart.indicators]
    step = timeframe_ms(chart.timeframe)
    return build_candles_figure(
        frame, step, title, overlays, _markers(chart.marks), ylabel=chart.symbol
    )


def _floats(frame: pd.DataFrame, column: str) -> tuple[float, ...]:
    return tuple(float(v) for v in frame[column].to_numpy(dtype="float64"))


def price_chart(
    settings: Settings,
    store: Store,
    symbol: str,
    timeframe: str | None = None,
    bars: int | None = None,
    now_ms: int | None = None,
    png: bool = True,
) -> PriceChart:
    """Candles of `symbol` up to the engine's clock with indicators and the bot's trades.

    Indicators: the price-scale lines of the strategy assigned to the market (run-time
    assignment, else `[[market.symbols]]`) when the chart is in that strategy's timeframe, else
    EMA 20 and EMA 50. Marks: entries and exits of the trades table (and the entry of an open
    position) inside the drawn period.

    Args:
        settings: The configuration (data folders, markets, quote currency).
        store: The engine's store.
        symbol: `ETH/USDT`, `eth` (the configured quote is added), `eth-btc`...
        timeframe: ccxt timeframe; None: the assigned strategy's timeframe, else 1h.
        bars: How many candles (10-1000); None: 120.
        now_ms: The clock to stop at; None: the engine's clock.
        png: Render the image too (matplotlib, ~0.2 s); False for callers that draw the
            data themselves, such as the terminal dashboard.

    Raises:
        DataNotFoundError: no local candles of that market and timeframe, or none up to the clock.
        ParamError: a malformed timeframe, or `bars` out of range.
        StrategyError: the assigned strategy failed computing its indicators.
    """
    from botcore.charts.style import figure_to_png
    from botcore.data.catalog import DataCatalog, normalize_symbol

    count = DEFAULT_BARS if bars is None else bars
    if not MIN_BARS <= count <= MAX_BARS:
        raise ParamError(f"a chart shows {MIN_BARS} to {MAX_BARS} candles, not {count}")
    wanted = normalize_symbol(symbol, settings.trading.quote)
    assigned = _assigned(settings, store, wanted)
    tf = timeframe or (assigned.timeframe if assigned else DEFAULT_TIMEFRAME)
    step = timeframe_ms(tf)
    data = settings.data
    first = (settings.market.data_dir,) if settings.market.data_dir else ()
    catalog = DataCatalog.create(data.cache_dir, (*first, *data.dirs), data.default_exchange)
    loaded = catalog.load(wanted, tf, assigned.data_exchange if assigned else None)
    clock = engine_clock_ms(store, now_ms)
    frame = loaded.frame
    stamps = frame["timestamp"]
    until = _seen_until_ms(settings, store, clock, now_ms)
    seen = frame[(stamps <= clock) & (stamps + step <= until)]
    if seen.empty:
        raise DataNotFoundError(f"no {wanted} {tf} candles up to {to_iso(clock)}")
    strategy = _strategy(assigned, tf, settings)
    warmup = max(WARMUP_BARS, strategy.warmup() if strategy is not None else 0)
    history = seen.iloc[-(count + warmup) :].reset_index(drop=True)
    with_lines, columns, drawn = _overlays(history, strategy)
    window = with_lines.iloc[-count:].reset_index(drop=True)
    first_ms = int(window["timestamp"].iloc[0])
    chart = PriceChart(
        symbol=wanted,
        timeframe=tf,
        exchange=loaded.key.exchange,
        clock_ms=clock,
        strategy=drawn,
        timestamps_ms=tuple(int(t) for t in window["timestamp"]),
        open=_floats(window, "open"),
        high=_floats(window, "high"),
        low=_floats(window, "low"),
        close=_floats(window, "close"),
        indicators=tuple(IndicatorSeries(c, _floats(window, c)) for c in columns),
        marks=tuple(_marks(store, wanted, first_ms, clock)),
        png=b"",
    )
    return replace(chart, png=figure_to_png(price_figure(chart))) if png else chart
