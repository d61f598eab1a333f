"""`tradechat parse` as a user meets it, on a local typer app that registers the command the
way `tradechat/cli.py` does, with the same context object."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import typer
from rich.console import Console
from typer.testing import CliRunner

from botcore.config import Settings, TradingConfig
from tradechat.commands import parse as parse_command
from tradechat.context import AppContext

runner = CliRunner()


def make_app(quote: str = "USDT") -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _main(ctx: typer.Context) -> None:
        settings = Settings(trading=TradingConfig(quote=quote))
        ctx.obj = AppContext(settings, Console(width=200, highlight=False))

    app.command("parse")(parse_command.parse)
    return app


def run(app: typer.Typer, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=stdin)
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def test_parse_prints_the_intent_as_json_with_exact_decimals() -> None:
    code, out = run(make_app(), "parse", "buy 0.01 btc at 65000")
    assert code == 0
    assert '"amount": 0.01' in out
    found = json.loads(out, parse_float=Decimal)
    assert set(found) == {"intent", "args", "confidence"}
    assert found["intent"] == "buy"
    assert found["args"] == {"symbol": "BTC/USDT", "amount": Decimal("0.01"), "price": 65000}
    assert 0 < found["confidence"] <= 1


def test_parse_leaves_out_arguments_that_were_not_given_and_handles_slash_commands() -> None:
    assert json.loads(run(make_app(), "parse", "show my trades")[1])["args"] == {}
    assert json.loads(run(make_app(), "parse", "/profit 7")[1]) == {
        "intent": "profit",
        "args": {"period_days": 7},
        "confidence": 1.0,
    }


def test_parse_uses_the_configured_quote_currency() -> None:
    found = json.loads(run(make_app("USDC"), "parse", "chart eth 4h")[1])
    assert found["args"] == {"symbol": "ETH/USDC", "timeframe": "4h"}


def test_parse_shows_the_question_when_the_parser_asks_one() -> None:
    found = json.loads(run(make_app(), "parse", "show me a chart")[1])
    assert found["intent"] is None and found["args"] == {}
    assert found["question"].startswith("I can do a price chart, but which market?")


def test_jsonl_parses_one_utterance_per_line_and_prints_one_object_per_line(
    tmp_path: Path,
) -> None:
    utterances = tmp_path / "utterances.jsonl"
    utterances.write_text(
        '{"text": "pnl this week", "intent": "profit"}\n'
        "\n"
        '"close everything"\n'
        "tell me a joke\n"
        "/chart ETH/USDT 1h\n",
        encoding="utf-8",
    )
    code, out = run(make_app(), "parse", "--jsonl", str(utterances))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["intent"], r["args"]) for r in rows] == [
        ("profit", {"period_days": 7}),
        ("close", {"symbol": "all"}),
        ("unknown", {}),
        ("chart", {"symbol": "ETH/USDT", "timeframe": "1h"}),
    ]


def test_jsonl_reads_standard_input_for_a_dash() -> None:
    code, out = run(make_app(), "parse", "--jsonl", "-", stdin="balance please\nhelp me\n")
    assert code == 0
    assert [json.loads(line)["intent"] for line in out.splitlines()] == ["balance", "help"]


def test_parse_needs_exactly_one_of_text_and_jsonl(tmp_path: Path) -> None:
    code, out = run(make_app(), "parse")
    assert code == 2 and "give a message, or --jsonl FILE" in out
    code, out = run(make_app(), "parse", "hi", "--jsonl", str(tmp_path / "x.jsonl"))
    assert code == 2
    code, out = run(make_app(), "parse", "--jsonl", str(tmp_path / "missing.jsonl"))
    assert code == 2 and "does not exist" in out
