"""The replay store the benchmarks share: the tests' replay (the config of
tests/botcore/services/conftest.py: BTC/USDT 1h sma_cross and ETH/USDT 15m ema_cross from
2023-06-01), run by the engine as `tradechat run` runs it, to 17 closed trades and two open
positions."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from botcore.config import Settings

__all__ = ["REPLAY_STOP", "replay_config", "run_replay"]

REPLAY_STOP = "2023-06-04T13:30:00Z"


def replay_config(folder: Path, db_name: str = "replay.db") -> dict[str, Any]:
    """The replay's configuration as plain values (a TOML file can be written from it), with
    its database, cache and strategy folder under `folder`."""
    return {
        "database": {"url": f"sqlite:///{folder / db_name}"},
        "data": {"cache_dir": str(folder / "cache")},
        "strategies": {"folder": str(folder / "strategies")},
        "market": {
            "source": "replay", "speed": 1e12, "start": "2023-06-01",
            "symbols": [
                {"symbol": "BTC/USDT", "timeframe": "1h", "strategy": "sma_cross",
                 "params": {"fast": 5, "slow": 13}},
                {"symbol": "ETH/USDT", "timeframe": "15m", "strategy": "ema_cross",
                 "params": {"fast": 5, "slow": 13}},
            ],
        },
        "trading": {"stake_pct": 30.0},
        "risk": {"stop_loss_pct": 1.5, "take_profit_pct": 3.0, "max_daily_loss_pct": 1.0,
                 "max_drawdown_pct": 80.0},
    }  # fmt: skip


def run_replay(settings: Settings, stop_at: str | None = None) -> int:
    """Run the engine over the replay until `stop_at` (else the data's end); the closed trades
    in its store then."""
    from botcore.engine.runner import EngineRunner
    from botcore.timeframes import parse_datetime, to_ms

    stop_ms = to_ms(parse_datetime(stop_at)) if stop_at else None
    stop = asyncio.Event()
    runner = EngineRunner(settings)

    def on_bar(report: Any) -> None:
        if stop_ms is not None and report.timestamp_ms >= stop_ms:
            stop.set()

    try:
        asyncio.run(runner.run(stop, until_end=True, on_bar=on_bar))
        return len(runner.store.trades())
    finally:
        runner.close()
