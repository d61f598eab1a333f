"""Account commands word what the services compute over a real replay's store, at its clock."""

from __future__ import annotations

from decimal import Decimal

import pytest

from botcore.persistence import Store
from botcore.services.account import balance, status
from botcore.services.equity import daily, equity
from botcore.services.performance import performance, stats
from botcore.services.positions import positions
from botcore.services.trades import profit, trades
from chat.commands.base import BotContext
from chat.commands.format import amount, money, pct, price_text, signed, when
from tests.chat.commands.asking import ask, png_size
from tests.chat.commands.conftest import Replay


async def test_status_states_mode_clock_equity_today_and_breaker(ctx: BotContext) -> None:
    report = status(ctx.settings, ctx.store)
    text = (await ask(ctx, "status")).text
    assert f"as of {when(report.clock_ms)} (replay market time)" in text
    assert when(report.clock_ms) == "2023-06-04 13:45 UTC"
    assert "paper trading" in text
    assert f"Equity: {money(report.equity, 'USDT')} (cash {money(report.cash, 'USDT')})" in text
    assert report.today_pnl is not None
    assert f"Today: {signed(report.today_pnl, 'USDT')} ({pct(report.today_pnl_pct)})" in text
    assert "Open: 2 positions, 2 orders" in text
    assert "BTC/USDT 1h sma_cross, ETH/USDT 15m ema_cross" in text
    assert "Circuit breaker: clear." in text
    assert "Entries: running." in text


async def test_status_and_summary_name_the_breaker_that_halted_entries(replay: Replay) -> None:
    with Store.open(replay.halted.database.url) as store:
        ctx = BotContext(replay.halted, store)
        report = status(ctx.settings, store)
        assert report.breaker.halted and report.breaker.since_ms is not None
        halted = f"**halted** by max_daily_loss_pct since {when(report.breaker.since_ms)}"
        assert halted in (await ask(ctx, "status")).text
        summary = (await ask(ctx, "summary")).text
    assert halted in summary
    assert "Entries: halted by the circuit breaker." in summary


async def test_balance_values_every_asset_and_the_total(ctx: BotContext) -> None:
    report = balance(ctx.settings, ctx.store)
    text = (await ask(ctx, "balance")).text
    assert f"Total: **{money(report.total_value, 'USDT')}**" in text
    for held in report.assets:
        assert held.value is not None
        units = money(held.amount) if held.asset == "USDT" else amount(held.amount)
        assert f"{units}" in text and money(held.value) in text
    assert [a.asset for a in report.assets] == ["BTC", "ETH", "USDT"]


async def test_portfolio_gives_each_holdings_weight_per_exchange(ctx: BotContext) -> None:
    report = balance(ctx.settings, ctx.store)
    text = (await ask(ctx, "portfolio")).text
    assert f"total {money(report.total_value, 'USDT')}" in text
    weights = []
    for held in report.assets:
        assert held.value is not None
        weight = held.value / report.total_value * 100
        weights.append(weight)
        (row,) = [line for line in text.splitlines() if line.split()[:2] == ["paper", held.asset]]
        assert row.endswith(pct(weight, sign=False))
    assert sum(weights) == pytest.approx(100)


async def test_positions_show_marks_pnl_and_protective_orders(ctx: BotContext) -> None:
    report = positions(ctx.settings, ctx.store)
    text = (await ask(ctx, "positions")).text
    assert f"Unrealised: {signed(report.unrealised_pnl, 'USDT')}" in text
    for p in report.positions:
        assert p.mark_price is not None and p.unrealised_pnl is not None
        row = next(line for line in text.splitlines() if line.startswith(p.symbol + " "))
        for cell in (amount(p.amount), price_text(p.entry_price), price_text(p.mark_price)):
            assert cell in row
        assert row.endswith(f"{signed(p.unrealised_pnl)}  {pct(p.unrealised_pnl_pct)}")
        (oco,) = p.protective_orders
        assert oco.price is not None and oco.stop_price is not None
        guard = f"take-profit {price_text(oco.price)} / stop {price_text(oco.stop_price)}"
        assert f"{p.symbol} ({p.strategy}): {guard}" in text


