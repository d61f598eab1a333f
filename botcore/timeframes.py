"""Timeframe strings in ccxt form (`1m`, `15m`, `1h`, `1d`, `1w`, `1M`) and their lengths."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from botcore.errors import ParamError

__all__ = ["MS_PER_DAY", "parse_datetime", "timeframe_ms", "to_iso", "to_ms"]

MS_PER_DAY = 86_400_000
_UNIT_MS = {"m": 60_000, "h": 3_600_000, "d": MS_PER_DAY, "w": 7 * MS_PER_DAY}
# A calendar month is not a fixed length; 30 days is what gap detection and annualisation need.
_MONTH_MS = 30 * MS_PER_DAY
_TIMEFRAME = re.compile(r"^(\d+)([mhdwM])$")


def timeframe_ms(timeframe: str) -> int:
    """Length of one candle of `timeframe` in milliseconds (`1M` counts as 30 days)."""
    match = _TIMEFRAME.match(timeframe.strip())
    if not match:
        raise ParamError(
            f"'{timeframe}' is not a timeframe; use forms like 1m, 5m, 15m, 1h, 4h, 1d, 1w"
        )
    count, unit = int(match.group(1)), match.group(2)
    if count <= 0:
        raise ParamError(f"'{timeframe}' is not a timeframe; the count must be positive")
    return count * (_MONTH_MS if unit == "M" else _UNIT_MS[unit])


def parse_datetime(text: str) -> datetime:
    """Parse `YYYY-MM-DD` or ISO 8601 into an aware UTC datetime (naive input is taken as UTC)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ParamError(
            f"'{text}' is not a date; use YYYY-MM-DD or ISO 8601 like 2024-01-31T12:00:00Z"
        ) from None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def to_ms(value: datetime) -> int:
    """Milliseconds since the epoch of an aware datetime."""
    return int(value.timestamp() * 1000)


def to_iso(ms: int) -> str:
    """ISO 8601 UTC text (`2024-01-31T12:00:00Z`) of a millisecond timestamp."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
