"""The signals table and the log stream: what the strategies said, and what the engine and the
people steering it did, read from the store so it works for an engine anywhere.

The log holds fills (the engine's orders carried out) and audit entries (pauses, risk and
strategy changes, manual orders, alerts), both stamped with the engine's clock, in time order.
`ActivityFeed` remembers what has been shown, so each line appears once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tui.formatting import amount, price

if TYPE_CHECKING:
    from botcore.execution.orders import Fill
    from botcore.persistence import Store
    from botcore.persistence.records import AuditRecord, SignalRecord

__all__ = ["BACKLOG", "SIGNAL_ROWS", "Activity", "ActivityFeed", "LogLine"]

SIGNAL_ROWS = 200  # the latest signals shown
BACKLOG = 200  # log lines shown from before the dashboard opened


@dataclass(frozen=True)
class LogLine:
    """One line of the log: `kind` is "fill" or the audit action ("pause", "manual_order"...);
    `ref` is the fill's id or the audit entry's number."""

    timestamp_ms: int
    kind: str
    text: str
    ref: str | int


@dataclass(frozen=True)
class Activity:
    """One read: the latest signals (newest first) and the log lines not yet accepted when it
    was made (oldest first)."""

    signals: tuple[SignalRecord, ...]
    lines: tuple[LogLine, ...]


@dataclass
class ActivityFeed:
    """The log's position: what `accept` has let through, so each line is shown once.

    `read` runs in worker threads and only looks at the position; `accept` (on the UI thread)
    filters a read's lines against it and moves it. Two reads that overlap (a refresh tick and
    a screen switch) therefore never show a line twice, and a read whose result is dropped
    loses nothing.
    """

    _fill_since: int | None = None  # the newest fill accepted (its bar's time)
    _fills_at_since: frozenset[str] = frozenset()  # the ids accepted at that time
    _audit_seen: int = 0  # the highest audit number accepted

    def read(self, store: Store, signals_since_ms: int | None = None) -> Activity:
        """The latest signals (from `signals_since_ms`, default all) and the log lines newer
        than the position (the last `BACKLOG` of them on a first read)."""
        signals = store.signals(since_ms=signals_since_ms)[-SIGNAL_ROWS:][::-1]
        fills = store.fills(since_ms=self._fill_since)
        audit = store.audit_log(limit=BACKLOG)
        lines = sorted(
            [_fill_line(f) for f in fills] + [_audit_line(a) for a in audit],
            key=lambda line: line.timestamp_ms,
        )
        return Activity(tuple(signals), tuple(self._new(lines))[-BACKLOG:])

    def accept(self, activity: Activity) -> list[LogLine]:
        """The read's lines not accepted before (oldest first); the position moves past them."""
        lines = self._new(activity.lines)
        fills = [line for line in lines if line.kind == "fill"]
        if fills:
            last = fills[-1].timestamp_ms
            at_last = frozenset(str(f.ref) for f in fills if f.timestamp_ms == last)
            if last == self._fill_since:
                at_last |= self._fills_at_since
            self._fill_since, self._fills_at_since = last, at_last
        numbers = [int(line.ref) for line in lines if line.kind != "fill"]
        self._audit_seen = max([self._audit_seen, *numbers])
        return lines

    def _new(self, lines: Iterable[LogLine]) -> list[LogLine]:
        return [line for line in lines if self._is_new(line)]

    def _is_new(self, line: LogLine) -> bool:
        if line.kind != "fill":
            return int(line.ref) > self._audit_seen
        since = self._fill_since
        if since is None or line.timestamp_ms > since:
            return True
        return line.timestamp_ms == since and line.ref not in self._fills_at_since


def _fill_line(fill: Fill) -> LogLine:
    side = str(fill.side.value).upper()
    text = (
        f"{side} {amount(fill.amount)} {fill.symbol} at {price(fill.price)}, "
        f"fee {amount(fill.fee)} {fill.fee_currency} ({fill.exchange})"
    )
    return LogLine(fill.timestamp_ms, "fill", text, fill.id)


def _audit_line(entry: AuditRecord) -> LogLine:
    text = f"{entry.actor}: {entry.action} {entry.detail}"
    return LogLine(entry.timestamp_ms, entry.action, text, entry.id)
