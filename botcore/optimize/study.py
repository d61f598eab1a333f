"""One Optuna study as tradechat uses it: where it lives, how a trial runs, what counts as done.

A trial suggests every dimension of the `SearchSpace`, calls the objective with the full
parameter dict and returns the objective's value. A combination the strategy rejects (ParamError)
and a backtest whose objective is undefined are *pruned*, with the reason kept in the trial's
`note` attribute; the metrics of every evaluated trial are kept in its `metrics` attribute and
the host and process that ran it in `worker`.
Finished means complete or pruned: failed trials (an interrupted worker) are run again.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botcore.errors import OptimizeError, ParamError
from botcore.optimize.objective import Evaluation
from botcore.optimize.space import SearchSpace, suggest_params
from botcore.optimize.storage import describe_storage

if TYPE_CHECKING:
    import optuna

__all__ = [
    "Objective",
    "ProgressFn",
    "SearchProgress",
    "StudyTarget",
    "TrialRunner",
    "best_value",
    "derive_seed",
    "finished_count",
    "open_study",
    "stop_at",
    "worker_id",
]

Objective = Callable[[dict[str, Any]], Evaluation]
_FINGERPRINT = "tradechat_fingerprint"


@dataclass(frozen=True)
class StudyTarget:
    """A study: its storage spec (see `botcore.optimize.storage`), name, and fingerprint.

    The fingerprint is canonical JSON of everything the trial values depend on; a study found
    under the same name with another fingerprint is refused rather than mixed.
    """

    storage: str
    name: str
    fingerprint: str


@dataclass(frozen=True)
class SearchProgress:
    """Progress of one search: finished trials (complete or pruned) out of the total."""

    label: str
    finished: int
    total: int
    best_value: float | None


ProgressFn = Callable[[SearchProgress], None]


class TrialRunner:
    """Optuna's objective function: suggest, evaluate, prune what has no value."""

    def __init__(self, space: SearchSpace, objective: Objective) -> None:
        self.space = space
        self.objective = objective

    def __call__(self, trial: optuna.Trial) -> float:
        """The objective's value for the parameters `trial` suggests.

        Raises:
            optuna.TrialPruned: invalid combination or undefined objective.
        """
        from optuna import TrialPruned

        params = suggest_params(trial, self.space)
        trial.set_user_attr("worker", worker_id())
        try:
            evaluation = self.objective(params)
        except ParamError as exc:
            trial.set_user_attr("note", str(exc))
            raise TrialPruned(str(exc)) from None
        trial.set_user_attr("metrics", evaluation.metrics)
        if evaluation.value is None:
            trial.set_user_attr("note", evaluation.note)
            raise TrialPruned(evaluation.note)
        return evaluation.value


def worker_id() -> str:
    """`host:pid` of this process, kept with each trial it runs to show how a study was spread."""
    return f"{socket.gethostname()}:{os.getpid()}"


def derive_seed(seed: int, done: int, worker: int) -> int:
    """A sampler seed for `worker` (0 = this process) of a study with `done` finished trials."""
    return (seed * 1_000_003 + done * 8_191 + worker * 131) % 2**32


def open_study(
    storage: optuna.storages.BaseStorage, target: StudyTarget, seed: int
) -> optuna.Study:
    """Create or load the study (maximising), seeded from `seed` and the trials already done.

    Raises:
        OptimizeError: the study exists with another fingerprint.
    """
    import optuna

    study = optuna.create_study(
        storage=storage, study_name=target.name, direction="maximize", load_if_exists=True
    )
    stored = study.user_attrs.get(_FINGERPRINT)
    if stored is None:
        study.set_user_attr(_FINGERPRINT, target.fingerprint)
    elif stored != target.fingerprint:
        raise OptimizeError(
            f"study '{target.name}' in {describe_storage(target.storage)} was run with other "
            f"settings ({_differences(stored, target.fingerprint)}); give another --study name"
        )
    # A resumed study gets a fresh random stream, derived from the seed and what is done.
    done = finished_count(study)
    study.sampler = optuna.samplers.TPESampler(seed=derive_seed(seed, done, 0))
    return study


def _differences(stored: str, wanted: str) -> str:
    try:
        old, new = json.loads(stored), json.loads(wanted)
    except json.JSONDecodeError:
        return "unreadable fingerprint"
    keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
    return "differs in " + ", ".join(keys) if keys else "differs"


def _finished_states() -> tuple[Any, ...]:
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


def finished_count(study: optuna.Study) -> int:
    """Complete plus pruned trials in `study` (from every process and machine)."""
    return len(study.get_trials(deepcopy=False, states=_finished_states()))


def best_value(study: optuna.Study) -> float | None:
    """The highest value of a complete trial, None before the first."""
    from optuna.trial import TrialState

    values = [t.value for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    return max((v for v in values if v is not None), default=None)


def stop_at(total: int) -> Callable[[optuna.Study, optuna.trial.FrozenTrial], None]:
    """A callback that stops `study.optimize` once the study holds `total` finished trials."""
    from optuna.study import MaxTrialsCallback

    return MaxTrialsCallback(total, states=_finished_states())
