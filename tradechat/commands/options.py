"""Options shared by the commands that backtest (`backtest`, `optimize`, `lookahead`).

Each option is declared once as an `Annotated` alias, so its flag, help and default read the same
in every command; `market_request` turns the parsed values into a `BacktestRequest`.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from botcore.backtest.engine import BacktestSettings
from botcore.config import BacktestConfig
from botcore.errors import ParamError
from botcore.services.backtests import BacktestRequest
from botcore.timeframes import parse_datetime

__all__ = [
    "CashOpt",
    "DataOpt",
    "EndOpt",
    "ExchangeOpt",
    "FeeOpt",
    "SlippageOpt",
    "StakePctOpt",
    "StartOpt",
    "StrategyOpt",
    "SymbolOpt",
    "TimeframeOpt",
    "existing_files",
    "market_request",
    "parse_params",
    "parse_symbols",
    "parse_when",
]

StrategyOpt = Annotated[
    str, typer.Option("--strategy", "-s", help="Strategy name (see `tradechat strategies`).")
]
DataOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--data",
        help="Candle file(s) named EXCHANGE_BASE-QUOTE_TF.csv.gz (or .csv, .parquet); repeatable.",
    ),
]
SymbolOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--symbol",
        help="Symbol(s) from the cache or data folders, e.g. BTC/USDT; repeat or comma-separate "
        "for a multi-symbol run.",
    ),
]
TimeframeOpt = Annotated[
    str | None, typer.Option("--timeframe", "-t", help="Timeframe, e.g. 15m, 1h, 1d.")
]
ExchangeOpt = Annotated[
    str | None,
    typer.Option(
        "--exchange", help="Exchange id (default: the file name's, else \\[data] default_exchange)."
    ),
]
StartOpt = Annotated[
    str | None,
    typer.Option(
        "--start",
        help="First bar traded, YYYY-MM-DD or ISO 8601 UTC; earlier bars only warm indicators up.",
    ),
]
EndOpt = Annotated[
    str | None,
    typer.Option("--end", help="End of the period (exclusive), YYYY-MM-DD or ISO 8601 UTC."),
]
CashOpt = Annotated[
    float | None, typer.Option("--cash", help="Starting cash in quote currency (default 10000).")
]
FeeOpt = Annotated[
    float | None,
    typer.Option("--fee", help="Fee per fill as a fraction, 0.001 = 0.1 % (default 0.001)."),
]
SlippageOpt = Annotated[
    float | None,
    typer.Option("--slippage", help="Slippage per market fill as a fraction (default 0.0005)."),
]
StakePctOpt = Annotated[
    float | None,
    typer.Option("--stake-pct", help="Percent of equity per position (100 = all-in)."),
]


def parse_params(pairs: list[str] | None) -> dict[str, str]:
    """`["fast=10", "slow=30"]` -> `{"fast": "10", "slow": "30"}` (the strategy converts values)."""
    params: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ParamError(f"'{pair}' is not key=value (example: --param fast=10)")
        params[key.strip()] = value.strip()
    return params


def parse_symbols(values: list[str] | None) -> tuple[str, ...]:
    """Repeated or comma-separated symbols, in the order given."""
    return tuple(s.strip() for v in values or [] for s in v.split(",") if s.strip())


def parse_when(text: str | None) -> datetime | None:
    """A `--start`/`--end` value as an aware UTC datetime."""
    return parse_datetime(text) if text else None


def existing_files(paths: list[Path] | None) -> tuple[Path, ...]:
    """The `--data` files, each checked to exist."""
    for path in paths or []:
        if not path.is_file():
            raise ParamError(f"data file {path} does not exist")
    return tuple(paths or [])


def market_request(
    defaults: BacktestConfig,
    strategy: str,
    param: list[str] | None,
    data: list[Path] | None,
    symbol: list[str] | None,
    timeframe: str | None,
    exchange: str | None,
    start: str | None,
    end: str | None,
    cash: float | None = None,
    fee: float | None = None,
    slippage: float | None = None,
    stake_pct: float | None = None,
    **settings: object,
) -> BacktestRequest:
    """A backtest request from command-line values; unset money options take `[backtest]`'s.

    `settings` are further `BacktestSettings` fields (sizing, stops, fill, max open positions);
    `None` values among them mean "not given".

    Raises:
        ParamError: a malformed parameter, date or missing file.
    """
    given = {k: v for k, v in settings.items() if v is not None}
    sized = any(k in given for k in ("stake_amount", "risk_pct"))
    return BacktestRequest(
        strategy=strategy,
        params=parse_params(param),
        symbols=parse_symbols(symbol),
        timeframe=timeframe,
        exchange=exchange,
        data_files=existing_files(data),
        start=parse_when(start),
        end=parse_when(end),
        settings=BacktestSettings(
            cash=cash if cash is not None else defaults.cash,
            fee=fee if fee is not None else defaults.fee,
            slippage=slippage if slippage is not None else defaults.slippage,
            stake_pct=stake_pct if stake_pct is not None or sized else defaults.stake_pct,
            fill=given.pop("fill", defaults.fill),  # type: ignore[arg-type]
            max_open_positions=given.pop("max_open_positions", defaults.max_open_positions),  # type: ignore[arg-type]
            **given,  # type: ignore[arg-type]
        ),
    )
