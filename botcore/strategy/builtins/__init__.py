"""The strategies that ship with tradechat."""

from botcore.strategy.builtins.bollinger_breakout import BollingerBreakout
from botcore.strategy.builtins.ema_cross import EmaCross
from botcore.strategy.builtins.macd_trend import MacdTrend
from botcore.strategy.builtins.rsi_reversion import RsiReversion
from botcore.strategy.builtins.sma_cross import SmaCross

__all__ = ["BUILTINS", "BollingerBreakout", "EmaCross", "MacdTrend", "RsiReversion", "SmaCross"]

BUILTINS = (SmaCross, EmaCross, RsiReversion, BollingerBreakout, MacdTrend)
