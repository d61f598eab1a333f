"""Account commands: status, balance, positions, trades, profit, statistics, performance, daily
results, the equity curve, the daily summary and the portfolio.

Every answer reads the engine's store through `botcore.services` and states the moment it
describes ("as of ..."): the engine's clock, which in a replay is market time. A store the engine
never wrote to still answers: no trades, no positions, the paper wallet's starting balance.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from botcore.execution.orders import OrderType
from botcore.services import account as account_service
from botcore.services import equity as equity_service
from botcore.services import performance as performance_service
from botcore.services import positions as positions_service
from botcore.services import trades as trades_service
from botcore.timeframes import MS_PER_DAY
from chat import intents as i
from chat.commands.base import Call, handles
from chat.commands.format import amount, money, pct, price_text, signed, when
from chat.reply import Reply, table

if TYPE_CHECKING:
    from botcore.config import Settings
    from botcore.persistence import Store
    from botcore.services.account import BreakerStatus, StatusReport
    from botcore.services.performance import GroupPerformance
    from botcore.services.positions import OpenPosition, ProtectiveOrder

__all__ = [
    "balance",
    "daily",
    "equity",
    "performance",
    "portfolio",
    "positions",
    "profit",
    "stats",
    "status",
    "summary",
    "traded_markets",
    "trades",
]

T = TypeVar("T")
DEFAULT_TRADES = 10
MAX_ROWS = 50
_NEVER_RAN = "The engine has not processed a bar yet (start it with `tradechat run`)."


def _units(asset: str, value: Decimal, quote: str) -> str:
    return money(value) if asset == quote else amount(value)


def _utc(ms: int, layout: str = "%m-%d %H:%M") -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime(layout)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _period(period_days: int | None, since_ms: int | None) -> str:
    if period_days is None or since_ms is None:
        return "all time"
    return f"last {_count(period_days, 'day')} (since {when(since_ms)})"


async def _read(call: Call[Any], work: Callable[[Settings, Store], T]) -> T:
    ctx = call.ctx
    return await call.run(lambda: work(ctx.settings, ctx.store))


def _breaker_line(breaker: BreakerStatus) -> str:
    if breaker.halted:
        since = f" since {when(breaker.since_ms)}" if breaker.since_ms is not None else ""
        return f"Circuit breaker: **halted** by {breaker.rule}{since}; no new entries."
    return "Circuit breaker: clear."


def _entries_line(report: StatusReport) -> str:
    if report.breaker.halted:
        return "Entries: halted by the circuit breaker."
    if report.paused:
        return "Entries: **paused** (/start resumes them; exits keep working)."
    return "Entries: running."


def traded_markets(settings: Settings, store: Store) -> str:
    """`BTC/USDT 1h sma_cross, ETH/USDT 15m ema_cross`: what the engine trades with what (a
    run-time assignment wins over `[[market.symbols]]`); "" when nothing."""
    from botcore.services.control import EngineControl

    control = EngineControl(settings, store)  # this account's assignments only
    return ", ".join(
        f"{s.symbol} {s.timeframe} {control.strategy_of(s.symbol)}" for s in settings.market.symbols
    )


@handles("status")
async def status(call: Call[i.Status]) -> Reply:
    """Mode, run state, equity, today's P&L, open positions and orders, the breaker."""
    report = await _read(call, account_service.status)
    markets = await _read(call, traded_markets)
    quote = report.quote
    if not report.started:
        return Reply(
            f"**Status** · {report.mode} trading\n{_NEVER_RAN}\nPaper wallet: "
            f"{money(report.equity, quote)}.\nConfigured markets: {markets or 'none'}."
        )
    replay = call.ctx.settings.market.source == "replay"
    lines = [
        f"**Status** · {report.mode} trading · as of {when(report.clock_ms)}"
        + (" (replay market time)" if replay else ""),
        _entries_line(report),
        f"Equity: {money(report.equity, quote)} (cash {money(report.cash, quote)})",
    ]
    if report.today_pnl is not None:
        lines.append(f"Today: {signed(report.today_pnl, quote)} ({pct(report.today_pnl_pct)})")
    lines.append(
        f"Open: {_count(report.open_positions, 'position')}, {_count(report.open_orders, 'order')}"
    )
    lines.append(f"Markets: {markets or 'none'}")
    lines.append(_breaker_line(report.breaker))
    return Reply("\n".join(lines))


