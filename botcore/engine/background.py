"""The engine in a thread of this process, for a host (the dashboard) that has its own loop.

The engine's bars are synchronous database work; run on the host's event loop they would stall
its redraws, so the engine gets a thread and an event loop of its own. It opens its own store
connection and holds the store's engine lease like any `tradechat run`, so another engine
starting on the same database is refused, and this one is refused when another already runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading

from botcore.config import Settings
from botcore.engine.runner import EngineRunner, RunSummary

__all__ = ["BackgroundEngine"]

_log = logging.getLogger(__name__)


class BackgroundEngine:
    """Runs `EngineRunner(settings)` in a thread until `stop()` (or the replay's end when
    `[market] loop = false`).

    Attributes:
        error: The exception that ended the run (EngineBusyError when another engine holds
            the store), or None.
        summary: How the run ended, once it has.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.error: BaseException | None = None
        self.summary: RunSummary | None = None
        self._started = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="tradechat-engine", daemon=True)

    def start(self, timeout_s: float = 60.0) -> None:
        """Start the engine and wait until it holds the lease and runs (or has failed to)."""
        self._thread.start()
        self._started.wait(timeout_s)

    @property
    def running(self) -> bool:
        """True while the engine's thread runs."""
        return self._thread.is_alive()

    def stop(self, timeout_s: float = 30.0) -> None:
        """Ask the engine to stop between two bars and wait for it (its lease is released)."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # the host shows it; the thread must not die silently
            self.error = exc
            _log.error("the in-process engine stopped: %s", exc, exc_info=exc)
        finally:
            self._started.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = EngineRunner(self.settings)
        try:
            # the lease is claimed within run()'s first step; a busy store raises before a bar
            task = asyncio.create_task(runner.run(self._stop))
            await asyncio.sleep(0)
            if task.done():
                task.result()  # refused or failed at once: raise it before saying "started"
            self._started.set()
            self.summary = await task
        finally:
            runner.close()
