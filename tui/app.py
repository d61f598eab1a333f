"""The tradechat dashboard: a Textual app over the engine's store.

It reads only through botcore's services, in thread workers, on a refresh interval; the screen
that is shown reads what it draws. Controls write through the same services the chat uses
(`EngineControl`, `TradingService`), so a running engine (another process, or another task)
applies them at its next bar. The chat panel talks to the shared command router as the console
user.
"""

from __future__ import annotations

import asyncio
import gc
import getpass
import logging
import uuid
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive

from botcore.config import Settings
from chat.access import Caller
from tui.equity_curve import EquityCurve
from tui.formatting import money, price
from tui.messages import CloseRequested
from tui.palette import DashboardCommands
from tui.screens.activity import ActivityScreen
from tui.screens.backtest import BacktestScreen
from tui.screens.base import DataScreen
from tui.screens.chart import ChartScreen
from tui.screens.chat import ChatScreen
from tui.screens.dialogs import ConfirmDialog, StrategyDialog
from tui.screens.overview import OverviewScreen
from tui.screens.trades import TradesScreen

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel
    from textual.widget import AwaitMount

    from botcore.engine.background import BackgroundEngine
    from botcore.persistence import Store
    from botcore.services.trades import TradeHistory
    from botcore.services.trading import ManualOrder
    from chat.router import Router
    from tui.readers import ChartData

__all__ = ["TradechatApp"]

_log = logging.getLogger("tradechat.tui")
# the six screen keys share one footer entry: an 80-column footer has room for little else
_SCREENS = Binding.Group("Screens", compact=True)
# Screens not shown yet are built from this long after the first data is drawn, one per gap
WARM_AFTER_S, WARM_GAP_S = 0.05, 0.05
# The services start once the first data is drawn, or this long after the store opened
SERVICES_AFTER_S = 1.0


