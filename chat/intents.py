"""Typed intents: everything a user can ask the bot for, one frozen dataclass each.

Names and argument names are the contract shared by the parsers, the router, the adapters and
`tradechat parse` (issue 4). Optional arguments default to `None`, which means "not given": the
services pick their own defaults, and `Intent.args()` leaves them out. Money, amounts, prices and
fractions are `Decimal`; periods and counts are `int`; symbols are ccxt strings (`BTC/USDT`).
Values here are already validated: build intents through `chat.registry.validate`.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import ClassVar, Literal, get_args

__all__ = [
    "INTENT_TYPES",
    "RISK_PARAMS",
    "Alert",
    "Arbitrage",
    "Backtest",
    "Balance",
    "Buy",
    "Chart",
    "Close",
    "Condition",
    "Daily",
    "Equity",
    "Follow",
    "Help",
    "Intent",
    "Leaderboard",
    "Mode",
    "Optimize",
    "Performance",
    "Portfolio",
    "Positions",
    "Predict",
    "Profit",
    "Rebalance",
    "Risk",
    "RiskParam",
    "Scan",
    "Sell",
    "SetRisk",
    "SetStrategy",
    "ShareSignal",
    "Side",
    "Start",
    "Stats",
    "Status",
    "Stop",
    "Strategies",
    "Summary",
    "Trades",
    "TradingMode",
    "Unfollow",
    "Unknown",
    "Unwatch",
    "Watch",
    "Watchlist",
]

TradingMode = Literal["paper", "live"]
Condition = Literal["above", "below"]
Side = Literal["buy", "sell"]
RiskParam = Literal[
    "risk_per_trade_pct",
    "max_open_positions",
    "max_daily_loss_pct",
    "max_drawdown_pct",
    "stop_loss_pct",
    "take_profit_pct",
]
RISK_PARAMS: tuple[RiskParam, ...] = get_args(RiskParam)


@dataclass(frozen=True)
class Intent:
    """Base of every intent; `name` is the registry name (`profit`, `set_risk`...)."""

    name: ClassVar[str] = ""

    def args(self) -> dict[str, object]:
        """The arguments that were given, by name; `None` (not given) is left out."""
        values = ((f.name, getattr(self, f.name)) for f in fields(self))
        return {key: value for key, value in values if value is not None}


# Account ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status(Intent):
    """Is the bot running, in which mode, what it is doing."""

    name: ClassVar[str] = "status"


@dataclass(frozen=True)
class Balance(Intent):
    """Balances per asset and the total in the quote currency."""

    name: ClassVar[str] = "balance"


@dataclass(frozen=True)
class Positions(Intent):
    """Open positions, optionally of one symbol."""

    name: ClassVar[str] = "positions"
    symbol: str | None = None


@dataclass(frozen=True)
class Trades(Intent):
    """Recent closed trades, optionally of one symbol; `limit` is how many (newest first)."""

    name: ClassVar[str] = "trades"
    symbol: str | None = None
    limit: int | None = None


@dataclass(frozen=True)
class Profit(Intent):
    """Realised and unrealised profit over the last `period_days` (None: all time)."""

    name: ClassVar[str] = "profit"
    period_days: int | None = None
    symbol: str | None = None


@dataclass(frozen=True)
class Stats(Intent):
    """Win rate, profit factor, Sharpe, drawdown and friends."""

    name: ClassVar[str] = "stats"


@dataclass(frozen=True)
class Performance(Intent):
    """Profit by symbol and strategy over the last `period_days` (None: all time)."""

    name: ClassVar[str] = "performance"
    period_days: int | None = None


@dataclass(frozen=True)
class Daily(Intent):
    """Profit per day for the last `days` days."""

    name: ClassVar[str] = "daily"
    days: int | None = None


@dataclass(frozen=True)
class Equity(Intent):
    """The equity curve (an image) over the last `period_days` (None: all time)."""

    name: ClassVar[str] = "equity"
    period_days: int | None = None


# Market ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart(Intent):
    """Candles with indicators and the bot's entries and exits, as a PNG."""

    name: ClassVar[str] = "chart"
    symbol: str
    timeframe: str | None = None


@dataclass(frozen=True)
class Scan(Intent):
    """Rank the market by momentum, volume and breakouts; `limit` is how many rows."""

    name: ClassVar[str] = "scan"
    limit: int | None = None


@dataclass(frozen=True)
class Predict(Intent):
    """The model's view of where `symbol` is heading."""

    name: ClassVar[str] = "predict"
    symbol: str
    timeframe: str | None = None


@dataclass(frozen=True)
class Arbitrage(Intent):
    """Cross-exchange spreads that pay after costs, optionally for one symbol."""

    name: ClassVar[str] = "arbitrage"
    symbol: str | None = None


# Research --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backtest(Intent):
    """Backtest `strategy` on `symbol` over the last `period_days`."""

    name: ClassVar[str] = "backtest"
    strategy: str
    symbol: str
    timeframe: str | None = None
    period_days: int | None = None