@handles("balance")
async def balance(call: Call[i.Balance]) -> Reply:
    """Every asset held (summed over exchanges) with its value, and the total."""
    report = await _read(call, account_service.balance)
    quote = report.quote
    held: dict[str, tuple[Decimal, Decimal | None]] = {}
    for a in report.assets:
        total, value = held.get(a.asset, (Decimal(0), Decimal(0)))
        summed = None if value is None or a.value is None else value + a.value
        held[a.asset] = (total + a.amount, summed)
    rows = [
        [asset, _units(asset, units, quote), "n/a" if value is None else money(value)]
        for asset, (units, value) in held.items()
    ]
    lines = [f"**Balance** as of {when(report.clock_ms)}"]
    if rows:
        lines.append(table(rows, ["asset", "amount", f"value {quote}"]))
    else:
        lines.append("Nothing held.")
    lines.append(f"Total: **{money(report.total_value, quote)}**")
    if report.unpriced:
        lines.append(f"Not valued (no price seen yet): {', '.join(report.unpriced)}")
    return Reply("\n".join(lines))


def _guard_text(order: ProtectiveOrder) -> str:
    take = "" if order.price is None else f"take-profit {price_text(order.price)}"
    stop = "" if order.stop_price is None else f"stop {price_text(order.stop_price)}"
    if order.type is OrderType.TRAILING_STOP and order.trail_pct is not None:
        return f"trailing stop {amount(order.trail_pct)}%"
    if order.type is OrderType.OCO:
        return " / ".join(part for part in (take, stop) if part)
    return (stop if order.type is OrderType.STOP_LOSS else take) or str(order.type)


def _position_row(p: OpenPosition, show_exchange: bool) -> list[str]:
    name = f"{p.symbol} ({p.exchange})" if show_exchange else p.symbol
    mark = "n/a" if p.mark_price is None else price_text(p.mark_price)
    pnl = "n/a" if p.unrealised_pnl is None else signed(p.unrealised_pnl)
    return [
        name,
        amount(p.amount),
        price_text(p.entry_price),
        mark,
        pnl,
        pct(p.unrealised_pnl_pct),
    ]


@handles("positions")
async def positions(call: Call[i.Positions]) -> Reply:
    """Open positions with entry, mark, unrealised P&L and their protective orders."""
    symbol = call.intent.symbol
    report = await _read(call, lambda s, st: positions_service.positions(s, st, symbol))
    quote = report.quote
    if not report.positions:
        if symbol is None:
            return Reply(f"No open positions as of {when(report.clock_ms)}.")
        held = await _read(call, positions_service.positions)
        others = ", ".join(sorted({p.symbol for p in held.positions}))
        return Reply(
            f"No open position in {symbol} as of {when(report.clock_ms)}."
            + (f" Open: {others}." if others else " No position is open.")
        )
    several = len({p.exchange for p in report.positions}) > 1
    rows = [_position_row(p, several) for p in report.positions]
    lines = [
        f"**Open positions** as of {when(report.clock_ms)}",
        table(rows, ["symbol", "amount", "entry", "mark", f"P&L {quote}", "P&L %"]),
        f"Unrealised: {signed(report.unrealised_pnl, quote)}",
    ]
    for p in report.positions:
        guards = "; ".join(_guard_text(o) for o in p.protective_orders)
        lines.append(f"{p.symbol} ({p.strategy or 'manual'}): {guards or 'no protective order'}")
    return Reply("\n".join(lines))


@handles("trades")
async def trades(call: Call[i.Trades]) -> Reply:
    """The newest closed trades (10 unless `limit` says), newest first."""
    symbol, limit = call.intent.symbol, min(call.intent.limit or DEFAULT_TRADES, MAX_ROWS)
    report = await _read(call, lambda s, st: trades_service.trades(s, st, symbol, limit))
    where = f" in {symbol}" if symbol else ""
    if not report.trades:
        text = f"No closed trades{where} as of {when(report.clock_ms)}."
        if symbol is not None:
            every = await _read(call, trades_service.trades)
            traded = ", ".join(sorted({t.symbol for t in every.trades}))
            text += f" Trades exist for: {traded}." if traded else " No trade has closed yet."
        return Reply(text)
    rows = [
        [_utc(t.exit_ms), t.symbol, signed(t.pnl), pct(t.pnl_pct), t.exit_reason]
        for t in report.trades
    ]
    quote = call.ctx.quote
    total = sum((t.pnl for t in report.trades), Decimal(0))
    shown = len(report.trades)
    head = f"Last {shown} of {report.total}" if shown < report.total else f"All {shown}"
    return Reply(
        f"**{head} closed trades{where}** as of {when(report.clock_ms)}\n"
        + table(rows, ["closed UTC", "symbol", f"P&L {quote}", "P&L %", "exit"])
        + f"\nTheir P&L: {signed(total, quote)} (net of fees)"
    )


