"""Request and webhook signatures of the TikTok-shaped contract (../shared/tiktok-shop-api.md, sections 2 and 7).

Shared by the client (which signs) and the sandbox (which checks): one implementation of the rule.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import parse_qsl, urlsplit

UNSIGNED_PARAMS = frozenset({"sign", "access_token"})


def sign_base(app_secret: str, path: str, query: Mapping[str, str] | Iterable[tuple[str, str]],
              body: bytes = b"") -> bytes:
    """``app_secret + path + k1v1k2v2… + body + app_secret``: every query parameter but ``sign``
    and ``access_token``, sorted by key (bytewise), each key once, its decoded value."""
    pairs = dict(query.items() if isinstance(query, Mapping) else query)
    params = "".join(f"{k}{pairs[k]}" for k in sorted(pairs, key=lambda k: k.encode()) if k not in UNSIGNED_PARAMS)
    return app_secret.encode() + path.encode() + params.encode() + (body or b"") + app_secret.encode()


def sign(app_secret: str, path: str, query: Mapping[str, str] | Iterable[tuple[str, str]], body: bytes = b"") -> str:
    """The ``sign`` parameter: lowercase hex HMAC-SHA256 keyed with the app secret."""
    return hmac.new(app_secret.encode(), sign_base(app_secret, path, query, body), hashlib.sha256).hexdigest()


def sign_url(app_secret: str, url: str, body: bytes = b"") -> str:
    """The signature of a full URL as it will be sent (its path and decoded query)."""
    parts = urlsplit(url)
    return sign(app_secret, parts.path, parse_qsl(parts.query, keep_blank_values=True), body)


def signature_ok(app_secret: str, path: str, query: Mapping[str, str], body: bytes, given: str) -> bool:
    """A request's ``sign`` checked in constant time."""
    return hmac.compare_digest(sign(app_secret, path, query, body), (given or "").lower())


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """A notification's ``Authorization`` header: hex HMAC-SHA256 (key ``app_secret``) over ``app_key`` + raw body."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def webhook_ok(app_key: str, app_secret: str, body: bytes, header: str | None) -> bool:
    """A notification's signature checked in constant time (no timestamp window applies)."""
    return hmac.compare_digest(webhook_signature(app_key, app_secret, body), (header or "").strip().lower())
