"""The Discord adapter end to end: the real discord.py client logs in to the fake Discord on
127.0.0.1 (tests/fakes/discord_api.py, only `Route.BASE` and `DEFAULT_GATEWAY` redirected), and
the router answers from the store of a real engine replay on bundled Binance candles
(tests/botcore/services/conftest.py), so what the fake records are the bot's real answers. Each
test gets its own fake, bot and store copy.

The fake's guild: alice (roles admin, trader), bob (trader), carol (no role); the bot listens in
the `trading` channel, not in `general`.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import discord
import pandas as pd
import pytest

from botcore.config import Settings
from botcore.engine.trader import BarReport
from botcore.errors import ConfigError
from botcore.execution.orders import Fill, Side
from botcore.risk.breaker import BreakerState
from botcore.risk.rules import RiskRule
from chat import registry
from chat.access import Caller
from chat.adapters.discord import DiscordBot, slash_specs
from chat.adapters.discord_render import outgoing, split_markdown, to_markdown
from chat.bot import build_router
from chat.commands import BotContext
from chat.commands.base import HANDLERS, Call
from chat.intents import Intent
from chat.parse import default_parser
from chat.parse.normalize import TIMEFRAMES
from chat.reply import Button, Reply, table
from tests.botcore.services import conftest as services
from tests.botcore.services.conftest import Replay
from tests.fakes.discord_api import FakeDiscord, point_discord_at
from tests.fakes.discord_gateway import GUILD_MEMBERS, GUILD_MESSAGES, MESSAGE_CONTENT

replay = services.replay  # the services' session fixture (a ~2 s engine replay), shared by name

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"
FOLLOWUP = r"/webhooks/\d+/[^/]+"
REFUSAL = "Sorry, this bot only answers the people its owner has allowed."
EPHEMERAL = 64
# Discord's option types: 3 string, 4 integer, 10 number.
OPTION_TYPES = {"symbol": 3, "symbol_or_all": 3, "timeframe": 3, "strategy": 3, "choice": 3,
                "user": 3, "topic": 3, "period": 4, "count": 4, "amount": 10, "money": 10,
                "price": 10, "fraction": 10, "value": 10}  # fmt: skip

StartBot = Callable[..., Awaitable[DiscordBot]]


@pytest.fixture(scope="module", autouse=True)
def parser_trained() -> None:
    """Trained once, as `tradechat run` does at start-up (not on the first message)."""
    parser = default_parser("USDT")
    if not parser.fitted:
        parser.fit()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ETH/USDT 4h candles aggregated from the bundled real 1h candles (complete 4h bars)."""
    from botcore.data.catalog import bundled_data_dir

    with gzip.open(bundled_data_dir() / "binance_ETH-USDT_1h.csv.gz") as source:
        hourly = pd.read_csv(source)
    hourly["bucket"] = hourly["timestamp"] // (4 * 3_600_000) * (4 * 3_600_000)
    bars = hourly.groupby("bucket").agg(
        open=("open", "first"), high=("high", "max"), low=("low", "min"),
        close=("close", "last"), volume=("volume", "sum"), n=("open", "size"),
    )  # fmt: skip
    bars = bars[bars["n"] == 4].drop(columns="n").rename_axis("timestamp").reset_index()
    folder = tmp_path_factory.mktemp("candles")
    bars.to_csv(folder / "binance_ETH-USDT_4h.csv", index=False)
    return folder


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def settings(replay: Replay, fake: FakeDiscord, data_dir: Path, tmp_path: Path) -> Settings:
    config = {
        "token": fake.token, "guild_ids": [fake.guild_id], "channels": [fake.channels["trading"]],
        "allowed_roles": ["trader"], "admin_roles": ["admin"],
    }  # fmt: skip
    data = {"cache_dir": str(tmp_path / "cache"), "dirs": [str(data_dir)]}
    copied, _ = replay.copy(tmp_path, discord=config, data=data)
    return copied


