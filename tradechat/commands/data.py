"""`tradechat data`: download candles into the local cache, list what is stored, check a series."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from botcore.data.download import DownloadProgress, DownloadSummary
from botcore.data.quality import DataQuality
from botcore.errors import BotcoreError
from botcore.services.market_data import DownloadRequest, MarketDataService, StoredSeries
from botcore.timeframes import to_iso
from tradechat.commands.options import parse_when
from tradechat.context import app_context, fail

__all__ = ["app"]

app = typer.Typer(
    help="Market data: download candles into the local cache, list and check them.",
    no_args_is_help=True,
)

_MAX_GAPS_SHOWN = 10


def _when(ms: int | None) -> str:
    return to_iso(ms) if ms is not None else "-"


def print_quality(console: Console, title: str, quality: DataQuality) -> None:
    """The quality report: counts, then the largest gaps (found, never filled)."""
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column("check")
    table.add_column("value", justify="right")
    table.add_row("rows", f"{quality.rows:,}")
    table.add_row("first candle", _when(quality.first_ms))
    table.add_row("last candle", _when(quality.last_ms))
    table.add_row("gaps", f"{len(quality.gaps)} ({quality.missing_candles:,} missing candles)")
    table.add_row("duplicate timestamps", str(quality.duplicates))
    table.add_row("out of order", "yes" if quality.unsorted else "no")
    table.add_row("zero-volume candles", str(quality.zero_volume))
    table.add_row("off the timeframe grid", str(quality.off_grid))
    table.add_row("high/low inconsistent", str(quality.bad_ohlc))
    console.print(table)
    if quality.gaps:
        largest = sorted(quality.gaps, key=lambda g: (-g.missing, g.after_ms))[:_MAX_GAPS_SHOWN]
        shown = "largest " if len(quality.gaps) > len(largest) else ""
        console.print(f"{shown}gaps (left as the exchange published them, not filled):")
        for gap in largest:
            console.print(
                f"  {to_iso(gap.after_ms)} -> {to_iso(gap.before_ms)}: {gap.missing} missing"
            )
    console.print(
        "clean: no findings" if quality.clean else "findings: " + "; ".join(quality.issues())
    )


class _ProgressBar:
    """A rich progress bar that appears with the first page, so a no-op download shows none."""

    def __init__(self, console: Console, label: str) -> None:
        self._console = console
        self._label = label
        self._progress: Progress | None = None

    def update(self, step: DownloadProgress) -> None:
        if self._progress is None:
            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TextColumn("slots, {task.fields[fetched]:,} candles, {task.fields[pages]} pages"),
                TimeElapsedColumn(),
                TimeRemainingColumn(),
                console=self._console,
            )
            self._progress.start()
            self._progress.add_task(self._label, total=step.total_slots, fetched=0, pages=0)
        task = self._progress.task_ids[0]
        self._progress.update(
            task, completed=step.done_slots, fetched=step.fetched, pages=step.pages
        )

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


def _print_summary(console: Console, summary: DownloadSummary) -> None:
    key = summary.key
    if not summary.segments_ms:
        console.print(
            f"{key.symbol} {key.timeframe} on {key.exchange}: already cached, nothing to fetch"
        )
    else:
        resumed = (
            f", resumed after {to_iso(summary.resumed_after_ms)}"
            if summary.resumed_after_ms is not None
            else ""
        )
        console.print(
            f"{key.symbol} {key.timeframe} on {key.exchange}: {summary.fetched:,} closed candles "
            f"in {summary.pages} request(s), {summary.added:,} new rows{resumed}; "
            f"{summary.retries} retried request(s)"
        )
    if summary.forming_skipped:
        console.print(f"not stored: {summary.forming_skipped} candle(s) still forming")
    if summary.incomplete_skipped:
        console.print(f"not stored: {summary.incomplete_skipped} candle(s) with empty fields")
    console.print(f"cache file: {summary.path}")
    print_quality(console, f"quality of {key.filename()}", summary.quality)


@app.command("download")
def download(
    ctx: typer.Context,
    symbol: Annotated[
        str,
        typer.Option(
            "--symbol", "-s", help="Market, e.g. BTC/USDT (a bare `btc` gets \\[data] quote)."
        ),
    ],
    timeframe: Annotated[
        str, typer.Option("--timeframe", "-t", help="Candle length, e.g. 1m, 15m, 1h, 1d.")
    ],
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="First candle, YYYY-MM-DD or ISO 8601 UTC; optional when the cache has the "
            "market (it is extended).",
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option(
            "--until",
            help="End of the period (exclusive), YYYY-MM-DD or ISO 8601 UTC \\[default: now].",
        ),
    ] = None,
    exchange: Annotated[
        str | None,
        typer.Option(
            "--exchange", "-e", help="ccxt exchange id \\[default: \\[data] default_exchange]."
        ),
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(
            "--api-url",
            help="Base URL replacing the exchange's REST host, paths kept: a mirror such as "
            "https://data-api.binance.vision, a testnet, or a local stand-in.",
        ),
    ] = None,
) -> None:
    """Download closed candles through ccxt into the Parquet cache (\\[data] cache_dir).

    Pages are requested within the exchange's rate limit, retried with backoff on rate limits and
    network errors, and saved in chunks as they arrive: run the same command again to resume or
    extend. The candle still forming is never stored; gaps are reported, never filled.
    """
    context = app_context(ctx)
    console = context.console
    service = MarketDataService(context.settings.data)
    label = f"{service.normalize(symbol)} {timeframe}"
    try:
        request = DownloadRequest(
            symbol=symbol,
            timeframe=timeframe,
            exchange=exchange,
            since=parse_when(since),
            until=parse_when(until),
            api_url=api_url,
        )
        with _ProgressBar(console, label) as bar:
            summary = service.download(request, progress=bar.update)
    except BotcoreError as exc:
        fail(console, str(exc))
    except KeyboardInterrupt:
        fail(console, "interrupted; what arrived is saved, run the same command to resume", 130)
    _print_summary(console, summary)


def _folder_label(series: StoredSeries, numbers: dict[Path, int]) -> str:
    if series.folder_kind == "folder":
        return f"dir {numbers[series.folder]}"
    return series.folder_kind


@app.command("list")
def list_data(ctx: typer.Context) -> None:
    """List the candle files in the cache, the \\[data] dirs and the bundled data, with quality."""
    context = app_context(ctx)
    console = context.console
    service = MarketDataService(context.settings.data)
    try:
        found = service.inventory()
    except BotcoreError as exc:
        fail(console, str(exc))
    folders = list(service.catalog.dirs)
    numbers = {folder: i for i, folder in enumerate(folders[1:-1], start=1)}
    console.print(f"cache = {folders[0]}")
    for folder, number in numbers.items():
        console.print(f"dir {number} = {folder}")
    console.print(f"bundled = {folders[-1]}")
    if not found:
        console.print("no candle files found; fetch some with `tradechat data download`")
        return
    table = Table(title="candle files (first folder wins; 'shadowed' files are not read)")
    for name, justify in (
        ("folder", "left"),
        ("exchange", "left"),
        ("symbol", "left"),
        ("tf", "left"),
        ("rows", "right"),
        ("first", "left"),
        ("last", "left"),
        ("gaps", "right"),
        ("missing", "right"),
        ("zero vol", "right"),
        ("note", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for series in found:
        q = series.quality
        note = series.problem or ("" if series.in_use else "shadowed")
        table.add_row(
            _folder_label(series, numbers),
            series.key.exchange,
            series.key.symbol,
            series.key.timeframe,
            f"{q.rows:,}" if q else "-",
            _when(q.first_ms) if q else "-",
            _when(q.last_ms) if q else "-",
            str(len(q.gaps)) if q else "-",
            f"{q.missing_candles:,}" if q else "-",
            str(q.zero_volume) if q else "-",
            note,
        )
    console.print(table)


@app.command("check")
def check(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Argument(
            metavar="FILE_OR_SYMBOL",
            help="A candle file, or a symbol such as BTC/USDT looked up in the cache and data "
            "folders.",
        ),
    ],
    timeframe: Annotated[
        str | None, typer.Option("--timeframe", "-t", help="Timeframe, needed with a symbol.")
    ] = None,
    exchange: Annotated[
        str | None, typer.Option("--exchange", "-e", help="Exchange id, to choose among several.")
    ] = None,
) -> None:
    """Print the quality report of one candle series: gaps, duplicates, zero volume, order."""
    context = app_context(ctx)
    console = context.console
    try:
        series = MarketDataService(context.settings.data).check(target, timeframe, exchange)
    except BotcoreError as exc:
        fail(console, str(exc))
    key = series.key
    console.print(
        f"{key.symbol} {key.timeframe} on {key.exchange}: {series.path} ({series.folder_kind})"
    )
    if series.quality is None:  # check() raises first; this keeps the type checker informed
        fail(console, series.problem or f"could not read {series.path}")
    print_quality(console, f"quality of {series.path.name}", series.quality)
