"""Optimisation use cases: search a strategy's parameters, or walk forward and report OOS only.

Both load the data a `BacktestRequest` names once, evaluate every trial with the same backtest as
`BacktestService.run` (bars before the window only warm indicators up), and keep their trials in a
study storage so that the same request resumes instead of starting over. The default study name
reads strategy, market, period and objective, and ends in a hash of everything else the values
depend on (pinned parameters, search ranges, backtest settings, walk-forward layout).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from botcore.backtest.result import BacktestResult
from botcore.config import Settings
from botcore.data.catalog import LoadedCandles
from botcore.errors import OptimizeError, ParamError
from botcore.optimize.objective import Evaluation, check_objective, evaluate, objective_value
from botcore.optimize.search import ProgressFn, SearchResult, StudyTarget, run_search
from botcore.optimize.space import SearchSpace, build_space
from botcore.optimize.storage import describe_storage, resolve_storage
from botcore.optimize.walkforward import (
    FoldResult,
    FoldWindow,
    WalkForwardResult,
    split_walk_forward,
    stitch_oos,
)
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.strategy.base import Strategy
from botcore.strategy.registry import get_strategy
from botcore.timeframes import timeframe_ms, to_iso, to_ms

__all__ = ["BacktestObjective", "OptimizeRequest", "OptimizeService"]


@dataclass(frozen=True)
class OptimizeRequest:
    """What to optimise: the backtest (its `params` are pinned) and how to search.

    `jobs` 0 means one worker process per CPU core; `walk_forward` 0 means a plain search over
    the whole period, K > 0 means K folds with in-sample windows `wf_ratio` times the OOS length.
    `storage` None uses `[optimize] storage`, else a journal file in the cache folder.
    """

    backtest: BacktestRequest
    objective: str = "sharpe"
    trials: int = 100
    jobs: int = 1
    storage: str | None = None
    study: str | None = None
    walk_forward: int = 0
    wf_ratio: float = 3.0
    seed: int = 42


@lru_cache(maxsize=32)
def _strategy_class(name: str, folder: Path | None) -> type[Strategy]:
    # Resolved once per process: a user strategy file is imported once, not per trial.
    return get_strategy(name, folder)


@dataclass(frozen=True)
class BacktestObjective:
    """Parameters -> the objective of a backtest over `[start, end)`; picklable for workers.

    A parameter combination the strategy rejects raises ParamError (the search prunes it); a
    backtest that cannot run at all raises OptimizeError (the search stops).
    """

    app_settings: Settings
    request: BacktestRequest
    markets: tuple[LoadedCandles, ...]
    objective: str
    start: datetime | None = None
    end: datetime | None = None

    def backtest(self, params: Mapping[str, Any]) -> BacktestResult:
        """The backtest of `params` on this objective's window (as `tradechat backtest` runs it)."""
        strategy = _strategy_class(self.request.strategy, self.app_settings.strategies.folder)(
            **dict(params)
        )
        request = replace(self.request, params=dict(params), start=self.start, end=self.end)
        try:
            return BacktestService(self.app_settings).run(request, strategy, self.markets)
        except ParamError as exc:
            raise OptimizeError(f"cannot backtest {self._window()}: {exc}") from exc

    def __call__(self, params: dict[str, Any]) -> Evaluation:
        return evaluate(self.backtest(params).metrics, self.objective)

    def _window(self) -> str:
        start = f"{self.start:%Y-%m-%d %H:%M}" if self.start else "the start"
        end = f"{self.end:%Y-%m-%d %H:%M}" if self.end else "the end"
        return f"{start} .. {end}"


@dataclass(frozen=True)
class _Plan:
    space: SearchSpace
    markets: tuple[LoadedCandles, ...]
    start: datetime
    end: datetime
    bar_ms: int
    base_name: str
    storage: str
    fingerprint: dict[str, Any] = field(default_factory=dict)


