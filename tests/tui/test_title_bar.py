"""The title bar at the top of every screen: the titles centred as Textual's header centres
them, kept up to date, and the icon opening the command palette."""

from __future__ import annotations

from textual.command import CommandPalette

from tests.tui.conftest import Copy, settle
from tui.widgets.title_bar import ICON_CELLS, RIGHT_CELLS, TitleBar


async def test_the_bar_centres_the_titles_and_follows_the_screens_sub_title(copy: Copy) -> None:
    app = copy.app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, lambda: bool(app.screen.sub_title))  # the overview's, with its data
        bar = app.screen.query_one(TitleBar)
        await pilot.pause()
        line = bar.render_line(0).text
        assert len(line) == 80 and line.startswith(" ≡" + " " * (ICON_CELLS - 2))
        title = f"tradechat — {app.screen.sub_title}"
        middle = 80 - ICON_CELLS - RIGHT_CELLS
        left = ICON_CELLS + (middle - len(title)) // 2
        assert line == " ≡".ljust(left) + title.ljust(80 - left)
        app.screen.sub_title = "a sub-title long enough to be cut short at this width, with an end"
        await pilot.pause()
        line = bar.render_line(0).text  # what is drawn, redrawn on the change
        assert len(line) == 80 and "…" in line and "with an end" not in line
        assert line[ICON_CELLS:].startswith("tradechat — a sub-title")


async def test_a_click_on_the_icon_opens_the_palette_and_on_the_title_does_not(
    copy: Copy,
) -> None:
    app = copy.app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.ready)
        await pilot.click(TitleBar, offset=(50, 0))
        await pilot.pause()
        assert not isinstance(app.screen, CommandPalette)
        await pilot.click(TitleBar, offset=(1, 0))
        await settle(pilot, lambda: isinstance(app.screen, CommandPalette))
