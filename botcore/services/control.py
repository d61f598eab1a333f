"""Steering the running engine: pause and resume new entries, change a risk rule, assign a
strategy to a symbol.

Like manual orders, every change is written (with an audit entry) in one transaction and bumps
the engine's control token; the engine applies it at its next bar, and it outlives restarts.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import ValidationError

from botcore.config import RUNTIME_RISK_RULES, RiskConfig, Settings
from botcore.engine.identity import account_name
from botcore.engine.state import CONTROL_KEY, PAUSED_KEY, STATE_KEY, RunState
from botcore.errors import BotcoreError
from botcore.persistence import Store
from botcore.persistence.records import StrategyAssignment
from botcore.strategy.registry import get_strategy

__all__ = ["ControlError", "EngineControl", "RiskChange"]

# The rules that may change at run time (chat's `set_risk`); the rest stay in the config file.
SETTABLE = RUNTIME_RISK_RULES


class ControlError(BotcoreError):
    """A control request was refused; nothing was written."""


@dataclass(frozen=True)
class RiskChange:
    """A risk rule's value before and after a change."""

    name: str
    before: float | int | None
    after: float | int | None


class EngineControl:
    """Control requests over one engine's store."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.account = account_name(settings)

    # -- entries ------------------------------------------------------------------------------
    def paused(self) -> bool:
        """True when new entries are paused."""
        return self.store.state(PAUSED_KEY) == "true"

    def pause(self, actor: str) -> bool:
        """Pause new entries (exits, protective and manual orders go on); False if already."""
        return self._set_paused(True, actor)

    def resume(self, actor: str) -> bool:
        """Resume new entries; False when they were not paused."""
        return self._set_paused(False, actor)

    def _set_paused(self, paused: bool, actor: str) -> bool:
        if self.paused() == paused:
            return False
        with self.store.transaction() as uow:
            uow.set_state(PAUSED_KEY, "true" if paused else "false")
            uow.set_state(CONTROL_KEY, uuid.uuid4().hex)
            uow.audit(actor, "pause" if paused else "resume", "new entries", self._clock())
        return True

    # -- risk ---------------------------------------------------------------------------------
    def risk(self) -> RiskConfig:
        """The risk rules in force: the config with the run-time changes applied."""
        overrides = self.store.risk_settings()
        try:
            return RiskConfig.model_validate(self.settings.risk.model_dump() | overrides)
        except ValidationError:
            return self.settings.risk

    def set_risk(self, name: str, value: float, actor: str, *, preview: bool = False) -> RiskChange:
        """Change one risk rule from the engine's next bar on.

        Raises:
            ControlError: not a rule chat may change, or a value the rule does not accept.
        """
        if name not in SETTABLE:
            raise ControlError(
                f"{name} cannot be changed from chat; settable: {', '.join(SETTABLE)}"
            )
        current = self.risk()
        try:
            changed = RiskConfig.model_validate(current.model_dump() | {name: value})
        except ValidationError as exc:
            problem = exc.errors()[0]["msg"]
            raise ControlError(f"{name} = {value} is not accepted: {problem}") from None
        change = RiskChange(name, getattr(current, name), getattr(changed, name))
        if preview:
            return change
        with self.store.transaction() as uow:
            uow.set_risk_setting(name, str(getattr(changed, name)))
            uow.set_state(CONTROL_KEY, uuid.uuid4().hex)
            uow.audit(
                actor, "set_risk", f"{name}: {change.before} -> {change.after}", self._clock()
            )
        return change

    # -- strategies ---------------------------------------------------------------------------
    def set_strategy(
        self, strategy: str, symbol: str | None, actor: str, *, preview: bool = False
    ) -> list[StrategyAssignment]:
        """Trade `symbol` (None: every symbol the engine runs) with `strategy` (its default
        parameters) from the engine's next bar on.

        Raises:
            ControlError: the engine does not run `symbol`.
            StrategyNotFoundError: no such strategy (close names suggested).
        """
        get_strategy(strategy, self.settings.strategies.folder)  # refuses an unknown name
        specs = [s for s in self.settings.market.symbols if symbol is None or s.symbol == symbol]
        if not specs:
            runs = ", ".join(s.symbol for s in self.settings.market.symbols)
            raise ControlError(f"the engine does not trade {symbol} (it runs {runs})")
        clock = self._clock()
        assignments = [
            StrategyAssignment(symbol=s.symbol, timeframe=s.timeframe, strategy=strategy,
                               assigned_ms=clock, exchange=self.account, assigned_by=actor)
            for s in specs
        ]  # fmt: skip
        if preview:
            return assignments
        with self.store.transaction() as uow:
            for assignment in assignments:
                uow.assign_strategy(assignment)
            uow.set_state(CONTROL_KEY, uuid.uuid4().hex)
            targets = ", ".join(a.symbol for a in assignments)
            uow.audit(actor, "set_strategy", f"{strategy} on {targets}", clock)
        return assignments

    def strategy_of(self, symbol: str) -> str:
        """The strategy trading `symbol` now (a run-time assignment, else the config's)."""
        for assignment in self.store.strategy_assignments():
            if assignment.exchange == self.account and assignment.symbol == symbol:
                return assignment.strategy
        return next(s.strategy for s in self.settings.market.symbols if s.symbol == symbol)

    def _clock(self) -> int:
        return RunState.from_json(self.store.state(STATE_KEY)).clock_ms or 0
