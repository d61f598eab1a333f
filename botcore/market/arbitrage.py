"""Cross-exchange arbitrage: spreads net of taker fees and of the slippage of walking the books.

For each ordered pair of exchanges (buy on A at its asks, sell on B at its bids) both books are
walked level by level, best prices first. A unit is worth trading while selling it on B still
beats buying it on A after both taker fees by at least the required margin:

    bid_B × (1 − fee_B) − ask_A × (1 + fee_A) > ask_A × min_profit_bps / 10 000

The asks rise and the bids fall as the walk goes deeper, so this marginal profit only shrinks: the
walk stops at the first level pair where it fails, and the size traded up to there is the
executable size that maximises the net profit. The size is floored to the coarser amount step of
the two markets. Only pairs with a positive size (hence a positive net profit) are opportunities.

All money is `Decimal`: the books' prices and amounts are the decimals the exchanges sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from botcore.errors import ParamError
from botcore.execution.orders import Fill, Side, client_order_id
from botcore.market.books import Level, VenueBook, fetch_books, notional, walk_levels

__all__ = [
    "ArbitrageScan",
    "Level",
    "Limit",
    "Opportunity",
    "PairSpread",
    "VenueBook",
    "fetch_books",
    "find_opportunities",
    "paper_fills",
    "walk_levels",
]

_BPS = Decimal(10_000)
_ZERO = Decimal(0)


class Limit(StrEnum):
    """What stopped an opportunity from being larger."""

    SPREAD = "spread"  # the next unit would not be profitable after fees
    DEPTH = "depth"  # a book ran out of (visible) levels while still profitable
    MAX_AMOUNT = "max_amount"  # the caller's size cap


@dataclass(frozen=True)
class PairSpread:
    """Top of book of one ordered pair: buy at A's best ask, sell at B's best bid (in bps of the
    ask). `net_bps` is after both taker fees; positive means the first unit is profitable."""

    buy_exchange: str
    sell_exchange: str
    best_ask: Decimal
    best_bid: Decimal
    gross_bps: Decimal
    fees_bps: Decimal
    net_bps: Decimal


@dataclass(frozen=True)
class Opportunity:
    """An arbitrage worth executing after costs. Quote-currency amounts, base-currency `amount`.

    Attributes:
        amount: Executable size in the base currency.
        buy_vwap: Average price paid walking A's asks for `amount`.
        sell_vwap: Average price received walking B's bids for `amount`.
        buy_notional: Quote paid before the fee (Σ price × amount over the asks taken).
        sell_notional: Quote received before the fee.
        buy_fee: `buy_notional × buy_fee_rate`.
        sell_fee: `sell_notional × sell_fee_rate`.
        net_profit: `sell_notional − sell_fee − buy_notional − buy_fee`, in quote.
        top_spread_bps: (best bid B − best ask A) / best ask A.
        gross_spread_bps: (sell_vwap − buy_vwap) / buy_vwap: after slippage, before fees.
        net_spread_bps: net_profit / buy_notional: after slippage and fees.
        buy_slippage_bps: buy_vwap above the best ask.
        sell_slippage_bps: sell_vwap below the best bid.
        buy_levels: The ask levels taken, best first, with the amounts taken.
        sell_levels: The bid levels taken.
        limited_by: Why the size is not larger.
    """

    symbol: str
    buy_exchange: str
    sell_exchange: str
    amount: Decimal
    buy_vwap: Decimal
    sell_vwap: Decimal
    buy_notional: Decimal
    sell_notional: Decimal
    buy_fee_rate: Decimal
    sell_fee_rate: Decimal
    buy_fee: Decimal
    sell_fee: Decimal
    net_profit: Decimal
    top_spread_bps: Decimal
    gross_spread_bps: Decimal
    net_spread_bps: Decimal
    buy_slippage_bps: Decimal
    sell_slippage_bps: Decimal
    buy_levels: tuple[Level, ...]
    sell_levels: tuple[Level, ...]
    limited_by: Limit


@dataclass(frozen=True)
class ArbitrageScan:
    """Every ordered pair's top-of-book spread, and the opportunities, most profitable first.

    Attributes:
        books: The books compared (their times tell how far apart they were taken).
    """

    symbol: str
    min_profit_bps: Decimal
    pairs: tuple[PairSpread, ...]
    opportunities: tuple[Opportunity, ...]
    books: tuple[VenueBook, ...]


def _executable(
    buy: VenueBook, sell: VenueBook, margin: Decimal, max_amount: Decimal | None
) -> tuple[Decimal, Limit]:
    """Base amount whose every unit clears fees plus `margin` (a fraction of the ask)."""
    asks, bids = buy.asks, sell.bids
    pay, keep = 1 + buy.taker_fee, 1 - sell.taker_fee
    i = j = 0
    ask_left = asks[0].amount if asks else _ZERO
    bid_left = bids[0].amount if bids else _ZERO
    total = _ZERO
    while i < len(asks) and j < len(bids):
        ask, bid = asks[i].price, bids[j].price
        if bid * keep - ask * pay <= ask * margin:
            return total, Limit.SPREAD
        part = min(ask_left, bid_left)
        if max_amount is not None and total + part >= max_amount:
            return max_amount, Limit.MAX_AMOUNT
        total += part
        ask_left -= part
        bid_left -= part
        if ask_left == 0:
            i += 1
            ask_left = asks[i].amount if i < len(asks) else _ZERO
        if bid_left == 0:
            j += 1
            bid_left = bids[j].amount if j < len(bids) else _ZERO
    return total, Limit.DEPTH


def _floor(amount: Decimal, buy: VenueBook, sell: VenueBook) -> Decimal:
    steps = [s for s in (buy.amount_step, sell.amount_step) if s is not None and s > 0]
    if not steps:
        return amount
    step = max(steps)
    return (amount // step) * step


def _bps(numerator: Decimal, denominator: Decimal) -> Decimal:
    return numerator / denominator * _BPS


def _pair_spread(buy: VenueBook, sell: VenueBook) -> PairSpread:
    ask, bid = buy.asks[0].price, sell.bids[0].price
    net = bid * (1 - sell.taker_fee) - ask * (1 + buy.taker_fee)
    return PairSpread(
        buy_exchange=buy.exchange,
        sell_exchange=sell.exchange,
        best_ask=ask,
        best_bid=bid,
        gross_bps=_bps(bid - ask, ask),
        fees_bps=(buy.taker_fee + sell.taker_fee) * _BPS,
        net_bps=_bps(net, ask),
    )


def _opportunity(
    buy: VenueBook, sell: VenueBook, amount: Decimal, limited_by: Limit
) -> Opportunity:
    buy_levels = walk_levels(buy.asks, amount)
    sell_levels = walk_levels(sell.bids, amount)
    buy_notional = notional(buy_levels)
    sell_notional = notional(sell_levels)
    buy_vwap = buy_notional / amount
    sell_vwap = sell_notional / amount
    buy_fee = buy_notional * buy.taker_fee
    sell_fee = sell_notional * sell.taker_fee
    net = sell_notional - sell_fee - buy_notional - buy_fee
    best_ask, best_bid = buy.asks[0].price, sell.bids[0].price
    return Opportunity(
        symbol=buy.symbol,
        buy_exchange=buy.exchange,
        sell_exchange=sell.exchange,
        amount=amount,
        buy_vwap=buy_vwap,
        sell_vwap=sell_vwap,
        buy_notional=buy_notional,
        sell_notional=sell_notional,
        buy_fee_rate=buy.taker_fee,
        sell_fee_rate=sell.taker_fee,
        buy_fee=buy_fee,
        sell_fee=sell_fee,
        net_profit=net,
        top_spread_bps=_bps(best_bid - best_ask, best_ask),
        gross_spread_bps=_bps(sell_vwap - buy_vwap, buy_vwap),
        net_spread_bps=_bps(net, buy_notional),
        buy_slippage_bps=_bps(buy_vwap - best_ask, best_ask),
        sell_slippage_bps=_bps(best_bid - sell_vwap, best_bid),
        buy_levels=buy_levels,
        sell_levels=sell_levels,
        limited_by=limited_by,
    )


def find_opportunities(
    books: Sequence[VenueBook],
    *,
    min_profit_bps: Decimal = _ZERO,
    max_amount: Decimal | None = None,
) -> ArbitrageScan:
    """Every ordered pair's spread and the opportunities profitable after fees and slippage.

    Args:
        books: One book per exchange, all of the same symbol.
        min_profit_bps: Margin each traded unit must clear after both fees, in basis points of
            its buy price (0: any positive profit).
        max_amount: Cap on the base amount of one opportunity (capital or risk limit).

    Raises:
        ParamError: fewer than two books, books of different symbols or of one exchange twice,
            a negative margin or a non-positive cap.
    """
    if len(books) < 2:
        raise ParamError("arbitrage needs the books of at least two exchanges")
    symbols = {book.symbol for book in books}
    if len(symbols) > 1:
        raise ParamError(f"the books are of different symbols: {', '.join(sorted(symbols))}")
    names = [book.exchange for book in books]
    if len(set(names)) < len(names):
        raise ParamError("one exchange's book was given twice")
    if min_profit_bps < 0:
        raise ParamError("the minimum profit cannot be negative")
    if max_amount is not None and max_amount <= 0:
        raise ParamError("the maximum amount must be positive")
    margin = min_profit_bps / _BPS
    pairs: list[PairSpread] = []
    found: list[Opportunity] = []
    for buy in books:
        for sell in books:
            if buy is sell or not buy.asks or not sell.bids:
                continue
            pairs.append(_pair_spread(buy, sell))
            amount, limited_by = _executable(buy, sell, margin, max_amount)
            amount = _floor(amount, buy, sell)
            if amount > 0:
                found.append(_opportunity(buy, sell, amount, limited_by))
    pairs.sort(key=lambda p: (-p.net_bps, p.buy_exchange, p.sell_exchange))
    found.sort(key=lambda o: (-o.net_profit, o.buy_exchange, o.sell_exchange))
    return ArbitrageScan(
        symbol=books[0].symbol,
        min_profit_bps=min_profit_bps,
        pairs=tuple(pairs),
        opportunities=tuple(found),
        books=tuple(books),
    )


def paper_fills(
    opportunity: Opportunity,
    *,
    run_id: str,
    timestamp_ms: int,
    amount: Decimal | None = None,
) -> tuple[Fill, Fill]:
    """The two simulated taker fills of an opportunity: buy on one exchange, sell on the other.

    Each fill's price is the VWAP of walking that side's levels for `amount`; its fee is the
    notional times the exchange's taker fee, in the quote currency. Ids are deterministic
    (`client_order_id` of `run_id`, the symbol, the time and the leg), so replaying a decision
    yields the same fills. Nothing is booked here: balances belong to the engine.

    Args:
        opportunity: What `find_opportunities` found.
        run_id: The paper run (or decision) the fills belong to.
        timestamp_ms: Fill time (UTC ms).
        amount: Base amount to execute, at most the opportunity's; default all of it.

    Raises:
        ParamError: a non-positive amount or more than the opportunity's.
    """
    size = opportunity.amount if amount is None else amount
    if size <= 0 or size > opportunity.amount:
        raise ParamError(
            f"a paper arbitrage fills more than 0 and at most {opportunity.amount} "
            f"{opportunity.symbol.split('/')[0]}, not {size}"
        )
    quote = opportunity.symbol.split("/")[1]
    legs = (
        (Side.BUY, opportunity.buy_exchange, opportunity.buy_levels, opportunity.buy_fee_rate),
        (Side.SELL, opportunity.sell_exchange, opportunity.sell_levels, opportunity.sell_fee_rate),
    )
    fills = []
    for sequence, (side, exchange, levels, fee_rate) in enumerate(legs):
        quote_value = notional(walk_levels(levels, size))
        order_id = client_order_id(
            run_id, f"{opportunity.symbol}@{exchange}", timestamp_ms, sequence
        )
        fills.append(
            Fill(
                id=f"{order_id}-1",
                order_id=order_id,
                symbol=opportunity.symbol,
                side=side,
                amount=size,
                price=quote_value / size,
                fee=quote_value * fee_rate,
                fee_currency=quote,
                timestamp_ms=timestamp_ms,
                exchange=exchange,
            )
        )
    return fills[0], fills[1]
