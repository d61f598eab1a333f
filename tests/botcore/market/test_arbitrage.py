"""Arbitrage on the BTC/USDT books recorded from Binance, Bybit and OKX within 25 s of each other.

The books reach the real ccxt clients over HTTP from stand-ins on 127.0.0.1 that serve the
recorded responses in each exchange's wire format; the opportunity math is then checked by hand
against the recorded levels (read from the raw responses, not from ccxt or our parser).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from botcore.errors import ParamError
from botcore.execution.orders import Side
from botcore.market.arbitrage import (
    Level,
    Limit,
    VenueBook,
    fetch_books,
    find_opportunities,
    paper_fills,
    walk_levels,
)
from botcore.market.venues import MarketError, UnknownSymbolError
from tests.fakes.recorded_exchanges import fixture

D = Decimal
ZERO_FEES = {"binance": D(0), "bybit": D(0), "okx": D(0)}


def raw_levels(
    exchange: str,
) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """(bids, asks) as the exchange sent them, best first, straight from the recorded body."""
    body = fixture(exchange, "fetch_order_book_BTC_USDT")["http_response"]
    if exchange == "bybit":
        bids, asks = body["result"]["b"], body["result"]["a"]
    elif exchange == "okx":
        bids, asks = body["data"][0]["bids"], body["data"][0]["asks"]
    else:
        bids, asks = body["bids"], body["asks"]
    return [(D(p), D(q)) for p, q, *_ in bids], [(D(p), D(q)) for p, q, *_ in asks]


def hand_fill(levels: list[tuple[Decimal, Decimal]], amount: Decimal) -> Decimal:
    """Quote notional of taking `amount` from `levels`, best first."""
    left, notional = amount, D(0)
    for price, size in levels:
        take = min(size, left)
        notional += price * take
        left -= take
    assert left == 0
    return notional


def test_the_real_ccxt_clients_parse_the_recorded_books(clients: dict[str, Any]) -> None:
    for name, client in clients.items():
        book = client.fetch_order_book("BTC/USDT")
        expected = fixture(name, "fetch_order_book_BTC_USDT")["parsed_response"]
        for key in ("symbol", "bids", "asks", "timestamp", "nonce"):
            assert book[key] == expected[key], (name, key)


def test_fetch_books_takes_levels_fees_and_steps_from_the_markets(
    clients: dict[str, Any], fakes: dict[str, Any]
) -> None:
    books = {book.exchange: book for book in fetch_books(clients, "BTC/USDT", limit=5)}
    for name, book in books.items():
        bids, asks = raw_levels(name)
        assert [(lv.price, lv.amount) for lv in book.bids] == bids
        assert [(lv.price, lv.amount) for lv in book.asks] == asks
    # Taker fees as ccxt knows them for spot BTC/USDT; amount steps from the market lists.
    assert {n: b.taker_fee for n, b in books.items()} == {
        "binance": D("0.001"), "bybit": D("0.001"), "okx": D("0.0015"),
    }  # fmt: skip
    assert {n: b.amount_step for n, b in books.items()} == {
        "binance": D("0.00001"), "bybit": D("0.000001"), "okx": D("0.00000001"),
    }  # fmt: skip
    # Bybit and OKX stamp their books; Binance does not. Each arrival time is kept too.
    assert books["bybit"].timestamp_ms == 1770531563992
    assert books["okx"].timestamp_ms == 1770531570756
    assert books["binance"].timestamp_ms is None
    assert all(book.received_ms is not None for book in books.values())
    assert fakes["binance"].requests[-1] == ("/api/v3/depth", {"symbol": "BTCUSDT", "limit": "5"})


def test_at_real_taker_fees_nothing_is_profitable(clients: dict[str, Any]) -> None:
    result = find_opportunities(fetch_books(clients, "BTC/USDT"))
    assert result.opportunities == ()
    assert len(result.pairs) == 6
    assert all(pair.net_bps < 0 for pair in result.pairs)
    widest = max(result.pairs, key=lambda pair: pair.gross_bps)
    # Buy OKX's best ask 69360, sell Binance's best bid 69383.05: 3.32 bps against 25 bps.
    assert (widest.buy_exchange, widest.sell_exchange) == ("okx", "binance")
    assert (widest.best_ask, widest.best_bid) == (D("69360"), D("69383.05"))
    assert widest.gross_bps == (D("69383.05") - D("69360")) / D("69360") * 10_000
    assert widest.fees_bps == D("25.0")
    net = D("69383.05") * (1 - D("0.001")) - D("69360") * (1 + D("0.0015"))
    assert widest.net_bps == net / D("69360") * 10_000
    assert round(widest.net_bps, 2) == D("-21.68")
    # The least bad after fees is Bybit -> Binance: 1.51 bps gross against 20 bps of fees.
    best = result.pairs[0]
    assert (best.buy_exchange, best.sell_exchange) == ("bybit", "binance")
    assert (best.best_ask, best.best_bid, best.fees_bps) == (D("69372.6"), D("69383.05"), 20)
    assert round(best.net_bps, 2) == D("-18.50")


def test_without_fees_every_cross_is_walked_to_the_hand_computed_size_and_vwaps(
    clients: dict[str, Any],
) -> None:
    result = find_opportunities(fetch_books(clients, "BTC/USDT", taker_fees=ZERO_FEES))
    found = {(o.buy_exchange, o.sell_exchange): o for o in result.opportunities}
    # Every OKX and Bybit ask is below every Binance bid (and OKX's below Bybit's lowest bid),
    # so each of these buys the whole recorded ask side, floored to the coarser amount step.
    expected_amounts = {
        ("okx", "binance"): D("0.22190"),  # 0.22190471 floored to Binance's 0.00001
        ("bybit", "binance"): D("0.29711"),  # 0.297112 floored to 0.00001
        ("okx", "bybit"): D("0.221904"),  # 0.22190471 floored to Bybit's 0.000001
    }
    assert set(found) == set(expected_amounts)
    for (buy, sell), amount in expected_amounts.items():
        opportunity = found[(buy, sell)]
        bids, _ = raw_levels(sell)
        _, asks = raw_levels(buy)
        assert sum(size for _, size in asks) >= amount
        buy_notional = hand_fill(asks, amount)
        sell_notional = hand_fill(bids, amount)
        assert opportunity.amount == amount
        assert opportunity.buy_notional == buy_notional
        assert opportunity.sell_notional == sell_notional
        assert opportunity.buy_vwap == buy_notional / amount
        assert opportunity.sell_vwap == sell_notional / amount
        assert opportunity.net_profit == sell_notional - buy_notional
        assert opportunity.limited_by is Limit.DEPTH
    # Most profitable first: OKX -> Binance 4.89 USDT, Bybit -> Binance 2.90, OKX -> Bybit 2.55.
    order = [(o.buy_exchange, o.sell_exchange) for o in result.opportunities]
    assert order == [("okx", "binance"), ("bybit", "binance"), ("okx", "bybit")]
    assert found[("bybit", "binance")].net_profit == D("2.9008050")
    assert found[("okx", "bybit")].net_profit == D("2.550240768")
    okx_binance = found[("okx", "binance")]
    # By hand: 0.15278383 @ 69360 + 0.0162 @ 69361 + 0.0162 @ 69362 + 0.00072088 @ 69363
    # + 0.03599529 @ 69364.8 = 15391.207540032; all of it sold at 69383.05.
    assert okx_binance.buy_notional == D("15391.207540032")
    assert okx_binance.sell_notional == D("0.22190") * D("69383.05") == D("15396.0987950")
    assert okx_binance.net_profit == D("4.891254968")
    assert okx_binance.sell_slippage_bps == 0
    assert okx_binance.buy_slippage_bps == (okx_binance.buy_vwap - 69360) / 69360 * 10_000
    assert [lv.amount for lv in okx_binance.buy_levels][-1] == D("0.03599529")


def test_a_required_margin_stops_the_walk_at_the_first_level_below_it(
    clients: dict[str, Any],
) -> None:
    books = fetch_books(clients, "BTC/USDT", taker_fees=ZERO_FEES)
    result = find_opportunities(books, min_profit_bps=D(3))
    okx_binance = next(
        o for o in result.opportunities if (o.buy_exchange, o.sell_exchange) == ("okx", "binance")
    )
    # (69383.05 - ask) / ask > 3 bps holds for the asks 69360, 69361 and 69362 (3.03 bps) but
    # not for 69363 (2.88 bps): 0.15278383 + 0.0162 + 0.0162, floored to 0.00001.
    assert okx_binance.amount == D("0.18518")
    assert okx_binance.limited_by is Limit.SPREAD
    assert okx_binance.net_spread_bps > 3
    assert all(o.net_spread_bps > 3 for o in result.opportunities)


def test_small_fees_shrink_the_profit_and_a_cap_limits_the_size(clients: dict[str, Any]) -> None:
    fees = {"binance": D("0.0001"), "bybit": D("0.0001"), "okx": D("0.0001")}
    books = fetch_books(clients, "BTC/USDT", taker_fees=fees)
    result = find_opportunities(books, max_amount=D("0.1"))
    okx_binance = next(o for o in result.opportunities if o.buy_exchange == "okx" and
                       o.sell_exchange == "binance")  # fmt: skip
    assert okx_binance.amount == D("0.1")
    assert okx_binance.limited_by is Limit.MAX_AMOUNT
    assert okx_binance.buy_vwap == D("69360")
    assert okx_binance.buy_fee == D("6936.0") * D("0.0001")
    assert okx_binance.sell_fee == D("6938.305") * D("0.0001")
    assert okx_binance.net_profit == D("6938.305") * D("0.9999") - D("6936.0") * D("1.0001")


def test_paper_fills_are_the_two_legs_at_their_vwaps_with_deterministic_ids(
    clients: dict[str, Any],
) -> None:
    fees = {"binance": D("0.0001"), "bybit": D("0.0001"), "okx": D("0.0001")}
    result = find_opportunities(fetch_books(clients, "BTC/USDT", taker_fees=fees))
    opportunity = next(o for o in result.opportunities if o.buy_exchange == "okx" and
                       o.sell_exchange == "binance")  # fmt: skip
    buy, sell = paper_fills(
        opportunity, run_id="run-1", timestamp_ms=1770531570756, amount=D("0.2")
    )
    _, okx_asks = raw_levels("okx")
    notional = hand_fill(okx_asks, D("0.2"))
    assert (buy.side, buy.exchange, buy.amount) == (Side.BUY, "okx", D("0.2"))
    assert buy.price == notional / D("0.2")
    assert buy.fee == notional * D("0.0001")
    assert (sell.side, sell.exchange, sell.price) == (Side.SELL, "binance", D("69383.05"))
    assert sell.fee == D("0.2") * D("69383.05") * D("0.0001")
    assert buy.fee_currency == sell.fee_currency == "USDT"
    assert buy.order_id != sell.order_id
    again = paper_fills(opportunity, run_id="run-1", timestamp_ms=1770531570756, amount=D("0.2"))
    assert again == (buy, sell)
    whole = paper_fills(opportunity, run_id="run-1", timestamp_ms=1770531570756)
    assert whole[0].price == opportunity.buy_vwap and whole[1].price == opportunity.sell_vwap
    with pytest.raises(ParamError, match="at most"):
        paper_fills(opportunity, run_id="r", timestamp_ms=0, amount=opportunity.amount + 1)


def test_a_symbol_an_exchange_does_not_list_is_refused_with_a_suggestion(
    clients: dict[str, Any],
) -> None:
    with pytest.raises(UnknownSymbolError, match=r"does not list BTC/USDC; did you mean BTC/USDT"):
        fetch_books(clients, "BTC/USDC")
    with pytest.raises(ParamError, match="not in use: kraken"):
        fetch_books(clients, "BTC/USDT", taker_fees={"kraken": D(0)})


def test_inconsistent_inputs_are_refused() -> None:
    level = (Level(D(100), D(1)),)
    book = VenueBook("a", "BTC/USDT", bids=level, asks=(Level(D(101), D(1)),), taker_fee=D(0))
    with pytest.raises(ParamError, match="at least two"):
        find_opportunities([book])
    with pytest.raises(ParamError, match="different symbols"):
        find_opportunities([book, replace(book, exchange="b", symbol="ETH/USDT")])
    with pytest.raises(MarketError, match="crossed"):
        VenueBook.from_ccxt(
            "x", {"symbol": "BTC/USDT", "bids": [[101, 1]], "asks": [[100, 1]]}, D(0)
        )
    with pytest.raises(ParamError, match="holds"):
        walk_levels(level, D(2))
