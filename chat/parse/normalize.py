"""Value normalisers shared by every parser and by registry validation.

Each turns one piece of user text into the registry's form or raises `NormalizeError` with a
sentence fit to show the user: symbols to ccxt (`eth` -> `ETH/USDT`, `ethbtc` -> `ETH/BTC`),
timeframes to ccxt strings (`hourly` -> `1h`), periods to whole days (`this week` -> 7) and
numbers to `Decimal` with the unit they were written with (`$500`, `50%`, `1k`, `half`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

__all__ = [
    "AMBIGUOUS_TICKERS",
    "ASSET_NAMES",
    "KNOWN_ASSETS",
    "KNOWN_QUOTES",
    "PERIOD_UNIT_DAYS",
    "TIMEFRAMES",
    "TIMEFRAME_UNITS",
    "WORD_NUMBERS",
    "NormalizeError",
    "Number",
    "canonical_decimal",
    "format_decimal",
    "normalize_symbol",
    "parse_count",
    "parse_number",
    "parse_period",
    "parse_timeframe",
    "split_pair",
    "timeframe_of",
    "to_fraction",
    "word_number",
]


class NormalizeError(ValueError):
    """A value the user typed cannot be understood; the message says what would work."""


# Longest first, so `ETHUSDT` splits at USDT rather than at USD.
KNOWN_QUOTES: tuple[str, ...] = (
    "FDUSD", "USDT", "USDC", "BUSD", "TUSD", "DAI", "USD", "EUR", "GBP", "TRY", "BRL",
    "BTC", "ETH", "BNB",
)  # fmt: skip
KNOWN_ASSETS: frozenset[str] = frozenset((
    "BTC", "ETH", "SOL", "BNB", "XRP", "ADA", "DOGE", "DOT", "LTC", "AVAX", "LINK", "MATIC",
    "POL", "TRX", "ATOM", "NEAR", "UNI", "XLM", "ETC", "FIL", "APT", "ARB", "OP", "SUI", "PEPE",
    "SHIB", "TON", "BCH", "XMR", "AAVE", "INJ", "SEI", "TIA", "WIF", "BONK", "FET", "RENDER",
    "HBAR", "ICP", "VET", "ALGO", "EGLD", "SAND", "MANA", "AXS", "GALA", "IMX", "LDO", "MKR",
    "CRV", "SNX", "COMP", "GRT", "RUNE", "KAS", "FTM", "STX", "FLOKI", "JUP", "PYTH", "ENA",
    "WLD", "ORDI", "USDT", "USDC", "FDUSD", "BUSD", "TUSD", "DAI",
))  # fmt: skip
# Tickers that are also everyday words: in free text they count only when written in capitals.
AMBIGUOUS_TICKERS: frozenset[str] = frozenset((
    "LINK", "NEAR", "DOT", "ETC", "TON", "OP", "UNI", "SAND", "MANA", "COMP", "RUNE", "SEI",
    "WIF", "ARB", "GALA", "JUP", "ALGO", "RENDER", "APT", "ATOM", "VET",
))  # fmt: skip
ASSET_NAMES: dict[str, str] = {
    "bitcoin": "BTC",
    "btc": "BTC",
    "ethereum": "ETH",
    "ether": "ETH",
    "solana": "SOL",
    "ripple": "XRP",
    "cardano": "ADA",
    "dogecoin": "DOGE",
    "polkadot": "DOT",
    "litecoin": "LTC",
    "avalanche": "AVAX",
    "chainlink": "LINK",
    "polygon": "MATIC",
    "tron": "TRX",
    "cosmos": "ATOM",
    "stellar": "XLM",
    "shiba": "SHIB",
    "toncoin": "TON",
}

TIMEFRAMES: tuple[str, ...] = (
    "1m", "3m", "5m", "15m", "30m", "1h", "2h", "4h", "6h", "8h", "12h", "1d", "3d", "1w",
)  # fmt: skip
TIMEFRAME_UNITS: dict[str, str] = {
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), "m"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "h"),
    **dict.fromkeys(("d", "day", "days"), "d"),
    **dict.fromkeys(("w", "wk", "week", "weeks"), "w"),
}
_TIMEFRAME_WORDS = {"hourly": "1h", "daily": "1d", "weekly": "1w", "minute": "1m", "hour": "1h"}
_TIMEFRAME_TEXT = re.compile(r"^(\d+)\s*-?\s*([a-z]+)$")
_METATRADER_TF = re.compile(r"^([mhdw])(\d+)$")

PERIOD_UNIT_DAYS: dict[str, int] = {
    **dict.fromkeys(("d", "day", "days"), 1),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7),
    **dict.fromkeys(("mo", "mos", "month", "months"), 30),
    **dict.fromkeys(("quarter", "quarters"), 90),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years"), 365),
}
_PERIOD_WORDS = {"today": 1, "yesterday": 1, "fortnight": 14, "ytd": 365}
_PERIOD_TEXT = re.compile(
    r"^(?:(?:the|over|for|in|during)\s+)*(?:(?:last|past|previous|this|current)\s+)?"
    r"(?:(?P<n>\d+)\s*-?\s*|(?P<n_word>[a-z]+)[\s-]+)?(?P<unit>[a-z]+)$"
)

WORD_NUMBERS: dict[str, int] = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20,
    "thirty": 30, "fifty": 50, "sixty": 60, "ninety": 90, "hundred": 100,
}  # fmt: skip
_FRACTION_WORDS = {
    "half": Decimal("0.5"),
    "quarter": Decimal("0.25"),
    "all": Decimal(1),
    "everything": Decimal(1),
    "whole": Decimal(1),
    "entire": Decimal(1),
}
_NUMBER = re.compile(
    r"^(?P<cur>\$)?(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)(?P<k>k)?"
    r"\s*(?P<unit>%|\$|[a-z]{2,8})?$"
)
_PERCENT_UNITS = frozenset({"%", "percent", "pct", "per cent"})
_DOLLAR_UNITS = frozenset({"$", "usd", "dollar", "dollars", "bucks"})


@dataclass(frozen=True)
class Number:
    """A number as the user wrote it: `unit` is "" (bare), "$", "%", "x" (a fraction word such
    as "half") or an asset code such as "USDT" or "BTC"."""

    value: Decimal
    unit: str = ""


def word_number(word: str) -> int | None:
    """`"three"` -> 3, `"12"` -> 12; None for anything else."""
    if word.isdigit():
        return int(word)
    return WORD_NUMBERS.get(word)


def split_pair(ticker: str) -> tuple[str, str] | None:
    """`ETHBTC` -> (`ETH`, `BTC`) when it ends in a known quote; None when it does not split.

    A remainder must be a known asset or at least three characters, so `WBTC` and `STETH` stay
    whole.
    """
    if ticker in KNOWN_ASSETS and ticker not in KNOWN_QUOTES:
        return None
    for quote in KNOWN_QUOTES:
        if ticker.endswith(quote) and len(ticker) > len(quote):
            base = ticker[: -len(quote)]
            if base in KNOWN_ASSETS or (len(base) >= 3 and any(c.isalpha() for c in base)):
                return base, quote
    return None


def normalize_symbol(text: str, quote: str = "USDT") -> str:
    """A market symbol in ccxt form.

    `eth`/`ETH`/`ethereum` -> `ETH/<quote>`; `ethbtc`, `ETH-BTC`, `eth_btc`, `eth/btc` ->
    `ETH/BTC`; a settle suffix (`BTC/USDT:USDT`) is kept.

    Raises:
        NormalizeError: not a symbol (a number, punctuation, or the quote currency alone).
    """
    quote = quote.upper()
    cleaned = text.strip().upper()
    pair = re.fullmatch(r"([A-Z0-9]{1,20})[/\-_]([A-Z0-9]{1,15})(:[A-Z0-9]{1,15})?", cleaned)
    if pair:
        base, pair_quote, settle = pair.group(1), pair.group(2), pair.group(3) or ""
        base = ASSET_NAMES.get(base.lower(), base)
        if base.isdigit() or pair_quote.isdigit() or base == pair_quote:
            raise NormalizeError(f"'{text}' is not a market symbol; use forms like BTC/USDT")
        return f"{base}/{pair_quote}{settle}"
    if not re.fullmatch(r"[A-Z0-9]{2,20}", cleaned) or cleaned.isdigit():
        raise NormalizeError(
            f"'{text}' is not a market symbol; use forms like BTC/USDT, ETH or ethbtc"
        )
    if re.fullmatch(r"\d+[MHDW]", cleaned):
        raise NormalizeError(f"'{text}' looks like a timeframe, not a market symbol")
    ticker = ASSET_NAMES.get(cleaned.lower(), cleaned)
    split = split_pair(ticker)
    if split is not None:
        return f"{split[0]}/{split[1]}"
    if ticker == quote:
        raise NormalizeError(
            f"{ticker} is the quote currency; name a market such as BTC/{quote} or just BTC"
        )
    return f"{ticker}/{quote}"


def timeframe_of(count: int, unit: str) -> str | None:
    """`(4, "hours")` -> `4h` when it is a supported timeframe, else None."""
    letter = TIMEFRAME_UNITS.get(unit)
    if letter is None:
        return None
    timeframe = f"{count}{letter}"
    return timeframe if timeframe in TIMEFRAMES else None


def parse_timeframe(text: str) -> str:
    """A ccxt timeframe: `1h`, `4H`, `hourly`, `daily`, `4 hour`, `15-min`, `H4`.

    Raises:
        NormalizeError: not a timeframe, or one the bot does not support.
    """
    cleaned = " ".join(text.strip().lower().split())
    if cleaned in TIMEFRAMES:
        return cleaned
    if cleaned in _TIMEFRAME_WORDS:
        return _TIMEFRAME_WORDS[cleaned]
    metatrader = _METATRADER_TF.match(cleaned)
    match = _TIMEFRAME_TEXT.match(cleaned)
    found: str | None = None
    if metatrader:
        found = timeframe_of(int(metatrader.group(2)), metatrader.group(1))
    elif match:
        found = timeframe_of(int(match.group(1)), match.group(2))
    if found is None:
        raise NormalizeError(
            f"'{text}' is not a timeframe I know; use one of {', '.join(TIMEFRAMES)}"
        )
    return found


def parse_period(text: str) -> int:
    """A period in whole days: `7`, `7d`, `2w`, `today`, `this week`, `last 3 days`, `6 months`.

    Raises:
        NormalizeError: not a period, or not a positive length.
    """
    cleaned = " ".join(text.strip().lower().split())
    if cleaned.isdigit() and int(cleaned) > 0:
        return int(cleaned)
    days = _PERIOD_WORDS.get(cleaned)
    match = _PERIOD_TEXT.match(cleaned) if days is None else None
    if match:
        written = match.group("n") or match.group("n_word")
        days = _PERIOD_WORDS.get(match.group("unit")) if written is None else None
        unit_days = PERIOD_UNIT_DAYS.get(match.group("unit"))
        count = word_number(written) if written else 1
        if days is None and unit_days is not None and count:
            days = count * unit_days
    if not days:
        raise NormalizeError(
            f"'{text}' is not a period; say a number of days or e.g. today, this week, 3 months"
        )
    return days


def parse_number(text: str) -> Number:
    """A positive number with its unit: `0.01`, `1,000`, `1k`, `$500`, `500 usdt`, `50%`, `half`.

    Raises:
        NormalizeError: not a number.
    """
    cleaned = " ".join(text.strip().lower().split())
    for prefix in ("a ", "an "):
        cleaned = cleaned.removeprefix(prefix)
    if cleaned in _FRACTION_WORDS:
        return Number(_FRACTION_WORDS[cleaned], "x")
    if cleaned in WORD_NUMBERS:
        return Number(Decimal(WORD_NUMBERS[cleaned]))
    cleaned = cleaned.replace("per cent", "percent")
    match = _NUMBER.match(cleaned)
    if not match:
        raise NormalizeError(f"'{text}' is not a number; write it like 0.01, 250 or 1k")
    try:
        value = Decimal(match.group("num").replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise NormalizeError(f"'{text}' is not a number") from None
    if match.group("k"):
        value *= 1000
    value = canonical_decimal(value)
    unit = match.group("unit") or ""
    if match.group("cur") or unit in _DOLLAR_UNITS:
        return Number(value, "$")
    if unit in _PERCENT_UNITS:
        return Number(value, "%")
    if unit and unit.upper() not in KNOWN_ASSETS and unit.upper() not in KNOWN_QUOTES:
        raise NormalizeError(f"'{text}' is not a number I understand (what is '{unit}'?)")
    return Number(value, unit.upper())


def parse_count(text: str) -> int:
    """A positive whole number: `20`, `twenty`.

    Raises:
        NormalizeError: not a positive whole number.
    """
    value = word_number(text.strip().lower())
    if value is None or value <= 0:
        raise NormalizeError(f"'{text}' is not a whole number; write it like 10")
    return value


def to_fraction(number: Number) -> Decimal:
    """A share of a holding in (0, 1]: `50%` -> 0.5, `half` -> 0.5, `0.25` -> 0.25.

    Raises:
        NormalizeError: outside (0, 1], or written with a currency.
    """
    if number.unit == "%":
        value = number.value / 100
    elif number.unit in ("", "x"):
        value = number.value
    else:
        raise NormalizeError("a fraction is a share of the holding, like 0.5, 50% or half")
    if not 0 < value <= 1:
        raise NormalizeError(
            f"a fraction must be more than 0 and at most 1 (100%); got {format_decimal(value)}"
        )
    return canonical_decimal(value)


def canonical_decimal(value: Decimal) -> Decimal:
    """The same number without trailing zeros or an exponent: 2500.0 -> 2500, 0.50 -> 0.5."""
    normal = value.normalize()
    exponent = normal.as_tuple().exponent
    return normal.quantize(Decimal(1)) if isinstance(exponent, int) and exponent > 0 else normal


def format_decimal(value: Decimal) -> str:
    """Exact, short decimal text: 0.010 -> `0.01`, 1E+3 -> `1000`."""
    text = format(canonical_decimal(value), "f")
    return "0" if text == "-0" else text
