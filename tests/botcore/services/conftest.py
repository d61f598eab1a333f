"""One short replay of real bundled candles through the engine, shared by the services' tests.

The engine runs two markets (BTC/USDT 1h with sma_cross, ETH/USDT 15m with ema_cross) from
2023-06-01 to the ETH bar of 2023-06-04 13:30 UTC, with stops, take-profits and a tight daily-loss
breaker, through `EngineRunner` as `tradechat run` does. It ends with a BTC and an ETH position
open, each under its protective OCO order, after trades on every day of the run. The store is
also copied at the first bar where the breaker halted entries (2023-06-03 20:00 UTC). Tests that
write to a store copy the file first.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import pytest

from botcore.config import Settings
from botcore.engine.runner import EngineRunner
from botcore.engine.trader import BarReport
from botcore.persistence import Store
from botcore.timeframes import parse_datetime, to_ms

STOP_AT_MS = to_ms(parse_datetime("2023-06-04T13:30:00Z"))


def replay_settings(db: Path, folder: Path, **sections: object) -> Settings:
    """The replay's configuration with its database at `db` and nothing read from the cwd."""
    base: dict[str, object] = {
        "database": {"url": f"sqlite:///{db}"},
        "data": {"cache_dir": folder / "cache"},
        "strategies": {"folder": folder / "strategies"},
        "market": {
            "source": "replay",
            "speed": 1e12,
            "start": "2023-06-01",
            "symbols": [
                {
                    "symbol": "BTC/USDT",
                    "timeframe": "1h",
                    "strategy": "sma_cross",
                    "params": {"fast": 5, "slow": 13},
                },
                {
                    "symbol": "ETH/USDT",
                    "timeframe": "15m",
                    "strategy": "ema_cross",
                    "params": {"fast": 5, "slow": 13},
                },
            ],
        },
        "trading": {"stake_pct": 30.0},
        "risk": {
            "stop_loss_pct": 1.5,
            "take_profit_pct": 3.0,
            "max_daily_loss_pct": 1.0,
            "max_drawdown_pct": 80.0,
        },
    }
    return Settings(**(base | sections))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Replay:
    """The finished replay: its settings, the SQLite file the engine wrote, and the copy of that
    file taken when the breaker first halted (with settings pointing at it)."""

    settings: Settings
    db: Path
    halted: Settings
    halted_db: Path

    def copy(self, target: Path, **sections: object) -> tuple[Settings, Path]:
        """A writable copy of the store under `target`, with settings pointing at it."""
        db = target / "copy.db"
        shutil.copyfile(self.db, db)
        return replay_settings(db, target, **sections), db


@pytest.fixture(scope="session")
def replay(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    folder = tmp_path_factory.mktemp("replay")
    settings = replay_settings(folder / "engine.db", folder)
    halted_db = folder / "halted.db"
    runner = EngineRunner(settings)
    stop = asyncio.Event()

    def on_bar(report: BarReport) -> None:
        if report.breaker.halted and not halted_db.exists():
            # the bar is committed: an online backup copies exactly what it wrote
            with (
                closing(sqlite3.connect(folder / "engine.db")) as source,
                closing(sqlite3.connect(halted_db)) as target,
            ):
                source.backup(target)
        if report.timestamp_ms >= STOP_AT_MS:
            stop.set()

    try:
        summary = asyncio.run(runner.run(stop, until_end=True, on_bar=on_bar))
    finally:
        runner.close()
    assert not summary.finished
    assert halted_db.exists(), "the replay must trip the daily-loss breaker"
    return Replay(settings, folder / "engine.db", replay_settings(halted_db, folder), halted_db)


@pytest.fixture
def store(replay: Replay) -> Iterator[Store]:
    with Store.open(replay.settings.database.url) as opened:
        yield opened


@pytest.fixture
def empty(tmp_path: Path) -> Iterator[tuple[Settings, Store]]:
    settings = replay_settings(tmp_path / "empty.db", tmp_path)
    with Store.open(settings.database.url) as opened:
        yield settings, opened