class OptimizeService:
    """Runs parameter searches and walk-forward analyses for every front end."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._backtests = BacktestService(settings)

    def run(
        self, request: OptimizeRequest, progress: ProgressFn | None = None
    ) -> SearchResult | WalkForwardResult:
        """`walk_forward(request)` when it asks for folds, else `search(request)`."""
        if request.walk_forward:
            return self.walk_forward(request, progress)
        return self.search(request, progress)

    def search(self, request: OptimizeRequest, progress: ProgressFn | None = None) -> SearchResult:
        """Search the strategy's parameters over the request's period.

        Raises:
            ParamError: bad request (unknown strategy or parameter, no data, bad objective).
            OptimizeError: storage trouble, a study with other settings, no trial with a value.
            StrategyError: the strategy's code failed.
        """
        plan = self._plan(request)
        objective = BacktestObjective(
            self._settings, request.backtest, plan.markets, request.objective, plan.start, plan.end
        )
        target = StudyTarget(plan.storage, plan.base_name, _canonical(plan.fingerprint))
        return run_search(
            plan.space,
            objective,
            target,
            request.trials,
            jobs=self._jobs(request.jobs),
            seed=request.seed,
            progress=progress,
            label="trials",
        )

    def walk_forward(
        self, request: OptimizeRequest, progress: ProgressFn | None = None
    ) -> WalkForwardResult:
        """Optimise each fold in-sample, backtest its best parameters out-of-sample, stitch.

        Each fold is its own study (`<study>.fold<k>of<K>`) in the same storage, so an
        interrupted walk-forward resumes fold by fold.

        Raises:
            ParamError, OptimizeError, StrategyError: as `search`.
        """
        started = time.monotonic()
        plan = self._plan(request)
        windows = split_walk_forward(
            to_ms(plan.start), to_ms(plan.end), request.walk_forward, request.wf_ratio, plan.bar_ms
        )
        folds = [self._fold(request, plan, window, progress) for window in windows]
        return WalkForwardResult(
            strategy=plan.space.strategy,
            objective=request.objective,
            storage=describe_storage(plan.storage),
            study=plan.base_name,
            ratio=request.wf_ratio,
            folds=tuple(folds),
            stitched=stitch_oos([f.oos for f in folds], plan.bar_ms),
            seconds=time.monotonic() - started,
        )

    def _fold(
        self,
        request: OptimizeRequest,
        plan: _Plan,
        window: FoldWindow,
        progress: ProgressFn | None,
    ) -> FoldResult:
        folds = request.walk_forward
        name = f"{plan.base_name}.fold{window.index}of{folds}"
        fingerprint = plan.fingerprint | {
            "fold": [window.index, to_iso(window.in_sample_start_ms), to_iso(window.oos_end_ms)]
        }
        in_sample = BacktestObjective(
            self._settings, request.backtest, plan.markets, request.objective, *window.in_sample
        )
        searched = run_search(
            plan.space,
            in_sample,
            StudyTarget(plan.storage, name, _canonical(fingerprint)),
            request.trials,
            jobs=self._jobs(request.jobs),
            seed=request.seed,
            progress=progress,
            label=f"fold {window.index}/{folds}",
        )
        out_of_sample = replace(in_sample, start=window.oos[0], end=window.oos[1])
        oos = out_of_sample.backtest(searched.best_params)
        return FoldResult(
            window=window,
            study=name,
            best_params=searched.best_params,
            in_sample_value=searched.best_value,
            trials_ran=searched.ran,
            oos=oos,
            oos_value=objective_value(oos.metrics, request.objective),
        )

    def _plan(self, request: OptimizeRequest) -> _Plan:
        check_objective(request.objective)
        if request.trials < 1:
            raise ParamError("the number of trials must be at least 1")
        strategy = _strategy_class(request.backtest.strategy, self._settings.strategies.folder)
        space = build_space(strategy, request.backtest.params)
        request.backtest.settings.validate()
        markets = tuple(self._backtests.load_markets(request.backtest))
        start, end = _period(markets, request.backtest.start, request.backtest.end)
        bar_ms = timeframe_ms(markets[0].key.timeframe)
        fingerprint: dict[str, Any] = {
            "strategy": strategy.name,
            "markets": [f"{m.key.exchange}:{m.key.symbol}:{m.key.timeframe}" for m in markets],
            "period": [to_iso(to_ms(start)), to_iso(to_ms(end))],
            "objective": request.objective,
            "space": space.describe(),
            "settings": request.backtest.settings.public_dict(),
        }
        if request.walk_forward:
            fingerprint["walk_forward"] = [request.walk_forward, request.wf_ratio]
        name = request.study or _study_name(fingerprint, markets, start, end)
        folder = self._settings.data.cache_dir / "optuna"
        storage = resolve_storage(request.storage or self._settings.optimize.storage, folder, name)
        return _Plan(space, markets, start, end, bar_ms, name, storage, fingerprint)

    @staticmethod
    def _jobs(jobs: int) -> int:
        if jobs < 0:
            raise ParamError("jobs must be 0 (every core) or a positive number of processes")
        return jobs or len(os.sched_getaffinity(0))


def _period(
    markets: Sequence[LoadedCandles], start: datetime | None, end: datetime | None
) -> tuple[datetime, datetime]:
    """The request's period clipped to the data: `[first bar, last bar + one bar)` at most."""
    first = min(int(m.frame["timestamp"].iloc[0]) for m in markets)
    last = max(int(m.frame["timestamp"].iloc[-1]) for m in markets)
    bar = timeframe_ms(markets[0].key.timeframe)
    lo = max(first, to_ms(start)) if start else first
    hi = min(last + bar, to_ms(end)) if end else last + bar
    if hi <= lo:
        raise ParamError("no candles in the requested period")
    return _utc(lo), _utc(hi)


def _utc(ms: int) -> datetime:
    from datetime import UTC

    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _canonical(data: Mapping[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)


def _study_name(
    fingerprint: Mapping[str, Any],
    markets: Sequence[LoadedCandles],
    start: datetime,
    end: datetime,
) -> str:
    """`sma_cross.binance.ETH-USDT.1h.20230101-20240111.sharpe.1a2b3c4d`."""
    symbols = "+".join(m.key.symbol.replace("/", "-") for m in markets)
    digest = hashlib.sha256(_canonical(fingerprint).encode()).hexdigest()[:8]
    walk = f".wf{fingerprint['walk_forward'][0]}" if "walk_forward" in fingerprint else ""
    return (
        f"{fingerprint['strategy']}.{markets[0].key.exchange}.{symbols}."
        f"{markets[0].key.timeframe}.{_day(start)}-{_day(end)}.{fingerprint['objective']}"
        f"{walk}.{digest}"
    )


def _day(value: datetime) -> str:
    return f"{value:%Y%m%d}" if (value.hour, value.minute) == (0, 0) else f"{value:%Y%m%dT%H%M}"
