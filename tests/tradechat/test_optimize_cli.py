"""`tradechat optimize` as a user meets it: tables, JSON, resuming, walk-forward, errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from botcore.config import DataConfig, Settings
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.strategy.builtins.sma_cross import SmaCross
from botcore.timeframes import parse_datetime
from tests.conftest import SHARED_DATA
from tradechat.cli import app

runner = CliRunner()
ETH_1H = str(SHARED_DATA / "binance_ETH-USDT_1h.csv.gz")
PERIOD = ("--start", "2023-03-01", "--end", "2023-06-01")


def run(cache: Path, *args: str) -> tuple[int, str]:
    env = {"TRADECHAT_DATA__CACHE_DIR": str(cache), "COLUMNS": "200"}
    result = runner.invoke(app, ["optimize", *args], env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_optimize_prints_best_trials_writes_json_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "best.json"
    args = ("-s", "sma_cross", "--data", ETH_1H, *PERIOD, "--jobs", "1", "--json", str(out))
    code, output = run(tmp_path, *args, "--trials", "12")
    assert code == 0, output
    assert "Best trials by sharpe" in output and "Backtest it: tradechat backtest" in output
    first = json.loads(out.read_text())
    assert (first["trials_total"], first["trials_ran"], len(first["trials"])) == (12, 12, 12)
    best = first["best_params"]
    assert SmaCross.fast.low <= best["fast"] < best["slow"] <= SmaCross.slow.high
    fresh = BacktestService(Settings(data=DataConfig(cache_dir=tmp_path))).run(
        BacktestRequest(
            "sma_cross",
            best,
            data_files=(Path(ETH_1H),),
            start=parse_datetime("2023-03-01"),
            end=parse_datetime("2023-06-01"),
        )
    )
    assert fresh.metrics.sharpe == pytest.approx(first["best_value"], rel=1e-12)

    code, output = run(tmp_path, *args, "--trials", "15")
    assert code == 0, output
    second = json.loads(out.read_text())
    assert (second["trials_ran"], len(second["trials"])) == (3, 15)
    assert second["study"] == first["study"]
    assert second["trials"][:12] == first["trials"]


def test_walk_forward_reports_out_of_sample_only(tmp_path: Path) -> None:
    out = tmp_path / "wf.json"
    code, output = run(
        tmp_path,
        "-s",
        "sma_cross",
        "--data",
        ETH_1H,
        "--start",
        "2023-01-01",
        "--end",
        "2023-07-01",
        "--trials",
        "6",
        "--walk-forward",
        "2",
        "--jobs",
        "1",
        "-o",
        "calmar",
        "--json",
        str(out),
    )
    assert code == 0, output
    assert "Out-of-sample folds" in output and "Out-of-sample totals" in output
    assert "best" not in output.lower()  # no in-sample figure is shown
    report = json.loads(out.read_text())
    assert report["mode"] == "walk_forward" and len(report["folds"]) == 2
    assert "in_sample_value" not in json.dumps(report)
    first, second = report["folds"]
    assert first["in_sample"][1] == first["out_of_sample"][0]
    assert first["out_of_sample"][1] == second["out_of_sample"][0]
    assert second["out_of_sample"][1] == "2023-07-01T00:00:00Z"
    assert report["oos_metrics"]["trades"] == sum(
        f["oos_metrics"]["trades"] for f in report["folds"]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("-s", "sma_cros"), "did you mean sma_cross"),
        (("-s", "sma_cross", "-o", "sharp"), "unknown objective 'sharp'"),
        (("-s", "sma_cross", "-p", "fats=3"), "did you mean 'fast'"),
        (("-s", "sma_cross", "--storage", "studies.txt"), "is not a storage"),
    ],
)
def test_bad_requests_fail_politely(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    code, output = run(tmp_path, *args, "--data", ETH_1H, *PERIOD, "--trials", "2")
    assert code == 2
    assert message in output


def test_the_console_script_optimises_on_two_processes(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "tradechat"
    out = tmp_path / "parallel.json"
    completed = subprocess.run(
        [
            str(script),
            "optimize",
            "-s",
            "ema_cross",
            "--data",
            ETH_1H,
            *PERIOD,
            "--trials",
            "16",
            "--jobs",
            "2",
            "--json",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"TRADECHAT_DATA__CACHE_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"},
    )
    assert completed.returncode == 0, completed.stderr
    assert "Traceback" not in completed.stderr
    report = json.loads(out.read_text())
    assert len(report["trials"]) == 16
    assert len({t["worker"] for t in report["trials"]}) == 2
