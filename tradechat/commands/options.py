"""Options shared by the commands that backtest (`backtest`, `lookahead`, `optimize`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from botcore.errors import ParamError
from botcore.timeframes import parse_datetime

__all__ = ["existing_files", "parse_params", "parse_symbols", "parse_when"]


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
