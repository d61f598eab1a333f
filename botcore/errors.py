"""The engine's exception tree: every error a user can cause has a class and a polite message."""

from __future__ import annotations

__all__ = [
    "BotcoreError",
    "ConfigError",
    "DataError",
    "DataNotFoundError",
    "OptimizeError",
    "ParamError",
    "StrategyError",
    "StrategyNotFoundError",
]


class BotcoreError(Exception):
    """Base of every error botcore raises on purpose; its message is fit to show a user."""


class ConfigError(BotcoreError):
    """A configuration value is missing or invalid; the message names the key."""


class DataError(BotcoreError):
    """Candle data is unreadable or unusable."""


class DataNotFoundError(DataError):
    """No candle data for the requested market and timeframe."""


class StrategyNotFoundError(BotcoreError):
    """No strategy by that name; the message suggests the closest names."""


class ParamError(BotcoreError):
    """A strategy or backtest parameter is unknown or out of range."""


class StrategyError(BotcoreError):
    """A strategy's own code raised; the message names the strategy and the hook."""


class OptimizeError(BotcoreError):
    """A parameter search cannot run or produced nothing: storage, study or worker trouble."""
