"""The signals and log screen: the store's latest signals, and a log that gains each new fill
and control action once, as the engine works on."""

from __future__ import annotations

import re

from textual.widgets import RichLog

from tests.tui.conftest import Copy, settle
from tui.activity import BACKLOG, ActivityFeed
from tui.app import TradechatApp
from tui.screens.activity import ActivityScreen
from tui.widgets.signals import SignalsTable

_STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d  ")  # an entry's time, then two spaces


def _log_text(app: TradechatApp) -> list[str]:
    """The log's entries: each starts with its time (a long one wraps onto more lines)."""
    entries: list[str] = []
    for strip in app.screen.query_one("#log", RichLog).lines:
        if _STAMP.match(strip.text) or not entries:
            entries.append(strip.text)
        else:
            entries[-1] += strip.text
    return entries


def test_the_feed_hands_over_each_line_once(copy: Copy) -> None:
    feed = ActivityFeed()
    with copy.store() as store:
        first, overlapping = feed.read(store), feed.read(store)  # two reads before a show
        fills, audit = store.fills(), store.audit_log(limit=BACKLOG)
        assert [line.timestamp_ms for line in first.lines] == sorted(
            [f.timestamp_ms for f in fills] + [a.timestamp_ms for a in audit]
        )[-BACKLOG:]
        assert first.signals[0] == store.signals()[-1]  # newest first
        assert feed.accept(first) == list(first.lines)
        assert feed.accept(overlapping) == []  # the same lines are never shown twice
        assert feed.read(store).lines == ()  # nothing new
    engine = copy.engine()
    try:
        with copy.store() as store:
            before = len(store.fills())
            while len(store.fills()) == before:
                engine.step()
            new = store.fills()[before:]
            lines = feed.accept(feed.read(store))
    finally:
        engine.runner.close()
    assert [(line.kind, line.timestamp_ms) for line in lines] == [
        ("fill", f.timestamp_ms) for f in new
    ]
    assert new[0].symbol in lines[0].text


async def test_the_screen_shows_signals_and_the_log_grows_with_a_control_action(
    copy: Copy,
) -> None:
    app = copy.app()
    with copy.store() as store:
        signals = store.signals()
        fills = store.fills()
        audit = len(store.audit_log(limit=BACKLOG))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, ActivityScreen)
        table = screen.query_one(SignalsTable)
        await settle(pilot, lambda: table.row_count == min(len(signals), 200))
        newest = signals[-1]
        assert [table.column_text(i)[0] for i in range(1, 5)] == [
            newest.symbol, newest.timeframe, newest.strategy, newest.action,
        ]  # fmt: skip
        await settle(pilot, lambda: len(_log_text(app)) == min(len(fills) + audit, BACKLOG))
        assert "BTC/USDT" in _log_text(app)[0] or "ETH/USDT" in _log_text(app)[0]
        await pilot.press("p")  # pause: an audit entry, shown once at the next read
        await settle(pilot, lambda: any("tui:tester: pause" in t for t in _log_text(app)))
        await pilot.press("r")
        await pilot.pause(0.3)
        assert sum("tui:tester: pause" in t for t in _log_text(app)) == 1
