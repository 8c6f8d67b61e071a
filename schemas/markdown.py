"""Text made inert for markdown: what people wrote (catalogue names, values, reasons) shown on a
Prefect run page can't break a table, make a link or an image, or inject HTML.

One helper for every markdown artifact (``sync-plan``, ``sync-rejects``, ``orders-reports``, …).
"""

from __future__ import annotations

import re
from typing import Any

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|~>:-])")


def md(value: Any, limit: int = 80) -> str:
    """``value`` as inert markdown text: one line, escaped, at most ``limit`` characters.

    Besides markdown's own marks, ``:`` is escaped so a bare ``https://…`` is not turned into a
    link by renderers that link URLs on their own."""
    text = " ".join(str(value).split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", text)


def code(value: Any) -> str:
    """A path, SKU or name as inline code (a backtick in it can't end the span)."""
    text = " ".join(str(value).split()).replace("`", "'")
    return f"`{text}`"
