"""`tradechat optimize`: search a strategy's parameters with Optuna, or walk forward."""

from __future__ import annotations

import json
import shlex
from datetime import datetime, time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from botcore.errors import BotcoreError
from botcore.optimize.search import SearchProgress
from botcore.optimize.walkforward import WalkForwardResult
from botcore.services.backtests import BacktestRequest
from botcore.services.optimize import OptimizeRequest, OptimizeService
from tradechat.commands.options import (
    CashOpt,
    DataOpt,
    EndOpt,
    ExchangeOpt,
    FeeOpt,
    SlippageOpt,
    StakePctOpt,
    StartOpt,
    StrategyOpt,
    SymbolOpt,
    TimeframeOpt,
    market_request,
)
from tradechat.context import app_context, fail
from tradechat.optimize_report import params_text, render_search, render_walk_forward

__all__ = ["optimize"]


def optimize(
    ctx: typer.Context,
    strategy: StrategyOpt,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials",
            "-n",
            min=1,
            help="Finished trials the study should hold; a re-run only runs the missing ones "
            "(default: \\[optimize] trials, 100).",
        ),
    ] = None,
    objective: Annotated[
        str | None,
        typer.Option(
            "--objective",
            "-o",
            help="sharpe, calmar, sortino or profit (total return %) "
            "(default: \\[optimize] objective, sharpe).",
        ),
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="Pin a parameter, k=v (not searched); repeatable."),
    ] = None,
    data: DataOpt = None,
    symbol: SymbolOpt = None,
    timeframe: TimeframeOpt = None,
    exchange: ExchangeOpt = None,
    start: StartOpt = None,
    end: EndOpt = None,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=0,
            help="Worker processes; 0 = one per core (default: \\[optimize] jobs, 0).",
        ),
    ] = None,
    storage: Annotated[
        str | None,
        typer.Option(
            "--storage",
            help="Study storage: a journal file (NAME.journal) or a database URL such as "
            "postgresql+psycopg://user:password@host/db, which workers on several machines can "
            "share (default: \\[optimize] storage, else a journal file in the cache folder).",
        ),
    ] = None,
    study: Annotated[
        str | None,
        typer.Option(
            "--study",
            help="Study name (default: strategy, market, period, objective and a hash of the "
            "other settings).",
        ),
    ] = None,
    walk_forward: Annotated[
        int,
        typer.Option(
            "--walk-forward",
            "-w",
            min=0,
            help="Walk forward over K rolling folds: optimise in-sample, report out-of-sample "
            "results only.",
        ),
    ] = 0,
    wf_ratio: Annotated[
        float,
        typer.Option(
            "--wf-ratio",
            min=0.1,
            help="Walk-forward in-sample length as a multiple of the out-of-sample length.",
        ),
    ] = 3.0,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the TPE sampler.")] = 42,
    cash: CashOpt = None,
    fee: FeeOpt = None,
    slippage: SlippageOpt = None,
    stake_pct: StakePctOpt = None,
    top: Annotated[
        int, typer.Option("--top", min=1, help="Rows in the table of best trials.")
    ] = 10,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Write the result as JSON to this file.")
    ] = None,
) -> None:
    """Search a strategy's declared parameter ranges with Optuna (TPE) on every core; results are
    stored, so the same command resumes. --walk-forward K reports out-of-sample results only."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # the progress bar replaces per-trial logs
    app = app_context(ctx)
    console = app.console
    conf = app.settings.optimize
    try:
        backtest = market_request(
            app.settings.backtest, strategy, param, data, symbol, timeframe, exchange, start, end,
            cash, fee, slippage, stake_pct,
        )  # fmt: skip
        request = OptimizeRequest(
            backtest=backtest,
            objective=objective or conf.objective,
            trials=trials or conf.trials,
            jobs=jobs if jobs is not None else conf.jobs,
            storage=storage,
            study=study,
            walk_forward=walk_forward,
            wf_ratio=wf_ratio,
            seed=seed,
        )
        with _ProgressBars(console, walk=walk_forward > 0) as bars:
            result = OptimizeService(app.settings).run(request, bars.update)
    except BotcoreError as exc:
        fail(console, str(exc))
    except KeyboardInterrupt:
        console.print("interrupted: finished trials are stored; run the same command to resume")
        raise typer.Exit(130) from None
    if isinstance(result, WalkForwardResult):
        render_walk_forward(console, result)
    else:
        render_search(console, result, request.objective, top)
        given = {"--cash": cash, "--fee": fee, "--slippage": slippage, "--stake-pct": stake_pct}
        console.print(f"Backtest it: {_backtest_command(backtest, result.best_params, given)}")
    if json_out:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(json.dumps(result.to_json_dict(), allow_nan=False, indent=1))
        console.print(f"wrote {json_out}")


class _ProgressBars:
    """One rich progress bar per search (per fold in walk-forward), fed by SearchProgress."""

    def __init__(self, console: Console, walk: bool = False) -> None:
        # Walk-forward bars show no best value: that would be an in-sample figure.
        best = () if walk else (TextColumn("best {task.fields[best]}"),)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            *best,
            TimeElapsedColumn(),
            console=console,
            transient=walk,
            # Redrawn from update() only: no refresh thread, so the search may fork its workers.
            auto_refresh=False,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> _ProgressBars:
        self._progress.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._progress.stop()

    def update(self, progress: SearchProgress) -> None:
        """Show `progress` on the bar of its label, creating the bar on first sight."""
        best = "-" if progress.best_value is None else f"{progress.best_value:.4g}"
        if progress.label not in self._tasks:
            self._tasks[progress.label] = self._progress.add_task(
                progress.label, total=progress.total, best=best
            )
        self._progress.update(
            self._tasks[progress.label],
            completed=min(progress.finished, progress.total),
            total=progress.total,
            best=best,
            refresh=True,
        )


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%d" if value.time() == time(0) else "%Y-%m-%dT%H:%M:%SZ")


def _backtest_command(
    request: BacktestRequest, params: dict[str, Any], given: dict[str, float | None]
) -> str:
    """The `tradechat backtest` command that reruns `params` on the optimised data and period."""
    words = ["tradechat", "backtest", "--strategy", request.strategy]
    words += [w for path in request.data_files for w in ("--data", str(path))]
    words += [w for symbol in request.symbols for w in ("--symbol", symbol)]
    for flag, value in (
        ("--timeframe", request.timeframe),
        ("--exchange", request.exchange),
        ("--start", _when(request.start)),
        ("--end", _when(request.end)),
        *((flag, None if v is None else f"{v:g}") for flag, v in given.items()),
    ):
        if value:
            words += [flag, value]
    words += [w for k, v in params.items() for w in ("--param", params_text({k: v}))]
    return " ".join(shlex.quote(w) for w in words)
