"""The dashboard driven with Pilot over a copy of a real replay's store: screens, controls, and
the data following the engine."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime

from rich.console import Console
from textual.widgets import Button, Input, ProgressBar, Select, Static

from botcore.backtest.engine import BacktestSettings
from botcore.engine.state import PAUSED_KEY
from botcore.services.account import status
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.services.trades import trades
from tests.tui.conftest import Copy, settle
from tui.app import TradechatApp
from tui.screens.backtest import BacktestScreen
from tui.screens.chart import ChartScreen
from tui.screens.chat import ChatScreen
from tui.screens.dialogs import ConfirmDialog, StrategyDialog
from tui.screens.overview import OverviewScreen
from tui.screens.trades import TradesScreen
from tui.widgets.plots import EquityPlot
from tui.widgets.positions import PositionsTable
from tui.widgets.status import AccountSummary
from tui.widgets.trades import COLUMNS, TradesTable


def _loaded(app: TradechatApp) -> bool:
    screen = app.screen
    return isinstance(screen, OverviewScreen) and screen.overview is not None


def _symbols(app: TradechatApp) -> list[str]:
    table = app.screen.query_one(PositionsTable)
    return [str(key.value) for key in table.rows]


def _manual_orders(copy: Copy) -> list[str]:
    with copy.store() as store:
        return [
            f"{o.side} {o.symbol}" for o in store.orders(open_only=True) if o.reason == "manual"
        ]


async def test_number_keys_switch_screens_and_each_screen_reads_its_data(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: _loaded(app))
        assert _symbols(app) == ["BTC/USDT", "ETH/USDT"]
        await pilot.press("2")
        chart = app.screen
        assert isinstance(chart, ChartScreen)
        await settle(pilot, lambda: chart.chart is not None)
        assert chart.chart is not None and chart.chart.price is not None
        assert chart.chart.price.symbol == "BTC/USDT" and chart.chart.price.timeframe == "1h"
        assert {m.kind for m in chart.chart.price.marks} == {"entry", "exit"}
        await pilot.press("3")
        assert isinstance(app.screen, TradesScreen)
        await pilot.press("4")
        assert isinstance(app.screen, BacktestScreen)
        await pilot.press("5")
        assert isinstance(app.screen, ChatScreen)
        # the chat input has the focus: a digit is text there, until Esc leaves the input
        await pilot.press("1")
        assert isinstance(app.screen, ChatScreen)
        assert app.screen.query_one("#chat-input", Input).value == "1"
        await pilot.press("escape", "1")
        assert isinstance(app.screen, OverviewScreen)


async def test_p_pauses_entries_in_the_store_and_p_again_resumes_them(copy: Copy) -> None:
    app = copy.app()

    def paused() -> str | None:
        with copy.store() as store:
            return store.state(PAUSED_KEY)

    async with app.run_test() as pilot:
        await settle(pilot, lambda: _loaded(app))
        assert paused() is None
        await pilot.press("p")
        await settle(pilot, lambda: paused() == "true")
        summary = app.screen.query_one(AccountSummary)
        await settle(pilot, lambda: summary.report is not None and summary.report.paused is True)
        assert app.screen.sub_title == "paper · paused"
        await pilot.press("p")
        await settle(pilot, lambda: paused() == "false")
        await settle(pilot, lambda: summary.report is not None and summary.report.paused is False)
        # entries are on again, but no engine runs on this copy to take them
        await settle(pilot, lambda: app.screen.sub_title == "paper · stopped")
    with copy.store() as store:
        log = [(a.actor, a.action) for a in store.audit_log()]
    assert ("tui:tester", "pause") in log and ("tui:tester", "resume") in log


async def test_close_asks_first_and_the_fill_shows_on_the_overview_at_the_next_refresh(
    copy: Copy,
) -> None:
    app = copy.app()
    engine = copy.engine()
    try:
        async with app.run_test() as pilot:
            await settle(pilot, lambda: _loaded(app))
            assert app.screen.query_one(PositionsTable).selected_symbol == "BTC/USDT"
            await pilot.press("x")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
            body = str(app.screen.query_one(".dialog-body", Static).render())
            assert "Sell 0.108777363212 BTC/USDT at market" in body
            assert _manual_orders(copy) == []  # a preview writes nothing
            await pilot.press("y")
            await settle(pilot, lambda: _manual_orders(copy) == ["sell BTC/USDT"])
            await settle(pilot, lambda: _loaded(app))
            assert _symbols(app) == ["BTC/USDT", "ETH/USDT"]  # nothing filled yet
            # the engine works the order at the next BTC bar, in its own connection (ETH
            # trades on meanwhile: its 15m bars come four to an hour)
            for _ in range(8):
                await asyncio.to_thread(engine.step)
                if not _manual_orders(copy):
                    break
            with copy.store() as store:
                held = [p.symbol for p in store.positions()]
                done = trades(copy.settings, store).trades
                now = status(copy.settings, store)
            assert "BTC/USDT" not in held
            summary = app.screen.query_one(AccountSummary)
            # a read that straddled the engine's commit is replaced at the next refresh
            await settle(pilot, lambda: _symbols(app) == held and summary.report == now)
    finally:
        engine.runner.close()
    assert ("BTC/USDT", "manual") in [(t.symbol, t.exit_reason) for t in done]


async def test_cancelling_the_close_dialog_sells_nothing(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test() as pilot:
        await settle(pilot, lambda: _loaded(app))
        await pilot.press("down", "x")  # the ETH row
        await settle(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        assert "ETH/USDT" in str(app.screen.query_one(".dialog-body", Static).render())
        await pilot.click("#cancel")
        await settle(pilot, lambda: isinstance(app.screen, OverviewScreen))
        await pilot.pause(0.3)
    assert _manual_orders(copy) == []
    with copy.store() as store:
        assert [a.actor for a in store.audit_log() if a.actor.startswith("tui:")] == []


async def test_the_chat_panel_answers_a_command_plain_language_and_its_buttons(
    copy: Copy,
) -> None:
    app = copy.app(warm_parser=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("5")
        chat = app.screen
        assert isinstance(chat, ChatScreen)

        def said(prefix: str) -> list[str]:
            return [m.text for m in chat.query("ChatMessage.-bot") if m.text.startswith(prefix)]

        await pilot.press(*"/status", "enter")
        await settle(pilot, lambda: bool(said("**Status**")))
        assert "Equity: 9,839.13 USDT" in said("**Status**")[0]
        assert chat.query_one("#chat-input", Input).value == ""
        await pilot.press(*"how am I doing today?", "enter")
        await settle(pilot, lambda: bool(said("**Profit**")))
        await pilot.press(*"close my btc position", "enter")
        await settle(pilot, lambda: len(chat.query("ReplyButton")) == 2)
        assert [str(b.label) for b in chat.query("ReplyButton")] == ["Confirm", "Cancel"]
        await pilot.click("ReplyButton:last-of-type")
        await settle(pilot, lambda: bool(said("Cancelled")))
        assert len(chat.query("ReplyButton")) == 0
    assert _manual_orders(copy) == []


async def test_trades_filter_by_symbol_and_sort_by_column(copy: Copy) -> None:
    with copy.store() as store:
        expected = trades(copy.settings, store).trades
    app = copy.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("3")
        screen = app.screen
        table = screen.query_one(TradesTable)
        await settle(pilot, lambda: table.row_count == len(expected) == 17)

        def shown(key: str) -> list[object]:
            return [COLUMNS[key].sort(t) for t in table.shown]

        def cells(key: str) -> list[str]:
            return table.cells(key)

        assert [t.id for t in table.shown] == [t.id for t in expected]  # newest first
        assert cells("exit")[0] == "2023-06-04 12:30"
        await pilot.press("slash", *"eth")
        eth = [t for t in expected if t.symbol == "ETH/USDT"]
        assert table.row_count == len(eth) and set(cells("symbol")) == {"ETH/USDT"}
        label = str(screen.query_one("#trades-count").render())
        assert label.startswith(f"{len(eth)} of 17 trades · net ")
        await pilot.press("enter", "o", "o")  # back to the table; exit -> symbol -> P&L
        assert shown("pnl") == sorted((t.pnl for t in eth), reverse=True)
        assert cells("pnl")[0] == f"+{max(t.pnl for t in eth):,.2f}"
        await pilot.press("v")
        assert shown("pnl") == sorted(t.pnl for t in eth)
        # a click on a column header sorts by it
        await pilot.click(table, offset=(table.column_x("amount") + 1, 0))
        assert table.sort_key == "amount" and shown("amount") == sorted(shown("amount"))
        await pilot.press("slash", "backspace", "backspace", "backspace", "escape")
        assert table.row_count == 17


async def test_the_trades_cursor_moves_scrolls_into_view_and_follows_a_click(
    copy: Copy,
) -> None:
    app = copy.app()
    async with app.run_test(size=(80, 14)) as pilot:
        await pilot.press("3")
        table = app.screen.query_one(TradesTable)
        await settle(pilot, lambda: table.row_count == 17)
        rows_in_view = table.scrollable_content_region.height - 1  # below the header
        assert rows_in_view < 17
        await pilot.press("end")
        assert table.cursor_row == 16 and table.scroll_offset.y == 17 - rows_in_view
        last = table.render_line(rows_in_view)  # the bottom line: the cursor's row
        assert last.text.startswith(" " + table.cells("exit")[16])
        assert table.render_line(0).text.startswith(" Exit (UTC)")  # the header stays
        await pilot.press("home")
        assert table.cursor_row == 0 and table.scroll_offset.y == 0
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        await pilot.click(table, offset=(3, 5))  # the fifth row (the header is line 0)
        assert table.cursor_row == 4
        await pilot.press("o")  # re-sorted: the cursor stays on the same trade
        trade = table.shown[table.cursor_row]
        await pilot.press("v")
        assert table.shown[table.cursor_row] == trade


async def test_the_strategy_dialog_assigns_a_strategy_from_the_next_bar(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: _loaded(app))
        await pilot.press("s")
        await settle(pilot, lambda: isinstance(app.screen, StrategyDialog))
        dialog = app.screen
        assert dialog.query_one("#market", Select).value == "BTC/USDT"
        assert dialog.query_one("#strategy", Select).value == "sma_cross"
        dialog.query_one("#strategy", Select).value = "ema_cross"
        await pilot.click("#apply")
        await settle(pilot, lambda: isinstance(app.screen, OverviewScreen))

        def assigned() -> list[tuple[str, str, str]]:
            with copy.store() as store:
                return [(a.symbol, a.strategy, a.assigned_by) for a in store.strategy_assignments()]

        await settle(pilot, lambda: assigned() == [("BTC/USDT", "ema_cross", "tui:tester")])


async def test_m_switches_the_market_the_chart_draws(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test() as pilot:
        await pilot.press("2")
        chart = app.screen
        assert isinstance(chart, ChartScreen)
        await settle(pilot, lambda: chart.chart is not None)
        await pilot.press("m")
        await settle(pilot, lambda: chart.chart is not None and chart.chart.symbol == "ETH/USDT")
        assert chart.chart is not None and chart.chart.price is not None
        assert chart.chart.price.timeframe == "15m"
        assert app.symbol == "ETH/USDT"


async def test_the_command_palette_runs_dashboard_actions(copy: Copy) -> None:
    from textual.command import CommandList

    app = copy.app()

    def first_hit() -> str:
        hits = app.screen.query(CommandList)
        if not hits or hits.first().option_count == 0:
            return ""
        return str(hits.first().get_option_at_index(0).prompt)

    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: _loaded(app))
        await pilot.press("ctrl+p", *"show trades")
        await settle(pilot, lambda: first_hit().startswith("Show trades"))
        await pilot.press("enter")
        await settle(pilot, lambda: isinstance(app.screen, TradesScreen))
        await pilot.press("ctrl+p", *"market eth")
        await settle(pilot, lambda: first_hit().startswith("Market ETH/USDT"))
        await pilot.press("enter")
        await settle(pilot, lambda: app.symbol == "ETH/USDT")


async def test_a_backtest_runs_in_a_worker_and_shows_the_services_result(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("4")
        screen = app.screen
        strategy = screen.query_one("#bt-strategy", Select)
        await settle(pilot, lambda: strategy.value == "sma_cross")
        assert screen.query_one("#bt-market", Select).value == "BTC/USDT|1h"
        screen.query_one("#bt-start", Input).value = "2023-13-01"
        await pilot.press("ctrl+r")
        status = screen.query_one("#bt-status", Static)
        await settle(pilot, lambda: "YYYY-MM-DD" in str(status.render()))
        screen.query_one("#bt-start", Input).value = "2023-01-01"
        screen.query_one("#bt-end", Input).value = "2023-07-01"
        await pilot.click("#bt-run")
        plot = screen.query_one(EquityPlot)
        await settle(pilot, lambda: bool(plot.curve[1]))
        report = _text(screen.query_one("#bt-report", Static).content)
        progress = screen.query_one(ProgressBar)
        assert progress.percentage == 1.0
        assert not screen.query_one("#bt-run", Button).disabled
    conf = copy.settings.backtest
    request = BacktestRequest(
        "sma_cross", symbols=("BTC/USDT",), timeframe="1h",
        start=datetime(2023, 1, 1, tzinfo=UTC), end=datetime(2023, 7, 1, tzinfo=UTC),
        settings=BacktestSettings(cash=conf.cash, fee=conf.fee, slippage=conf.slippage,
                                  stake_pct=conf.stake_pct, fill=conf.fill,
                                  max_open_positions=conf.max_open_positions),
    )  # fmt: skip
    direct = BacktestService(copy.settings).run(request)
    assert plot.curve[1] == tuple(float(e) for e in direct.equity)
    assert plot.curve[0][0] == 1672531200000  # 2023-01-01 00:00 UTC
    assert f"Return         {direct.metrics.total_return_pct:+.2f}%" in report
    assert f"Trades         {direct.metrics.trades}" in report


def _text(renderable: object) -> str:
    console = Console(width=100, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()
