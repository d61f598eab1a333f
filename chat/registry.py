"""The command registry: one entry per intent, the single source every surface is generated from.

An entry gives the name, slash aliases, arguments (kind, required, choices, help: enough for
Discord slash options and Telegram command help), help text, category, the minimum role and
whether the router must ask for confirmation; `json_schema()`/`tool_schema()` give the LLM its
function-calling schema. `validate(name, args)` turns loose values (slash text, LLM JSON) into a
typed intent or raises an `IntentError` whose message can be shown to the user as it is.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from chat import intents as i
from chat.parse.normalize import TIMEFRAMES, NormalizeError
from chat.parse.values import ArgKind, UnitError, convert

__all__ = [
    "COMMANDS",
    "ROLES",
    "ArgKind",
    "ArgProblem",
    "ArgSpec",
    "ArgumentError",
    "Category",
    "CommandSpec",
    "IntentError",
    "Role",
    "UnknownCommandError",
    "lookup",
    "required_role",
    "role_allows",
    "suggest",
    "tool_schemas",
    "validate",
]

Role = Literal["member", "admin", "owner"]
ROLES: tuple[Role, ...] = ("member", "admin", "owner")
Category = Literal["account", "market", "research", "trading", "control", "community", "other"]


_LABELS: dict[str, str] = {
    "symbol": "a symbol",
    "symbol_or_all": "a symbol (or all)",
    "timeframe": "a timeframe",
    "period": "a number of days",
    "count": "a number",
    "amount": "an amount",
    "money": "a sum of money",
    "price": "a price",
    "fraction": "a fraction",
    "value": "a value",
    "choice": "a choice",
    "strategy": "a strategy name",
    "user": "a user name",
    "topic": "a command name",
}


class IntentError(ValueError):
    """An intent or its arguments are not acceptable; the message is a polite sentence."""


class UnknownCommandError(IntentError):
    """No command by that name; `suggestions` are the closest names and aliases."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        hint = f" Did you mean /{suggestions[0]}?" if suggestions else " Send /help for the list."
        super().__init__(f"I don't know the command '{name}'.{hint}")
        self.name = name
        self.suggestions = suggestions


# "mismatch": a value of the wrong sort for the argument (a percentage where an amount goes)
ArgProblem = Literal["missing", "unknown", "invalid", "conflict", "mismatch"]


class ArgumentError(IntentError):
    """An argument is missing, unknown, invalid or conflicts with another; `command`, `arg`
    and `problem` say which."""

    def __init__(
        self, command: str, message: str, arg: str | None = None, problem: ArgProblem = "invalid"
    ) -> None:
        super().__init__(message)
        self.command = command
        self.arg = arg
        self.problem = problem


@dataclass(frozen=True)
class ArgSpec:
    """One argument of a command."""

    name: str
    kind: ArgKind
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """What the argument is, for messages: "a symbol", "paper or live"."""
        if self.choices:
            if len(self.choices) <= 3:
                return " or ".join(self.choices)
            return "one of " + ", ".join(self.choices)
        return _LABELS[self.kind]

    def json_schema(self) -> dict[str, object]:
        """JSON schema of the value, for LLM tool calling."""
        schema: dict[str, object] = {"description": self.help}
        if self.kind in ("period", "count"):
            schema.update(type="integer", minimum=1)
        elif self.kind == "fraction":
            schema.update(type="number", exclusiveMinimum=0, maximum=1)
        elif self.kind in ("amount", "money", "price", "value"):
            schema.update(type="number", exclusiveMinimum=0)
        elif self.kind == "timeframe":
            schema.update(type="string", enum=list(TIMEFRAMES))
        elif self.choices:
            schema.update(type="string", enum=list(self.choices))
        else:
            schema["type"] = "string"
        return schema


