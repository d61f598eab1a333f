"""How the dashboard writes numbers and times: money, signed P&L, percentages, UTC moments.

Display only: the values come from the services as Decimal (money) or float (statistics) and are
never rounded anywhere but here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

__all__ = ["amount", "money", "pct", "price", "signed_money", "signed_pct", "utc"]

_CENT = Decimal("0.01")


def money(value: Decimal | None, quote: str = "") -> str:
    """`10,000.00 USDT` (cents, half-even); an em dash when unknown."""
    if value is None:
        return "—"
    text = f"{value.quantize(_CENT, rounding=ROUND_HALF_EVEN):,}"
    return f"{text} {quote}".rstrip()


def signed_money(value: Decimal | None, quote: str = "") -> str:
    """`+12.34 USDT` / `-5.00 USDT`: the sign always shown, for P&L."""
    if value is None:
        return "—"
    text = money(abs(value), quote)
    return ("-" if value < 0 else "+") + text


def pct(value: Decimal | float | None, places: int = 2) -> str:
    """`1.50%`; an em dash when unknown."""
    if value is None:
        return "—"
    return f"{float(value):.{places}f}%"


def signed_pct(value: Decimal | float | None, places: int = 2) -> str:
    """`+1.50%` / `-0.30%`."""
    if value is None:
        return "—"
    return f"{float(value):+.{places}f}%"


def price(value: Decimal | float | None) -> str:
    """A price with as many decimals as it needs to be read (big prices two, small ones more)."""
    if value is None:
        return "—"
    number = float(value)
    places = 2 if abs(number) >= 100 else 4 if abs(number) >= 1 else 6
    return f"{number:,.{places}f}"


def amount(value: Decimal, places: int = 8) -> str:
    """A base-currency amount without trailing zeros: `0.10877736` (at most `places` decimals)."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def utc(ms: int | None, seconds: bool = False) -> str:
    """`2023-06-04 13:45` (UTC) of a millisecond timestamp; an em dash when unknown."""
    if ms is None:
        return "—"
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")
