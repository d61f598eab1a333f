"""One engine per store: a lease in `engine_state` that the running engine renews.

Two engines on one database would each fill the other's orders and book every bar twice, so an
engine claims the lease before its first bar and renews it every `BEAT_S` seconds (wall time).
Another engine, or a dashboard deciding whether to start one, reads it: a lease counts as held
while its holder renews it (within `STALE_S`), has not released it, and (on this machine) its
process still exists, so a `kill -9`ed engine can be restarted at once.

The claim reads the lease under a row lock (PostgreSQL `FOR UPDATE`; SQLite's transactions
already hold the write lock) and a first claim inserts the row, so of two engines starting
together one wins and the other sees a key conflict: never both.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from sqlalchemy.exc import IntegrityError

from botcore.errors import BotcoreError
from botcore.persistence import Store
from botcore.persistence.errors import StoreError

__all__ = [
    "BEAT_S",
    "LEASE_KEY",
    "STALE_S",
    "EngineBusyError",
    "EngineLease",
    "LeaseHolder",
    "read_lease",
    "running_engine",
]

_log = logging.getLogger(__name__)

LEASE_KEY = "engine_lease"
BEAT_S = 5.0
STALE_S = 20.0  # four missed beats: a busy machine may delay one, not four


class EngineBusyError(BotcoreError):
    """Another engine is running on this store."""


@dataclass(frozen=True)
class EngineLease:
    """Who runs (or last ran) the engine on a store.

    Attributes:
        owner: A random id per engine start.
        pid, host: The holder's process id and machine name.
        mode, source: `[trading] mode` and `[market] source` of its run.
        started_ms, beat_ms: When it claimed the lease and last renewed it (wall time, UTC ms).
        stopped_ms: When it released the lease on a clean stop; None while held.
    """

    owner: str
    pid: int
    host: str
    mode: str
    source: str
    started_ms: int
    beat_ms: int
    stopped_ms: int | None = None

    def held(self, now_ms: int) -> bool:
        """True while the holder is running: not released, renewed lately, process alive."""
        if self.stopped_ms is not None or now_ms - self.beat_ms > STALE_S * 1000:
            return False
        return self.host != socket.gethostname() or _process_exists(self.pid)

    def to_json(self) -> str:
        """The stored form."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EngineLease:
        """The lease stored as `text`."""
        return cls(**json.loads(text))

    def describe(self, now_ms: int) -> str:
        """A line for people: who runs the engine, or when it stopped."""
        where = f"pid {self.pid} on {self.host}"
        if self.stopped_ms is not None:
            return f"stopped {_ago(now_ms - self.stopped_ms)} ago ({where})"
        if not self.held(now_ms):
            return f"not running: last seen {_ago(now_ms - self.beat_ms)} ago ({where})"
        return f"{self.mode} on {self.source}, {where}"


def read_lease(store: Store) -> EngineLease | None:
    """The store's lease, held or not; None when no engine ever ran on it."""
    text = store.state(LEASE_KEY)
    return None if text is None else EngineLease.from_json(text)


def running_engine(store: Store, now_ms: int | None = None) -> EngineLease | None:
    """The lease of the engine running on this store, or None when none runs."""
    lease = read_lease(store)
    now = _now_ms() if now_ms is None else now_ms
    return lease if lease is not None and lease.held(now) else None


class LeaseHolder:
    """Claims, renews and releases the lease for one engine run.

    Args:
        store: The engine's store.
        mode, source: What the run does (shown to whoever reads the lease).
        clock: Wall time in seconds (tests move it).
    """

    def __init__(
        self, store: Store, mode: str, source: str, clock: Callable[[], float] = time.time
    ) -> None:
        self.store = store
        self._clock = clock
        now = self._now()
        self.lease = EngineLease(
            uuid.uuid4().hex, os.getpid(), socket.gethostname(), mode, source, now, now
        )

    def _now(self) -> int:
        return int(self._clock() * 1000)

    def claim(self) -> None:
        """Take the lease, or raise EngineBusyError naming the engine that holds it."""
        now = self._now()
        lease = replace(self.lease, started_ms=now, beat_ms=now, stopped_ms=None)
        try:
            with self.store.transaction() as uow:
                text = uow.locked_state(LEASE_KEY)
                current = None if text is None else EngineLease.from_json(text)
                if current is not None and current.owner != lease.owner and current.held(now):
                    raise EngineBusyError(
                        f"another engine is running on this database "
                        f"({current.describe(now)}); stop it first, or give this one its own "
                        "[database] url"
                    )
                if current is None:
                    uow.add_state(LEASE_KEY, lease.to_json())
                else:
                    uow.set_state(LEASE_KEY, lease.to_json())
        except (IntegrityError, StoreError) as exc:
            conflict = isinstance(exc, IntegrityError) or isinstance(exc.__cause__, IntegrityError)
            if not conflict:
                raise
            # the other engine inserted the first lease between our read and our write
            raise EngineBusyError(
                "another engine started on this database at the same moment; stop it first"
            ) from exc
        self.lease = lease

    def renew(self) -> bool:
        """Renew the lease; False (and nothing written) when another engine has taken it."""
        now = self._now()
        with self.store.transaction() as uow:
            text = uow.locked_state(LEASE_KEY)
            if text is None or EngineLease.from_json(text).owner != self.lease.owner:
                return False
            self.lease = replace(self.lease, beat_ms=now)
            uow.set_state(LEASE_KEY, self.lease.to_json())
        return True

    def release(self) -> None:
        """Mark the lease released (a clean stop), unless another engine holds it now."""
        now = self._now()
        with self.store.transaction() as uow:
            text = uow.locked_state(LEASE_KEY)
            if text is None or EngineLease.from_json(text).owner != self.lease.owner:
                return
            self.lease = replace(self.lease, beat_ms=now, stopped_ms=now)
            uow.set_state(LEASE_KEY, self.lease.to_json())

    async def keep(self, on_lost: Callable[[], None]) -> None:
        """Renew every `BEAT_S` seconds until cancelled. A lost lease calls `on_lost` (the
        engine stops: another engine is trading the same account) and ends the renewals."""
        while True:
            await asyncio.sleep(BEAT_S)
            try:
                kept = await asyncio.to_thread(self.renew)
            except StoreError as exc:  # a locked or unreachable database: try at the next beat
                _log.warning("could not renew the engine lease: %s", exc)
                continue
            if not kept:
                _log.error("another engine took over this database; stopping this one")
                on_lost()
                return


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _now_ms() -> int:
    return int(time.time() * 1000)


def _ago(ms: int) -> str:
    seconds = max(0, ms // 1000)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
