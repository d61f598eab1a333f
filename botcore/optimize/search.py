"""A resumable, parallel Optuna search over a `SearchSpace` (TPE sampler, seeded, maximising).

`run_search` opens (or creates) a study in a storage and runs only the trials it is missing: the
study counts as done at `trials` finished trials (complete or pruned), so re-running the same search
resumes where it stopped. With `jobs > 1` it starts that many worker *processes* (the GIL makes
threads useless for backtests), each running `study.optimize` on the same storage with a quota of
the missing trials; the calling process only polls the storage and reports progress. Processes on
other machines sharing a database storage stop early through `MaxTrialsCallback` once the study
holds `trials` finished trials (a few trials beyond that may finish while they stop).

The objective receives the full parameter dict and returns an `Evaluation`; it raises ParamError
for a combination the strategy rejects (the trial is pruned with that reason) and any other
BotcoreError to stop the search. With `jobs > 1` it must be picklable.

Runs on a journal file are reproducible for `jobs == 1` (the seed and the number of trials already
done fix the sampler's random state); parallel runs depend on the order in which workers finish,
and runs on a database also on the host and process (machines sharing a study must not repeat
each other's random trials).
"""

from __future__ import annotations

import time
import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from botcore.errors import OptimizeError, ParamError
from botcore.optimize.space import SearchSpace
from botcore.optimize.storage import describe_storage, is_url, opened_storage
from botcore.optimize.study import (
    Objective,
    ProgressFn,
    SearchProgress,
    StudyTarget,
    TrialRunner,
    best_value,
    derive_seed,
    finished_count,
    open_study,
    stop_at,
    worker_id,
)
from botcore.optimize.workers import optimize_in_workers

if TYPE_CHECKING:
    import optuna

__all__ = [
    "ProgressFn",
    "SearchProgress",
    "SearchResult",
    "StudyTarget",
    "TrialRecord",
    "run_search",
]


@dataclass(frozen=True)
class TrialRecord:
    """One trial: `state` is complete, pruned, fail, running or waiting; `value` is set only
    when complete; `params` includes the fixed ones; `note` says why a trial was pruned;
    `worker` is the `host:pid` that ran it."""

    number: int
    state: str
    value: float | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    note: str
    worker: str


@dataclass(frozen=True)
class SearchResult:
    """A finished search: the best trial and every trial of the study.

    `total` is the number of finished trials asked for; `ran` the finished trials added while
    this call ran (by any process sharing the study); `seconds` its wall time.
    """

    study: str
    storage: str
    strategy: str
    space: dict[str, str]
    best_params: dict[str, Any]
    best_value: float
    best_metrics: dict[str, Any]
    trials: tuple[TrialRecord, ...]
    total: int
    ran: int
    seconds: float

    def top(self, n: int = 10) -> list[TrialRecord]:
        """The `n` best complete trials, best first (ties: the earlier trial)."""
        complete = [t for t in self.trials if t.state == "complete" and t.value is not None]
        return sorted(complete, key=lambda t: (-(t.value or 0.0), t.number))[:n]

    def counts(self) -> dict[str, int]:
        """Trials per state."""
        return dict(Counter(t.state for t in self.trials))

    def to_json_dict(self) -> dict[str, Any]:
        """The best trial, the search space and every trial, as plain values."""
        return {
            "mode": "search",
            "study": self.study,
            "storage": self.storage,
            "strategy": self.strategy,
            "space": self.space,
            "best_params": self.best_params,
            "best_value": self.best_value,
            "best_metrics": self.best_metrics,
            "trials_total": self.total,
            "trials_ran": self.ran,
            "trial_states": self.counts(),
            "seconds": self.seconds,
            "trials": [asdict(t) for t in self.trials],
        }


