"""The Strategy interface.

A strategy has two parts:

1. `indicators(candles)`: vectorised preparation. Takes the candle frame and returns it with
   indicator columns added. Column t may use rows up to t only (TA-Lib indicators are causal).
2. `entries(frame)` and `exits(frame)`: the per-bar decisions, written vectorised. Element t is the
   decision taken at the *close* of bar t, from data up to t; the engine fills it at the open of bar
   t+1 (or at the close of t when configured). A bar with both an entry and an exit enters nothing.

Everything else is a hook with a safe default: `validate()` checks parameter combinations, `stops()`
gives stop-loss / take-profit / trailing-stop percentages (none by default; parameters named
`stop_loss_pct`, `take_profit_pct` or `trailing_stop_pct` are used when declared), and `warmup()`
says how many bars the indicators need before the first decision.

`tradechat lookahead` and the test suite run every strategy on full data and on data cut at many
points and fail when a past decision changes: the proof that a strategy does not peek ahead.

Framework methods are prefixed `run_`; strategies override the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.errors import ParamError, StrategyError
from botcore.strategy.params import Param

__all__ = ["Signals", "Stops", "Strategy"]

BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Stops:
    """Protective exits in percent of the entry price; None switches one off."""

    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None


@dataclass(frozen=True)
class Signals:
    """A strategy's decisions for every bar of a frame, and the frame with its indicators."""

    frame: pd.DataFrame
    entries: BoolArray
    exits: BoolArray


class Strategy:
    """Base class for strategies; see the module docstring for the contract."""

    name: ClassVar[str] = ""
    parameters: ClassVar[dict[str, Param[Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Param[Any]] = {}
        for klass in reversed(cls.__mro__):
            declared.update({k: v for k, v in vars(klass).items() if isinstance(v, Param)})
        cls.parameters = declared

    def __init__(self, **params: Any) -> None:
        unknown = sorted(set(params) - set(self.parameters))
        if unknown:
            known = ", ".join(self.parameters) or "none"
            raise ParamError(
                f"strategy '{self.name}' has no parameter {', '.join(unknown)} (it has: {known})"
            )
        values = {k: p.default for k, p in self.parameters.items()}
        values.update({k: self.parameters[k].convert(v) for k, v in params.items()})
        self.__dict__["_param_values"] = values
        self.validate()

    @property
    def params(self) -> Mapping[str, Any]:
        """The parameter values in force, defaults included."""
        return dict(self.__dict__["_param_values"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.params.items())
        return f"{self.name}({args})"

    # -- hooks with safe defaults -------------------------------------------------------------
    def validate(self) -> None:
        """Reject parameter combinations that make no sense (raise ParamError). Default: accept."""

    def warmup(self) -> int:
        """Bars the indicators need before decisions are meaningful.

        Default: the largest integer parameter, a safe bound for period-style parameters.
        """
        ints = [v for v in self.params.values() if isinstance(v, int) and not isinstance(v, bool)]
        return max(ints, default=0)

    def stops(self) -> Stops:
        """Protective exits; default from parameters named like the `Stops` fields, else none."""
        values = self.params
        return Stops(
            values.get("stop_loss_pct"),
            values.get("take_profit_pct"),
            values.get("trailing_stop_pct"),
        )

    def exits(self, frame: pd.DataFrame) -> Any:
        """Exit decisions per bar. Default: never (positions leave through stops or the end)."""
        return np.zeros(len(frame), dtype=np.bool_)

    # -- what every strategy writes -----------------------------------------------------------
    def indicators(self, candles: pd.DataFrame) -> pd.DataFrame:
        """Return `candles` with indicator columns added (vectorised, causal)."""
        raise NotImplementedError

    def entries(self, frame: pd.DataFrame) -> Any:
        """Entry decisions per bar (bool array or Series aligned with `frame`)."""
        raise NotImplementedError

    # -- framework ----------------------------------------------------------------------------
    def run_signals(self, candles: pd.DataFrame) -> Signals:
        """Indicators and decisions for `candles`; strategy errors become StrategyError."""
        # Copy-on-write (pandas 3): columns a strategy adds never reach the caller's frame.
        frame = self._call("indicators", candles.copy(deep=False))
        entries = _as_bool(self._call("entries", frame), len(frame), self.name, "entries")
        exits = _as_bool(self._call("exits", frame), len(frame), self.name, "exits")
        return Signals(frame, entries, exits)

    def _call(self, hook: str, frame: pd.DataFrame) -> Any:
        try:
            return getattr(self, hook)(frame)
        except (ParamError, StrategyError):
            raise
        except Exception as exc:
            # A user's strategy file is untrusted code: report which hook failed, keep the engine.
            raise StrategyError(f"strategy '{self.name}' failed in {hook}(): {exc!r}") from exc


def _as_bool(values: Any, length: int, name: str, hook: str) -> BoolArray:
    array = np.asarray(values)
    if array.shape != (length,):
        raise StrategyError(
            f"strategy '{name}' {hook}() returned shape {array.shape}, expected ({length},)"
        )
    if array.dtype != np.bool_:
        # NaN (an indicator not yet defined) is no decision.
        array = np.nan_to_num(array.astype(np.float64), nan=0.0) != 0
    return np.ascontiguousarray(array)
