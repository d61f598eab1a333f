"""`tradechat run`: the engine (paper by default) on replayed candles, until the data ends or a
stop signal; later issues add the chat adapters and the scheduler to the same loop."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from botcore.errors import BotcoreError
from tradechat.context import app_context, fail

if TYPE_CHECKING:  # the engine (sqlmodel, ~0.8 s) loads only when `run` runs
    from botcore.engine.live_trader import FlushReport
    from botcore.engine.runner import EngineRunner
    from botcore.engine.trader import BarReport
    from chat.surfaces import Surfaces

__all__ = ["run"]


def _announce(log: Any, report: BarReport) -> None:
    """Log what a committed bar did (called only after its transaction committed)."""
    for fill in report.fills:
        log.info("fill", stream=report.stream, order_id=fill.order_id, side=str(fill.side),
                 amount=str(fill.amount), price=str(fill.price), fee=str(fill.fee),
                 ts=fill.timestamp_ms)  # fmt: skip
    for trade in report.trades:
        log.info("trade closed", stream=report.stream, symbol=trade.symbol, pnl=str(trade.pnl),
                 pnl_pct=f"{trade.pnl_pct:.2f}", reason=trade.exit_reason)  # fmt: skip
    if report.action.startswith(("enter", "exit", "refused")):
        log.info("decision", stream=report.stream, action=report.action, ts=report.timestamp_ms)


def _announce_flush(log: Any, report: FlushReport) -> None:
    """Log what sending orders to the exchange did (after its commit)."""
    for order in report.orders:
        log.info("order", order_id=order.id, symbol=order.symbol, side=str(order.side),
                 type=str(order.type), status=str(order.status), amount=str(order.amount),
                 exchange_order_id=order.exchange_order_id, reason=order.reason,
                 reject_reason=order.reject_reason or None)  # fmt: skip
    for fill in report.fills:
        log.info(
            "fill", order_id=fill.order_id, side=str(fill.side), amount=str(fill.amount),
            price=str(fill.price), fee=str(fill.fee), fee_currency=fill.fee_currency,
        )  # fmt: skip
    for error in report.errors:
        log.warning("order not sent, retried at the next bar", error=error)


async def _main(
    runner: EngineRunner, console: Console, until_end: bool | None, speed: float | None, log: Any
) -> bool:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    from chat.commands import BotContext
    from chat.surfaces import start_surfaces

    settings = runner.settings
    # the chat shares the engine's store (never closes it: the runner does)
    surfaces = await start_surfaces(settings, BotContext(settings, runner.store))
    if surfaces.names:
        console.print(f"chat: {', '.join(surfaces.names)} connected")
    if until_end is None:  # with chat, the bot stays up after a replay until stopped
        until_end = not settings.market.loop and not surfaces.names
    try:
        return await _engine(runner, console, until_end, speed, log, stop, surfaces)
    finally:
        await surfaces.stop()


async def _engine(
    runner: EngineRunner, console: Console, until_end: bool, speed: float | None, log: Any,
    stop: asyncio.Event, surfaces: Surfaces,
) -> bool:  # fmt: skip
    total = runner.remaining()
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[equity]}"), TimeElapsedColumn())  # fmt: skip
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("replay", total=total, equity="")

        def on_bar(report: BarReport) -> None:
            _announce(log, report)
            surfaces.notify_bar(report)
            bar.update(task, advance=1, equity=f"equity {report.equity:,.2f}")

        def on_flush(report: FlushReport) -> None:
            _announce_flush(log, report)
            surfaces.notify_flush(report)

        summary = await runner.run(
            stop, until_end=until_end, on_bar=on_bar, speed=speed, on_flush=on_flush
        )
    return summary.finished


def run(
    ctx: typer.Context,
    until_end: Annotated[
        bool, typer.Option("--until-end", help="Stop when the replay data ends (reproducible).")
    ] = False,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed", help="Seconds of market time per second (default \\[market] speed)."
        ),
    ] = None,
    log_file: Annotated[
        Path, typer.Option("--log-file", help="JSON-lines log of every order, fill and decision.")
    ] = Path("user_data/logs/tradechat.jsonl"),
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Base URL replacing the exchange's REST host (a mirror, or a local stand-in).",
        ),
    ] = None,
    keystore: Annotated[
        Path,
        typer.Option("--keystore", help="Keystore with the exchange keys (live mode only)."),
    ] = Path("user_data/keystore.json"),
) -> None:
    """Run the trading engine: paper trading on replayed real candles by default; live candles
    with `[market] source = "exchange"`, real orders with `[trading] mode = "live"` (and
    allow_live). Every order, fill and balance change is committed before it is logged or sent;
    a restart resumes where it stopped and, live, reconciles open orders with the exchange."""
    app = app_context(ctx)
    console = app.console
    import structlog

    from botcore.logging_setup import configure_logging

    configure_logging(log_file, console=False)
    log = structlog.get_logger("tradechat.engine")
    settings = app.settings
    from botcore.engine.runner import EngineRunner

    venues = {s.exchange or settings.data.default_exchange for s in settings.market.symbols}
    api_urls = dict.fromkeys(venues, api_url) if api_url else None
    try:
        keys = None
        if settings.trading.mode == "live":
            from tradechat.commands.keys import open_keystore

            keys = open_keystore(keystore)
        runner = EngineRunner(settings, api_urls=api_urls, keystore=keys)
    except BotcoreError as exc:
        fail(console, str(exc))
    try:
        try:
            finished = asyncio.run(_main(runner, console, True if until_end else None, speed, log))
        except BotcoreError as exc:
            fail(console, str(exc))
        book = runner.trader.book
        held = ", ".join(f"{p.symbol} {p.amount}" for p in book.positions.values()) or "none"
        console.print(
            f"{'replay finished' if finished else 'stopped between two bars'} "
            f"({runner.trader.account}): "
            f"{settings.trading.quote} {book.balance(settings.trading.quote):,.2f}, "
            f"positions: {held}, trades: {len(runner.store.trades())}"
        )
    finally:
        runner.close()
