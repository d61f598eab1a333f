"""The Telegram adapter end to end: the real python-telegram-bot Application polls the fake Bot API
on 127.0.0.1 (tests/fakes/telegram_api.py), and the router answers from the store of a real
engine replay on bundled Binance candles (tests/botcore/services/conftest.py), so the messages
the fake records are the bot's real answers. Each test gets its own fake, bot and store copy.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from botcore.config import Settings
from botcore.engine.state import PAUSED_KEY
from botcore.engine.trader import BarReport
from botcore.errors import ConfigError
from botcore.execution.orders import Fill, Side
from botcore.risk.breaker import BreakerState
from botcore.risk.rules import RiskRule
from chat import registry
from chat.access import Caller
from chat.adapters.telegram import TOKEN_ENV, TelegramBot, telegram_token
from chat.adapters.telegram_render import ButtonData, outgoing, split_html, to_html
from chat.bot import build_router
from chat.commands import BotContext
from chat.commands.base import HANDLERS, Call
from chat.intents import Intent
from chat.reply import Button, Reply, strip_markup, table
from tests.botcore.services import conftest as services
from tests.botcore.services.conftest import Replay
from tests.fakes.telegram_api import FakeTelegram
from tests.fakes.telegram_wire import png_size

replay = services.replay  # the services' session fixture (a ~2 s engine replay), shared by name

OWNER, ADMIN, ADMIN2, MEMBER, STRANGER = 1000, 1001, 1003, 1002, 6666
GROUP = -100555
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
REFUSAL = "Sorry, this bot only answers the people its owner has allowed."
DEFAULT_SCOPE = ('{"type": "default"}', "")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ETH/USDT 4h candles aggregated from the bundled real 1h candles (complete 4h bars)."""
    from botcore.data.catalog import bundled_data_dir

    with gzip.open(bundled_data_dir() / "binance_ETH-USDT_1h.csv.gz") as source:
        hourly = pd.read_csv(source)
    hourly["bucket"] = hourly["timestamp"] // (4 * 3_600_000) * (4 * 3_600_000)
    grouped = hourly.groupby("bucket")
    bars = grouped.agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"), n=("open", "size"),
    )  # fmt: skip
    bars = bars[bars["n"] == 4].drop(columns="n").rename_axis("timestamp").reset_index()
    folder = tmp_path_factory.mktemp("candles")
    bars.to_csv(folder / "binance_ETH-USDT_4h.csv", index=False)
    return folder


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as server:
        yield server


@pytest.fixture
def settings(replay: Replay, fake: FakeTelegram, data_dir: Path, tmp_path: Path) -> Settings:
    telegram = {
        "token": fake.token, "base_url": fake.base_url, "base_file_url": fake.base_file_url,
        "owner": OWNER, "admins": [ADMIN, ADMIN2], "allowed_users": [MEMBER],
    }  # fmt: skip
    data = {"cache_dir": str(tmp_path / "cache"), "dirs": [str(data_dir)]}
    copied, _ = replay.copy(tmp_path, telegram=telegram, data=data)
    return copied


@pytest.fixture
async def bot(settings: Settings) -> AsyncIterator[TelegramBot]:
    context = BotContext(settings)
    telegram = TelegramBot(settings, build_router(settings, context), poll_timeout_s=1.0)
    await telegram.start()
    try:
        yield telegram
    finally:
        await telegram.stop()
        context.close()


def caller(user_id: int, chat_id: int | None = None) -> Caller:
    return Caller("telegram", str(user_id), str(chat_id or user_id), "Alice")


# -- rendering -------------------------------------------------------------------------------


def test_markup_becomes_telegram_html_with_everything_else_escaped() -> None:
    text = "**P&L** of `a<b>` is < 0 & **x `y` z**\n```\nA & B  <1>\n```\nend"
    assert to_html(text) == (
        "<b>P&amp;L</b> of <code>a&lt;b&gt;</code> is &lt; 0 &amp; <b>x y z</b>\n"
        "<pre>A &amp; B  &lt;1&gt;</pre>\nend"
    )
    assert to_html("```\nunclosed <table>") == "<pre>unclosed &lt;table&gt;</pre>"


