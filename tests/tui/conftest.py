"""The dashboard over a copy of a real engine replay's store.

The replay is the services' own (tests/botcore/services/conftest.py): BTC/USDT 1h with sma_cross
and ETH/USDT 15m with ema_cross from 2023-06-01 to 2023-06-04 13:30 UTC, 17 closed trades and a
BTC and an ETH position left open. Each test gets its own copy, so controls may write to it, and
the engine can be run on for a few more bars to make fills arrive while the dashboard is open.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from textual.pilot import Pilot

from botcore.config import Settings
from botcore.engine.runner import EngineRunner
from botcore.engine.streams import merged_bars
from botcore.persistence import Store
from tests.botcore.services import conftest as services
from tests.botcore.services.conftest import Replay
from tui.app import TradechatApp

__all__ = ["Copy", "Engine", "copy", "replay", "settle", "settle_screen"]

replay = services.replay  # the services' session fixture, shared by name


@dataclass
class Engine:
    """The engine resumed on a copied store, stepped bar by bar."""

    runner: EngineRunner
    bars: Iterator[tuple[int, int]]

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            j, i = next(self.bars)
            self.runner.trader.process(j, i)


@dataclass(frozen=True)
class Copy:
    """A writable copy of the replay's store."""

    settings: Settings
    db: Path

    def app(self, **options: object) -> TradechatApp:
        """The dashboard on this copy: a fast refresh, no parser training unless asked."""
        kwargs: dict[str, object] = {"refresh_s": 0.2, "user": "tester", "warm_parser": False}
        return TradechatApp(self.settings, **(kwargs | options))  # type: ignore[arg-type]

    def store(self) -> Store:
        """A second connection, as another process would have."""
        return Store.open(self.settings.database.url)

    def engine(self) -> Engine:
        """The engine resuming where the replay stopped (its state is in the store)."""
        runner = EngineRunner(self.settings)
        bars = iter(merged_bars(runner.streams, runner.trader.cursors(), runner.start_ms))
        return Engine(runner, bars)


@pytest.fixture
def copy(replay: Replay, tmp_path: Path) -> Copy:
    settings, db = replay.copy(tmp_path)
    return Copy(settings, db)


async def settle_screen(pilot: Pilot[object], timeout_s: float = 8.0) -> None:
    """Wait until two screenshots 0.1 s apart are the same: tables measure their cells and
    layouts apply breakpoints a frame or two after the data arrives, and a snapshot must not
    catch them half done."""
    app = pilot.app
    deadline = time.monotonic() + timeout_s
    last = ""
    while time.monotonic() < deadline:
        await pilot.pause(0.1)
        shot = re.sub(r"terminal-\d+", "terminal", app.export_screenshot())
        if shot == last:
            return
        last = shot
    raise AssertionError("the screen kept changing")


async def settle(pilot: Pilot[object], done: Callable[[], bool], timeout_s: float = 8.0) -> None:
    """Let the app run until `done()` holds (workers read in threads, so this polls)."""
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("the dashboard did not get there in time")
        await pilot.pause(0.05)
    await asyncio.sleep(0)
