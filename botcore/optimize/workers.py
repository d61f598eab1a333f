"""Running a study's missing trials in worker processes on this machine.

Processes, not threads: a backtest holds the GIL. Each worker loads the study from the shared
storage and runs `study.optimize` for its quota of trials; the caller polls the storage for
progress, and the first error a worker reports stops every worker and is raised in the caller.

A single-threaded caller on Linux (the command line) forks its workers: they start at once with
the caller's imports, compiled backtest kernel and candles, and open their own storage connection
(never the caller's). A caller running other threads (a chat bot, a TUI) gets spawned workers,
fresh interpreters that take a second or two to start, because a fork copies locks that another
thread may hold. Either way the objective travels in a pickle file, not through the process pipe,
so large candle frames never block a worker's start.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import pickle
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from botcore.errors import BotcoreError, OptimizeError
from botcore.optimize.space import SearchSpace
from botcore.optimize.storage import opened_storage
from botcore.optimize.study import (
    Objective,
    ProgressFn,
    SearchProgress,
    StudyTarget,
    TrialRunner,
    best_value,
    derive_seed,
    finished_count,
    stop_at,
)

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess
    from multiprocessing.queues import SimpleQueue

    import optuna

__all__ = ["optimize_in_workers"]

_POLL_SECONDS = 0.2


@dataclass(frozen=True)
class _WorkerJob:
    target: StudyTarget
    payload: Path  # pickled (space, objective)
    quota: int
    total: int
    seed: int
    verbosity: int


def optimize_in_workers(
    study: optuna.Study,
    target: StudyTarget,
    space: SearchSpace,
    objective: Objective,
    *,
    workers: int,
    missing: int,
    total: int,
    seed: int,
    progress: ProgressFn | None,
    label: str,
) -> None:
    """Run `missing` trials of `study` in `workers` processes, reporting progress meanwhile.

    Raises:
        BotcoreError: the first error a worker reported (OptimizeError for a crash).
    """
    import optuna

    done = total - missing
    share, extra = divmod(missing, workers)
    forking = sys.platform == "linux" and threading.active_count() == 1
    context = (
        multiprocessing.get_context("fork") if forking else multiprocessing.get_context("spawn")
    )
    errors: SimpleQueue[BotcoreError] = context.SimpleQueue()
    with tempfile.TemporaryDirectory(prefix="tradechat-optimize-") as folder:
        payload = Path(folder) / "objective.pickle"
        payload.write_bytes(pickle.dumps((space, objective)))
        processes = [
            context.Process(
                target=_worker,
                args=(
                    _WorkerJob(
                        target,
                        payload,
                        share + (1 if i < extra else 0),
                        total,
                        derive_seed(seed, done, i + 1),
                        optuna.logging.get_verbosity(),
                    ),
                    errors,
                ),
                name=f"optimize-{i + 1}",
                daemon=True,
            )
            for i in range(workers)
        ]
        try:
            for process in processes:
                process.start()
            _watch(study, processes, errors, total, progress, label)
        finally:
            _stop(processes)
            errors.close()


def _watch(
    study: optuna.Study,
    processes: Sequence[BaseProcess],
    errors: SimpleQueue[BotcoreError],
    total: int,
    progress: ProgressFn | None,
    label: str,
) -> None:
    while True:
        running = [p for p in processes if p.is_alive()]
        if progress is not None:
            progress(SearchProgress(label, finished_count(study), total, best_value(study)))
        if not errors.empty():
            raise errors.get()
        crashed = [p for p in processes if p.exitcode not in (None, 0)]
        if crashed:
            raise OptimizeError(
                f"optimiser worker {crashed[0].name} stopped (exit code {crashed[0].exitcode})"
            )
        if not running:
            return
        # Sleep until the next poll, or until a worker ends (its sentinel becomes ready).
        multiprocessing.connection.wait([p.sentinel for p in running], timeout=_POLL_SECONDS)


def _stop(processes: Sequence[BaseProcess]) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # the worker turns SIGTERM into a failed trial, then exits
    for process in processes:
        if process.pid is not None:
            process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _worker(job: _WorkerJob, errors: SimpleQueue[BotcoreError]) -> None:
    # A KeyboardInterrupt (Ctrl-C, or SIGTERM from the caller) marks the running trial failed, so
    # a resumed study runs it again, and ends the worker quietly.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        import optuna

        optuna.logging.set_verbosity(job.verbosity)
        # Our own file, written by the caller a moment ago in a private temporary folder.
        space, objective = pickle.loads(job.payload.read_bytes())  # noqa: S301
        with opened_storage(job.target.storage) as storage:
            study = optuna.load_study(
                study_name=job.target.name,
                storage=storage,
                sampler=optuna.samplers.TPESampler(seed=job.seed),
            )
            study.optimize(
                TrialRunner(space, objective),
                n_trials=job.quota,
                callbacks=[stop_at(job.total)],
                gc_after_trial=False,
            )
    except KeyboardInterrupt:
        return
    except BotcoreError as exc:
        errors.put(exc)
        raise SystemExit(1) from None
    except Exception as exc:
        errors.put(OptimizeError(f"an optimiser worker failed: {exc!r}"))
        raise SystemExit(1) from None
