"""`python bench/tui.py`: the dashboard's start-up time and its key-press-to-redraw latency.

Frames are caught where Textual hands them to the terminal: every run here uses a driver that
is a terminal to Textual (not headless, so each frame is rendered to escape sequences as for a
real one) and drops the bytes, noting when each frame was flushed.

- Start-up (target under 1.5 s): wall time from launching a process, the dashboard's own
  entry point `python -m tui --config FILE` (`tui.__main__.main`, every default as a user gets
  it, the parser warm-up thread included), at 120x40, to (a) the first frame showing the
  overview and (b) the first frame showing the store's data on it (the verdict is on (b)'s
  median). The baseline is the same measure for a bare Textual app (Header, Static, Footer)
  launched the same way. The median and best of several launches, on the 17-trade replay store
  and on the 10,000-trade store.
- Key press to redraw (target under 100 ms), in-process with `App.run_test(size=(120, 40))`,
  the refresh interval long so only the key changes the screen. Timed from just before
  `pilot.press(key)` to: "first frame", the first frame flushed once the key's new content is
  in the app (the new screen, the sort order, the page, the filter, the cursor row, a re-read
  object); and "settled", the last frame before the app goes quiet (no worker running, no
  frame for 4 polls of 15 ms, the event loop answering each on time), so a screen's read of the
  store in a worker and the table's own follow-up frames are included. First showings of the
  screens are timed on fresh apps (no parser warm-up thread); "r" forces a read of the trades
  (which fetches only those closed since the last read, then redraws the page). The verdict is on
  the median of "settled". The baseline is the same key on the same screen over the 17-trade
  replay store. Full garbage collections during the sessions are counted and timed too.
  The dashboard builds the screens not shown yet, unseen, one at a time, from just after the
  overview's data is drawn; the first showings are timed once that is done, and the warm-up is
  reported: how long it took from the frame first showing the overview's data, and the longest
  the event loop was held meanwhile (what a key pressed during the warm-up waits before its own
  work).
  "1st, cold" rows time the same first showings on fresh apps without the warm-up: what a
  screen costs when its key is pressed before the warm-up has built it.

The 10,000-trade store is built from real Binance candles in /work/shared/data with sma_cross
2/5: the history is a backtest of BTC/USDT 5m up to the 1m data's start, then of BTC/USDT and
ETH/USDT 1m on one wallet (each backtest starting with the equity the last one ended with), its
closed trades and equity snapshots written through the store's own unit of work
(`save_trade`, `save_equity`, as the engine's `Trader` writes them; the history has no orders
or fills, which the dashboard does not read); then the real engine (`EngineRunner`) replays the
last hours of those 1m candles on top, writing its orders, fills, positions, trades, signals
and state. The engine alone is too slow for this (about 4 ms a bar, a trade every 9 bars: some
six minutes). This is a measurement: it exits 0 whatever the numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.console import Console
from rich.table import Table
from textual.app import App
from textual.drivers.headless_driver import HeadlessDriver

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from replay_store import REPLAY_STOP, replay_config, run_replay  # noqa: E402 - bench/ is first

if TYPE_CHECKING:
    from textual.pilot import Pilot

    from botcore.config import Settings
    from tui.app import TradechatApp

DATA = Path(os.environ.get("TRADECHAT_BENCH_DATA", "/work/shared/data"))
SIZE = (120, 40)
TARGET_STARTUP_MS = 1500.0
TARGET_KEY_MS = 100.0
MIN_TRADES = 10_000
FAST_STRATEGY: dict[str, Any] = {"strategy": "sma_cross", "params": {"fast": 2, "slow": 5}}
ENGINE_FROM = "2025-07-01T05:00:00Z"  # the engine replays the 1m candles from here to their end
FEE, STAKE_PCT, STOP_PCT = 0.0001, 20.0, 1.0
Row = tuple[float, float]  # first frame, settled (ms)


# --- the stores --------------------------------------------------------------------------------
def _big_config(folder: Path, starting_balance: float) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{folder / 'big.db'}"},
        "data": {"cache_dir": str(folder / "cache")},
        "strategies": {"folder": str(folder / "strategies")},
        "market": {
            "source": "replay", "speed": 1e12, "start": ENGINE_FROM, "data_dir": str(DATA),
            "symbols": [{"symbol": s, "timeframe": "1m", **FAST_STRATEGY}
                        for s in ("BTC/USDT", "ETH/USDT")],
        },
        "trading": {"stake_pct": STAKE_PCT, "fee": FEE, "slippage": 0.0,
                    "starting_balance": round(starting_balance, 2)},
        "risk": {"stop_loss_pct": STOP_PCT, "max_open_positions": 2, "max_daily_loss_pct": 100.0,
                 "max_drawdown_pct": 100.0},
    }  # fmt: skip


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string of plain text is a TOML basic string
    return repr(value)


def _toml(config: dict[str, Any]) -> str:
    """The config as TOML (sections of scalars, inline tables, and lists of tables)."""
    lines: list[str] = []
    for section, values in config.items():
        lines.append(f"[{section}]")
        tables = {k: v for k, v in values.items() if isinstance(v, list)}
        lines += [f"{k} = {_toml_value(v)}" for k, v in values.items() if k not in tables]
        for key, entries in tables.items():
            for entry in entries:
                lines.append(f"[[{section}.{key}]]")
                lines += [f"{k} = {_toml_value(v)}" for k, v in entry.items()]
    return "\n".join(lines) + "\n"


def _backtest(symbols: Sequence[str], timeframe: str, end_ms: int, cash: float) -> Any:
    from botcore.backtest.engine import BacktestSettings, run_backtest
    from botcore.data.catalog import DataCatalog
    from botcore.strategy.registry import get_strategy

    catalog = DataCatalog((DATA,))
    until = datetime.fromtimestamp(end_ms / 1000, tz=UTC)
    markets = [catalog.load(s, timeframe, "binance", end=until) for s in symbols]
    strategy = get_strategy(FAST_STRATEGY["strategy"])(**FAST_STRATEGY["params"])
    costs = BacktestSettings(cash=cash, fee=FEE, slippage=0.0, stake_pct=STAKE_PCT,
                             stop_loss_pct=STOP_PCT, max_open_positions=len(symbols))  # fmt: skip
    return run_backtest(strategy, markets, costs)


def _history(store_url: str) -> tuple[int, int, float]:
    """Write the backtested history; (trades, equity snapshots, the equity it ends with)."""
    from botcore.data.catalog import DataCatalog
    from botcore.execution.positions import ClosedTrade
    from botcore.persistence import Store
    from botcore.timeframes import parse_datetime, to_ms

    one_minute_from = int(DataCatalog((DATA,)).load("BTC/USDT", "1m").frame["timestamp"].iloc[0])
    five = _backtest(["BTC/USDT"], "5m", one_minute_from, 10_000.0)
    one = _backtest(["BTC/USDT", "ETH/USDT"], "1m", to_ms(parse_datetime(ENGINE_FROM)),
                    float(five.equity[-1]))  # fmt: skip
    need = max(0, MIN_TRADES - len(one.trades))
    older = five.trades.iloc[len(five.trades) - need :] if need else five.trades.iloc[:0]
    since = int(older["entry_time"].iloc[0]) if need else one_minute_from
    curve = [(int(t), float(e)) for t, e in zip(five.timestamps, five.equity, strict=True)
             if t >= since and need]  # fmt: skip
    curve += [(int(t), float(e)) for t, e in zip(one.timestamps, one.equity, strict=True)]
    written = 0
    with Store.open(store_url) as store, store.transaction() as uow:
        for frame, timeframe in ((older, "5m"), (one.trades, "1m")):
            for t in frame.itertuples(index=False):
                uow.save_trade(ClosedTrade(
                    id=f"history-{timeframe}-{t.symbol}-{t.entry_time}", symbol=t.symbol,
                    side="long", amount=Decimal(f"{t.amount:.12f}"), entry_ms=int(t.entry_time),
                    exit_ms=int(t.exit_time), entry_price=Decimal(f"{t.entry_price:.8f}"),
                    exit_price=Decimal(f"{t.exit_price:.8f}"), fee=Decimal(f"{t.fee:.8f}"),
                    pnl=Decimal(f"{t.pnl:.8f}"), pnl_pct=Decimal(f"{t.pnl_pct:.6f}"),
                    exit_reason=t.exit_reason, strategy=FAST_STRATEGY["strategy"],
                ))  # fmt: skip
                written += 1
        for stamp, equity in curve:
            uow.save_equity(stamp, Decimal(f"{equity:.8f}"))
    return written, len(curve), float(one.equity[-1])


@dataclass(frozen=True)
class Stored:
    """A store on disk, the config that points at it, and its closed trades."""

    label: str
    config: dict[str, Any]
    toml: Path
    trades: int

    def settings(self) -> Settings:
        from botcore.config import Settings

        return Settings(**self.config)


def _write_config(folder: Path, name: str, config: dict[str, Any]) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(_toml(config))
    return path


def build_stores(folder: Path, console: Console) -> tuple[Stored, Stored]:
    """The tests' 17-trade replay store and the 10,000-trade store, timing how each is made."""
    from botcore.config import Settings

    started = time.perf_counter()
    replay = replay_config(folder)
    small = run_replay(Settings(**replay), REPLAY_STOP)
    console.print(f"replay store: {small} trades in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    url = f"sqlite:///{folder / 'big.db'}"
    history, snapshots, equity = _history(url)
    written = time.perf_counter() - started
    big = _big_config(folder, equity)
    started = time.perf_counter()
    total = run_replay(Settings(**big))
    engine = time.perf_counter() - started
    console.print(
        f"10k store: {history} backtested trades and {snapshots} equity snapshots written in "
        f"{written:.1f} s, then the engine replay added {total - history} trades in "
        f"{engine:.1f} s: {total} closed trades"
    )
    return (
        Stored("17-trade replay", replay, _write_config(folder, "replay", replay), small),
        Stored(f"{total}-trade", big, _write_config(folder, "big", big), total),
    )


# --- a terminal that keeps only the time of each frame -----------------------------------------
class Terminal(HeadlessDriver):
    """A driver Textual takes for a terminal: it renders every frame to escape sequences and
    writes them here; the bytes are dropped and the moment each frame is flushed is told to
    `listener`."""

    listener: ClassVar[Callable[[App[Any]], None] | None] = None

    def __init__(self, app: App[Any], **options: Any) -> None:
        super().__init__(app, **options)
        self.app = app

    @property
    def is_headless(self) -> bool:
        return False

    def write(self, data: str) -> None:
        pass

    def flush(self) -> None:
        if Terminal.listener is not None:
            Terminal.listener(self.app)


# --- start-up ----------------------------------------------------------------------------------
def _bare_app() -> App[None]:
    from textual.app import ComposeResult
    from textual.widgets import Footer, Header, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("a bare Textual app")
            yield Footer()

    return Bare()


def child(kind: str, config: str) -> int:
    """One launch: run the app until the frame showing its data, print when things happened."""
    stamps = {"main": time.monotonic()}

    def bare_frame(app: App[Any]) -> None:
        now = time.monotonic()
        for key in ("frame", "paint", "data"):
            stamps.setdefault(key, now)
        app.exit()

    if kind == "bare":
        app = _bare_app()
        app.driver_class = Terminal
        Terminal.listener = bare_frame
        app.run()
    else:
        import tui.__main__ as entry
        from tui.app import TradechatApp
        from tui.screens.overview import OverviewScreen

        def frame(app: App[Any]) -> None:
            now = time.monotonic()
            stamps.setdefault("frame", now)
            screen = app.screen
            if isinstance(screen, OverviewScreen):
                stamps.setdefault("paint", now)
                if screen.overview is not None and "data" not in stamps:
                    stamps["data"] = now
                    app.exit()

        # the entry point builds the app itself: its class is told which terminal to use
        setattr(TradechatApp, "get_driver_class", lambda _self: Terminal)  # noqa: B010
        Terminal.listener = frame
        entry.main(["--config", config])
    print(json.dumps(stamps))
    return 0


def _launch(kind: str, config: Path | None) -> dict[str, float]:
    """Milliseconds from starting the process to each moment the child noted."""
    env = os.environ | {"COLUMNS": str(SIZE[0]), "LINES": str(SIZE[1])}
    args = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(config or "")]
    started = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise RuntimeError(f"the {kind} launch failed:\n{done.stderr[-2000:]}")
    stamps = json.loads(done.stdout.strip().splitlines()[-1])
    return {key: (value - started) * 1000 for key, value in stamps.items()}


