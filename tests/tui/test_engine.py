"""`tradechat tui` with no engine running starts one in-process on the replay, shows it moving,
and stops it on quit; with an engine running it only attaches."""

from __future__ import annotations

from pathlib import Path

from botcore.config import Settings
from botcore.engine.lease import LeaseHolder, read_lease, running_engine
from botcore.persistence import Store
from tests.tui.conftest import settle
from tui.app import TradechatApp
from tui.screens.overview import OverviewScreen
from tui.widgets.status import AccountSummary


def _settings(tmp_path: Path, source: str = "replay") -> Settings:
    return Settings.model_validate(
        {
            "database": {"url": f"sqlite:///{tmp_path / 'bot.db'}"},
            "data": {"cache_dir": str(tmp_path / "cache")},
            "market": {
                "source": source,
                "start": "2024-03-20",
                "speed": 3600,  # four 15m bars a second
                "symbols": [{"symbol": "ETH/USDT", "timeframe": "15m", "strategy": "ema_cross"}],
            },
        }
    )


def _bar(app: TradechatApp) -> int | None:
    screen = app.screen
    if not isinstance(screen, OverviewScreen) or screen.overview is None:
        return None
    return screen.overview.status.last_bar_ms


async def test_with_no_engine_running_the_dashboard_runs_the_replay_until_it_quits(
    tmp_path: Path,
) -> None:
    settings = _settings(tmp_path)
    app = TradechatApp(settings, refresh_s=0.2, user="tester", warm_parser=False,
                       start_engine=True)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.engine is not None, timeout_s=30)
        assert app.engine_note.startswith("No engine was running: replaying here at 3600x")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        await settle(pilot, lambda: _bar(app) is not None, timeout_s=15)
        first = _bar(app)
        assert first is not None
        # the replay moves on while the dashboard watches: a later bar is drawn
        await settle(pilot, lambda: (_bar(app) or 0) > first, timeout_s=15)
        assert screen.overview is not None and screen.overview.engine == "engine running here"
        assert screen.query_one(AccountSummary).engine_up
        assert screen.sub_title == "paper · running"
        engine = app.engine
    assert engine is not None and not engine.running and engine.error is None
    with Store.open(settings.database.url) as store:
        assert running_engine(store) is None  # stopped, and the lease released
        lease = read_lease(store)
        assert lease is not None and lease.stopped_ms is not None


async def test_with_an_engine_running_the_dashboard_only_attaches(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    Path(tmp_path / "bot.db").parent.mkdir(parents=True, exist_ok=True)
    with Store.open(settings.database.url) as store:
        other = LeaseHolder(store, "paper", "replay")
        other.claim()  # an engine of this very process, as `tradechat run` would hold it
        app = TradechatApp(settings, refresh_s=0.2, user="tester", warm_parser=False,
                           start_engine=True)  # fmt: skip
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, lambda: app.ready)
            await settle(pilot, lambda: app.engine_note.startswith("Attached to the running"))
            assert app.engine is None
        lease = read_lease(store)
        assert lease is not None and lease.owner == other.lease.owner and lease.stopped_ms is None


async def test_live_candles_are_never_started_from_the_dashboard(tmp_path: Path) -> None:
    settings = _settings(tmp_path, source="exchange")
    app = TradechatApp(settings, refresh_s=0.2, user="tester", warm_parser=False,
                       start_engine=True)  # fmt: skip
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: app.ready)
        await settle(pilot, lambda: any("tradechat run" in n.message for n in app._notifications))
        assert app.engine is None
    with Store.open(settings.database.url) as store:
        assert read_lease(store) is None
