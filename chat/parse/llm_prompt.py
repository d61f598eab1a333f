"""What the LLM intent parser sends: the system prompt from `prompts/`, the tools, the schema.

Prompts are files, `prompts/<name>.md`: a header (purpose, version, the `$variables` it takes), a
line holding `---`, then the text that is sent, with `string.Template` placeholders (`$quote`;
a literal dollar is `$$`) so the JSON in its examples needs no escaping. `load_prompt(name)`
reads one and `render` refuses a missing or an undeclared variable, so a prompt and its callers
cannot drift apart.

The request carries the registry's schemas and nothing else: no keys, no account data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Literal

from chat.registry import COMMANDS, ArgSpec, CommandSpec, tool_schemas

__all__ = [
    "INTENT_PROMPT",
    "PROMPTS_DIR",
    "PromptFile",
    "Style",
    "intent_schema",
    "load_prompt",
    "response_format",
    "system_prompt",
    "tools",
]

PROMPTS_DIR = Path(__file__).resolve().parents[2] / "prompts"
INTENT_PROMPT = "intent_system"

# "tools": function calling; "json_schema": OpenAI structured output; "json_object": the
# `{"type": "json_object", "schema": ...}` form llama-cpp-python's server (and some other local
# servers) take instead, since they answer the json_schema form with an error.
Style = Literal["tools", "json_schema", "json_object"]

_VERSION = re.compile(r"\*\*Version:\*\*\s*(\d+)")
_VARIABLES = re.compile(r"\*\*Variables:\*\*(.*?)(?:\n-|\n\n|\Z)", re.DOTALL)
_DECLARED = re.compile(r"`\$([A-Za-z_]\w*)`")


@dataclass(frozen=True)
class PromptFile:
    """One prompt file: its header's version and variables, and the template that is sent."""

    name: str
    version: int
    variables: frozenset[str]
    template: str

    def render(self, **values: str) -> str:
        """The prompt text with every `$variable` filled in.

        Raises:
            ValueError: a declared variable is not given, or an undeclared one is.
        """
        given = set(values)
        if given != self.variables:
            missing = sorted(self.variables - given)
            extra = sorted(given - self.variables)
            raise ValueError(f"prompt {self.name}: missing {missing}, undeclared {extra}")
        return Template(self.template).substitute(values)


def load_prompt(name: str, folder: Path = PROMPTS_DIR) -> PromptFile:
    """The prompt `folder/<name>.md`.

    Raises:
        ValueError: no `---` line after the header, no version, or the text uses a variable the
            header does not declare (or declares one it does not use).
    """
    path = folder / f"{name}.md"
    header, separator, template = path.read_text(encoding="utf-8").partition("\n---\n")
    version = _VERSION.search(header)
    variables = _VARIABLES.search(header)
    if not separator or version is None or variables is None:
        raise ValueError(f"{path}: expected a header with Version and Variables, then ---")
    if not Template(template).is_valid():
        raise ValueError(f"{path}: a lone $ in the text; write a literal dollar sign as $$")
    declared = frozenset(_DECLARED.findall(variables.group(1)))
    used = frozenset(Template(template).get_identifiers())
    if declared != used:
        raise ValueError(f"{path}: declares {sorted(declared)} but uses {sorted(used)}")
    return PromptFile(name, int(version.group(1)), declared, template)


def _arg_text(arg: ArgSpec) -> str:
    text = f"{arg.name}: {'|'.join(arg.choices)}" if arg.choices else arg.name
    return text if arg.required else f"{text}?"


def _command_line(spec: CommandSpec) -> str:
    return f"- {spec.name}({', '.join(_arg_text(a) for a in spec.args)}): {spec.help}"


_ANSWER: dict[Style, str] = {
    "tools": (
        "Answer by calling exactly one of the functions you are given. In the examples below, "
        '"intent" is the function to call and "args" are its arguments.'
    ),
    "json_schema": (
        'Answer with one JSON object and nothing else: {"intent": "<command name>", '
        '"args": {<the arguments>}}.'
    ),
}
_ANSWER["json_object"] = _ANSWER["json_schema"]


def system_prompt(style: Style, quote: str = "USDT", folder: Path = PROMPTS_DIR) -> str:
    """The intent parser's system prompt for `style`, with the registry's command list."""
    commands = "\n".join(_command_line(spec) for spec in COMMANDS.values())
    prompt = load_prompt(INTENT_PROMPT, folder)
    return prompt.render(answer=_ANSWER[style], commands=commands, quote=quote.upper())


def intent_schema() -> dict[str, object]:
    """JSON schema of `{"intent": <registry name>, "args": {...}}`.

    `args` may hold any argument name of the registry (each with its value's schema; a name means
    the same kind of value in every command that has it), so a grammar-constrained local model
    cannot invent keys; which arguments fit the intent is left to `chat.registry.validate`.
    """
    properties: dict[str, object] = {}
    for spec in COMMANDS.values():
        for arg in spec.args:
            if arg.name not in properties:
                schema = arg.json_schema()
                schema.pop("description", None)
                properties[arg.name] = schema
    return {
        "type": "object",
        "properties": {
            "intent": {"type": "string", "enum": list(COMMANDS)},
            "args": {"type": "object", "properties": properties, "additionalProperties": False},
        },
        "required": ["intent", "args"],
        "additionalProperties": False,
    }


def tools() -> list[dict[str, object]]:
    """The registry's commands as function tools (`unknown` included, so the model can say so)."""
    return tool_schemas()


def response_format(style: Style) -> dict[str, object]:
    """The `response_format` of a JSON style request."""
    if style == "json_object":
        return {"type": "json_object", "schema": intent_schema()}
    # strict mode would need every argument listed as required; validation happens here anyway
    return {
        "type": "json_schema",
        "json_schema": {"name": "intent", "strict": False, "schema": intent_schema()},
    }
