"""Backtests from the dashboard: pick a strategy, a market and a period, run it in a worker with
a progress bar, then read the report and the equity curve."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Input, ProgressBar, Select, Static

from tui.formatting import money, pct, signed_pct
from tui.readers import backtest_choices, run_backtest
from tui.screens.base import DataScreen
from tui.widgets.key_bar import KeyBar
from tui.widgets.plots import EquityPlot
from tui.widgets.title_bar import TitleBar

if TYPE_CHECKING:
    from botcore.backtest.result import BacktestResult
    from tui.readers import BacktestChoice

__all__ = ["BacktestScreen", "report_table"]

_STAGES = ("loading candles", "simulating")


def _num(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value:.{places}f}"


def report_table(result: BacktestResult) -> Table:
    """The headline metrics of a backtest as a two-column grid of label and value pairs."""
    from decimal import Decimal

    m = result.metrics
    pairs = [
        ("Return", signed_pct(m.total_return_pct)),
        ("Buy & hold", signed_pct(m.buy_hold_return_pct)),
        ("Max drawdown", pct(m.max_drawdown_pct)),
        ("Sharpe", _num(m.sharpe)),
        ("Trades", str(m.trades)),
        ("Win rate", pct(m.win_rate_pct, 1)),
        ("Profit factor", _num(m.profit_factor)),
        ("Fees", money(Decimal(str(m.fees_paid)))),
        ("Final equity", money(Decimal(str(m.final_equity)))),
        ("Exposure", pct(m.exposure_pct, 1)),
    ]
    grid = Table.grid(padding=(0, 2))
    for _ in range(4):
        grid.add_column(no_wrap=True)
    for i in range(0, len(pairs), 2):
        left, right = pairs[i], pairs[i + 1]
        grid.add_row(Text(left[0], "dim"), left[1], Text(right[0], "dim"), right[1])
    return grid


class BacktestScreen(DataScreen):
    """A backtest form, its progress, and the result."""

    SUB_TITLE = "backtest"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("ctrl+r", "run", "Run backtest")]

    def __init__(self) -> None:
        super().__init__()
        self._choices: BacktestChoice | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="bt-body"):
            with Horizontal(id="bt-pick"):
                yield Select[str]([], prompt="strategy", id="bt-strategy", compact=True)
                yield Select[str]([], prompt="market", id="bt-market", compact=True)
            with Horizontal(id="bt-period"):
                yield Input(placeholder="from YYYY-MM-DD", id="bt-start", compact=True)
                yield Input(placeholder="to YYYY-MM-DD", id="bt-end", compact=True)
                yield Button("Run", variant="primary", id="bt-run", compact=True)
            yield ProgressBar(total=len(_STAGES) + 1, show_eta=False, id="bt-progress")
            yield Static("Pick a strategy and a market, then Run.", id="bt-status")
            yield Static("", id="bt-report")
            plot = EquityPlot(id="bt-equity")
            plot.empty = "run a backtest to draw it"
            yield plot
        yield KeyBar()

    def reload(self, force: bool = False) -> None:
        if self._choices is None and self.dashboard.ready:
            self._load_choices()

    @work(thread=True, exclusive=True, group="bt-choices")
    def _load_choices(self) -> None:
        app = self.dashboard
        try:
            choices = backtest_choices(app.settings)
        except Exception as exc:  # a read failing must leave the dashboard up and say why
            app.call_from_thread(app.report_error, "the strategies and markets", exc)
            return
        self.show_read(self._offer, choices)

    def _offer(self, choices: BacktestChoice) -> None:
        self._choices = choices
        app = self.dashboard
        strategy = self.query_one("#bt-strategy", Select)
        strategy.set_options([(name, name) for name in choices.strategies])
        market = self.query_one("#bt-market", Select)
        market.set_options([(f"{s} {tf}", f"{s}|{tf}") for s, tf in choices.markets])
        configured = [m for m in app.settings.market.symbols if m.symbol == app.symbol]
        if configured:
            spec = configured[0]
            if spec.strategy in choices.strategies:
                strategy.value = spec.strategy
            if (spec.symbol, spec.timeframe) in choices.markets:
                market.value = f"{spec.symbol}|{spec.timeframe}"

    @on(Button.Pressed, "#bt-run")
    def action_run(self) -> None:
        strategy = self.query_one("#bt-strategy", Select).value
        market = self.query_one("#bt-market", Select).value
        if not isinstance(strategy, str) or not isinstance(market, str):
            self.notify("Pick a strategy and a market first.", severity="warning")
            return
        symbol, _, timeframe = market.partition("|")
        start = self.query_one("#bt-start", Input).value
        end = self.query_one("#bt-end", Input).value
        self.query_one("#bt-run", Button).disabled = True
        self.query_one(ProgressBar).update(progress=0)
        self._status(f"Backtesting {strategy} on {symbol} {timeframe}…")
        self._run(strategy, symbol, timeframe, start, end)

    @work(thread=True, exclusive=True, group="backtest")
    def _run(self, strategy: str, symbol: str, timeframe: str, start: str, end: str) -> None:
        app = self.dashboard

        def step(stage: str) -> None:
            self.show_read(self._stage, stage)

        try:
            result = run_backtest(app.settings, strategy, symbol, timeframe, start, end, step)
        except Exception as exc:  # a failed run is reported, the form stays usable
            self.show_read(self._failed, exc)
            return
        self.show_read(self._done, result)

    def _status(self, text: str) -> None:
        self.query_one("#bt-status", Static).update(Text(text))

    def _stage(self, stage: str) -> None:
        self.query_one(ProgressBar).advance(1)
        self._status(f"{stage.capitalize()}…")

    def _failed(self, exc: Exception) -> None:
        from botcore.errors import BotcoreError

        self.query_one("#bt-run", Button).disabled = False
        self.query_one(ProgressBar).update(progress=0)
        if not isinstance(exc, BotcoreError):
            self.dashboard.report_error("the backtest", exc)
        self._status(f"The backtest did not run: {exc}")

    def _done(self, result: BacktestResult) -> None:
        self.query_one("#bt-run", Button).disabled = False
        self.query_one(ProgressBar).update(progress=len(_STAGES) + 1)
        m = result.metrics
        params = ", ".join(f"{k}={v}" for k, v in result.params.items()) or "defaults"
        self._status(
            f"{result.strategy} ({params}) on {', '.join(result.symbols)} {result.timeframe} · "
            f"{m.start[:10]} → {m.end[:10]}"
        )
        self.query_one("#bt-report", Static).update(report_table(result))
        plot = self.query_one(EquityPlot)
        plot.label = f"Backtest equity ({self.dashboard.settings.trading.quote})"
        stamps = tuple(int(t) for t in result.timestamps)
        plot.curve = (stamps, tuple(float(e) for e in result.equity))
        for warning in result.warnings:
            self.notify(warning, severity="warning")
