"""What the store raises on purpose; each message is fit to show a user."""

from __future__ import annotations

from botcore.errors import BotcoreError

__all__ = ["DuplicateFillError", "StoreError"]


class StoreError(BotcoreError):
    """The store cannot do what was asked (misuse, not a database failure)."""


class DuplicateFillError(StoreError):
    """A fill with this id is already booked; booking it again would count it twice."""