def run_search(
    space: SearchSpace,
    objective: Objective,
    target: StudyTarget,
    trials: int,
    *,
    jobs: int = 1,
    seed: int = 42,
    progress: ProgressFn | None = None,
    label: str = "trials",
) -> SearchResult:
    """Run the trials `target` is missing to reach `trials` finished ones; return the study.

    Args:
        space: what to search; `space.fixed` joins every trial's parameters.
        objective: parameters -> Evaluation (see the module docstring).
        target: storage, study name and fingerprint.
        trials: finished trials (complete or pruned) the study should hold.
        jobs: worker processes; 1 runs in this process.
        seed: TPE seed; each worker and each resumed run derives its own from it.
        progress: called with a `SearchProgress` after trials finish (from this process).
        label: the progress label.

    Raises:
        OptimizeError: the study exists with another fingerprint, a worker died, or no trial
            produced a value.
        BotcoreError: whatever the objective raised to stop the search (e.g. StrategyError).
    """
    if trials < 1:
        raise ParamError("the number of trials must be at least 1")
    started = time.monotonic()
    if is_url(target.storage):
        # A database study may be shared with other machines started with the same seed: mix in
        # who we are, or every machine would repeat the same random start-up trials.
        seed = derive_seed(seed, zlib.crc32(worker_id().encode()), 1)
    with opened_storage(target.storage) as storage:
        study = open_study(storage, target, seed)
        before = finished_count(study)
        missing = trials - before
        if missing > 0:
            workers = max(1, min(jobs, missing))
            if workers == 1:
                _optimize_here(study, space, objective, missing, trials, progress, label)
            else:
                optimize_in_workers(
                    study,
                    target,
                    space,
                    objective,
                    workers=workers,
                    missing=missing,
                    total=trials,
                    seed=seed,
                    progress=progress,
                    label=label,
                )
        elif progress is not None:
            progress(SearchProgress(label, before, trials, best_value(study)))
        return _result(study, space, target, trials, before, time.monotonic() - started)


def _optimize_here(
    study: optuna.Study,
    space: SearchSpace,
    objective: Objective,
    missing: int,
    total: int,
    progress: ProgressFn | None,
    label: str,
) -> None:
    callbacks = [stop_at(total)]
    if progress is not None:
        report = progress
        report(SearchProgress(label, total - missing, total, best_value(study)))
        callbacks.append(
            lambda s, _t: report(SearchProgress(label, finished_count(s), total, best_value(s)))
        )
    study.optimize(
        TrialRunner(space, objective), n_trials=missing, callbacks=callbacks, gc_after_trial=False
    )


def _result(
    study: optuna.Study,
    space: SearchSpace,
    target: StudyTarget,
    total: int,
    before: int,
    seconds: float,
) -> SearchResult:
    records = tuple(_record(t, space.fixed) for t in study.get_trials(deepcopy=False))
    complete = [r for r in records if r.state == "complete" and r.value is not None]
    finished = sum(r.state in ("complete", "pruned") for r in records)
    if not complete:
        notes = Counter(r.note for r in records if r.note)
        why = f"; most often: {notes.most_common(1)[0][0]}" if notes else ""
        raise OptimizeError(
            f"no trial of study '{target.name}' produced a value ({finished} finished{why})"
        )
    best = min(complete, key=lambda r: (-(r.value or 0.0), r.number))
    return SearchResult(
        study=target.name,
        storage=describe_storage(target.storage),
        strategy=space.strategy,
        space=space.describe(),
        best_params=best.params,
        best_value=float(best.value or 0.0),
        best_metrics=best.metrics,
        trials=records,
        total=total,
        ran=finished - before,
        seconds=seconds,
    )


def _record(trial: optuna.trial.FrozenTrial, fixed: Mapping[str, Any]) -> TrialRecord:
    state = trial.state.name.lower()
    return TrialRecord(
        number=trial.number,
        state=state,
        value=trial.value if state == "complete" else None,
        params={**trial.params, **fixed},
        metrics=dict(trial.user_attrs.get("metrics", {})),
        note=str(trial.user_attrs.get("note", "")),
        worker=str(trial.user_attrs.get("worker", "")),
    )
