"""The fake Bot API driven by the real python-telegram-bot: polling, replies, uploads, clicks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tests.fakes.telegram_api import FakeTelegram, running_application

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
App = Application[Any, Any, Any, Any, Any, Any]


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None and update.effective_user is not None
    buy = InlineKeyboardButton("Buy BTC", callback_data="buy:BTC")
    cancel = InlineKeyboardButton("Cancel", callback_data="cancel")
    keyboard = InlineKeyboardMarkup([[buy], [cancel]])
    await update.effective_message.reply_text(
        f"Hi {update.effective_user.first_name}! Pick:", reply_markup=keyboard
    )


async def _clicked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Order queued")
    await query.edit_message_text(f"Confirmed: {query.data}")


async def _chart(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_photo(
        photo=context.bot_data["png"],
        filename="chart.png",
        caption="<b>BTC/USDT</b> 1h &amp; volume",
        parse_mode=ParseMode.HTML,
    )


async def _photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    data = bytes(await (await message.photo[-1].get_file()).download_as_bytearray())
    await message.reply_text(f"got {len(data)} bytes, png={data.startswith(PNG_MAGIC)}")


async def _set_commands(app: App) -> None:
    await app.bot.set_my_commands([("start", "Start"), ("chart", "Price chart")])


def _build(fake: FakeTelegram, token: str | None = None) -> App:
    app = (
        ApplicationBuilder()
        .token(token or fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .post_init(_set_commands)
        .build()
    )
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(CommandHandler("chart", _chart))
    app.add_handler(CallbackQueryHandler(_clicked))
    app.add_handler(MessageHandler(filters.PHOTO, _photo))
    return app


@pytest.fixture
async def bot(fake_telegram: FakeTelegram, png: bytes) -> AsyncIterator[App]:
    app = _build(fake_telegram)
    app.bot_data["png"] = png
    async with running_application(app):
        yield app


async def test_start_up_calls_get_me_delete_webhook_and_sets_commands(
    fake_telegram: FakeTelegram, bot: App
) -> None:
    methods = [call.method for call in fake_telegram.calls]
    assert methods[:3] == ["getMe", "setMyCommands", "deleteWebhook"]
    assert fake_telegram.my_commands[('{"type": "default"}', "")] == [
        {"command": "start", "description": "Start"},
        {"command": "chart", "description": "Price chart"},
    ]
    assert (await bot.bot.get_my_commands())[1].command == "chart"
    assert await bot.bot.delete_my_commands() is True
    assert fake_telegram.my_commands == {}


async def test_command_is_answered_with_an_inline_keyboard(
    fake_telegram: FakeTelegram, bot: App
) -> None:
    fake_telegram.user_says("/start", user_id=1001, first_name="Alice")

    [call] = await fake_telegram.wait_for("sendMessage")

    assert call.params["chat_id"] == 1001
    assert call.params["text"] == "Hi Alice! Pick:"
    assert call.raw["chat_id"] == "1001"
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [[b["callback_data"] for b in row] for row in keyboard] == [["buy:BTC"], ["cancel"]]
    assert call.result["message_id"] > 0 and call.result["from"]["is_bot"] is True


async def test_group_command_addressed_to_the_bot_is_answered_in_the_group(
    fake_telegram: FakeTelegram, bot: App
) -> None:
    fake_telegram.user_says("/start", user_id=1002, first_name="Bob")
    await fake_telegram.wait_for("sendMessage")
    fake_telegram.reset()

    fake_telegram.user_says("/start@test_bot", user_id=1002, chat_id=-100777, first_name="Bob")

    [call] = await fake_telegram.wait_for("sendMessage")
    assert [c.method for c in fake_telegram.calls] == ["sendMessage"]
    assert call.params["chat_id"] == -100777 and call.result["chat"]["type"] == "supergroup"


async def test_click_is_answered_and_the_message_edited(
    fake_telegram: FakeTelegram, bot: App
) -> None:
    fake_telegram.user_says("/start")
    [sent] = await fake_telegram.wait_for("sendMessage")

    query = fake_telegram.user_clicks("buy:BTC", sent.result)

    [answer] = await fake_telegram.wait_for("answerCallbackQuery")
    [edit] = await fake_telegram.wait_for("editMessageText")
    assert answer.params == {"callback_query_id": query["id"], "text": "Order queued"}
    assert edit.params["message_id"] == sent.result["message_id"]
    assert edit.params["text"] == "Confirmed: buy:BTC"
    assert "reply_markup" not in edit.result
    with pytest.raises(ValueError, match="no button 'buy:BTC'"):
        fake_telegram.user_clicks("buy:BTC", sent.result)


async def test_chart_is_uploaded_as_a_multipart_png(
    fake_telegram: FakeTelegram, bot: App, png: bytes
) -> None:
    fake_telegram.user_says("/chart")

    [call] = await fake_telegram.wait_for("sendPhoto")

    upload = call.files["photo"]
    assert upload.data == png and upload.data.startswith(PNG_MAGIC)
    assert (upload.filename, upload.content_type) == ("chart.png", "image/png")
    assert call.raw["caption"] == "<b>BTC/USDT</b> 1h &amp; volume"
    assert call.result["caption"] == "BTC/USDT 1h & volume"
    assert call.result["photo"][0]["width"] == 16 and call.result["photo"][0]["height"] == 12


async def test_user_photo_is_fetched_through_get_file_and_the_file_url(
    fake_telegram: FakeTelegram, bot: App, png: bytes
) -> None:
    fake_telegram.user_sends_photo(png, caption="what is this?")

    [reply] = await fake_telegram.wait_for("sendMessage")

    assert fake_telegram.calls_to("getFile")[0].params["file_id"].startswith("file")
    assert reply.params["text"] == f"got {len(png)} bytes, png=True"


async def test_what_telegram_refuses_is_refused(fake_telegram: FakeTelegram, bot: App) -> None:
    fake_telegram.add_private_chat(1001)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.bot.send_message(chat_id=555, text="hello")
    with pytest.raises(BadRequest, match=r"(?i)character '\.' is reserved"):
        await bot.bot.send_message(1001, "Profit 3.5%", parse_mode=ParseMode.MARKDOWN_V2)
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
        await bot.bot.send_message(1001, "a<br>b", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.bot.send_message(1001, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)fake bot api: senddice not implemented"):
        await bot.bot.send_dice(1001)
    ok = await bot.bot.send_message(1001, r"Profit *3\.5%*", parse_mode=ParseMode.MARKDOWN_V2)
    assert ok.text == "Profit 3.5%"
    assert [c.error is None for c in fake_telegram.calls_to("sendMessage")] == [False] * 4 + [True]


async def test_injected_rate_limit_becomes_retry_after(
    fake_telegram: FakeTelegram, bot: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without PTB_TIMEDELTA, reading RetryAfter.retry_after emits a deprecation warning (an error).
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    fake_telegram.add_private_chat(1001)
    fake_telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)

    with pytest.raises(RetryAfter) as caught:
        await bot.bot.send_message(1001, "hello")

    assert caught.value.retry_after == timedelta(seconds=3)
    assert (await bot.bot.send_message(1001, "hello")).text == "hello"


async def test_stop_releases_a_pending_long_poll_at_once() -> None:
    fake = await FakeTelegram().start()
    async with running_application(_build(fake), poll_timeout=5.0):
        await asyncio.wait_for(fake.long_polling.wait(), 1.0)
    # PTB has cancelled its getUpdates, but the server side would wait out its 5 s timeout.
    started = time.perf_counter()
    await fake.stop()
    assert time.perf_counter() - started < 0.5


async def test_wrong_token_is_rejected(fake_telegram: FakeTelegram) -> None:
    async def start_and_stop(app: App) -> None:
        async with running_application(app):
            pass

    with pytest.raises(InvalidToken):
        await start_and_stop(_build(fake_telegram, token="1:" + "WRONG"))
    assert fake_telegram.calls == []


async def test_documents_actions_keyboard_edits_and_deletes(
    fake_telegram: FakeTelegram, bot: App
) -> None:
    fake_telegram.add_private_chat(1001)
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])

    document = await bot.bot.send_document(1001, b"side,amount\nbuy,0.01\n", filename="trades.csv")
    assert await bot.bot.send_chat_action(1001, ChatAction.UPLOAD_PHOTO) is True
    sent = await bot.bot.send_message(1001, "Confirm?", reply_markup=keyboard)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.bot.edit_message_text("Confirm?", 1001, sent.message_id, reply_markup=keyboard)
    await bot.bot.edit_message_reply_markup(1001, sent.message_id)
    with pytest.raises(ValueError, match="no button 'yes'"):
        fake_telegram.user_clicks("yes", sent.message_id)
    assert await bot.bot.delete_message(1001, sent.message_id) is True
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.bot.delete_message(1001, sent.message_id)

    [upload] = fake_telegram.calls_to("sendDocument")
    assert upload.files["document"].filename == "trades.csv"
    assert document.document is not None and document.document.file_name == "trades.csv"
    assert fake_telegram.calls_to("sendChatAction")[0].params == {
        "chat_id": 1001,
        "action": "upload_photo",
    }
