"""Research commands: backtest a strategy, optimise its parameters, list and rank strategies.

All of them run on local real candles (the cache, `[data] dirs`, the bundled candles) through the
same services as `tradechat backtest` and `tradechat optimize`, with `[backtest]`'s money
settings. A period counts back from the last local candle; a period longer than the data uses all
of it and says so. Long work sends progress messages before and while it runs.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botcore.errors import BotcoreError, DataNotFoundError, StrategyError
from botcore.timeframes import MS_PER_DAY, timeframe_ms
from chat import intents as i
from chat.commands.account import traded_markets
from chat.commands.base import Call, handles
from chat.commands.format import money, pct, when
from chat.commands.market import missing_data_text
from chat.reply import Reply, plain_text, table

if TYPE_CHECKING:
    from botcore.backtest.engine import BacktestSettings
    from botcore.backtest.result import BacktestResult
    from botcore.config import Settings
    from botcore.data.catalog import LoadedCandles
    from botcore.optimize.search import SearchProgress, SearchResult
    from botcore.services.backtests import BacktestRequest
    from botcore.strategy.base import Strategy

__all__ = [
    "DEFAULT_PERIOD_DAYS",
    "DEFAULT_TRIALS",
    "MAX_TRIALS",
    "backtest",
    "optimize",
    "strategies",
]

DEFAULT_PERIOD_DAYS = 90
DEFAULT_TRIALS = 30
MAX_TRIALS = 200
_log = logging.getLogger("tradechat.chat")


@dataclass(frozen=True)
class _Window:
    """The candles a request runs on: `[start_ms, end_ms)` of a loaded market."""

    market: LoadedCandles
    start_ms: int
    end_ms: int
    candles: int
    asked_days: int
    clipped: bool  # the period asked for reached back before the first local candle

    @property
    def label(self) -> str:
        """`ETH/USDT 1h`."""
        return f"{self.market.key.symbol} {self.market.key.timeframe}"

    @property
    def span(self) -> str:
        """`over 90 days (2,160 candles)`, or what was used when the data is shorter."""
        days = (self.end_ms - self.start_ms) / MS_PER_DAY
        if self.clipped:
            return (
                f"over {days:,.0f} days ({self.candles:,} candles), all the local data holds; "
                f"you asked for {self.asked_days:,}"
            )
        return f"over {self.asked_days:,} days ({self.candles:,} candles)"

    def request(self, strategy: str, settings: Settings) -> BacktestRequest:
        """The backtest of `strategy` (default parameters) on this window."""
        from botcore.services.backtests import BacktestRequest

        key = self.market.key
        return BacktestRequest(
            strategy=strategy,
            symbols=(key.symbol,),
            timeframe=key.timeframe,
            exchange=key.exchange,
            start=_utc(self.start_ms),
            end=_utc(self.end_ms),
            settings=_backtest_settings(settings),
        )


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _backtest_settings(settings: Settings) -> BacktestSettings:
    from botcore.backtest.engine import BacktestSettings

    conf = settings.backtest
    return BacktestSettings(
        cash=conf.cash,
        fee=conf.fee,
        slippage=conf.slippage,
        stake_pct=conf.stake_pct,
        fill=conf.fill,
        max_open_positions=conf.max_open_positions,
    )


def _default_timeframe(settings: Settings, symbol: str) -> str:
    configured = [s.timeframe for s in settings.market.symbols if s.symbol == symbol]
    return configured[0] if configured else "1h"


def _window(
    settings: Settings, symbol: str, timeframe: str | None, period_days: int | None
) -> _Window | str:
    """The last `period_days` of local candles, or why there are none (a polite sentence)."""
    from botcore.services.backtests import BacktestService

    catalog = BacktestService(settings).catalog
    tf = timeframe or _default_timeframe(settings, symbol)
    try:
        market = catalog.load(symbol, tf)
    except DataNotFoundError:
        return missing_data_text(catalog, symbol, tf)
    stamps = market.frame["timestamp"]
    end = int(stamps.iloc[-1]) + timeframe_ms(tf)
    asked = period_days or DEFAULT_PERIOD_DAYS
    start = end - asked * MS_PER_DAY
    first = int(stamps.iloc[0])
    clipped = start < first
    start = max(start, first)
    candles = int(((stamps >= start) & (stamps < end)).sum())
    return _Window(market, start, end, candles, asked, clipped)


def _available(settings: Settings) -> dict[str, type[Strategy]] | str:
    """Built-in and user strategies by name, or why the strategy folder does not load."""
    from botcore.strategy.registry import available_strategies

    try:
        return available_strategies(settings.strategies.folder)
    except StrategyError as exc:
        return f"Your strategy folder has a file that does not load: {plain_text(str(exc))}"


def _strategy_class(settings: Settings, name: str) -> type[Strategy] | str:
    """The strategy called `name`, or a sentence naming the ones that exist."""
    found = _available(settings)
    if isinstance(found, str):
        return found
    if name in found:
        return found[name]
    close = difflib.get_close_matches(name, list(found), n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]}?" if close else ""
    return f"There is no strategy called '{name}'.{hint} Available: {', '.join(sorted(found))}."


def _params_text(params: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())


def _num(value: float | None, missing: str = "n/a") -> str:
    return missing if value is None or not math.isfinite(value) else f"{value:.2f}"


def _trades(n: int) -> str:
    return "1 trade" if n == 1 else f"{n} trades"


def _quote(window: _Window) -> str:
    return window.market.key.symbol.partition("/")[2].split(":")[0]


def _report(result: BacktestResult, window: _Window) -> str:
    m = result.metrics
    q = _quote(window)
    lines = [
        f"**Backtest {result.strategy}** ({_params_text(result.params)}) · {window.label} · "
        f"{result.exchange}",
        f"{when(window.start_ms)} → {when(window.end_ms)} · {window.span}",
        f"Return: {pct(m.total_return_pct)} ({money(Decimal(str(m.initial_cash)), q)} → "
        f"{money(Decimal(str(m.final_equity)), q)})",
    ]
    if m.buy_hold_return_pct is not None:
        gap = m.total_return_pct - m.buy_hold_return_pct
        verdict = "beat it" if gap > 0 else "trailed it"
        lines.append(
            f"Buy & hold: {pct(m.buy_hold_return_pct)} · the strategy {verdict} by "
            f"{abs(gap):.2f} points"
        )
    win_rate = "n/a" if m.win_rate_pct is None else pct(m.win_rate_pct, sign=False)
    lines += [
        f"Trades: {m.trades} · win rate {win_rate} · profit factor {_num(m.profit_factor)}",
        f"Max drawdown: {pct(m.max_drawdown_pct, sign=False)} · Sharpe {_num(m.sharpe)}",
        f"Fees paid: {money(Decimal(str(m.fees_paid)), q)} · fills at "
        + ("the next bar's open" if result.settings.get("fill") == "next_open" else "bar close"),
    ]
    lines += [f"Note: {plain_text(w)}" for w in result.warnings[:2]]
    for symbol, quality in result.quality.items():
        lines += [f"Data {symbol}: {plain_text(issue)}" for issue in quality.issues()[:2]]
    return "\n".join(lines)


async def _setup(
    call: Call[Any], strategy: str, symbol: str, timeframe: str | None, days: int | None
) -> tuple[type[Strategy], _Window] | str:
    settings = call.ctx.settings
    found = await call.run(lambda: _strategy_class(settings, strategy))
    if isinstance(found, str):
        return found
    window = await call.run(lambda: _window(settings, symbol, timeframe, days))
    return window if isinstance(window, str) else (found, window)


@handles("backtest")
async def backtest(call: Call[i.Backtest]) -> Reply:
    """Backtest a strategy (default parameters) on local candles: report and equity chart."""
    from botcore.charts import equity_chart
    from botcore.services.backtests import BacktestService

    it, settings = call.intent, call.ctx.settings
    ready = await _setup(call, it.strategy, it.symbol, it.timeframe, it.period_days)
    if isinstance(ready, str):
        return Reply(ready)
    _, window = ready
    await call.say(f"Backtesting {it.strategy} on {window.label} {window.span}...")
    request = window.request(it.strategy, settings)
    try:
        result = await call.run(
            lambda: BacktestService(settings).run(request, None, [window.market])
        )
    except BotcoreError as exc:
        return Reply(f"The backtest of {it.strategy} could not run: {plain_text(str(exc))}")
    await call.say(f"{result.metrics.trades} trades simulated; drawing the equity chart...")
    png = await call.run(lambda: equity_chart(result))
    return Reply(_report(result, window), image=png, image_name="backtest.png")


class _Relay:
    """Progress posted from a worker thread, sent in order from the event loop."""

    def __init__(self, call: Call[Any]) -> None:
        self._call = call
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._task = asyncio.create_task(self._pump())

    def post(self, text: str) -> None:
        """Queue `text` (safe from any thread)."""
        self._loop.call_soon_threadsafe(self._queue.put_nowait, text)

    async def _pump(self) -> None:
        while (text := await self._queue.get()) is not None:
            try:
                await self._call.say(text)
            except Exception:  # a lost progress message must not stop the search
                _log.warning("could not send a progress message", exc_info=True)

    async def close(self) -> None:
        """Send what is queued, then stop."""
        self._queue.put_nowait(None)
        await self._task


def _search(
    settings: Settings,
    window: _Window,
    strategy: str,
    trials: int,
    progress: Callable[[SearchProgress], None],
) -> tuple[SearchResult, BacktestResult]:
    """The parameter search (in this thread: no worker processes under the bot) and the
    default parameters' backtest on the same window, for comparison."""
    import optuna

    from botcore.services.backtests import BacktestService
    from botcore.services.optimize import OptimizeRequest, OptimizeService

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # chat progress replaces trial logs
    backtest = window.request(strategy, settings)
    request = OptimizeRequest(
        backtest=backtest, objective=settings.optimize.objective, trials=trials, jobs=1
    )
    found = OptimizeService(settings).search(request, progress)
    default = BacktestService(settings).run(backtest, None, [window.market])
    return found, default


