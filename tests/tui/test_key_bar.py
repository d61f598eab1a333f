"""The key bar at the bottom of every screen: the screen's keys, the palette's, and clicks."""

from __future__ import annotations

from botcore.engine.state import PAUSED_KEY
from tests.tui.conftest import Copy, settle
from tui.app import TradechatApp
from tui.screens.overview import OverviewScreen
from tui.screens.trades import TradesScreen
from tui.widgets.key_bar import KeyBar


def _bar(app: TradechatApp) -> KeyBar:
    return app.screen.query_one(KeyBar)


def _line(app: TradechatApp) -> str:
    bar = _bar(app)
    return bar.render().plain


def _x_of(bar: KeyBar, description: str) -> int:
    """A column where the key with `description` is drawn."""
    for x in range(bar.size.width):
        shown = bar.key_at(x)
        if shown is not None and shown.description == description:
            return x
    raise AssertionError(f"no {description!r} key on the bar")


async def test_the_bar_shows_each_screens_keys_and_the_palettes_on_the_right(
    copy: Copy,
) -> None:
    app = copy.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.ready)
        line = _line(app)
        assert line.startswith(" x Close  123456 Screens  p Pause  s Strategy  m Market")
        assert line.endswith("▏^p palette ") and len(line) == 120
        assert "Refresh" not in line  # `r` is not shown
        await pilot.press("3")
        await pilot.pause()
        assert isinstance(app.screen, TradesScreen)
        line = _line(app)
        assert line.startswith(" / Filter  o Sort  v Reverse  123456 Screens")
        assert "Page" not in line  # 17 trades: one page, no page keys


async def test_on_a_narrow_screen_the_keys_give_way_to_the_palette(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test(size=(60, 24)) as pilot:
        await settle(pilot, lambda: app.ready)
        await pilot.press("3")
        await pilot.pause()
        line = _line(app)
        assert len(line) == 60 and line.endswith("▏^p palette ")
        assert line.startswith(" / Filter  o Sort")
        bar = _bar(app)
        assert bar.key_at(59) is not None and bar.key_at(59) == bar.palette


async def test_clicking_a_key_on_the_bar_presses_it(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, OverviewScreen) and app.ready)
        bar = _bar(app)
        assert bar.key_at(_line(app).index("Screens")) is None  # a group's name is no key
        await pilot.click(KeyBar, offset=(_x_of(bar, "Pause"), 0))

        def paused() -> str | None:
            with copy.store() as store:
                return store.state(PAUSED_KEY)

        await settle(pilot, lambda: paused() == "true")
        three = _x_of(bar, "Trades")
        assert _line(app)[three] == "3"
        await pilot.click(KeyBar, offset=(three, 0))
        await settle(pilot, lambda: isinstance(app.screen, TradesScreen))
