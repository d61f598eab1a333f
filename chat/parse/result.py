"""What a parser returns: an intent, or a question or error to send back instead."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from chat.intents import Intent
from chat.parse.normalize import format_decimal

__all__ = ["ParseResult", "Source", "dumps"]

Source = Literal["slash", "offline", "llm"]


@dataclass(frozen=True)
class ParseResult:
    """The outcome of parsing one message.

    Exactly one of `intent`, `question` and `error` is set: an intent to run (possibly
    `Unknown`), a clarifying question when the parser is not sure enough to act, or a polite
    error for input it understood but cannot accept (a bad argument, an unknown command).
    `candidates` are the intent names a question offers, best first (adapters may make buttons
    of them).
    """

    intent: Intent | None
    confidence: float
    source: Source
    question: str | None = None
    error: str | None = None
    candidates: tuple[str, ...] = ()

    @property
    def reply(self) -> str | None:
        """The question or error to send back, if there is one."""
        return self.question or self.error

    def to_dict(self) -> dict[str, object]:
        """`{"intent", "args", "confidence"}`; plus `question` or `error` when set."""
        found: dict[str, object] = {
            "intent": self.intent.name if self.intent is not None else None,
            "args": self.intent.args() if self.intent is not None else {},
            "confidence": round(self.confidence, 3),
        }
        if self.question:
            found["question"] = self.question
        if self.error:
            found["error"] = self.error
        return found

    def to_json(self) -> str:
        """`to_dict()` as one line of JSON with Decimals written exactly (0.01, not a float)."""
        return dumps(self.to_dict())


def dumps(value: object) -> str:
    """JSON text of dicts, lists, strings, numbers and None; a Decimal is written as its exact
    digits so `Decimal("0.01")` stays `0.01`."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, dict):
        items = (f"{json.dumps(str(key))}: {dumps(item)}" for key, item in value.items())
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(dumps(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)
