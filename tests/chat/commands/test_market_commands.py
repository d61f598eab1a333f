"""Market commands: charts and scans of local real candles at the engine's clock, predictions
that are not built yet, and arbitrage over configured exchanges (or why it cannot run)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from botcore.data.exchanges import DownloadError
from botcore.market import arbitrage as arbitrage_module
from botcore.market import venues
from botcore.market.arbitrage import Level, VenueBook, find_opportunities
from botcore.market.scan_sources import scan_catalog
from botcore.market.scanner import ScanParams
from botcore.persistence import Store
from botcore.services.charts import price_chart
from botcore.services.history import engine_clock_ms
from chat.commands.base import BotContext
from chat.commands.format import money, pct, price_text, when
from chat.commands.market import local_catalog
from tests.chat.commands.asking import ask, png_size
from tests.chat.commands.conftest import Replay, replay_settings


async def test_chart_attaches_the_services_png_up_to_the_engines_clock(ctx: BotContext) -> None:
    drawn = price_chart(ctx.settings, ctx.store, "ETH/USDT", "15m")
    asked = await ask(ctx, "chart", symbol="eth", timeframe="15m")
    assert asked.reply.image == drawn.png
    assert asked.reply.image_name == "chart.png"
    assert png_size(asked.reply.image) == (1080, 810)
    text = asked.text
    assert f"**ETH/USDT 15m** · 120 candles up to {when(drawn.timestamps_ms[-1])} (binance)" in text
    assert when(drawn.clock_ms) == "2023-06-04 13:45 UTC"
    assert f"Last close {price_text(Decimal(str(drawn.close[-1])))}" in text
    assert f"{pct((drawn.close[-1] / drawn.close[0] - 1) * 100)} over the chart" in text
    entries = sum(m.kind == "entry" for m in drawn.marks)
    assert f"ema_cross indicators · the bot's trades in view: {entries} entries" in text
    assert entries > 0


async def test_chart_without_a_timeframe_takes_the_markets_own(ctx: BotContext) -> None:
    asked = await ask(ctx, "chart", symbol="btc")
    assert asked.text.startswith("**BTC/USDT 1h**")
    assert "sma_cross indicators" in asked.text
    assert asked.reply.image == price_chart(ctx.settings, ctx.store, "BTC/USDT").png


async def test_chart_of_an_unknown_market_names_the_local_ones(ctx: BotContext) -> None:
    asked = await ask(ctx, "chart", symbol="xrp")
    assert asked.reply.image is None
    assert asked.text.startswith("I have no local candles of XRP/USDT. Local markets: ")
    assert "BTC/USDT (15m, 1h); ETH/USDT (15m, 1h)" in asked.text
    other = await ask(ctx, "chart", symbol="eth", timeframe="4h")
    assert other.text.startswith("I have ETH/USDT candles in 15m, 1h, not 4h.")


async def test_scan_ranks_the_local_markets_at_the_engines_clock(ctx: BotContext) -> None:
    clock = engine_clock_ms(ctx.store)
    params = ScanParams(quote="USDT", top=10)
    expected = scan_catalog(local_catalog(ctx.settings), "15m", params, at_ms=clock)
    assert len(expected.ranked) == 2
    text = (await ask(ctx, "scan")).text
    assert f"as of {when(clock)}" in text
    rows = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    assert [row[1] for row in rows] == [r.symbol for r in expected.ranked]
    for row, r in zip(rows, expected.ranked, strict=True):
        assert row[2:6] == [
            f"{r.score:.2f}",
            pct(r.momentum_pct),
            f"{r.volume_spike:.2f}x",
            pct(r.volatility_pct, sign=False),
        ]
    top = (await ask(ctx, "scan", limit="1")).text
    assert len([line for line in top.splitlines() if line[:1].isdigit()]) == 1


async def test_scan_before_the_engine_ran_uses_the_latest_candles(fresh: BotContext) -> None:
    expected = scan_catalog(local_catalog(fresh.settings), "15m", ScanParams(quote="USDT"))
    text = (await ask(fresh, "scan")).text
    assert f"as of {when(expected.at_ms)}" in text
    assert when(expected.at_ms) == "2024-04-09 23:45 UTC"  # the last bundled 15m close


async def test_scan_of_more_markets_says_which_it_left_out_and_why(
    replay: Replay, tmp_path: Path, shared_data: Path
) -> None:
    # seven Binance USDT markets at 15m; BNB's candles begin in 2024, after the replay's clock
    data = {"cache_dir": tmp_path / "cache", "dirs": [shared_data]}
    settings = replay_settings(replay.db, tmp_path, data=data)
    with Store.open(settings.database.url) as store:
        ctx = BotContext(settings, store)
        clock = engine_clock_ms(store)
        expected = scan_catalog(
            local_catalog(settings), "15m", ScanParams(quote="USDT", top=10), at_ms=clock
        )
        text = (await ask(ctx, "scan")).text
    ranked = [r.symbol for r in expected.ranked]
    assert len(ranked) == 6 and "BNB/USDT" not in ranked
    rows = [line.split() for line in text.splitlines() if line[:1].isdigit()]
    assert [row[1] for row in rows] == ranked
    assert "Left out: BNB/USDT: 0 closed candles, the scan needs 97." in text


async def test_predict_says_plainly_that_the_model_is_not_built(ctx: BotContext) -> None:
    text = (await ask(ctx, "predict", symbol="btc", timeframe="4h")).text
    assert text.startswith("I can't predict BTC/USDT yet: the ML price model comes in a later")
    assert "/chart BTC/USDT 4h" in text


async def test_arbitrage_needs_two_exchanges_in_the_config(ctx: BotContext) -> None:
    text = (await ask(ctx, "arbitrage")).text
    assert "at least two exchanges, and the config lists none" in text
    assert "[[exchanges]]" in text


def _two_exchanges(replay: Replay, folder: Path) -> BotContext:
    settings = replay_settings(
        replay.db, folder, exchanges=[{"name": "binance"}, {"name": "kraken"}]
    )
    return BotContext(settings, Store.open(settings.database.url))


async def test_arbitrage_with_unreachable_exchanges_is_a_polite_error(
    replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(names: Any, **_: Any) -> dict[str, Any]:
        raise DownloadError(f"{next(iter(names))} did not answer after 3 attempts")

    monkeypatch.setattr(venues, "open_venues", unreachable)
    ctx = _two_exchanges(replay, tmp_path)
    try:
        asked = await ask(ctx, "arbitrage", symbol="eth")
    finally:
        ctx.close()
    assert asked.progress == ["Fetching the ETH/USDT order books of binance, kraken..."]
    assert asked.text.startswith(
        "I could not compare ETH/USDT across binance, kraken: binance did not answer"
    )
    assert "nothing was traded" in asked.text


def _book(exchange: str, bid: str, ask_price: str, fee: str) -> VenueBook:
    return VenueBook(
        exchange,
        "BTC/USDT",
        bids=(Level(Decimal(bid), Decimal("0.5")), Level(Decimal(bid) - 5, Decimal(2))),
        asks=(Level(Decimal(ask_price), Decimal("0.4")), Level(Decimal(ask_price) + 5, Decimal(2))),
        taker_fee=Decimal(fee),
        received_ms=1_700_000_000_000,
    )


async def test_arbitrage_words_the_opportunities_found(
    replay: Replay, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    books = (
        _book("binance", "30000", "30001", "0.001"),
        _book("kraken", "30200", "30201", "0.001"),
    )
    monkeypatch.setattr(venues, "open_venues", lambda names, **_: dict.fromkeys(names))
    monkeypatch.setattr(venues, "close_venues", lambda clients: None)
    monkeypatch.setattr(arbitrage_module, "fetch_books", lambda clients, symbol, **_: books)
    expected = find_opportunities(books)
    (best,) = expected.opportunities
    ctx = _two_exchanges(replay, tmp_path)
    try:
        text = (await ask(ctx, "arbitrage")).text
    finally:
        ctx.close()
    assert text.startswith("**Arbitrage BTC/USDT** · 2 exchanges · books of 2023-11-14 22:13 UTC")
    row = next(line for line in text.splitlines() if line.startswith("binance"))
    assert row.split() == [
        "binance",
        "kraken",
        f"{best.amount.normalize():f}",
        f"{best.net_spread_bps:+.2f}",
        money(best.net_profit),
    ]
