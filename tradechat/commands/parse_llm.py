"""`tradechat parse --llm`: the same JSON as `tradechat parse`, from the `[llm]` model.

Each line is `{"intent", "args", "confidence", "source"}` (plus `question` or `error`), where
`source` says who answered: "llm", or "offline"/"slash" when the model was not asked or its
answer was not usable (the reason goes to the log, on standard error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator

from botcore.config import Settings
from chat.parse import ParseResult, default_parser, parse_text
from chat.parse.llm import LlmParser
from chat.parse.result import dumps

__all__ = ["llm_configured", "llm_json_lines"]


def llm_configured(settings: Settings) -> bool:
    """True when `[llm]` names a server and a model."""
    return bool(settings.llm.base_url and settings.llm.model)


def llm_json_lines(settings: Settings, texts: Iterable[str]) -> Iterator[str]:
    """One JSON line per message, parsed by the LLM parser with the offline fallback.

    One event loop and one HTTP client serve all the messages; both close when the iteration
    ends.

    Raises:
        ValueError: `[llm]` lacks `base_url` or `model`.
    """
    quote = settings.trading.quote
    offline = default_parser(quote)

    async def fallback(text: str) -> ParseResult:
        return parse_text(text, quote=quote, parser=offline)

    parser = LlmParser.from_settings(settings, fallback, offline)
    with asyncio.Runner() as runner:
        try:
            for text in texts:
                result = runner.run(parser.parse(text))
                yield dumps(result.to_dict() | {"source": result.source})
        finally:
            runner.run(parser.aclose())
