"""What each screen shows, read through botcore's services (never the engine's internals).

Every function here blocks (database reads, pandas, a backtest) and is called from a thread
worker. The services are imported inside the functions: they pull in pandas, numba and
SQLAlchemy (about a second), which must not delay the dashboard's first paint.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botcore.config import Settings

if TYPE_CHECKING:
    from botcore.backtest.result import BacktestResult
    from botcore.config import RiskConfig
    from botcore.persistence import Store
    from botcore.services.account import StatusReport
    from botcore.services.charts import PriceChart
    from botcore.services.positions import PositionsReport
    from botcore.services.trades import TradeHistory
    from tui.equity_curve import EquityCurve

__all__ = [
    "BacktestChoice",
    "ChartData",
    "Gauge",
    "Markets",
    "Overview",
    "backtest_choices",
    "engine_clock",
    "engine_state",
    "preload",
    "read_chart",
    "read_markets",
    "read_overview",
    "run_backtest",
    "strategy_names",
    "trade_history",
]


@dataclass(frozen=True)
class Gauge:
    """How close one circuit breaker is to halting new entries.

    Attributes:
        rule: The risk rule (`max_daily_loss_pct`, `max_drawdown_pct`).
        label: Its name on screen.
        used_pct: The loss it measures now, in percent (0 when there is none).
        limit_pct: The limit in force, in percent.
        halted: True while this breaker holds new entries.
    """

    rule: str
    label: str
    used_pct: float
    limit_pct: float
    halted: bool

    @property
    def fraction(self) -> float:
        """`used_pct / limit_pct`, clipped to [0, 1]."""
        if self.limit_pct <= 0:
            return 0.0
        return max(0.0, min(1.0, self.used_pct / self.limit_pct))


@dataclass(frozen=True)
class Markets:
    """The markets the engine runs and the strategy trading each now."""

    symbols: tuple[str, ...]
    strategies: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Overview:
    """Everything the overview screen shows, read in one go.

    Attributes:
        status: Mode, run state, equity, today's P&L, the breaker.
        positions: Open positions with unrealised P&L.
        risk: The risk rules in force (the config with run-time changes).
        gauges: Daily loss and drawdown against their limits.
        markets: The markets traded and their strategies.
        equity_ms, equity: The equity snapshots, oldest first.
        engine: Whether an engine runs on the store, in a few words (see `engine_state`).
    """

    status: StatusReport
    positions: PositionsReport
    risk: RiskConfig
    gauges: tuple[Gauge, ...]
    markets: Markets
    equity_ms: tuple[int, ...]
    equity: tuple[float, ...]
    engine: str


@dataclass(frozen=True)
class ChartData:
    """A market's recent candles with the bot's entries and exits, and the account's equity.

    Attributes:
        symbol: The market drawn.
        price: The candles, indicator lines and trade marks; None when they cannot be drawn.
        problem: Why `price` is None ("" otherwise).
        equity_ms, equity: The equity snapshots, oldest first.
        quote: The quote currency of the equity.
    """

    symbol: str
    price: PriceChart | None
    problem: str
    equity_ms: tuple[int, ...]
    equity: tuple[float, ...]
    quote: str


@dataclass(frozen=True)
class BacktestChoice:
    """What the backtest form offers: strategy names and the local markets by timeframe."""

    strategies: tuple[str, ...]
    markets: tuple[tuple[str, str], ...]


def preload() -> None:
    """Import the modules the first reads and the parser share, in the calling thread.

    The screens read in several worker threads at once, and the parser trains in another; two
    threads importing one import cycle (botcore.strategy's package and its registry) can see a
    half-initialised module and fail with ImportError. Importing it here first, in one thread
    before any of them starts, leaves none of it for them to import.
    """
    import importlib

    # The overview's services and the strategies; the other screens' (charts, backtests: numba)
    # load on their first visit, when the cycle is in already.
    for name in (
        "botcore.strategy",
        "botcore.strategy.builtins",
        "botcore.services.account",
        "botcore.services.control",
        "botcore.services.history",
        "botcore.services.positions",
        "botcore.engine.lease",
    ):
        importlib.import_module(name)


def engine_clock(store: Store) -> int:
    """The engine's clock (UTC ms): it moves when, and only when, the engine processes a bar."""
    from botcore.services.history import engine_clock_ms

    return engine_clock_ms(store)


def engine_state(store: Store) -> str:
    """ "engine running here" (in this process), "engine running", "engine stopped" (a clean
    stop), "engine not seen" (silent or killed) or "no engine yet"."""
    import os
    import time

    from botcore.engine.lease import read_lease

    lease = read_lease(store)
    if lease is None:
        return "no engine yet"
    if lease.held(int(time.time() * 1000)):
        return "engine running here" if lease.pid == os.getpid() else "engine running"
    return "engine stopped" if lease.stopped_ms is not None else "engine not seen"


def read_markets(settings: Settings, store: Store) -> Markets:
    """The markets the engine runs, each with the strategy trading it now."""
    from botcore.services.control import EngineControl

    control = EngineControl(settings, store)
    symbols = tuple(dict.fromkeys(s.symbol for s in settings.market.symbols))
    return Markets(symbols, tuple((s, control.strategy_of(s)) for s in symbols))


def read_overview(settings: Settings, store: Store, curve: EquityCurve) -> Overview:
    """Status, positions, the risk rules in force, the breaker gauges and the equity curve."""
    from botcore.services.account import status
    from botcore.services.control import EngineControl
    from botcore.services.positions import positions

    report = status(settings, store)
    stamps, values = curve.update(settings, store)
    risk = EngineControl(settings, store).risk()
    breaker = report.breaker
    halted_by = breaker.rule if breaker.halted else None
    # the breaker's own measures, so a gauge fills exactly as the engine's check does
    gauges = (
        Gauge("max_daily_loss_pct", "Daily loss", float(breaker.daily_loss_pct),
              risk.max_daily_loss_pct, halted_by == "max_daily_loss_pct"),
        Gauge("max_drawdown_pct", "Drawdown", float(breaker.drawdown_pct),
              risk.max_drawdown_pct, halted_by == "max_drawdown_pct"),
    )  # fmt: skip
    return Overview(
        status=report,
        positions=positions(settings, store),
        risk=risk,
        gauges=gauges,
        markets=read_markets(settings, store),
        equity_ms=stamps,
        equity=values,
        engine=engine_state(store),
    )


def read_chart(
    settings: Settings, store: Store, symbol: str, curve: EquityCurve, bars: int = 120
) -> ChartData:
    """The price chart of `symbol` (its strategy's timeframe) and the account's equity curve."""
    from botcore.errors import BotcoreError
    from botcore.services.charts import price_chart

    stamps, values = curve.update(settings, store)
    chart: PriceChart | None = None
    problem = ""
    try:
        chart = price_chart(settings, store, symbol, bars=bars, png=False)
    except BotcoreError as exc:
        problem = str(exc)
    return ChartData(
        symbol=symbol,
        price=chart,
        problem=problem,
        equity_ms=stamps,
        equity=values,
        quote=settings.trading.quote,
    )


def trade_history(store: Store) -> TradeHistory:
    """Every closed trade up to the engine's clock, read again by fetching only new ones."""
    from botcore.services.trades import TradeHistory

    return TradeHistory(store)


def strategy_names(settings: Settings) -> tuple[str, ...]:
    """The strategies the engine can run: the built-ins and the strategy folder's."""
    from botcore.strategy.registry import available_strategies

    return tuple(sorted(available_strategies(settings.strategies.folder)))


def backtest_choices(settings: Settings) -> BacktestChoice:
    """The strategies (built-in and the strategy folder's) and the markets with local candles."""
    from botcore.services.backtests import BacktestService

    names = strategy_names(settings)
    keys = {(k.symbol, k.timeframe) for k, _ in BacktestService(settings).catalog.entries()}
    return BacktestChoice(names, tuple(sorted(keys)))


def _day(text: str) -> datetime | None:
    """`2024-01-31` as 00:00 UTC; None for an empty field."""
    text = text.strip()
    if not text:
        return None
    from botcore.errors import ParamError

    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ParamError(f"a date is written YYYY-MM-DD, not {text!r}") from None


def run_backtest(
    settings: Settings,
    strategy: str,
    symbol: str,
    timeframe: str,
    start: str,
    end: str,
    step: Callable[[str], None],
) -> BacktestResult:
    """Backtest `strategy` (default parameters) on the local candles of one market.

    Args:
        settings: The configuration (`[backtest]` costs and sizing, data folders).
        strategy, symbol, timeframe: What to test, on which market.
        start, end: The period as `YYYY-MM-DD` text, either may be empty (the data's own end).
        step: Told of each stage as it starts (`loading candles`, `simulating`).

    Raises:
        BotcoreError: an unknown strategy, no such candles, a bad date or an empty period.
    """
    from botcore.backtest.engine import BacktestSettings
    from botcore.services.backtests import BacktestRequest, BacktestService

    conf = settings.backtest
    request = BacktestRequest(
        strategy=strategy,
        symbols=(symbol,),
        timeframe=timeframe,
        start=_day(start),
        end=_day(end),
        settings=BacktestSettings(
            cash=conf.cash, fee=conf.fee, slippage=conf.slippage, stake_pct=conf.stake_pct,
            fill=conf.fill, max_open_positions=conf.max_open_positions,
        ),
    )  # fmt: skip
    service = BacktestService(settings)
    step("loading candles")
    markets = service.load_markets(request)
    step("simulating")
    return service.run(request, markets=markets)
