"""Market commands: a price chart, a scan of the local markets, predictions and arbitrage.

Charts and scans read local candle files (the cache, `[market] data_dir`, `[data] dirs`, the
bundled candles), never the network, and stop at the engine's clock, so a replay's answers never
show a price the engine had not seen. Arbitrage needs live order books of two or more configured
exchanges; predictions need the ML predictor, which a later issue brings.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from botcore.errors import BotcoreError, DataNotFoundError
from chat import intents as i
from chat.commands.base import Call, handles
from chat.commands.format import amount, money, pct, price_text, when
from chat.reply import Reply, plain_text, table

if TYPE_CHECKING:
    from botcore.config import Settings
    from botcore.data.catalog import DataCatalog
    from botcore.market.arbitrage import ArbitrageScan
    from botcore.market.scanner import ScanResult
    from botcore.persistence import Store
    from botcore.services.charts import PriceChart

__all__ = [
    "DEFAULT_SCAN_ROWS",
    "SCAN_TIMEFRAMES",
    "arbitrage",
    "chart",
    "local_catalog",
    "missing_data_text",
    "predict",
    "scan",
]

DEFAULT_SCAN_ROWS = 10
MAX_SCAN_ROWS = 50
# The scan reads the first of these timeframes the local files hold; 15m x 96 bars = one day.
SCAN_TIMEFRAMES = ("15m", "1h", "4h", "1d")


def local_catalog(settings: Settings, replay_folder: bool = True) -> DataCatalog:
    """The local candle files: cache, `[market] data_dir` (when `replay_folder`), `[data] dirs`,
    then the bundled candles, in the order the chart service and the replay search them."""
    from botcore.data.catalog import DataCatalog

    data = settings.data
    first = (settings.market.data_dir,) if replay_folder and settings.market.data_dir else ()
    return DataCatalog.create(data.cache_dir, (*first, *data.dirs), data.default_exchange)


def _held(catalog: DataCatalog) -> dict[str, list[str]]:
    from botcore.timeframes import timeframe_ms

    held: dict[str, set[str]] = {}
    for key, _ in catalog.entries():
        held.setdefault(key.symbol, set()).add(key.timeframe)
    return {s: sorted(tfs, key=timeframe_ms) for s, tfs in sorted(held.items())}


def missing_data_text(
    catalog: DataCatalog, symbol: str, timeframe: str | None, clock_ms: int | None = None
) -> str:
    """Why there is nothing to show for `symbol`, naming the local markets that exist."""
    held = _held(catalog)
    everything = "; ".join(f"{s} ({', '.join(tfs)})" for s, tfs in held.items()) or "none"
    fetch = "`tradechat data download` fetches more."
    if symbol not in held:
        return f"I have no local candles of {symbol}. Local markets: {everything}. {fetch}"
    if timeframe is not None and timeframe not in held[symbol]:
        return (
            f"I have {symbol} candles in {', '.join(held[symbol])}, not {timeframe}. Ask for "
            f"one of those, or fetch {timeframe} with `tradechat data download`."
        )
    until = f" ({when(clock_ms)})" if clock_ms is not None else ""
    series = f"{symbol} {timeframe}" if timeframe else symbol
    return f"I have {series} candles, but none that had closed by the engine's clock{until}."


def _default_timeframe(settings: Settings, store: Store, symbol: str) -> str:
    """The timeframe a chart takes when none is asked for, as the chart service chooses it."""
    assigned = [a.timeframe for a in store.strategy_assignments() if a.symbol == symbol]
    configured = [s.timeframe for s in settings.market.symbols if s.symbol == symbol]
    return next(iter(assigned + configured), "1h")


def _chart_missing(settings: Settings, store: Store, intent: i.Chart) -> str:
    from botcore.services.history import engine_clock_ms

    timeframe = intent.timeframe or _default_timeframe(settings, store, intent.symbol)
    catalog = local_catalog(settings)
    return missing_data_text(catalog, intent.symbol, timeframe, engine_clock_ms(store))


def _chart_text(c: PriceChart) -> str:
    first, last = c.close[0], c.close[-1]
    change = (last / first - 1) * 100 if first else None
    lines = f"{c.strategy} indicators" if c.strategy else "EMA 20 and EMA 50"
    entries = sum(1 for m in c.marks if m.kind == "entry")
    exits = len(c.marks) - entries
    last_open = c.timestamps_ms[-1]
    stale = ""
    if c.clock_ms - last_open > 2 * (last_open - c.timestamps_ms[-2] if len(c.close) > 1 else 0):
        stale = f" (the local data ends there; the engine's clock is {when(c.clock_ms)})"
    return (
        f"**{c.symbol} {c.timeframe}** · {len(c.close)} candles up to {when(last_open)} "
        f"({c.exchange}){stale}\n"
        f"Last close {price_text(Decimal(str(last)))} · {pct(change)} over the chart · "
        f"low {price_text(Decimal(str(min(c.low))))}, high {price_text(Decimal(str(max(c.high))))}"
        f"\nLines: {lines} · the bot's trades in view: {entries} entries, {exits} exits"
    )


@handles("chart")
async def chart(call: Call[i.Chart]) -> Reply:
    """Candles up to the engine's clock with indicators and the bot's entries and exits (PNG)."""
    from botcore.services.charts import price_chart

    ctx, intent = call.ctx, call.intent
    try:
        drawn = await call.run(
            lambda: price_chart(ctx.settings, ctx.store, intent.symbol, intent.timeframe)
        )
    except DataNotFoundError:
        return Reply(await call.run(lambda: _chart_missing(ctx.settings, ctx.store, intent)))
    return Reply(_chart_text(drawn), image=drawn.png, image_name="chart.png")


def _scan_clock(store: Store) -> int | None:
    """The engine's clock once it has run (a replay scans at market time), else None (the
    latest local candle)."""
    from botcore.services.history import engine_clock_ms, latest_snapshot

    return engine_clock_ms(store) if latest_snapshot(store) is not None else None


def _run_scan(settings: Settings, store: Store, rows: int) -> ScanResult | None:
    from botcore.market.scan_sources import scan_catalog
    from botcore.market.scanner import ScanParams

    catalog = local_catalog(settings)
    quote = settings.trading.quote.upper()
    held = {k.timeframe for k, _ in catalog.entries() if k.symbol.endswith(f"/{quote}")}
    timeframe = next((tf for tf in SCAN_TIMEFRAMES if tf in held), None)
    if timeframe is None:
        return None
    params = ScanParams(quote=quote, top=rows)
    return scan_catalog(catalog, timeframe, params, at_ms=_scan_clock(store))


def _skipped_text(result: ScanResult) -> str:
    from botcore.market.scanner import SkipReason, bars_needed

    need = bars_needed(result.params)
    notes = []
    for s in result.skipped:
        if s.reason is SkipReason.STALE:
            notes.append(f"{s.symbol}: its candles end at {when(s.last_close_ms)}")
        elif s.reason is SkipReason.NOT_ENOUGH_DATA:
            notes.append(f"{s.symbol}: {s.closed_bars} closed candles, the scan needs {need}")
        elif s.reason is SkipReason.LOW_VOLUME:
            notes.append(f"{s.symbol}: too little volume")
    return "; ".join(notes)


def _scan_reply(result: ScanResult, quote: str) -> Reply:
    from botcore.timeframes import timeframe_ms

    bars = result.params.momentum_bars
    hours = bars * timeframe_ms(result.timeframe) / 3_600_000
    head = (
        f"**Market scan** · {result.timeframe} candles, {bars}-bar windows ({hours:g} h) · as of "
        f"{when(result.at_ms)} · local candle files, quoted in {quote}"
    )
    skipped = _skipped_text(result)
    if not result.ranked:
        return Reply(
            f"{head}\nNo market could be ranked at this time: {skipped or 'no data'}. "
            "`tradechat data download` refreshes the candles."
        )
    rows = [
        [
            str(r.rank),
            r.symbol,
            f"{r.score:.2f}",
            pct(r.momentum_pct),
            f"{r.volume_spike:.2f}x" if math.isfinite(r.volume_spike) else "new",
            pct(r.volatility_pct, sign=False),
            "" if r.breakout == "none" else str(r.breakout),
        ]
        for r in result.ranked
    ]
    header = ["#", "symbol", "score", "momentum", "volume", "volatility", "breakout"]
    text = f"{head}\n{table(rows, header)}"
    text += "\nScore: the mean percentile of momentum, volume spike, volatility and range position."
    if skipped:
        text += f"\nLeft out: {skipped}."
    return Reply(text)


@handles("scan")
async def scan(call: Call[i.Scan]) -> Reply:
    """Rank the local markets by momentum, volume spike, volatility and breakout (offline)."""
    ctx = call.ctx
    rows = min(call.intent.limit or DEFAULT_SCAN_ROWS, MAX_SCAN_ROWS)
    try:
        result = await call.run(lambda: _run_scan(ctx.settings, ctx.store, rows))
    except DataNotFoundError as exc:
        return Reply(f"Nothing to scan: {exc}.")
    if result is None:
        return Reply(
            f"Nothing to scan: no local candle files quoted in {ctx.quote} "
            f"({', '.join(SCAN_TIMEFRAMES)}). `tradechat data download` fetches some."
        )
    return _scan_reply(result, ctx.quote)


@handles("predict")
async def predict(call: Call[i.Predict]) -> Reply:
    """Say plainly that the predictor is not built yet, and what can be asked instead."""
    symbol = call.intent.symbol
    timeframe = call.intent.timeframe or "1h"
    return Reply(
        f"I can't predict {symbol} yet: the ML price model comes in a later release, and "
        "I won't guess.\n"
        f"Meanwhile: /chart {symbol} {timeframe} shows its candles and indicators, and "
        f"/backtest ema_cross {symbol} {timeframe} tests a strategy on its history."
    )


def _arbitrage_symbol(call: Call[i.Arbitrage]) -> str:
    if call.intent.symbol is not None:
        return call.intent.symbol
    markets = call.ctx.settings.market.symbols
    return markets[0].symbol if markets else f"BTC/{call.ctx.quote}"


def _compare_books(names: Sequence[str], symbol: str) -> ArbitrageScan:
    from botcore.market.arbitrage import fetch_books, find_opportunities
    from botcore.market.venues import close_venues, open_venues

    clients = open_venues(names)
    try:
        books = fetch_books(clients, symbol)
    finally:
        close_venues(clients)
    return find_opportunities(books)


def _arbitrage_reply(result: ArbitrageScan) -> Reply:
    stamps = [b.received_ms for b in result.books if b.received_ms is not None]
    taken = f" · books of {when(max(stamps))}" if stamps else ""
    quote = result.symbol.partition("/")[2]
    head = f"**Arbitrage {result.symbol}** · {len(result.books)} exchanges{taken}"
    if not result.opportunities:
        if not result.pairs:
            return Reply(f"{head}\nNo opportunity: the books hold no bids or no asks.")
        best = result.pairs[0]
        return Reply(
            f"{head}\nNo spread pays after taker fees. Best pair: buy on {best.buy_exchange} at "
            f"{price_text(best.best_ask)}, sell on {best.sell_exchange} at "
            f"{price_text(best.best_bid)}: {best.gross_bps:+.2f} bps against "
            f"{best.fees_bps:.2f} bps of fees."
        )
    rows = [
        [
            o.buy_exchange,
            o.sell_exchange,
            amount(o.amount),
            f"{o.net_spread_bps:+.2f}",
            money(o.net_profit),
        ]
        for o in result.opportunities
    ]
    return Reply(
        f"{head}\nProfitable after taker fees and the slippage of walking the books:\n"
        + table(rows, ["buy on", "sell on", "amount", "net bps", f"profit {quote}"])
        + "\nBooks move in milliseconds: this is a snapshot, not an order."
    )


@handles("arbitrage")
async def arbitrage(call: Call[i.Arbitrage]) -> Reply:
    """Live cross-exchange spreads of one symbol after fees, from the configured exchanges."""
    names = list(dict.fromkeys(e.name for e in call.ctx.settings.exchanges))
    if len(names) < 2:
        have = f" only {names[0]}" if names else " none"
        return Reply(
            "Arbitrage compares live order books of at least two exchanges, and the config "
            f"lists{have}. Add `[[exchanges]]` entries (e.g. binance and okx) to config.toml; "
            "reading order books needs no API keys."
        )
    symbol = _arbitrage_symbol(call)
    await call.say(f"Fetching the {symbol} order books of {', '.join(names)}...")
    try:
        result = await call.run(lambda: _compare_books(names, symbol))
    except BotcoreError as exc:
        return Reply(
            f"I could not compare {symbol} across {', '.join(names)}: {plain_text(str(exc))}. "
            "The exchanges must be reachable from this machine; nothing was traded."
        )
    return _arbitrage_reply(result)
