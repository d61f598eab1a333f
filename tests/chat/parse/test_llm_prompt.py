"""The LLM parser's prompt file and its guard on trading proposals (no server needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chat.parse.llm_guard import TRADING, ungrounded
from chat.parse.llm_prompt import PROMPTS_DIR, load_prompt
from chat.parse.offline import OfflineParser
from chat.registry import validate
from tests.chat.parse.conftest import load_held_out

# The prompt file --------------------------------------------------------------------------------


def test_the_prompt_file_has_a_header_and_takes_exactly_its_variables() -> None:
    prompt = load_prompt("intent_system")
    assert prompt.version >= 1
    assert prompt.variables == {"answer", "commands", "quote"}
    with pytest.raises(ValueError, match="missing \\['quote'\\]"):
        prompt.render(answer="a", commands="c")
    with pytest.raises(ValueError, match="undeclared \\['user'\\]"):
        prompt.render(answer="a", commands="c", quote="USDT", user="x")


def test_a_prompt_using_an_undeclared_variable_is_refused(tmp_path: Path) -> None:
    (tmp_path / "p.md").write_text(
        "# P\n\n- **Version:** 2\n- **Variables:** `$a`\n\n---\nHello $a and $b\n"
    )
    with pytest.raises(ValueError, match="declares \\['a'\\] but uses \\['a', 'b'\\]"):
        load_prompt("p", tmp_path)
    (tmp_path / "q.md").write_text("# Q\n\n- **Version:** 1\n- **Variables:** none\n\n---\n$5\n")
    with pytest.raises(ValueError, match="lone \\$"):
        load_prompt("q", tmp_path)


def test_the_prompt_examples_are_not_from_the_held_out_set() -> None:
    def norm(text: str) -> str:
        return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())

    lines = (PROMPTS_DIR / "intent_system.md").read_text().split("\n---\n", 1)[1].splitlines()
    examples = [norm(line.split('" -> ')[0]) for line in lines if '" -> {' in line]
    assert len(examples) >= 8
    held_out = {norm(row["text"]) for row in load_held_out()}
    assert not held_out.intersection(examples)
    # each example is a valid answer under the registry
    for line in lines:
        if '" -> {' in line:
            answer = json.loads(line.split('" -> ', 1)[1].replace("$quote", "USDT"))
            validate(answer["intent"], answer["args"])


# The guard --------------------------------------------------------------------------------------


def test_every_labelled_trading_utterance_grounds_its_own_intent(parser: OfflineParser) -> None:
    rows = [row for row in load_held_out() if row["intent"] in TRADING]
    assert len(rows) >= 60
    for row in rows:
        intent = validate(row["intent"], row["args"])
        assert ungrounded(intent, row["text"], parser) is None, row["text"]


def test_the_guard_checks_only_intents_that_need_confirmation(parser: OfflineParser) -> None:
    chart = validate("chart", {"symbol": "ETH/USDT"})
    sell = validate("sell", {"symbol": "ETH/USDT", "fraction": "0.5"})
    assert ungrounded(chart, "tell me a joke", parser) is None
    assert ungrounded(sell, "sell 50% of my eth", parser) is None
    assert ungrounded(sell, "sell a quarter of my eth", parser) == (
        "sell: fraction 0.5 is not in the text"
    )
    assert "does not read like sell" in (ungrounded(sell, "eth chart", parser) or "")
