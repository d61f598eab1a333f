"""The engine's running state beyond balances and orders: equity marks, peaks, streaks.

It is saved as JSON text in the store's key/value state inside each bar's transaction, so a
restart resumes with the same risk picture as an uninterrupted run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal

__all__ = ["BREAKER_KEY", "CONTROL_KEY", "PAUSED_KEY", "STATE_KEY", "RunState"]

# Keys of the engine's entries in the store's key/value state (read by the services too).
STATE_KEY = "engine.run_state"
BREAKER_KEY = "engine.breaker"
# Written by the trading service (another task or process) whenever it adds a manual order or
# pauses/resumes: the trader rereads orders and the pause flag only when this token changes.
CONTROL_KEY = "engine.control"
PAUSED_KEY = "engine.paused"


@dataclass(frozen=True)
class RunState:
    """Equity bookkeeping the risk rules need; prices and equity as Decimal text in JSON."""

    marks: dict[str, Decimal] = field(default_factory=dict)
    last_equity: Decimal | None = None
    peak_equity: Decimal | None = None
    day: int | None = None
    day_start_equity: Decimal | None = None
    consecutive_stop_losses: int = 0
    last_stop_loss_ms: int | None = None
    # close time of the latest bar processed: the engine's clock, which manual orders and
    # reports read (in a replay it is market time, not the wall clock)
    clock_ms: int | None = None

    def to_json(self) -> str:
        """Exact text form (Decimals as strings)."""
        data = asdict(self)
        data["marks"] = {k: str(v) for k, v in self.marks.items()}
        for key in ("last_equity", "peak_equity", "day_start_equity"):
            data[key] = None if data[key] is None else str(data[key])
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> RunState:
        """The state saved by `to_json`, or a fresh one."""
        if not text:
            return cls()
        data = json.loads(text)
        data["marks"] = {k: Decimal(v) for k, v in data["marks"].items()}
        for key in ("last_equity", "peak_equity", "day_start_equity"):
            data[key] = None if data[key] is None else Decimal(data[key])
        return cls(**data)
