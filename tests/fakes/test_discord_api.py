"""The fake Discord driven by the real discord.py: login, sync, slash commands, files, buttons."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_api import FakeDiscord, client_options, running_client

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
CALLBACK = r"/interactions/\d+/[^/]+/callback"


class Confirm(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=30)

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.success, custom_id="confirm")
    async def confirm(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.edit_message(content="Order placed: buy 0.01 BTC", view=None)
        self.stop()

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary, custom_id="cancel")
    async def cancel(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()  # type 6: acknowledge now, edit the message later
        await interaction.edit_original_response(content="Cancelled", view=None)
        self.stop()


@app_commands.describe(asset="asset symbol")
async def _balance(interaction: discord.Interaction, asset: str) -> None:
    await interaction.response.send_message(f"{asset}: 1.5", ephemeral=True)


async def _profit(interaction: discord.Interaction, period_days: int = 30) -> None:
    await interaction.response.defer(thinking=True)
    await interaction.followup.send(f"Profit over {period_days} days: +3.2%")


async def _chart(interaction: discord.Interaction, symbol: str) -> None:
    await interaction.response.defer(thinking=True)
    assert isinstance(interaction.client, TinyBot)
    embed = discord.Embed(title=symbol).set_image(url="attachment://chart.png")
    chart = discord.File(io.BytesIO(interaction.client.png), filename="chart.png")
    await interaction.edit_original_response(embed=embed, attachments=[chart])


async def _buy(interaction: discord.Interaction) -> None:
    await interaction.response.send_message("Buy 0.01 BTC at market?", view=Confirm())


class TinyBot(discord.Client):
    """A bot of the shape the adapter will have: a command tree, plain messages, files, a view."""

    def __init__(self, png: bytes, **options: Any) -> None:
        super().__init__(**(client_options() | options))
        self.png = png
        self.seen: list[discord.Message] = []
        self._new_message = asyncio.Event()
        self.tree = app_commands.CommandTree(self)
        self.tree.command(name="balance", description="Show balance")(_balance)
        self.tree.command(name="profit", description="Profit over a period")(_profit)
        self.tree.command(name="chart", description="Price chart")(_chart)
        self.tree.command(name="buy", description="Buy BTC")(_buy)

    async def setup_hook(self) -> None:
        await self.tree.sync()

    async def wait_seen(self, count: int) -> list[discord.Message]:
        async with asyncio.timeout(1.0):
            while len(self.seen) < count:
                self._new_message.clear()
                await self._new_message.wait()
        return self.seen

    async def on_message(self, message: discord.Message) -> None:
        self.seen.append(message)
        self._new_message.set()
        if message.author == self.user or not message.content.startswith("chart"):
            return
        roles = {role.name for role in getattr(message.author, "roles", [])}
        if "trader" not in roles:
            await message.reply("Only traders may ask for charts.")
            return
        embed = discord.Embed(title="BTC/USDT", description="1h candles")
        embed.set_image(url="attachment://chart.png")
        chart = discord.File(io.BytesIO(self.png), filename="chart.png")
        await message.channel.send(embed=embed, file=chart)


@pytest.fixture
async def bot(
    fake_discord: FakeDiscord, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TinyBot]:
    async with running_client(fake_discord, TinyBot(png), monkeypatch) as client:
        assert isinstance(client, TinyBot)
        yield client


async def test_login_syncs_commands_and_caches_the_guild(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    paths = [(c.method, c.path) for c in fake_discord.calls]
    assert paths[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    [sync] = fake_discord.calls_to("PUT", rf"/applications/{fake_discord.application_id}/commands")
    assert [c["name"] for c in sync.json] == ["balance", "profit", "chart", "buy"]
    assert sync.json[0]["options"][0] | {"description": "x"} == {
        "type": 3, "name": "asset", "description": "x", "required": True,
    }  # fmt: skip
    assert all(c["id"] for c in sync.result)
    [guild] = bot.guilds
    assert guild.name == "Trading Desk" and guild.owner_id == fake_discord.user_id("alice")
    assert {c.name for c in guild.text_channels} == {"general", "trading"}
    alice = guild.get_member(fake_discord.user_id("alice"))
    assert alice is not None and {r.name for r in alice.roles} == {"@everyone", "admin", "trader"}
    identify = next(f["d"] for f in fake_discord.gateway.frames if f["op"] == 2)
    assert identify["intents"] == discord.Intents.all().value


async def test_slash_command_gets_an_ephemeral_answer(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    fake_discord.user_invokes("balance", {"asset": "BTC"}, user="bob")

    [call] = await fake_discord.wait_for("POST", CALLBACK)

    assert call.json == {"type": 4, "data": {"tts": False, "content": "BTC: 1.5", "flags": 64}}
    assert call.result["interaction"]["response_message_ephemeral"] is True
    assert call.result["resource"]["message"]["interaction_metadata"]["name"] == "balance"


async def test_deferred_command_answers_with_a_followup(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    fake_discord.user_invokes("profit", {"period_days": 7}, channel="dm")

    [callback] = await fake_discord.wait_for("POST", CALLBACK)
    [followup] = await fake_discord.wait_for("POST", rf"/webhooks/{bot.application_id}/[^/]+")

    assert callback.json["type"] == 5
    assert callback.result["resource"]["message"]["flags"] & 128  # "is thinking..."
    assert followup.query["wait"] == "1"
    assert followup.json["content"] == "Profit over 7 days: +3.2%"
    assert followup.result["channel_id"] == str(fake_discord.channel_id("dm", "alice"))


async def test_guild_message_gets_an_embed_with_the_png_attached(
    fake_discord: FakeDiscord, bot: TinyBot, png: bytes
) -> None:
    general = fake_discord.channel_id("general")
    fake_discord.user_sends("chart btc 1h", channel="general", user="bob")

    [call] = await fake_discord.wait_for("POST", rf"/channels/{general}/messages")

    [upload] = call.files
    assert upload.field == "files[0]" and upload.filename == "chart.png"
    assert upload.data == png and upload.data.startswith(PNG_MAGIC)
    assert call.json["embeds"][0]["image"] == {"url": "attachment://chart.png"}
    assert call.json["attachments"] == [{"id": 0, "filename": "chart.png"}]
    stored_image = call.result["embeds"][0]["image"]
    assert stored_image["url"] == call.result["attachments"][0]["url"]
    assert (stored_image["width"], stored_image["height"]) == (16, 12)


async def test_member_without_the_role_is_refused_and_own_messages_come_back(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    asked = fake_discord.user_sends("chart eth", channel="trading", user="carol")

    [call] = await fake_discord.wait_for("POST", r"/channels/\d+/messages")

    assert call.json["content"] == "Only traders may ask for charts."
    assert call.json["message_reference"]["message_id"] == int(asked["id"])
    assert call.result["type"] == 19
    # Discord sends the bot its own message back: a bot that answered itself would loop.
    seen = await bot.wait_seen(2)
    assert [m.id for m in seen] == [int(asked["id"]), int(call.result["id"])]
    assert seen[1].author == bot.user

    fake_discord.user_sends("chart eth", channel="trading", user="carol", roles=["trader"])
    second = (await fake_discord.wait_for("POST", r"/channels/\d+/messages", count=2))[1]
    assert second.files[0].filename == "chart.png"


async def test_button_click_reaches_the_view_and_updates_the_message(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    fake_discord.user_invokes("buy", user="alice")
    [asked] = await fake_discord.wait_for("POST", CALLBACK)
    prompt = asked.result["resource"]["message"]
    assert [b["custom_id"] for b in prompt["components"][0]["components"]] == ["confirm", "cancel"]

    fake_discord.user_clicks("confirm", prompt, user="alice")
    clicked = (await fake_discord.wait_for("POST", CALLBACK, count=2))[1]

    assert clicked.json["type"] == 7
    assert clicked.json["data"]["content"] == "Order placed: buy 0.01 BTC"
    assert fake_discord.messages[int(prompt["id"])]["components"] == []
    with pytest.raises(ValueError, match="no component 'cancel'"):
        fake_discord.user_clicks("cancel", prompt)


async def test_what_discord_refuses_is_refused(fake_discord: FakeDiscord, bot: TinyBot) -> None:
    channel = bot.get_channel(fake_discord.channel_id("general"))
    assert isinstance(channel, discord.TextChannel)

    with pytest.raises(discord.HTTPException, match="Must be 2000 or fewer") as too_long:
        await channel.send("x" * 2001)
    with pytest.raises(discord.NotFound, match="Unknown Message"):
        await channel.fetch_message(1234)
    with pytest.raises(
        discord.NotFound, match=r"fake Discord: GET /guilds/\d+/bans/1 not implemented"
    ):
        await channel.guild.fetch_ban(discord.Object(id=1))
    with pytest.raises(ValueError, match="/sell is not synced"):
        fake_discord.user_invokes("sell")
    with pytest.raises(ValueError, match=r"needs \['asset'\]"):
        fake_discord.user_invokes("balance")

    assert too_long.value.code == 50035


async def test_guild_sync_and_rate_limit_retry(fake_discord: FakeDiscord, bot: TinyBot) -> None:
    guild = discord.Object(id=fake_discord.guild_id)
    bot.tree.copy_global_to(guild=guild)
    fake_discord.fail_next("PUT", r"/applications/\d+/guilds/\d+/commands", 429)

    synced = await bot.tree.sync(guild=guild)

    attempts = fake_discord.calls_to("PUT", rf"/applications/\d+/guilds/{guild.id}/commands")
    assert [a.status for a in attempts] == [429, 200]
    assert sorted(c.name for c in synced) == ["balance", "buy", "chart", "profit"]
    fake_discord.user_invokes("balance", {"asset": "ETH"})
    [call] = await fake_discord.wait_for("POST", CALLBACK)
    assert call.json["data"]["content"] == "ETH: 1.5"


async def test_without_message_content_intent_guild_text_arrives_empty(
    fake_discord: FakeDiscord, png: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    intents = discord.Intents.default()  # no privileged message_content, no members
    started = time.perf_counter()
    async with running_client(fake_discord, TinyBot(png, intents=intents), monkeypatch) as bot:
        ready_s = time.perf_counter() - started
        fake_discord.user_sends("chart btc", channel="general", user="bob")
        fake_discord.user_sends(f"<@{fake_discord.application_id}> chart", user="bob")
        fake_discord.user_sends("chart btc", channel="dm", user="bob")
        dm = fake_discord.channel_id("dm", "bob")
        await fake_discord.wait_for("POST", rf"/channels/{dm}/messages")

    assert isinstance(bot, TinyBot)
    assert [m.content for m in bot.seen[:3]] == [
        "",
        f"<@{fake_discord.application_id}> chart",
        "chart btc",
    ]
    assert ready_s < 1.0


async def test_deferred_chart_arrives_by_editing_the_original_response(
    fake_discord: FakeDiscord, bot: TinyBot, png: bytes
) -> None:
    fake_discord.user_invokes("chart", {"symbol": "ETH/USDT"})

    [edit] = await fake_discord.wait_for("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")

    assert edit.files[0].data == png and edit.json["embeds"][0]["title"] == "ETH/USDT"
    stored = fake_discord.messages[int(edit.result["id"])]
    assert stored["flags"] & 128 == 0 and stored["attachments"][0]["filename"] == "chart.png"
    assert stored["interaction_metadata"]["name"] == "chart"


async def test_notification_by_direct_message_is_edited_typed_and_deleted(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    alice = bot.get_user(fake_discord.user_id("alice"))
    assert alice is not None

    sent = await alice.send("Filled: buy 0.01 BTC")
    async with sent.channel.typing():
        await sent.edit(content="Filled: buy 0.01 BTC at 64,000 USDT")
    await sent.delete()

    dm = fake_discord.channel_id("dm", "alice")
    assert [(c.method, c.path) for c in fake_discord.calls[-5:]] == [
        ("POST", "/users/@me/channels"),
        ("POST", f"/channels/{dm}/messages"),
        ("POST", f"/channels/{dm}/typing"),
        ("PATCH", f"/channels/{dm}/messages/{sent.id}"),
        ("DELETE", f"/channels/{dm}/messages/{sent.id}"),
    ]
    assert sent.id not in fake_discord.messages


async def test_interaction_answered_late_or_twice_is_refused(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    fake_discord.interactions.answer_within_s = 0.0
    fake_discord.user_invokes("balance", {"asset": "BTC"})
    [late] = await fake_discord.wait_for("POST", CALLBACK)
    fake_discord.interactions.answer_within_s = 3.0
    answered = fake_discord.user_invokes("buy")
    on_time = (await fake_discord.wait_for("POST", CALLBACK, count=2))[1]

    # discord.py itself refuses to answer twice, so the second answer is sent by hand.
    url = f"{fake_discord.api_base}/interactions/{answered['id']}/{answered['token']}/callback"
    async with aiohttp.ClientSession() as http, http.post(url, json={"type": 6}) as again:
        body = await again.json()

    assert (late.status, on_time.status) == (404, 200)
    assert (again.status, body["code"]) == (400, 40060)


async def test_deferred_click_edits_the_clicked_message_as_the_original(
    fake_discord: FakeDiscord, bot: TinyBot
) -> None:
    fake_discord.user_invokes("buy", user="bob", channel="trading")
    [asked] = await fake_discord.wait_for("POST", CALLBACK)
    prompt = asked.result["resource"]["message"]
    fake_discord.reset()

    fake_discord.user_clicks("cancel", prompt, user="bob")

    [deferred] = await fake_discord.wait_for("POST", CALLBACK)
    [edit] = await fake_discord.wait_for("PATCH", r"/webhooks/\d+/[^/]+/messages/@original")
    assert deferred.json == {"type": 6}
    assert edit.result["id"] == prompt["id"] and edit.result["content"] == "Cancelled"
    assert fake_discord.messages[int(prompt["id"])]["components"] == []
