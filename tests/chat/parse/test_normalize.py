"""Table tests of the value normalisers: symbols, timeframes, periods, numbers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chat.parse.normalize import (
    NormalizeError,
    Number,
    format_decimal,
    normalize_symbol,
    parse_count,
    parse_number,
    parse_period,
    parse_timeframe,
    to_fraction,
)


@pytest.mark.parametrize(
    ("text", "quote", "expected"),
    [
        ("eth", "USDT", "ETH/USDT"),
        ("ETH", "USDT", "ETH/USDT"),
        (" eth ", "usdc", "ETH/USDC"),
        ("ethbtc", "USDT", "ETH/BTC"),
        ("ETH-BTC", "USDT", "ETH/BTC"),
        ("eth/btc", "USDT", "ETH/BTC"),
        ("eth_btc", "USDT", "ETH/BTC"),
        ("btcusdt", "USDT", "BTC/USDT"),
        ("SOLUSDC", "USDT", "SOL/USDC"),
        ("ethusd", "USDT", "ETH/USD"),
        ("pepeusdt", "USDT", "PEPE/USDT"),
        ("1000pepeusdt", "USDT", "1000PEPE/USDT"),
        ("bitcoin", "USDT", "BTC/USDT"),
        ("wbtc", "USDT", "WBTC/USDT"),  # not W/BTC
        ("steth", "USDT", "STETH/USDT"),  # not ST/ETH
        ("BTC/USDT:USDT", "USDT", "BTC/USDT:USDT"),
    ],
)
def test_symbols_become_ccxt_form(text: str, quote: str, expected: str) -> None:
    assert normalize_symbol(text, quote) == expected


@pytest.mark.parametrize("text", ["", "123", "e", "usdt", "btc/btc", "4h", "eth!", "a b"])
def test_non_symbols_are_refused_with_a_message(text: str) -> None:
    with pytest.raises(NormalizeError, match=r"\S"):
        normalize_symbol(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1m", "1m"), ("5m", "5m"), ("15m", "15m"), ("1h", "1h"), ("4h", "4h"), ("1d", "1d"),
        ("4H", "4h"), ("1M", "1m"), ("hourly", "1h"), ("daily", "1d"), ("weekly", "1w"),
        ("4 hour", "4h"), ("4 hours", "4h"), ("4-hour", "4h"), ("15 min", "15m"),
        ("15-minute", "15m"), ("30 mins", "30m"), ("1 day", "1d"), ("H4", "4h"), ("m15", "15m"),
    ],
)  # fmt: skip
def test_timeframes_become_ccxt_strings(text: str, expected: str) -> None:
    assert parse_timeframe(text) == expected


@pytest.mark.parametrize("text", ["7x", "2m", "0h", "fortnightly", "", "45m"])
def test_unsupported_timeframes_name_the_supported_ones(text: str) -> None:
    with pytest.raises(NormalizeError, match="1m, 3m, 5m, 15m"):
        parse_timeframe(text)


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("7", 7), ("7d", 7), ("2w", 14), ("1y", 365), ("today", 1), ("yesterday", 1),
        ("this week", 7), ("last week", 7), ("this month", 30), ("past month", 30),
        ("this year", 365), ("last 3 days", 3), ("90 days", 90), ("2 weeks", 14),
        ("the last two weeks", 14), ("past 6 months", 180), ("a week", 7), ("fortnight", 14),
        ("3-day", 3), ("over the last 30 days", 30), ("ytd", 365),
    ],
)  # fmt: skip
def test_periods_become_whole_days(text: str, days: int) -> None:
    assert parse_period(text) == days


@pytest.mark.parametrize("text", ["0", "all", "soon", "-3", "3 parsecs"])
def test_non_periods_are_refused(text: str) -> None:
    with pytest.raises(NormalizeError, match="not a period"):
        parse_period(text)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("0.01", "0.01", ""), (".5", "0.5", ""), ("1,000", "1000", ""), ("1k", "1000", ""),
        ("2.5k", "2500", ""), ("$500", "500", "$"), ("500$", "500", "$"),
        ("500 dollars", "500", "$"), ("500 usdt", "500", "USDT"), ("500usdt", "500", "USDT"),
        ("0.1 btc", "0.1", "BTC"), ("50%", "50", "%"), ("10 percent", "10", "%"),
        ("12 pct", "12", "%"), ("half", "0.5", "x"), ("a quarter", "0.25", "x"),
        ("all", "1", "x"), ("three", "3", ""), ("0.010", "0.01", ""),
    ],
)  # fmt: skip
def test_numbers_keep_the_unit_they_were_written_with(text: str, value: str, unit: str) -> None:
    assert parse_number(text) == Number(Decimal(value), unit)


@pytest.mark.parametrize("text", ["abc", "1e5", "-1", "1.2.3", "5 parsecs", ""])
def test_non_numbers_are_refused(text: str) -> None:
    with pytest.raises(NormalizeError):
        parse_number(text)


@pytest.mark.parametrize(
    ("number", "fraction"),
    [
        (Number(Decimal(50), "%"), "0.5"),
        (Number(Decimal("0.5"), "x"), "0.5"),
        (Number(Decimal("0.25")), "0.25"),
        (Number(Decimal(100), "%"), "1"),
    ],
)
def test_fractions_are_shares_of_a_holding(number: Number, fraction: str) -> None:
    assert to_fraction(number) == Decimal(fraction)


@pytest.mark.parametrize(
    "number", [Number(Decimal(150), "%"), Number(Decimal(2)), Number(Decimal(5), "$")]
)
def test_fractions_outside_zero_to_one_are_refused(number: Number) -> None:
    with pytest.raises(NormalizeError):
        to_fraction(number)


def test_counts_accept_digits_and_words_only() -> None:
    assert parse_count("20") == 20
    assert parse_count("twenty") == 20
    with pytest.raises(NormalizeError):
        parse_count("0")
    with pytest.raises(NormalizeError):
        parse_count("2.5")


@pytest.mark.parametrize(
    ("value", "text"),
    [("0.010", "0.01"), ("1E+3", "1000"), ("2500.0", "2500"), ("0.00000001", "0.00000001")],
)
def test_decimals_are_written_exactly_and_short(value: str, text: str) -> None:
    assert format_decimal(Decimal(value)) == text
