"""The project's listings and edits in the contract's words (../shared/tiktok-shop-api.md, section 5).

Pure functions: a description becomes HTML, grams become kilograms, a listing becomes one create
body with an ``idempotency_key`` that is the same whenever the same listing is created again on
the same shop.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from connectors.tiktok import settings as S
from schemas.listing import Listing

log = logging.getLogger("lapak.tiktok")

T = TypeVar("T")

_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")
_KG_STEP = Decimal("0.001")

# Project field names without a counterpart on this channel: an edit of only these applies as is.
IGNORED_FIELDS = frozenset({"min_order", "condition"})


def description_html(text: str) -> str:
    """Plain text as HTML: escaped, blank lines part paragraphs, single line breaks become ``<br>``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").strip()
    paragraphs = [p.strip() for p in _PARAGRAPH_BREAK.split(text) if p.strip()]
    return "".join("<p>" + "<br>".join(html.escape(line.strip()) for line in p.split("\n")) + "</p>"
                   for p in paragraphs)


def package_weight(weight_g: float) -> dict[str, str]:
    """Grams as the contract's kilograms: at most three decimals, never zero (at least 0.001)."""
    kg = (Decimal(str(weight_g)) / 1000).quantize(_KG_STEP, rounding=ROUND_HALF_UP)
    kg = max(kg, _KG_STEP)
    return {"value": format(kg.normalize(), "f"), "unit": "KILOGRAM"}


def price(amount: int) -> dict[str, str]:
    return {"amount": str(int(amount)), "currency": S.CURRENCY}


def quantity(stock: int, sku: str) -> int:
    """Stock within 0–99,999 (a larger figure is sent as the maximum, with a warning)."""
    if stock > S.STOCK_MAX:
        log.warning("%s: stock %d sent as %d, the channel's maximum", sku, stock, S.STOCK_MAX)
    return max(0, min(int(stock), S.STOCK_MAX))


def inventory(warehouse_id: str, stock: int, sku: str) -> list[dict[str, Any]]:
    return [{"warehouse_id": warehouse_id, "quantity": quantity(stock, sku)}]


def create_body(listing: Listing, stock: int, warehouse_id: str, shop: str) -> dict[str, Any]:
    """``POST /product/202309/products``: one product, one SKU, with its idempotency key."""
    body: dict[str, Any] = {
        "title": listing.name,
        "description": description_html(listing.description or listing.name),
        "category_id": str(listing.category_id),
        "main_images": [{"uri": u} for u in listing.pictures],
        "package_weight": package_weight(listing.weight_g),
        "skus": [{"seller_sku": listing.sku, "price": price(listing.price),
                  "inventory": inventory(warehouse_id, stock, listing.sku)}],
    }
    body["idempotency_key"] = idempotency_key(shop, listing.sku, body)
    return body


def idempotency_key(shop: str, sku: str, body: Mapping[str, Any]) -> str:
    """SHA-256 hex (64 characters) of the shop, the SKU and the body: the same create, the same key."""
    canonical = json.dumps([shop, sku, body], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def edit_body(fields: Mapping[str, Any]) -> dict[str, Any]:
    """Project fields of an edit → ``partial_edit`` fields; those without a counterpart are left out."""
    body: dict[str, Any] = {}
    for name, value in fields.items():
        if name == "name":
            body["title"] = value
        elif name == "description":
            body["description"] = description_html(value or fields.get("name") or "")
        elif name == "category_id":
            body["category_id"] = str(int(value))
        elif name == "pictures":
            body["main_images"] = [{"uri": u} for u in value]
        elif name == "weight_g":
            body["package_weight"] = package_weight(value)
        elif name not in IGNORED_FIELDS:
            log.warning("edit field %r has no counterpart on TikTok; left out", name)
    return body


_BREAK = re.compile(r"<br\s*/?>", re.I)
_PARAGRAPH_END = re.compile(r"</p>\s*", re.I)
_TAG = re.compile(r"<[^>]+>")


def description_text(markup: str) -> str:
    """A description's HTML as plain text again (the inverse of :func:`description_html`)."""
    text = _PARAGRAPH_END.sub("\n\n", _BREAK.sub("\n", markup))
    return html.unescape(_TAG.sub("", text)).strip()


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``size`` (``itertools.batched`` arrives with Python 3.12)."""
    for start in range(0, len(items), size):
        yield list(items[start:start + size])
