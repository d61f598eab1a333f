"""The fake OpenAI-compatible server driven by the real `openai` client: the parser's paths."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Literal

import openai
import pydantic
import pytest
from openai import AsyncOpenAI, OpenAI

from tests.fakes.openai_api import (
    FakeOpenAI,
    Reply,
    error_reply,
    json_reply,
    length_reply,
    refusal_reply,
    slow_reply,
    text_reply,
    tool_call_reply,
)

TIMEOUT_S = 0.3


class Intent(pydantic.BaseModel):
    intent: Literal["buy", "sell", "profit"]
    symbol: str | None


HAND_WRITTEN_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "profit",
        "parameters": {"type": "object", "properties": {"period_days": {"type": "integer"}}},
    },
}
MESSAGES: Any = [{"role": "user", "content": "profit this week"}]


@pytest.fixture
def client(fake_openai: FakeOpenAI) -> Iterator[OpenAI]:
    with OpenAI(
        base_url=fake_openai.base_url, api_key="x", max_retries=0, timeout=TIMEOUT_S
    ) as client:
        yield client


def test_tool_call_is_returned_and_the_request_recorded(
    fake_openai: FakeOpenAI, client: OpenAI
) -> None:
    fake_openai.script(tool_call_reply("profit", {"period_days": 7}))

    completion = client.chat.completions.create(
        model="m", messages=MESSAGES, tools=[HAND_WRITTEN_TOOL]
    )

    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "profit"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"period_days": 7}  # type: ignore[union-attr]
    assert completion.usage is not None and completion.usage.total_tokens > 0
    [request] = fake_openai.requests
    assert (request.path, request.authorization) == ("/v1/chat/completions", "Bearer x")
    assert request.body["tools"][0]["function"]["name"] == "profit"
    assert request.body["messages"] == MESSAGES


def test_parse_gives_typed_tool_arguments_and_json_schema_content(
    fake_openai: FakeOpenAI, client: OpenAI
) -> None:
    fake_openai.script(
        tool_call_reply("place_order", {"intent": "buy", "symbol": "BTC/USDT"}),
        json_reply({"intent": "profit", "symbol": None}),
    )
    tool = openai.pydantic_function_tool(Intent, name="place_order")

    by_tool = client.chat.completions.parse(model="m", messages=MESSAGES, tools=[tool])
    by_schema = client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Intent)

    arguments = by_tool.choices[0].message.tool_calls[0].function.parsed_arguments  # type: ignore[index]
    assert arguments == Intent(intent="buy", symbol="BTC/USDT")
    assert by_schema.choices[0].message.parsed == Intent(intent="profit", symbol=None)
    sent_format = fake_openai.completions()[1]["response_format"]
    assert sent_format["type"] == "json_schema" and sent_format["json_schema"]["name"] == "Intent"


def test_malformed_output_reaches_the_caller_unchanged(
    fake_openai: FakeOpenAI, client: OpenAI
) -> None:
    fake_openai.script(
        tool_call_reply("profit", '{"period_days": 7'),
        text_reply("sure! here is your intent: buy"),
        json_reply({"intent": "hold", "symbol": None}),
    )

    raw = client.chat.completions.create(model="m", messages=MESSAGES, tools=[HAND_WRITTEN_TOOL])
    arguments = raw.choices[0].message.tool_calls[0].function.arguments  # type: ignore[index,union-attr]
    assert arguments == '{"period_days": 7'
    with pytest.raises(ValueError, match="Expecting"):
        json.loads(arguments)
    # Not JSON, and JSON outside the schema: pydantic errors, not openai ones.
    for _ in range(2):
        with pytest.raises(pydantic.ValidationError):
            client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Intent)


def test_slow_answer_times_out_and_stop_stays_fast(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.script(slow_reply(5.0))

    started = time.perf_counter()
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    assert time.perf_counter() - started < TIMEOUT_S + 0.5

    started = time.perf_counter()
    fake_openai.stop()
    assert time.perf_counter() - started < 0.5


def test_errors_map_to_openai_exceptions(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.script(error_reply(429), error_reply(500), length_reply())

    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Intent)

    assert limited.value.status_code == 429 and limited.value.code == "rate_limit_exceeded"
    assert fake_openai.pending == 0


def test_refusal_is_reported_with_nothing_parsed(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.script(refusal_reply("I can't place trades."))

    completion = client.chat.completions.parse(model="m", messages=MESSAGES, response_format=Intent)

    message = completion.choices[0].message
    assert message.refusal == "I can't place trades." and message.parsed is None


def test_default_responder_answers_once_the_script_is_used_up(
    fake_openai: FakeOpenAI, client: OpenAI
) -> None:
    def echo(body: dict[str, Any]) -> Reply:
        return text_reply(f"echo: {body['messages'][-1]['content']}")

    fake_openai.script(text_reply("scripted"))
    first = client.chat.completions.create(model="m", messages=MESSAGES)
    with pytest.raises(openai.InternalServerError, match="no scripted reply left"):
        client.chat.completions.create(model="m", messages=MESSAGES)
    fake_openai.default = echo
    second = client.chat.completions.create(model="m", messages=MESSAGES)

    assert first.choices[0].message.content == "scripted"
    assert second.choices[0].message.content == "echo: profit this week"


def test_wrong_key_and_bad_request_are_refused(fake_openai: FakeOpenAI, client: OpenAI) -> None:
    fake_openai.api_key = "right"
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="m", messages=MESSAGES)
    fake_openai.api_key = "x"
    with pytest.raises(openai.BadRequestError, match="'messages' is a required property"):
        client.chat.completions.create(model="m", messages=[])
    assert [m.id for m in client.models.list()] == ["fake-model"]


async def test_async_client_streams_content_and_tool_calls(fake_openai: FakeOpenAI) -> None:
    fake_openai.script(text_reply('{"intent": "profit"}'), tool_call_reply("profit", {}))
    client = AsyncOpenAI(base_url=fake_openai.base_url, api_key="x", max_retries=0, timeout=1)

    async with client:
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        text = "".join([c.choices[0].delta.content or "" async for c in stream])
        stream = await client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        chunks = [c async for c in stream]

    assert text == '{"intent": "profit"}'
    assert chunks[0].choices[0].delta.tool_calls[0].function.name == "profit"  # type: ignore[index,union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
