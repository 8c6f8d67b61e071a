"""Opaque page tokens: keyset cursors bound to the query (filters and sort) they came from.

A token is URL-safe base64 of ``{"q": digest of the query, "k": [sort value, id]}``: the next
page starts after that row, so rows written meanwhile are seen (read-after-write) and a token
from another query is refused (400 ``36009004``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from sqlalchemy import Column, and_, or_


class PageTokenError(ValueError):
    """The page token is not one this query handed out."""


def query_digest(query: Any) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode(query: Any, value: int, row_id: int) -> str:
    raw = json.dumps({"q": query_digest(query), "k": [value, str(row_id)]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode(query: Any, token: str | None) -> tuple[int, int] | None:
    """The ``(sort value, id)`` to continue after; ``None`` for the first page."""
    if not token:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        value, row_id = int(raw["k"][0]), int(raw["k"][1])
        digest = raw["q"]
    except (ValueError, KeyError, IndexError, TypeError, binascii.Error):
        raise PageTokenError("page_token is malformed") from None
    if digest != query_digest(query):
        raise PageTokenError("page_token belongs to other filters or another sort") from None
    return value, row_id


def after(sort_col: Column, id_col: Column, cursor: tuple[int, int], descending: bool = False) -> Any:
    """Rows strictly after ``cursor`` in ``(sort_col, id_col)`` order."""
    value, row_id = cursor
    if descending:
        return or_(sort_col < value, and_(sort_col == value, id_col < row_id))
    return or_(sort_col > value, and_(sort_col == value, id_col > row_id))
