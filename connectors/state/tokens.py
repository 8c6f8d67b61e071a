"""Per-shop tokens kept sealed in the state store (one of the two homes ../shared/decisions.md allows).

:class:`SealedTokens` is a :class:`schemas.tokens.TokenKeeper`: the tokens are encrypted with
Fernet (AES-128-CBC + HMAC-SHA256, the ``cryptography`` package) under a key derived from
``LAPAK_SECRET_KEY``; only the expiry times are stored in the clear (for warnings without the
key). A refresh is serialised through the store's lease ``token:<channel>:<shop>`` so two
workers never race to spend one refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select

from connectors.state.models import ShopToken, utcnow
from schemas.errors import ConfigError
from schemas.tokens import ShopTokens

SECRET_KEY_ENV = "LAPAK_SECRET_KEY"
REFRESH_LEASE_S = 60.0
REFRESH_WAIT_S = 30.0


def fernet_of(secret_key: str) -> Fernet:
    """A Fernet key derived from any passphrase (SHA-256, urlsafe base64)."""
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(secret_key.encode()).digest()))


def secret_key_from_env() -> str:
    key = os.environ.get(SECRET_KEY_ENV, "")
    if not key:
        raise ConfigError(f"shop tokens are kept encrypted: set {SECRET_KEY_ENV} (any long random text, "
                          "the same for every worker)")
    return key


class SealedTokens:
    """Shop tokens in the state store's ``shop_tokens`` table, encrypted."""

    def __init__(self, store: Any, secret_key: str | None = None, *, sleep=time.sleep) -> None:
        self.store = store
        self._fernet = fernet_of(secret_key if secret_key is not None else secret_key_from_env())
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"SealedTokens({self.store!r})"

    def load(self, channel: str, shop_id: str) -> ShopTokens | None:
        with self.store.session() as s:
            row = s.get(ShopToken, (channel, str(shop_id)))
            sealed = row.sealed if row is not None else None
        if sealed is None:
            return None
        try:
            return ShopTokens(**json.loads(self._fernet.decrypt(sealed.encode())))
        except (InvalidToken, ValueError, TypeError):
            raise ConfigError(f"the tokens of {channel} shop {shop_id} cannot be opened with this "
                              f"{SECRET_KEY_ENV}; use the key they were kept with, or authorise the shop "
                              "again") from None

    def save(self, channel: str, tokens: ShopTokens) -> None:
        sealed = self._fernet.encrypt(json.dumps(asdict(tokens)).encode()).decode()
        row = dict(channel=channel, shop_id=str(tokens.shop_id), sealed=sealed,
                   access_expires=int(tokens.access_expires), refresh_expires=int(tokens.refresh_expires),
                   updated_at=utcnow())
        with self.store.session() as s:
            self.store._upsert(s, ShopToken, [row], ["channel", "shop_id"])

    def expiries(self, channel: str) -> dict[str, int]:
        """Shop → when its refresh token (its authorisation) ends, readable without the key."""
        return self.expiries_in(self.store, channel)

    @staticmethod
    def expiries_in(store: Any, channel: str) -> dict[str, int]:
        """As :meth:`expiries`, without a key (for warnings on every run)."""
        with store.session() as s:
            rows = s.execute(select(ShopToken.shop_id, ShopToken.refresh_expires).where(ShopToken.channel == channel))
            return {shop: int(t) for shop, t in rows}

    @contextmanager
    def refreshing(self, channel: str, shop_id: str) -> Iterator[None]:
        """Hold the shop's refresh lease (waits for another holder, up to :data:`REFRESH_WAIT_S`)."""
        name, token = f"token:{channel}:{shop_id}", secrets.token_hex(16)
        deadline = time.monotonic() + REFRESH_WAIT_S
        while (holder := self.store.try_lock(name, token, "token refresh", REFRESH_LEASE_S)) is not None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{channel} shop {shop_id}: another worker has been refreshing its tokens "
                                   f"since {holder['acquired_at']}")
            self._sleep(0.2)
        try:
            yield
        finally:
            self.store.release_lock(name, token)