class TradechatApp(App[None]):
    """The dashboard.

    Args:
        settings: The configuration; `[database] url` is the store watched.
        store: An open store to use (the caller closes it); None opens `[database] url` in a
            worker after the first paint, and closes it on exit.
        refresh_s: Seconds between reads of the shown screen's data.
        user: The console user the chat panel and the audit log name (default: the OS user).
        warm_parser: Train the offline language parser at start-up (about a second, in a
            thread) rather than on the first plain-language message.
        start_engine: When no engine runs on the store (no held lease) and `[market] source`
            is the replay, run the engine in this process (a thread) while the dashboard is
            open; live candles and live trading are only ever started by `tradechat run`.
        tune_gc: Freeze the objects alive once the store is open and collect less often (the
            command line's dashboard does; see `watch_ready`'s note).
        warm_screens: Build the screens not shown yet, unseen, after the first data is drawn
            (see `_warm_next_screen`); off, each is built on its first showing.
    """

    TITLE = "tradechat"
    # every screen's styles, loaded once with the app
    CSS_PATH: ClassVar[list[str | PurePath]] = [
        "app.tcss",
        *(
            f"screens/{name}.tcss"
            for name in ("overview", "chart", "trades", "backtest", "chat", "activity")
        ),
        "screens/dialogs.tcss",
    ]
    MODES: ClassVar[dict[str, Any]] = {
        "overview": OverviewScreen,
        "chart": ChartScreen,
        "trades": TradesScreen,
        "backtest": BacktestScreen,
        "chat": ChatScreen,
        "activity": ActivityScreen,
    }
    SCREEN_TITLES: ClassVar[dict[str, str]] = {
        "overview": "overview",
        "chart": "chart",
        "trades": "trades",
        "backtest": "backtest",
        "chat": "chat",
        "activity": "signals & log",
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("1", "show('overview')", "Overview", group=_SCREENS),
        Binding("2", "show('chart')", "Chart", group=_SCREENS),
        Binding("3", "show('trades')", "Trades", group=_SCREENS),
        Binding("4", "show('backtest')", "Backtest", group=_SCREENS),
        Binding("5", "show('chat')", "Chat", group=_SCREENS),
        Binding("6", "show('activity')", "Signals & log", group=_SCREENS),
        Binding("p", "toggle_pause", "Pause"),
        Binding("s", "choose_strategy", "Strategy"),
        Binding("m", "next_market", "Market"),
        Binding("r", "refresh_now", "Refresh", show=False),
        Binding("q", "quit", "Quit"),
    ]
    COMMANDS = App.COMMANDS | {DashboardCommands}
    # Screens get these classes by terminal size; the .tcss files lay out for each. Textual
    # annotates both as instance variables, so mypy refuses a ClassVar here (hence the noqa).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide"), (160, "-very-wide")]  # noqa: RUF012
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]  # noqa: RUF012

    symbol: reactive[str] = reactive("")
    ready: reactive[bool] = reactive(False)

    def __init__(
        self,
        settings: Settings,
        store: Store | None = None,
        *,
        refresh_s: float = 2.0,
        user: str | None = None,
        warm_parser: bool = True,
        start_engine: bool = False,
        tune_gc: bool = False,
        warm_screens: bool = True,
    ) -> None:
        super().__init__()
        self.settings = settings
        self._store = store
        self._owns_store = store is None
        self.refresh_s = refresh_s
        name = user or getpass.getuser()
        self.caller = Caller("console", name, name=name)
        self.actor = f"tui:{name}"
        self.markets = tuple(dict.fromkeys(s.symbol for s in settings.market.symbols))
        self._warm_parser = warm_parser
        self._start_engine = start_engine
        self._tune_gc = tune_gc
        self._warm_screens = warm_screens  # off: each screen is built on its first showing
        self.engine: BackgroundEngine | None = None
        """The engine this dashboard started, if it started one."""
        self.engine_note = ""
        """What the dashboard found or did about the engine at start-up."""
        self._router: Router | None = None
        self.equity_curve = EquityCurve()
        self._trades: TradeHistory | None = None
        self._chart_ahead: tuple[tuple[str, int], ChartData] | None = None
        self._chat_ready = asyncio.Event()
        self.screens_warm = False
        """Every screen is built (see `_warm_next_screen`)."""
        self._switching = False
        self._services_started = False

    # -- the store ------------------------------------------------------------------------------
    @property
    def store(self) -> Store:
        """The engine's store (open once `ready`)."""
        if self._store is None:
            raise RuntimeError("the store is not open yet")
        return self._store

    @property
    def trades(self) -> TradeHistory:
        """The store's closed trades, read again incrementally (open once `ready`)."""
        if self._trades is None:
            raise RuntimeError("the store is not open yet")
        return self._trades

    def on_mount(self) -> None:
        self.symbol = self.markets[0] if self.markets else ""
        self.switch_mode("overview")
        self.set_interval(self.refresh_s, self.reload_screen)
        self._connect()

    @work(thread=True, group="connect")
    def _connect(self) -> None:
        """Open the store and load what the first screen reads (the slow imports), off the
        event loop."""
        from botcore.persistence import Store
        from tui.readers import preload, trade_history

        preload()  # before any other worker starts: see preload's note
        if self._store is None:
            self._store = Store.open(self.settings.database.url)
        self._trades = trade_history(self._store)
        self.call_from_thread(setattr, self, "ready", True)

    def data_drawn(self) -> None:
        """The first screen's data is on screen: start what could wait for it (once)."""
        if self._services_started or not self.ready:
            return
        self._services_started = True
        self._start_services(self.store)
        if self._warm_screens:
            self.set_timer(WARM_AFTER_S, self._warm_next_screen)

    @work(thread=True, group="services")
    def _start_services(self, store: Store) -> None:
        """The chat's router, the engine (when none runs) and the parser. They would compete
        with the first screen's read for the one interpreter: started after it, start-up to
        data drawn is some 0.2-0.3 s shorter."""
        from chat.bot import build_router
        from chat.commands import BotContext

        # Read ahead, off the event loop, what a first showing of the trades and the chart
        # would read before the warm-up has built them: the whole trade history (then only
        # the trades closed since are read; 10,000 trades: some 80 ms less on that key) and
        # the chart of the market shown (some 60 ms less).
        self._read_ahead(store)
        self._router = build_router(self.settings, BotContext(self.settings, store))
        if self._start_engine:
            self._engine_if_none_runs(store)
        if self._warm_parser:
            from chat.parse import default_parser

            default_parser(self.settings.trading.quote).fit()
        self.call_from_thread(self._chat_ready.set)

    def _read_ahead(self, store: Store) -> None:
        from tui.readers import engine_clock, read_chart

        symbol = self.symbol
        try:
            self.trades.read()
            clock = engine_clock(store)
            chart = read_chart(self.settings, store, symbol, self.equity_curve)
        except Exception:  # the screens read again, and say what failed; the chat still starts
            _log.exception("reading ahead for the first showings failed")
            return
        self._chart_ahead = ((symbol, clock), chart)

    def chart_read_ahead(self, symbol: str, clock: int) -> ChartData | None:
        """The chart the services read ahead, if it is of `symbol` at `clock` (given once)."""
        ahead, self._chart_ahead = self._chart_ahead, None
        return ahead[1] if ahead is not None and ahead[0] == (symbol, clock) else None

    def _engine_if_none_runs(self, store: Store) -> None:
        """Attach to the engine running on the store, or start one here on the replay."""
        from botcore.engine.background import BackgroundEngine
        from botcore.engine.lease import running_engine

        lease = running_engine(store)
        if lease is not None:
            self._engine_note(f"Attached to the running engine: {lease.describe(lease.beat_ms)}.")
            return
        if self.settings.market.source != "replay":
            text = "No engine is running on this database; start one with `tradechat run`."
            self._engine_note(text, "warning")
            return
        engine = BackgroundEngine(self.settings)
        engine.start()
        if engine.error is not None:
            self._engine_note(f"The engine did not start: {engine.error}", "error")
            return
        speed = f"{self.settings.market.speed:g}"
        self._engine_note(f"No engine was running: replaying here at {speed}x until you quit.")
        self.engine = engine
        self.call_from_thread(self.reload_screen, True)  # show it running without waiting

    def _engine_note(self, text: str, severity: SeverityLevel = "information") -> None:
        self.engine_note = text
        self.call_from_thread(self.notify, text, severity=severity, timeout=8)

    def watch_ready(self, ready: bool) -> None:
        if ready:
            if self._tune_gc:
                # The services' imports leave a quarter of a million long-lived objects; full
                # collections over them stalled redraws for 300-900 ms. Freezing them once,
                # and collecting the oldest generation less often, keeps key presses prompt.
                # Over the bench's sessions the slowest key took 76 and 80 ms (two runs) with
                # these thresholds, 104 ms with (50,000, 20, 20) and 109 ms with (10,000, 50,
                # 40): a young generation of 50,000 took up to 56 ms to collect, a middle one
                # gathered over 50 young collections up to 65 ms, both inside a key's redraw.
                gc.collect()
                gc.freeze()
                gc.set_threshold(10_000, 10, 100)
            self.reload_screen(force=True)
            # the overview reports its data drawn; any other first screen, or a failed read
            self.set_timer(SERVICES_AFTER_S, self.data_drawn)

    def _warm_next_screen(self) -> None:
        """Build the next screen not shown yet, unseen, and have it read its data.

        Textual builds a mode's screen when it is first shown: composing it, restyling the app
        for it and reading its data cost 100-400 ms of that first key press. Built here ahead,
        one screen per turn of the event loop (a key pressed meanwhile waits for at most one),
        a first showing costs what showing it again does.
        """
        if not self.is_running:
            return
        for mode in self.MODES:
            if mode not in self._screen_stacks:
                # switch_mode's own first step: the screen is mounted and told it is resumed
                # (so it reads), but it is not shown. Textual's internals (as are the
                # screens' style stamps in DataScreen): tests/tui/test_warm_up.py fails if a
                # Textual release changes them.
                self._init_mode(mode)
                self.set_timer(WARM_GAP_S, self._warm_next_screen)
                return
        self.screens_warm = True

    async def chat_router(self) -> Router:
        """The shared command router, once the store is open and the parser trained."""
        await self._chat_ready.wait()
        assert self._router is not None  # set before the event
        return self._router

    def on_unmount(self) -> None:
        if self.engine is not None:
            self.engine.stop()  # between two bars; the lease is released
        if self._owns_store and self._store is not None:
            self._store.close()

    def reload_screen(self, force: bool = False) -> None:
        """Have the screen shown read its data again (it skips the read if nothing moved)."""
        if not self.screen_stack:  # the refresh tick can fire while the app shuts down
            return
        screen = self.screen
        if self.ready and isinstance(screen, DataScreen):
            screen.reload(force)

    def report_error(self, what: str, exc: BaseException) -> None:
        """A read or control failed: a sentence on screen, the traceback in the log."""
        from botcore.errors import BotcoreError

        if not isinstance(exc, BotcoreError):
            _log.error("reading %s failed", what, exc_info=exc)
        self.notify(f"Could not read {what}: {exc}", severity="error", timeout=8)

    # -- navigation -----------------------------------------------------------------------------
    def action_show(self, mode: str) -> None:
        self.switch_mode(mode)

    def switch_mode(self, mode: str) -> AwaitMount:
        self._switching = True
        try:
            return super().switch_mode(mode)
        finally:
            self._switching = False

    def delay_update(self, delay: float = 0.05) -> None:
        # Textual holds every frame for 50 ms after a mode switch, to mask a screen being
        # built; the screens are built ahead (`_warm_next_screen`), and the hold was half of
        # each switch's redraw. The switch itself runs in one go, so no half-switched frame
        # can be drawn meanwhile.
        if not self._switching:
            super().delay_update(delay)

    def action_refresh_now(self) -> None:
        self.reload_screen(force=True)

    def action_next_market(self) -> None:
        if not self.markets:
            return
        index = self.markets.index(self.symbol) if self.symbol in self.markets else -1
        self.show_market(self.markets[(index + 1) % len(self.markets)])

    def show_market(self, symbol: str) -> None:
        """Make `symbol` the market the chart shows and the controls act on."""
        self.symbol = symbol
        self.notify(f"Market: {symbol}", timeout=2)

    # -- controls -------------------------------------------------------------------------------
    @work(group="control", exclusive=True)
    async def action_toggle_pause(self) -> None:
        """Pause new entries, or resume them when paused (exits and stops go on)."""
        from botcore.services.control import EngineControl

        if not self.ready:
            return
        control = EngineControl(self.settings, self.store)

        def flip() -> bool:
            if control.paused():
                control.resume(self.actor)
                return False
            control.pause(self.actor)
            return True

        paused = await asyncio.to_thread(flip)
        if paused:
            self.notify("New entries paused; exits, stops and manual orders go on.")
        else:
            self.notify("New entries resumed.")
        self.reload_screen(force=True)

    def on_close_requested(self, message: CloseRequested) -> None:
        self.close_position(message.symbol)

    @work(group="control", exclusive=True)
    async def close_position(self, symbol: str) -> None:
        """Preview closing `symbol`'s position, ask, and on Confirm place the market sell."""
        from botcore.errors import BotcoreError
        from botcore.services.trading import TradingService

        if not self.ready:
            return
        trading = TradingService(self.settings, self.store)
        request_id = uuid.uuid4().hex

        def close(preview: bool) -> list[ManualOrder]:
            return trading.close(symbol, actor=self.actor, request_id=request_id, preview=preview)

        try:
            preview = await asyncio.to_thread(close, True)
        except BotcoreError as exc:
            self.notify(f"Cannot close {symbol}: {exc}", severity="warning", timeout=6)
            return
        body = "\n".join(_order_text(o, trading.quote) for o in preview)
        dialog = ConfirmDialog(f"Close the {symbol} position?", body, "Close position")
        if not await self.push_screen_wait(dialog):
            self.notify(f"Nothing was sold; the {symbol} position stays open.")
            return
        try:
            placed = await asyncio.to_thread(close, False)
        except BotcoreError as exc:
            self.notify(f"Cannot close {symbol}: {exc}", severity="error", timeout=8)
            return
        sold = ", ".join(f"{o.order.amount.normalize()} {o.order.symbol}" for o in placed)
        self.notify(f"Sell order placed for {sold}; it fills at the engine's next bar.")
        self.reload_screen(force=True)

    @work(group="control", exclusive=True)
    async def action_choose_strategy(self) -> None:
        """Ask for a strategy and a market, then assign it from the engine's next bar."""
        from botcore.errors import BotcoreError
        from botcore.services.control import EngineControl
        from tui.readers import read_markets, strategy_names

        if not self.ready:
            return
        names, markets = await asyncio.gather(
            asyncio.to_thread(strategy_names, self.settings),
            asyncio.to_thread(read_markets, self.settings, self.store),
        )
        dialog = StrategyDialog(names, markets.strategies, self.symbol)
        picked = await self.push_screen_wait(dialog)
        if picked is None:
            return
        strategy, symbol = picked
        control = EngineControl(self.settings, self.store)
        try:
            done = await asyncio.to_thread(control.set_strategy, strategy, symbol, self.actor)
        except BotcoreError as exc:
            self.notify(f"Strategy not changed: {exc}", severity="error", timeout=8)
            return
        self._chart_ahead = None  # drawn with the strategy before
        targets = ", ".join(a.symbol for a in done)
        self.notify(f"{strategy} trades {targets} from the engine's next bar.")
        self.reload_screen(force=True)


def _order_text(order: ManualOrder, quote: str) -> str:
    o = order.order
    return (
        f"Sell {o.amount.normalize()} {o.symbol} at market: about "
        f"{money(order.value_quote, quote)} at the last price {price(order.last_price)}.\n"
        f"Risk check: {order.risk_message}\n"
        "It fills at the open of the engine's next bar."
    )