async def test_positions_of_a_symbol_without_one_names_the_open_ones(ctx: BotContext) -> None:
    text = (await ask(ctx, "positions", symbol="sol")).text
    assert (
        text == "No open position in SOL/USDT as of 2023-06-04 13:45 UTC. Open: BTC/USDT, ETH/USDT."
    )
    only = (await ask(ctx, "positions", symbol="eth")).text
    assert "ETH/USDT" in only and "BTC/USDT" not in only


async def test_trades_lists_the_newest_first_up_to_the_limit(ctx: BotContext) -> None:
    report = trades(ctx.settings, ctx.store, limit=3)
    text = (await ask(ctx, "trades", limit="3")).text
    assert f"**Last 3 of {report.total} closed trades** as of 2023-06-04 13:45 UTC" in text
    rows = [line for line in text.splitlines() if "/USDT" in line]
    assert len(rows) == 3
    for row, trade in zip(rows, report.trades, strict=True):
        assert row.split()[2] == trade.symbol
        assert f"{signed(trade.pnl)}  {pct(trade.pnl_pct)}  {trade.exit_reason}" in row
    total = sum((t.pnl for t in report.trades), Decimal(0))
    assert f"Their P&L: {signed(total, 'USDT')}" in text
    default = (await ask(ctx, "trades")).text
    assert f"**Last 10 of {report.total} closed trades**" in default


async def test_trades_of_an_untraded_symbol_names_the_traded_ones(ctx: BotContext) -> None:
    text = (await ask(ctx, "trades", symbol="doge")).text
    assert "No closed trades in DOGE/USDT" in text
    assert text.endswith("Trades exist for: BTC/USDT, ETH/USDT.")


async def test_profit_over_a_period_matches_the_service(ctx: BotContext) -> None:
    r = profit(ctx.settings, ctx.store, 1)
    assert r.trades and r.equity_change is not None and r.since_ms is not None
    text = (await ask(ctx, "profit", period_days="today")).text
    assert f"last 1 day (since {when(r.since_ms)})" in text
    assert f"Realised: {signed(r.realised_pnl, 'USDT')} from {r.trades} trades" in text
    assert f"({r.wins} won, {r.losses} lost, win rate {pct(r.win_rate_pct, sign=False)})" in text
    assert f"Fees paid: {money(r.fees, 'USDT')}" in text
    assert f"Unrealised: {signed(r.unrealised_pnl, 'USDT')}" in text
    assert f"({signed(r.equity_change, 'USDT')}, {pct(r.equity_change_pct)})" in text


async def test_profit_of_one_symbol_has_no_equity_line(ctx: BotContext) -> None:
    r = profit(ctx.settings, ctx.store, symbol="ETH/USDT")
    text = (await ask(ctx, "profit", symbol="eth")).text
    assert "all time · ETH/USDT" in text
    assert f"Realised: {signed(r.realised_pnl, 'USDT')} from {r.trades} trades" in text
    assert "Equity:" not in text


async def test_stats_word_every_figure_of_the_service(ctx: BotContext) -> None:
    r = stats(ctx.settings, ctx.store)
    text = (await ask(ctx, "stats")).text
    assert r.profit_factor is not None and r.sharpe is not None and r.sortino is not None
    assert r.max_drawdown_pct is not None and r.best_trade is not None
    assert f"Trades: {r.trades} ({r.wins} won, {r.losses} lost)" in text
    assert f"Profit factor: {float(r.profit_factor):.2f}" in text
    assert f"Return: {pct(r.total_return_pct)}" in text
    assert f"max drawdown {pct(r.max_drawdown_pct, sign=False)}" in text
    assert f"Sharpe: {r.sharpe:.2f} · Sortino: {r.sortino:.2f}" in text
    assert f"Best trade: {pct(r.best_trade.pnl_pct)} {r.best_trade.symbol}" in text
    assert f"Fees paid: {money(r.fees, 'USDT')}" in text


