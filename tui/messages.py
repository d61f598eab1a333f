"""Requests screens post up to the app, which owns the controls that write to the store."""

from __future__ import annotations

from textual.message import Message

__all__ = ["CloseRequested"]


class CloseRequested(Message):
    """The user asked to close the position in `symbol` (a confirmation dialog comes first)."""

    def __init__(self, symbol: str) -> None:
        super().__init__()
        self.symbol = symbol
