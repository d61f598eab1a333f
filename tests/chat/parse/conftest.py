"""A fitted offline parser shared by the parser tests, and the held-out labelled utterances."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from chat.parse.offline import OfflineParser

HELD_OUT = Path(__file__).resolve().parents[1] / "data" / "utterances.jsonl"


def load_held_out() -> list[dict[str, Any]]:
    """The labelled test utterances; numbers as Decimal so 0.01 compares exactly."""
    lines = HELD_OUT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line, parse_float=Decimal) for line in lines if line.strip()]


@pytest.fixture(scope="session")
def parser() -> OfflineParser:
    """The default offline parser, trained once for the session."""
    fitted = OfflineParser()
    fitted.fit()
    return fitted