def measure_startup(stores: Sequence[Stored], launches: int, console: Console) -> None:
    runs: dict[str, list[dict[str, float]]] = {"bare Textual app": []}
    runs |= {f"dashboard, {s.trades} trades": [] for s in stores}
    _launch("bare", None)  # warm-up: the OS file cache and Python's bytecode
    for _ in range(launches):
        runs["bare Textual app"].append(_launch("bare", None))
        for store in stores:
            runs[f"dashboard, {store.trades} trades"].append(_launch("dashboard", store.toml))
    base = statistics.median(r["paint"] for r in runs["bare Textual app"])
    table = Table(title=f"Start-up at {SIZE[0]}x{SIZE[1]}: process launch to frame (ms), "
                        f"{launches} launches each")  # fmt: skip
    for column in ("app", "main()", "paint: median / best", "× bare",
                   "data: median / best", "× bare", "target", ""):  # fmt: skip
        table.add_column(column, justify="left" if column in ("app", "") else "right")
    for label, rows in runs.items():
        paint = [r["paint"] for r in rows]
        data = [r["data"] for r in rows]
        ok = statistics.median(data) < TARGET_STARTUP_MS
        table.add_row(
            label, f"{statistics.median(r['main'] for r in rows):.0f}",
            f"{statistics.median(paint):.0f} / {min(paint):.0f}",
            f"{statistics.median(paint) / base:.2f}",
            f"{statistics.median(data):.0f} / {min(data):.0f}",
            f"{statistics.median(data) / base:.2f}", f"< {TARGET_STARTUP_MS:.0f}",
            "[green]OK[/green]" if ok else "[red]MISS[/red]",
        )  # fmt: skip
    console.print(table)


