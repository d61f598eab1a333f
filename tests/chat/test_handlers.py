"""Every registered command has a handler, so every surface can answer every intent."""

from __future__ import annotations

from chat import registry
from chat.commands import HANDLERS


def test_every_registry_command_has_a_handler_and_no_handler_is_orphaned() -> None:
    assert set(HANDLERS) == set(registry.COMMANDS)
