"""The LLM intent parser: any OpenAI-compatible server proposes, the registry decides.

`LlmParser` sends one message with the system prompt `prompts/intent_system.md` and either the
registry's commands as function tools (style "tools") or a JSON schema of `{"intent", "args"}`
(styles "json_schema" and "json_object", see `chat.parse.llm_prompt`). Whatever comes back is
only a proposal: it goes through `chat.registry.validate` like slash text, and a trading intent
must also be grounded in the user's words (`chat.parse.llm_guard`). The model never calls a
service and never sees a key; the router still asks before anything trades.

Any failure -- HTTP or connection errors, a timeout, a refusal, output cut at the token limit,
malformed JSON, an unknown intent, invalid or ungrounded arguments -- is logged with its reason
and the message goes to the fallback parser (slash grammar and offline parser) instead. When the
model answers `unknown`, the fallback's answer is used too, except a trade: the model's doubt
vetoes that. Slash commands and text that tries to instruct the bot never reach the model.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chat.intents import Unknown
from chat.parse import default_parser
from chat.parse.llm_guard import TRADING, ungrounded
from chat.parse.llm_prompt import PROMPTS_DIR, Style, response_format, system_prompt, tools
from chat.parse.offline import OfflineParser, is_hostile
from chat.parse.result import ParseResult
from chat.parse.slash import is_slash
from chat.registry import COMMANDS, IntentError, validate

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion

    from botcore.config import Settings

__all__ = [
    "CLEAN_CONFIDENCE",
    "NO_KEY",
    "PARTIAL_CONFIDENCE",
    "LlmOutcome",
    "LlmParser",
    "TextParser",
    "llm_text_parser",
    "settle",
]

_log = logging.getLogger("tradechat.chat.llm")

TextParser = Callable[[str], Awaitable[ParseResult]]
# Local servers (llama.cpp, Ollama) ignore the key, but the client insists on one.
NO_KEY = "not-needed"
# A validated, grounded answer; and one the parser had to trim (extra arguments or tool calls).
CLEAN_CONFIDENCE = 0.9
PARTIAL_CONFIDENCE = 0.7


class _Rejected(Exception):
    """The model's answer cannot be used; the message is the reason, for the log."""


@dataclass(frozen=True)
class _Proposal:
    name: str
    args: Mapping[str, Any]
    extra_calls: int = 0


@dataclass(frozen=True)
class LlmOutcome:
    """What came of asking the model about one message.

    Attributes:
        result: The accepted intent (source "llm"), or None when the answer was not usable.
        reason: Why not, when `result` is None.
        proposed: The intent name the model proposed, if it got that far.
        elapsed_s: Seconds from sending the request to deciding.
    """

    result: ParseResult | None
    reason: str | None = None
    proposed: str | None = None
    elapsed_s: float = 0.0