@handles("profit")
async def profit(call: Call[i.Profit]) -> Reply:
    """Realised P&L over the period, unrealised P&L now and the equity change."""
    days, symbol = call.intent.period_days, call.intent.symbol
    r = await _read(call, lambda s, st: trades_service.profit(s, st, days, symbol))
    q = r.quote
    scope = f" · {r.symbol}" if r.symbol else ""
    lines = [f"**Profit** · {_period(days, r.since_ms)}{scope} · as of {when(r.clock_ms)}"]
    if r.trades:
        lines.append(
            f"Realised: {signed(r.realised_pnl, q)} from {_count(r.trades, 'trade')} "
            f"({r.wins} won, {r.losses} lost, win rate {pct(r.win_rate_pct, sign=False)})"
        )
        lines.append(f"Fees paid: {money(r.fees, q)} (already in the P&L)")
    else:
        lines.append("Realised: no trade closed in this period.")
    lines.append(f"Unrealised: {signed(r.unrealised_pnl, q)} on open positions")
    if r.equity_start is not None and r.equity_end is not None and r.equity_change is not None:
        lines.append(
            f"Equity: {money(r.equity_start, q)} → {money(r.equity_end, q)} "
            f"({signed(r.equity_change, q)}, {pct(r.equity_change_pct)})"
        )
    elif r.symbol is None:
        lines.append(_NEVER_RAN)
    return Reply("\n".join(lines))


def _ratio(value: float | Decimal | None, missing: str = "n/a") -> str:
    return missing if value is None else f"{float(value):.2f}"


@handles("stats")
async def stats(call: Call[i.Stats]) -> Reply:
    """Win rate, profit factor, expectancy, best and worst trade, return, drawdown, Sharpe."""
    r = await _read(call, performance_service.stats)
    q = r.quote
    lines = [f"**Statistics** · all time · as of {when(r.clock_ms)}"]
    if r.trades:
        lines += [
            f"Trades: {r.trades} ({r.wins} won, {r.losses} lost) · win rate "
            f"{pct(r.win_rate_pct, sign=False)}",
            f"Profit factor: {_ratio(r.profit_factor, 'n/a (no losing trade)')} · expectancy "
            f"{signed(r.expectancy or Decimal(0), q)} per trade",
            f"Average win: {'n/a' if r.avg_win is None else signed(r.avg_win, q)} · average "
            f"loss: {'n/a' if r.avg_loss is None else signed(r.avg_loss, q)}",
        ]
        if r.best_trade is not None and r.worst_trade is not None:
            b, w = r.best_trade, r.worst_trade
            lines.append(
                f"Best trade: {pct(b.pnl_pct)} {b.symbol} ({_utc(b.exit_ms)}) · worst: "
                f"{pct(w.pnl_pct)} {w.symbol} ({_utc(w.exit_ms)})"
            )
        lines.append(f"Fees paid: {money(r.fees, q)}")
    else:
        lines.append("No closed trades yet: trade statistics start with the first one.")
    if r.start_equity is None or r.end_equity is None:
        lines.append(_NEVER_RAN)
        return Reply("\n".join(lines))
    lines += [
        f"Return: {pct(r.total_return_pct)} ({money(r.start_equity, q)} → "
        f"{money(r.end_equity, q)}) · max drawdown {pct(r.max_drawdown_pct, sign=False)}",
        f"Sharpe: {_ratio(r.sharpe, 'n/a (needs two days)')} · Sortino: "
        f"{_ratio(r.sortino, 'n/a')} (daily returns over {_count(r.days, 'day')}, annualised)",
    ]
    return Reply("\n".join(lines))


def _group_rows(groups: Sequence[GroupPerformance]) -> list[list[str]]:
    return [
        [
            g.name or "manual",
            str(g.trades),
            pct(g.win_rate_pct, sign=False),
            signed(g.pnl),
            pct(g.avg_trade_pct),
        ]
        for g in groups
    ]


@handles("performance")
async def performance(call: Call[i.Performance]) -> Reply:
    """Closed trades of the period grouped by symbol and by strategy, best P&L first."""
    days = call.intent.period_days
    r = await _read(call, lambda s, st: performance_service.performance(s, st, days))
    head = f"**Performance** · {_period(days, r.since_ms)} · as of {when(r.clock_ms)}"
    if not r.by_symbol:
        return Reply(f"{head}\nNo trade closed in this period.")
    header = ["win %", f"P&L {r.quote}", "avg trade"]
    return Reply(
        f"{head}\nBy symbol:\n"
        + table(_group_rows(r.by_symbol), ["symbol", "trades", *header])
        + "\nBy strategy:\n"
        + table(_group_rows(r.by_strategy), ["strategy", "trades", *header])
    )


