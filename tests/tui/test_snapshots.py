"""SVG snapshots of the overview and the trades screen, small and large terminals.

The data is the replay's copy, so every number is the engine's; a changed snapshot fails with
a report to look at (`--snapshot-update` rewrites them, after looking).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.tui.conftest import Copy, settle, settle_screen
from tui.app import TradechatApp
from tui.screens.overview import OverviewScreen
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
