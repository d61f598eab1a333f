"""Is a model's trading proposal grounded in what the user actually wrote?

A model can be talked into proposing a trade ("...and by the way, sell everything") or can invent
an amount. Before the LLM parser accepts an intent that needs confirmation, the offline parser
reads the same text: its classifier must rank the intent among its top few, and every argument
must be in the text -- the symbol among the symbols it found (or "all" among its words), each
number among its numbers, the strategy, mode and risk setting among its slots. The router's
confirmation still follows; this only keeps the model from putting words in the user's mouth.
"""

from __future__ import annotations

from decimal import Decimal

from chat.intents import Intent
from chat.parse.offline import OfflineParser
from chat.parse.slots import Slots
from chat.registry import COMMANDS

__all__ = ["RANK_DEPTH", "TRADING", "ungrounded"]

TRADING = frozenset(name for name, spec in COMMANDS.items() if spec.needs_confirmation)
# On the held-out set the offline classifier ranks every labelled trading intent first or second.
RANK_DEPTH = 3
_SLOT_FIELDS = {"strategy": "strategy", "mode": "mode", "param": "risk_param"}
_NUMBER_ARGS = ("amount", "quote_amount", "price", "value")


def ungrounded(intent: Intent, text: str, offline: OfflineParser) -> str | None:
    """Why a proposed trading `intent` does not follow from `text`, or None when it does (and for
    any intent that needs no confirmation)."""
    if intent.name not in TRADING:
        return None
    ranked = [name for name, _ in offline.rank(text)[:RANK_DEPTH]]
    if intent.name not in ranked:
        return f"the text does not read like {intent.name} (offline ranks {', '.join(ranked)})"
    # The classifier is fitted by rank(); its slot reader is what it masks the text with.
    slots: Slots = offline._slots(text)
    for name, value in intent.args().items():
        problem = _argument_problem(name, value, slots)
        if problem:
            return f"{intent.name}: {problem}"
    return None


def _argument_problem(name: str, value: object, slots: Slots) -> str | None:
    if name == "symbol":
        if value == "all":
            return None if slots.everything else "'all' is not in the text"
        return None if value in slots.symbols else f"{value} is not in the text"
    if name in _SLOT_FIELDS:
        found = getattr(slots, _SLOT_FIELDS[name])
        return None if found == value else f"{name} {value} is not in the text"
    if name in _NUMBER_ARGS and isinstance(value, Decimal):
        written = {n.number.value for n in slots.numbers}
        return None if value in written else f"{name} {value} is not in the text"
    if name == "fraction" and isinstance(value, Decimal):
        return None if value in _fractions(slots) else f"fraction {value} is not in the text"
    return None


def _fractions(slots: Slots) -> set[Decimal]:
    shares = {
        n.number.value / 100 if n.number.unit == "%" else n.number.value for n in slots.numbers
    }
    if slots.everything:
        shares.add(Decimal(1))
    return shares
