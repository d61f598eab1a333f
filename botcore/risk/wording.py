"""How numbers and times appear in risk messages: money to cents, percents without noise, UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["amount_text", "money_text", "pct_pair", "pct_text", "utc_text"]

_MAX_PLACES = 8
_CENT = Decimal("0.01")


def money_text(value: Decimal) -> str:
    """`10000` -> `10,000.00` (half-even cents, whatever the caller's rounding context)."""
    return f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN):,}"


def amount_text(value: Decimal) -> str:
    """A base amount without trailing zeros or exponent: `0.300` -> `0.3`."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"


def pct_text(value: Decimal, places: int = 2) -> str:
    """A percentage rounded to `places` decimals without trailing zeros: `5.00` -> `5`."""
    if not value.is_finite():
        return "∞"
    rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return amount_text(rounded)


def pct_pair(value: Decimal, limit: Decimal) -> tuple[str, str]:
    """`value` and `limit` as percent texts with enough decimals to tell them apart.

    A refusal at 50.0001 % against a 50 % limit must not read "50%, the limit is 50%".
    """
    places = 2
    while places < _MAX_PLACES and value != limit:
        if pct_text(value, places) != pct_text(limit, places):
            break
        places += 1
    return pct_text(value, places), pct_text(limit, places)


def utc_text(ms: int) -> str:
    """`2022-11-08 14:00 UTC` for a millisecond timestamp."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
