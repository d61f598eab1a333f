"""`tradechat scan` ranks symbols; `tradechat arbitrage` finds spreads that pay after costs."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from botcore.data.catalog import DataCatalog, normalize_symbol
from botcore.data.exchanges import create_exchange
from botcore.errors import BotcoreError, ParamError
from botcore.market.arbitrage import (
    ArbitrageScan,
    Opportunity,
    fetch_books,
    find_opportunities,
    paper_fills,
)
from botcore.market.scan_sources import scan_catalog, scan_exchange
from botcore.market.scanner import (
    ScanParams,
    ScanResult,
    SkippedSymbol,
    SkipReason,
    bars_needed,
)
from botcore.market.venues import close_venues, open_venues
from botcore.timeframes import to_iso, to_ms
from tradechat.commands.options import parse_symbols, parse_when
from tradechat.context import app_context, fail

__all__ = ["arbitrage", "parse_mapping", "scan"]

_SORT_KEYS = ("score", "momentum", "volume_spike", "volatility", "breakout", "quote_volume")


def parse_mapping(values: Sequence[str] | None, what: str) -> dict[str, str]:
    """`["binance=http://a", "okx=http://b,bybit=x"]` -> {exchange: value}; repeat or comma-join."""
    found: dict[str, str] = {}
    for item in parse_symbols(list(values or [])):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ParamError(f"'{item}' is not EXCHANGE=VALUE (the {what})")
        found[key.strip().lower()] = value.strip()
    return found


def _decimal(text: str, what: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ParamError(f"{what}: '{text}' is not a number") from None


def _skip_text(skip: SkippedSymbol, needed: str) -> str:
    last = f", last candle closed {to_iso(skip.last_close_ms)}" if skip.last_close_ms else ""
    if skip.reason is SkipReason.STALE:
        return f"{skip.symbol}: no recent candles{last}"
    if skip.reason is SkipReason.NOT_ENOUGH_DATA:
        return f"{skip.symbol}: only {skip.closed_bars} closed candles, needs {needed}{last}"
    if skip.reason is SkipReason.LOW_VOLUME:
        return (
            f"{skip.symbol}: 24 h quote volume {skip.quote_volume_24h or 0:,.0f} under the minimum"
        )
    return f"{skip.symbol}: quoted in another currency"


def _print_scan(console: Console, result: ScanResult, source: str) -> None:
    p = result.params
    console.print(
        f"scan of {source} at {to_iso(result.at_ms)}, {result.timeframe} candles; momentum "
        f"{p.momentum_bars}, volume {p.volume_bars}, volatility {p.volatility_bars} "
        f"({p.volatility}), range {p.breakout_bars} bars"
    )
    table = Table(title=f"top {len(result.ranked)} by {p.sort_by}", title_justify="left")
    for name in ("#", "symbol", "score", "momentum %", "volume ×", "volatility %", "range pos",
                 "breakout", "24h quote vol", "as of"):  # fmt: skip
        table.add_column(
            name, justify="left" if name in ("symbol", "breakout", "as of") else "right"
        )
    for row in result.ranked:
        table.add_row(
            str(row.rank),
            row.symbol,
            f"{row.score:.3f}",
            f"{row.momentum_pct:+.2f}",
            f"{row.volume_spike:.2f}",
            f"{row.volatility_pct:.3f}",
            f"{row.range_position:.2f}",
            "" if row.breakout == "none" else row.breakout,
            f"{row.quote_volume_24h:,.0f}",
            to_iso(row.last_close_ms),
        )
    console.print(table)
    if not result.ranked:
        console.print("no symbol passed the filters at this time")
    needed = str(bars_needed(p))
    for skip in result.skipped:
        if skip.reason is not SkipReason.QUOTE:
            console.print(f"skipped {_skip_text(skip, needed)}")


def scan(
    ctx: typer.Context,
    symbols: Annotated[
        list[str] | None,
        typer.Option(
            "--symbols",
            "-s",
            help="Symbols to rank (repeat or comma-separate); "
            "default every symbol with candles (or the most traded, live).",
        ),
    ] = None,
    timeframe: Annotated[str, typer.Option("--timeframe", "-t", help="Candle length.")] = "15m",
    quote: Annotated[
        str | None,
        typer.Option("--quote", help="Quote currency filter \\[default: \\[data] quote]."),
    ] = None,
    min_volume: Annotated[
        float, typer.Option("--min-volume", help="Minimum 24 h volume in the quote currency.")
    ] = 0.0,
    top: Annotated[int, typer.Option("--top", "-n", help="Show the best N.")] = 20,
    sort: Annotated[
        str,
        typer.Option(
            "--sort", help="score, momentum, volume_spike, volatility, breakout or quote_volume."
        ),
    ] = "score",
    bars: Annotated[int, typer.Option("--bars", help="Look-back of every metric, in bars.")] = 96,
    volatility: Annotated[
        str, typer.Option("--volatility", help="stdev (of returns) or atr (ATR / close).")
    ] = "stdev",
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Scan time for candle files, YYYY-MM-DD or ISO 8601 UTC "
            "\\[default: the latest candle]; only candles closed by then count.",
        ),
    ] = None,
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange",
            "-e",
            help="Scan live through ccxt (tickers and recent candles) instead of the candle files.",
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option("--api-url", help="With --exchange: base URL replacing its REST host."),
    ] = None,
    universe: Annotated[
        int, typer.Option("--universe", help="Live: rank the N most traded symbols.")
    ] = 30,
) -> None:
    """Rank symbols by momentum, volume spike, volatility and range breakout."""
    context = app_context(ctx)
    console = context.console
    settings = context.settings.data
    try:
        if sort not in _SORT_KEYS:
            raise ParamError(f"--sort must be one of {', '.join(_SORT_KEYS)}")
        if volatility not in ("stdev", "atr"):
            raise ParamError("--volatility must be stdev or atr")
        if api_url and not exchange:
            raise ParamError("--api-url needs --exchange (the exchange it stands for)")
        params = ScanParams(
            momentum_bars=bars,
            volume_bars=bars,
            volatility_bars=bars,
            breakout_bars=bars,
            volatility=volatility,  # type: ignore[arg-type]
            quote=(quote or settings.quote).upper(),
            min_quote_volume=min_volume,
            sort_by=sort,  # type: ignore[arg-type]
            top=top,
        )
        wanted = parse_symbols(symbols) or None
        if exchange:
            if at:
                raise ParamError("--at scans candle files; a live scan is always at now")
            result = _scan_live(exchange, api_url, timeframe, params, wanted, universe)
            source = exchange
        else:
            when = parse_when(at)
            catalog = DataCatalog.create(
                settings.cache_dir, settings.dirs, settings.default_exchange
            )
            result = scan_catalog(
                catalog,
                timeframe,
                params,
                symbols=wanted,
                at_ms=to_ms(when) if when else None,
            )
            source = "candle files"
    except BotcoreError as exc:
        fail(console, str(exc))
    _print_scan(console, result, source)


def _scan_live(
    exchange_id: str,
    api_url: str | None,
    timeframe: str,
    params: ScanParams,
    symbols: Sequence[str] | None,
    universe: int,
) -> ScanResult:
    client = create_exchange(exchange_id, api_url=api_url)
    try:
        return scan_exchange(client, timeframe, params, symbols=symbols, universe=universe)
    finally:
        client.close()


def _bps(value: Decimal) -> str:
    return f"{value:+.2f}"


def _print_pairs(console: Console, result: ArbitrageScan) -> None:
    table = Table(title=f"{result.symbol}: top of book, buy on A, sell on B", title_justify="left")
    for name in ("buy on", "sell on", "best ask", "best bid", "gross bps", "fees bps", "net bps"):
        table.add_column(name, justify="left" if name.endswith("on") else "right")
    for pair in result.pairs:
        table.add_row(
            pair.buy_exchange,
            pair.sell_exchange,
            f"{pair.best_ask:,f}",
            f"{pair.best_bid:,f}",
            _bps(pair.gross_bps),
            f"{pair.fees_bps:.2f}",
            _bps(pair.net_bps),
        )
    console.print(table)


def _print_opportunities(console: Console, found: Sequence[Opportunity], quote: str) -> None:
    table = Table(title="profitable after taker fees and slippage", title_justify="left")
    for name in ("buy on", "sell on", "amount", "buy VWAP", "sell VWAP", "slippage bps",
                 "gross bps", "net bps", f"net profit {quote}", "size limited by"):  # fmt: skip
        table.add_column(name, justify="left" if name.endswith(("on", "by")) else "right")
    for o in found:
        table.add_row(
            o.buy_exchange,
            o.sell_exchange,
            f"{o.amount:f}",
            f"{o.buy_vwap:,.4f}",
            f"{o.sell_vwap:,.4f}",
            f"{o.buy_slippage_bps + o.sell_slippage_bps:.2f}",
            _bps(o.gross_spread_bps),
            _bps(o.net_spread_bps),
            f"{o.net_profit:,.4f}",
            o.limited_by.value,
        )
    console.print(table)


def _print_paper(console: Console, best: Opportunity, timestamp_ms: int) -> None:
    fills = paper_fills(best, run_id="cli-arbitrage", timestamp_ms=timestamp_ms)
    table = Table(title="paper fills (simulated, not booked)", title_justify="left")
    for name in ("exchange", "side", "amount", "price (VWAP)", "fee", "fill id"):
        table.add_column(name)
    for f in fills:
        table.add_row(
            f.exchange, f.side.value, f"{f.amount:f}", f"{f.price:,.4f}",
            f"{f.fee:,.6f} {f.fee_currency}", f.id,
        )  # fmt: skip
    console.print(table)


def arbitrage(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Option("--symbol", "-s", help="Symbol, e.g. BTC/USDT.")],
    exchanges: Annotated[
        str | None,
        typer.Option(
            "--exchanges",
            "-e",
            help="Comma-separated ccxt ids \\[default: the \\[\\[exchanges]] of the config].",
        ),
    ] = None,
    api_url_map: Annotated[
        list[str] | None,
        typer.Option(
            "--api-url-map",
            help="EXCHANGE=URL replacing that exchange's REST host; repeat or comma-separate.",
        ),
    ] = None,
    min_profit_bps: Annotated[
        float, typer.Option("--min-profit-bps", help="Margin every unit must clear after fees.")
    ] = 0.0,
    taker_fee: Annotated[
        list[str] | None,
        typer.Option(
            "--taker-fee",
            help="EXCHANGE=FRACTION overriding the market's taker fee "
            "(0.001 = 0.1 %); repeat or comma-separate.",
        ),
    ] = None,
    max_amount: Annotated[
        float | None, typer.Option("--max-amount", help="Cap on the base amount per trade.")
    ] = None,
    depth: Annotated[
        int | None, typer.Option("--depth", help="Order-book levels per side to fetch.")
    ] = None,
    paper: Annotated[
        bool, typer.Option("--paper", help="Show the two paper fills of the best opportunity.")
    ] = False,
) -> None:
    """Cross-exchange spreads net of taker fees and order-book slippage, with executable size."""
    context = app_context(ctx)
    console = context.console
    try:
        names = [n.strip().lower() for n in (exchanges or "").split(",") if n.strip()]
        if not names:
            names = [config.name for config in context.settings.exchanges]
        if len(names) < 2:
            raise ParamError("name at least two exchanges, e.g. --exchanges binance,okx")
        fees = {
            k: _decimal(v, f"--taker-fee {k}")
            for k, v in parse_mapping(taker_fee, "taker fee").items()
        }
        urls = parse_mapping(api_url_map, "API URL")
        wanted = normalize_symbol(symbol, context.settings.data.quote)
        clients = open_venues(names, api_urls=urls)
        try:
            books = fetch_books(clients, wanted, limit=depth, taker_fees=fees)
        finally:
            close_venues(clients)
        result = find_opportunities(
            books,
            min_profit_bps=_decimal(str(min_profit_bps), "--min-profit-bps"),
            max_amount=_decimal(str(max_amount), "--max-amount") if max_amount else None,
        )
    except BotcoreError as exc:
        fail(console, str(exc))
    _report(console, result, paper)


def _report(console: Console, result: ArbitrageScan, paper: bool) -> None:
    for book in result.books:
        taken = to_iso(book.timestamp_ms) if book.timestamp_ms is not None else "not stamped"
        received = to_iso(book.received_ms) if book.received_ms is not None else "-"
        console.print(
            f"{book.exchange} book: taken {taken}, received {received}, taker fee "
            f"{(book.taker_fee * 100).normalize():f} %"
        )
    stamps = [b.timestamp_ms for b in result.books if b.timestamp_ms is not None]
    if len(stamps) > 1:
        console.print(f"stamped books taken {(max(stamps) - min(stamps)) / 1000:.1f} s apart")
    _print_pairs(console, result)
    quote = result.symbol.split("/")[1]
    if not result.opportunities:
        if not result.pairs:
            console.print("no opportunity: the books hold no bids or no asks")
            return
        best = result.pairs[0]
        margin = f" by {result.min_profit_bps:f} bps" if result.min_profit_bps else ""
        console.print(
            f"no opportunity profitable{margin} after costs: the best pair, buy on "
            f"{best.buy_exchange} "
            f"at {best.best_ask:f} and sell on {best.sell_exchange} at {best.best_bid:f}, spreads "
            f"{_bps(best.gross_bps)} bps against {best.fees_bps:.2f} bps of taker fees"
        )
        return
    _print_opportunities(console, result.opportunities, quote)
    if paper:
        arrivals = [b.received_ms for b in result.books if b.received_ms is not None]
        _print_paper(console, result.opportunities[0], max(arrivals, default=0))
