"""Argument values by kind: loose input (slash text, LLM JSON numbers) to the registry's types.

`convert(kind, value)` turns `"eth"` into `ETH/USDT`, `"this week"` into 7, `"$500"` into
`Decimal(500)` and so on, or raises `NormalizeError` with a sentence for the user. Numbers are
checked against the unit they were written in: an amount is a quantity of the coin, a sum to
spend is in the quote currency, a fraction may be `50%` or `half`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from chat.parse.normalize import (
    NormalizeError,
    Number,
    canonical_decimal,
    format_decimal,
    normalize_symbol,
    parse_count,
    parse_number,
    parse_period,
    parse_timeframe,
    to_fraction,
)

__all__ = ["ArgKind", "UnitError", "convert"]

ArgKind = Literal[
    "symbol",  # a market, normalised to ccxt form
    "symbol_or_all",  # a market or the word "all"
    "timeframe",  # a ccxt timeframe
    "period",  # whole days
    "count",  # a positive whole number
    "amount",  # a quantity of the base asset
    "money",  # a sum of the quote currency
    "price",  # a price in the quote currency
    "fraction",  # a share of a holding in (0, 1]
    "value",  # a risk setting's new value (percent for the *_pct rules)
    "choice",  # one of a command's listed choices (checked by the registry)
    "strategy",  # a strategy name (existence is checked when it runs)
    "user",  # a community user name
    "topic",  # a command name (checked by the registry)
]


class UnitError(NormalizeError):
    """A number written in a unit the argument does not take (a percentage for an amount)."""


# Units each number kind accepts; "base"/"quote" are the market's own currencies.
_NUMBER_UNITS: dict[str, tuple[str, ...]] = {
    "amount": ("", "base"),
    "money": ("", "$", "quote"),
    "price": ("", "$", "quote"),
    "fraction": ("", "%", "x"),
    "value": ("", "%"),
}
_WRONG_UNIT = {
    "amount": "an amount is a quantity of the coin, like 0.01; to spend money use quote_amount",
    "money": "give the sum in the quote currency, like 500 or $500",
    "price": "give the price in the quote currency, like 65000",
    "fraction": "a fraction is a share of the holding, like 0.5, 50% or half",
    "value": "give a plain number or a percentage, like 2 or 2%",
}


def convert(
    kind: ArgKind, value: object, *, quote: str = "USDT", market: str | None = None
) -> object:
    """`value` as the type of `kind` (str, int or Decimal).

    Args:
        kind: the argument kind; "choice" and "topic" need the registry and are not handled.
        value: text or a JSON number.
        quote: the quote currency a bare base gets.
        market: the command's market (ccxt), when known: an amount's or a price's currency must
            be its base or its quote.

    Raises:
        UnitError: a number in a unit the kind does not take.
        NormalizeError: anything else that does not fit.
    """
    if kind in _NUMBER_UNITS:
        return _number_value(kind, value, market)
    convert_text = _CONVERTERS.get(kind)
    if convert_text is None:
        raise NormalizeError(f"values of kind {kind} are checked by the registry")
    return convert_text(value, quote)


def _text(value: object, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return str(value)
    raise NormalizeError(f"expected {what}, got {type(value).__name__}")


def _number_value(kind: str, value: object, market: str | None) -> Decimal:
    number = _number(value)
    base, _, quote = (market or "/").partition("/")
    quote = quote.split(":")[0]
    unit = {base: "base", quote: "quote"}.get(number.unit, number.unit) if market else number.unit
    allowed = _NUMBER_UNITS[kind]
    # without a market an asset unit cannot be checked; validation trusts it
    unchecked = (
        market is None and number.unit.isupper() and ("base" in allowed or "quote" in allowed)
    )
    if unit not in allowed and not unchecked:
        raise UnitError(f"'{value}' does not fit here: {_WRONG_UNIT[kind]}")
    return to_fraction(number) if kind == "fraction" else number.value


def _number(value: object) -> Number:
    if isinstance(value, bool):
        raise NormalizeError("expected a number, got true/false")
    if isinstance(value, int | float | Decimal):
        decimal = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
        if not decimal.is_finite():
            raise NormalizeError("expected a finite number")
        number = Number(canonical_decimal(decimal))
    else:
        number = parse_number(_text(value, "a number"))
    if number.value <= 0:
        raise NormalizeError(f"it must be more than 0, not {format_decimal(number.value)}")
    return number


def _positive_int(value: object, parse: Callable[[str], int]) -> int:
    if isinstance(value, bool):
        raise NormalizeError("expected a whole number")
    if isinstance(value, int | float | Decimal):
        if value != int(value) or value <= 0:
            raise NormalizeError(f"expected a positive whole number, not {value}")
        return int(value)
    return parse(_text(value, "a whole number"))


def _symbol_or_all(value: object, quote: str) -> str:
    text = _text(value, "a symbol")
    if text.strip().lower() in ("all", "everything", "*"):
        return "all"
    return normalize_symbol(text, quote)


def _strategy(value: object) -> str:
    text = re.sub(r"[\s-]+", "_", _text(value, "a strategy name").strip().lower())
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", text):
        raise NormalizeError(f"'{value}' is not a strategy name; names look like ema_cross")
    return text


def _user(value: object) -> str:
    text = _text(value, "a user name").strip().lstrip("@")
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{2,64}", text):
        raise NormalizeError(f"'{value}' is not a user name; names look like alice or bob_42")
    return text


_CONVERTERS: dict[str, Callable[[object, str], object]] = {
    "symbol": lambda v, q: normalize_symbol(_text(v, "a symbol"), q),
    "symbol_or_all": _symbol_or_all,
    "timeframe": lambda v, _q: parse_timeframe(_text(v, "a timeframe")),
    "period": lambda v, _q: _positive_int(v, parse_period),
    "count": lambda v, _q: _positive_int(v, parse_count),
    "strategy": lambda v, _q: _strategy(v),
    "user": lambda v, _q: _user(v),
}
