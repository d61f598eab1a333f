"""The account as the risk rules see it: equity, cash, marked positions and loss streaks.

The engine builds an `AccountState` before every check from its ledger and the latest prices;
the risk manager never reads anything else, which keeps it pure and replayable.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from botcore.symbols import base_asset

__all__ = ["AccountState", "HeldPosition", "base_asset"]


@dataclass(frozen=True)
class HeldPosition:
    """An open long position marked at the latest price.

    Attributes:
        symbol: Market, e.g. `BTC/USDT`.
        amount: Base currency held.
        price: Latest price (quote currency per base unit).
    """

    symbol: str
    amount: Decimal
    price: Decimal

    @property
    def value(self) -> Decimal:
        """Marked value in quote currency."""
        return self.amount * self.price


@dataclass(frozen=True)
class AccountState:
    """Everything the risk rules need at one instant (quote currency, UTC milliseconds).

    Attributes:
        now_ms: The instant the state describes.
        equity: Cash plus every position at its mark.
        cash: Quote currency free to spend.
        positions: Open positions; entries with a zero amount are ignored.
        day_start_equity: Equity at 00:00 UTC of `now_ms`'s day.
        peak_equity: Highest equity the engine has marked.
        consecutive_stop_losses: Trades closed by a stop-loss in a row (a trade closed any other
            way resets it to 0).
        last_stop_loss_ms: When the latest of those stop-losses filled.
    """

    now_ms: int
    equity: Decimal
    cash: Decimal
    positions: tuple[HeldPosition, ...]
    day_start_equity: Decimal
    peak_equity: Decimal
    consecutive_stop_losses: int = 0
    last_stop_loss_ms: int | None = None

    def open_positions(self) -> tuple[HeldPosition, ...]:
        """Positions with something held."""
        return tuple(p for p in self.positions if p.amount > 0)

    def held(self, symbol: str) -> Decimal:
        """Base amount held in `symbol` (0 when none)."""
        return sum((p.amount for p in self.open_positions() if p.symbol == symbol), Decimal(0))

    def asset_positions(self, asset: str) -> tuple[HeldPosition, ...]:
        """Open positions whose base currency is `asset`, whatever their quote."""
        return tuple(p for p in self.open_positions() if base_asset(p.symbol) == asset)