@pytest.fixture
async def start_bot(
    fake: FakeDiscord, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[StartBot]:
    """Starts a bot on `settings` (or the given ones) with production intents unless told."""
    point_discord_at(fake, monkeypatch)
    running: list[tuple[DiscordBot, BotContext]] = []

    async def start(config: Settings = settings, **options: Any) -> DiscordBot:
        context = BotContext(config)
        bot = DiscordBot(config, build_router(config, context), guild_ready_timeout=0.05, **options)
        running.append((bot, context))
        await bot.start()
        return bot

    yield start
    for bot, context in running:
        await bot.stop()
        context.close()


@pytest.fixture
async def bot(start_bot: StartBot) -> DiscordBot:
    return await start_bot()


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """label -> custom_id of a stored message's buttons."""
    rows = message.get("components") or []
    return {item["label"]: item["custom_id"] for row in rows for item in row["components"]}


def messages_in(fake: FakeDiscord, channel: str, user: str = "alice") -> str:
    """The path of posting in a channel by name (or "dm": the DM with `user`)."""
    return rf"/channels/{fake.channel_id(channel, user)}/messages"


# -- rendering -------------------------------------------------------------------------------


def test_markup_becomes_discord_markdown_with_everything_else_escaped() -> None:
    text = "**P&L** of `a_b*` is <@1> *x* [y](z)\n- not a list\n```\nA_B  *c*\n```\n# end"
    assert to_markdown(text) == (
        "**P&L** of `a_b*` is \\<@1> \\*x\\* \\[y](z)\n\\- not a list\n```\nA_B  *c*\n```\n\\# end"
    )
    assert to_markdown("```\nunclosed") == "```\nunclosed\n```"


def test_long_tables_split_below_2000_characters_and_stay_fenced() -> None:
    rows = [[f"row_{n}", "*" * 30, f"{n * 1.5:.2f}"] for n in range(300)]
    pieces = split_markdown("**Table** of_things\n" + table(rows, ["name", "stars", "value"]))
    assert len(pieces) > 5 and all(len(p) <= 2000 for p in pieces)
    assert pieces[0].startswith("**Table** of\\_things\n```")
    assert all(p.startswith("```\n") and p.endswith("\n```") for p in pieces[1:])
    assert sum(p.count("row_") for p in pieces) == 300


def test_a_reply_keeps_its_image_and_buttons_with_a_file_name_discord_keeps() -> None:
    reply = Reply("x\n" * 1500, image=PNG_MAGIC, image_name="my chart.png",
                  buttons=(Button("Confirm", "ok:1"),))  # fmt: skip
    out = outgoing(reply)
    assert len(out.texts) == 2 and out.image_name == "my_chart.png"
    assert out.buttons == (("Confirm", "ok:1"),)


# -- start-up --------------------------------------------------------------------------------


async def test_start_syncs_every_registry_command_to_the_guild(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    started = time.perf_counter()
    await start_bot()
    ready_s = time.perf_counter() - started

    [sync] = fake.calls_to("PUT", rf"/applications/\d+/guilds/{fake.guild_id}/commands")
    assert sync.status == 200 and not fake.calls_to("PUT", r"/applications/\d+/commands")
    names = [spec.name for spec in registry.COMMANDS.values() if spec.name != "unknown"]
    assert [c["name"] for c in sync.json] == names == [s.name for s in slash_specs()]
    for command in sync.json:
        spec = registry.COMMANDS[command["name"]]
        assert command["description"] == spec.help
        expected = [
            {"name": a.name, "type": OPTION_TYPES[a.kind], "required": a.required,
             "description": a.help,
             "choices": list(a.choices or (TIMEFRAMES if a.kind == "timeframe" else ()))}
            for a in sorted(spec.args, key=lambda a: not a.required)
        ]  # fmt: skip
        synced = [
            {"name": o["name"], "type": o["type"], "required": o.get("required", False),
             "description": o["description"],
             "choices": [c["value"] for c in o.get("choices") or []]}
            for o in command.get("options", [])
        ]  # fmt: skip
        assert synced == expected, command["name"]
        assert all(o.get("min_value") == 1 for o in command.get("options", []) if o["type"] == 4)
    identify = next(f["d"] for f in fake.gateway.frames if f["op"] == 2)
    assert identify["intents"] & MESSAGE_CONTENT and identify["intents"] & GUILD_MESSAGES
    assert not identify["intents"] & GUILD_MEMBERS  # not needed: no second privileged intent
    assert ready_s < 2.0


async def test_without_a_valid_token_the_bot_does_not_start(
    fake: FakeDiscord, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    point_discord_at(fake, monkeypatch)
    monkeypatch.delenv("TRADECHAT_DISCORD_TOKEN", raising=False)
    config = settings.model_copy(
        update={"discord": settings.discord.model_copy(update={"token": None})}
    )
    context = BotContext(config)
    router = build_router(config, context)
    with pytest.raises(ConfigError, match="TRADECHAT_DISCORD_TOKEN"):
        await DiscordBot(config, router).start()
    monkeypatch.setenv("TRADECHAT_DISCORD_TOKEN", "not.the.token")
    with pytest.raises(ConfigError, match="Discord refused the"):
        await DiscordBot(config, router).start()
    assert [c.status for c in fake.calls] == [401]
    monkeypatch.setenv("TRADECHAT_DISCORD_TOKEN", fake.token)
    bot = DiscordBot(config, router, guild_ready_timeout=0.05)
    await bot.start()
    await bot.stop()
    context.close()
    assert fake.calls[-1].path.endswith(f"/guilds/{fake.guild_id}/commands")  # the env's token


# -- slash commands --------------------------------------------------------------------------


async def test_slash_profit_7_answers_with_the_routers_reply(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    fake.user_invokes("profit", {"period_days": 7}, user="bob", channel="trading")

    [call] = await fake.wait_for("POST", CALLBACK)

    bob = Caller("discord", str(fake.user_id("bob")), "", "Bob", ("@everyone", "trader"))
    expected = await bot.router.handle_command(bob, "profit", {"period_days": 7})
    assert call.json["type"] == 4 and call.status == 200
    assert call.json["data"]["content"] == to_markdown(expected.text)
    assert "**Profit** · last 7 days" in call.json["data"]["content"]
    assert "Realised: -165.07 USDT from 17 trades" in call.json["data"]["content"]
    assert not call.json["data"].get("flags", 0) & EPHEMERAL


async def test_slow_work_is_deferred_with_progress_then_the_chart_follows(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    options = {"strategy": "ema_cross", "symbol": "BTC/USDT", "timeframe": "1h",
               "period_days": 30}  # fmt: skip
    fake.user_invokes("backtest", options, user="bob", channel="trading")

    [deferred] = await fake.wait_for("POST", CALLBACK)
    [first] = await fake.wait_for("PATCH", ORIGINAL)
    second, answer = await fake.wait_for("POST", FOLLOWUP, count=2)

    assert deferred.json == {"type": 5}  # "thinking...", public
    assert first.json["content"].startswith("Backtesting ema\\_cross on BTC/USDT 1h")
    assert second.json["content"].endswith("drawing the equity chart...")
    assert answer.json["content"].startswith("**Backtest ema\\_cross**")
    [png] = answer.files
    assert png.data.startswith(PNG_MAGIC)
    assert answer.json["attachments"] == [{"id": 0, "filename": png.filename}]
    assert answer.json["embeds"][0]["image"]["url"] == f"attachment://{png.filename}"


@pytest.mark.parametrize("ephemeral", [False, True])
async def test_an_answer_later_than_defer_after_s_replaces_the_thinking_message(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch, ephemeral: bool
) -> None:
    async def slow(call: Call[Intent]) -> Reply:
        await asyncio.sleep(0.2)  # no progress messages: only the clock says it is slow
        return Reply("**Done** after a while", ephemeral=ephemeral)

    monkeypatch.setitem(HANDLERS, "status", slow)
    await start_bot(defer_after_s=0.05)
    fake.user_invokes("status", user="bob", channel="trading")

    [deferred] = await fake.wait_for("POST", CALLBACK)
    assert deferred.json == {"type": 5}
    if not ephemeral:
        [answer] = await fake.wait_for("PATCH", ORIGINAL)
        assert answer.json["content"] == "**Done** after a while"
        assert fake.messages[int(answer.result["id"])]["flags"] & 128 == 0  # not "thinking"
    else:  # the public "thinking..." cannot turn private: it goes, the answer is private
        await fake.wait_for("DELETE", ORIGINAL)
        [answer] = await fake.wait_for("POST", FOLLOWUP)
        assert answer.json["content"] == "**Done** after a while"
        assert answer.json["flags"] == EPHEMERAL


async def test_a_role_refusal_is_ephemeral_and_a_stranger_is_refused(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    fake.user_invokes("buy", {"symbol": "btc", "amount": 0.01}, user="bob", channel="trading")
    [member] = await fake.wait_for("POST", CALLBACK)
    fake.user_invokes("balance", user="carol", channel="trading")
    stranger = (await fake.wait_for("POST", CALLBACK, count=2))[1]

    assert member.json["data"]["flags"] == EPHEMERAL
    assert member.json["data"]["content"] == "Sorry, /buy needs the admin role; you are a member."
    assert stranger.json["data"]["content"] == REFUSAL
    assert len(fake.calls_to("POST", r"/channels/\d+/messages")) == 0


# -- plain messages --------------------------------------------------------------------------


async def test_chart_eth_4h_in_the_channel_gets_an_embed_with_the_png(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    asked = fake.user_sends("chart eth 4h", channel="trading", user="bob")

    [call] = await fake.wait_for("POST", messages_in(fake, "trading"))

    assert call.json["content"].startswith("**ETH/USDT 4h** · 120 candles up to 2023-06-04")
    [upload] = call.files
    assert upload.filename == "chart.png" and upload.data.startswith(PNG_MAGIC)
    assert call.json["embeds"][0]["image"] == {"url": "attachment://chart.png"}
    assert call.json["attachments"] == [{"id": 0, "filename": "chart.png"}]
    assert call.json["message_reference"]["message_id"] == int(asked["id"])
    stored = fake.messages[int(call.result["id"])]
    assert stored["embeds"][0]["image"]["url"] == stored["attachments"][0]["url"]


async def test_a_member_without_an_allowed_role_gets_only_the_refusal(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    fake.user_sends("how much did I make this week?", channel="trading", user="carol")
    [refused] = await fake.wait_for("POST", messages_in(fake, "trading"))
    fake.user_sends(f"<@{fake.application_id}> /profit 7", channel="trading", user="bob")
    answered = (await fake.wait_for("POST", messages_in(fake, "trading"), count=2))[1]

    assert refused.json["content"] == REFUSAL
    assert refused.files == [] and not refused.json.get("components")
    assert "**Profit** · last 7 days" in answered.json["content"]


async def test_other_channels_and_the_bots_own_messages_are_ignored(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    fake.user_sends("status", channel="general", user="alice")
    fake.user_sends("status", channel="trading", user="alice")
    [status] = await fake.wait_for("POST", messages_in(fake, "trading"))
    # the answer comes back over the gateway as a new message: it must not be answered
    fake.user_sends("balance", channel="trading", user="alice")
    second = (await fake.wait_for("POST", messages_in(fake, "trading"), count=2))[1]

    posted = fake.calls_to("POST", r"/channels/\d+/messages")
    assert [c.path for c in posted] == [messages_in(fake, "trading")] * 2
    assert status.json["content"].startswith("**Status** · paper trading")
    alice = Caller("discord", str(fake.user_id("alice")), "", "Alice", ("admin",))
    balance = await bot.router.handle_text(alice, "balance")
    assert second.json["content"] == to_markdown(balance.text)


async def test_direct_messages_count_the_users_roles_in_the_guild(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    intents = discord.Intents.default()
    intents.message_content = intents.members = True  # the member cache holds everyone's roles
    await start_bot(intents=intents)

    fake.user_sends("profit this week", channel="dm", user="bob")
    fake.user_sends("profit this week", channel="dm", user="carol")

    [bob] = await fake.wait_for("POST", messages_in(fake, "dm", "bob"))
    [carol] = await fake.wait_for("POST", messages_in(fake, "dm", "carol"))
    assert "**Profit** · last 7 days" in bob.json["content"]
    assert "message_reference" not in bob.json
    assert carol.json["content"] == REFUSAL


async def test_a_long_reply_is_split_below_the_limit_and_loses_nothing(
    fake: FakeDiscord, bot: DiscordBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [[f"2023-06-{n % 30 + 1:02d}", "ETH/USDT", f"{n * 1.5:.2f}", "exit_signal"]
            for n in range(200)]  # fmt: skip
    text = "**Every trade** as of now\n" + table(rows, ["day", "symbol", "pnl", "why"]) + "\nend"

    async def long_answer(call: Call[Intent]) -> Reply:
        return Reply(text)

    monkeypatch.setitem(HANDLERS, "trades", long_answer)
    fake.user_invokes("trades", user="bob", channel="trading")

    [answer] = await fake.wait_for("POST", CALLBACK)
    rest = await fake.wait_for("POST", FOLLOWUP, count=len(split_markdown(text)) - 1)
    contents = [answer.json["data"]["content"]] + [c.json["content"] for c in rest]
    assert len(text) > 2 * 2000 and len(contents) >= 3
    assert all(len(c) <= 2000 for c in contents)
    assert contents == split_markdown(text)
    assert all(c.startswith("```\n") for c in contents[1:])


# -- confirmations ---------------------------------------------------------------------------


async def test_a_confirmed_buy_edits_the_prompt_and_places_one_order(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    store = bot.router.context.store
    before = store.orders()
    fake.user_invokes("buy", {"symbol": "btc", "amount": 0.01}, user="alice", channel="trading")
    [asked] = await fake.wait_for("POST", CALLBACK)
    prompt = asked.result["resource"]["message"]
    assert "buy `0.01` BTC/USDT at market" in prompt["content"]
    assert list(buttons(prompt)) == ["Confirm", "Cancel"]
    assert all(o.reason != "manual" for o in before)

    # anyone else's press is answered privately, and the buttons stay for alice
    fake.user_clicks(buttons(prompt)["Confirm"], prompt, user="bob")
    fake.user_clicks(buttons(prompt)["Cancel"], prompt, user="carol")
    others = await fake.wait_for("POST", FOLLOWUP, count=2)
    assert sorted(c.json["content"] for c in others) == [
        REFUSAL, "That confirmation belongs to someone else.",
    ]  # fmt: skip
    assert all(c.json["flags"] == EPHEMERAL for c in others)
    assert buttons(fake.messages[int(prompt["id"])]) == buttons(prompt)
    assert not fake.calls_to("PATCH", ORIGINAL)

    fake.user_clicks(buttons(prompt)["Confirm"], prompt, user="alice")
    [edit] = await fake.wait_for("PATCH", ORIGINAL)

    assert edit.result["id"] == prompt["id"]
    assert edit.json["content"].startswith("**Placed:**")
    assert fake.messages[int(prompt["id"])]["components"] == []
    [order] = [o for o in store.orders() if o.reason == "manual"]
    assert (order.symbol, str(order.amount)) == ("BTC/USDT", "0.01")
    assert len(store.orders()) == len(before) + 1


async def test_buttons_of_an_unanswered_confirmation_go_when_it_expires(
    fake: FakeDiscord, settings: Settings, start_bot: StartBot
) -> None:
    await start_bot(settings.model_copy(update={"chat": settings.chat.model_copy(
        update={"confirm_ttl_s": 0.3})}))  # fmt: skip
    fake.user_sends("/close btc", channel="trading", user="alice")
    [asked] = await fake.wait_for("POST", messages_in(fake, "trading"))
    assert list(buttons(asked.result)) == ["Confirm", "Cancel"]

    [removed] = await fake.wait_for("PATCH", rf"/channels/\d+/messages/{asked.result['id']}")

    assert removed.json["components"] == []
    assert fake.messages[int(asked.result["id"])]["content"] == asked.result["content"]


# -- notifications ---------------------------------------------------------------------------


async def test_engine_reports_are_posted_in_the_first_channel(
    fake: FakeDiscord, bot: DiscordBot
) -> None:
    fill = Fill("f1", "o1", "BTC/USDT", Side.BUY, Decimal("0.01"), Decimal("27210"),
                Decimal("0.27"), "USDT", 1_685_800_000_000)  # fmt: skip
    halted = BreakerState(True, RiskRule.MAX_DAILY_LOSS_PCT, "New entries halted by "
                          "max_daily_loss_pct.", 1_685_800_000_000)  # fmt: skip
    report = BarReport("s", 1_685_800_000_000, (fill,), (), (), Decimal(10_000), "hold", halted)

    bot.notify_bar(report)
    bot.notify_bar(report)  # the same halt again: only the fill is new
    [posted] = await fake.wait_for("POST", messages_in(fake, "trading"))

    assert posted.json["content"] == (
        "**Bought** 0.01 BTC/USDT at 27,210.00, fee 0.27 USDT (paper)\n"
        "**Entries halted:** New entries halted by max\\_daily\\_loss\\_pct.\n"
        "**Bought** 0.01 BTC/USDT at 27,210.00, fee 0.27 USDT (paper)"
    )


async def test_the_run_wiring_starts_discord_on_the_engines_store_and_fans_out_events(
    fake: FakeDiscord, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chat.surfaces import start_surfaces

    point_discord_at(fake, monkeypatch)
    context = BotContext(settings)
    surfaces = await start_surfaces(settings, context)
    try:
        assert surfaces.names == ["discord"]
        fake.user_invokes("status", user="alice")
        [answer] = await fake.wait_for("POST", r"/interactions/.*/callback", timeout=10)
        assert "Status" in answer.json["data"]["content"]
        fill = Fill("f1", "o1", "BTC/USDT", Side.BUY, Decimal("0.01"), Decimal("27210"),
                    Decimal("0.27"), "USDT", 1_685_800_000_000)  # fmt: skip
        report = BarReport("s", 1_685_800_000_000, (fill,), (), (), Decimal(10_000), "hold",
                           BreakerState())  # fmt: skip
        surfaces.notify_bar(report)
        [posted] = await fake.wait_for("POST", messages_in(fake, "trading"))
        assert posted.json["content"].startswith("**Bought** 0.01 BTC/USDT")
    finally:
        await surfaces.stop()
        context.close()
