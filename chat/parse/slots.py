"""Find the values in a free-text message: symbols, timeframes, periods, numbers, names.

`extract(text)` tokenises once and runs passes in a fixed order, each claiming the tokens it
understands so a later pass cannot reread them: user handles, strategy names, periods ("last 3
days"), timeframes ("4 hour"), numbers ("$500", "50%", "half"), then symbols. Words that steer a
value (above/below, paper/live, a risk setting's name) are read from the whole text. The result
also carries a masked copy of the text (`zsym`, `znum`...) so the intent classifier learns the
shape of a request rather than particular coins or amounts.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from chat.parse.normalize import (
    AMBIGUOUS_TICKERS,
    ASSET_NAMES,
    KNOWN_ASSETS,
    KNOWN_QUOTES,
    PERIOD_UNIT_DAYS,
    TIMEFRAMES,
    NormalizeError,
    Number,
    parse_number,
    split_pair,
    timeframe_of,
    word_number,
)
from chat.parse.vocab import (
    ABOVE_WORDS,
    BELOW_WORDS,
    CANDLE_WORDS,
    EVERYTHING_WORDS,
    FREE_WORD_NUMBERS,
    LIVE_WORDS,
    NOT_SYMBOLS,
    PAPER_WORDS,
    RELATIVE_PERIODS,
    RISK_PARAM_PATTERNS,
    STABLECOINS,
    UNIT_WORDS,
)

__all__ = ["NumberAt", "Slots", "Token", "extract", "tokenize"]

_SPLIT = re.compile(r"[^\s;!?()\"“”]+")
# a comma separates words except inside a number written with thousands: "1,000"
_COMMA = re.compile(r"(?<!\d),|,(?!\d{3})")
_EDGE = ".:'’`"
_PAIR = re.compile(r"^([a-z0-9]{1,15})[/\-_]([a-z0-9]{2,15})$")
_TF_GLUED = re.compile(r"^(\d+)-?(min|mins|minute|minutes|hr|hrs|hour|hours)$")
_METATRADER = re.compile(r"^([mhdw])(\d{1,2})$")
_PERIOD_GLUED = re.compile(r"^(\d+)-?(d|days?|w|wks?|weeks?|mo|mos|months?|y|yrs?|years?)$")
_HOURS_GLUED = re.compile(r"^(\d+)(h|hrs?|hours?)$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")
_NUMERIC = re.compile(r"^\$?(?:\d[\d,]*(?:\.\d+)?|\.\d+)k?(?:%|\$|[a-z]{2,8})?$")


@dataclass(frozen=True)
class Token:
    """One word as written (`text`, edge punctuation removed) and lower-cased (`low`)."""

    text: str
    low: str


@dataclass(frozen=True)
class NumberAt:
    """A number found at token `index`, with the words around it for deciding its role."""

    index: int
    number: Number
    before: str = ""
    after: str = ""
    unit_asset: str | None = None  # an asset named right after it: "0.1 btc"


@dataclass
class Slots:
    """Everything `extract` found; `masked` is the text the classifier sees."""

    tokens: list[Token]
    masked: str = ""
    symbols: list[str] = field(default_factory=list)
    everything: bool = False
    timeframe: str | None = None
    timeframe_word: str | None = None  # "daily"/"hourly": a timeframe only where one fits
    period_days: int | None = None
    numbers: list[NumberAt] = field(default_factory=list)
    strategy: str | None = None
    identifiers: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    risk_param: str | None = None
    condition: str | None = None
    mode: str | None = None


def tokenize(text: str) -> list[Token]:
    """Words of `text`; edge punctuation and a possessive 's are dropped."""
    tokens = []
    for raw in _SPLIT.findall(text):
        for part in _COMMA.split(raw):
            word = part.strip(_EDGE)
            for suffix in ("'s", "’s"):
                word = word.removesuffix(suffix)
            if word:
                tokens.append(Token(word, word.lower()))
    return tokens


def extract(
    text: str,
    strategies: dict[str, str],
    quote: str = "USDT",
    known_words: frozenset[str] = frozenset(),
) -> Slots:
    """The values in `text`.

    Args:
        text: the message.
        strategies: spoken form -> strategy name (`"ema cross"` -> `ema_cross`), see
            `chat.parse.vocab.strategy_forms`.
        quote: the quote currency a bare base gets.
        known_words: ordinary words of the domain (lower case); written in capitals they stay
            words ("STATUS"), where an unknown word in capitals is taken for a ticker ("PEPE").
    """
    tokens = tokenize(text)
    slots = Slots(tokens)
    masks: list[str | None] = [None] * len(tokens)
    _handles(slots, masks)
    _strategies(slots, masks, strategies)
    _periods(slots, masks)
    _timeframes(slots, masks)
    _numbers(slots, masks)
    _symbols(slots, masks, quote, shouting=_is_shouting(tokens), known_words=known_words)
    low = " ".join(t.low for t in tokens)
    slots.risk_param = _risk_param(low)
    slots.condition = _first_of(tokens, ABOVE_WORDS, BELOW_WORDS, ("above", "below"))
    slots.mode = _mode(tokens)
    # "" marks the later words of a value already shown by its first ("4 hour" -> "ztf")
    shown = (t.low if m is None else m for m, t in zip(masks, tokens, strict=True))
    slots.masked = " ".join(word for word in shown if word)
    return slots


