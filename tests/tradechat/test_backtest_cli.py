"""The command line as a user meets it: backtest, strategies, lookahead, errors, --config."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.botcore.strategy.test_strategies import USER_STRATEGY
from tradechat.cli import app

runner = CliRunner()
BTC_1H = "binance_BTC-USDT_1h.csv.gz"
METRIC_KEYS = {
    "start",
    "end",
    "initial_cash",
    "final_equity",
    "total_return_pct",
    "cagr_pct",
    "buy_hold_return_pct",
    "max_drawdown_pct",
    "max_drawdown_duration_days",
    "sharpe",
    "sortino",
    "calmar",
    "sqn",
    "win_rate_pct",
    "profit_factor",
    "expectancy",
    "avg_trade_pct",
    "best_trade_pct",
    "worst_trade_pct",
    "trades",
    "exposure_pct",
    "fees_paid",
    "max_consecutive_losses",
    "avg_trade_duration_hours",
}


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=env)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_backtest_from_a_file_infers_the_market_and_writes_json(
    shared_data: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.json"
    code, text = run(
        "backtest",
        "--strategy",
        "sma_cross",
        "--param",
        "fast=20",
        "--param",
        "slow=60",
        "--data",
        str(shared_data / BTC_1H),
        "--start",
        "2023-01-01",
        "--end",
        "2023-07-01",
        "--cash",
        "5000",
        "--fee",
        "0.00075",
        "--slippage",
        "0.0002",
        "--stake-pct",
        "50",
        "--stop-loss",
        "3",
        "--json",
        str(out),
    )
    assert code == 0, text
    assert "sma_cross(fast=20, slow=60) on BTC/USDT 1h (binance)" in text
    assert "stop 3 %" in text
    data = json.loads(out.read_text())
    assert set(data["metrics"]) >= METRIC_KEYS
    assert data["metrics"]["start"] == "2023-01-01T00:00:00Z"
    assert data["metrics"]["initial_cash"] == 5000
    assert data["settings"]["fee"] == 0.00075 and data["settings"]["stake_pct"] == 50
    assert data["trades"] and set(data["trades"][0]) == {
        "symbol",
        "side",
        "entry_time",
        "exit_time",
        "entry_price",
        "exit_price",
        "amount",
        "fee",
        "pnl",
        "pnl_pct",
        "exit_reason",
    }
    assert {t["exit_reason"] for t in data["trades"]} >= {"stop_loss", "exit_signal"}
    assert data["equity"][0][0] == 1672531200000
    assert all(t["entry_time"] >= "2023-01-01" for t in data["trades"])


def test_backtest_by_symbol_on_the_bundled_data_with_comparison() -> None:
    code, text = run(
        "backtest",
        "-s",
        "ema_cross",
        "--symbol",
        "eth",
        "-t",
        "15m",
        "--start",
        "2024-01-01",
        "--compare",
        "sma_cross,rsi_reversion",
    )
    assert code == 0, text
    assert "ETH/USDT 15m" in text
    assert "Comparison" in text and "rsi_reversion" in text and "buy & hold" in text


def test_multi_symbol_backtest_reports_by_pair(tmp_path: Path) -> None:
    out = tmp_path / "multi.json"
    code, text = run(
        "backtest",
        "-s",
        "sma_cross",
        "--symbol",
        "BTC/USDT,ETH/USDT",
        "-t",
        "1h",
        "--start",
        "2023-06-01",
        "--end",
        "2023-09-01",
        "--max-open",
        "2",
        "--json",
        str(out),
    )
    assert code == 0, text
    assert "By pair" in text
    assert {t["symbol"] for t in json.loads(out.read_text())["trades"]} == {"BTC/USDT", "ETH/USDT"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "sma_crss", "--symbol", "BTC/USDT", "-t", "1h"], "did you mean sma_cross"),
        (["-s", "sma_cross", "-p", "fast=1", "--symbol", "BTC/USDT", "-t", "1h"], "at least 2"),
        (["-s", "sma_cross", "-p", "fast", "--symbol", "BTC/USDT", "-t", "1h"], "key=value"),
        (["-s", "sma_cross", "--symbol", "PEPE/USDT", "-t", "1h"], "no PEPE/USDT 1h candles"),
        (["-s", "sma_cross", "--symbol", "BTC/USDT", "-t", "7x"], "not a timeframe"),
        (
            ["-s", "sma_cross", "--symbol", "BTC/USDT", "-t", "1h", "--start", "yesterday"],
            "not a date",
        ),
        (["-s", "sma_cross", "--data", "/nope/binance_BTC-USDT_1h.csv.gz"], "does not exist"),
        (["-s", "sma_cross", "--symbol", "BTC/USDT", "-t", "1h", "--fee", "0.5"], "fee"),
        (["-s", "sma_cross"], "--data FILE, or --symbol and --timeframe"),
        (
            ["-s", "sma_cross", "--symbol", "BTC/USDT", "-t", "1h", "--start", "2030-01-01"],
            "no BTC/USDT",
        ),
    ],
)
def test_bad_input_gets_a_polite_error_and_exit_code_2(args: list[str], message: str) -> None:
    code, text = run("backtest", *args)
    assert code == 2
    assert "error:" in text and message in text


def test_invalid_config_fails_at_start_up_with_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("[backtest]\nslippage = -1\n")
    code, text = run("--config", str(config), "strategies")
    assert code == 2 and "backtest.slippage" in text


def test_strategies_lists_builtins_and_user_files(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    folder.mkdir()
    (folder / "mine.py").write_text(USER_STRATEGY)
    code, text = run("strategies", env={"TRADECHAT_STRATEGIES__FOLDER": str(folder)})
    assert code == 0
    for name in (
        "sma_cross",
        "ema_cross",
        "rsi_reversion",
        "bollinger_breakout",
        "macd_trend",
        "my_ema",
    ):
        assert name in text
    assert "fast=10" in text


LEAKY = """
from botcore.strategy.builtins.sma_cross import SmaCross


class Peek(SmaCross):
    name = "peek"

    def entries(self, frame):
        return (frame["close"].shift(-2) > frame["close"]).to_numpy()
"""


def test_lookahead_command_passes_builtins_and_fails_a_leaky_strategy(tmp_path: Path) -> None:
    code, text = run(
        "lookahead",
        "-s",
        "macd_trend",
        "--symbol",
        "BTC/USDT",
        "-t",
        "1h",
        "--start",
        "2023-01-01",
        "--cuts",
        "10",
    )
    assert code == 0 and "no look-ahead" in text
    (tmp_path / "peek.py").write_text(LEAKY)
    code, text = run(
        "lookahead",
        "-s",
        "peek",
        "--symbol",
        "BTC/USDT",
        "-t",
        "1h",
        "--start",
        "2023-01-01",
        "--cuts",
        "10",
        env={"TRADECHAT_STRATEGIES__FOLDER": str(tmp_path)},
    )
    assert code == 1 and "look-ahead bias" in text and "entries" in text


def test_the_console_script_starts_and_every_command_has_help() -> None:
    exe = Path(sys.executable).with_name("tradechat")
    for command in (
        [],
        ["backtest"],
        ["data"],
        ["strategies"],
        ["lookahead"],
        ["demo"],
        ["optimize"],
    ):
        done = subprocess.run(
            [str(exe), *command, "--help"], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        assert "Usage" in done.stdout