@dataclass(frozen=True)
class Optimize(Intent):
    """Search `strategy`'s parameters on `symbol` with `trials` trials."""

    name: ClassVar[str] = "optimize"
    strategy: str
    symbol: str
    timeframe: str | None = None
    period_days: int | None = None
    trials: int | None = None


@dataclass(frozen=True)
class Strategies(Intent):
    """The strategies available, optionally ranked for one symbol."""

    name: ClassVar[str] = "strategies"
    symbol: str | None = None


# Trading (each needs confirmation) -------------------------------------------------------------


@dataclass(frozen=True)
class Buy(Intent):
    """Buy `amount` of the base, or spend `quote_amount` of the quote (at most one of them);
    `price` makes it a limit order."""

    name: ClassVar[str] = "buy"
    symbol: str
    amount: Decimal | None = None
    quote_amount: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class Sell(Intent):
    """Sell `amount` of the base, or `fraction` (0 < f <= 1) of the holding (at most one);
    `price` makes it a limit order; neither sells the whole position."""

    name: ClassVar[str] = "sell"
    symbol: str
    amount: Decimal | None = None
    fraction: Decimal | None = None
    price: Decimal | None = None


@dataclass(frozen=True)
class Close(Intent):
    """Close the position in `symbol`, or every position when `symbol` is `all`."""

    name: ClassVar[str] = "close"
    symbol: str


@dataclass(frozen=True)
class Rebalance(Intent):
    """Trade the portfolio back to its target weights."""

    name: ClassVar[str] = "rebalance"


@dataclass(frozen=True)
class SetStrategy(Intent):
    """Trade `symbol` (None: every symbol) with `strategy` from now on."""

    name: ClassVar[str] = "set_strategy"
    strategy: str
    symbol: str | None = None


@dataclass(frozen=True)
class Mode(Intent):
    """Switch between paper and live trading."""

    name: ClassVar[str] = "mode"
    mode: TradingMode


# Control ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start(Intent):
    """Resume opening new positions."""

    name: ClassVar[str] = "start"


@dataclass(frozen=True)
class Stop(Intent):
    """Pause new entries; open positions keep their exits."""

    name: ClassVar[str] = "stop"


@dataclass(frozen=True)
class Risk(Intent):
    """The risk rules in force."""

    name: ClassVar[str] = "risk"


@dataclass(frozen=True)
class SetRisk(Intent):
    """Change one risk rule; percentages are in percent (2 means 2 %)."""

    name: ClassVar[str] = "set_risk"
    param: RiskParam
    value: Decimal


@dataclass(frozen=True)
class Watchlist(Intent):
    """The symbols being watched."""

    name: ClassVar[str] = "watchlist"


@dataclass(frozen=True)
class Watch(Intent):
    """Add `symbol` to the watchlist."""

    name: ClassVar[str] = "watch"
    symbol: str


@dataclass(frozen=True)
class Unwatch(Intent):
    """Remove `symbol` from the watchlist."""

    name: ClassVar[str] = "unwatch"
    symbol: str


@dataclass(frozen=True)
class Alert(Intent):
    """Notify when `symbol` trades `condition` (above or below) `price`."""

    name: ClassVar[str] = "alert"
    symbol: str
    condition: Condition
    price: Decimal


@dataclass(frozen=True)
class Summary(Intent):
    """A short overview: mode, equity, profit, positions."""

    name: ClassVar[str] = "summary"


@dataclass(frozen=True)
class Portfolio(Intent):
    """Holdings and their weights."""

    name: ClassVar[str] = "portfolio"


@dataclass(frozen=True)
class Help(Intent):
    """The command list, or the help of one command (`topic` is a command name)."""

    name: ClassVar[str] = "help"
    topic: str | None = None


# Community -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaderboard(Intent):
    """The community's best traders over the last `period_days` (None: all time)."""

    name: ClassVar[str] = "leaderboard"
    period_days: int | None = None


@dataclass(frozen=True)
class ShareSignal(Intent):
    """Share a buy or sell signal on `symbol` with the community."""

    name: ClassVar[str] = "share_signal"
    symbol: str
    side: Side


@dataclass(frozen=True)
class Follow(Intent):
    """Follow another user's signals."""

    name: ClassVar[str] = "follow"
    user: str


@dataclass(frozen=True)
class Unfollow(Intent):
    """Stop following a user."""

    name: ClassVar[str] = "unfollow"
    user: str


@dataclass(frozen=True)
class Unknown(Intent):
    """Anything else: chit-chat, hostile text, requests the bot cannot serve."""

    name: ClassVar[str] = "unknown"


# Every intent class above, by registry name, in the order they are defined.
INTENT_TYPES: dict[str, type[Intent]] = {cls.name: cls for cls in Intent.__subclasses__()}
