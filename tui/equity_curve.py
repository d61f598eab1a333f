"""The account's equity curve, kept up to date without reading it all on every refresh.

Reading every snapshot costs about a second for two years of 15-minute bars, far too much for a
two-second refresh. The curve is read in full once through the equity service, then only its
last day on each refresh, and the new snapshots are appended. A full read happens again whenever
the last day no longer overlaps what is held (the engine ran more than a day of market time
between two reads) or disagrees with it (another store, a reset run); the last snapshot held may
be rewritten, as the engine does when two markets' bars open at the same moment.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.config import Settings

if TYPE_CHECKING:
    from botcore.persistence import Store
    from botcore.services.equity import EquityReport

__all__ = ["CurveView", "EquityCurve"]

CurveView = tuple[tuple[int, ...], tuple[float, ...]]


class EquityCurve:
    """Equity snapshots (UTC ms, quote currency); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ms: list[int] = []
        self._equity: list[Decimal] = []
        self._floats: list[float] = []
        self.full_reads = 0

    def update(self, settings: Settings, store: Store) -> CurveView:
        """Bring the curve up to the engine's clock; the curve as (times, equity as floats)."""
        from botcore.services.equity import equity

        with self._lock:
            recent = equity(settings, store, period_days=1, chart=False) if self._ms else None
            if recent is None or not self._extend(recent):
                self._replace(equity(settings, store, chart=False))
            return tuple(self._ms), tuple(self._floats)

    def _extend(self, recent: EquityReport) -> bool:
        """Append the snapshots of `recent` after the last one held; False if it cannot."""
        stamps, values = recent.timestamps_ms, recent.equity
        last_ms = self._ms[-1]
        if not stamps or stamps[0] > last_ms or last_ms not in stamps:
            return False  # a gap, or the clock went back
        at = stamps.index(last_ms)
        if (
            at > 0
            and len(self._ms) > 1
            and (stamps[at - 1], values[at - 1])
            != (
                self._ms[-2],
                self._equity[-2],
            )
        ):
            return False  # not the curve held
        # the engine rewrites the snapshot of a moment when a second market's bar shares it
        if values[at] != self._equity[-1]:
            self._ms.pop()
            self._equity.pop()
            self._floats.pop()
            self._append(last_ms, values[at])
        for ms, value in zip(stamps[at + 1 :], values[at + 1 :], strict=True):
            self._append(ms, value)
        return True

    def _replace(self, report: EquityReport) -> None:
        self.full_reads += 1
        self._ms, self._equity, self._floats = [], [], []
        for ms, value in zip(report.timestamps_ms, report.equity, strict=True):
            self._append(ms, value)

    def _append(self, ms: int, value: Decimal) -> None:
        self._ms.append(ms)
        self._equity.append(value)
        self._floats.append(float(value))