class LlmParser:
    """Plain language to intents through an OpenAI-compatible chat model, with a fallback.

    Args:
        base_url: The server's API root, e.g. `http://127.0.0.1:11434/v1`.
        model: The model name the server knows.
        fallback: Parses a message when the model's answer is not used (and every slash command).
        offline: The offline parser that checks trading proposals against the text.
        api_key: Sent as the bearer token; local servers accept anything.
        style: "tools", "json_schema" or "json_object" (see `chat.parse.llm_prompt.Style`).
        timeout_s: Seconds the whole request may take.
        quote: The quote currency a bare base gets (`eth` -> `ETH/<quote>`).
        tool_choice: For style "tools": "auto" (the default; the prompt asks for exactly one
            call, and an answer without one falls back) or "required", which OpenAI honours but
            llama-cpp-python's server answers with HTTP 500.
        temperature: Sent when not None (some hosted models accept only their default).
        max_tokens: Sent when not None (a cap for small local models that ramble).
        max_retries: The client's retries; 0 keeps a slow server from delaying the fallback.
        prompts: The folder holding `intent_system.md`.
    """

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        fallback: TextParser,
        offline: OfflineParser,
        api_key: str = NO_KEY,
        style: Style = "tools",
        timeout_s: float = 10.0,
        quote: str = "USDT",
        tool_choice: str = "auto",
        temperature: float | None = 0.0,
        max_tokens: int | None = None,
        max_retries: int = 0,
        prompts: Path = PROMPTS_DIR,
    ) -> None:
        self.base_url = base_url
        self.model = model
        self.fallback = fallback
        self.offline = offline
        self.style: Style = style
        self.timeout_s = timeout_s
        self.quote = quote.upper()
        self.tool_choice = tool_choice
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.max_retries = max_retries
        self.system_prompt = system_prompt(style, self.quote, prompts)
        self._api_key = api_key
        self._client: AsyncOpenAI | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, fallback: TextParser, offline: OfflineParser | None = None
    ) -> LlmParser:
        """The parser `[llm]` describes; the key comes from the variable named by `api_key_env`.

        Raises:
            ValueError: `[llm]` lacks `base_url` or `model`.
        """
        llm = settings.llm
        if not llm.base_url or not llm.model:
            raise ValueError("the LLM parser needs [llm] base_url and model in the config")
        quote = settings.trading.quote
        return cls(
            base_url=llm.base_url,
            model=llm.model,
            fallback=fallback,
            offline=offline or default_parser(quote),
            api_key=os.environ.get(llm.api_key_env) or NO_KEY,
            style=llm.style,
            timeout_s=llm.timeout_s,
            quote=quote,
        )

    async def parse(self, text: str) -> ParseResult:
        """The intent of one message: the model's when usable, the fallback's otherwise."""
        if is_slash(text):
            return await self.fallback(text)
        outcome = await self.ask(text)
        if outcome.result is not None and outcome.result.intent != Unknown():
            return outcome.result
        return settle(outcome, await self.fallback(text))

    async def ask(self, text: str) -> LlmOutcome:
        """Ask the model about `text` and check its answer, without falling back."""
        if not text.strip():
            return LlmOutcome(None, "empty message")
        if is_hostile(text):
            return LlmOutcome(None, "the text tries to instruct the bot; not sent to the model")
        started = time.perf_counter()
        proposal: _Proposal | None = None
        try:
            completion = await self._complete(text)
            proposal = self._read(completion)
            result = self._accept(proposal, text)
        except _Rejected as exc:
            proposed = proposal.name if proposal else None
            return LlmOutcome(None, str(exc), proposed, time.perf_counter() - started)
        return LlmOutcome(result, None, proposal.name, time.perf_counter() - started)

    async def aclose(self) -> None:
        """Close the HTTP client (its connections); the parser opens a new one if used again."""
        if self._client is not None:
            await self._client.close()
            self._client = None

    def _openai(self) -> AsyncOpenAI:
        if self._client is None:
            # openai costs over a second to import: only a configured, used parser pays for it
            from openai import AsyncOpenAI

            self._client = AsyncOpenAI(
                base_url=self.base_url,
                api_key=self._api_key,
                timeout=self.timeout_s,
                max_retries=self.max_retries,
            )
        return self._client

    async def _complete(self, text: str) -> ChatCompletion:
        import openai

        request: dict[str, Any] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": self.system_prompt},
                {"role": "user", "content": text},
            ],
        }
        if self.style == "tools":
            request.update(tools=tools(), tool_choice=self.tool_choice)
        else:
            request["response_format"] = response_format(self.style)
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        client = self._openai()
        try:
            # the client's timeout bounds each read; this bounds the whole exchange
            async with asyncio.timeout(self.timeout_s):
                return await client.chat.completions.create(stream=False, **request)
        except (TimeoutError, openai.APITimeoutError):
            raise _Rejected(f"no answer within {self.timeout_s:g} s") from None
        except openai.APIStatusError as exc:
            raise _Rejected(f"HTTP {exc.status_code} from the server: {exc.message}") from None
        except openai.APIConnectionError as exc:
            raise _Rejected(f"cannot reach {self.base_url}: {exc}") from None
        except openai.OpenAIError as exc:
            raise _Rejected(f"the client failed: {exc}") from None

    def _read(self, completion: ChatCompletion) -> _Proposal:
        if not completion.choices:
            raise _Rejected("the answer has no choices")
        choice = completion.choices[0]
        message = choice.message
        if message.refusal:
            raise _Rejected(f"the model refused: {message.refusal}")
        if choice.finish_reason == "length":
            raise _Rejected("the answer was cut off at the token limit")
        if self.style == "tools":
            calls = [c for c in message.tool_calls or [] if c.type == "function"]
            if not calls:
                raise _Rejected("the model called no function")
            function = calls[0].function
            args = _json_object(function.arguments or "{}", "the function arguments")
            return _Proposal(function.name, args, len(calls) - 1)
        answer = _json_object(message.content or "", "the answer")
        name, args = answer.get("intent"), answer.get("args", {})
        if not isinstance(name, str) or not isinstance(args, dict):
            raise _Rejected('the answer is not {"intent": <name>, "args": {...}}')
        return _Proposal(name, args)

    def _accept(self, proposal: _Proposal, text: str) -> ParseResult:
        spec = COMMANDS.get(proposal.name)
        if spec is None:
            raise _Rejected(f"the model proposed an unknown intent {proposal.name!r}")
        given = {k: v for k, v in proposal.args.items() if v is not None and v != ""}
        extra = sorted(key for key in given if spec.arg(key) is None)
        try:
            intent = validate(
                spec.name, {k: v for k, v in given.items() if k not in extra}, quote=self.quote
            )
        except IntentError as exc:
            raise _Rejected(f"invalid arguments for {spec.name}: {exc}") from None
        problem = ungrounded(intent, text, self.offline)
        if problem:
            raise _Rejected(f"not in the user's words: {problem}")
        if extra or proposal.extra_calls:
            _log.info(
                "LLM parser: %s kept; dropped arguments %s and %d further call(s)",
                spec.name,
                extra,
                proposal.extra_calls,
            )
            return ParseResult(intent, PARTIAL_CONFIDENCE, "llm")
        return ParseResult(intent, CLEAN_CONFIDENCE, "llm")


