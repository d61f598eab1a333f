"""One engine per database, through the real runner on replayed real candles: a second engine
is refused before its first bar, a run that loses its lease stops, and the in-process engine
(the dashboard's) holds the lease like `tradechat run`."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from botcore.config import Settings
from botcore.engine import lease as lease_module
from botcore.engine.background import BackgroundEngine
from botcore.engine.lease import EngineBusyError, EngineLease, read_lease, running_engine
from botcore.engine.runner import EngineRunner
from botcore.persistence import Store


def _settings(db: Path, cache: Path, speed: float) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db}"},
            "data": {"cache_dir": str(cache)},
            "market": {
                "start": "2024-03-20",
                "loop": False,
                "speed": speed,
                "symbols": [{"symbol": "ETH/USDT", "timeframe": "15m", "strategy": "ema_cross"}],
            },
        }
    )


async def test_a_second_engine_on_the_same_database_is_refused(tmp_path: Path) -> None:
    # 900 s of market per second: one 15m bar a second, so the first run is still going
    settings = _settings(tmp_path / "bot.db", tmp_path / "cache", speed=900)
    first, second = EngineRunner(settings), EngineRunner(settings)
    stop = asyncio.Event()
    a_bar = asyncio.Event()
    running = asyncio.create_task(first.run(stop, on_bar=lambda _: a_bar.set()))
    try:
        await asyncio.wait_for(a_bar.wait(), 30)
        orders_before = len(second.store.orders())
        with pytest.raises(EngineBusyError, match="another engine is running"):
            await second.run(asyncio.Event())
        assert len(second.store.orders()) == orders_before
    finally:
        stop.set()
        summary = await running
        first.close()
        second.close()
    assert not summary.finished
    with Store.open(settings.database.url) as store:
        lease = read_lease(store)
        assert lease is not None and lease.stopped_ms is not None  # released on the clean stop
        assert running_engine(store) is None


async def test_a_run_that_loses_its_lease_stops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lease_module, "BEAT_S", 0.05)
    settings = _settings(tmp_path / "bot.db", tmp_path / "cache", speed=900)
    runner = EngineRunner(settings)
    stop = asyncio.Event()
    a_bar = asyncio.Event()
    running = asyncio.create_task(runner.run(stop, on_bar=lambda _: a_bar.set()))
    try:
        await asyncio.wait_for(a_bar.wait(), 30)  # the lease is claimed before the first bar
        now = int(time.time() * 1000)
        # another engine (on another machine) takes the store over
        other = EngineLease("someone-else", 1, "elsewhere", "paper", "replay", now, now)
        with runner.store.transaction() as uow:
            uow.set_state(lease_module.LEASE_KEY, other.to_json())
        summary = await asyncio.wait_for(running, 10)
    finally:
        stop.set()
        runner.close()
    assert not summary.finished and stop.is_set()
    with Store.open(settings.database.url) as store:
        lease = read_lease(store)
        assert lease is not None and lease.owner == "someone-else"  # left as the other wrote it


def test_the_in_process_engine_holds_the_lease_and_stops_cleanly(tmp_path: Path) -> None:
    settings = _settings(tmp_path / "bot.db", tmp_path / "cache", speed=900)
    engine = BackgroundEngine(settings)
    engine.start()
    try:
        assert engine.running and engine.error is None
        with Store.open(settings.database.url) as store:
            held = running_engine(store)
            assert held is not None and held.source == "replay"
            refused = BackgroundEngine(settings)
            refused.start()
            assert isinstance(refused.error, EngineBusyError) and not refused.running
    finally:
        engine.stop()
    assert not engine.running and engine.error is None
    assert engine.summary is not None and not engine.summary.finished
    with Store.open(settings.database.url) as store:
        assert running_engine(store) is None
        assert store.equity_curve()  # it processed bars before it was stopped
