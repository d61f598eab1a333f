"""Reading values out of free text, and correcting typos against the training vocabulary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chat.parse.slots import extract, tokenize
from chat.parse.spelling import Speller
from chat.parse.vocab import strategy_forms

FORMS = strategy_forms(["ema_cross", "sma_cross", "rsi_reversion", "macd_trend"])


def test_tokens_drop_edge_punctuation_and_possessives() -> None:
    words = [t.text for t in tokenize("Follow satoshi_fan's signals, please!! (BTC/USDT?)")]
    assert words == ["Follow", "satoshi_fan", "signals", "please", "BTC/USDT"]


def test_values_are_found_whatever_the_word_order() -> None:
    one = extract("chart eth 4 hour", FORMS)
    two = extract("4 hour candles for eth", FORMS)
    assert one.symbols == two.symbols == ["ETH/USDT"]
    assert one.timeframe == two.timeframe == "4h"
    assert one.masked == "chart zsym ztf"


@pytest.mark.parametrize(
    ("text", "symbols"),
    [
        ("buy some ETHBTC", ["ETH/BTC"]),
        ("sell my bitcoin", ["BTC/USDT"]),
        ("watch etherium", ["ETH/USDT"]),  # a misspelt name
        ("watch PEPE", ["PEPE/USDT"]),  # an unknown ticker in capitals
        ("send me the link", []),  # LINK in lower case is a word
        ("sell my LINK", ["LINK/USDT"]),
        ("SHOW MY BALANCE", []),  # shouting is not a list of tickers
        ("spread on btc between binance and kraken", ["BTC/USDT"]),
        ("buy eth with 200 usdt", ["ETH/USDT"]),  # the quote alone is not a market
    ],
)
def test_symbols_in_free_text(text: str, symbols: list[str]) -> None:
    assert extract(text, FORMS).symbols == symbols


def test_capitalised_domain_words_are_not_tickers() -> None:
    known = frozenset({"status", "balance"})
    assert extract("STATUS", FORMS, known_words=known).symbols == []
    assert extract("STATUS", FORMS).symbols == ["STATUS/USDT"]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("pnl today", 1),
        ("profit this week", 7),
        ("gains over the past 2 weeks", 14),
        ("last 90 days", 90),
        ("this quarter", 90),
        ("last 48 hours", 2),
        ("profit all time", None),
        ("sell a quarter of my eth", None),  # a fraction, not three months
    ],
)
def test_periods_in_free_text(text: str, days: int | None) -> None:
    assert extract(text, FORMS).period_days == (days if days != 0 else None)


def test_a_quarter_of_a_holding_is_a_fraction() -> None:
    found = extract("sell a quarter of my eth", FORMS).numbers
    assert [(n.number.value, n.number.unit) for n in found] == [(Decimal("0.25"), "x")]


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("backtest ema cross on btc", "ema_cross"),
        ("backtest ema-cross on btc", "ema_cross"),
        ("backtest EMA crossover on btc", "ema_cross"),
        ("backtest macd on btc", "macd_trend"),
        ("backtest rsi_reversion on btc", "rsi_reversion"),
    ],
)
def test_strategies_are_found_in_their_spoken_forms(text: str, strategy: str) -> None:
    assert extract(text, FORMS).strategy == strategy


def test_a_first_word_shared_by_two_strategies_names_neither() -> None:
    forms = strategy_forms(["ema_cross", "ema_ribbon"])
    assert "ema" not in forms
    assert forms["ema ribbon"] == "ema_ribbon"


def test_numbers_keep_their_neighbours_for_deciding_their_role() -> None:
    found = extract("buy 0.5 eth at $3,000", FORMS).numbers
    assert [(n.number.value, n.number.unit, n.before, n.unit_asset) for n in found] == [
        (Decimal("0.5"), "", "buy", "ETH"),
        (Decimal(3000), "$", "at", None),
    ]


@pytest.mark.parametrize(
    ("text", "condition", "mode"),
    [
        ("alert me when btc drops below 60k", "below", None),
        ("ping me if eth rises over 4000", "above", None),
        ("switch from paper to live", None, "live"),
        ("turn off live trading", None, "paper"),
        ("back to simulation please", None, "paper"),
        ("trade with real money", None, "live"),
    ],
)
def test_directions_and_modes(text: str, condition: str | None, mode: str | None) -> None:
    slots = extract(text, FORMS)
    assert (slots.condition, slots.mode) == (condition, mode)


@pytest.mark.parametrize(
    ("text", "param"),
    [
        ("set risk per trade to 2%", "risk_per_trade_pct"),
        ("max open positions 5", "max_open_positions"),
        ("daily loss limit 3%", "max_daily_loss_pct"),
        ("cap the drawdown at 10%", "max_drawdown_pct"),
        ("stop-loss 2%", "stop_loss_pct"),
        ("take profit at 8%", "take_profit_pct"),
    ],
)
def test_risk_settings_are_named_in_plain_words(text: str, param: str) -> None:
    assert extract(text, FORMS).risk_param == param


@pytest.mark.parametrize(
    ("word", "fixed"),
    [
        ("balnce", "balance"),  # a letter left out
        ("chrat", "chart"),  # two letters swapped
        ("proffit", "profit"),  # a letter doubled
        ("statz", "stats"),  # a letter changed in a long enough word
        ("life", "life"),  # ...but not in a short one: "life" is not "live"
        ("xyzzy", "xyzzy"),  # nothing close: left alone
        ("eth", "eth"),  # too short to guess at
    ],
)
def test_typos_are_corrected_to_the_nearest_known_word(word: str, fixed: str) -> None:
    speller = Speller(["balance", "chart", "profit", "stats", "status", "live", "help", "start"])
    assert speller.correct(word) == fixed


def test_the_more_frequent_word_wins_a_tie() -> None:
    speller = Speller(["stop", "stop", "step"])
    assert speller.correct("stepp") == "step"
    assert speller.correct("sotp") == "stop"
