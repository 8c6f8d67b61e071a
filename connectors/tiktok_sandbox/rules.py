"""The product rules of contract §5, as pure checks: each returns the normalised value or raises
:class:`RuleError` naming the field (answered 400 ``12052001``, nothing applied).

Image ownership and warehouse ids depend on the shop: the callers pass what the shop has.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.tiktok_sandbox.categories import BY_ID, LEAVES

TITLE_MIN, TITLE_MAX = 25, 255
DESCRIPTION_MAX = 10_000
IMAGES_MIN, IMAGES_MAX = 1, 9
WEIGHT_MAX = Decimal(100)
WEIGHT_DECIMALS = 3
SKU_MAX = 50
PRICE_MIN, PRICE_MAX = 100, 100_000_000
STOCK_MAX = 99_999
IDEMPOTENCY_KEY_MAX = 128
CURRENCY = "IDR"
WEIGHT_UNIT = "KILOGRAM"
EDITABLE = ("title", "description", "category_id", "main_images", "package_weight")
SKU_FIELDS = ("skus", "seller_sku", "price", "inventory", "sku_id")


class RuleError(ValueError):
    """A product rule broken; ``field`` is named in the answer's ``message``."""

    def __init__(self, field: str, why: str) -> None:
        super().__init__(f"{field}: {why}")
        self.field = field


def _text(field: str, v: Any, lo: int, hi: int) -> str:
    if not isinstance(v, str):
        raise RuleError(field, "must be a string")
    if not lo <= len(v) <= hi:
        raise RuleError(field, f"must be {lo}–{hi:,} characters, got {len(v):,}")
    return v


def title(v: Any) -> str:
    return _text("title", v, TITLE_MIN, TITLE_MAX)


def description(v: Any) -> str:
    return _text("description", v, 1, DESCRIPTION_MAX)


def category_id(v: Any) -> str:
    cid = str(v) if isinstance(v, int | str) and not isinstance(v, bool) else None
    if cid is None or cid not in BY_ID:
        raise RuleError("category_id", f"unknown category {v!r}")
    if cid not in LEAVES:
        raise RuleError("category_id", f"category {cid} is not a leaf")
    return cid


def main_images(v: Any, own: Callable[[str], bool]) -> list[str]:
    """``own(uri)`` says whether the shop uploaded ``uri``."""
    if not isinstance(v, list) or not IMAGES_MIN <= len(v) <= IMAGES_MAX:
        raise RuleError("main_images", f"must be a list of {IMAGES_MIN}–{IMAGES_MAX} {{uri}}")
    uris = []
    for i, img in enumerate(v):
        uri = img.get("uri") if isinstance(img, dict) else None
        if not isinstance(uri, str) or not uri:
            raise RuleError(f"main_images[{i}].uri", "is required")
        if not own(uri):
            raise RuleError(f"main_images[{i}].uri", f"{uri!r} was not uploaded by this shop")
        uris.append(uri)
    return uris


def _decimal(field: str, v: Any) -> Decimal:
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise RuleError(field, "must be a decimal string")
    try:
        d = Decimal(str(v).strip())
    except InvalidOperation:
        raise RuleError(field, f"{v!r} is not a number") from None
    if not d.is_finite():
        raise RuleError(field, f"{v!r} is not a number")
    return d


def package_weight(v: Any) -> dict[str, str]:
    if not isinstance(v, dict):
        raise RuleError("package_weight", 'must be {"value", "unit"}')
    if v.get("unit") != WEIGHT_UNIT:
        raise RuleError("package_weight.unit", f"must be {WEIGHT_UNIT}")
    d = _decimal("package_weight.value", v.get("value"))
    if not Decimal(0) < d <= WEIGHT_MAX:
        raise RuleError("package_weight.value", f"must be > 0 and ≤ {WEIGHT_MAX} kg, got {d}")
    if -d.normalize().as_tuple().exponent > WEIGHT_DECIMALS:
        raise RuleError("package_weight.value", f"at most {WEIGHT_DECIMALS} decimals, got {v.get('value')}")
    return {"value": format(d.normalize(), "f"), "unit": WEIGHT_UNIT}


