"""What a photo cell holds: its references, one by one, and which of them are Google Drive share links."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

DRIVE_ID = re.compile(r"[A-Za-z0-9_-]{10,200}")
"""A Drive file id as share links carry it (33 characters today; older ones 28 or 44)."""
_DRIVE_HOSTS = {"drive.google.com", "docs.google.com", "drive.usercontent.google.com"}
# /file/d/<id>, /file/u/0/d/<id>, /u/0/file/d/<id>, /a/<domain>/file/d/<id>, each with or without /view…
_FILE_PATH = re.compile(r"^(?:/u/\d+)?(?:/a/[^/]+)?/file(?:/u/\d+)?/d/([A-Za-z0-9_-]+)(?:/|$)")
_ID_PATH = re.compile(r"^(?:/u/\d+)?/(?:open|uc|download)/?$")  # ?id=<id>
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_drive_link(text: str) -> str | None:
    """The Drive file id of a share link (``…/file/d/<id>/view…``, ``open?id=<id>``,
    ``uc?id=<id>&export=…``; http or https, or no scheme), else None. A folder link is not a file: None."""
    s = text.strip()
    if not _SCHEME.match(s):
        if not s.casefold().startswith(tuple(f"{h}/" for h in _DRIVE_HOSTS)):
            return None
        s = "https://" + s
    try:
        parts = urlsplit(s)
        host = (parts.hostname or "").casefold()
    except ValueError:
        return None
    if parts.scheme.casefold() not in ("http", "https") or host not in _DRIVE_HOSTS:
        return None
    if m := _FILE_PATH.match(parts.path):
        found = m.group(1)
    elif _ID_PATH.match(parts.path):
        found = next(iter(parse_qs(parts.query).get("id", [])), "")
    else:
        return None
    return found if DRIVE_ID.fullmatch(found) else None