def test_splitting_counts_utf16_units_and_keeps_tables_fenced() -> None:
    rows = [[f"row{n}", "📈" * 20] for n in range(300)]
    text = "**Table**\n" + table(rows, ["name", "trend"])
    pieces = split_html(text)
    shown = [strip_markup(p.replace("<pre>", "```\n").replace("</pre>", "\n```")) for p in pieces]
    assert len(pieces) > 2
    assert all(len(s.encode("utf-16-le")) // 2 <= 4096 for s in shown)
    assert all(p.count("<pre>") == p.count("</pre>") == 1 for p in pieces[1:])


def test_long_button_data_travels_as_a_short_key() -> None:
    keys = ButtonData(capacity=2)
    long = "run:" + "x" * 100
    encoded = keys.encode(long)
    assert len(encoded.encode()) <= 64 and keys.decode(encoded) == long
    assert keys.encode("ok:abc") == "ok:abc" and keys.decode("ok:abc") == "ok:abc"
    keys.encode(long + "1")
    keys.encode(long + "2")
    assert keys.decode(encoded) == ""  # forgotten: the router answers "expired"


def test_an_image_takes_the_text_as_caption_only_when_it_fits() -> None:
    short = outgoing(Reply("**ETH/USDT** 4h", image=PNG_MAGIC), ButtonData())
    assert short.caption == "<b>ETH/USDT</b> 4h" and short.texts == ()
    long = outgoing(Reply("line\n" * 300, image=PNG_MAGIC), ButtonData())
    assert long.caption is None and len(long.texts) == 1


def test_the_token_comes_from_config_or_the_environment(
    replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ConfigError, match=TOKEN_ENV):
        telegram_token(replay.settings)
    monkeypatch.setenv(TOKEN_ENV, "123:from-env")
    assert telegram_token(replay.settings) == "123:from-env"


# -- end to end ------------------------------------------------------------------------------


async def test_start_up_publishes_every_registry_command(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    assert [c.method for c in fake.calls[:3]] == ["getMe", "setMyCommands", "deleteWebhook"]
    published = fake.my_commands[DEFAULT_SCOPE]
    expected = [
        {"command": "resume" if s.name == "start" else s.name, "description": s.help}
        for s in registry.COMMANDS.values()
        if s.name != "unknown"
    ]
    assert published == expected
    assert registry.lookup("resume") is registry.COMMANDS["start"]


async def test_profit_7_is_answered_with_the_routers_reply(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.user_says("/profit 7", user_id=MEMBER)

    [call] = await fake.wait_for("sendMessage")

    expected = await bot.router.handle_text(caller(MEMBER), "/profit 7")
    assert "last 7 days" in expected.text and "USDT" in expected.text
    assert call.params["chat_id"] == MEMBER and call.params["parse_mode"] == "HTML"
    assert call.params["text"] == to_html(expected.text)
    assert call.result["text"] == strip_markup(expected.text)  # what the user reads


async def test_chart_eth_4h_is_uploaded_as_a_png_photo(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.user_says("chart eth 4h", user_id=MEMBER)

    [call] = await fake.wait_for("sendPhoto", timeout=10)

    upload = call.files["photo"]
    assert upload.data.startswith(PNG_MAGIC)
    assert (upload.filename, upload.content_type) == ("chart.png", "image/png")
    width, height = png_size(upload.data) or (0, 0)
    assert width > 300 and height > 200
    expected = await bot.router.handle_text(caller(MEMBER), "chart eth 4h")
    assert "ETH/USDT" in expected.text and "4h" in expected.text
    assert call.result["caption"] == strip_markup(expected.text)
    assert fake.calls_to("sendMessage") == []


async def test_a_confirmed_buy_places_exactly_one_order(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.user_says("buy 0.01 btc", user_id=ADMIN)
    [ask] = await fake.wait_for("sendMessage")
    [[confirm, cancel]] = ask.params["reply_markup"]["inline_keyboard"]
    assert (confirm["text"], cancel["text"]) == ("Confirm", "Cancel")
    assert "buy 0.01 BTC/USDT at market" in ask.result["text"]
    store = bot.router.context.store
    before = store.orders()

    query = fake.user_clicks(confirm["callback_data"], ask.result, user_id=ADMIN)

    [answer] = await fake.wait_for("answerCallbackQuery")
    [edit] = await fake.wait_for("editMessageText")
    assert answer.params == {"callback_query_id": query["id"]}
    assert edit.params["message_id"] == ask.result["message_id"]
    assert edit.result["text"].startswith("Placed:")
    assert "reply_markup" not in edit.result  # the buttons are gone
    [order] = [o for o in store.orders() if o not in before]
    assert (order.symbol, order.amount, order.reason) == ("BTC/USDT", Decimal("0.01"), "manual")


async def test_cancel_places_nothing(fake: FakeTelegram, bot: TelegramBot) -> None:
    fake.user_says("/buy btc 0.01", user_id=ADMIN)
    [ask] = await fake.wait_for("sendMessage")
    before = len(bot.router.context.store.orders())
    [[_, cancel]] = ask.params["reply_markup"]["inline_keyboard"]

    fake.user_clicks(cancel["callback_data"], ask.result, user_id=ADMIN)

    [edit] = await fake.wait_for("editMessageText")
    assert edit.result["text"] == "Cancelled: /buy symbol=BTC/USDT amount=0.01."
    assert "reply_markup" not in edit.result
    assert len(bot.router.context.store.orders()) == before


async def test_when_the_message_cannot_be_edited_the_outcome_comes_as_a_new_one(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.user_says("/buy btc 0.01", user_id=ADMIN)
    [ask] = await fake.wait_for("sendMessage")
    [[_, cancel]] = ask.params["reply_markup"]["inline_keyboard"]
    fake.fail_next("editMessageText", 400, "Bad Request: message can't be edited")

    fake.user_clicks(cancel["callback_data"], ask.result, user_id=ADMIN)

    [_, outcome] = await fake.wait_for("sendMessage", 2)
    assert outcome.result["text"] == "Cancelled: /buy symbol=BTC/USDT amount=0.01."
    assert [c.error is not None for c in fake.calls_to("editMessageText")] == [True]


async def test_someone_elses_click_is_refused_and_the_buttons_stay(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.user_says("/buy btc 0.01", user_id=ADMIN, chat_id=GROUP)
    [ask] = await fake.wait_for("sendMessage")
    assert ask.params["chat_id"] == GROUP
    confirm = ask.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    before = len(bot.router.context.store.orders())

    fake.user_clicks(confirm, ask.result, user_id=ADMIN2)
    fake.user_clicks(confirm, ask.result, user_id=STRANGER)

    answers = await fake.wait_for("answerCallbackQuery", 2)
    texts = sorted(a.params["text"] for a in answers)
    assert texts == ["Sorry, this bot only answers the people its owner has allowed.",
                     "That confirmation belongs to someone else."]  # fmt: skip
    assert all(a.params["show_alert"] is True for a in answers)
    assert fake.calls_to("editMessageText") == [] and len(fake.calls_to("sendMessage")) == 1
    assert len(bot.router.context.store.orders()) == before
    fake.user_clicks(confirm, ask.result, user_id=ADMIN)  # still there, and still works
    [edit] = await fake.wait_for("editMessageText")
    assert edit.result["text"].startswith("Placed:")


async def test_an_unknown_user_gets_the_refusal_and_nothing_else(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.reset()
    for text in ("/start", "/buy btc 0.01", "chart eth 4h", "hello"):
        fake.user_says(text, user_id=STRANGER)

    sent = await fake.wait_for("sendMessage", 4)

    await asyncio.sleep(0.05)
    assert {c.method for c in fake.calls} == {"sendMessage"} and len(fake.calls) == 4
    assert all(c.params["text"] == REFUSAL and "reply_markup" not in c.params for c in sent)
    assert bot.router.context._store is None  # the database was not even opened


async def test_start_greets_and_never_resumes_trading(fake: FakeTelegram, bot: TelegramBot) -> None:
    store = bot.router.context.store
    fake.user_says("/stop", user_id=ADMIN)
    await fake.wait_for("sendMessage")
    assert store.state(PAUSED_KEY) == "true"

    fake.user_says("/start", user_id=ADMIN)
    [_, hello] = await fake.wait_for("sendMessage", 2)

    assert hello.result["text"].startswith("Welcome to tradechat, Alice.")
    assert "/resume" in hello.result["text"] and "/profit" in hello.result["text"]
    assert store.state(PAUSED_KEY) == "true"
    fake.user_says("/resume", user_id=ADMIN)
    [*_, resumed] = await fake.wait_for("sendMessage", 3)
    assert "resumed" in resumed.result["text"] and store.state(PAUSED_KEY) == "false"


async def test_in_a_group_only_commands_for_this_bot_are_answered(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.user_says("/profit@other_bot 7", user_id=MEMBER, chat_id=GROUP)
    fake.user_says("how much did I make this week", user_id=MEMBER, chat_id=GROUP)
    fake.user_says("/profit@test_bot 7", user_id=MEMBER, chat_id=GROUP)

    [call] = await fake.wait_for("sendMessage")

    await asyncio.sleep(0.1)
    assert len(fake.calls_to("sendMessage")) == 1
    assert call.params["chat_id"] == GROUP and "last 7 days" in call.result["text"]


async def test_a_long_reply_is_split_below_the_limit_and_loses_nothing(
    fake: FakeTelegram, bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[f"2023-06-{n % 30 + 1:02d}", "ETH/USDT", f"{n * 1.5:.2f}", "<exit> & co"]
            for n in range(400)]  # fmt: skip
    text = "**Every trade** as of now\n" + table(rows, ["day", "symbol", "pnl", "why"]) + "\nend"

    async def long_answer(call: Call[Intent]) -> Reply:
        return Reply(text)

    monkeypatch.setitem(HANDLERS, "trades", long_answer)
    fake.user_says("/trades", user_id=MEMBER)

    await fake.wait_for("sendMessage", 2)
    await asyncio.sleep(0.1)
    sent = fake.calls_to("sendMessage")
    assert len(text) > 3 * 4096 and len(sent) >= 4
    assert all(c.error is None and len(c.result["text"]) <= 4096 for c in sent)
    assert "\n".join(c.result["text"] for c in sent) == strip_markup(text)
    assert all(c.params["text"].startswith("<pre>") for c in sent[1:-1])


async def test_progress_messages_come_before_the_answer(
    fake: FakeTelegram, bot: TelegramBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def slow(call: Call[Intent]) -> Reply:
        await call.say("Working on it: **1/2**")
        return Reply("Done.", buttons=(Button("Again", "no:stale"),))

    monkeypatch.setitem(HANDLERS, "status", slow)
    fake.user_says("/status", user_id=MEMBER)

    first, second = await fake.wait_for("sendMessage", 2)
    assert first.result["text"] == "Working on it: 1/2" and "reply_markup" not in first.params
    assert second.result["text"] == "Done."
    assert second.params["reply_markup"]["inline_keyboard"][0][0]["text"] == "Again"


async def test_notifications_reach_the_owner_and_admins_and_failures_are_logged(
    fake: FakeTelegram, bot: TelegramBot, caplog: pytest.LogCaptureFixture
) -> None:
    fake.add_private_chat(OWNER)
    fake.add_private_chat(ADMIN)  # ADMIN2 never opened the bot: "chat not found"

    await bot.notify(Reply("**Bought** 0.01 BTC/USDT"))

    sent = fake.calls_to("sendMessage")
    assert [(c.params["chat_id"], c.error is None) for c in sent] == [
        (OWNER, True), (ADMIN, True), (ADMIN2, False),
    ]  # fmt: skip
    assert sent[0].result["text"] == "Bought 0.01 BTC/USDT"
    assert f"could not notify Telegram user {ADMIN2}" in caplog.text
    assert [c.params["chat_id"] for c in fake.calls_to("sendMessage")].count(MEMBER) == 0


async def test_engine_reports_are_queued_and_merged_for_the_recipients(
    fake: FakeTelegram, bot: TelegramBot
) -> None:
    fake.add_private_chat(OWNER)
    fake.add_private_chat(ADMIN)
    fake.add_private_chat(ADMIN2)
    fill = Fill("f1", "o1", "BTC/USDT", Side.BUY, Decimal("0.01"), Decimal("27210"),
                Decimal("0.27"), "USDT", 1_685_800_000_000)  # fmt: skip
    halted = BreakerState(True, RiskRule.MAX_DAILY_LOSS_PCT, "New entries halted by "
                          "max_daily_loss_pct.", 1_685_800_000_000)  # fmt: skip
    report = BarReport("s", 1_685_800_000_000, (fill,), (), (), Decimal(10_000), "hold", halted)

    bot.notify_bar(report)
    bot.notify_bar(report)  # the same halt again: only the fill is new

    sent = await fake.wait_for("sendMessage", 3)
    assert [c.params["chat_id"] for c in sent] == [OWNER, ADMIN, ADMIN2]
    assert sent[0].result["text"] == (
        "Bought 0.01 BTC/USDT at 27,210.00, fee 0.27 USDT (paper)\n"
        "Entries halted: New entries halted by max_daily_loss_pct.\n"
        "Bought 0.01 BTC/USDT at 27,210.00, fee 0.27 USDT (paper)"
    )
