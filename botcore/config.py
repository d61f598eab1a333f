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
    "RUNTIME_RISK_RULES",
    "BacktestConfig",
    "ChatConfig",
    "DataConfig",
    "DatabaseConfig",
    "DiscordConfig",
    "ExchangeConfig",
    "LlmConfig",
    "MarketConfig",
    "MarketSymbol",
    "OptimizeConfig",
    "RiskConfig",
    "Settings",
    "StrategiesConfig",
    "TelegramConfig",
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


# The `[risk]` rules that may be changed while the engine runs (chat's `set_risk`).
RUNTIME_RISK_RULES = (
    "risk_per_trade_pct",
    "max_open_positions",
    "max_daily_loss_pct",
    "max_drawdown_pct",
    "stop_loss_pct",
    "take_profit_pct",
)


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


class TelegramConfig(_Section):
    """`[telegram]`: the Telegram bot; it starts with `tradechat run` when it has a token."""

    # The bot token from @BotFather; or env TRADECHAT_TELEGRAM_TOKEN (kept out of files).
    token: str | None = Field(None, repr=False)
    # Bot API root; python-telegram-bot appends the token (a local Bot API server, a proxy).
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    # Numeric Telegram user ids: members may read, admins may also trade, the owner may go live.
    allowed_users: tuple[int, ...] = ()
    admins: tuple[int, ...] = ()
    owner: int | None = None


class DiscordConfig(_Section):
    """`[discord]`: the Discord bot; it starts with `tradechat run` when it has a token."""

    # The bot token from the developer portal; or env TRADECHAT_DISCORD_TOKEN.
    token: str | None = Field(None, repr=False)
    # Guilds to register the slash commands in (instantly); empty: globally (slow to appear).
    guild_ids: tuple[int, ...] = ()
    # Channel ids whose plain messages go to the language parser (slash commands work anywhere).
    channels: tuple[int, ...] = ()
    # Role names: members may read, admins may also trade; the owner is a user id.
    allowed_roles: tuple[str, ...] = ()
    admin_roles: tuple[str, ...] = ()
    owner: int | None = None


class LlmConfig(_Section):
    """`[llm]`: an OpenAI-compatible model for plain language; unset, the offline parser runs."""

    # e.g. "http://127.0.0.1:11434/v1" (Ollama) or "https://api.openai.com/v1"
    base_url: str | None = None
    model: str | None = None
    # Name of the environment variable holding the API key (never the key itself).
    api_key_env: str = "TRADECHAT_LLM_API_KEY"
    timeout_s: float = Field(10.0, gt=0, le=120)
    # "tools" (function calling), "json_schema" (structured output), or "json_object" (the
    # schema-constrained JSON form llama-cpp-python's server accepts), whichever the server does.
    style: Literal["tools", "json_schema", "json_object"] = "tools"


class ChatConfig(_Section):
    """`[chat]`: the command router's policy, the same on every platform."""

    # Seconds a "Confirm?" button stays valid.
    confirm_ttl_s: float = Field(120.0, gt=0, le=3600)


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
    chat: ChatConfig = ChatConfig()
    telegram: TelegramConfig = TelegramConfig()
    discord: DiscordConfig = DiscordConfig()
    llm: LlmConfig = LlmConfig()

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
