"""Screens built ahead, unseen, so a first showing is a plain switch; and what must still
change when a built screen is shown again (a theme switched meanwhile)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path, PurePath
from typing import Any, ClassVar

from rich.color import Color
from textual.pilot import Pilot
from textual.screen import Screen
from textual.strip import Strip
from textual.widgets import Input

import tui.app
from tests.tui.conftest import Copy, settle, settle_screen
from tui.app import TradechatApp
from tui.screens.activity import ActivityScreen
from tui.screens.chart import ChartScreen
from tui.screens.trades import TradesScreen
from tui.widgets.positions import PositionsTable
from tui.widgets.trades import TradesTable


def _idle(app: TradechatApp) -> bool:
    return all(w.is_finished for w in app.workers)


async def _warm(pilot: Pilot[None], app: TradechatApp) -> None:
    await settle(pilot, lambda: app.screens_warm and _idle(app))


async def test_screens_not_shown_yet_are_built_with_their_data_before_their_key(
    copy: Copy,
) -> None:
    built: dict[str, Screen[None]] = {}

    def recorded(name: str, make: Callable[[], Screen[None]]) -> Callable[[], Screen[None]]:
        def build() -> Screen[None]:
            built[name] = make()
            return built[name]

        return build

    class Recorded(TradechatApp):
        # the styles are found next to the module that defines the app class
        CSS_PATH: ClassVar[list[str | PurePath]] = [
            Path(tui.app.__file__).parent / path for path in TradechatApp.CSS_PATH
        ]
        MODES: ClassVar[dict[str, Any]] = {
            name: recorded(name, make) for name, make in TradechatApp.MODES.items()
        }

    app = Recorded(copy.settings, refresh_s=0.2, user="tester", warm_parser=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await _warm(pilot, app)
        assert set(built) == set(TradechatApp.MODES) and app.current_mode == "overview"
        assert isinstance(app.focused, PositionsTable)  # the hidden chat took no focus
        # read while hidden: the data is there before the key is pressed
        trades, activity, chart = built["trades"], built["activity"], built["chart"]
        assert isinstance(trades, TradesScreen) and isinstance(activity, ActivityScreen)
        assert isinstance(chart, ChartScreen)
        assert trades.query_one(TradesTable).row_count == 17
        assert activity.signals and chart.chart is not None
        # the hidden chat's input is not focused even within its screen: its cursor would
        # blink unseen, and keep that beat once shown
        assert not isinstance(built["chat"].focused, Input)
        await pilot.press("3")
        assert app.screen is trades
        await pilot.press("5")
        assert app.screen is built["chat"] and app.focused is built["chat"].query_one(Input)


def _colours(line: Strip) -> set[Color | None]:
    return {s.style.bgcolor for s in line if s.style}


async def test_tables_keep_their_drawn_rows_across_switches_and_redraw_for_a_new_theme(
    copy: Copy,
) -> None:
    app = copy.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await _warm(pilot, app)
        await settle_screen(pilot)
        positions = app.screen.query_one(PositionsTable)
        drawn = positions.render_line(1)
        await pilot.press("3")
        await settle_screen(pilot)
        trades = app.screen.query_one(TradesTable)
        dark = trades.render_line(3)
        await pilot.press("1")
        await settle_screen(pilot)
        assert positions.render_line(1) is drawn  # restyled on showing, but nothing changed
        app.theme = "textual-light"  # while the trades are hidden
        await settle_screen(pilot)
        light = positions.render_line(1)
        assert light.text == drawn.text and _colours(light).isdisjoint(_colours(drawn))
        await pilot.press("3")
        await settle_screen(pilot)
        light = trades.render_line(3)
        assert light.text == dark.text and _colours(light).isdisjoint(_colours(dark))
        assert trades.rich_style.bgcolor not in _colours(dark)


async def test_the_services_read_the_chart_ahead_for_its_first_showing_once(copy: Copy) -> None:
    from tui.readers import engine_clock, read_chart

    app = copy.app(warm_screens=False)  # no chart screen built to take it
    async with app.run_test(size=(120, 40)):
        await app.chat_router()  # the services have started: the read-ahead is done
        clock = engine_clock(app.store)
        expected = read_chart(app.settings, app.store, app.symbol, app.equity_curve)
        assert expected.price is not None and expected.equity
        assert app.chart_read_ahead(app.symbol, clock) == expected
        assert app.chart_read_ahead(app.symbol, clock) is None  # given once