# --- key press to redraw -----------------------------------------------------------------------
@dataclass
class Frames:
    """The frames flushed while one key is timed; `done` says the key's content is in the app."""

    done: Callable[[], bool] | None = None
    first: float | None = None
    last: float = 0.0
    count: int = 0

    def arm(self, done: Callable[[], bool]) -> None:
        self.done, self.first = done, None

    def on_frame(self, _app: App[Any]) -> None:
        now = time.perf_counter()
        self.last, self.count = now, self.count + 1
        if self.first is None and self.done is not None and self.done():
            self.first = now


@dataclass
class Session:
    """One dashboard in `run_test`, its frames, and the timings collected (ms) by key label."""

    app: TradechatApp
    pilot: Pilot[None]
    frames: Frames
    times: dict[str, list[Row]]

    async def quiet(self, done: Callable[[], bool] = lambda: True) -> None:
        """Until `done()` and the app is quiet: no worker, no frame, the loop on time."""
        from textual.worker import WorkerState

        calm, deadline = 0, time.perf_counter() + 30.0
        while calm < 4:
            if time.perf_counter() > deadline:
                raise TimeoutError("the dashboard did not settle")
            count, before = self.frames.count, time.perf_counter()
            await asyncio.sleep(0.015)
            prompt = time.perf_counter() - before < 0.03
            busy = any(w.state in (WorkerState.PENDING, WorkerState.RUNNING)
                       for w in self.app.workers)  # fmt: skip
            calm = calm + 1 if prompt and not busy and count == self.frames.count and done() else 0

    async def press(self, label: str, key: str, done: Callable[[], bool]) -> None:
        """Time `key` until `done()` shows in a frame and the app has settled."""
        self.frames.arm(done)
        started = time.perf_counter()
        await self.pilot.press(key)
        await self.quiet(done)
        if self.frames.first is None:
            raise RuntimeError(f"{label}: no frame showed the change")
        row = ((self.frames.first - started) * 1000, (self.frames.last - started) * 1000)
        self.times.setdefault(label, []).append(row)

    def shows(
        self, name: str, ready: Callable[[Any], bool] = lambda _s: True
    ) -> Callable[[], bool]:
        """The screen of mode `name` is shown and `ready(screen)`."""
        return lambda: self.app.current_mode == name and ready(self.app.screen)

    def table(self) -> Any:
        """The trades table (the trades screen is shown)."""
        from tui.widgets.trades import TradesTable

        return self.app.screen.query_one(TradesTable)


