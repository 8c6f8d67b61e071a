"""The two channels' webhook signatures: one implementation each, shared by the receiver (which
checks) and the sandboxes (which sign).

- marketplace (../shared/marketplace-api.md §6): ``X-Mp-Signature`` = lowercase hex HMAC-SHA256
  keyed with the client secret over ``"<X-Mp-Timestamp>.<raw body>"``; a timestamp more than
  :data:`MARKETPLACE_SKEW_S` seconds from our clock is refused.
- tiktok (../shared/tiktok-shop-api.md §7): ``Authorization`` = lowercase hex HMAC-SHA256 keyed
  with the app secret over ``app_key + raw body``; no timestamp window
  (:mod:`connectors.tiktok.signing` holds that rule, the client's request signing beside it).

Every comparison is constant-time. A check answers why it failed in a few words (for the log
line and the 401), never the signature expected.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from connectors.tiktok.signing import webhook_ok as tiktok_ok
from connectors.tiktok.signing import webhook_signature as tiktok_signature

MARKETPLACE_SKEW_S = 300
"""How far (seconds, either way) ``X-Mp-Timestamp`` may be from our clock."""

__all__ = ["MARKETPLACE_SKEW_S", "marketplace_refusal", "marketplace_signature", "tiktok_ok", "tiktok_refusal",
           "tiktok_signature"]


def marketplace_signature(client_secret: str, timestamp: int | str, body: bytes) -> str:
    """``X-Mp-Signature`` of ``body`` sent at ``timestamp`` (UNIX seconds)."""
    return hmac.new(client_secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def marketplace_refusal(client_secret: str, timestamp: str | None, signature: str | None, body: bytes,
                        now: float | None = None) -> str:
    """Why a marketplace notification must be refused ("" when its signature and timestamp hold)."""
    if not timestamp or not signature:
        return "missing X-Mp-Timestamp or X-Mp-Signature"
    ts = timestamp.strip()
    if not ts.isascii() or not ts.isdigit():
        return "X-Mp-Timestamp is not UNIX seconds"
    # The signature is checked over the header exactly as sent, before the clock: a forged
    # request learns nothing about our clock.
    if not hmac.compare_digest(marketplace_signature(client_secret, ts, body), signature.strip().lower()):
        return "wrong signature"
    if abs((time.time() if now is None else now) - int(ts)) > MARKETPLACE_SKEW_S:
        return f"timestamp more than {MARKETPLACE_SKEW_S} s from our clock"
    return ""


def tiktok_refusal(app_key: str, app_secret: str, body: bytes, authorization: str | None) -> str:
    """Why a TikTok-shaped notification must be refused ("" when its signature holds)."""
    if not authorization:
        return "missing Authorization"
    return "" if tiktok_ok(app_key, app_secret, body, authorization) else "wrong signature"
