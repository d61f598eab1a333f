"""The command router: authorise, parse, validate, confirm, dispatch, and answer politely.

Every surface (Telegram, Discord, the console, the TUI's chat panel) hands the router a `Caller`
and what they sent: text (`handle_text`), an already structured command (`handle_command`,
Discord's slash commands) or a button press (`handle_button`). The router:

1. refuses a caller with no role, and does nothing else for them;
2. parses text (slash grammar, else the language parser) into a typed intent, or answers with
   the parser's clarifying question or error;
3. checks the caller's role against the intent's;
4. for an intent that needs confirmation, previews it (a trade is sized and risk-checked, nothing
   is written) and answers with Confirm/Cancel buttons bound to the caller, valid for
   `[chat] confirm_ttl_s`; only the press of that caller's Confirm runs it;
5. dispatches to `chat.commands`, and turns every error into a specific, polite reply; the
   traceback of an unexpected error goes to the log, never to the chat.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from botcore.errors import BotcoreError
from chat import registry
from chat.access import AccessPolicy, Caller
from chat.commands import BotContext, dispatch, preview
from chat.intents import Intent, Unknown
from chat.parse.result import ParseResult
from chat.reply import Button, Reply

__all__ = ["Progress", "Router", "TextParser"]

_log = logging.getLogger("tradechat.chat")

Progress = Callable[[str], Awaitable[None]]
TextParser = Callable[[str], Awaitable[ParseResult]]

_REFUSAL = "Sorry, this bot only answers the people its owner has allowed."
_RATE_WINDOW_S = 60.0
_RATE_LIMIT = 30  # messages per caller per minute


@dataclass(frozen=True)
class _Pending:
    caller: str
    intent: Intent
    expires: float


class Router:
    """One router per bot process, shared by every adapter.

    Args:
        context: The services the commands use.
        parse: Text to a parse result (offline parser, or the LLM parser with its fallback).
        clock: Monotonic seconds (injected so tests can expire confirmations).
    """

    def __init__(
        self,
        context: BotContext,
        parse: TextParser,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.context = context
        self.access = AccessPolicy(context.settings)
        self._parse = parse
        self._clock = clock
        self._ttl = context.settings.chat.confirm_ttl_s
        self._pending: dict[str, _Pending] = {}
        self._recent: dict[str, deque[float]] = {}

    # -- entry points -------------------------------------------------------------------------
    async def handle_text(
        self, caller: Caller, text: str, progress: Progress | None = None
    ) -> Reply:
        """Answer a message: a slash command or plain language."""
        refusal = self._gate(caller)
        if refusal is not None:
            return refusal
        try:
            parsed = await self._parse(text)
        except Exception:  # the parser is our code: never show its failure as a traceback
            _log.exception("parser failed on a message from %s", caller.key)
            return Reply("Sorry, I could not read that message. Try /help for the commands.")
        if parsed.intent is None:
            return Reply(parsed.reply or "Sorry, I did not understand. Try /help.")
        return await self._run(caller, parsed.intent, progress)

    async def handle_command(
        self,
        caller: Caller,
        name: str,
        args: Mapping[str, object],
        progress: Progress | None = None,
    ) -> Reply:
        """Answer a structured command (a Discord slash command with its options)."""
        refusal = self._gate(caller)
        if refusal is not None:
            return refusal
        try:
            intent = registry.validate(name, args, quote=self.context.quote)
        except registry.IntentError as exc:
            return Reply(str(exc))
        return await self._run(caller, intent, progress)

    async def handle_button(
        self, caller: Caller, data: str, progress: Progress | None = None
    ) -> Reply:
        """Answer a button press: a confirmation or a cancellation of a pending command."""
        refusal = self._gate(caller)
        if refusal is not None:
            return refusal
        action, _, token = data.partition(":")
        self._expire()
        pending = self._pending.get(token)
        if action not in ("ok", "no") or pending is None:
            return Reply("That button has expired; send the command again if you still want it.")
        if pending.caller != caller.key:
            return Reply("That confirmation belongs to someone else.", ephemeral=True)
        del self._pending[token]
        if action == "no":
            return Reply(f"Cancelled: {describe(pending.intent)}.")
        return await self._execute(caller, pending.intent, progress, confirmed=token)

    # -- the pipeline -------------------------------------------------------------------------
    def _gate(self, caller: Caller) -> Reply | None:
        if self.access.role(caller) is None:
            _log.info("refused %s", caller.key)
            return Reply(_REFUSAL)
        now = self._clock()
        recent = self._recent.setdefault(caller.key, deque())
        while recent and recent[0] < now - _RATE_WINDOW_S:
            recent.popleft()
        if len(recent) >= _RATE_LIMIT:
            return Reply("You are sending messages faster than I can answer; wait a minute.")
        recent.append(now)
        return None

    async def _run(self, caller: Caller, intent: Intent, progress: Progress | None) -> Reply:
        role = self.access.role(caller)
        needed = registry.required_role(intent)
        if role is None or not registry.role_allows(role, needed):
            return Reply(
                f"Sorry, /{intent.name} needs the {needed} role; you are a {role}.",
                ephemeral=True,
            )
        spec = registry.lookup(intent.name)
        if spec is not None and spec.needs_confirmation and not isinstance(intent, Unknown):
            return await self._ask(caller, intent)
        return await self._execute(caller, intent, progress, confirmed=None)

    async def _ask(self, caller: Caller, intent: Intent) -> Reply:
        try:
            summary = await asyncio.to_thread(preview, self.context, intent, caller)
        except BotcoreError as exc:
            return Reply(f"I can't do that: {exc}")
        self._expire()
        token = secrets.token_urlsafe(9)
        self._pending[token] = _Pending(caller.key, intent, self._clock() + self._ttl)
        return Reply(
            f"{summary}\nConfirm within {self._ttl:.0f} seconds?",
            buttons=(Button("Confirm", f"ok:{token}"), Button("Cancel", f"no:{token}")),
        )

    async def _execute(
        self, caller: Caller, intent: Intent, progress: Progress | None, confirmed: str | None
    ) -> Reply:
        try:
            return await dispatch(self.context, intent, caller, progress, confirmed)
        except BotcoreError as exc:
            return Reply(f"I can't do that: {exc}")
        except Exception:
            _log.exception("/%s from %s failed", intent.name, caller.key)
            return Reply(
                f"Sorry, something went wrong on my side while running /{intent.name}; "
                "it has been logged. Nothing was changed."
            )

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, p in self._pending.items() if p.expires < now]:
            del self._pending[token]


def describe(intent: Intent) -> str:
    """`/buy symbol=BTC/USDT amount=0.01`: the intent as a command line, for messages."""
    args = " ".join(f"{k}={v}" for k, v in intent.args().items())
    return f"/{intent.name}" + (f" {args}" if args else "")
