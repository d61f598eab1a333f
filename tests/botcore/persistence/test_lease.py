"""The engine lease on a real store (SQLite file, and PostgreSQL when configured): one engine
per database, released on a clean stop, free again once its holder is dead or silent."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from botcore.engine.lease import (
    STALE_S,
    EngineBusyError,
    LeaseHolder,
    read_lease,
    running_engine,
)
from botcore.persistence import Store

ROOT = Path(__file__).resolve().parents[3]


class Clock:
    """Wall time the test moves."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_second_engine_is_refused_while_the_first_runs(store: Store) -> None:
    clock = Clock()
    first = LeaseHolder(store, "paper", "replay", clock)
    first.claim()
    second = LeaseHolder(store, "paper", "replay", clock)
    with pytest.raises(EngineBusyError, match=f"pid {os.getpid()}") as refused:
        second.claim()
    assert "[database] url" in str(refused.value)
    lease = read_lease(store)
    assert lease is not None and lease.owner == first.lease.owner  # the refusal wrote nothing
    held = running_engine(store, int(clock.now * 1000))
    assert held is not None and (held.mode, held.source) == ("paper", "replay")


def test_a_clean_stop_frees_the_store(store: Store) -> None:
    clock = Clock()
    first = LeaseHolder(store, "paper", "replay", clock)
    first.claim()
    clock.now += 3
    first.release()
    now_ms = int(clock.now * 1000)
    assert running_engine(store, now_ms) is None
    lease = read_lease(store)
    assert lease is not None and lease.describe(now_ms).startswith("stopped 0 s ago")
    LeaseHolder(store, "live", "exchange", clock).claim()
    assert read_lease(store) is not None and read_lease(store).mode == "live"  # type: ignore[union-attr]


def test_a_silent_engine_loses_the_store_and_learns_it_at_its_next_renewal(store: Store) -> None:
    clock = Clock()
    first = LeaseHolder(store, "paper", "replay", clock)
    first.claim()
    clock.now += STALE_S - 1
    assert first.renew()  # renewed in time: still held
    clock.now += STALE_S - 1
    with pytest.raises(EngineBusyError):
        LeaseHolder(store, "paper", "replay", clock).claim()
    clock.now += 2  # past STALE_S since the last renewal
    second = LeaseHolder(store, "paper", "replay", clock)
    second.claim()
    assert not first.renew()  # the old holder must stop, and writes nothing
    first.release()
    lease = read_lease(store)
    assert lease is not None and lease.owner == second.lease.owner and lease.stopped_ms is None


@pytest.mark.parametrize("before", ["never run", "stopped"])
def test_engines_claiming_at_once_never_both_win(db_url: str, before: str) -> None:
    stores = [Store.open(db_url) for _ in range(4)]
    if before == "stopped":  # the lease row exists: the claims lock it rather than insert it
        earlier = LeaseHolder(stores[0], "paper", "replay")
        earlier.claim()
        earlier.release()
    won: list[str] = []
    refused: list[str] = []
    barrier = threading.Barrier(len(stores))

    def claim(store: Store) -> None:
        holder = LeaseHolder(store, "paper", "replay")
        barrier.wait()
        try:
            holder.claim()
            won.append(holder.lease.owner)
        except EngineBusyError:
            refused.append(holder.lease.owner)

    threads = [threading.Thread(target=claim, args=(s,)) for s in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(won) == 1 and len(refused) == 3
        lease = read_lease(stores[0])
        assert lease is not None and lease.owner == won[0]
    finally:
        for s in stores:
            s.close()


def test_a_killed_engine_can_be_restarted_at_once(db_url: str) -> None:
    # a real process claims the lease and is killed with SIGKILL: it never releases it
    code = (
        "import sys, time\n"
        "from botcore.persistence import Store\n"
        "from botcore.engine.lease import LeaseHolder\n"
        "store = Store.open(sys.argv[1])\n"
        "LeaseHolder(store, 'paper', 'replay').claim()\n"
        "print('claimed', flush=True)\n"
        "time.sleep(60)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, db_url], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None and process.stdout.readline().strip() == "claimed"
        with Store.open(db_url) as store:
            with pytest.raises(EngineBusyError, match=f"pid {process.pid}"):
                LeaseHolder(store, "paper", "replay").claim()
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            lease = read_lease(store)
            assert lease is not None and lease.stopped_ms is None  # never released...
            assert running_engine(store) is None  # ...but its process is gone
            LeaseHolder(store, "paper", "replay").claim()
    finally:
        process.kill()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