def seller_sku(v: Any, field: str = "skus[0].seller_sku") -> str:
    s = _text(field, v, 1, SKU_MAX)
    if any(ch.isspace() for ch in s):
        raise RuleError(field, "must not contain whitespace")
    return s


def price(v: Any, field: str = "skus[0].price") -> str:
    if not isinstance(v, dict):
        raise RuleError(field, 'must be {"amount", "currency"}')
    if v.get("currency") != CURRENCY:
        raise RuleError(f"{field}.currency", f"must be {CURRENCY}")
    d = _decimal(f"{field}.amount", v.get("amount"))
    if d != d.to_integral_value():
        raise RuleError(f"{field}.amount", f"must be whole rupiah, got {v.get('amount')}")
    if not PRICE_MIN <= d <= PRICE_MAX:
        raise RuleError(f"{field}.amount", f"must be {PRICE_MIN}–{PRICE_MAX:,}, got {d}")
    return str(int(d))


def inventory(v: Any, warehouses: Collection[str], field: str = "skus[0].inventory") -> dict[str, int]:
    """``{warehouse_id: quantity}``; each warehouse one of the shop's, once."""
    if not isinstance(v, list) or not v:
        raise RuleError(field, "must be a non-empty list of {warehouse_id, quantity}")
    out: dict[str, int] = {}
    for i, row in enumerate(v):
        wid = str(row.get("warehouse_id")) if isinstance(row, dict) else None
        if wid not in warehouses:
            raise RuleError(f"{field}[{i}].warehouse_id", f"{wid!r} is not a warehouse of this shop")
        if wid in out:
            raise RuleError(f"{field}[{i}].warehouse_id", f"{wid} is listed twice")
        q = row.get("quantity")
        if isinstance(q, bool) or not isinstance(q, int) or not 0 <= q <= STOCK_MAX:
            raise RuleError(f"{field}[{i}].quantity", f"must be a whole number 0–{STOCK_MAX:,}, got {q!r}")
        out[wid] = q
    return out


def idempotency_key(v: Any) -> str | None:
    if v is None:
        return None
    return _text("idempotency_key", v, 1, IDEMPOTENCY_KEY_MAX)


def new_product(body: Mapping[str, Any], own_image: Callable[[str], bool],
                warehouses: Collection[str]) -> dict[str, Any]:
    """A create body checked field by field, in the contract's table order: the product's doc."""
    doc = {"title": title(body.get("title")), "description": description(body.get("description")),
           "category_id": category_id(body.get("category_id")),
           "main_images": main_images(body.get("main_images"), own_image),
           "package_weight": package_weight(body.get("package_weight"))}
    skus = body.get("skus")
    if not isinstance(skus, list) or len(skus) != 1 or not isinstance(skus[0], dict):
        raise RuleError("skus", "must hold exactly one sku")
    sku = skus[0]
    doc["seller_sku"] = seller_sku(sku.get("seller_sku"))
    doc["price"] = price(sku.get("price"))
    doc["inventory"] = inventory(sku.get("inventory"), warehouses)
    idempotency_key(body.get("idempotency_key"))
    return doc


def edit(body: Mapping[str, Any], own_image: Callable[[str], bool]) -> dict[str, Any]:
    """A partial_edit body: the editable fields given, checked; SKU fields refused."""
    for f in SKU_FIELDS:
        if f in body:
            raise RuleError(f, "SKU fields cannot be changed by partial_edit (use prices/update, inventory/update)")
    checks: dict[str, Callable[[Any], Any]] = {
        "title": title, "description": description, "category_id": category_id,
        "main_images": lambda v: main_images(v, own_image), "package_weight": package_weight}
    return {f: checks[f](body[f]) for f in EDITABLE if f in body}
