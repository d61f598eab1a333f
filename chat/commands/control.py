"""Control commands: start/stop new entries, the risk rules, the watchlist and price alerts."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from chat import intents as i
from chat.commands.base import BotContext, Call, handles
from chat.commands.format import amount, when
from chat.reply import Reply, table

if TYPE_CHECKING:
    from botcore.services.control import EngineControl
    from botcore.services.watch import WatchService

__all__: list[str] = []


def _control(ctx: BotContext) -> EngineControl:
    from botcore.services.control import EngineControl

    return EngineControl(ctx.settings, ctx.store)


def _watch(ctx: BotContext) -> WatchService:
    from botcore.services.watch import WatchService

    return WatchService(ctx.settings, ctx.store)


@handles("start")
async def start(call: Call[i.Start]) -> Reply:
    """Resume new entries."""
    changed = await call.run(lambda: _control(call.ctx).resume(call.caller.key))
    if not changed:
        return Reply("New entries are already on; the strategies trade as usual.")
    return Reply("New entries resumed: the strategies may open positions again from the next bar.")


@handles("stop")
async def stop(call: Call[i.Stop]) -> Reply:
    """Pause new entries; exits and protective orders go on."""
    changed = await call.run(lambda: _control(call.ctx).pause(call.caller.key))
    if not changed:
        return Reply("New entries are already paused. /start resumes them.")
    return Reply(
        "New entries paused from the next bar. Open positions keep their stops and exits; "
        "/start resumes."
    )


@handles("risk")
async def risk(call: Call[i.Risk]) -> Reply:
    """The risk rules in force, and how close the circuit breakers are."""
    from botcore.services.account import status

    ctx = call.ctx
    rules = await call.run(lambda: _control(ctx).risk())
    state = await call.run(lambda: status(ctx.settings, ctx.store))
    rows = [[name, "off" if value is None else str(value)] for name, value in rules]
    lines = ["**Risk rules** (changed ones via /set_risk)", table(rows, ["rule", "value"])]
    today = state.today_pnl_pct
    if today is not None:
        lines.append(f"Today: {float(today):+.2f}% against a daily loss limit of "
                     f"-{rules.max_daily_loss_pct}%.")  # fmt: skip
    breaker = state.breaker
    if breaker.halted:
        lines.append(f"**Entries halted** by {breaker.rule} since {when(breaker.since_ms)}.")
    else:
        lines.append("Circuit breakers: clear.")
    return Reply("\n".join(lines))


@handles("set_risk")
async def set_risk(call: Call[i.SetRisk]) -> Reply:
    """Change one rule (confirmed); the engine applies it from its next bar."""
    intent = call.intent
    change = await call.run(
        lambda: _control(call.ctx).set_risk(intent.param, float(intent.value), call.caller.key)
    )
    return Reply(f"`{change.name}` is now **{change.after}** (was {change.before}).")


@handles("watchlist")
async def watchlist(call: Call[i.Watchlist]) -> Reply:
    """The watched markets with their last prices, and the active alerts."""
    from botcore.services.history import marks

    ctx = call.ctx
    symbols = await call.run(lambda: _watch(ctx).watchlist())
    alerts = await call.run(lambda: _watch(ctx).alerts())
    prices = await call.run(lambda: marks(ctx.store))
    if not symbols and not alerts:
        return Reply("The watchlist is empty: /watch ETH adds a market, /alert sets an alert.")
    lines = []
    if symbols:
        rows = [[s, amount(prices[s]) if s in prices else "-"] for s in symbols]
        lines += ["**Watchlist**", table(rows, ["market", "last"])]
    if alerts:
        rows = [[a.symbol, a.condition.value, amount(a.price), a.created_by] for a in alerts]
        lines += ["**Alerts**", table(rows, ["market", "when", "price", "by"])]
    return Reply("\n".join(lines))


@handles("watch")
async def watch(call: Call[i.Watch]) -> Reply:
    symbol = call.intent.symbol
    added = await call.run(lambda: _watch(call.ctx).watch(symbol, call.caller.key))
    return Reply(f"Watching {symbol}." if added else f"{symbol} is already on the watchlist.")


@handles("unwatch")
async def unwatch(call: Call[i.Unwatch]) -> Reply:
    symbol = call.intent.symbol
    removed = await call.run(lambda: _watch(call.ctx).unwatch(symbol, call.caller.key))
    return Reply(
        f"Stopped watching {symbol}." if removed else f"{symbol} was not on the watchlist."
    )


@handles("alert")
async def alert(call: Call[i.Alert]) -> Reply:
    intent = call.intent
    price = Decimal(intent.price)
    made = await call.run(
        lambda: _watch(call.ctx).add_alert(intent.symbol, intent.condition, price, call.caller.key)
    )
    return Reply(
        f"Alert set: I will tell you when {made.symbol} trades {made.condition.value} "
        f"{amount(made.price)} (checked on every {made.symbol} bar)."
    )
