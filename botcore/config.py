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
    "OptimizeConfig",
    "Settings",
    "StrategiesConfig",
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


class Settings(BaseSettings):
    """Every section; unknown keys are errors so a typo never passes silently."""

    model_config = SettingsConfigDict(
        env_prefix="TRADECHAT_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    data: DataConfig = DataConfig()
    backtest: BacktestConfig = BacktestConfig()
    strategies: StrategiesConfig = StrategiesConfig()
    optimize: OptimizeConfig = OptimizeConfig()

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
