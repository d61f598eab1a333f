"""Backtest metrics as pure functions: trades and equity in, a frozen `Metrics` out.

Definitions (percentages are in percent; a metric that cannot be computed is None, `null` in JSON):

- total_return_pct = (final_equity / initial_cash - 1) * 100
- cagr_pct = ((final_equity / initial_cash) ** (1 / years) - 1) * 100, years = (end - start + one
  bar) / 365.25 days
- buy_hold_return_pct = mean over symbols of (last close / first close of the window - 1) * 100
- max_drawdown_pct = max over bars of (1 - equity / running peak) * 100, the initial cash
  counting as the first peak
- max_drawdown_duration_days = longest time from a peak to the bar that regains it (or to the end
  if never regained)
- daily returns r: equity sampled at the last bar of each UTC day, the initial cash before the first
- sharpe = mean(r) / std(r, ddof=1) * sqrt(365) (crypto trades every day; risk-free rate 0)
- sortino = mean(r) / sqrt(mean(min(r, 0) ** 2)) * sqrt(365)
- calmar = cagr_pct / max_drawdown_pct
- sqn = sqrt(trades) * mean(pnl) / std(pnl, ddof=1) (Van Tharp's system quality number on pnl)
- win_rate_pct = trades with pnl > 0 / trades * 100
- profit_factor = sum of winning pnl / -sum of losing pnl (None without a losing trade)
- expectancy = mean pnl per trade, in quote currency
- avg_trade_pct, best_trade_pct, worst_trade_pct: mean, max, min of trade pnl_pct, where
  pnl_pct = pnl / (entry cost + entry fee) * 100
- exposure_pct = bars in which a position was open at some time / bars * 100
- fees_paid = sum of entry and exit fees
- max_consecutive_losses = longest run of trades with pnl < 0
- avg_trade_duration_hours = mean of exit_time - entry_time
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from botcore.timeframes import MS_PER_DAY, to_iso

__all__ = ["Metrics", "compute_metrics", "daily_returns", "drawdown_pct"]

FloatArray = npt.NDArray[np.float64]
_DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Metrics:
    """Summary of one backtest; see the module docstring for each definition."""

    start: str
    end: str
    initial_cash: float
    final_equity: float
    total_return_pct: float
    cagr_pct: float | None
    buy_hold_return_pct: float | None
    max_drawdown_pct: float
    max_drawdown_duration_days: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    sqn: float | None
    win_rate_pct: float | None
    profit_factor: float | None
    expectancy: float | None
    avg_trade_pct: float | None
    best_trade_pct: float | None
    worst_trade_pct: float | None
    trades: int
    exposure_pct: float
    fees_paid: float
    max_consecutive_losses: int
    max_consecutive_wins: int
    avg_trade_duration_hours: float | None
    rejected_entries: int

    def to_dict(self) -> dict[str, Any]:
        """Plain dict; NaN and infinities become None so the result is valid JSON."""
        return {k: _finite_or_none(v) for k, v in asdict(self).items()}


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def drawdown_pct(equity: FloatArray, initial_cash: float) -> FloatArray:
    """Drawdown from the running peak at each bar, in percent (0 at a new high)."""
    peak = np.maximum(np.maximum.accumulate(equity), initial_cash)
    return (1.0 - equity / peak) * 100.0


def daily_returns(
    timestamps_ms: npt.NDArray[np.int64], equity: FloatArray, initial_cash: float
) -> FloatArray:
    """Simple returns between UTC day ends, starting from the initial cash."""
    days = timestamps_ms // MS_PER_DAY
    last_of_day = np.flatnonzero(np.diff(days, append=days[-1] + 1) != 0)
    closes = np.concatenate(([initial_cash], equity[last_of_day]))
    return np.diff(closes) / closes[:-1]


def _max_drawdown_duration_days(
    timestamps_ms: npt.NDArray[np.int64], equity: FloatArray, initial_cash: float, step_ms: int
) -> float:
    peak = np.maximum(np.maximum.accumulate(equity), initial_cash)
    at_high = np.flatnonzero(equity >= peak)
    # the initial cash is the first high, at the first bar's time
    highs = np.concatenate((timestamps_ms[:1], timestamps_ms[at_high]))
    spans = np.diff(highs)
    longest = float(spans.max()) if len(spans) else 0.0
    if len(at_high) == 0 or at_high[-1] != len(equity) - 1:
        longest = max(longest, float(timestamps_ms[-1] - highs[-1]))
    # consecutive highs one bar apart are no drawdown
    return 0.0 if longest <= step_ms else longest / MS_PER_DAY


def _longest_run(flags: npt.NDArray[np.bool_]) -> int:
    best = run = 0
    for flag in flags:
        run = run + 1 if flag else 0
        best = max(best, run)
    return best


def _ratio(num: float, den: float) -> float | None:
    return num / den if den > 0 and math.isfinite(num) else None


def _trade_metrics(trades: pd.DataFrame) -> dict[str, Any]:
    pnl = trades["pnl"].to_numpy(dtype=np.float64)
    pct = trades["pnl_pct"].to_numpy(dtype=np.float64)
    n = len(pnl)
    if n == 0:
        return {
            "sqn": None,
            "win_rate_pct": None,
            "profit_factor": None,
            "expectancy": None,
            "avg_trade_pct": None,
            "best_trade_pct": None,
            "worst_trade_pct": None,
            "max_consecutive_losses": 0,
            "max_consecutive_wins": 0,
            "avg_trade_duration_hours": None,
        }
    gains, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    std = pnl.std(ddof=1) if n > 1 else 0.0
    durations = (trades["exit_time"] - trades["entry_time"]).to_numpy(dtype=np.float64)
    return {
        "sqn": float(math.sqrt(n) * pnl.mean() / std) if std > 0 else None,
        "win_rate_pct": float((pnl > 0).mean() * 100.0),
        "profit_factor": _ratio(float(gains), float(losses)),
        "expectancy": float(pnl.mean()),
        "avg_trade_pct": float(pct.mean()),
        "best_trade_pct": float(pct.max()),
        "worst_trade_pct": float(pct.min()),
        "max_consecutive_losses": _longest_run(pnl < 0),
        "max_consecutive_wins": _longest_run(pnl > 0),
        "avg_trade_duration_hours": float(durations.mean() / 3_600_000.0),
    }


def compute_metrics(
    timestamps_ms: npt.NDArray[np.int64],
    equity: FloatArray,
    trades: pd.DataFrame,
    initial_cash: float,
    timeframe_ms: int,
    buy_hold_return_pct: float | None,
    exposure_pct: float,
    rejected_entries: int = 0,
) -> Metrics:
    """All metrics of one backtest window (bars stamped with their open time)."""
    final = float(equity[-1])
    years = (
        (int(timestamps_ms[-1]) - int(timestamps_ms[0]) + timeframe_ms)
        / MS_PER_DAY
        / _DAYS_PER_YEAR
    )
    growth = final / initial_cash
    cagr = (growth ** (1.0 / years) - 1.0) * 100.0 if years > 0 and growth > 0 else None
    max_dd = float(drawdown_pct(equity, initial_cash).max())
    r = daily_returns(timestamps_ms, equity, initial_cash)
    sharpe = sortino = None
    if len(r) > 1:
        sd = float(r.std(ddof=1))
        sharpe = float(r.mean() / sd * math.sqrt(365)) if sd > 0 else None
        downside = math.sqrt(float(np.mean(np.minimum(r, 0.0) ** 2)))
        sortino = float(r.mean() / downside * math.sqrt(365)) if downside > 0 else None
    return Metrics(
        start=to_iso(int(timestamps_ms[0])),
        end=to_iso(int(timestamps_ms[-1])),
        initial_cash=initial_cash,
        final_equity=final,
        total_return_pct=(growth - 1.0) * 100.0,
        cagr_pct=cagr,
        buy_hold_return_pct=buy_hold_return_pct,
        max_drawdown_pct=max_dd,
        max_drawdown_duration_days=_max_drawdown_duration_days(
            timestamps_ms, equity, initial_cash, timeframe_ms
        ),
        sharpe=sharpe,
        sortino=sortino,
        calmar=cagr / max_dd if cagr is not None and max_dd > 0 else None,
        trades=len(trades),
        exposure_pct=exposure_pct,
        fees_paid=float(trades["fee"].sum()) if len(trades) else 0.0,
        rejected_entries=rejected_entries,
        **_trade_metrics(trades),
    )
