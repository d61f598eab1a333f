"""Trading commands: buy, sell, close, set_strategy, mode, rebalance.

Each needs confirmation: the router first calls `preview` (every check, the size, the risk
verdict, nothing written) and shows it with Confirm/Cancel; the handler runs only on Confirm,
with the confirmation token as the request id, so a retried press never trades twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chat import intents as i
from chat.access import Caller
from chat.commands.base import BotContext, Call, handles
from chat.commands.format import amount, money
from chat.intents import Intent
from chat.reply import Reply

if TYPE_CHECKING:
    from botcore.services.trading import ManualOrder

__all__ = ["preview"]


def preview(ctx: BotContext, intent: Intent, caller: Caller) -> str:
    """What confirming `intent` will do, checked against the account now (blocking).

    Raises:
        BotcoreError: the request would be refused (the reason, politely).
    """
    mode = ctx.settings.trading.mode
    if isinstance(intent, i.Buy | i.Sell | i.Close):
        tickets = _trade(ctx, intent, caller, request_id="preview", preview=True)
        lines = [_ticket_line(ctx, t) for t in tickets]
        return "\n".join([f"**{mode.capitalize()} trade:**", *lines])
    if isinstance(intent, i.SetStrategy):
        from botcore.services.control import EngineControl

        control = EngineControl(ctx.settings, ctx.store)
        planned = control.set_strategy(intent.strategy, intent.symbol, caller.key, preview=True)
        targets = ", ".join(f"{a.symbol} {a.timeframe}" for a in planned)
        return f"Trade {targets} with `{intent.strategy}` from the next bar on."
    if isinstance(intent, i.Mode):
        return f"Switch to **{intent.mode}** trading."
    if isinstance(intent, i.SetRisk):
        from botcore.services.control import EngineControl

        change = EngineControl(ctx.settings, ctx.store).set_risk(
            intent.param, float(intent.value), caller.key, preview=True
        )
        return f"Set `{change.name}` from {change.before} to **{change.after}**."
    if isinstance(intent, i.Rebalance):
        return "Rebalance the portfolio to its target weights."
    return f"Run /{intent.name}."


@handles("buy", "sell", "close")
async def trade(call: Call[i.Buy | i.Sell | i.Close]) -> Reply:
    """Place the confirmed manual order(s); the engine works them at its next bar."""
    ctx, intent = call.ctx, call.intent
    request = call.confirmed or "unconfirmed"
    tickets = await call.run(
        lambda: _trade(ctx, intent, call.caller, request_id=request, preview=False)
    )
    lines = [_ticket_line(ctx, t) for t in tickets]
    again = any(t.duplicate for t in tickets)
    head = "Already placed:" if again else "Placed:"
    when = "sent to the exchange" if ctx.settings.trading.mode == "live" else "filled"
    return Reply(
        "\n".join(
            [f"**{head}**", *lines, f"It is {when} at the engine's next bar; /positions shows it."]
        )
    )


def _trade(
    ctx: BotContext, intent: Intent, caller: Caller, *, request_id: str, preview: bool
) -> list[ManualOrder]:
    service = ctx.trading
    if isinstance(intent, i.Buy):
        return [
            service.buy(intent.symbol, amount=intent.amount, quote_amount=intent.quote_amount,
                        price=intent.price, actor=caller.key, request_id=request_id,
                        preview=preview)
        ]  # fmt: skip
    if isinstance(intent, i.Sell):
        return [
            service.sell(intent.symbol, amount=intent.amount, fraction=intent.fraction,
                         price=intent.price, actor=caller.key, request_id=request_id,
                         preview=preview)
        ]  # fmt: skip
    assert isinstance(intent, i.Close)
    return service.close(intent.symbol, actor=caller.key, request_id=request_id, preview=preview)


def _ticket_line(ctx: BotContext, ticket: ManualOrder) -> str:
    order = ticket.order
    kind = f"limit at {amount(order.price)}" if order.price is not None else "at market"
    worth = money(ticket.value_quote, ctx.quote)
    return f"{order.side.value} `{amount(order.amount)}` {order.symbol} {kind} (≈ {worth})"


@handles("set_strategy")
async def set_strategy(call: Call[i.SetStrategy]) -> Reply:
    """Assign the strategy; the engine switches at its next bar."""
    from botcore.services.control import EngineControl

    intent = call.intent
    control = EngineControl(call.ctx.settings, call.ctx.store)
    done = await call.run(lambda: control.set_strategy(intent.strategy, intent.symbol,
                                                       call.caller.key))  # fmt: skip
    targets = ", ".join(f"{a.symbol} {a.timeframe}" for a in done)
    return Reply(f"From the next bar, {targets} trade with `{intent.strategy}`.")


@handles("mode")
async def mode(call: Call[i.Mode]) -> Reply:
    """Paper or live is chosen in the config, never switched from chat."""
    current = call.ctx.settings.trading.mode
    if call.intent.mode == current:
        return Reply(f"The bot already trades in **{current}** mode.")
    if call.intent.mode == "live":
        return Reply(
            'Live trading is not switched on from chat: set `[trading] mode = "live"` and '
            "`allow_live = true` in the config, store the exchange keys with "
            "`tradechat keys add`, and restart. The bot keeps trading on paper until then."
        )
    return Reply(
        'To go back to paper trading, set `[trading] mode = "paper"` in the config and '
        "restart; live orders already placed stay on the exchange."
    )


@handles("rebalance")
async def rebalance(call: Call[i.Rebalance]) -> Reply:
    """The portfolio manager (target weights) comes in a later issue."""
    return Reply(
        "Rebalancing needs the portfolio manager's target weights, which tradechat does not "
        "have yet. Nothing was traded; use /close or /sell to reduce a position."
    )
