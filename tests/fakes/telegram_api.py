"""A local stand-in for the Telegram Bot API, for the real python-telegram-bot to poll and call.

An aiohttp server on 127.0.0.1 (port 0) serving `/bot{token}/{method}` (any verb) and
`/file/bot{token}/{path}`; point PTB at it with `ApplicationBuilder().base_url(fake.base_url)
.base_file_url(fake.base_file_url)`. It speaks the Bot API envelope (`{"ok": true, "result": ...}`,
errors as `{"ok": false, "error_code", "description"}` with the same HTTP status) and is stricter
than a mock where Telegram itself refuses things, because those refusals are the bugs a chat
adapter ships with:

- a wrong token gets 401; a method the fake lacks gets 400 naming it (never 404: PTB reads 404
  as "token rejected");
- texts and captions are parsed like Telegram does for `parse_mode` HTML (tags Telegram knows,
  balanced) and MarkdownV2 (reserved characters escaped, entities closed), and their length is
  checked after parsing (4096 / 1024 UTF-16 units); an empty text is refused;
- a chat the bot never heard from is "chat not found"; an edit to an unknown message, or one that
  changes nothing, is refused; a callback query can be answered once; command names and callback
  data follow Telegram's limits; an uploaded photo must really be an image.

The wording of these errors follows Telegram's where known ("Bad Request: message is too long").
`getUpdates` is an honest long poll: updates below `offset` are forgotten, an empty queue waits up
to `timeout` seconds, and `stop()` releases waiting polls so teardown takes milliseconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from types import TracebackType
from typing import TYPE_CHECKING, Any

from aiohttp import web

from tests.fakes.telegram_wire import (
    BotApiError,
    BotCall,
    Files,
    checked_caption,
    checked_markup,
    checked_text,
    decode_param,
    png_size,
    read_params,
)

if TYPE_CHECKING:
    from telegram.ext import Application

__all__ = ["FakeTelegram", "running_application"]

_UPLOAD_LIMIT = 50 * 2**20
_METHODS = (
    "getMe", "deleteWebhook", "setMyCommands", "getMyCommands", "deleteMyCommands", "sendMessage",
    "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup", "deleteMessage",
    "answerCallbackQuery", "sendChatAction", "getFile",
)  # fmt: skip
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})  # fmt: skip
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF")
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_STALE_QUERY = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


@dataclass
class FakeTelegram:
    """The Bot API on 127.0.0.1 plus a scripted user side; use `async with FakeTelegram() as tg`.

    Attributes:
        token: The bot token PTB must use (anything else gets 401).
        bot_id, bot_username, bot_first_name: What getMe answers.
        calls: Every call except getUpdates since the last `reset()`, in order.
        my_commands: The command lists set by setMyCommands, by (scope JSON, language code).
        updates: Updates not yet acknowledged by an `offset`.
        long_polling: Set once a getUpdates has had to wait (the bot is idle and polling).
    """

    token: str = "4242:TEST-TOKEN"  # noqa: S105 - a fake bot token, accepted only here
    bot_id: int = 4242
    bot_username: str = "test_bot"
    bot_first_name: str = "TestBot"
    calls: list[BotCall] = field(default_factory=list)
    my_commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    updates: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(100)
        self._update_ids = itertools.count(1)
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._files: dict[str, tuple[bytes, str]] = {}
        self._open_queries: set[str] = set()
        self._failures: dict[str, list[BotApiError]] = {}
        self._changed = asyncio.Event()
        self.long_polling = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._methods: dict[str, Callable[[dict[str, Any], Files], Any]] = {
            name.lower(): getattr(self, f"_{name}") for name in _METHODS
        }

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=_UPLOAD_LIMIT + 2**20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self._port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """Release pending long polls, then close the server (milliseconds, not `timeout`)."""
        self._closing = True
        self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For `ApplicationBuilder().base_url()`: PTB appends the token and then `/method`."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For `ApplicationBuilder().base_file_url()`."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # -- the user side -------------------------------------------------------------------------

    def user_says(
        self, text: str, user_id: int = 1001, chat_id: int | None = None, first_name: str = "Alice"
    ) -> dict[str, Any]:
        """Queue a text message from a user (a private chat unless `chat_id` names a group).

        A text starting with "/" carries the `bot_command` entity PTB's CommandHandler needs.
        Returns the Message dict of the update.
        """
        message = self._user_message(user_id, chat_id, first_name, text=text)
        if text.startswith("/"):
            length = len(text.split(maxsplit=1)[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        self._push({"message": message})
        return message

    def user_sends_photo(
        self,
        data: bytes,
        caption: str | None = None,
        user_id: int = 1001,
        first_name: str = "Alice",
    ) -> dict[str, Any]:
        """Queue a photo from a user; the bot can fetch its bytes through getFile and download."""
        file_id = self.add_file(data)
        width, height = png_size(data) or (0, 0)
        photo = {"file_id": file_id, "file_unique_id": f"{file_id}u", "width": width}
        photo |= {"height": height, "file_size": len(data)}
        message = self._user_message(user_id, None, first_name, photo=[photo])
        if caption is not None:
            message["caption"] = caption
        self._push({"message": message})
        return message

    def user_clicks(
        self,
        callback_data: str,
        message: dict[str, Any] | int,
        user_id: int = 1001,
        first_name: str = "Alice",
    ) -> dict[str, Any]:
        """Queue a press on an inline button of one of the bot's messages (dict or message_id).

        The button must be on the message as it is now (after edits), as in a real client.
        Returns the CallbackQuery dict.
        """
        current = self._find_message(message)
        buttons = [
            button.get("callback_data")
            for row in current.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
        ]
        if callback_data not in buttons:
            raise ValueError(f"no button {callback_data!r} on message; it has {buttons}")
        query_id = f"cq{next(self._ids)}"
        self._open_queries.add(query_id)
        query = {"id": query_id, "from": self._user(user_id, first_name), "data": callback_data}
        query |= {"chat_instance": f"ci{current['chat']['id']}", "message": copy.deepcopy(current)}
        self._push({"callback_query": query})
        return query

    def add_private_chat(self, user_id: int = 1001, first_name: str = "Alice") -> None:
        """Make a user known (as if they had started the bot) without sending anything."""
        self._chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}

    def add_file(self, data: bytes, file_path: str | None = None) -> str:
        """Store bytes under a new file_id, served by getFile and the file URL."""
        file_id = f"file{next(self._ids)}"
        self._files[file_id] = (data, file_path or f"files/{file_id}")
        return file_id

    def fail_next(
        self, method: str, code: int = 400, description: str = "", retry_after: int | None = None
    ) -> None:
        """Answer the next call of `method` with this error (e.g. 429 with `retry_after`)."""
        error = BotApiError(code, description or f"injected failure of {method}", retry_after)
        self._failures.setdefault(method.lower(), []).append(error)

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 2.0,  # noqa: ASYNC109 - the deadline is reported in the error raised
    ) -> list[BotCall]:
        """All calls of `method` (refused ones included, see `.error`) once there are at least
        `count`; raises TimeoutError listing the calls seen if they do not come in `timeout` s."""
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found := self.calls_to(method)) < count:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                seen = [(c.method, c.error) for c in self.calls]
                raise TimeoutError(f"{count} x {method} not called within {timeout}s; saw {seen}")
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)
        return found

    def calls_to(self, method: str) -> list[BotCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def reset(self) -> None:
        """Forget recorded calls, undelivered updates and injected failures (ids keep growing)."""
        self.calls.clear()
        self.updates.clear()
        self._failures.clear()

    # -- plumbing ------------------------------------------------------------------------------

    def _notify(self) -> None:
        # One event per generation: waiters hold the old one, which is set exactly once.
        self._changed.set()
        self._changed = asyncio.Event()

    def _push(self, update: dict[str, Any]) -> None:
        self.updates.append({"update_id": next(self._update_ids), **update})
        self._notify()

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name}

    def _user_message(
        self, user_id: int, chat_id: int | None, first_name: str, **content: Any
    ) -> dict[str, Any]:
        if chat_id is None or chat_id == user_id:
            self.add_private_chat(user_id, first_name)
            chat_id = user_id
        else:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            self._chats[chat_id] = {"id": chat_id, "type": kind, "title": f"Group {chat_id}"}
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": self._chats[chat_id],
            "from": self._user(user_id, first_name),
            **content,
        }

    def _find_message(self, message: dict[str, Any] | int) -> dict[str, Any]:
        if isinstance(message, dict):
            found = self._messages.get((message["chat"]["id"], message["message_id"]))
        else:
            found = next((m for (_, mid), m in self._messages.items() if mid == message), None)
        if found is None:
            raise ValueError(f"the bot never sent message {message!r} (or deleted it)")
        return found

    def _record(self, call: BotCall) -> None:
        self.calls.append(call)
        self._notify()

    async def _handle_method(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return BotApiError(401, "Unauthorized").response()
        method = request.match_info["method"]
        raw, files = await read_params(request)
        params = {key: decode_param(key, value) for key, value in raw.items()}
        if method.lower() == "getupdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        try:
            if self._failures.get(method.lower()):
                raise self._failures[method.lower()].pop(0)
            implementation = self._methods.get(method.lower())
            if implementation is None:
                raise BotApiError(400, f"fake Bot API: {method} not implemented")
            result = implementation(params, files)
        except BotApiError as exc:
            self._record(BotCall(method, params, raw, files, error=exc.description))
            return exc.response()
        self._record(BotCall(method, params, raw, files, result=result))
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return BotApiError(401, "Unauthorized").response()
        path = request.match_info["path"]
        for data, file_path in self._files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return BotApiError(404, "Not Found").response()

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + float(params.get("timeout") or 0)
        while True:
            offset = params.get("offset")
            allowed = params.get("allowed_updates") or None
            # Telegram forgets what is acknowledged and never stores what is filtered out.
            self.updates[:] = [
                u
                for u in self.updates
                if (not isinstance(offset, int) or u["update_id"] >= offset)
                and (allowed is None or next(k for k in u if k != "update_id") in allowed)
            ]
            remaining = deadline - loop.time()
            if self.updates or self._closing or remaining <= 0:
                return [] if self._closing else self.updates[: int(params.get("limit") or 100)]
            changed = self._changed
            self.long_polling.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), remaining)

    # -- methods -------------------------------------------------------------------------------

    def _bot_user(self) -> dict[str, Any]:
        bot = {"id": self.bot_id, "is_bot": True, "first_name": self.bot_first_name}
        return bot | {"username": self.bot_username}

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chats.get(params.get("chat_id", 0))
        if chat is None:
            raise BotApiError(400, "Bad Request: chat not found")
        return chat

    def _new_message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        chat = self._chat(params)
        message: dict[str, Any] = {"message_id": next(self._ids), "date": int(time.time())}
        message["chat"] = chat
        message |= {"from": self._bot_user(), **content}
        if markup := checked_markup(params):
            message["reply_markup"] = markup
        self._messages[(chat["id"], message["message_id"])] = message
        return copy.deepcopy(message)

    def _stored(self, params: dict[str, Any], action: str = "edit") -> dict[str, Any]:
        if "inline_message_id" in params:
            raise BotApiError(400, "fake Bot API: inline messages not implemented")
        message = self._messages.get((params.get("chat_id", 0), params.get("message_id", 0)))
        if message is None:
            raise BotApiError(400, f"Bad Request: message to {action} not found")
        return message

    def _upload(self, params: dict[str, Any], files: Files, name: str) -> str:
        """The file_id of an uploaded part, or of a known file_id given as a string."""
        self._chat(params)
        if name in files:
            upload = files[name]
            if len(upload.data) > _UPLOAD_LIMIT:
                raise BotApiError(413, "Request Entity Too Large")
            return self.add_file(upload.data, f"{name}s/{upload.filename or 'file'}")
        if params.get(name) in self._files:
            return str(params[name])
        raise BotApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _getMe(self, params: dict[str, Any], files: Files) -> Any:
        return self._bot_user() | {"can_join_groups": True, "supports_inline_queries": False}

    def _deleteWebhook(self, params: dict[str, Any], files: Files) -> Any:
        if params.get("drop_pending_updates") is True:
            self.updates.clear()
        return True

    def _setMyCommands(self, params: dict[str, Any], files: Files) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BotApiError(400, "Bad Request: commands must be a list of at most 100")
        for command in commands:
            if not _COMMAND.fullmatch(command.get("command", "")):
                raise BotApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise BotApiError(400, "Bad Request: command description is invalid")
        self.my_commands[_commands_key(params)] = commands
        return True

    def _getMyCommands(self, params: dict[str, Any], files: Files) -> Any:
        return self.my_commands.get(_commands_key(params), [])

    def _deleteMyCommands(self, params: dict[str, Any], files: Files) -> Any:
        self.my_commands.pop(_commands_key(params), None)
        return True

    def _sendMessage(self, params: dict[str, Any], files: Files) -> Any:
        return self._new_message(params, text=checked_text(params, "text"))

    def _sendPhoto(self, params: dict[str, Any], files: Files) -> Any:
        if "photo" in files and not files["photo"].data.startswith(_IMAGE_MAGIC):
            raise BotApiError(400, "Bad Request: IMAGE_PROCESS_FAILED")
        file_id = self._upload(params, files, "photo")
        data = self._files[file_id][0]
        width, height = png_size(data) or (0, 0)
        size = {"file_id": file_id, "file_unique_id": f"{file_id}u", "width": width}
        size |= {"height": height, "file_size": len(data)}
        return self._new_message(params, photo=[size], **checked_caption(params))

    def _sendDocument(self, params: dict[str, Any], files: Files) -> Any:
        file_id = self._upload(params, files, "document")
        data, path = self._files[file_id]
        document = {"file_id": file_id, "file_unique_id": f"{file_id}u", "file_size": len(data)}
        document["file_name"] = path.rsplit("/", 1)[-1]
        if "document" in files and files["document"].content_type:
            document["mime_type"] = files["document"].content_type
        return self._new_message(params, document=document, **checked_caption(params))

    def _editMessageText(self, params: dict[str, Any], files: Files) -> Any:
        message = self._stored(params)
        if "text" not in message:
            raise BotApiError(400, "Bad Request: there is no text in the message to edit")
        return _edit(message, checked_markup(params), text=checked_text(params, "text"))

    def _editMessageReplyMarkup(self, params: dict[str, Any], files: Files) -> Any:
        return _edit(self._stored(params), checked_markup(params))

    def _deleteMessage(self, params: dict[str, Any], files: Files) -> Any:
        message = self._stored(params, "delete")
        del self._messages[(message["chat"]["id"], message["message_id"])]
        return True

    def _answerCallbackQuery(self, params: dict[str, Any], files: Files) -> Any:
        query_id = params.get("callback_query_id")
        if query_id not in self._open_queries:
            raise BotApiError(400, _STALE_QUERY)
        self._open_queries.discard(str(query_id))
        return True

    def _sendChatAction(self, params: dict[str, Any], files: Files) -> Any:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise BotApiError(400, "Bad Request: wrong parameter action in request")
        return True

    def _getFile(self, params: dict[str, Any], files: Files) -> Any:
        file_id = str(params.get("file_id"))
        if file_id not in self._files:
            raise BotApiError(400, "Bad Request: invalid file_id")
        data, path = self._files[file_id]
        found = {"file_id": file_id, "file_unique_id": f"{file_id}u", "file_size": len(data)}
        return found | {"file_path": path}


def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(params.get("language_code") or "")


def _edit(message: dict[str, Any], markup: dict[str, Any] | None, **changes: Any) -> Any:
    """Edit a stored message (clicks see the new version) and return a copy of it.

    Like Telegram, an edit without `reply_markup` removes the inline keyboard, and an edit that
    changes nothing is refused.
    """
    if all(message.get(k) == v for k, v in changes.items()) and markup == message.get(
        "reply_markup"
    ):
        raise BotApiError(400, _NOT_MODIFIED)
    message.update(changes, edit_date=int(time.time()))
    if markup is None:
        message.pop("reply_markup", None)
    else:
        message["reply_markup"] = markup
    return copy.deepcopy(message)


@contextlib.asynccontextmanager
async def running_application(
    app: Application[Any, Any, Any, Any, Any, Any], poll_timeout: float = 1.0
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run a PTB Application polling the fake, as `run_polling()` would minus its blocking.

    `run_polling()` blocks, installs signal handlers and closes the loop, so the lifecycle is
    driven by hand: initialize (getMe), `post_init` (only `run_polling` calls it), start polling
    (deleteWebhook, then getUpdates), start; on exit updater.stop, stop, shutdown. Stop the fake
    after leaving this block (or let its own context manager do it).
    """
    try:
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        assert app.updater is not None, "build the Application with an Updater"
        await app.updater.start_polling(poll_interval=0.0, timeout=timedelta(seconds=poll_timeout))
        await app.start()
        yield app
    finally:
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        # After a failed initialize (e.g. a refused token) only this closes PTB's connections.
        await app.bot.shutdown()
