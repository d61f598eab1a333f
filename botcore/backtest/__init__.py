"""The backtester: a compiled event loop over candles, metrics and results."""

from botcore.backtest.engine import BacktestSettings, run_backtest
from botcore.backtest.metrics import Metrics, compute_metrics
from botcore.backtest.result import TRADE_COLUMNS, BacktestResult
from botcore.data.market_rules import MarketRules

__all__ = [
    "TRADE_COLUMNS",
    "BacktestResult",
    "BacktestSettings",
    "MarketRules",
    "Metrics",
    "compute_metrics",
    "run_backtest",
]
