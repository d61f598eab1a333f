"""Strategies: the interface, typed parameters, the built-ins and the registry."""

from botcore.strategy.base import Signals, Stops, Strategy
from botcore.strategy.params import BoolParam, FloatParam, IntParam, Param
from botcore.strategy.registry import available_strategies, get_strategy

__all__ = [
    "BoolParam",
    "FloatParam",
    "IntParam",
    "Param",
    "Signals",
    "Stops",
    "Strategy",
    "available_strategies",
    "get_strategy",
]
