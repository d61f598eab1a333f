"""Text to intents: the slash grammar, the offline language parser, and their shared result.

`parse_text(text)` is the entry point: a message starting with `/` goes to the slash grammar,
anything else to the offline parser (trained on first use). Both return a `ParseResult` holding
an intent checked against `chat.registry`, or a clarifying question, or a polite error.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chat.parse.result import ParseResult, Source

if TYPE_CHECKING:
    from chat.parse.offline import OfflineParser

__all__ = ["ParseResult", "Source", "default_parser", "parse_text"]


@lru_cache(maxsize=4)
def default_parser(quote: str = "USDT") -> OfflineParser:
    """The shared offline parser for `quote` (built once; trained on its first message)."""
    # The parsers import chat.registry, which imports chat.parse.normalize and so runs this
    # package first; importing them here rather than at the top keeps that from being a cycle.
    from chat.parse.offline import OfflineParser

    return OfflineParser(quote=quote)


def parse_text(
    text: str, *, quote: str = "USDT", parser: OfflineParser | None = None
) -> ParseResult:
    """Parse one message.

    Args:
        text: what the user wrote.
        quote: the quote currency a bare base gets (`eth` -> `ETH/<quote>`); usually
            `settings.trading.quote`.
        parser: the offline parser to use for plain language (default: `default_parser(quote)`).
    """
    from chat.parse.slash import is_slash, parse_slash

    if is_slash(text):
        return parse_slash(text, quote=quote)
    return (parser or default_parser(quote)).parse(text)