def settle(outcome: LlmOutcome, fallback: ParseResult) -> ParseResult:
    """What a message comes to when the model gave no intent: the fallback's result, unless the
    model said `unknown` and the fallback found a trade -- then the model's doubt wins."""
    if outcome.result is None:
        _log.warning("LLM parser: using the offline parser instead: %s", outcome.reason)
        return fallback
    if outcome.result.intent != Unknown():
        return outcome.result
    if fallback.intent is not None and fallback.intent.name in TRADING:
        _log.warning(
            "LLM parser: the model saw no command, so %s from the offline parser is not used",
            fallback.intent.name,
        )
        return outcome.result
    # a small or cautious model says unknown to much it could have answered; the offline
    # parser may know better, and without a trade at stake it gets the last word
    _log.info("LLM parser: the model saw no command; the offline parser's answer is used")
    return fallback


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise _Rejected(f"{what}: not JSON ({exc.msg})") from None
    if not isinstance(value, dict):
        raise _Rejected(f"{what}: not a JSON object")
    return value


def llm_text_parser(settings: Settings, fallback: TextParser) -> TextParser:
    """The router's parse function for `[llm]`: the model first, `fallback` on any failure.

    Raises:
        ValueError: `[llm]` lacks `base_url` or `model`.
    """
    parser = LlmParser.from_settings(settings, fallback)

    async def parse(text: str) -> ParseResult:
        return await parser.parse(text)

    return parse
