"""Word lists the free-text parser reads values by: units, directions, modes, risk settings.

Kept apart from the extraction code so a reader can check the vocabulary at a glance and extend
it without touching the logic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = [
    "ABOVE_WORDS",
    "BELOW_WORDS",
    "BUY_WORDS",
    "CANDLE_WORDS",
    "EVERYTHING_WORDS",
    "FREE_WORD_NUMBERS",
    "LIVE_WORDS",
    "NOT_SYMBOLS",
    "PAPER_WORDS",
    "PRICE_WORDS",
    "RELATIVE_PERIODS",
    "RISK_PARAM_PATTERNS",
    "SELL_WORDS",
    "STABLECOINS",
    "TRIAL_WORDS",
    "UNIT_WORDS",
    "strategy_forms",
]

ABOVE_WORDS = frozenset(("above", "over", "exceeds", "exceed", "higher", "rises", "rise", ">"))
BELOW_WORDS = frozenset(
    ("below", "under", "beneath", "lower", "drops", "drop", "falls", "fall", "dips", "sinks", "<")
)
BUY_WORDS = frozenset(("buy", "buying", "long", "bullish", "bull"))
SELL_WORDS = frozenset(("sell", "selling", "short", "bearish", "bear"))
CANDLE_WORDS = frozenset(("candles", "candle", "chart", "charts", "bars", "bar", "timeframe", "tf"))
EVERYTHING_WORDS = frozenset(("all", "everything", "every", "entire", "whole"))
# Numbers written as words; "a", "an" and "one" are left out: "set an alert" holds no number.
FREE_WORD_NUMBERS = frozenset(
    ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
     "fifteen", "twenty", "thirty", "fifty", "hundred")
)  # fmt: skip
LIVE_WORDS = frozenset(("live", "real", "mainnet", "production"))
PAPER_WORDS = frozenset(
    ("paper", "simulation", "simulated", "sim", "demo", "testnet", "dry", "practice", "virtual")
)
PRICE_WORDS = frozenset(("at", "@", "limit", "price", "priced"))
RELATIVE_PERIODS = frozenset(("last", "past", "previous", "prev", "this", "current"))
STABLECOINS = frozenset(("USDT", "USDC", "BUSD", "FDUSD", "TUSD", "DAI"))
TRIAL_WORDS = frozenset(("trials", "trial", "iterations", "runs", "tries", "evals", "rounds"))
UNIT_WORDS: dict[str, str] = {
    "%": "%",
    "percent": "%",
    "pct": "%",
    "usd": "$",
    "dollar": "$",
    "dollars": "$",
    "bucks": "$",
}
# Lower-case words that look like tickers but are not markets in a chat about trading.
NOT_SYMBOLS = frozenset((
    "i", "a", "an", "am", "pm", "ok", "ai", "ml", "api", "pnl", "roi", "tp", "sl", "rsi", "ema",
    "sma", "macd", "bb", "atr", "utc", "ath", "atl", "dca", "ta", "fomo", "fud", "hodl", "usd",
    "eur", "gbp", "lol", "dm", "ceo", "nft", "dan", "system", "note", "tldr", "tl", "dr", "ytd",
    "asap", "fyi", "btw", "imo", "pls", "plz", "thx", "dex", "cex", "otc", "kyc", "binance",
    "kraken", "coinbase", "okx", "bybit", "kucoin", "bitget", "gate", "mexc", "htx",
))  # fmt: skip

_SEP = r"[ _-]?"
RISK_PARAM_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), param)
    for pattern, param in (
        (rf"risk{_SEP}per{_SEP}trade|per{_SEP}trade|each trade|a trade", "risk_per_trade_pct"),
        (rf"open{_SEP}positions?|max(?:imum)?{_SEP}positions|positions? at once",
         "max_open_positions"),
        (rf"daily{_SEP}loss|loss(?:es)? per day|max_daily_loss", "max_daily_loss_pct"),
        (rf"draw{_SEP}down|\bdd\b", "max_drawdown_pct"),
        (rf"stop{_SEP}loss|\bsl\b", "stop_loss_pct"),
        (rf"take{_SEP}profit|\btp\b", "take_profit_pct"),
    )
)  # fmt: skip


def strategy_forms(names: Iterable[str]) -> dict[str, str]:
    """Ways a strategy is written in chat -> its name.

    `ema_cross` is found as "ema cross", "ema_cross", "ema-cross", "emacross" and
    "ema crossover"; its first word alone ("ema") too when no other strategy starts with it.
    """
    names = sorted(set(names))
    forms: dict[str, str] = {}
    first_words: dict[str, list[str]] = {}
    for name in names:
        parts = name.lower().split("_")
        forms[" ".join(parts)] = name
        forms["".join(parts)] = name
        if parts[-1] == "cross":
            forms[" ".join([*parts[:-1], "crossover"])] = name
        first_words.setdefault(parts[0], []).append(name)
    for word, owners in first_words.items():
        if len(owners) == 1 and word not in forms:
            forms[word] = owners[0]
    return forms
