"""The marketplace's product field rules, as row errors worded the way the contract words them.

Pure functions: a raw JSON row in, the normalised values and a list of error strings out.
Uniqueness (SKU, name) needs the shop's state and is checked by the store.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from functools import partial
from typing import Any

from schemas.listing import (
    DESCRIPTION_MAX,
    MIN_ORDER_MAX,
    MIN_ORDER_MIN,
    NAME_MAX,
    PICTURES_MAX,
    PICTURES_MIN,
    PRICE_MAX,
    PRICE_MIN,
    SKU_MAX,
    STOCK_MAX,
    STOCK_MIN,
)

# Fields a create may omit, and what they become.
CREATE_DEFAULTS: dict[str, Any] = {
    "price_currency": "IDR",
    "min_order": 1,
    "weight_unit": "GR",
    "condition": "NEW",
    "description": "",
    "status": "ACTIVE",
}
PRODUCT_FIELDS = (
    "name", "sku", "category_id", "price", "price_currency", "stock", "min_order", "weight",
    "weight_unit", "condition", "description", "pictures", "status",
)
REQUIRED_FIELDS = tuple(f for f in PRODUCT_FIELDS if f not in CREATE_DEFAULTS)
STATUSES = ("ACTIVE", "INACTIVE")


def used(field: str, value: Any) -> str:
    """The contract's duplicate message."""
    return f"Value [{value}] of field [{field}] is already used"


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def int_in_range(field: str, v: Any, lo: int, hi: int) -> str | None:
    """``None`` when ``v`` is an int within ``[lo, hi]``, else the row error."""
    if not is_int(v):
        return f"Value [{v}] of field [{field}] must be an integer"
    if not lo <= v <= hi:
        return f"Value [{v}] of field [{field}] must be between {lo} and {hi}"
    return None


def _text(field: str, v: Any, lo: int, hi: int) -> str | None:
    if not isinstance(v, str):
        return f"Value [{v}] of field [{field}] must be a string"
    if not lo <= len(v) <= hi:
        return f"Value of field [{field}] must be {lo} to {hi} characters long (got {len(v)})"
    if lo > 0 and not v.strip():
        return f"Value of field [{field}] must not be blank"
    return None


def _one_of(field: str, v: Any, allowed: tuple[str, ...]) -> str | None:
    if v not in allowed:
        return f"Value [{v}] of field [{field}] must be one of {', '.join(allowed)}"
    return None


def _weight(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return f"Value [{v}] of field [weight] must be a number"
    if v <= 0:
        return f"Value [{v}] of field [weight] must be greater than 0"
    return None


def _pictures(v: Any) -> str | None:
    if not isinstance(v, list) or not PICTURES_MIN <= len(v) <= PICTURES_MAX:
        n = len(v) if isinstance(v, list) else "not a list"
        return f"Field [pictures] must hold {PICTURES_MIN} to {PICTURES_MAX} items (got {n})"
    for p in v:
        path = p.get("file_path") if isinstance(p, Mapping) else None
        if not isinstance(path, str) or not path.startswith("https://") or len(path) <= len("https://"):
            return f"Value [{path if path is not None else p}] of field [pictures.file_path] must be an https:// URL"
    return None


def _category(v: Any, leaves: Collection[int], known: Collection[int]) -> str | None:
    if not is_int(v):
        return f"Value [{v}] of field [category_id] must be an integer"
    if v not in known:
        return f"Value [{v}] of field [category_id] is not a known category"
    if v not in leaves:
        return f"Value [{v}] of field [category_id] is not a leaf category"
    return None


# The check of each product field's value; ``category_id`` also needs the category tree.
_VALUE_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "name": partial(_text, "name", lo=1, hi=NAME_MAX),
    "sku": partial(_text, "sku", lo=1, hi=SKU_MAX),
    "price": partial(int_in_range, "price", lo=PRICE_MIN, hi=PRICE_MAX),
    "price_currency": partial(_one_of, "price_currency", allowed=("IDR",)),
    "stock": partial(int_in_range, "stock", lo=STOCK_MIN, hi=STOCK_MAX),
    "min_order": partial(int_in_range, "min_order", lo=MIN_ORDER_MIN, hi=MIN_ORDER_MAX),
    "weight": _weight,
    "weight_unit": partial(_one_of, "weight_unit", allowed=("GR",)),
    "condition": partial(_one_of, "condition", allowed=("NEW", "USED")),
    "description": partial(_text, "description", lo=0, hi=DESCRIPTION_MAX),
    "pictures": _pictures,
    "status": partial(_one_of, "status", allowed=STATUSES),
}


def field_error(field: str, v: Any, leaves: Collection[int], known: Collection[int]) -> str | None:
    """The row error for one product field value, or ``None`` when it obeys the rules."""
    if field == "category_id":
        return _category(v, leaves, known)
    check = _VALUE_CHECKS.get(field)
    # Unknown fields are ignored, as a marketplace ignores what it does not know.
    return check(v) if check is not None else None


def check_product(
    row: Any, *, partial: bool, leaves: Collection[int], known: Collection[int]
) -> tuple[dict[str, Any], list[str]]:
    """Validate one create row (``partial=False``, defaults filled) or edit row (only given fields).

    Returns the normalised values (only valid product fields) and the row's errors.
    """
    if not isinstance(row, Mapping):
        return {}, ["Each product must be a JSON object"]
    values: dict[str, Any] = {} if partial else dict(CREATE_DEFAULTS)
    errors: list[str] = []
    if not partial:
        errors += [f"Field [{f}] is required" for f in REQUIRED_FIELDS if row.get(f) is None]
    for field in PRODUCT_FIELDS:
        if field not in row or (row[field] is None and not partial):
            continue
        err = field_error(field, row[field], leaves, known)
        if err:
            errors.append(err)
        else:
            values[field] = row[field]
    if "weight" in values:
        values["weight"] = float(values["weight"])
    return values, errors
