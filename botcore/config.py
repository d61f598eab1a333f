"""Typed, frozen configuration: a TOML file plus `TRADECHAT_*` environment overrides.

`load_settings(path)` is called once at start-up; each component receives only its own section.
Environment variables use `__` between levels: `TRADECHAT_BACKTEST__FEE=0.00075` overrides
`[backtest] fee`. An invalid value fails at start-up with a message that names the key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from botcore.errors import ConfigError

__all__ = [
    "BacktestConfig",
    "DataConfig",
    "DatabaseConfig",
    "ExchangeConfig",
    "MarketConfig",
    "MarketSymbol",
    "OptimizeConfig",
    "RiskConfig",
    "Settings",
    "StrategiesConfig",
    "TradingConfig",
    "load_settings",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataConfig(_Section):
    """`[data]`: where candles are cached and looked for."""

    cache_dir: Path = Path("user_data/data")
    dirs: tuple[Path, ...] = ()
    default_exchange: str = "binance"
    quote: str = "USDT"


class BacktestConfig(_Section):
    """`[backtest]`: defaults for `tradechat backtest` (each has a command-line flag)."""

    cash: float = Field(10_000.0, gt=0)
    fee: float = Field(0.001, ge=0, lt=0.1)
    slippage: float = Field(0.0005, ge=0, lt=0.1)
    stake_pct: float | None = Field(None, gt=0, le=100)
    max_open_positions: int = Field(1, ge=1)
    fill: Literal["next_open", "close"] = "next_open"


class StrategiesConfig(_Section):
    """`[strategies]`: the folder of the user's own strategy files."""

    folder: Path = Path("user_data/strategies")


class OptimizeConfig(_Section):
    """`[optimize]`: Optuna study storage and parallelism."""

    storage: str | None = None
    jobs: int = Field(0, ge=0)
    trials: int = Field(100, ge=1)
    objective: Literal["sharpe", "calmar", "sortino", "profit"] = "sharpe"


class DatabaseConfig(_Section):
    """`[database]`: where orders, fills, balances and history are stored (SQLAlchemy URL)."""

    url: str = "sqlite:///user_data/tradechat.db"


class MarketSymbol(_Section):
    """One `[[market.symbols]]` entry: a market the engine trades, with its strategy."""

    symbol: str
    timeframe: str = "1h"
    strategy: str = "sma_cross"
    params: dict[str, float | int | bool | str] = Field(default_factory=dict)
    exchange: str | None = None


class MarketConfig(_Section):
    """`[market]`: where candles come from while the engine runs."""

    source: Literal["replay", "exchange"] = "replay"
    # Replay speed: seconds of market time per second of wall time (600 = 10 minutes a second).
    speed: float = Field(600.0, gt=0)
    # Replay data folder searched before the cache and the bundled candles.
    data_dir: Path | None = None
    # Replay from this date (UTC, YYYY-MM-DD); unset: the start of the data.
    start: str | None = None
    # False: the run ends when the replay data ends (reproducible); true: it stays up until stopped.
    loop: bool = False
    symbols: tuple[MarketSymbol, ...] = (
        MarketSymbol(symbol="BTC/USDT", timeframe="1h", strategy="ema_cross"),
    )


class TradingConfig(_Section):
    """`[trading]`: paper (default) or live, and the paper wallet."""

    mode: Literal["paper", "live"] = "paper"
    # Live trading needs this too: a second, deliberate switch.
    allow_live: bool = False
    starting_balance: float = Field(10_000.0, gt=0)
    quote: str = "USDT"
    fee: float = Field(0.001, ge=0, lt=0.1)
    slippage: float = Field(0.0005, ge=0, lt=0.1)
    # Percent of equity per new position.
    stake_pct: float = Field(25.0, gt=0, le=100)


class RiskConfig(_Section):
    """`[risk]`: rules checked before every order; a refusal names its rule."""

    risk_per_trade_pct: float = Field(1.0, gt=0, le=100)
    max_position_pct: float = Field(50.0, gt=0, le=100)
    max_open_positions: int = Field(3, ge=1)
    max_exposure_per_asset_pct: float = Field(50.0, gt=0, le=100)
    max_daily_loss_pct: float = Field(5.0, gt=0, le=100)
    max_drawdown_pct: float = Field(20.0, gt=0, le=100)
    cooldown_after_stop_losses: int = Field(3, ge=1)
    cooldown_minutes: int = Field(240, ge=0)
    stop_loss_pct: float | None = Field(None, gt=0, lt=100)
    take_profit_pct: float | None = Field(None, gt=0)


class ExchangeConfig(_Section):
    """One `[[exchanges]]` entry: a ccxt exchange and the keystore entry holding its keys."""

    name: str
    sandbox: bool = False
    key_name: str | None = None


class Settings(BaseSettings):
    """Every section; unknown keys are errors so a typo never passes silently."""

    model_config = SettingsConfigDict(
        env_prefix="TRADECHAT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data: DataConfig = DataConfig()
    backtest: BacktestConfig = BacktestConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    optimize: OptimizeConfig = OptimizeConfig()
    database: DatabaseConfig = DatabaseConfig()
    market: MarketConfig = MarketConfig()
    trading: TradingConfig = TradingConfig()
    risk: RiskConfig = RiskConfig()
    exchanges: tuple[ExchangeConfig, ...] = ()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file arrives as init arguments; the environment must win over it.
        return (env_settings, init_settings)


def _key_of(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"])


def load_settings(path: Path | None = None) -> Settings:
    """Settings from `path` (or `$TRADECHAT_CONFIG`, or defaults) with environment overrides.

    Raises:
        ConfigError: the file is missing or unreadable, or a value is invalid (the key is named).
    """
    if path is None and os.environ.get("TRADECHAT_CONFIG"):
        path = Path(os.environ["TRADECHAT_CONFIG"])
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            raw = tomllib.loads(path.read_text())
        except FileNotFoundError:
            raise ConfigError(f"config file {path} does not exist") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    try:
        return Settings(**raw)
    except ValidationError as exc:
        problems = "; ".join(f"{_key_of(e)}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid configuration: {problems}") from None
