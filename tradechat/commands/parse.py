"""`tradechat parse`: what the chat parser makes of a message, as JSON.

`tradechat parse "chart eth 4h"` prints one object; `tradechat parse --jsonl FILE` parses one
utterance per line (a JSON object with a "text" key, a JSON string, or plain text; `-` reads
standard input) and prints one object per line. Each object is `{"intent", "args",
"confidence"}`, with `question` or `error` added when the parser answers instead of acting;
arguments the message did not give are left out. `--llm` asks the `[llm]` model instead (the
offline parser answers whenever the model fails) and adds `source` to each object.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer

from chat.parse import parse_text
from tradechat.commands.parse_llm import llm_configured, llm_json_lines
from tradechat.context import app_context, fail

__all__ = ["parse", "utterances"]


def utterances(lines: Iterator[str]) -> Iterator[str]:
    """The utterance on each non-blank line: a JSON object's "text", a JSON string, or the
    line as written."""
    for line in lines:
        text = line.strip()
        if not text:
            continue
        if text[0] in '{"':
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = text
            if isinstance(value, dict) and isinstance(value.get("text"), str):
                text = value["text"]
            elif isinstance(value, str):
                text = value
        yield text


def parse(
    ctx: typer.Context,
    text: Annotated[str | None, typer.Argument(help='The message, e.g. "chart eth 4h".')] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(
            "--jsonl",
            help="Parse one utterance per line of this file (- for standard input).",
            show_default=False,
        ),
    ] = None,
    llm: Annotated[
        bool,
        typer.Option("--llm", help="Ask the [llm] model; the offline parser answers if it fails."),
    ] = False,
) -> None:
    """Show the intent the chat parser finds in a message, as JSON."""
    app = app_context(ctx)
    quote = app.settings.trading.quote
    if llm and not llm_configured(app.settings):
        fail(app.console, "--llm needs [llm] base_url and model in the config file (--config)")

    def emit(texts: Iterable[str]) -> None:
        found = (parse_text(t, quote=quote).to_json() for t in texts)
        for line in llm_json_lines(app.settings, texts) if llm else found:
            typer.echo(line)

    if text is not None and jsonl is None:
        emit([text])
        return
    if jsonl is None or text is not None:
        fail(app.console, 'give a message, or --jsonl FILE (e.g. tradechat parse "profit today")')
    if str(jsonl) == "-":
        lines: Iterator[str] = iter(sys.stdin)
    elif jsonl.is_file():
        lines = iter(jsonl.read_text(encoding="utf-8").splitlines())
    else:
        fail(app.console, f"file {jsonl} does not exist")
    emit(utterances(lines))
