"""The slash grammar: positional and key=value arguments, aliases, @botname, did-you-mean."""

from __future__ import annotations

import json

import pytest

from chat.parse import parse_text
from chat.parse.slash import is_slash, parse_slash


@pytest.mark.parametrize(
    ("text", "intent", "args"),
    [
        ("/profit 7", "profit", {"period_days": 7}),
        ("/profit", "profit", {}),
        ("/chart ETH/USDT 1h", "chart", {"symbol": "ETH/USDT", "timeframe": "1h"}),
        ("/buy BTC/USDT 0.01", "buy", {"symbol": "BTC/USDT", "amount": 0.01}),
        (
            "/backtest ema_cross BTC/USDT 1h 30",
            "backtest",
            {"strategy": "ema_cross", "symbol": "BTC/USDT", "timeframe": "1h", "period_days": 30},
        ),
        ("/optimize ema_cross btc 1h 90 100", "optimize",
         {"strategy": "ema_cross", "symbol": "BTC/USDT", "timeframe": "1h", "period_days": 90,
          "trials": 100}),
        ("/profit@tradechat_bot 7", "profit", {"period_days": 7}),
        ("/PnL this week", "profit", {"period_days": 7}),
        ("/profit last 3 days", "profit", {"period_days": 3}),
        ("/profit eth", "profit", {"symbol": "ETH/USDT"}),  # an optional argument skipped
        ("/profit eth 7", "profit", {"period_days": 7, "symbol": "ETH/USDT"}),
        ("/trades btc 20", "trades", {"symbol": "BTC/USDT", "limit": 20}),
        ("/trades 20", "trades", {"limit": 20}),
        ("/chart eth 4 hour", "chart", {"symbol": "ETH/USDT", "timeframe": "4h"}),
        ("/buy eth $500", "buy", {"symbol": "ETH/USDT", "quote_amount": 500}),
        ("/buy eth 500 usdt", "buy", {"symbol": "ETH/USDT", "quote_amount": 500}),
        ("/buy btc 0.01 60000", "buy", {"symbol": "BTC/USDT", "amount": 0.01, "price": 60000}),
        ("/buy ethbtc 1.5 price=0.05", "buy", {"symbol": "ETH/BTC", "amount": 1.5, "price": 0.05}),
        ("/sell eth 50%", "sell", {"symbol": "ETH/USDT", "fraction": 0.5}),
        ("/sell eth half", "sell", {"symbol": "ETH/USDT", "fraction": 0.5}),
        ("/sell eth 0.5", "sell", {"symbol": "ETH/USDT", "amount": 0.5}),
        ("/close all", "close", {"symbol": "all"}),
        ("/exit sol", "close", {"symbol": "SOL/USDT"}),
        ("/mode live", "mode", {"mode": "live"}),
        ("/alert btc above 70k", "alert", {"symbol": "BTC/USDT", "condition": "above",
                                           "price": 70000}),
        ("/set_risk stop_loss_pct 2", "set_risk", {"param": "stop_loss_pct", "value": 2}),
        ("/set_risk value=2 param=stop_loss_pct", "set_risk",
         {"param": "stop_loss_pct", "value": 2}),
        ("/help pnl", "help", {"topic": "profit"}),
        ("/share eth buy", "share_signal", {"symbol": "ETH/USDT", "side": "buy"}),
        ("/follow @alice", "follow", {"user": "alice"}),
        ("/backtest 'ema_cross' btc", "backtest", {"strategy": "ema_cross", "symbol": "BTC/USDT"}),
    ],
)  # fmt: skip
def test_slash_commands_give_their_intent_and_arguments(
    text: str, intent: str, args: dict[str, object]
) -> None:
    result = parse_slash(text)
    assert result.error is None, result.error
    assert result.source == "slash"
    assert result.confidence == 1.0
    assert json.loads(result.to_json()) == {"intent": intent, "args": args, "confidence": 1.0}


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("/proft 7", "I don't know /proft. Did you mean /profit?"),
        ("/blance", "Did you mean /balance?"),
        ("/xyzzy", "Send /help to see the commands."),
        ("/", "Send /help"),
        ("/chart", "/chart needs a symbol; for example: /chart ETH/USDT 4h. "
                   "Usage: /chart SYMBOL [TIMEFRAME]"),
        ("/chart eth 7x", "timeframe: '7x' is not a timeframe I know"),
        ("/chart 4h", "looks like a timeframe"),
        ("/status now", "/status takes no arguments."),
        ("/trades btc 20 extra", "has no place for 'extra'"),
        ("/buy eth amount=1 quote_amount=2", "either amount or quote_amount"),
        ("/buy eth 0.1 0.2 0.3", "has no place for '0.3'"),
        ("/sell eth 150%", "at most 1"),
        ("/chart eth tf=1h", "no argument 'tf'"),
        ("/mode maybe", "choose one of paper, live"),
        ("/set_risk stop_los_pct 2", "did you mean stop_loss_pct"),
    ],
)  # fmt: skip
def test_bad_slash_commands_get_a_specific_error_and_no_intent(text: str, words: str) -> None:
    result = parse_slash(text)
    assert result.intent is None
    assert result.error is not None and words in result.error
    assert "Traceback" not in result.error


def test_a_mistyped_command_offers_the_close_one_as_a_candidate() -> None:
    assert parse_slash("/proft 7").candidates == ("profit",)


def test_parse_text_sends_slash_commands_to_the_grammar_with_the_configured_quote() -> None:
    assert is_slash("  /watch eth") and not is_slash("watch eth")
    result = parse_text("/watch eth", quote="USDC")
    assert result.source == "slash"
    assert result.intent is not None and result.intent.args() == {"symbol": "ETH/USDC"}