def _becomes(get: Callable[[], object], want: object) -> Callable[[], bool]:
    return lambda: get() == want


def _changed(get: Callable[[], object]) -> Callable[[], bool]:
    old = get()
    return lambda: get() is not old


# the chat comes last: its input takes the focus, and a digit typed there is text
SCREENS = (
    ("1", "overview"), ("2", "chart"), ("3", "trades"), ("4", "backtest"), ("6", "activity"),
    ("5", "chat"),
)  # fmt: skip


async def _first_visits(s: Session, tag: str = "1st") -> None:
    """Each screen's first showing: it is shown, reading what it draws from the store (and is
    built then, unless the warm-up built it before)."""
    await s.press(f"3 trades ({tag})", "3", s.shows("trades", lambda _s: s.table().row_count > 0))
    await s.press(f"2 chart ({tag})", "2", s.shows("chart", lambda c: c.chart is not None))
    await s.press(f"4 backtest ({tag})", "4", s.shows("backtest"))
    await s.press(f"6 signals & log ({tag})", "6", s.shows("activity", lambda a: bool(a.signals)))
    await s.press(f"5 chat ({tag})", "5", s.shows("chat"))
    await s.pilot.press("escape")  # the chat input has the focus: a digit would be text there
    await s.quiet()


async def _other_keys(s: Session, repeats: int) -> None:
    """Screen switches, then cursor, sort, reverse, page, filter and re-read on the trades."""
    from tui.widgets.trades import COLUMNS

    for _ in range(repeats):
        for key, name in SCREENS:
            await s.press(f"{key} {name}", key, s.shows(name))
        await s.pilot.press("escape")
        await s.quiet()
    await s.press("3 trades", "3", s.shows("trades"))
    table = s.table()
    for _ in range(repeats * 2):
        await s.press(
            "down (cursor)", "down", _becomes(lambda: table.cursor_row, table.cursor_row + 1)
        )
    keys = list(COLUMNS)
    for _ in keys:
        nxt = keys[(keys.index(table.sort_key) + 1) % len(keys)]
        await s.press("o sort", "o", _becomes(lambda: table.sort_key, nxt))
    for _ in range(repeats):
        await s.press("v reverse", "v", _becomes(lambda: table.descending, not table.descending))
    for _ in range(min(repeats, table.pages - 1)):
        page = _becomes(lambda: table.page, table.page + 1)
        await s.press("] next page", "right_square_bracket", page)
    await s.pilot.press("slash")
    for _ in range(max(2, repeats // 3)):
        for text in ("e", "et", "eth"):
            typed = _becomes(lambda: table.symbol_filter, text)
            await s.press("filter: a letter", text[-1], typed)
        for text in ("et", "e", ""):
            erased = _becomes(lambda: table.symbol_filter, text)
            await s.press("filter: backspace", "backspace", erased)
    await s.pilot.press("escape")
    await s.quiet()
    for _ in range(repeats):
        await s.press("r re-read trades", "r", _changed(lambda: table.trades))


async def _loop_holds(done: Callable[[], bool]) -> tuple[list[tuple[float, float]], float]:
    """Until `done()`: when each 5 ms sleep of the event loop woke up and how late (ms), and the
    moment `done()` was seen. A key pressed during a late wake-up waits that long before its own
    work starts."""
    woke: list[tuple[float, float]] = []
    while not done():
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        woke.append((now, (now - before - 0.005) * 1000))
    return woke, time.perf_counter()


async def _session(
    settings: Settings, repeats: int, times: dict[str, list[Row]], warm: list[Row]
) -> None:
    """A fresh dashboard: its warm-up (how long from the frame first showing the overview's
    data until every screen is built, and the longest the event loop was held meanwhile, into
    `warm`), first showings, then (when `repeats`) every other key `repeats` times."""
    async with _dashboard(settings, times, warm_screens=True, settle=False) as s:
        holds = asyncio.create_task(_loop_holds(lambda: s.app.screens_warm))
        await s.quiet(lambda: s.frames.first is not None and s.app.screens_warm)
        woke, warmed = await holds
        drawn = s.frames.first
        assert drawn is not None
        held = max((late for at, late in woke if at > drawn), default=0.0)
        warm.append(((warmed - drawn) * 1000, held))
        await _first_visits(s)
        if repeats:
            await _other_keys(s, repeats)


async def _cold_session(settings: Settings, times: dict[str, list[Row]]) -> None:
    """A fresh dashboard without the warm-up: each screen is built on its first showing, as
    one is when its key is pressed before the warm-up has reached it."""
    async with _dashboard(settings, times, warm_screens=False) as s:
        await _first_visits(s, "1st, cold")


@asynccontextmanager
async def _dashboard(
    settings: Settings, times: dict[str, list[Row]], *, warm_screens: bool, settle: bool = True
) -> AsyncIterator[Session]:
    """A dashboard in `run_test` on the timing terminal; `frames.first` is the first frame
    showing the overview's data, and with `settle` the app is quiet after it."""
    from tui.app import TradechatApp

    app = TradechatApp(
        settings, refresh_s=3600.0, user="bench", warm_parser=False, tune_gc=True,
        warm_screens=warm_screens,
    )  # fmt: skip
    app.driver_class = Terminal
    frames = Frames()
    Terminal.listener = frames.on_frame
    async with app.run_test(headless=False, size=SIZE) as pilot:
        s = Session(app, pilot, frames, times)
        overview = s.shows("overview", lambda o: o.overview is not None)
        frames.arm(overview)
        if settle:
            await s.quiet(overview)
        yield s


def _gc_pauses() -> tuple[list[float], Callable[[str, dict[str, int]], None]]:
    """Full (generation 2) garbage collections' durations (ms), and the gc callback noting them."""
    pauses: list[float] = []
    started = [0.0]

    def note(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        elif info["generation"] == 2:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    return pauses, note


def measure_keys(stores: Sequence[Stored], apps: int, repeats: int, console: Console) -> None:
    results: list[dict[str, list[Row]]] = []
    for store in stores:
        times: dict[str, list[Row]] = {}
        warm: list[Row] = []
        pauses, note = _gc_pauses()
        gc.callbacks.append(note)
        try:
            for n in range(apps):
                gc.collect()  # each dashboard starts without the garbage of the one before
                asyncio.run(_session(store.settings(), repeats if n == 0 else 0, times, warm))
        finally:
            gc.callbacks.remove(note)
        results.append(times)
        console.print(f"{store.label} store: {len(pauses)} full garbage collections during its "
                      f"sessions, median {statistics.median(pauses or [0]):.0f} ms, "
                      f"longest {max(pauses or [0]):.0f} ms")  # fmt: skip
        console.print(f"{store.label} store: every screen built, unseen, "
                      f"{statistics.median(w[0] for w in warm):.0f} ms (median of {len(warm)}) "
                      "after the frame first showing the overview's data; meanwhile the event "
                      f"loop was held at most {max(w[1] for w in warm):.0f} ms at a time (a key "
                      "pressed then waits that long before its own work)")  # fmt: skip
    for store, times in zip(stores, results, strict=True):
        for _ in range(apps):  # after every warm session, as they were timed before these
            gc.collect()
            asyncio.run(_cold_session(store.settings(), times))
    base, big = results
    title = f"Key press to redraw at {SIZE[0]}x{SIZE[1]} (ms), {stores[1].label} store"
    table = Table(title=f"{title}; × = settled median over the {stores[0].label} store's")
    for column in ("key", "n", "1st frame", "settled", "p95", "17 trades", "×", "target", ""):
        table.add_column(column, justify="left" if column in ("key", "") else "right")
    for label, rows in big.items():
        settled = [r[1] for r in rows]
        median = statistics.median(settled)
        small = statistics.median(r[1] for r in base[label]) if label in base else None
        table.add_row(
            label, str(len(rows)), f"{statistics.median(r[0] for r in rows):.1f}",
            f"{median:.1f}", f"{_p95(settled):.1f}",
            f"{small:.1f}" if small else "1 page", f"{median / small:.1f}" if small else "",
            f"< {TARGET_KEY_MS:.0f}",
            "[green]OK[/green]" if median < TARGET_KEY_MS else "[red]MISS[/red]",
        )  # fmt: skip
    console.print(table)


def _p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) > 1 else values[0]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--launches", type=int, default=5, help="start-ups timed per app")
    parser.add_argument("--apps", type=int, default=3, help="fresh apps per store (first visits)")
    parser.add_argument("--repeats", type=int, default=5, help="presses of each key")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "CONFIG"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(*args.child)
    console = Console()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tui-bench-") as tmp:
        stores = build_stores(Path(tmp), console)
        measure_startup(stores, args.launches, console)
        measure_keys(stores, args.apps, args.repeats, console)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    console.print(f"{os.cpu_count()} CPUs, load average (1, 5, 15 min) at the end: {load}; "
                  f"the bench took {time.perf_counter() - started:.0f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