def _optimize_report(
    found: SearchResult, default: BacktestResult, window: _Window, objective: str
) -> str:
    best = found.best_metrics
    counts = ", ".join(f"{n} {state}" for state, n in sorted(found.counts().items()))
    if found.ran >= found.total:
        ran = "all new"
    elif found.ran == 0:
        ran = "all stored from an earlier run"
    else:
        ran = f"{found.ran} new, {found.total - found.ran} stored from an earlier run"
    trades = int(best.get("trades") or 0)
    lines = [
        f"**Optimised {found.strategy}** · {window.label} · {window.span} · by {objective}",
        f"Best of {found.total} trials ({ran}; {counts}): `{_params_text(found.best_params)}`",
        f"{objective} {found.best_value:.2f} · return {pct(best.get('total_return_pct'))} · "
        f"max drawdown {pct(best.get('max_drawdown_pct'), sign=False)} · {_trades(trades)} · "
        f"win rate {pct(best.get('win_rate_pct'), sign=False)}",
        f"Default parameters ({_params_text(default.params)}): return "
        f"{pct(default.metrics.total_return_pct)} · Sharpe {_num(default.metrics.sharpe)}",
        "This is in-sample: the best of many tries flatters. Backtest it on another period "
        "before trading it.",
    ]
    if trades < 10:
        lines.append(f"Only {_trades(trades)} behind the best result: weak evidence.")
    return "\n".join(lines)