async def test_performance_groups_by_symbol_and_strategy(ctx: BotContext) -> None:
    r = performance(ctx.settings, ctx.store)
    text = (await ask(ctx, "performance")).text
    lines = text.splitlines()
    for group in (*r.by_symbol, *r.by_strategy):
        row = next(line for line in lines if line.startswith(group.name + " "))
        assert row.split() == [
            group.name,
            str(group.trades),
            pct(group.win_rate_pct, sign=False),
            signed(group.pnl),
            pct(group.avg_trade_pct),
        ]
    assert text.index("By symbol") < text.index("By strategy")


async def test_daily_has_one_row_per_day_newest_first(ctx: BotContext) -> None:
    r = daily(ctx.settings, ctx.store)
    text = (await ask(ctx, "daily")).text
    rows = [line.split() for line in text.splitlines() if line.startswith("2023-")]
    assert [row[0] for row in rows] == ["2023-06-04", "2023-06-03", "2023-06-02", "2023-06-01"]
    for row, day in zip(rows, r.days, strict=True):
        assert row[1:] == [
            signed(day.pnl),
            pct(day.return_pct),
            str(day.trades),
            money(day.equity_end),
        ]
    two = (await ask(ctx, "daily", days="2")).text
    assert [line[:10] for line in two.splitlines() if line.startswith("2023-")] == [
        "2023-06-04",
        "2023-06-03",
    ]


async def test_equity_attaches_the_services_chart(ctx: BotContext) -> None:
    r = equity(ctx.settings, ctx.store, 2)
    asked = await ask(ctx, "equity", period_days="2")
    assert asked.reply.image == r.png
    assert asked.reply.image_name == "equity.png"
    assert png_size(asked.reply.image) == (1080, 810)
    assert r.start_equity is not None and r.end_equity is not None
    assert f"{money(r.start_equity, 'USDT')} → {money(r.end_equity, 'USDT')}" in asked.text
    assert (
        f"({pct(r.change_pct)}) · max drawdown {pct(r.max_drawdown_pct, sign=False)}" in asked.text
    )


async def test_summary_is_a_few_lines_of_the_day(ctx: BotContext) -> None:
    report = status(ctx.settings, ctx.store)
    today = daily(ctx.settings, ctx.store, 1).days[0]
    held = positions(ctx.settings, ctx.store)
    text = (await ask(ctx, "summary")).text
    assert report.today_pnl is not None
    assert text.splitlines() == [
        "**Summary** · as of 2023-06-04 13:45 UTC",
        f"Equity {money(report.equity, 'USDT')} · today {signed(report.today_pnl, 'USDT')} "
        f"({pct(report.today_pnl_pct)})",
        f"Open positions: 2 (BTC/USDT, ETH/USDT; unrealised {signed(held.unrealised_pnl, 'USDT')})",
        f"Trades today: {today.trades} closed, realised {signed(today.realised_pnl, 'USDT')}",
        "Circuit breaker: clear. Entries: running.",
    ]


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("status", "has not processed a bar yet"),
        ("summary", "Paper wallet: 10,000.00 USDT"),
        ("balance", "Total: **10,000.00 USDT**"),
        ("portfolio", "total 10,000.00 USDT"),
        ("positions", "No open positions as of"),
        ("trades", "No closed trades as of"),
        ("profit", "Realised: no trade closed in this period."),
        ("stats", "No closed trades yet"),
        ("performance", "No trade closed in this period."),
        ("daily", "No equity recorded in these days."),
        ("equity", "No equity recorded in this period."),
    ],
)
async def test_a_bot_whose_engine_never_ran_still_answers(
    fresh: BotContext, command: str, expected: str
) -> None:
    asked = await ask(fresh, command)
    assert expected in asked.text
    assert asked.reply.image is None
