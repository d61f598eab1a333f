"""The registry is the contract of issue 4: names, arguments, roles, confirmation, validation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from chat import intents as i
from chat.registry import (
    COMMANDS,
    ArgumentError,
    UnknownCommandError,
    lookup,
    required_role,
    role_allows,
    suggest,
    tool_schemas,
    validate,
)

# The issue's names and argument names, in its order: the registry must match them exactly.
CONTRACT: dict[str, tuple[str, ...]] = {
    "status": (),
    "balance": (),
    "positions": ("symbol",),
    "trades": ("symbol", "limit"),
    "profit": ("period_days", "symbol"),
    "stats": (),
    "performance": ("period_days",),
    "daily": ("days",),
    "equity": ("period_days",),
    "chart": ("symbol", "timeframe"),
    "scan": ("limit",),
    "predict": ("symbol", "timeframe"),
    "arbitrage": ("symbol",),
    "backtest": ("strategy", "symbol", "timeframe", "period_days"),
    "optimize": ("strategy", "symbol", "timeframe", "period_days", "trials"),
    "strategies": ("symbol",),
    "buy": ("symbol", "amount", "quote_amount", "price"),
    "sell": ("symbol", "amount", "fraction", "price"),
    "close": ("symbol",),
    "rebalance": (),
    "set_strategy": ("strategy", "symbol"),
    "mode": ("mode",),
    "start": (),
    "stop": (),
    "risk": (),
    "set_risk": ("param", "value"),
    "watchlist": (),
    "watch": ("symbol",),
    "unwatch": ("symbol",),
    "alert": ("symbol", "condition", "price"),
    "summary": (),
    "portfolio": (),
    "help": ("topic",),
    "leaderboard": ("period_days",),
    "share_signal": ("symbol", "side"),
    "follow": ("user",),
    "unfollow": ("user",),
    "unknown": (),
}
REQUIRED = {
    "chart": {"symbol"},
    "predict": {"symbol"},
    "backtest": {"strategy", "symbol"},
    "optimize": {"strategy", "symbol"},
    "buy": {"symbol"},
    "sell": {"symbol"},
    "close": {"symbol"},
    "set_strategy": {"strategy"},
    "mode": {"mode"},
    "set_risk": {"param", "value"},
    "watch": {"symbol"},
    "unwatch": {"symbol"},
    "alert": {"symbol", "condition", "price"},
    "share_signal": {"symbol", "side"},
    "follow": {"user"},
    "unfollow": {"user"},
}


def test_every_intent_of_the_issue_is_registered_with_its_arguments_in_order() -> None:
    assert list(COMMANDS) == list(CONTRACT)
    for name, spec in COMMANDS.items():
        assert tuple(a.name for a in spec.args) == CONTRACT[name], name
        assert {a.name for a in spec.args if a.required} == REQUIRED.get(name, set()), name


def test_every_registry_entry_builds_its_own_intent_type() -> None:
    assert set(i.INTENT_TYPES) == set(COMMANDS)
    for name, spec in COMMANDS.items():
        assert spec.intent_type is i.INTENT_TYPES[name]
        assert spec.intent_type.name == name
        assert spec.help and spec.about and spec.example.startswith("/")


def test_trading_intents_and_set_risk_need_confirmation_and_nothing_else_does() -> None:
    confirmed = {name for name, spec in COMMANDS.items() if spec.needs_confirmation}
    assert confirmed == {"buy", "sell", "close", "rebalance", "set_strategy", "mode", "set_risk"}


def test_reading_is_for_members_trading_and_control_for_admins_and_live_mode_for_the_owner() -> (
    None
):
    assert required_role(i.Profit()) == "member"
    assert required_role(i.Chart(symbol="BTC/USDT")) == "member"
    assert required_role(i.Buy(symbol="BTC/USDT")) == "admin"
    assert required_role(i.Stop()) == "admin"
    assert required_role(i.Mode(mode="paper")) == "admin"
    assert required_role(i.Mode(mode="live")) == "owner"
    assert role_allows("owner", "admin") and role_allows("admin", "admin")
    assert not role_allows("member", "admin")
    assert not role_allows("admin", "owner")


def test_aliases_and_names_are_unique_and_look_up_the_same_command() -> None:
    words = [w for spec in COMMANDS.values() for w in (spec.name, *spec.aliases)]
    assert len(words) == len(set(words))
    assert lookup("/pnl") is COMMANDS["profit"]
    assert lookup("BAL") is COMMANDS["balance"]
    assert lookup("nope") is None
    assert suggest("proft")[0] == "profit"


def test_usage_shows_required_arguments_bare_and_optional_ones_in_brackets() -> None:
    assert COMMANDS["chart"].usage == "/chart SYMBOL [TIMEFRAME]"
    assert COMMANDS["status"].usage == "/status"


def test_json_schemas_follow_the_argument_specs() -> None:
    tools = tool_schemas()
    assert [t["function"]["name"] for t in tools] == list(COMMANDS)  # type: ignore[index]
    buy = COMMANDS["buy"].json_schema()
    assert buy["required"] == ["symbol"]
    assert buy["additionalProperties"] is False
    props = buy["properties"]
    assert isinstance(props, dict)
    assert props["amount"]["type"] == "number"
    assert COMMANDS["mode"].json_schema()["properties"]["mode"]["enum"] == ["paper", "live"]  # type: ignore[index]
    sell = COMMANDS["sell"].json_schema()["properties"]
    assert sell["fraction"] == {  # type: ignore[index]
        "description": "Or: share of the holding, 0.5 or 50%",
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": 1,
    }
    risk = COMMANDS["set_risk"].json_schema()["properties"]["param"]["enum"]  # type: ignore[index]
    assert risk == list(i.RISK_PARAMS)
    assert COMMANDS["profit"].json_schema()["properties"]["period_days"]["type"] == "integer"  # type: ignore[index]


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("buy", {"symbol": "eth", "amount": "0.01"}, i.Buy("ETH/USDT", amount=Decimal("0.01"))),
        (
            "buy",
            {"symbol": "ethbtc", "quote_amount": "$500"},
            i.Buy("ETH/BTC", quote_amount=Decimal(500)),
        ),
        (
            "buy",
            {"symbol": "BTC-USDT", "amount": 0.1, "price": 60000},
            i.Buy("BTC/USDT", Decimal("0.1"), price=Decimal(60000)),
        ),
        ("sell", {"symbol": "sol", "fraction": "50%"}, i.Sell("SOL/USDT", fraction=Decimal("0.5"))),
        (
            "sell",
            {"symbol": "sol", "fraction": "half"},
            i.Sell("SOL/USDT", fraction=Decimal("0.5")),
        ),
        ("close", {"symbol": "All"}, i.Close("all")),
        ("pnl", {"period_days": "this week", "symbol": "eth"}, i.Profit(7, "ETH/USDT")),
        ("profit", {"period_days": 30.0}, i.Profit(30)),
        ("chart", {"symbol": "eth/btc", "timeframe": "hourly"}, i.Chart("ETH/BTC", "1h")),
        (
            "backtest",
            {"strategy": "EMA cross", "symbol": "btc"},
            i.Backtest("ema_cross", "BTC/USDT"),
        ),
        (
            "set_risk",
            {"param": "max_open_positions", "value": "5"},
            i.SetRisk("max_open_positions", Decimal(5)),
        ),
        (
            "set_risk",
            {"param": "stop_loss_pct", "value": "2.5%"},
            i.SetRisk("stop_loss_pct", Decimal("2.5")),
        ),
        (
            "alert",
            {"symbol": "btc", "condition": "Above", "price": "70k"},
            i.Alert("BTC/USDT", "above", Decimal(70000)),
        ),
        ("help", {"topic": "/pnl"}, i.Help("profit")),
        ("follow", {"user": "@alice"}, i.Follow("alice")),
        ("mode", {"mode": "LIVE"}, i.Mode("live")),
        ("trades", {"limit": "twenty"}, i.Trades(limit=20)),
        ("status", {"symbol": None}, i.Status()),
    ],
)
def test_validate_converts_loose_values_to_typed_intents(
    name: str, args: dict[str, object], expected: i.Intent
) -> None:
    assert validate(name, args) == expected


def test_validate_uses_the_configured_quote_for_a_bare_base() -> None:
    assert validate("watch", {"symbol": "eth"}, quote="usdc") == i.Watch("ETH/USDC")


@pytest.mark.parametrize(
    ("name", "args", "problem", "words"),
    [
        (
            "buy",
            {"symbol": "eth", "amount": 1, "quote_amount": 2},
            "conflict",
            "either amount or quote_amount",
        ),
        (
            "sell",
            {"symbol": "eth", "amount": 1, "fraction": 0.5},
            "conflict",
            "either amount or fraction",
        ),
        ("sell", {"symbol": "eth", "fraction": "150%"}, "invalid", "at most 1"),
        ("sell", {"symbol": "eth", "fraction": 0}, "invalid", "more than 0"),
        ("buy", {"symbol": "eth", "amount": "-1"}, "invalid", "not a number"),
        ("buy", {"symbol": "eth", "amount": -1}, "invalid", "more than 0"),
        ("buy", {"symbol": "eth", "price": 0}, "invalid", "more than 0"),
        ("buy", {"symbol": "eth", "amount": "500 usdt"}, "mismatch", "use quote_amount"),
        ("buy", {"symbol": "eth", "amount": "$5"}, "mismatch", "use quote_amount"),
        ("buy", {"symbol": "eth", "amount": True}, "invalid", "true/false"),
        (
            "set_risk",
            {"param": "stop_los_pct", "value": 2},
            "invalid",
            "did you mean stop_loss_pct",
        ),
        ("set_risk", {"param": "max_open_positions", "value": 2.5}, "invalid", "whole number"),
        ("set_risk", {"param": "max_drawdown_pct", "value": 150}, "invalid", "at most 100"),
        ("chart", {}, "missing", "/chart needs a symbol; for example: /chart ETH/USDT 4h"),
        ("mode", {}, "missing", "needs paper or live"),
        ("mode", {"mode": "lve"}, "invalid", "did you mean live"),
        ("chart", {"symbol": "eth", "tf": "1h"}, "unknown", "It takes: symbol, timeframe"),
        ("chart", {"symbol": "eth", "timeframe": "7x"}, "invalid", "not a timeframe"),
        ("chart", {"symbol": "4h"}, "invalid", "looks like a timeframe"),
        ("status", {"x": 1}, "unknown", "takes no arguments"),
        ("follow", {"user": "a b"}, "invalid", "not a user name"),
        ("help", {"topic": "backtst"}, "invalid", "did you mean backtest"),
        ("trades", {"limit": 0}, "invalid", "positive whole number"),
        ("watch", {"symbol": "usdt"}, "invalid", "quote currency"),
    ],
)
def test_bad_arguments_raise_a_specific_polite_error(
    name: str, args: dict[str, object], problem: str, words: str
) -> None:
    with pytest.raises(ArgumentError) as caught:
        validate(name, args)
    assert caught.value.problem == problem
    assert words in str(caught.value)
    assert "Traceback" not in str(caught.value)


def test_an_unknown_command_suggests_the_closest() -> None:
    with pytest.raises(UnknownCommandError, match=r"Did you mean /profit\?") as caught:
        validate("proft")
    assert caught.value.suggestions[0] == "profit"


def test_intent_args_leave_out_what_was_not_given() -> None:
    assert i.Trades(symbol="BTC/USDT").args() == {"symbol": "BTC/USDT"}
    assert i.Status().args() == {}
    assert i.Buy("ETH/USDT", price=Decimal(3000)).args() == {
        "symbol": "ETH/USDT",
        "price": Decimal(3000),
    }


def test_set_risk_offers_exactly_the_rules_the_engine_lets_change_at_run_time() -> None:
    from botcore.config import RUNTIME_RISK_RULES

    assert i.RISK_PARAMS == RUNTIME_RISK_RULES
