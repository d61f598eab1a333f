"""Slash commands: `/profit 7`, `/chart ETH/USDT 1h`, `/buy BTC/USDT 0.01`, `/backtest ema_cross
BTC/USDT 1h 30`.

Arguments go in registry order or as `name=value`. A positional word fills the next argument it
fits, so optional ones can be skipped (`/profit eth` is the profit of ETH/USDT, `/buy eth $500`
spends 500 USDT); a required argument cannot be skipped. Values of more than one word are taken
whole (`/profit last 3 days`, `/chart eth 4 hour`). A `@botname` suffix on the command (Telegram
groups) is ignored; a mistyped command gets a "did you mean".
"""

from __future__ import annotations

import re
import shlex

from chat.parse.normalize import NormalizeError, normalize_symbol
from chat.parse.result import ParseResult
from chat.registry import (
    ArgKind,
    ArgSpec,
    ArgumentError,
    CommandSpec,
    IntentError,
    coerce,
    lookup,
    suggest,
    validate,
)

__all__ = ["is_slash", "parse_slash"]

_KEYWORD = re.compile(r"^([A-Za-z_][\w-]*)=(.*)$")
# How many words one value may span, longest tried first.
_SPAN: dict[ArgKind, int] = {
    "period": 3,
    "timeframe": 2,
    "amount": 2,
    "money": 2,
    "price": 2,
    "fraction": 2,
    "value": 2,
}


def is_slash(text: str) -> bool:
    """True when `text` is a slash command."""
    return text.lstrip().startswith("/")


def parse_slash(text: str, *, quote: str = "USDT") -> ParseResult:
    """The intent of a slash command, or a polite error naming what is wrong."""
    words = _split(text.strip().removeprefix("/"))
    if not words or not words[0]:
        return ParseResult(None, 0.0, "slash", error="Send /help to see the commands.")
    name = words[0].split("@", 1)[0]
    spec = lookup(name)
    if spec is None:
        close = suggest(name, n=1)
        hint = f" Did you mean /{close[0]}?" if close else " Send /help to see the commands."
        return ParseResult(
            None, 0.0, "slash", error=f"I don't know /{name}.{hint}", candidates=tuple(close)
        )
    try:
        values = _arguments(spec, words[1:], quote)
        intent = validate(spec.name, values, quote=quote)
    except IntentError as exc:
        message = str(exc) if str(exc).endswith((".", "?")) else f"{exc}."
        usage = f" Usage: {spec.usage}" if spec.args else ""
        return ParseResult(None, 1.0, "slash", error=message + usage, candidates=(spec.name,))
    return ParseResult(intent, 1.0, "slash")


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unbalanced quote: words as typed are still worth a try
        return text.split()


def _arguments(spec: CommandSpec, words: list[str], quote: str) -> dict[str, object]:
    values: dict[str, object] = {}
    positional: list[str] = []
    for word in words:
        keyword = _KEYWORD.match(word)
        if keyword:
            key = keyword.group(1).lower().replace("-", "_")
            if key in values:
                raise ArgumentError(spec.name, f"{key} is given twice.", key, "conflict")
            values[key] = keyword.group(2)
        else:
            positional.append(word)
    index = 0
    while index < len(positional):
        index = _place(spec, positional, index, values, quote)
    return values


def _place(
    spec: CommandSpec, words: list[str], index: int, values: dict[str, object], quote: str
) -> int:
    """Put the words at `index` into the first open argument they fit; the next index."""
    first_error: ArgumentError | None = None
    open_args = _open_args(spec, values)
    # the longest reading wins: "500 usdt" is a sum to spend before "500" is an amount
    for width in range(min(3, len(words) - index), 0, -1):
        text = " ".join(words[index : index + width])
        for arg in open_args:
            if width > _SPAN.get(arg.kind, 1):
                continue
            try:
                coerce(spec, arg, text, quote, _market(values, quote))
            except ArgumentError as exc:
                # an argument the value is the right sort for says more than one it is not for
                better = first_error is not None and first_error.problem == "mismatch"
                if first_error is None or (better and exc.problem != "mismatch"):
                    first_error = exc
                continue
            values[arg.name] = text
            return index + width
    if first_error is not None:
        raise first_error
    extra = "takes no arguments" if not spec.args else f"has no place for '{words[index]}'"
    raise ArgumentError(spec.name, f"/{spec.name} {extra}.", None, "unknown")


def _open_args(spec: CommandSpec, values: dict[str, object]) -> list[ArgSpec]:
    """Arguments a positional word may fill: open optional ones and the first open required."""
    excluded = set()
    if spec.exclusive and any(name in values for name in spec.exclusive):
        excluded = set(spec.exclusive) - values.keys()
    open_args = []
    for arg in spec.args:
        if arg.name in values or arg.name in excluded:
            continue
        open_args.append(arg)
        if arg.required:
            break
    return open_args


def _market(values: dict[str, object], quote: str) -> str | None:
    symbol = values.get("symbol")
    if not isinstance(symbol, str):
        return None
    try:
        return normalize_symbol(symbol, quote)
    except NormalizeError:
        return None