@handles("optimize")
async def optimize(call: Call[i.Optimize]) -> Reply:
    """Search a strategy's parameters (30 trials unless asked, at most 200) with progress."""
    it, settings = call.intent, call.ctx.settings
    ready = await _setup(call, it.strategy, it.symbol, it.timeframe, it.period_days)
    if isinstance(ready, str):
        return Reply(ready)
    cls, window = ready
    if not cls.parameters:
        return Reply(f"{it.strategy} has no parameters to optimise; /backtest it instead.")
    trials = min(it.trials or DEFAULT_TRIALS, MAX_TRIALS)
    capped = f" (capped from {it.trials})" if it.trials and it.trials > MAX_TRIALS else ""
    objective = settings.optimize.objective
    await call.say(
        f"Optimising {it.strategy} on {window.label} {window.span}: {trials} trials{capped}, "
        f"best {objective} wins..."
    )
    relay = _Relay(call)
    step = max(5, math.ceil(trials / 4))

    def progress(p: SearchProgress) -> None:
        if 0 < p.finished < p.total and p.finished % step == 0:
            best = "" if p.best_value is None else f" · best {objective} {p.best_value:.2f}"
            relay.post(f"{p.finished}/{p.total} trials done{best}")

    try:
        found, default = await call.run(
            lambda: _search(settings, window, it.strategy, trials, progress)
        )
    except BotcoreError as exc:
        return Reply(f"The optimisation of {it.strategy} stopped: {plain_text(str(exc))}")
    finally:
        await relay.close()
    return Reply(_optimize_report(found, default, window, objective))


