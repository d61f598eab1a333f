"""Arguments of an intent from the values `slots.extract` found in a message.

One small function per argument decides which found value plays that role (the price of an
order is the number after "at" or "limit", its amount the other one...). Only what the user said
is returned: an argument nobody mentioned is left out rather than given a default.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from chat.parse.normalize import NormalizeError, format_decimal, to_fraction
from chat.parse.slots import NumberAt, Slots
from chat.parse.vocab import (
    BUY_WORDS,
    PRICE_WORDS,
    SELL_WORDS,
    STABLECOINS,
    TRIAL_WORDS,
)
from chat.registry import COMMANDS

__all__ = ["SlotError", "fill_args"]


class SlotError(ValueError):
    """The message holds a value that fits no argument of its intent; the message says so."""


_FOLLOW_VERBS = frozenset(
    ("follow", "following", "unfollow", "subscribe", "unsubscribe", "copy", "copying")
)
_NAME_FILLERS = frozenset(
    ("to", "from", "trader", "user", "the", "me", "my", "of", "signals", "trades", "anymore",
     "please", "pls", "him", "her", "them", "back", "now")
)  # fmt: skip
_NOT_TOPICS = frozenset(("help", "unknown"))


def fill_args(intent: str, slots: Slots) -> dict[str, object]:
    """The arguments of `intent` found in `slots`, by registry argument name.

    Values are in the types `chat.registry.validate` accepts; absent arguments are left out.

    Raises:
        SlotError: an order holds a number that fits none of its arguments, or two numbers
            for one argument.
    """
    filler = _FILLERS.get(intent)
    if filler is None:
        return {}
    return {key: value for key, value in filler(slots).items() if value is not None}


def _symbol(slots: Slots) -> str | None:
    return slots.symbols[0] if slots.symbols else None


def _period(slots: Slots) -> int | None:
    if slots.period_days is not None:
        return slots.period_days or None
    # "/profit 7" typed without the slash: a lone bare number in a short message is the period
    if len(slots.tokens) <= 3 and len(slots.numbers) == 1:
        return _whole(slots.numbers[0])
    return None


def _whole(found: NumberAt) -> int | None:
    value = found.number.value
    if found.number.unit or value != value.to_integral_value() or value <= 0:
        return None
    return int(value)


def _count(slots: Slots) -> int | None:
    for found in slots.numbers:
        if found.before not in PRICE_WORDS and found.after not in TRIAL_WORDS:
            count = _whole(found)
            if count is not None:
                return count
    return None


def _trials(slots: Slots) -> int | None:
    for found in slots.numbers:
        if found.after in TRIAL_WORDS or found.before in TRIAL_WORDS:
            return _whole(found)
    return None


def _timeframe(slots: Slots) -> str | None:
    return slots.timeframe or slots.timeframe_word


def _strategy(slots: Slots) -> str | None:
    if slots.strategy:
        return slots.strategy
    own = [name for name in slots.identifiers if name not in COMMANDS and "pct" not in name]
    return own[0] if own else None


def _research(slots: Slots) -> dict[str, object]:
    return {
        "strategy": _strategy(slots),
        "symbol": _symbol(slots),
        "timeframe": _timeframe(slots),
        "period_days": _period_days_only(slots),
    }


def _period_days_only(slots: Slots) -> int | None:
    return slots.period_days or None


def _order(slots: Slots, side: str) -> dict[str, object]:
    symbol = _symbol(slots)
    base, _, quote = (symbol or "/").partition("/")
    args: dict[str, object] = {"symbol": symbol}
    for found in slots.numbers:
        unit = found.number.unit or found.unit_asset or ""
        if found.before in PRICE_WORDS:
            role = "price"
        elif side == "sell" and unit in ("%", "x"):
            role = "fraction"
        elif unit == "$" or unit == quote or unit in STABLECOINS:
            role = "quote_amount" if side == "buy" else "?"
        elif unit in ("", base):
            role = "amount"
        else:
            role = "?"
        if role == "?" or role in args:
            # an order must never drop a number the user wrote: ask rather than guess
            raise SlotError(
                f"I could not tell what {_written(found)} is for in this order. "
                f"Please write it like: {COMMANDS[side].example}"
            )
        args[role] = _fraction(found) if role == "fraction" else found.number.value
    if side == "sell" and slots.everything and not {"amount", "fraction"} & args.keys():
        args["fraction"] = Decimal(1)
    return args


def _written(found: NumberAt) -> str:
    unit = found.number.unit if found.number.unit not in ("", "x") else found.unit_asset or ""
    value = format_decimal(found.number.value)
    return (
        f"${value}"
        if unit == "$"
        else f"{value}{unit}"
        if unit == "%"
        else f"{value} {unit}".strip()
    )


def _fraction(found: NumberAt) -> Decimal | str:
    try:
        return to_fraction(found.number)
    except NormalizeError:
        # left for validation to refuse with its own message (e.g. "sell 150%")
        return f"{found.number.value}{found.number.unit if found.number.unit != 'x' else ''}"


def _alert(slots: Slots) -> dict[str, object]:
    prices = [n for n in slots.numbers if n.number.unit in ("", "$") or n.unit_asset]
    return {
        "symbol": _symbol(slots),
        "condition": slots.condition,
        "price": prices[0].number.value if prices else None,
    }


def _set_risk(slots: Slots) -> dict[str, object]:
    values = [n for n in slots.numbers if n.number.unit in ("", "%")]
    param = slots.risk_param
    if param is None and values and values[0].number.unit == "%":
        # "risk 1%" with no other rule named means the risk per trade
        param = "risk_per_trade_pct" if any(t.low == "risk" for t in slots.tokens) else None
    return {"param": param, "value": values[0].number.value if values else None}


def _close(slots: Slots) -> dict[str, object]:
    return {"symbol": _symbol(slots) or ("all" if slots.everything else None)}


def _side(slots: Slots) -> str | None:
    for token in slots.tokens:
        if token.low in BUY_WORDS:
            return "buy"
        if token.low in SELL_WORDS:
            return "sell"
    return None


def _topic(slots: Slots) -> str | None:
    for token in slots.tokens:
        word = token.low
        for stem in (word, word.removesuffix("s"), word.removesuffix("ing"), word[:-3] + "e"):
            if stem in COMMANDS and stem not in _NOT_TOPICS:
                return stem
    return None


def _user(slots: Slots) -> str | None:
    if slots.handles:
        return slots.handles[0]
    tokens = slots.tokens
    for i, token in enumerate(tokens):
        if token.low in _FOLLOW_VERBS or token.low.startswith(("follow", "unfollow", "subscri")):
            for later in tokens[i + 1 :]:
                if later.low not in _NAME_FILLERS:
                    return later.text if _looks_like_name(later.text) else None
    named = [t.text for t in tokens if any(c.isdigit() or c == "_" for c in t.text)]
    return named[0] if named and _looks_like_name(named[0]) else None


def _looks_like_name(text: str) -> bool:
    return 2 <= len(text) <= 64 and all(c.isalnum() or c in "_.-" for c in text)


_FILLERS: dict[str, Callable[[Slots], dict[str, object]]] = {
    "positions": lambda s: {"symbol": _symbol(s)},
    "trades": lambda s: {"symbol": _symbol(s), "limit": _count(s)},
    "profit": lambda s: {"period_days": _period(s), "symbol": _symbol(s)},
    "performance": lambda s: {"period_days": _period(s)},
    "daily": lambda s: {"days": _period(s) or _count(s)},
    "equity": lambda s: {"period_days": _period(s)},
    "chart": lambda s: {"symbol": _symbol(s), "timeframe": _timeframe(s)},
    "scan": lambda s: {"limit": _count(s)},
    "predict": lambda s: {"symbol": _symbol(s), "timeframe": _timeframe(s)},
    "arbitrage": lambda s: {"symbol": _symbol(s)},
    "backtest": _research,
    "optimize": lambda s: {**_research(s), "trials": _trials(s)},
    "strategies": lambda s: {"symbol": _symbol(s)},
    "buy": lambda s: _order(s, "buy"),
    "sell": lambda s: _order(s, "sell"),
    "close": _close,
    "set_strategy": lambda s: {"strategy": _strategy(s), "symbol": _symbol(s)},
    "mode": lambda s: {"mode": s.mode},
    "set_risk": _set_risk,
    "watch": lambda s: {"symbol": _symbol(s)},
    "unwatch": lambda s: {"symbol": _symbol(s)},
    "alert": _alert,
    "help": lambda s: {"topic": _topic(s)},
    "leaderboard": lambda s: {"period_days": _period(s)},
    "share_signal": lambda s: {"symbol": _symbol(s), "side": _side(s)},
    "follow": lambda s: {"user": _user(s)},
    "unfollow": lambda s: {"user": _user(s)},
}
