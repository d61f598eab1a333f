"""The strategies' latest signals as a table, newest first, each with what the engine did."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tui.formatting import price, utc
from tui.widgets.line_table import LineTable

if TYPE_CHECKING:
    from botcore.persistence.records import SignalRecord

__all__ = ["SignalsTable"]

_LABELS = ("Bar (UTC)", "Symbol", "TF", "Strategy", "Signal", "Price", "Reason", "Outcome")
_NUMERIC = tuple(label == "Price" for label in _LABELS)


def _key(signal: SignalRecord) -> tuple[int, str, str, str]:
    return (signal.timestamp_ms, signal.symbol, signal.strategy, signal.action)


def _cells(signal: SignalRecord) -> tuple[str, ...]:
    return (
        utc(signal.timestamp_ms),
        signal.symbol,
        signal.timeframe,
        signal.strategy,
        signal.action,
        price(signal.price),
        signal.reason or "—",
        signal.outcome or "—",
    )


class SignalsTable(LineTable):
    """Signals, one a row; the cursor stays on its signal as newer ones arrive above it."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(_LABELS, _NUMERIC, id=id)
        self.signals: tuple[SignalRecord, ...] = ()

    def show(self, signals: Sequence[SignalRecord]) -> None:
        """Show `signals` (newest first)."""
        selected = _key(self.signals[self.cursor_row]) if self.signals else None
        self.signals = tuple(signals)
        keys = [_key(s) for s in self.signals]
        self.set_cells(
            [_cells(s) for s in self.signals], keys.index(selected) if selected in keys else 0
        )
