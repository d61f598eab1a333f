"""The search space: a strategy's declared parameter ranges, minus the parameters the user pins.

Integers become Optuna `IntDistribution`s (every `step`), floats `FloatDistribution`s (every
`step`, or on a log scale when `log`, which then ignores `step`), booleans a categorical choice of
False/True. A parameter without a range (no `low`/`high`) keeps its default. A range that `step`
does not divide ends at the last step below `high`, as Optuna would (without its warning).

Optuna is imported inside the functions that need it; importing this module stays cheap.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from botcore.errors import ParamError
from botcore.strategy.base import Strategy
from botcore.strategy.params import Param

if TYPE_CHECKING:
    import optuna

__all__ = ["Dimension", "SearchSpace", "build_space", "suggest_params"]


@dataclass(frozen=True)
class Dimension:
    """One searched parameter, its bounds already adjusted to a whole number of steps."""

    name: str
    kind: str  # "int", "float" or "bool"
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False

    def describe(self) -> str:
        """`int 2..100`, `float 0.5..20.0 step 0.5`, `float 0.01..1.0 log` or `bool`."""
        if self.kind == "bool":
            return "bool"
        low, high = (int(self.low), int(self.high)) if self.kind == "int" else (self.low, self.high)
        text = f"{self.kind} {low}..{high}"
        if self.log:
            return f"{text} log"
        if self.step is not None:
            step = int(self.step) if self.kind == "int" else self.step
            return f"{text} step {step}"
        return text


@dataclass(frozen=True)
class SearchSpace:
    """What a study searches (`dimensions`) and what stays put (`fixed`: pinned or rangeless)."""

    strategy: str
    dimensions: tuple[Dimension, ...]
    fixed: Mapping[str, Any]

    def describe(self) -> dict[str, str]:
        """Name -> range text for every parameter (`fixed 20` for the ones not searched)."""
        text = {d.name: d.describe() for d in self.dimensions}
        text.update({name: f"fixed {value}" for name, value in self.fixed.items()})
        return dict(sorted(text.items()))


def build_space(
    strategy: type[Strategy], pinned: Mapping[str, object] | None = None
) -> SearchSpace:
    """The search space of `strategy` with `pinned` parameters held at the given values.

    Args:
        strategy: the strategy class whose `parameters` declare the ranges.
        pinned: name -> value (or text from the command line) to hold fixed.

    Raises:
        ParamError: a pinned name is unknown (with a "did you mean"), a pinned value is out of
            range, a declared range is unusable, or nothing is left to search.
    """
    declared = strategy.parameters
    fixed: dict[str, Any] = {}
    for name, raw in (pinned or {}).items():
        if name not in declared:
            close = difflib.get_close_matches(name, list(declared), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise ParamError(f"strategy '{strategy.name}' has no parameter '{name}'{hint}")
        fixed[name] = declared[name].convert(raw)
    dimensions = []
    for name, param in declared.items():
        if name in fixed:
            continue
        dimension = _dimension(name, param)
        if dimension is None:
            fixed[name] = param.default
        else:
            dimensions.append(dimension)
    if not dimensions:
        raise ParamError(
            f"nothing to search: every parameter of '{strategy.name}' is pinned or has no range"
        )
    return SearchSpace(strategy.name, tuple(dimensions), dict(sorted(fixed.items())))


def _dimension(name: str, param: Param[Any]) -> Dimension | None:
    if param.kind is bool:
        return Dimension(name, "bool")
    if param.low is None or param.high is None:
        return None
    low, high = param.low, param.high
    if low > high:
        raise ParamError(f"parameter '{name}' declares low {low} above high {high}")
    if param.kind is int:
        step = int(param.step) if param.step else 1
        high = low + (high - low) // step * step
        return Dimension(name, "int", int(low), int(high), step)
    if param.log:
        if low <= 0:
            raise ParamError(f"parameter '{name}' is searched on a log scale and needs low > 0")
        return Dimension(name, "float", float(low), float(high), None, log=True)
    step_f: float | None = None
    if param.step:
        step_d, low_d = Decimal(str(param.step)), Decimal(str(low))
        high = float(low_d + (Decimal(str(high)) - low_d) // step_d * step_d)
        step_f = float(param.step)
    return Dimension(name, "float", float(low), float(high), step_f)


def suggest_params(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """Ask `trial` for a value of every dimension; returns them merged with the fixed values."""
    values: dict[str, Any] = {}
    for d in space.dimensions:
        if d.kind == "bool":
            values[d.name] = trial.suggest_categorical(d.name, [False, True])
        elif d.kind == "int":
            step = int(d.step or 1)
            values[d.name] = trial.suggest_int(d.name, int(d.low), int(d.high), step=step)
        else:
            values[d.name] = trial.suggest_float(d.name, d.low, d.high, step=d.step, log=d.log)
    values.update(space.fixed)
    return values
