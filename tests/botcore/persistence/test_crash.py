"""Crashes and a second process, for real: a child process (child.py) is killed with SIGKILL
inside a transaction, or two processes open and write the same database at once."""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from botcore.persistence import Store
from tests.botcore.persistence.builders import bars, filled, order, position, snapshot
from tests.botcore.persistence.builders import write_a_whole_bar as write_bar

ROOT = Path(__file__).resolve().parents[3]
CURSOR = "replay|BTC/USDT|1h"


class Child:
    """A child.py process whose stdout lines arrive on a queue (a hung child fails the test)."""

    def __init__(self, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.botcore.persistence.child", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put("(exited)")

    def expect(self, word: str, timeout: float = 30) -> None:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            line = "(nothing)"
        if line != word:
            self.process.kill()
            _out, err = self.process.communicate()
            pytest.fail(f"child said {line!r}, expected {word!r}; stderr:\n{err}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL
        self.process.communicate()

    def finish(self) -> None:
        _out, err = self.process.communicate(timeout=60)
        assert self.process.returncode == 0, err

    def reap(self) -> None:
        """Kill the child if a failed test left it running, and close its pipes."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def spawn() -> Iterator[Callable[..., Child]]:
    """Start child.py processes; any still running when the test ends are killed."""
    children: list[Child] = []

    def start(*args: str) -> Child:
        children.append(Child(*args))
        return children[-1]

    yield start
    for child in children:
        child.reap()


@contextmanager
def opened(url: str, busy_timeout_s: float = 30.0) -> Iterator[Store]:
    store = Store.open(url, busy_timeout_s=busy_timeout_s)
    try:
        yield store
    finally:
        store.close()


def assert_child_holds_its_writes(url: str) -> None:
    """Proof the killed child's SQL reached the database: it holds the write lock (SQLite) or
    row-write locks on the fills table (PostgreSQL) of its open transaction."""
    if url.startswith("sqlite"):
        raw = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                raw.execute("BEGIN IMMEDIATE")
        finally:
            raw.close()
        return
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            held = connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE relation = to_regclass('fills') "
                    "AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
                )
            ).scalar()
        assert held == 1
    finally:
        engine.dispose()


def test_sigkill_inside_a_transaction_leaves_the_database_as_before(
    db_url: str, spawn: Callable[..., Child]
) -> None:
    with opened(db_url) as store:
        write_bar(store, 1)
        before = snapshot(store)

    child = spawn("inside", db_url)
    child.expect("inside")
    assert_child_holds_its_writes(db_url)
    child.kill()

    # A short busy timeout: a lock left behind by the dead process would fail the write below.
    with opened(db_url, busy_timeout_s=2) as store:
        assert snapshot(store) == before
        write_bar(store, 2)  # the next bar commits normally
        assert store.cursor(CURSOR) == bars()[2][0]
    if db_url.startswith("sqlite"):
        raw = sqlite3.connect(db_url.removeprefix("sqlite:///"))
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        raw.close()


def test_what_was_committed_before_sigkill_is_all_there(
    db_url: str, spawn: Callable[..., Child]
) -> None:
    with opened(db_url) as store:
        write_bar(store, 1)

    child = spawn("committed", db_url)
    child.expect("committed")
    child.kill()

    done, fill = filled(order(20), 21)
    with opened(db_url) as store:
        assert store.order(done.id) == done
        assert store.fills(order_id=done.id) == [fill]
        assert store.balances() == {"BTC": fill.amount, "USDT": Decimal("6934.27446153")}
        assert store.positions() == [position(21, symbol="ETH/USDT")]
        assert store.equity_curve()[-1] == (bars()[21][0], Decimal("9996.53"))
        assert store.cursor(CURSOR) == bars()[21][0]
        assert store.audit_log(limit=1)[0].detail == fill.id


def test_two_processes_open_and_write_the_same_database_at_once(
    db_url: str, tmp_path: Path, spawn: Callable[..., Child]
) -> None:
    go = tmp_path / "go"
    count = 25
    children = [spawn("writer", db_url, name, str(go), str(count)) for name in ("a", "b")]
    for child in children:
        child.expect("ready")
    go.touch()  # both open (and race to migrate) an empty database now
    for child in children:
        child.expect("done", timeout=60)
        child.finish()

    with opened(db_url) as store:
        log = store.audit_log(limit=1000)
        assert len(log) == 2 * count
        for name in ("a", "b"):
            ticks = [int(e.detail) for e in reversed(log) if e.actor == name]
            assert ticks == list(range(count))
            assert store.balances(name) == {"USDT": Decimal(count - 1)}
        assert len(store.orders()) == 2 * count
    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert versions == [("0001",)]
    finally:
        engine.dispose()


def test_a_write_transaction_takes_the_sqlite_write_lock_at_its_start(tmp_path: Path) -> None:
    path = tmp_path / "tradechat.db"
    with opened(f"sqlite:///{path}") as store:
        write_bar(store, 1)
        other = sqlite3.connect(path, timeout=0)
        try:
            with store.transaction():
                # Nothing written yet, but a second writer is already told to wait...
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
                # ...while readers are not blocked (write-ahead log).
                assert store.cursor(CURSOR) == bars()[1][0]
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
        finally:
            other.close()