def _handles(slots: Slots, masks: list[str | None]) -> None:
    for i, token in enumerate(slots.tokens):
        if token.text.startswith("@") and len(token.text) > 2:
            slots.handles.append(token.text[1:])
            masks[i] = "zuser"


def _strategies(slots: Slots, masks: list[str | None], forms: dict[str, str]) -> None:
    tokens = slots.tokens
    for i in range(len(tokens)):
        if masks[i] is not None:
            continue
        for width in (2, 1):
            words = [t.low for t in tokens[i : i + width]]
            if len(words) < width or any(m is not None for m in masks[i : i + width]):
                continue
            name = forms.get(" ".join(words).replace("-", " ").replace("_", " "))
            if name is not None:
                slots.strategy = slots.strategy or name
                masks[i : i + width] = ["zstrat"] + [""] * (width - 1)
                break
        else:
            if _IDENTIFIER.match(tokens[i].low):
                slots.identifiers.append(tokens[i].low)


def _periods(slots: Slots, masks: list[str | None]) -> None:
    tokens = slots.tokens
    for i, token in enumerate(tokens):
        if masks[i] is not None:
            continue
        before = tokens[i - 1].low if i else ""
        following = tokens[i + 1].low if i + 1 < len(tokens) else ""
        days, width = _period_at(token.low, before, following, tokens[i + 2 : i + 3])
        if days is None:
            continue
        if days > 0 and slots.period_days is None:
            slots.period_days = days
        masks[i : i + width] = [token.low if not token.low.isdigit() else "znum"] + [
            t.low for t in tokens[i + 1 : i + width]
        ]
        if before in RELATIVE_PERIODS:
            masks[i - 1] = before


def _period_at(
    word: str, before: str, following: str, third: list[Token]
) -> tuple[int | None, int]:
    """(days, tokens used) of a period starting at `word`; days 0 means "all time"."""
    if word in ("today", "yesterday", "tonight"):
        return 1, 1
    if word in ("fortnight", "ytd"):
        return (14 if word == "fortnight" else 365), 1
    if word in ("all-time", "alltime") or (word == "all" and following == "time"):
        return 0, 1 if word != "all" else 2
    if before in RELATIVE_PERIODS and word in PERIOD_UNIT_DAYS and len(word) > 2:
        return PERIOD_UNIT_DAYS[word], 1
    glued = _PERIOD_GLUED.match(word)
    if glued and f"{glued.group(1)}{glued.group(2)[0]}" not in TIMEFRAMES:
        return int(glued.group(1)) * PERIOD_UNIT_DAYS[glued.group(2)], 1
    hours = _HOURS_GLUED.match(word)
    if hours and int(hours.group(1)) % 24 == 0 and int(hours.group(1)) >= 24:
        return int(hours.group(1)) // 24, 1
    count = word_number(word)
    # "a quarter" of a holding is a fraction; "2 quarters" or "this quarter" are periods
    if word in ("a", "an") and following.startswith("quarter"):
        count = None
    if count and following in PERIOD_UNIT_DAYS and len(following) > 2:
        is_candle = bool(third) and third[0].low in CANDLE_WORDS
        if count == 1 and following.startswith(("day", "week")) and is_candle:
            return None, 0
        return count * PERIOD_UNIT_DAYS[following], 2
    if count and following.startswith("hour") and count % 24 == 0:
        return count // 24, 2
    return None, 0


def _timeframes(slots: Slots, masks: list[str | None]) -> None:
    tokens = slots.tokens
    for i, token in enumerate(tokens):
        if masks[i] is not None:
            continue
        found, width = _timeframe_at(token, tokens[i + 1 : i + 3])
        if found is None:
            if token.low in ("hourly", "daily", "weekly") and slots.timeframe_word is None:
                slots.timeframe_word = {"hourly": "1h", "daily": "1d", "weekly": "1w"}[token.low]
            continue
        slots.timeframe = slots.timeframe or found
        masks[i : i + width] = ["ztf"] + [""] * (width - 1)


def _timeframe_at(token: Token, rest: list[Token]) -> tuple[str | None, int]:
    word = token.low
    if word in TIMEFRAMES or (word.upper() == word and word.lower() in TIMEFRAMES):
        return word, 1
    glued = _TF_GLUED.match(word)
    if glued:
        return timeframe_of(int(glued.group(1)), glued.group(2)), 1
    metatrader = _METATRADER.match(word)
    if metatrader and token.text[0].isupper():
        return timeframe_of(int(metatrader.group(2)), metatrader.group(1)), 1
    if word.isdigit() and rest:
        unit = rest[0].low
        if unit.startswith(("min", "hour", "hr")):
            return timeframe_of(int(word), unit), 2
        if unit in ("day", "week") and len(rest) > 1 and rest[1].low in CANDLE_WORDS:
            return timeframe_of(int(word), unit), 2
    return None, 0


