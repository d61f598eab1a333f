"""The command palette's dashboard commands: screens, markets, pause/resume, strategy, close."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import TradechatApp

__all__ = ["DashboardCommands"]

Command = tuple[str, str, Callable[[], object]]


class DashboardCommands(Provider):
    """Every dashboard action, by name."""

    def _commands(self) -> Iterator[Command]:
        app = cast("TradechatApp", self.app)
        for mode, title in app.SCREEN_TITLES.items():
            yield f"Show {title}", f"Switch to the {title} screen", partial(app.switch_mode, mode)
        yield "Pause or resume entries", "Toggle new entries (exits go on)", app.action_toggle_pause
        yield "Change strategy", "Assign a strategy to a market", app.action_choose_strategy
        for symbol in app.markets:
            yield f"Market {symbol}", f"Chart and act on {symbol}", partial(app.show_market, symbol)
            yield (
                f"Close {symbol} position",
                f"Sell the whole {symbol} position at market, after a confirmation",
                partial(app.close_position, symbol),
            )
        yield "Refresh", "Read the store again now", app.action_refresh_now

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
