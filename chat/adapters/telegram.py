"""The Telegram face: python-telegram-bot polling inside the engine's event loop.

`TelegramBot(settings, router)` translates and delivers; the router decides. `await start()`
initialises the bot (getMe), publishes the registry as the command menu (setMyCommands), trains
the offline parser in a worker thread, starts long polling and the application; `await stop()`
undoes it in reverse. Nothing blocks and no thread or loop of its own is started, so
`tradechat run` runs it beside the engine (never `run_polling()`, which owns the loop).

What it translates:

- text in a private chat, and commands anywhere (commands addressed to another bot in a group
  are left alone), to `router.handle_text`; edited messages are ignored (an edit must not
  repeat a trade request);
- a press of an inline button to `router.handle_button`: the query is answered, then the
  message holding the buttons is edited to show the outcome, its buttons removed. A reply the
  router marks ephemeral (someone else's confirmation) and any reply to a caller without a role
  become a pop-up answer to that press only, leaving the message and its buttons as they were;
- replies to Telegram HTML, split at 4096 units; a chart as a photo (the text as its caption
  when it fits 1024 units, else in messages after it); buttons as an inline keyboard under the
  last message; progress of long commands as messages.

`/start`: Telegram clients send it by themselves when someone opens the bot (and on every press
of the Start button), so on Telegram it never reaches the router's `start` intent, which
resumes new entries without confirmation. It answers with a welcome and the help text (a
caller without a role gets the router's refusal and nothing else). Trading is resumed with
`/resume` (the registry alias, published in the command menu in place of `start`) or in plain
language ("resume trading"), i.e. only when someone asks for it in words.

Push notifications (`notify`, `notify_bar`, `notify_flush`) go to the private chats of the owner
and the admins of `[telegram]`, one at a time through a queue, plain replies that pile up while
the engine is busy merged into one message. A failure to send is logged, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from botcore.config import Settings
from botcore.errors import ConfigError
from chat import registry
from chat.access import Caller
from chat.adapters.telegram_render import ButtonData, Outgoing, outgoing
from chat.notify import Outbox
from chat.reply import Reply, plain_text, strip_markup
from chat.router import Progress, Router

if TYPE_CHECKING:
    from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
    from telegram.ext import Application, ContextTypes

    from botcore.engine.live_trader import FlushReport
    from botcore.engine.trader import BarReport

    App = Application[Any, Any, Any, Any, Any, Any]

__all__ = ["TOKEN_ENV", "TelegramBot", "bot_commands", "telegram_token"]

_log = logging.getLogger("tradechat.telegram")

TOKEN_ENV = "TRADECHAT_TELEGRAM_TOKEN"  # noqa: S105 - the variable's name, not a token
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_DESCRIPTION_LIMIT = 256
_ALERT_LIMIT = 200  # characters of an answerCallbackQuery pop-up
# Telegram sends /start itself when a chat is opened; the resume intent is published as /resume.
_MENU_NAMES = {"start": "resume"}
_WELCOME = (
    "Welcome to tradechat, {name}. Ask in plain language or with a command. Opening this chat "
    "changes nothing; /resume resumes new entries."
)
_DRAIN_S = 5.0


def telegram_token(settings: Settings) -> str:
    """The bot token: `[telegram] token`, else the environment variable `TOKEN_ENV`.

    Raises:
        ConfigError: neither is set.
    """
    token = settings.telegram.token or os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        raise ConfigError(f"the Telegram bot needs a token: [telegram] token or ${TOKEN_ENV}")
    return token


def bot_commands() -> list[tuple[str, str]]:
    """(command, description) pairs for setMyCommands: every registry command but `unknown`,
    in registry order, with its help text; `start` is published as `resume` (see the module)."""
    commands: list[tuple[str, str]] = []
    for spec in registry.COMMANDS.values():
        if spec.name == "unknown":
            continue
        names = [_MENU_NAMES.get(spec.name, spec.name), *spec.aliases]
        name = next((n for n in names if _COMMAND_NAME.fullmatch(n)), None)
        if name is None:  # Telegram allows only [a-z0-9_]{1,32}
            _log.warning("/%s has no name Telegram accepts; left out of the menu", spec.name)
            continue
        help_text = spec.help or spec.name
        if len(help_text) > _DESCRIPTION_LIMIT:
            help_text = help_text[: _DESCRIPTION_LIMIT - 1] + "…"
        commands.append((name, help_text))
    return commands[:100]


def _for_another_bot(text: str, username: str | None) -> bool:
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    if not head.startswith("/") or "@" not in head:
        return False
    return head.partition("@")[2].lower() != (username or "").lower()


class TelegramBot:
    """The Telegram adapter over the shared router.

    Args:
        settings: The configuration; `[telegram]` gives the token (or env `TOKEN_ENV`),
            `base_url`/`base_file_url` and who is owner/admin (notification recipients).
        router: The router every surface shares.
        poll_timeout_s: Seconds one getUpdates long poll may wait.
        concurrent_updates: Updates handled at once (a backtest must not hold up a balance).

    Raises:
        ConfigError: no token is configured.
    """

    def __init__(
        self,
        settings: Settings,
        router: Router,
        *,
        poll_timeout_s: float = 10.0,
        concurrent_updates: int = 8,
    ) -> None:
        self.settings = settings
        self.router = router
        self.token = telegram_token(settings)
        self._poll_timeout = timedelta(seconds=poll_timeout_s)
        self._concurrency = concurrent_updates
        self._app: App | None = None
        self._buttons = ButtonData()
        self._outbox = Outbox(self.notify, "telegram-notify")

    @property
    def recipients(self) -> list[int]:
        """User ids whose private chats get notifications: the owner, then the admins."""
        config = self.settings.telegram
        ids = [config.owner] if config.owner is not None else []
        return list(dict.fromkeys([*ids, *config.admins]))

    @property
    def application(self) -> App:
        """The running python-telegram-bot Application."""
        if self._app is None:
            raise RuntimeError("the Telegram bot is not started")
        return self._app

    # -- lifecycle ------------------------------------------------------------------------------
    async def start(self) -> None:
        """Connect (getMe), publish the commands, start polling; returns once running.

        Raises:
            telegram.error.TelegramError: the token was refused or the API is unreachable.
        """
        if self._app is not None:
            raise RuntimeError("the Telegram bot is already started")
        app = self._build()
        try:
            await app.initialize()
            await self._post_init(app)
            assert app.updater is not None  # built with one
            await app.updater.start_polling(
                poll_interval=0.0,
                timeout=self._poll_timeout,
                allowed_updates=["message", "callback_query"],
            )
            await app.start()
        except BaseException:
            await _close(app)
            raise
        self._app = app
        self._outbox.start()
        _log.info("Telegram bot @%s polling", app.bot.username)

    async def stop(self) -> None:
        """Send queued notifications (a few seconds at most), stop polling, close."""
        app = self._app
        if app is None:
            return
        await self._outbox.stop(_DRAIN_S)
        self._app = None
        await _close(app)

    def _build(self) -> App:
        from telegram.ext import (
            ApplicationBuilder,
            CallbackQueryHandler,
            CommandHandler,
            MessageHandler,
            filters,
        )

        config = self.settings.telegram
        app = (
            ApplicationBuilder()
            .token(self.token)
            .base_url(config.base_url)
            .base_file_url(config.base_file_url)
            .concurrent_updates(self._concurrency)
            .build()
        )
        new = filters.UpdateType.MESSAGE
        app.add_handler(CommandHandler("start", self._on_start, filters=new))
        addressed = filters.ChatType.PRIVATE | filters.COMMAND
        app.add_handler(MessageHandler(new & filters.TEXT & addressed, self._on_text))
        app.add_handler(CallbackQueryHandler(self._on_button))
        app.add_error_handler(self._on_error)
        return app

    async def _post_init(self, app: App) -> None:
        """What `run_polling` would run as post_init: the command menu, the parser's training."""
        from telegram import BotCommand
        from telegram.error import TelegramError

        try:
            await app.bot.set_my_commands([BotCommand(n, d) for n, d in bot_commands()])
        except TelegramError:  # the bot works without a menu
            _log.warning("setMyCommands failed; the command menu is not updated", exc_info=True)

    # -- updates --------------------------------------------------------------------------------
    def _caller(self, update: Update) -> Caller | None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return None
        return Caller("telegram", str(user.id), str(chat.id), user.full_name)

    async def _on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, caller = update.effective_message, self._caller(update)
        if message is None or caller is None:
            return
        reply = await self.router.handle_command(caller, "help", {})
        if self.router.access.role(caller) is not None:
            welcome = _WELCOME.format(name=plain_text(caller.name))
            reply = replace(reply, text=f"{welcome}\n\n{reply.text}")
        await self.send(message.chat_id, reply)

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, caller = update.effective_message, self._caller(update)
        if message is None or message.text is None or caller is None:
            return
        if _for_another_bot(message.text, context.bot.username):
            return
        progress = self._progress(message.chat_id)
        reply = await self.router.handle_text(caller, message.text, progress)
        await self.send(message.chat_id, reply)

    async def _on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, caller = update.callback_query, self._caller(update)
        if query is None or query.data is None or caller is None:
            return
        chat_id = query.message.chat.id if query.message is not None else None
        progress = self._progress(chat_id) if chat_id is not None else None
        data = self._buttons.decode(query.data)
        reply = await self.router.handle_button(caller, data, progress)
        if reply.ephemeral or self.router.access.role(caller) is None:
            await query.answer(strip_markup(reply.text)[:_ALERT_LIMIT], show_alert=True)
            return
        await query.answer()
        await self._show_outcome(query, reply)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        _log.error("Telegram update failed", exc_info=context.error)

    # -- delivery -------------------------------------------------------------------------------
    def _progress(self, chat_id: int) -> Progress:
        async def progress(text: str) -> None:
            await self.send(chat_id, Reply(text))

        return progress

    async def send(self, chat_id: int | str, reply: Reply) -> list[Message]:
        """Deliver `reply` to a chat: photo, then text messages, the keyboard on the last.

        Raises:
            telegram.error.TelegramError: Telegram refused a message.
        """
        return await self._deliver(chat_id, outgoing(reply, self._buttons))

    async def _deliver(self, chat_id: int | str, out: Outgoing) -> list[Message]:
        from telegram.constants import ParseMode

        bot = self.application.bot
        keyboard = _keyboard(out)
        sent: list[Message] = []
        if out.image is not None:
            markup = keyboard if not out.texts else None
            mode = ParseMode.HTML if out.caption is not None else None
            sent.append(await bot.send_photo(chat_id, out.image, caption=out.caption,
                                             parse_mode=mode, reply_markup=markup,
                                             filename=out.image_name))  # fmt: skip
        for n, text in enumerate(out.texts, 1):
            markup = keyboard if n == len(out.texts) else None
            sent.append(await bot.send_message(chat_id, text, parse_mode=ParseMode.HTML,
                                               reply_markup=markup))  # fmt: skip
        return sent

    async def _show_outcome(self, query: CallbackQuery, reply: Reply) -> None:
        """Edit the pressed message to the outcome, its buttons gone; what an edit cannot hold
        (an image, more text) follows as new messages, and so does everything when the message
        cannot be edited (too old, or not text)."""
        from telegram import Message
        from telegram.constants import ParseMode
        from telegram.error import TelegramError

        message = query.message
        if message is None:  # a button under an inline-mode message: no chat to answer in
            return
        out = outgoing(reply, self._buttons)
        if not isinstance(message, Message) or message.text is None or out.image or not out.texts:
            with contextlib.suppress(TelegramError):  # only the buttons' removal may fail here
                await query.edit_message_reply_markup(reply_markup=None)
            await self._deliver(message.chat.id, out)
            return
        rest = out.texts[1:]
        markup = None if rest else _keyboard(out)
        try:
            await query.edit_message_text(out.texts[0], parse_mode=ParseMode.HTML,
                                          reply_markup=markup)  # fmt: skip
        except TelegramError:
            _log.warning("could not edit message %s; the outcome follows as a new message",
                         message.message_id, exc_info=True)  # fmt: skip
            rest = out.texts
        if rest:
            await self._deliver(message.chat.id, replace(out, texts=rest))

    # -- notifications --------------------------------------------------------------------------
    async def notify(self, reply: Reply) -> None:
        """Send `reply` to the owner's and admins' private chats now. A recipient who never
        opened the bot, or any other failure, is logged and skipped; nothing is raised."""
        if self._app is None:
            _log.warning("Telegram notification dropped: the bot is not running")
            return
        for user_id in self.recipients:
            try:
                await self.send(user_id, reply)
            except Exception:  # a notification must never take the engine down
                _log.warning("could not notify Telegram user %s", user_id, exc_info=True)

    def notify_bar(self, report: BarReport) -> None:
        """Queue what a committed bar did (fills, trades, breaker, alerts) for the recipients.

        Synchronous, for the engine's `on_bar` hook; the queue is sent in the background."""
        self._outbox.bar(report)

    def notify_flush(self, report: FlushReport) -> None:
        """Queue what sending orders to the exchange did (fills, refusals, failures)."""
        self._outbox.flush(report)


def _keyboard(out: Outgoing) -> InlineKeyboardMarkup | None:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    if not out.buttons:
        return None
    row = [InlineKeyboardButton(label, callback_data=data) for label, data in out.buttons]
    return InlineKeyboardMarkup([row])


async def _close(app: App) -> None:
    """Stop what runs, in reverse order of `start` (safe after a failed start)."""
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
    # after a failed initialize only this closes the HTTP connections
    await app.bot.shutdown()
