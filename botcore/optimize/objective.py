"""What an optimisation maximises: one number read from a backtest's `Metrics`.

- `sharpe`, `sortino`, `calmar`: the metrics of the same name (see `botcore.backtest.metrics`)
- `profit`: `total_return_pct`

A metric that cannot be computed (None, e.g. a Sharpe ratio without a single trade) or is not
finite gives no value: the optimiser records that trial as pruned with the reason, so the sampler
learns to avoid the region instead of treating it as a number.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

from botcore.backtest.metrics import Metrics
from botcore.errors import ParamError

__all__ = [
    "OBJECTIVES",
    "REPORTED_METRICS",
    "Evaluation",
    "ObjectiveName",
    "check_objective",
    "evaluate",
    "objective_value",
]

ObjectiveName = Literal["sharpe", "calmar", "sortino", "profit"]
OBJECTIVES: tuple[str, ...] = get_args(ObjectiveName)
_FIELD = {
    "sharpe": "sharpe",
    "calmar": "calmar",
    "sortino": "sortino",
    "profit": "total_return_pct",
}

# Metrics kept with every trial, so a table of trials can show more than the objective.
REPORTED_METRICS = (
    "total_return_pct",
    "sharpe",
    "sortino",
    "calmar",
    "max_drawdown_pct",
    "trades",
    "win_rate_pct",
)


@dataclass(frozen=True)
class Evaluation:
    """One backtest seen by the optimiser: the objective's value (None: undefined) and metrics."""

    value: float | None
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    note: str = ""


def check_objective(name: str) -> ObjectiveName:
    """`name` if it is an objective, else ParamError listing the choices."""
    if name not in OBJECTIVES:
        raise ParamError(f"unknown objective '{name}'; choose one of {', '.join(OBJECTIVES)}")
    return name  # type: ignore[return-value]


def objective_value(metrics: Metrics, objective: str) -> float | None:
    """The objective's value in `metrics`, None when undefined or not finite."""
    value = getattr(metrics, _FIELD[check_objective(objective)])
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def evaluate(metrics: Metrics, objective: str) -> Evaluation:
    """An `Evaluation` of `metrics`: the objective's value plus the `REPORTED_METRICS`."""
    reported = {name: getattr(metrics, name) for name in REPORTED_METRICS}
    clean = {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in reported.items()
    }
    value = objective_value(metrics, objective)
    note = "" if value is not None else f"{objective} is undefined ({metrics.trades} trades)"
    return Evaluation(value, clean, note)