def _numbers(slots: Slots, masks: list[str | None]) -> None:
    tokens = slots.tokens
    for i, token in enumerate(tokens):
        if masks[i] is not None:
            continue
        if token.low in EVERYTHING_WORDS:
            slots.everything = True
            continue
        number = _number_at(token.low)
        if number is None:
            continue
        after = tokens[i + 1].low if i + 1 < len(tokens) else ""
        if number.unit == "" and after in UNIT_WORDS:
            number = Number(number.value, UNIT_WORDS[after])
            masks[i + 1] = after
        unit_asset = _asset_word(tokens[i + 1]) if after and number.unit == "" else None
        before = tokens[i - 1].low if i else ""
        slots.numbers.append(NumberAt(i, number, before, after, unit_asset))
        masks[i] = {"$": "zmoney", "%": "zpct"}.get(number.unit, "znum")


def _number_at(word: str) -> Number | None:
    if word in ("half", "quarter") or (word in FREE_WORD_NUMBERS):
        return parse_number(word)
    if not _NUMERIC.match(word):
        return None
    try:
        return parse_number(word)
    except NormalizeError:
        return None


def _asset_word(token: Token) -> str | None:
    upper = token.low.upper()
    ticker = ASSET_NAMES.get(token.low, upper)
    return ticker if ticker in KNOWN_ASSETS or ticker in KNOWN_QUOTES else None


def _symbols(
    slots: Slots, masks: list[str | None], quote: str, shouting: bool, known_words: frozenset[str]
) -> None:
    for i, token in enumerate(slots.tokens):
        if masks[i] is not None or token.low in NOT_SYMBOLS:
            continue
        symbol = _symbol_of(token, quote.upper(), shouting or token.low in known_words)
        if symbol is not None:
            slots.symbols.append(symbol)
            masks[i] = "zsym"


def _symbol_of(token: Token, quote: str, plain_word: bool) -> str | None:
    """The market a word names, if any; `plain_word` words count only when they are tickers."""
    word, written = token.low, token.text
    pair = _PAIR.match(word)
    if pair:
        base, pair_quote = pair.group(1).upper(), pair.group(2).upper()
        base = ASSET_NAMES.get(base.lower(), base)
        known = base in KNOWN_ASSETS or pair_quote in KNOWN_QUOTES
        return f"{base}/{pair_quote}" if known and not base.isdigit() else None
    ticker = ASSET_NAMES.get(word) or _fuzzy_name(word) or word.upper()
    if not ticker.isalnum() or ticker.isdigit():
        return None
    split = split_pair(ticker)
    if split is not None and (split[0] in KNOWN_ASSETS or written.isupper()):
        return f"{split[0]}/{split[1]}"
    if ticker in STABLECOINS or ticker == quote:
        return None
    if ticker in KNOWN_ASSETS:
        if ticker in AMBIGUOUS_TICKERS and not written.isupper():
            return None
        return f"{ticker}/{quote}"
    capitals = written.isupper() and written.isalpha() and 2 <= len(written) <= 10
    return f"{ticker}/{quote}" if capitals and not plain_word else None


def _fuzzy_name(word: str) -> str | None:
    if len(word) < 6:
        return None
    close = difflib.get_close_matches(word, list(ASSET_NAMES), n=1, cutoff=0.85)
    return ASSET_NAMES[close[0]] if close else None


def _is_shouting(tokens: list[Token]) -> bool:
    words = [t.text for t in tokens if t.text.isalpha()]
    return len(words) >= 2 and sum(w.isupper() for w in words) * 2 > len(words)


def _risk_param(low: str) -> str | None:
    best: tuple[int, str] | None = None
    for pattern, param in RISK_PARAM_PATTERNS:
        match = pattern.search(low)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), param)
    return best[1] if best else None


def _first_of(
    tokens: list[Token], first: frozenset[str], second: frozenset[str], names: tuple[str, str]
) -> str | None:
    for token in tokens:
        if token.low in first:
            return names[0]
        if token.low in second:
            return names[1]
    return None


def _mode(tokens: list[Token]) -> str | None:
    """paper or live: the word after "to" wins; "off/disable/leave X" means the other one."""
    words = [t.low for t in tokens]
    found: str | None = None
    for i, word in enumerate(words):
        mode = "live" if word in LIVE_WORDS else "paper" if word in PAPER_WORDS else None
        if mode is None:
            continue
        other = "paper" if mode == "live" else "live"
        before = words[max(0, i - 2) : i]
        if i and words[i - 1] in ("to", "into"):
            return mode
        if any(w in ("off", "disable", "leave", "exit", "stop", "from", "quit") for w in before):
            found = found or other
        else:
            found = found or mode
    return found
