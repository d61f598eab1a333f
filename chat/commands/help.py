"""Help, the reply to anything unknown, and the community commands' placeholder answers."""

from __future__ import annotations

from chat import intents as i
from chat import registry
from chat.commands.base import Call, handles
from chat.reply import Reply

__all__ = ["help_text"]

_TITLES = {
    "account": "Account",
    "market": "Market",
    "research": "Research",
    "trading": "Trading (asks you to confirm)",
    "control": "Control",
    "community": "Community",
}


def help_text() -> str:
    """Every command by category, one line each."""
    lines = ["**tradechat** answers commands and plain language, e.g. "
             "\"how much did I make this week?\" or `/profit 7`."]  # fmt: skip
    for category, title in _TITLES.items():
        specs = [s for s in registry.COMMANDS.values() if s.category == category]
        lines.append(f"\n**{title}**")
        lines += [f"`/{s.name}` {s.help}" for s in specs]
    lines.append("\n/help COMMAND shows one command's arguments.")
    return "\n".join(lines)


@handles("help")
async def help_(call: Call[i.Help]) -> Reply:
    topic = call.intent.topic
    if topic is None:
        return Reply(help_text())
    spec = registry.lookup(topic)
    if spec is None:
        return Reply(str(registry.UnknownCommandError(topic, registry.suggest(topic))))
    lines = [f"`{spec.usage}`: {spec.help}."]
    lines += [f"• `{a.name}`: {a.help}{'' if a.required else ' (optional)'}" for a in spec.args]
    lines.append(f"Example: `{spec.example}`")
    if spec.aliases:
        lines.append("Also: " + ", ".join(f"/{a}" for a in spec.aliases))
    if spec.needs_confirmation:
        lines.append("It asks you to confirm before anything happens.")
    if spec.min_role != "member":
        lines.append(f"Needs the {spec.min_role} role.")
    return Reply("\n".join(lines))


@handles("unknown")
async def unknown(call: Call[i.Unknown]) -> Reply:
    return Reply(
        'I can help with your bot\'s trading: try "how much did I make this week?", '
        '"chart eth 4h", "backtest ema cross on BTC 1h over 90 days", or /help for '
        "every command."
    )


@handles("leaderboard", "share_signal", "follow", "unfollow")
async def community(call: Call[i.Intent]) -> Reply:
    return Reply(
        f"/{call.intent.name} is part of the community features (leaderboards, shared signals, "
        "copy trading), which tradechat does not have yet. Nothing was changed."
    )
