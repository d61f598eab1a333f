"""Numbers and times as replies show them: money to cents, amounts without trailing zeros."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["amount", "money", "pct", "price_text", "signed", "when"]

_CENT = Decimal("0.01")


def money(value: Decimal, quote: str = "") -> str:
    """`12,345.68 USDT` (to the cent)."""
    text = f"{value.quantize(_CENT, ROUND_HALF_EVEN):,}"
    return f"{text} {quote}".rstrip()


def signed(value: Decimal, quote: str = "") -> str:
    """`+12.30 USDT` / `-4.10 USDT`."""
    text = money(value, quote)
    return text if text.startswith("-") else f"+{text}"


def pct(value: Decimal | float | None, sign: bool = True) -> str:
    """`+1.23%`; `n/a` when there is no value."""
    if value is None:
        return "n/a"
    return f"{float(value):+.2f}%" if sign else f"{float(value):.2f}%"


def amount(value: Decimal) -> str:
    """An asset amount with its meaningful digits: `0.015`, `2`, never `1.5E-7`."""
    text = f"{value.normalize():f}"
    return text


def price_text(value: Decimal) -> str:
    """A price: to the cent from 1 up, else six significant digits (`0.0000123457`)."""
    if abs(value) >= 1:
        return money(value)
    return amount(Decimal(f"{value:.6g}"))


def when(ms: int | None) -> str:
    """`2024-03-01 10:00 UTC`."""
    if ms is None:
        return "never"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
