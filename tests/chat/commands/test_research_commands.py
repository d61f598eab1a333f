"""Research commands on bundled real candles: the backtest report and chart, a parameter search
with progress and a trials cap, the strategy list and a ranking on one market."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from botcore.backtest.engine import BacktestSettings
from botcore.charts import equity_chart
from botcore.data.catalog import DataCatalog, bundled_data_dir
from botcore.services.backtests import BacktestRequest, BacktestService
from botcore.services.optimize import OptimizeRequest, OptimizeService
from botcore.strategy.registry import available_strategies
from botcore.timeframes import MS_PER_DAY
from chat.commands.base import BotContext
from chat.commands.format import money, pct, when
from tests.chat.commands.asking import ask, png_size

HOUR_MS = 3_600_000


def _last_days(symbol: str, timeframe: str, days: int) -> tuple[int, int]:
    """[start, end) of the last `days` days of a bundled series, as the commands count them."""
    frame = DataCatalog((bundled_data_dir(),)).load(symbol, timeframe).frame
    step = {"1h": HOUR_MS, "15m": HOUR_MS // 4}[timeframe]
    end = int(frame["timestamp"].iloc[-1]) + step
    return end - days * MS_PER_DAY, end


def _request(
    ctx: BotContext, strategy: str, symbol: str, timeframe: str, days: int
) -> BacktestRequest:
    start, end = _last_days(symbol, timeframe, days)
    conf = ctx.settings.backtest
    return BacktestRequest(
        strategy,
        symbols=(symbol,),
        timeframe=timeframe,
        start=datetime.fromtimestamp(start / 1000, UTC),
        end=datetime.fromtimestamp(end / 1000, UTC),
        settings=BacktestSettings(
            cash=conf.cash,
            fee=conf.fee,
            slippage=conf.slippage,
            stake_pct=conf.stake_pct,
            fill=conf.fill,
            max_open_positions=conf.max_open_positions,
        ),
    )


async def test_backtest_reports_the_services_metrics_with_its_equity_chart(
    fresh: BotContext,
) -> None:
    result = BacktestService(fresh.settings).run(_request(fresh, "ema_cross", "ETH/USDT", "1h", 90))
    m = result.metrics
    asked = await ask(fresh, "backtest", strategy="ema_cross", symbol="eth", timeframe="1h")
    assert asked.progress == [
        "Backtesting ema_cross on ETH/USDT 1h over 90 days (2,160 candles)...",
        f"{m.trades} trades simulated; drawing the equity chart...",
    ]
    assert len(result.timestamps) == 2_160
    text = asked.text
    start, end = _last_days("ETH/USDT", "1h", 90)
    assert text.splitlines()[:2] == [
        "**Backtest ema_cross** (fast=12 slow=26) · ETH/USDT 1h · binance",
        f"{when(start)} → {when(end)} · over 90 days (2,160 candles)",
    ]
    assert (
        f"Return: {pct(m.total_return_pct)} ({money(Decimal(str(m.initial_cash)), 'USDT')}" in text
    )
    assert m.buy_hold_return_pct is not None and m.win_rate_pct is not None
    assert m.profit_factor is not None and m.sharpe is not None
    gap = abs(m.total_return_pct - m.buy_hold_return_pct)
    assert (
        f"Buy & hold: {pct(m.buy_hold_return_pct)} · the strategy trailed it by {gap:.2f}" in text
    )
    assert (
        f"Trades: {m.trades} · win rate {pct(m.win_rate_pct, sign=False)} · profit factor " in text
    )
    assert f"profit factor {m.profit_factor:.2f}" in text
    assert f"Max drawdown: {pct(m.max_drawdown_pct, sign=False)} · Sharpe {m.sharpe:.2f}" in text
    assert asked.reply.image == equity_chart(result)
    assert png_size(asked.reply.image) == (1080, 810)


async def test_a_period_longer_than_the_data_says_what_it_used(fresh: BotContext) -> None:
    asked = await ask(
        fresh, "backtest", strategy="sma_cross", symbol="eth", timeframe="1h", period_days="1000"
    )
    # ETH/USDT 1h bundled: 2023-01-01 00:00 .. 2024-01-10 20:00 UTC (374.9 days), 8,996 candles
    assert asked.progress[0] == (
        "Backtesting sma_cross on ETH/USDT 1h over 375 days (8,996 candles), all the local "
        "data holds; you asked for 1,000..."
    )
    assert "2023-01-01 00:00 UTC → 2024-01-10 21:00 UTC" in asked.text


@pytest.mark.parametrize(
    ("args", "reply"),
    [
        (
            {"strategy": "emacross", "symbol": "eth"},
            "There is no strategy called 'emacross'. Did you mean ema_cross? Available: "
            "bollinger_breakout, ema_cross, macd_trend, rsi_reversion, sma_cross.",
        ),
        (
            {"strategy": "sma_cross", "symbol": "xrp"},
            "I have no local candles of XRP/USDT. Local markets: BTC/USDT (15m, 1h); ETH/USDT "
            "(15m, 1h). `tradechat data download` fetches more.",
        ),
        (
            {"strategy": "sma_cross", "symbol": "btc", "timeframe": "5m"},
            "I have BTC/USDT candles in 15m, 1h, not 5m. Ask for one of those, or fetch 5m with "
            "`tradechat data download`.",
        ),
    ],
)
@pytest.mark.parametrize("command", ["backtest", "optimize"])
async def test_bad_research_requests_get_a_polite_specific_reply(
    fresh: BotContext, command: str, args: dict[str, str], reply: str
) -> None:
    asked = await ask(fresh, command, **args)
    assert asked.text == reply
    assert asked.progress == []
    assert asked.reply.image is None


async def test_optimize_reports_progress_and_the_studys_best(fresh: BotContext) -> None:
    asked = await ask(
        fresh, "optimize", strategy="ema_cross", symbol="eth", period_days="30", trials="12"
    )
    assert asked.progress[0] == (
        "Optimising ema_cross on ETH/USDT 15m over 30 days (2,880 candles): 12 trials, best "
        "sharpe wins..."
    )
    # every 5 trials (at least 5, a quarter of the trials for longer searches)
    assert [p.split(" · ")[0] for p in asked.progress[1:]] == [
        "5/12 trials done",
        "10/12 trials done",
    ]
    # the same request again resumes the stored study: nothing new runs, the best is the same
    request = OptimizeRequest(
        _request(fresh, "ema_cross", "ETH/USDT", "15m", 30), objective="sharpe", trials=12, jobs=1
    )
    found = OptimizeService(fresh.settings).search(request)
    assert found.ran == 0 and found.total == 12
    best = " ".join(f"{k}={v}" for k, v in found.best_params.items())
    text = asked.text
    assert "Best of 12 trials (all new; " in text
    assert f"`{best}`" in text
    assert (
        f"sharpe {found.best_value:.2f} · return {pct(found.best_metrics['total_return_pct'])}"
        in text
    )
    assert "Default parameters (fast=12 slow=26): return " in text
    assert "in-sample" in text


async def test_optimize_caps_the_trials_at_200(
    fresh: BotContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked_for: list[int] = []
    search = OptimizeService.search

    def counting(
        self: OptimizeService, request: OptimizeRequest, progress: object = None
    ) -> object:
        asked_for.append(request.trials)
        # run only a handful: what is under test is the number the command asks for
        return search(self, OptimizeRequest(request.backtest, trials=3, jobs=1), None)

    monkeypatch.setattr(OptimizeService, "search", counting)
    asked = await ask(
        fresh, "optimize", strategy="sma_cross", symbol="btc", period_days="10", trials="5000"
    )
    assert asked_for == [200]
    assert "200 trials (capped from 5000)" in asked.progress[0]
    assert "Best of 3 trials" in asked.text


async def test_strategies_lists_every_strategy_with_its_defaults(ctx: BotContext) -> None:
    text = (await ask(ctx, "strategies")).text
    found = available_strategies()
    assert text.startswith(f"**Strategies** ({len(found)})")
    for name, cls in found.items():
        defaults = " ".join(f"{k}={p.default:g}" for k, p in cls.parameters.items())
        line = next(line for line in text.splitlines() if line.startswith(f"**{name}**: "))
        assert line.endswith(f"`{defaults}`")
    assert "In use: BTC/USDT 1h sma_cross, ETH/USDT 15m ema_cross" in text


async def test_strategies_on_a_symbol_ranks_them_by_return(fresh: BotContext) -> None:
    service = BacktestService(fresh.settings)
    results = {
        name: service.run(_request(fresh, name, "BTC/USDT", "1h", 90)).metrics
        for name in available_strategies()
    }
    asked = await ask(fresh, "strategies", symbol="btc")
    assert asked.progress == ["Ranking 5 strategies on BTC/USDT 1h over 90 days (2,160 candles)..."]
    rows = [line.split() for line in asked.text.splitlines() if line.split(" ")[0] in results]
    ranked = sorted(results, key=lambda n: results[n].total_return_pct, reverse=True)
    assert [row[0] for row in rows] == ranked
    for row in rows:
        m = results[row[0]]
        assert row[1:3] == [pct(m.total_return_pct), str(m.trades)]
    hold = next(iter(results.values())).buy_hold_return_pct
    assert asked.text.endswith(f"Buy & hold: {pct(hold)}")
