"""Parameter search and walk-forward on real ETH/USDT 1h candles.

Every reported number is checked against a fresh backtest through `BacktestService`, the path
`tradechat backtest` takes, so the optimiser cannot report a value a user could not reproduce.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import threading
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from botcore.backtest.engine import BacktestSettings
from botcore.config import DataConfig, Settings
from botcore.data.catalog import LoadedCandles
from botcore.errors import OptimizeError, ParamError, StrategyError
from botcore.optimize.objective import Evaluation
from botcore.optimize.search import SearchResult, StudyTarget, run_search
from botcore.optimize.space import SearchSpace, build_space
from botcore.optimize.storage import default_storage, resolve_storage
from botcore.optimize.walkforward import split_walk_forward
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.services.optimize import OptimizeRequest, OptimizeService
from botcore.strategy.base import Strategy
from botcore.strategy.builtins.rsi_reversion import RsiReversion
from botcore.strategy.params import BoolParam, FloatParam, IntParam
from botcore.timeframes import parse_datetime, to_ms
from tests.conftest import SHARED_DATA

ETH_1H = SHARED_DATA / "binance_ETH-USDT_1h.csv.gz"
HOUR_MS = 3_600_000


def when(text: str) -> datetime:
    return parse_datetime(text)


def settings_in(folder: Path) -> Settings:
    return Settings(data=DataConfig(cache_dir=folder))


def backtest_request(
    strategy: str = "sma_cross", start: str = "2023-03-01", end: str = "2023-07-01", **kw: Any
) -> BacktestRequest:
    return BacktestRequest(
        strategy=strategy, data_files=(ETH_1H,), start=when(start), end=when(end), **kw
    )


def fresh_backtest(
    settings: Settings, request: BacktestRequest, params: dict[str, Any], **window: datetime
) -> Any:
    """The backtest `tradechat backtest` would run for `params` (optionally on another window)."""
    return BacktestService(settings).run(replace(request, params=params, **window))


def assert_in_declared_ranges(strategy: type[Strategy], params: dict[str, Any]) -> None:
    for name, declared in strategy.parameters.items():
        value = params[name]
        assert isinstance(value, declared.kind)
        if declared.low is not None and declared.high is not None:
            assert declared.low <= value <= declared.high, name
        if declared.step and declared.low is not None:
            steps = (value - declared.low) / declared.step
            assert abs(steps - round(steps)) < 1e-9, name


# -- search space ---------------------------------------------------------------------------------


def test_space_searches_declared_ranges_and_holds_pinned_values() -> None:
    space = build_space(RsiReversion, {"period": "21"})
    assert space.fixed == {"period": 21}
    assert space.describe() == {
        "overbought": "float 55.0..95.0 step 1.0",
        "oversold": "float 5.0..45.0 step 1.0",
        "period": "fixed 21",
        "stop_loss_pct": "float 0.5..20.0 step 0.5",
    }


def test_space_rejects_unknown_or_out_of_range_pins() -> None:
    with pytest.raises(ParamError, match="did you mean 'period'"):
        build_space(RsiReversion, {"perod": 3})
    with pytest.raises(ParamError, match="at most 50"):
        build_space(RsiReversion, {"period": 500})
    with pytest.raises(ParamError, match="nothing to search"):
        build_space(
            RsiReversion, {"period": 14, "oversold": 30, "overbought": 70, "stop_loss_pct": 5}
        )


class _Shapes(Strategy):
    """Not a trading strategy: one parameter of every kind the space maps."""

    name = "shapes"
    flag = BoolParam(True)
    scale = FloatParam(0.1, low=0.001, high=10.0, log=True)
    count = IntParam(4, low=1, high=11, step=3)  # 11 is no whole step from 1: ends at 10
    unbounded = IntParam(7)


def _shapes_objective(params: dict[str, Any]) -> Evaluation:
    if params["count"] == 4:
        raise ParamError("count 4 is rejected by validate()")
    if not params["flag"]:
        return Evaluation(None, {}, "no value when the flag is off")
    return Evaluation(params["scale"] * params["count"], {"count": params["count"]})


def test_every_parameter_kind_is_searched_and_rejections_are_pruned(tmp_path: Path) -> None:
    space = build_space(_Shapes)
    assert space.describe()["count"] == "int 1..10 step 3"
    assert space.fixed == {"unbounded": 7}
    target = StudyTarget(default_storage(tmp_path, "shapes"), "shapes", "{}")
    result = run_search(space, _shapes_objective, target, 40, seed=3)
    kinds = {t.state for t in result.trials}
    assert kinds == {"complete", "pruned"}
    assert len(result.trials) == 40
    notes = {t.note for t in result.trials if t.state == "pruned"}
    assert notes == {"count 4 is rejected by validate()", "no value when the flag is off"}
    for trial in result.trials:
        assert trial.params["count"] in (1, 4, 7, 10)
        assert 0.001 <= trial.params["scale"] <= 10.0
        assert trial.params["unbounded"] == 7
    assert result.best_value == max(t.value for t in result.trials if t.value is not None)
    assert result.best_params["flag"] is True


# -- search on real candles -----------------------------------------------------------------------


def test_best_params_are_in_range_and_their_value_is_a_fresh_backtest(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    request = backtest_request()
    result = OptimizeService(settings).search(OptimizeRequest(request, "sharpe", trials=25))
    assert len(result.trials) == 25 and result.ran == 25
    from botcore.strategy.builtins.sma_cross import SmaCross

    assert_in_declared_ranges(SmaCross, result.best_params)
    assert result.best_params["fast"] < result.best_params["slow"]
    fresh = fresh_backtest(settings, request, result.best_params)
    assert fresh.metrics.sharpe == pytest.approx(result.best_value, rel=1e-12)
    assert result.best_metrics["total_return_pct"] == pytest.approx(
        fresh.metrics.total_return_pct, rel=1e-12
    )
    for trial in result.top(3):  # every listed trial is reproducible too
        again = fresh_backtest(settings, request, trial.params)
        assert again.metrics.sharpe == pytest.approx(trial.value, rel=1e-12)


def test_profit_objective_is_the_total_return(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    request = backtest_request("rsi_reversion", params={"period": 14})
    result = OptimizeService(settings).search(OptimizeRequest(request, "profit", trials=12))
    assert result.best_params["period"] == 14
    assert_in_declared_ranges(RsiReversion, result.best_params)
    fresh = fresh_backtest(settings, request, result.best_params)
    assert fresh.metrics.total_return_pct == pytest.approx(result.best_value, rel=1e-12)


def test_invalid_combinations_are_pruned_not_crashed(tmp_path: Path) -> None:
    # slow pinned at 20 leaves fast in 2..100: most draws break fast < slow.
    request = backtest_request(params={"slow": 20})
    result = OptimizeService(settings_in(tmp_path)).search(OptimizeRequest(request, trials=15))
    counts = result.counts()
    assert counts.get("pruned", 0) > 0 and "fail" not in counts
    assert sum(counts.values()) == 15
    for trial in result.trials:
        if trial.state == "pruned":
            assert trial.params["fast"] >= 20
            assert "needs fast < slow" in trial.note
        else:
            assert trial.params["fast"] < 20


def test_a_resumed_study_runs_only_the_missing_trials(tmp_path: Path) -> None:
    service = OptimizeService(settings_in(tmp_path))
    first = service.search(OptimizeRequest(backtest_request(), trials=8))
    second = service.search(OptimizeRequest(backtest_request(), trials=14))
    third = service.search(OptimizeRequest(backtest_request(), trials=14))
    assert (first.ran, second.ran, third.ran) == (8, 6, 0)
    assert second.study == first.study and second.storage == first.storage
    assert [t.number for t in second.trials] == list(range(14))
    # the first eight trials were kept, not redone
    assert second.trials[:8] == first.trials
    assert third.trials == second.trials
    assert len(list((tmp_path / "optuna").glob("*.journal"))) == 1


def test_two_worker_processes_share_the_study_and_stop_at_the_total(tmp_path: Path) -> None:
    result = OptimizeService(settings_in(tmp_path)).search(
        OptimizeRequest(backtest_request(), trials=24, jobs=2)
    )
    finished = [t for t in result.trials if t.state in ("complete", "pruned")]
    assert len(result.trials) == len(finished) == 24
    workers = {t.worker for t in result.trials}
    assert len(workers) == 2
    assert all(not w.endswith(f":{os.getpid()}") for w in workers)  # not this process
    assert not multiprocessing.active_children()
    fresh = fresh_backtest(settings_in(tmp_path), backtest_request(), result.best_params)
    assert fresh.metrics.sharpe == pytest.approx(result.best_value, rel=1e-12)


def test_a_caller_running_threads_gets_spawned_workers(tmp_path: Path) -> None:
    # A fork would copy locks another thread may hold; such callers get fresh interpreters.
    stop = threading.Event()
    other = threading.Thread(target=stop.wait, daemon=True)
    other.start()
    try:
        result = OptimizeService(settings_in(tmp_path)).search(
            OptimizeRequest(backtest_request(), trials=10, jobs=2)
        )
    finally:
        stop.set()
        other.join()
    assert len(result.trials) == 10 and result.ran == 10
    assert len({t.worker for t in result.trials}) == 2
    assert not multiprocessing.active_children()


class _FailingObjective:
    """A strategy whose code raises: the search must stop and say so, in any process."""

    def __call__(self, params: dict[str, Any]) -> Evaluation:
        raise StrategyError("strategy 'broken' failed in entries(): ZeroDivisionError()")


def test_a_strategy_error_in_a_worker_stops_the_search(tmp_path: Path) -> None:
    space = SearchSpace("broken", build_space(_Shapes).dimensions, {})
    target = StudyTarget(default_storage(tmp_path, "broken"), "broken", "{}")
    with pytest.raises(StrategyError, match="failed in entries"):
        run_search(space, _FailingObjective(), target, 10, jobs=2)
    assert not multiprocessing.active_children()


def test_a_study_run_with_other_settings_is_refused(tmp_path: Path) -> None:
    service = OptimizeService(settings_in(tmp_path))
    service.search(OptimizeRequest(backtest_request(), trials=3, study="mine"))
    other = backtest_request(settings=BacktestSettings(fee=0.0))
    with pytest.raises(OptimizeError, match=r"other settings \(differs in settings\)"):
        service.search(OptimizeRequest(other, trials=3, study="mine"))


def test_storage_specs(tmp_path: Path) -> None:
    folder = tmp_path / "studies"
    assert resolve_storage(None, folder, "a/b c") == f"journal:{folder}/a_b_c.journal"
    assert resolve_storage("x.journal", folder, "s").endswith("/x.journal")
    url = "postgresql+psycopg://u:p@h/db"
    assert resolve_storage(url, folder, "s") == url
    with pytest.raises(ParamError, match="not a storage"):
        resolve_storage("studies.txt", folder, "s")


# -- walk-forward ---------------------------------------------------------------------------------


def test_walk_forward_windows_roll_and_oos_windows_tile_the_end() -> None:
    start, end = to_ms(when("2023-01-01")), to_ms(when("2024-01-01"))
    folds = split_walk_forward(start, end, 4, 3.0, HOUR_MS)
    oos_ms = folds[0].oos_end_ms - folds[0].oos_start_ms
    assert folds[-1].oos_end_ms == end and folds[0].in_sample_start_ms >= start
    for fold, following in itertools.pairwise(folds):
        assert following.oos_start_ms == fold.oos_end_ms
    for fold in folds:
        assert fold.in_sample_end_ms == fold.oos_start_ms
        assert fold.oos_end_ms - fold.oos_start_ms == oos_ms
        assert fold.in_sample_end_ms - fold.in_sample_start_ms == 3 * oos_ms
        assert oos_ms % HOUR_MS == 0
    with pytest.raises(ParamError, match="too short"):
        split_walk_forward(start, start + 13 * HOUR_MS, 4, 3.0, HOUR_MS)


def _truncated(market: LoadedCandles, end: datetime) -> LoadedCandles:
    frame = market.frame[market.frame["timestamp"] < to_ms(end)].reset_index(drop=True)
    return LoadedCandles(market.key, market.path, frame, market.quality)


def test_walk_forward_reports_out_of_sample_backtests_of_the_in_sample_choice(
    tmp_path: Path,
) -> None:
    settings = settings_in(tmp_path)
    request = backtest_request(start="2023-01-01", end="2023-09-01")
    result = OptimizeService(settings).walk_forward(
        OptimizeRequest(request, "sharpe", trials=10, walk_forward=3, wf_ratio=2.0)
    )
    assert len(result.folds) == 3
    market = BacktestService(settings).load_markets(request)[0]
    for fold in result.folds:
        w = fold.window
        in_start, in_end = w.in_sample
        oos_start, oos_end = w.oos
        assert in_start < in_end == oos_start < oos_end  # OOS follows, never overlaps, IS
        # no bar before the OOS window is reported as OOS; no bar after it is used at all
        assert fold.oos.timestamps[0] == w.oos_start_ms
        assert fold.oos.timestamps[-1] == w.oos_end_ms - HOUR_MS
        trades = fold.oos.trades
        assert (trades["entry_time"] >= w.oos_start_ms).all()
        assert (trades["exit_time"] <= w.oos_end_ms).all()
        # the reported OOS metrics are a fresh backtest of the chosen params on that window
        fresh = fresh_backtest(settings, request, fold.best_params, start=oos_start, end=oos_end)
        assert fresh.metrics == fold.oos_metrics
        assert fold.oos_value == fresh.metrics.sharpe
        # the in-sample choice saw no candle from its OOS window: data cut there gives the same
        blind = BacktestService(settings).run(
            replace(request, params=fold.best_params, start=in_start, end=in_end),
            markets=[_truncated(market, in_end)],
        )
        assert blind.metrics.sharpe == pytest.approx(fold.in_sample_value, rel=1e-12)
    stitched = result.stitched
    assert stitched.timestamps[0] == result.folds[0].window.oos_start_ms
    assert np.all(np.diff(stitched.timestamps) > 0)
    growth = np.prod(
        [f.oos_metrics.final_equity / f.oos_metrics.initial_cash for f in result.folds]
    )
    assert stitched.metrics.final_equity == pytest.approx(10_000.0 * growth, rel=1e-12)
    assert stitched.metrics.trades == sum(f.oos_metrics.trades for f in result.folds)


def test_walk_forward_resumes_fold_by_fold(tmp_path: Path) -> None:
    service = OptimizeService(settings_in(tmp_path))
    request = OptimizeRequest(
        backtest_request(start="2023-01-01", end="2023-07-01"), trials=6, walk_forward=2
    )
    first = service.walk_forward(request)
    again = service.walk_forward(request)
    assert [f.trials_ran for f in first.folds] == [6, 6]
    assert [f.trials_ran for f in again.folds] == [0, 0]
    assert [f.best_params for f in again.folds] == [f.best_params for f in first.folds]
    assert again.stitched.metrics == first.stitched.metrics


# -- PostgreSQL: the storage that lets several machines share one study ----------------------------


@pytest.mark.postgres
def test_postgres_storage_shares_and_resumes_a_study(tmp_path: Path) -> None:
    url = os.environ.get("TRADECHAT_TEST_PG_URL")
    if not url:
        pytest.skip("set TRADECHAT_TEST_PG_URL to a PostgreSQL database to run this test")
    import optuna

    study = f"test-{uuid.uuid4().hex[:12]}"
    service = OptimizeService(settings_in(tmp_path))
    request = OptimizeRequest(backtest_request(), trials=12, jobs=2, storage=url, study=study)
    try:
        first: SearchResult = service.search(request)
        resumed = service.search(replace(request, trials=16, jobs=1))
        assert (first.ran, resumed.ran) == (12, 4)
        assert len({t.worker for t in first.trials}) == 2
        assert resumed.trials[:12] == first.trials
        assert "***" in resumed.storage and "tradechat:tradechat" not in resumed.storage
        fresh = fresh_backtest(settings_in(tmp_path), backtest_request(), resumed.best_params)
        assert fresh.metrics.sharpe == pytest.approx(resumed.best_value, rel=1e-12)
        assert not list(tmp_path.rglob("*.journal"))  # nothing went to the local default
    finally:
        storage = optuna.storages.RDBStorage(url)
        optuna.delete_study(study_name=study, storage=storage)
        storage.engine.dispose()
