"""The ledger: fills become balance changes, positions and closed trades. Pure functions.

Long only, one position per symbol. A buy fill spends quote (cost plus fee) and adds base; a sell
fill does the reverse and books a `ClosedTrade` for the amount it closes, with the entry fee
prorated, so a position closed in several fills (TWAP, iceberg) yields one trade row per fill.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal

from botcore.execution.orders import Fill, Side
from botcore.execution.positions import ClosedTrade, Position
from botcore.symbols import base_asset, quote_asset

__all__ = ["Book", "LedgerError", "apply_fill", "fee_value"]

_ZERO = Decimal(0)
# Amounts below this are dust left by rounding, not a position.
_DUST = Decimal("1e-12")


class LedgerError(Exception):
    """A fill the ledger cannot book (selling more than is held)."""


@dataclass(frozen=True)
class Book:
    """One account's balances (asset -> total) and open positions (symbol -> Position)."""

    balances: Mapping[str, Decimal]
    positions: Mapping[str, Position]

    def balance(self, asset: str) -> Decimal:
        """Total of `asset`, zero when never held."""
        return self.balances.get(asset, _ZERO)

    def equity(self, marks: Mapping[str, Decimal], quote: str) -> Decimal:
        """Quote balance plus every position marked at `marks` (its entry price when unmarked)."""
        value = self.balance(quote)
        for symbol, position in self.positions.items():
            value += position.amount * marks.get(symbol, position.entry_price)
        return value


def apply_fill(
    book: Book, fill: Fill, reason: str, strategy: str = ""
) -> tuple[Book, ClosedTrade | None]:
    """Book one fill; returns the new book and the trade it closed, if it sold.

    Raises:
        LedgerError: a sell larger than the position (the engine never places one).
    """
    base, quote = base_asset(fill.symbol), quote_asset(fill.symbol)
    balances = dict(book.balances)
    positions = dict(book.positions)
    notional = fill.amount * fill.price
    fee_value, fee_quote, fee_base = _fee_split(fill, base, quote, balances)
    if fill.side is Side.BUY:
        received = fill.amount - fee_base
        balances[quote] = balances.get(quote, _ZERO) - notional - fee_quote
        balances[base] = balances.get(base, _ZERO) + received
        held = positions.get(fill.symbol)
        if held is None:
            positions[fill.symbol] = Position(
                fill.symbol, received, fill.price, fill.timestamp_ms, fee_value,
                fill.exchange, strategy,
            )  # fmt: skip
        else:
            amount = held.amount + received
            # a fee taken from the base received is in entry_fee, not in the price
            average = (held.amount * held.entry_price + received * fill.price) / amount
            positions[fill.symbol] = replace(
                held, amount=amount, entry_price=average, entry_fee=held.entry_fee + fee_value
            )
        return Book(balances, positions), None
    held = positions.get(fill.symbol)
    if held is None or fill.amount > held.amount + _DUST:
        raise LedgerError(f"sell of {fill.amount} {fill.symbol} exceeds the position held")
    balances[base] = balances.get(base, _ZERO) - fill.amount - fee_base
    balances[quote] = balances.get(quote, _ZERO) + notional - fee_quote
    share = fill.amount / held.amount
    entry_fee = held.entry_fee * share
    cost = fill.amount * held.entry_price + entry_fee
    pnl = notional - fee_value - cost
    trade = ClosedTrade(
        id=fill.id,
        symbol=fill.symbol,
        side="long",
        amount=fill.amount,
        entry_ms=held.entry_ms,
        exit_ms=fill.timestamp_ms,
        entry_price=held.entry_price,
        exit_price=fill.price,
        fee=entry_fee + fee_value,
        pnl=pnl,
        pnl_pct=pnl / cost * 100,
        exit_reason=reason,
        exchange=fill.exchange,
        strategy=held.strategy,
    )
    left = held.amount - fill.amount
    if left <= _DUST:
        positions.pop(fill.symbol)
        if abs(balances[base]) <= _DUST:
            balances[base] = _ZERO
    else:
        positions[fill.symbol] = replace(held, amount=left, entry_fee=held.entry_fee - entry_fee)
    return Book(balances, positions), trade


def fee_value(fill: Fill) -> Decimal:
    """The fill's fee in its quote currency: a base-asset fee at the fill's price, a fee in a
    third asset (BNB) at zero, since the ledger has no price for it."""
    base, quote = base_asset(fill.symbol), quote_asset(fill.symbol)
    if fill.fee_currency in ("", quote):
        return fill.fee
    return fill.fee * fill.price if fill.fee_currency == base else _ZERO


def _fee_split(
    fill: Fill, base: str, quote: str, balances: dict[str, Decimal]
) -> tuple[Decimal, Decimal, Decimal]:
    """The fill's fee as (value in quote, charged in quote, charged in base). Paper fees are in
    the quote currency; an exchange may charge the asset received (Binance charges base on
    buys), which then arrives net of it. A fee in a third asset (BNB) comes off that asset's
    balance here and is valued at zero in the trade's P&L: the ledger has no price for it."""
    if fill.fee_currency in ("", quote):
        return fill.fee, fill.fee, _ZERO
    if fill.fee_currency == base:
        return fill.fee * fill.price, _ZERO, fill.fee
    balances[fill.fee_currency] = balances.get(fill.fee_currency, _ZERO) - fill.fee
    return _ZERO, _ZERO, _ZERO
