"""One scrubber at the connectors' edge: every text a server sends (a reason, messages, an error
code, an HTTP reason phrase, a body quoted in an error) passes through it before it can reach an
exception, a log line, an artifact or the state store.

Servers, proxies and debug pages sometimes quote the request back, ``Authorization`` header and
all. The scrubber replaces every secret it was told about — the client or app secret, its Basic
form (``base64(client_id:secret)``), every access and refresh token issued so far — in plain,
URL-encoded and base64 form, then any ``Bearer``/``Basic`` credential and secret-named query
parameter left, and caps the text's length.
"""

from __future__ import annotations

import base64
import re
import threading
from urllib.parse import quote

MASK = "***"
LIMIT = 300
MIN_SECRET = 4  # shorter values would mask ordinary words

_CREDENTIAL = re.compile(r"(?i)\b(bearer|basic)(\s+|%20|\+)[A-Za-z0-9._~+/=\-]{6,}")
_SECRET_FIELD = re.compile(
    r"(?i)((?:client_secret|app_secret|access_token|refresh_token|password|x-tts-access-token|authorization)"
    r"[\"']?\s*(?:=|:|%3D)\s*[\"']?)[^\s&\"',;}]+")


class Scrubber:
    """Thread-safe: tokens are added while other threads scrub."""

    def __init__(self, limit: int = LIMIT) -> None:
        self.limit = limit
        self._hidden: set[str] = set()
        self._ordered: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def hide(self, *values: str | None) -> None:
        """Never let these values (or their URL-encoded or base64 forms) through."""
        forms = set()
        for value in values:
            if not value or len(value) < MIN_SECRET:
                continue
            forms |= {value, quote(value, safe=""), base64.b64encode(value.encode()).decode().rstrip("=")}
        with self._lock:
            if forms - self._hidden:
                self._hidden |= {f for f in forms if len(f) >= MIN_SECRET}
                self._ordered = tuple(sorted(self._hidden, key=len, reverse=True))  # longest first

    def hide_basic(self, user: str, secret: str | None) -> None:
        """The secret, and the Basic credential made of it (what an ``Authorization`` header carries)."""
        if secret:
            self.hide(secret, base64.b64encode(f"{user}:{secret}".encode()).decode())

    def __call__(self, text: object, limit: int | None = None) -> str:
        """``text`` with every known secret masked, credentials masked, at most ``limit`` characters."""
        out = "" if text is None else str(text)
        for value in self._ordered:
            if value in out:
                out = out.replace(value, MASK)
        out = _CREDENTIAL.sub(lambda m: f"{m.group(1)} {MASK}", out)
        out = _SECRET_FIELD.sub(lambda m: m.group(1) + MASK, out)
        cap = self.limit if limit is None else limit
        return out if len(out) <= cap else out[: cap - 1] + "…"
