"""Who may use the bot, and as what: platform allow-lists turned into roles.

A caller is identified by platform and user id. Telegram lists user ids (`allowed_users`,
`admins`, `owner`); Discord lists role names (`allowed_roles`, `admin_roles`), which count only
in the servers listed in `guild_ids` (the adapter reads roles from those), and an owner id;
the local console is the machine's owner. Anyone else gets no role: the router refuses them
and does nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from botcore.config import Settings
from chat.registry import Role

__all__ = ["AccessPolicy", "Caller"]


@dataclass(frozen=True)
class Caller:
    """Who sent a message, as the adapter saw it.

    Attributes:
        platform: "telegram", "discord" or "console".
        user_id: The platform's user id, as text.
        chat_id: Where to answer (Telegram chat, Discord channel); "" on the console.
        name: A display name, for replies and the audit log.
        roles: Discord role names of the member (empty elsewhere).
    """

    platform: str
    user_id: str
    chat_id: str = ""
    name: str = ""
    roles: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """`platform:user_id`, the actor written to the audit log."""
        return f"{self.platform}:{self.user_id}"


class AccessPolicy:
    """Roles from the `[telegram]` and `[discord]` allow-lists."""

    def __init__(self, settings: Settings) -> None:
        self.telegram = settings.telegram
        self.discord = settings.discord

    def role(self, caller: Caller) -> Role | None:
        """The caller's role, or None when the caller is not allowed at all."""
        if caller.platform == "console":
            return "owner"
        if caller.platform == "telegram":
            return self._telegram(caller.user_id)
        if caller.platform == "discord":
            return self._discord(caller.user_id, caller.roles)
        return None

    def _telegram(self, user_id: str) -> Role | None:
        config = self.telegram
        if config.owner is not None and user_id == str(config.owner):
            return "owner"
        if user_id in {str(u) for u in config.admins}:
            return "admin"
        if user_id in {str(u) for u in config.allowed_users}:
            return "member"
        return None

    def _discord(self, user_id: str, roles: tuple[str, ...]) -> Role | None:
        config = self.discord
        if config.owner is not None and user_id == str(config.owner):
            return "owner"
        if not config.guild_ids:
            # role names are not tied to a server: without guild_ids any server that adds the
            # bot could make itself an "admin" role, so roles count only in configured guilds
            return None
        if set(roles) & set(config.admin_roles):
            return "admin"
        if set(roles) & set(config.allowed_roles):
            return "member"
        return None
