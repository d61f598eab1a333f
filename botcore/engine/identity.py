"""Names the engine's books by: the account it trades and the id of a configuration's run.

Kept apart from the runner so that services (the chat's, the dashboard's) can name the engine's
account without importing the engine itself.
"""

from __future__ import annotations

import hashlib
import json

from botcore.config import Settings

__all__ = ["account_name", "run_id_for"]


def run_id_for(settings: Settings) -> str:
    """A stable id for a configuration's run: order ids derive from it, so a restarted run (and
    a second run of the same config) names its orders identically."""
    market = settings.market.model_dump(mode="json", exclude={"speed", "loop"})
    text = json.dumps({"market": market, "trading": settings.trading.model_dump(mode="json")},
                      sort_keys=True)  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def account_name(settings: Settings) -> str:
    """The account the engine books to: "paper", or in live mode the exchange's id."""
    if settings.trading.mode != "live":
        return "paper"
    venues = sorted({s.exchange or settings.data.default_exchange for s in settings.market.symbols})
    return venues[0]
