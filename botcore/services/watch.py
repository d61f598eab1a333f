"""The watchlist and price alerts.

Both name markets the bot can price: those the engine trades (an alert is checked on each of
their bars) and, for the watchlist, any market with local candles. An alert fires once, on the
first engine bar whose range reaches its price (`above`: the high reaches it; `below`: the low),
inside that bar's transaction, and the bar's report carries it so the chat can notify.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal

from botcore.config import Settings
from botcore.data.catalog import DataCatalog
from botcore.engine.identity import account_name
from botcore.engine.state import CONTROL_KEY, STATE_KEY, RunState
from botcore.errors import BotcoreError
from botcore.persistence import Store
from botcore.persistence.records import AlertCondition, AlertRecord

__all__ = ["WATCHLIST_KEY", "WatchError", "WatchService"]

WATCHLIST_KEY = "chat.watchlist"
_MAX_ALERTS = 50


class WatchError(BotcoreError):
    """A watchlist or alert request was refused; nothing was written."""


class WatchService:
    """Watchlist and alerts over one engine's store."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.account = account_name(settings)

    # -- watchlist ----------------------------------------------------------------------------
    def watchlist(self) -> list[str]:
        """The watched markets, in the order they were added."""
        return list(json.loads(self.store.state(WATCHLIST_KEY) or "[]"))

    def watch(self, symbol: str, actor: str) -> bool:
        """Add `symbol`; False when it was already watched.

        Raises:
            WatchError: the bot has no price source for it.
        """
        if symbol not in self._known():
            known = ", ".join(sorted(self._known()))
            raise WatchError(f"I have no prices for {symbol}; I can watch {known}")
        current = self.watchlist()
        if symbol in current:
            return False
        self._save_watchlist([*current, symbol], actor, f"watch {symbol}")
        return True

    def unwatch(self, symbol: str, actor: str) -> bool:
        """Remove `symbol`; False when it was not watched."""
        current = self.watchlist()
        if symbol not in current:
            return False
        self._save_watchlist([s for s in current if s != symbol], actor, f"unwatch {symbol}")
        return True

    def _save_watchlist(self, symbols: list[str], actor: str, detail: str) -> None:
        with self.store.transaction() as uow:
            uow.set_state(WATCHLIST_KEY, json.dumps(symbols))
            uow.audit(actor, "watchlist", detail, self._clock())

    def _known(self) -> set[str]:
        data = self.settings.data
        catalog = DataCatalog.create(data.cache_dir, data.dirs, data.default_exchange)
        return {k.symbol for k, _ in catalog.entries()} | self._traded()

    def _traded(self) -> set[str]:
        return {s.symbol for s in self.settings.market.symbols}

    # -- alerts -------------------------------------------------------------------------------
    def alerts(self, active_only: bool = True) -> list[AlertRecord]:
        """The alerts (by default those that have not fired yet)."""
        return self.store.alerts(active_only=active_only)

    def add_alert(self, symbol: str, condition: str, price: Decimal, actor: str) -> AlertRecord:
        """An alert on a market the engine trades, checked from its next bar.

        Raises:
            WatchError: a market the engine does not trade, a price that is not positive, an
                alert already true now, or too many active alerts.
        """
        if symbol not in self._traded():
            runs = ", ".join(sorted(self._traded()))
            raise WatchError(f"alerts are checked on the engine's bars; it trades {runs}")
        if price <= 0:
            raise WatchError(f"the alert price must be positive, not {price}")
        if len(self.alerts()) >= _MAX_ALERTS:
            raise WatchError(f"there are already {_MAX_ALERTS} active alerts; that is the limit")
        kind = AlertCondition(condition)
        last = RunState.from_json(self.store.state(STATE_KEY)).marks.get(symbol)
        if last is not None and (
            (kind is AlertCondition.ABOVE and last >= price)
            or (kind is AlertCondition.BELOW and last <= price)
        ):
            raise WatchError(f"{symbol} is already {condition} {price.normalize()} ({last})")
        digest = hashlib.sha256(f"{symbol}|{condition}|{price}|{uuid.uuid4()}".encode())
        alert = AlertRecord(id=f"al{digest.hexdigest()[:14]}", symbol=symbol, condition=kind,
                            price=price, created_ms=self._clock(), created_by=actor,
                            exchange=self.account)  # fmt: skip
        with self.store.transaction() as uow:
            uow.save_alert(alert)
            uow.set_state(CONTROL_KEY, alert.id)
            uow.audit(actor, "alert", f"{symbol} {condition} {price}", alert.created_ms)
        return alert

    def _clock(self) -> int:
        return RunState.from_json(self.store.state(STATE_KEY)).clock_ms or 0
