"""SVG snapshots of the overview and the trades screen, small and large terminals.

The data is the replay's copy, so every number is the engine's; a changed snapshot fails with
a report to look at (`--snapshot-update` rewrites them, after looking).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select

from tests.tui.conftest import Copy, settle, settle_screen
from tui.app import TradechatApp
from tui.screens.chart import ChartScreen
from tui.screens.overview import OverviewScreen
from tui.widgets.plots import EquityPlot
from tui.widgets.signals import SignalsTable
from tui.widgets.trades import TradesTable

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
SnapCompare = Callable[..., bool]


def _overview_loaded(app: TradechatApp) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        def loaded() -> bool:
            screen = app.screen
            return isinstance(screen, OverviewScreen) and screen.overview is not None

        await settle(pilot, loaded)
        await settle_screen(pilot)

    return run_before


def _trades_loaded(app: TradechatApp) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("3")
        await settle(pilot, lambda: app.screen.query_one(TradesTable).row_count == 17)
        await settle_screen(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_overview(copy: Copy, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    # one read is enough: a refresh during the screenshot would only redraw the same numbers
    app = copy.app(refresh_s=3600)
    assert snap_compare(app, terminal_size=size, run_before=_overview_loaded(app))


@pytest.mark.parametrize("size", SIZES)
def test_trades(copy: Copy, snap_compare: SnapCompare, size: tuple[int, int]) -> None:
    app = copy.app(refresh_s=3600)
    assert snap_compare(app, terminal_size=size, run_before=_trades_loaded(app))


def _chart_loaded(app: TradechatApp) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("2")

        def drawn() -> bool:
            screen = app.screen
            return isinstance(screen, ChartScreen) and screen.chart is not None

        await settle(pilot, drawn)
        await settle_screen(pilot)

    return run_before


def _chat_answered(app: TradechatApp) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("5")
        await pilot.press(*"/balance", "enter")
        await settle(pilot, lambda: len(app.screen.query("ChatMessage.-bot")) == 1)
        await settle_screen(pilot)

    return run_before


def _backtest_done(app: TradechatApp) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("4")
        screen = app.screen
        await settle(pilot, lambda: screen.query_one("#bt-strategy", Select).value == "sma_cross")
        screen.query_one("#bt-start", Input).value = "2023-01-01"
        screen.query_one("#bt-end", Input).value = "2023-07-01"
        await pilot.click("#bt-run")
        await settle(pilot, lambda: bool(screen.query_one(EquityPlot).curve[1]), timeout_s=30)
        await settle_screen(pilot)

    return run_before


def test_chart(copy: Copy, snap_compare: SnapCompare) -> None:
    app = copy.app(refresh_s=3600)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_chart_loaded(app))


def test_chat(copy: Copy, snap_compare: SnapCompare) -> None:
    app = copy.app(refresh_s=3600)
    assert snap_compare(app, terminal_size=(100, 30), run_before=_chat_answered(app))


def test_backtest(copy: Copy, snap_compare: SnapCompare) -> None:
    app = copy.app(refresh_s=3600)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_backtest_done(app))


def _activity_loaded(app: TradechatApp) -> Callable[[Pilot[object]], Awaitable[None]]:
    async def run_before(pilot: Pilot[object]) -> None:
        await pilot.press("6")
        await settle(pilot, lambda: app.screen.query_one(SignalsTable).row_count > 0)
        await settle_screen(pilot)

    return run_before


def test_activity(copy: Copy, snap_compare: SnapCompare) -> None:
    app = copy.app(refresh_s=3600)
    assert snap_compare(app, terminal_size=(120, 40), run_before=_activity_loaded(app))
