"""Wiring: one router per process, with the parser the configuration asks for.

`build_router(settings)` gives the router every adapter shares: the offline language parser by
default; with `[llm] base_url` and `model` set, the LLM parser, which falls back to the offline
one on any failure. Slash commands never go to a model.
"""

from __future__ import annotations

from botcore.config import Settings
from chat.commands import BotContext
from chat.parse import ParseResult, default_parser, parse_text
from chat.router import Router, TextParser

__all__ = ["build_router", "offline_text_parser"]


def offline_text_parser(settings: Settings) -> TextParser:
    """Slash grammar and the offline parser, as the router's async parse function."""
    quote = settings.trading.quote
    parser = default_parser(quote)

    async def parse(text: str) -> ParseResult:
        return parse_text(text, quote=quote, parser=parser)

    return parse


def build_router(settings: Settings, context: BotContext | None = None) -> Router:
    """The router over `context` (default: a context on `[database] url`)."""
    ctx = context or BotContext(settings)
    return Router(ctx, _text_parser(settings))


def _text_parser(settings: Settings) -> TextParser:
    offline = offline_text_parser(settings)
    if settings.llm.base_url and settings.llm.model:
        from chat.parse.llm import llm_text_parser

        return llm_text_parser(settings, offline)
    return offline
