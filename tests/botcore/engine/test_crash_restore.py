"""kill -9 the engine at random points of a fast replay, restart it, and get the same books.

Two configurations that differ only in their database run the same replay of real Binance
candles: one uninterrupted, one killed with SIGKILL again and again and restarted until it
finishes. Their orders, fills, trades, balances, positions and equity curves must be identical,
with no order lost or doubled.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from botcore.persistence import Store

CONFIG = """
[database]
url = "sqlite:///{db}"

[market]
source = "replay"
speed = 1e12
start = "2024-03-01"
loop = false

[[market.symbols]]
symbol = "BTC/USDT"
timeframe = "1h"
strategy = "sma_cross"
params = {{ fast = 8, slow = 21 }}

[[market.symbols]]
symbol = "ETH/USDT"
timeframe = "15m"
strategy = "ema_cross"

[trading]
stake_pct = 30.0

[risk]
stop_loss_pct = 1.5
take_profit_pct = 3.0
max_daily_loss_pct = 50.0
max_drawdown_pct = 80.0
"""

TRADECHAT = str(Path(sys.executable).with_name("tradechat"))


def _start(config: Path, tmp: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {"TRADECHAT_DATA__CACHE_DIR": str(tmp / "cache")}
    return subprocess.Popen(
        [TRADECHAT, "--config", str(config), "run", "--until-end", "--log-file",
         str(tmp / "log.jsonl")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp,
    )  # fmt: skip


def _snapshot(db: Path) -> dict[str, object]:
    store = Store.open(f"sqlite:///{db}")
    try:
        return {
            "orders": store.orders(),
            "fills": store.fills(),
            "trades": store.trades(),
            "balances": store.balances("paper"),
            "positions": store.positions(),
            "equity": store.equity_curve(),
        }
    finally:
        store.close()


def _bars_done(db: Path) -> int:
    """Bars the store has committed (one equity mark per bar timestamp)."""
    if not db.exists():
        return 0
    store = Store.open(f"sqlite:///{db}")
    try:
        return len(store.equity_curve())
    finally:
        store.close()


def _write_config(tmp: Path, name: str) -> tuple[Path, Path]:
    db = tmp / f"{name}.db"
    config = tmp / f"{name}.toml"
    config.write_text(CONFIG.format(db=db))
    return config, db


@pytest.mark.slow
def test_kill_9_at_random_points_then_restart_gives_the_uninterrupted_result(
    tmp_path: Path,
) -> None:
    ref_config, ref_db = _write_config(tmp_path, "reference")
    started = time.monotonic()
    done = _start(ref_config, tmp_path)
    out, err = done.communicate(timeout=300)
    assert done.returncode == 0, err.decode()
    assert b"replay finished" in out
    full_run_s = time.monotonic() - started
    reference = _snapshot(ref_db)
    assert len(reference["trades"]) > 20  # type: ignore[arg-type]

    crash_config, crash_db = _write_config(tmp_path, "crashed")
    rng = random.Random(20261124)
    kills, reached = 0, []
    for _ in range(40):
        proc = _start(crash_config, tmp_path)
        try:
            proc.wait(timeout=rng.uniform(0.25, 0.9) * full_run_s / 3 + 0.6)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            kills += 1
            reached.append(_bars_done(crash_db))
            continue
        out, err = proc.communicate()
        assert proc.returncode == 0, err.decode()
        break
    else:
        pytest.fail("the crashed run never finished")
    # the kills landed mid-replay, each after more bars than the one before
    mid_run = [n for n in reached if 0 < n < len(reference["equity"])]  # type: ignore[arg-type]
    assert len(set(mid_run)) >= 3, reached
    crashed = _snapshot(crash_db)
    for part in ("orders", "fills", "trades", "balances", "positions", "equity"):
        assert crashed[part] == reference[part], part
    ids = [f.id for f in crashed["fills"]]  # type: ignore[attr-defined]
    assert len(ids) == len(set(ids))
