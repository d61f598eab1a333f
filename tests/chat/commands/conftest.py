"""The account, market and research commands answer from the store of a real engine replay.

The replay is the services' own (tests/botcore/services/conftest.py): two markets of bundled
candles from 2023-06-01 to 2023-06-04 13:30 UTC, trades every day, two positions left open, and a
copy of the store from the bar where the daily-loss breaker halted entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from botcore.persistence import Store
from chat.commands.base import BotContext
from tests.botcore.services import conftest as services
from tests.botcore.services.conftest import Replay, replay_settings

__all__ = ["Replay", "ctx", "fresh", "replay", "replay_settings"]

replay = services.replay  # the services' session fixture, shared by name


@pytest.fixture
def ctx(replay: Replay) -> Iterator[BotContext]:
    """The bot's context over the replay's store (read only)."""
    with Store.open(replay.settings.database.url) as store:
        yield BotContext(replay.settings, store)


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[BotContext]:
    """A bot whose engine never ran: the store file does not exist until a command opens it,
    and the data cache (where optimisation studies go) is empty."""
    context = BotContext(replay_settings(tmp_path / "never" / "bot.db", tmp_path))
    yield context
    context.close()