def _about(cls: type[Strategy]) -> str:
    """The first sentence of the strategy's docstring, at most about 120 characters."""
    text = " ".join((inspect.getdoc(cls) or "").split())
    sentence = text.split(". ")[0].rstrip(".")
    if len(sentence) <= 120:
        return sentence + "."
    return sentence[:117].rsplit(" ", 1)[0].rstrip(",;:") + "..."


def _listing(settings: Settings, found: Mapping[str, type[Strategy]], markets: str) -> str:
    lines = [f"**Strategies** ({len(found)})"]
    for name, cls in sorted(found.items()):
        defaults = {k: p.default for k, p in cls.parameters.items()}
        lines.append(f"**{name}**: {_about(cls)} `{_params_text(defaults)}`")
    lines.append(f"In use: {markets or 'none'}")
    lines.append(
        f"Your own: *.py files in {settings.strategies.folder}. /backtest NAME SYMBOL tests "
        "one; /strategies SYMBOL ranks them on a market."
    )
    return "\n".join(lines)


def _ranking(results: list[BacktestResult], window: _Window) -> str:
    ranked = sorted(results, key=lambda r: r.metrics.total_return_pct, reverse=True)
    rows = [
        [
            r.strategy,
            pct(r.metrics.total_return_pct),
            str(r.metrics.trades),
            "n/a" if r.metrics.win_rate_pct is None else pct(r.metrics.win_rate_pct, sign=False),
            pct(r.metrics.max_drawdown_pct, sign=False),
            _num(r.metrics.sharpe),
        ]
        for r in ranked
    ]
    hold = results[0].metrics.buy_hold_return_pct
    return (
        f"**Strategies on {window.label}** · {window.span}, default parameters, "
        f"{when(window.start_ms)} → {when(window.end_ms)}\n"
        + table(rows, ["strategy", "return", "trades", "win %", "max DD", "Sharpe"])
        + (f"\nBuy & hold: {pct(hold)}" if hold is not None else "")
    )


@handles("strategies")
async def strategies(call: Call[i.Strategies]) -> Reply:
    """The strategies with their defaults; with a symbol, ranked by a backtest on it."""
    from botcore.services.backtests import BacktestService

    settings, symbol = call.ctx.settings, call.intent.symbol
    classes = await call.run(lambda: _available(settings))
    if isinstance(classes, str):
        return Reply(classes)
    if symbol is None:
        markets = await call.run(lambda: traded_markets(settings, call.ctx.store))
        return Reply(_listing(settings, classes, markets))
    window = await call.run(lambda: _window(settings, symbol, None, None))
    if isinstance(window, str):
        return Reply(window)
    names = sorted(classes)
    await call.say(f"Ranking {len(names)} strategies on {window.label} {window.span}...")
    service = BacktestService(settings)
    try:
        results = await call.run(
            lambda: [
                service.run(window.request(name, settings), None, [window.market]) for name in names
            ]
        )
    except BotcoreError as exc:
        return Reply(f"Ranking the strategies on {window.label} failed: {plain_text(str(exc))}")
    return Reply(_ranking(results, window))
