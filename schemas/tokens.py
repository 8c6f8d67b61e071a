"""A shop's authorisation on a channel that authorises per shop (the TikTok-shaped one), and
where such authorisations are kept.

Tokens are secrets: :class:`ShopTokens` never shows them in its ``repr``; a
:class:`TokenKeeper` keeps them encrypted (or in a Prefect Secret block), never in ``lapak.toml``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Protocol

REFRESH_WARNING_S = 7 * 86_400
"""A refresh token this close to its expiry puts a warning in every run summary."""


@dataclass(frozen=True)
class ShopTokens:
    """One shop's tokens (times are absolute UNIX seconds)."""

    shop_id: str
    access_token: str = field(repr=False)
    access_expires: int
    refresh_token: str = field(repr=False)
    refresh_expires: int
    seller_name: str = ""
    open_id: str = ""

    def access_valid(self, now: float, margin: float = 300) -> bool:
        """The access token is good for at least ``margin`` more seconds."""
        return now + margin < self.access_expires

    def refresh_valid(self, now: float) -> bool:
        return now < self.refresh_expires

    def expiry_warning(self, now: float) -> str:
        """"" unless the authorisation ends within :data:`REFRESH_WARNING_S` (or has ended)."""
        left = self.refresh_expires - now
        if left <= 0:
            return f"shop {self.shop_id}: authorisation expired; authorise again (lapak authorize tiktok)"
        if left <= REFRESH_WARNING_S:
            return (f"shop {self.shop_id}: authorisation ends in {left / 86_400:.1f} days; "
                    "authorise again soon (lapak authorize tiktok)")
        return ""


class TokenKeeper(Protocol):
    """Where a channel's per-shop tokens are kept (encrypted at rest)."""

    def load(self, channel: str, shop_id: str) -> ShopTokens | None:
        """The shop's tokens, or None when it was never authorised."""
        ...

    def save(self, channel: str, tokens: ShopTokens) -> None:
        """Keep (replace) the shop's tokens."""
        ...

    def refreshing(self, channel: str, shop_id: str) -> AbstractContextManager[None]:
        """Held while one process refreshes the shop's tokens (so two workers never race)."""
        ...
