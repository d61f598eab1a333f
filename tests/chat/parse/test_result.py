"""The parse result's JSON form: exactly the contract's keys, Decimals written exactly."""

from __future__ import annotations

import json
from decimal import Decimal

from chat.intents import Buy, Trades, Unknown
from chat.parse.result import ParseResult, dumps


def test_json_has_intent_args_and_confidence_with_exact_decimals() -> None:
    result = ParseResult(Buy("BTC/USDT", amount=Decimal("0.010")), 0.91234, "offline")
    assert result.to_json() == (
        '{"intent": "buy", "args": {"symbol": "BTC/USDT", "amount": 0.01}, "confidence": 0.912}'
    )
    assert json.loads(result.to_json(), parse_float=Decimal)["args"]["amount"] == Decimal("0.01")


def test_a_float_would_not_be_exact_but_the_decimal_is() -> None:
    assert dumps(Decimal("0.1") + Decimal("0.2")) == "0.3"
    assert dumps({"n": Decimal("1E+3"), "s": "é", "l": [1, None, True]}) == (
        '{"n": 1000, "s": "é", "l": [1, null, true]}'
    )


def test_unknown_has_empty_args_and_absent_args_are_left_out() -> None:
    assert ParseResult(Unknown(), 1.0, "offline").to_dict() == {
        "intent": "unknown",
        "args": {},
        "confidence": 1.0,
    }
    assert ParseResult(Trades(limit=5), 1.0, "slash").to_dict()["args"] == {"limit": 5}


def test_a_question_or_error_is_added_and_is_the_reply() -> None:
    asked = ParseResult(None, 0.2, "offline", question="Did you mean your profit?")
    assert asked.to_dict() == {
        "intent": None,
        "args": {},
        "confidence": 0.2,
        "question": "Did you mean your profit?",
    }
    assert asked.reply == "Did you mean your profit?"
    failed = ParseResult(None, 0.0, "slash", error="I don't know /x.")
    assert failed.reply == "I don't know /x."
    assert ParseResult(Unknown(), 1.0, "offline").reply is None