@dataclass(frozen=True)
class CommandSpec:
    """One command: what it is called, what it takes and who may use it.

    `about` completes "Did you mean ...?" (e.g. "your profit"); `exclusive` names two arguments
    of which at most one may be given.
    """

    name: str
    intent_type: type[i.Intent]
    help: str
    category: Category
    about: str
    example: str
    args: tuple[ArgSpec, ...] = ()
    aliases: tuple[str, ...] = ()
    min_role: Role = "member"
    needs_confirmation: bool = False
    exclusive: tuple[str, str] | None = None

    def arg(self, name: str) -> ArgSpec | None:
        """The argument called `name`, if the command has one."""
        return next((a for a in self.args if a.name == name), None)

    @property
    def usage(self) -> str:
        """`/chart SYMBOL [TIMEFRAME]`: required arguments bare, optional ones in brackets."""
        parts = [a.name.upper() if a.required else f"[{a.name.upper()}]" for a in self.args]
        return " ".join([f"/{self.name}", *parts])

    def json_schema(self) -> dict[str, object]:
        """JSON schema of the arguments object."""
        return {
            "type": "object",
            "properties": {a.name: a.json_schema() for a in self.args},
            "required": [a.name for a in self.args if a.required],
            "additionalProperties": False,
        }

    def tool_schema(self) -> dict[str, object]:
        """The command as an OpenAI-style function tool."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.help,
                "parameters": self.json_schema(),
            },
        }


def _a(name: str, kind: ArgKind, help: str, required: bool = False, *choices: str) -> ArgSpec:
    return ArgSpec(name, kind, help, required, tuple(choices))


_SYMBOL = _a("symbol", "symbol", "Market, e.g. BTC/USDT or just BTC", True)
_SYMBOL_OPT = _a("symbol", "symbol", "Only this market, e.g. ETH/USDT")
_TIMEFRAME = _a("timeframe", "timeframe", "Candle size: 1m, 5m, 15m, 1h, 4h, 1d")
_PERIOD = _a("period_days", "period", "Look back this many days (default: all time)")
_STRATEGY = _a("strategy", "strategy", "Strategy name, e.g. ema_cross", True)
_PRICE = _a("price", "price", "Limit price (default: a market order)")
_USER = _a("user", "user", "User name, e.g. alice", True)

_ADMIN: Role = "admin"
COMMANDS: dict[str, CommandSpec] = {
    spec.name: spec
    for spec in (
        # Account
        CommandSpec("status", i.Status, "Is the bot running, and in which mode", "account",
                    "the bot's status", "/status", aliases=("state",)),
        CommandSpec("balance", i.Balance, "Balances per asset and in total", "account",
                    "your balance", "/balance", aliases=("bal", "wallet")),
        CommandSpec("positions", i.Positions, "Open positions", "account", "your open positions",
                    "/positions ETH/USDT", (_SYMBOL_OPT,), aliases=("pos", "open")),
        CommandSpec("trades", i.Trades, "Recent closed trades", "account", "your trade history",
                    "/trades BTC/USDT 10",
                    (_SYMBOL_OPT, _a("limit", "count", "How many trades, newest first")),
                    aliases=("history",)),
        CommandSpec("profit", i.Profit, "Profit and loss over a period", "account", "your profit",
                    "/profit 7", (_PERIOD, _SYMBOL_OPT), aliases=("pnl", "gains")),
        CommandSpec("stats", i.Stats, "Win rate, profit factor, Sharpe, drawdown", "account",
                    "your trading statistics", "/stats", aliases=("statistics",)),
        CommandSpec("performance", i.Performance, "Profit by symbol and by strategy", "account",
                    "performance by symbol and strategy", "/performance 30", (_PERIOD,),
                    aliases=("perf",)),
        CommandSpec("daily", i.Daily, "Profit per day", "account", "your daily profit",
                    "/daily 7", (_a("days", "period", "How many days"),), aliases=("day",)),
        CommandSpec("equity", i.Equity, "The equity curve as an image", "account",
                    "your equity curve", "/equity 30", (_PERIOD,), aliases=("curve",)),
        # Market
        CommandSpec("chart", i.Chart, "Candles with indicators and the bot's trades", "market",
                    "a price chart", "/chart ETH/USDT 4h", (_SYMBOL, _TIMEFRAME),
                    aliases=("candles", "graph")),
        CommandSpec("scan", i.Scan, "Rank the market by momentum, volume and breakouts",
                    "market", "a market scan", "/scan 10",
                    (_a("limit", "count", "How many symbols to show"),), aliases=("movers",)),
        CommandSpec("predict", i.Predict, "The model's view of where a market is heading",
                    "market", "a price prediction", "/predict BTC/USDT 1h",
                    (_SYMBOL, _TIMEFRAME), aliases=("forecast",)),
        CommandSpec("arbitrage", i.Arbitrage, "Cross-exchange spreads that pay after costs",
                    "market", "arbitrage opportunities", "/arbitrage BTC/USDT", (_SYMBOL_OPT,),
                    aliases=("arb",)),
        # Research
        CommandSpec("backtest", i.Backtest, "Backtest a strategy: report and equity image",
                    "research", "a backtest", "/backtest ema_cross BTC/USDT 1h 30",
                    (_STRATEGY, _SYMBOL, _TIMEFRAME, _PERIOD), aliases=("bt",)),
        CommandSpec("optimize", i.Optimize, "Search a strategy's best parameters", "research",
                    "a parameter optimisation", "/optimize ema_cross BTC/USDT 1h 90 100",
                    (_STRATEGY, _SYMBOL, _TIMEFRAME, _PERIOD,
                     _a("trials", "count", "How many parameter sets to try")),
                    aliases=("opt", "hyperopt", "optimise")),
        CommandSpec("strategies", i.Strategies, "The strategies available", "research",
                    "the list of strategies", "/strategies", (_SYMBOL_OPT,), aliases=("strats",)),
        # Trading
        CommandSpec("buy", i.Buy, "Buy (a limit order when a price is given)", "trading",
                    "a buy order", "/buy BTC/USDT 0.01",
                    (_SYMBOL, _a("amount", "amount", "Quantity of the base asset, e.g. 0.01"),
                     _a("quote_amount", "money", "Or: how much quote currency to spend"), _PRICE),
                    min_role=_ADMIN, needs_confirmation=True, exclusive=("amount", "quote_amount")),
        CommandSpec("sell", i.Sell, "Sell (a limit order when a price is given)", "trading",
                    "a sell order", "/sell ETH/USDT 0.5",
                    (_SYMBOL, _a("amount", "amount", "Quantity of the base asset"),
                     _a("fraction", "fraction", "Or: share of the holding, 0.5 or 50%"), _PRICE),
                    min_role=_ADMIN, needs_confirmation=True, exclusive=("amount", "fraction")),
        CommandSpec("close", i.Close, "Close a position, or all of them", "trading",
                    "closing a position", "/close ETH/USDT",
                    (_a("symbol", "symbol_or_all", "Market to close, or all", True),),
                    aliases=("exit", "flat"), min_role=_ADMIN, needs_confirmation=True),
        CommandSpec("rebalance", i.Rebalance, "Trade back to the target weights", "trading",
                    "a rebalance", "/rebalance", aliases=("rebal",), min_role=_ADMIN,
                    needs_confirmation=True),
        CommandSpec("set_strategy", i.SetStrategy, "Trade with another strategy", "trading",
                    "changing the strategy", "/set_strategy ema_cross BTC/USDT",
                    (_STRATEGY, _a("symbol", "symbol", "Only this market (default: all)")),
                    aliases=("setstrategy", "use"), min_role=_ADMIN, needs_confirmation=True),
        CommandSpec("mode", i.Mode, "Switch between paper and live trading", "trading",
                    "switching paper/live mode", "/mode paper",
                    (_a("mode", "choice", "paper or live", True, "paper", "live"),),
                    min_role=_ADMIN, needs_confirmation=True),
        # Control
        CommandSpec("start", i.Start, "Resume opening new positions", "control",
                    "starting the bot", "/start", aliases=("resume",), min_role=_ADMIN),
        CommandSpec("stop", i.Stop, "Pause new entries (exits keep working)", "control",
                    "pausing the bot", "/stop", aliases=("pause",), min_role=_ADMIN),
        CommandSpec("risk", i.Risk, "The risk rules in force", "control", "your risk settings",
                    "/risk", aliases=("limits",)),
        CommandSpec("set_risk", i.SetRisk, "Change one risk rule", "control",
                    "changing a risk setting", "/set_risk stop_loss_pct 2",
                    (_a("param", "choice", "Which rule", True, *i.RISK_PARAMS),
                     _a("value", "value", "New value (percent for the *_pct rules)", True)),
                    aliases=("setrisk",), min_role=_ADMIN, needs_confirmation=True),
        CommandSpec("watchlist", i.Watchlist, "The symbols you watch", "control",
                    "your watchlist", "/watchlist", aliases=("wl",)),
        CommandSpec("watch", i.Watch, "Add a symbol to the watchlist", "control",
                    "watching a symbol", "/watch SOL/USDT", (_SYMBOL,)),
        CommandSpec("unwatch", i.Unwatch, "Remove a symbol from the watchlist", "control",
                    "unwatching a symbol", "/unwatch SOL/USDT", (_SYMBOL,)),
        CommandSpec("alert", i.Alert, "Price alert above or below a level", "control",
                    "a price alert", "/alert BTC/USDT above 70000",
                    (_SYMBOL, _a("condition", "choice", "above or below", True, "above", "below"),
                     _a("price", "price", "Price level in the quote currency", True)),
                    aliases=("alarm",)),
        CommandSpec("summary", i.Summary, "A short overview of everything", "control",
                    "a summary", "/summary", aliases=("report", "recap")),
        CommandSpec("portfolio", i.Portfolio, "Holdings and their weights", "control",
                    "your portfolio", "/portfolio", aliases=("pf", "holdings")),
        CommandSpec("help", i.Help, "What the bot can do, or help on one command", "other",
                    "help", "/help backtest",
                    (_a("topic", "topic", "A command name, e.g. backtest"),),
                    aliases=("commands", "h")),
        # Community
        CommandSpec("leaderboard", i.Leaderboard, "The community's best traders", "community",
                    "the leaderboard", "/leaderboard 30", (_PERIOD,), aliases=("lb", "top")),
        CommandSpec("share_signal", i.ShareSignal, "Share a buy or sell signal", "community",
                    "sharing a signal", "/share_signal ETH/USDT buy",
                    (_SYMBOL, _a("side", "choice", "buy or sell", True, "buy", "sell")),
                    aliases=("share", "signal")),
        CommandSpec("follow", i.Follow, "Follow a user's signals", "community",
                    "following a user", "/follow alice", (_USER,)),
        CommandSpec("unfollow", i.Unfollow, "Stop following a user", "community",
                    "unfollowing a user", "/unfollow alice", (_USER,)),
        CommandSpec("unknown", i.Unknown, "Anything the bot cannot help with", "other",
                    "something else", "/help"),
    )
}  # fmt: skip
_ALIASES: dict[str, str] = {a: s.name for s in COMMANDS.values() for a in s.aliases}


def lookup(name: str) -> CommandSpec | None:
    """The command called `name` or having it as an alias (case and a leading / ignored)."""
    key = name.strip().lower().lstrip("/")
    return COMMANDS.get(key) or COMMANDS.get(_ALIASES.get(key, ""))


def suggest(name: str, n: int = 3) -> list[str]:
    """Command names and aliases closest to a mistyped `name`."""
    words = [*COMMANDS, *_ALIASES]
    return difflib.get_close_matches(name.strip().lower().lstrip("/"), words, n=n, cutoff=0.6)


def required_role(intent: i.Intent) -> Role:
    """The least role allowed to run `intent`: switching to live trading needs the owner."""
    if isinstance(intent, i.Mode) and intent.mode == "live":
        return "owner"
    return COMMANDS[intent.name].min_role


def role_allows(role: Role, needed: Role) -> bool:
    """True when `role` is at least `needed` (member < admin < owner)."""
    return ROLES.index(role) >= ROLES.index(needed)


def tool_schemas() -> list[dict[str, object]]:
    """Every command as an OpenAI-style function tool, in registry order."""
    return [spec.tool_schema() for spec in COMMANDS.values()]


def validate(
    name: str, args: Mapping[str, object] | None = None, *, quote: str = "USDT"
) -> i.Intent:
    """Check and convert `args` for command `name` (or an alias) and build its intent.

    Values may be text (`"0.01"`, `"$500"`, `"eth"`, `"this week"`) or JSON numbers; `None`
    means "not given". Symbols become ccxt form with `quote` for a bare base.

    Raises:
        UnknownCommandError: no such command.
        ArgumentError: an unknown, missing or invalid argument, or two that exclude each other.
    """
    spec = lookup(name)
    if spec is None:
        raise UnknownCommandError(name, suggest(name))
    given = {key: value for key, value in (args or {}).items() if value is not None}
    for key in given:
        if spec.arg(key) is None:
            raise ArgumentError(spec.name, _unknown_arg_message(spec, key), key, "unknown")
    for arg in spec.args:
        if arg.required and arg.name not in given:
            raise ArgumentError(
                spec.name,
                f"/{spec.name} needs {arg.label}; for example: {spec.example}",
                arg.name,
                "missing",
            )
    values: dict[str, object] = {}
    # the symbol first: an amount's unit is checked against the market's base and quote
    for arg in sorted(spec.args, key=lambda a: not a.kind.startswith("symbol")):
        if arg.name in given:
            symbol = values.get("symbol")
            market = symbol if isinstance(symbol, str) and "/" in symbol else None
            values[arg.name] = coerce(spec, arg, given[arg.name], quote, market)
    if spec.exclusive and all(key in values for key in spec.exclusive):
        first, second = spec.exclusive
        raise ArgumentError(
            spec.name,
            f"Give either {first} or {second} for /{spec.name}, not both.",
            second,
            "conflict",
        )
    if spec.intent_type is i.SetRisk:
        _check_risk_value(spec, values)
    return spec.intent_type(**values)


def coerce(
    spec: CommandSpec,
    arg: ArgSpec,
    value: object,
    quote: str = "USDT",
    market: str | None = None,
) -> object:
    """One argument value converted to its kind's type.

    `market` (a ccxt symbol), when known, is what an amount's or a price's currency must fit:
    "0.1 BTC" is an amount of BTC/USDT, "500 USDT" is not.

    Raises:
        ArgumentError: the value does not fit; the message names the argument.
    """
    try:
        if arg.kind == "choice":
            return _choice(arg, value)
        if arg.kind == "topic":
            return _topic(value)
        return convert(arg.kind, value, quote=quote, market=market)
    except UnitError as exc:
        raise ArgumentError(spec.name, f"{arg.name}: {exc}", arg.name, "mismatch") from None
    except NormalizeError as exc:
        raise ArgumentError(spec.name, f"{arg.name}: {exc}", arg.name) from None


def _unknown_arg_message(spec: CommandSpec, key: str) -> str:
    if not spec.args:
        return f"/{spec.name} takes no arguments."
    close = difflib.get_close_matches(key, [a.name for a in spec.args], n=1, cutoff=0.5)
    hint = f" Did you mean {close[0]}?" if close else ""
    names = ", ".join(a.name for a in spec.args)
    return f"/{spec.name} has no argument '{key}'.{hint} It takes: {names}."


def _check_risk_value(spec: CommandSpec, values: dict[str, object]) -> None:
    param, value = values["param"], Decimal(str(values["value"]))
    if param == "max_open_positions" and value != value.to_integral_value():
        raise ArgumentError(spec.name, "max_open_positions must be a whole number.", "value")
    if param in ("risk_per_trade_pct", "max_daily_loss_pct", "max_drawdown_pct") and value > 100:
        raise ArgumentError(spec.name, f"{param} is a percentage, at most 100.", "value")
    if param == "stop_loss_pct" and value >= 100:
        raise ArgumentError(spec.name, "stop_loss_pct is a percentage below 100.", "value")


def _choice(arg: ArgSpec, value: object) -> str:
    text = str(value).strip().lower()
    if text in arg.choices:
        return text
    close = difflib.get_close_matches(text, arg.choices, n=1, cutoff=0.5)
    hint = f"did you mean {close[0]}? " if close else ""
    raise NormalizeError(f"'{value}' is not allowed; {hint}choose one of {', '.join(arg.choices)}")


def _topic(value: object) -> str:
    text = str(value)
    spec = lookup(text)
    if spec is None or spec.name == "unknown":
        close = suggest(text, n=1)
        hint = f"; did you mean {close[0]}?" if close else "; send /help for the list"
        raise NormalizeError(f"there is no command '{text}'{hint}")
    return spec.name
