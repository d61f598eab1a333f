"""Two uninterrupted runs of one configuration give identical books, order ids included.

`[market] loop = false` ends a replay when its data ends, so a run is a pure function of its
configuration and data: nothing may depend on the wall clock, the database file or set order.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from botcore.config import Settings
from botcore.engine.runner import EngineRunner
from botcore.persistence import Store


def _settings(db: Path, cache: Path) -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{db}"},
            "data": {"cache_dir": str(cache)},
            "market": {
                "start": "2024-03-20",
                "loop": False,
                "speed": 1e12,
                "symbols": [
                    {"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "rsi_reversion"},
                    {"symbol": "ETH/USDT", "timeframe": "15m", "strategy": "ema_cross"},
                ],
            },
            "trading": {"stake_pct": 30.0},
            "risk": {"stop_loss_pct": 1.5, "take_profit_pct": 3.0, "max_drawdown_pct": 80.0,
                     "max_daily_loss_pct": 50.0},
        }
    )  # fmt: skip


def _run(db: Path, cache: Path) -> dict[str, object]:
    runner = EngineRunner(_settings(db, cache))
    try:
        summary = asyncio.run(runner.run(asyncio.Event()))
        assert summary.finished
    finally:
        runner.close()
    store = Store.open(f"sqlite:///{db}")
    try:
        return {
            "orders": store.orders(),
            "fills": store.fills(),
            "trades": store.trades(),
            "balances": store.balances("paper"),
            "positions": store.positions(),
            "equity": store.equity_curve(),
            "signals": store.signals(),
        }
    finally:
        store.close()


def test_two_uninterrupted_runs_of_one_config_are_identical(tmp_path: Path) -> None:
    first = _run(tmp_path / "one.db", tmp_path / "cache")
    second = _run(tmp_path / "two.db", tmp_path / "cache")
    assert len(first["trades"]) > 10  # type: ignore[arg-type]
    for part, value in first.items():
        assert second[part] == value, part
