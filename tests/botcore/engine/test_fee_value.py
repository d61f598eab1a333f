"""A fill's fee in its quote currency, whatever asset the exchange charged it in (the prices and
fees are those of a real Binance BTC/USDT fill: 0.1 % of 0.001 BTC at 27,141.34)."""

from __future__ import annotations

from decimal import Decimal

from botcore.engine.ledger import fee_value
from botcore.execution.orders import Fill, Side

PRICE = Decimal("27141.34")


def _fill(fee: str, currency: str) -> Fill:
    return Fill("f1", "o1", "BTC/USDT", Side.BUY, Decimal("0.001"), PRICE, Decimal(fee),
                currency, 1_685_862_000_000, "binance")  # fmt: skip


def test_a_quote_fee_is_itself() -> None:
    assert fee_value(_fill("0.02714134", "USDT")) == Decimal("0.02714134")
    assert fee_value(_fill("0.02714134", "")) == Decimal("0.02714134")  # paper fills


def test_a_base_fee_is_valued_at_the_fills_price() -> None:
    assert fee_value(_fill("0.000001", "BTC")) == Decimal("0.000001") * PRICE


def test_a_third_asset_fee_is_not_counted_as_quote() -> None:
    # BNB units added to a USDT fee would overstate it ~200 times: the ledger has no BNB price
    assert fee_value(_fill("0.0000932", "BNB")) == 0