@handles("daily")
async def daily(call: Call[i.Daily]) -> Reply:
    """P&L, return and closed trades of each UTC day (7 unless `days` says), newest first."""
    days = min(call.intent.days or equity_service.DEFAULT_DAYS, 366)
    r = await _read(call, lambda s, st: equity_service.daily(s, st, days))
    head = f"**Daily results** · last {_count(days, 'day')} · as of {when(r.clock_ms)}"
    if not r.days:
        return Reply(f"{head}\nNo equity recorded in these days. {_NEVER_RAN}")
    rows = [
        [
            _utc(d.day_ms, "%Y-%m-%d"),
            signed(d.pnl),
            pct(d.return_pct),
            str(d.trades),
            money(d.equity_end),
        ]
        for d in r.days
    ]
    total = sum((d.pnl for d in r.days), Decimal(0))
    return Reply(
        f"{head}\n"
        + table(rows, ["day (UTC)", f"P&L {r.quote}", "return", "trades", "equity"])
        + f"\nTotal: {signed(total, r.quote)}"
    )


@handles("equity")
async def equity(call: Call[i.Equity]) -> Reply:
    """The equity curve over the period as an image, with its change and deepest drawdown."""
    days = call.intent.period_days
    r = await _read(call, lambda s, st: equity_service.equity(s, st, days))
    head = f"**Equity** · {_period(days, r.since_ms)} · as of {when(r.clock_ms)}"
    if r.png is None or r.start_equity is None or r.end_equity is None:
        return Reply(f"{head}\nNo equity recorded in this period. {_NEVER_RAN}")
    return Reply(
        f"{head}\n{money(r.start_equity, r.quote)} → {money(r.end_equity, r.quote)} "
        f"({pct(r.change_pct)}) · max drawdown {pct(r.max_drawdown_pct, sign=False)} · "
        f"{len(r.equity):,} snapshots",
        image=r.png,
        image_name="equity.png",
    )


@handles("summary")
async def summary(call: Call[i.Summary]) -> Reply:
    """The daily summary an admin gets pushed: equity, today's P&L, positions, trades, breaker."""
    report = await _read(call, account_service.status)
    q = report.quote
    if not report.started:
        return Reply(f"**Summary**\n{_NEVER_RAN} Paper wallet: {money(report.equity, q)}.")
    clock = report.clock_ms
    held = await _read(call, lambda s, st: positions_service.positions(s, st, now_ms=clock))
    today = await _read(call, lambda s, st: equity_service.daily(s, st, 1, now_ms=clock))
    day_start = clock // MS_PER_DAY * MS_PER_DAY
    closed = [d for d in today.days if d.day_ms == day_start]
    lines = [f"**Summary** · as of {when(clock)}"]
    today_text = (
        ""
        if report.today_pnl is None
        else f" · today {signed(report.today_pnl, q)} ({pct(report.today_pnl_pct)})"
    )
    lines.append(f"Equity {money(report.equity, q)}{today_text}")
    symbols = ", ".join(p.symbol for p in held.positions)
    lines.append(
        f"Open positions: {len(held.positions)}"
        + (f" ({symbols}; unrealised {signed(held.unrealised_pnl, q)})" if symbols else "")
    )
    if closed and closed[0].trades:
        day = closed[0]
        lines.append(f"Trades today: {day.trades} closed, realised {signed(day.realised_pnl, q)}")
    else:
        lines.append("Trades today: none closed")
    lines.append(_breaker_line(report.breaker) + " " + _entries_line(report))
    return Reply("\n".join(lines))


@handles("portfolio")
async def portfolio(call: Call[i.Portfolio]) -> Reply:
    """The books per exchange: each asset's amount, value and weight in the total."""
    report = await _read(call, account_service.balance)
    q = report.quote
    total = report.total_value
    rows = []
    for a in report.assets:
        weight = None if a.value is None or total <= 0 else a.value / total * 100
        value = "n/a" if a.value is None else money(a.value)
        rows.append(
            [a.exchange, a.asset, _units(a.asset, a.amount, q), value, pct(weight, sign=False)]
        )
    lines = [f"**Portfolio** as of {when(report.clock_ms)} · total {money(total, q)}"]
    if rows:
        lines.append(table(rows, ["exchange", "asset", "amount", f"value {q}", "weight"]))
    else:
        lines.append("No holdings on any exchange.")
    if report.unpriced:
        lines.append(f"Not valued (no price seen yet): {', '.join(report.unpriced)}")
    return Reply("\n".join(lines))
