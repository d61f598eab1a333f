"""Metrics: golden numbers on real candles, and each definition recomputed independently."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from botcore.backtest import BacktestSettings, run_backtest
from botcore.backtest.result import BacktestResult
from botcore.data.catalog import LoadedCandles
from botcore.strategy import get_strategy

# sma_cross(10, 30) and rsi_reversion defaults on Binance BTC/USDT 1h, 2023, cash 10,000, fee
# 0.1 %, slippage 0.05 %, all-in, next-open fills. A changed number must be explained in the commit.
GOLDEN = {
    "sma_cross": {
        "final_equity": 11342.379404,
        "total_return_pct": 13.423794,
        "cagr_pct": 13.43358,
        "buy_hold_return_pct": 155.804139,
        "max_drawdown_pct": 39.827783,
        "max_drawdown_duration_days": 288.958333,
        "sharpe": 0.528745,
        "sortino": 1.052872,
        "calmar": 0.337292,
        "sqn": 0.283745,
        "win_rate_pct": 24.858757,
        "profit_factor": 1.086139,
        "expectancy": 7.584064,
        "avg_trade_pct": 0.118856,
        "best_trade_pct": 21.098561,
        "worst_trade_pct": -4.337676,
        "trades": 177,
        "exposure_pct": 54.150017,
        "fees_paid": 4026.445409,
        "max_consecutive_losses": 16,
        "avg_trade_duration_hours": 25.80791,
    },
    "rsi_reversion": {
        "final_equity": 10782.994371,
        "total_return_pct": 7.829944,
        "max_drawdown_pct": 11.473487,
        "sharpe": 0.4501,
        "sortino": 0.63068,
        "calmar": 0.682923,
        "win_rate_pct": 64.102564,
        "profit_factor": 1.188889,
        "trades": 39,
        "exposure_pct": 37.355863,
        "fees_paid": 797.613925,
        "max_consecutive_losses": 2,
    },
}


@pytest.fixture(scope="module")
def results(btc_1h_2023: LoadedCandles) -> dict[str, BacktestResult]:
    return {
        name: run_backtest(get_strategy(name)(), [btc_1h_2023], BacktestSettings())
        for name in GOLDEN
    }


@pytest.mark.parametrize("strategy", sorted(GOLDEN))
def test_golden_metrics_on_real_candles(results: dict[str, BacktestResult], strategy: str) -> None:
    metrics = results[strategy].metrics.to_dict()
    for key, expected in GOLDEN[strategy].items():
        assert metrics[key] == pytest.approx(expected, rel=1e-6, abs=1e-6), key


def test_metric_definitions_recomputed_from_the_json(
    results: dict[str, BacktestResult], tmp_path: Path, btc_1h_2023: LoadedCandles
) -> None:
    result = results["sma_cross"]
    path = tmp_path / "out.json"
    result.write_json(path)
    data = json.loads(path.read_text())
    m = data["metrics"]
    equity = pd.Series(
        [v for _, v in data["equity"]],
        index=pd.to_datetime([t for t, _ in data["equity"]], unit="ms", utc=True),
    )
    trades = pd.DataFrame(data["trades"])
    assert set(trades.columns) >= {
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
    assert trades["entry_time"].iloc[0].endswith("Z")
    cash = m["initial_cash"]
    assert m["final_equity"] == pytest.approx(cash + trades["pnl"].sum(), rel=1e-9)
    assert m["total_return_pct"] == pytest.approx((equity.iloc[-1] / cash - 1) * 100)
    peak = pd.concat([pd.Series([cash]), equity.reset_index(drop=True)]).cummax().iloc[1:]
    assert m["max_drawdown_pct"] == pytest.approx(
        ((1 - equity.to_numpy() / peak.to_numpy()) * 100).max()
    )
    daily = pd.concat([pd.Series([cash]), equity.resample("1D").last().reset_index(drop=True)])
    r = daily.pct_change().dropna()
    assert m["sharpe"] == pytest.approx(r.mean() / r.std() * math.sqrt(365))
    assert m["sortino"] == pytest.approx(
        r.mean() / math.sqrt((np.minimum(r, 0) ** 2).mean()) * math.sqrt(365)
    )
    years = (equity.index[-1] - equity.index[0] + pd.Timedelta(hours=1)).days / 365.25
    assert m["cagr_pct"] == pytest.approx(((equity.iloc[-1] / cash) ** (1 / years) - 1) * 100)
    assert m["calmar"] == pytest.approx(m["cagr_pct"] / m["max_drawdown_pct"])
    pnl = trades["pnl"]
    assert m["win_rate_pct"] == pytest.approx((pnl > 0).mean() * 100)
    assert m["profit_factor"] == pytest.approx(pnl[pnl > 0].sum() / -pnl[pnl < 0].sum())
    assert m["expectancy"] == pytest.approx(pnl.mean())
    assert m["sqn"] == pytest.approx(math.sqrt(len(pnl)) * pnl.mean() / pnl.std())
    assert m["fees_paid"] == pytest.approx(trades["fee"].sum())
    assert m["best_trade_pct"] == pytest.approx(trades["pnl_pct"].max())
    hours = pd.to_datetime(trades["exit_time"]) - pd.to_datetime(trades["entry_time"])
    assert m["avg_trade_duration_hours"] == pytest.approx(hours.dt.total_seconds().mean() / 3600)
    closes = btc_1h_2023.frame["close"]
    assert m["buy_hold_return_pct"] == pytest.approx((closes.iloc[-1] / closes.iloc[0] - 1) * 100)
    losing = (pnl < 0).astype(int)
    runs = losing.groupby((losing != losing.shift()).cumsum()).sum()
    assert m["max_consecutive_losses"] == runs.max()


def test_no_trades_gives_null_ratios_and_valid_json(
    btc_1h_2023: LoadedCandles, tmp_path: Path
) -> None:
    from tests.botcore.backtest.scripted import scripted

    result = run_backtest(scripted([], []), [btc_1h_2023], BacktestSettings())
    m = result.metrics
    assert m.trades == 0 and m.final_equity == 10_000 and m.exposure_pct == 0
    assert m.profit_factor is None and m.win_rate_pct is None and m.sharpe is None
    result.write_json(tmp_path / "empty.json")
    assert json.loads((tmp_path / "empty.json").read_text())["trades"] == []
