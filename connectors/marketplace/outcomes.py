"""A row's fate from one bulk answer: pure functions, no HTTP.

The marketplace answers a bulk call with per-row results that name rows by SKU, by id, by name
or (for activate/deactivate) by a bare string; it may leave rows out or only count them. These
functions match every entry to the row it names and settle the rest by the contract's rules.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Literal

from connectors.marketplace import settings as S
from connectors.marketplace.answers import ActiveRowsResult, InventoryRowsResult, ProductInfo, ProductRowsResult

_USED_SKU = re.compile(r"field \[sku\][^\[]*already used|^\W*sku\b.*already used", re.I)

# A row's fate after one answer: applied, failed for good, refused by the rate limit (send
# again), unknown (settled by sending it alone, or for a create by looking its SKU up), SKU
# already used (look it up), not created after all (send again), accepted to be processed later
# (an edit answered with only ``upload_id``: confirmed by reading the product back).
State = Literal["ok", "fail", "throttle", "unknown", "used", "resend", "pending"]


@dataclass
class _Outcome:
    state: State
    product_id: int | None = None
    reason: str | None = None


@dataclass(eq=False)
class _Row:
    key: str
    payload: dict[str, Any]
    sku: str | None = None
    product_id: int | None = None
    name: str | None = None
    attempts: int = 0
    solo: bool = False


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _fail_or_throttle(reason: str, product_id: int | None = None) -> _Outcome:
    if S.ERR_TOO_MANY_REQUEST in reason.upper():
        return _Outcome("throttle", product_id, reason)
    return _Outcome("fail", product_id, reason)


def _find(chunk: list[_Row], out: list[_Outcome | None], *, sku: str | None = None,
          product_id: int | None = None, name: str | None = None) -> int | None:
    """The first still-unsettled row the marketplace's entry names (SKU, else id, else name)."""
    for test in (
        (lambda r: sku is not None and r.sku == sku),
        (lambda r: product_id is not None and r.product_id == product_id),
        (lambda r: name is not None and r.name is not None and _norm(r.name) == _norm(name)),
    ):
        for i, row in enumerate(chunk):
            if out[i] is None and test(row):
                return i
    return None


def _settle_rest(out: list[_Outcome | None], unmatched: list[str], extra: int, *, implicit: bool) -> list[_Outcome]:
    """Rows no entry named. With ``implicit`` success they were applied unless failures are
    left over; failures that are all ``ERR_TOO_MANY_REQUEST`` are the last rows (the contract:
    items past the limit); anything else is unknown and settled by sending rows one by one."""
    open_idx = [i for i, o in enumerate(out) if o is None]
    left = len(unmatched) + extra
    if not open_idx:
        return out  # type: ignore[return-value]
    all_throttled = bool(unmatched) and extra == 0 and all(S.ERR_TOO_MANY_REQUEST in u.upper() for u in unmatched)
    if implicit and left == 0:
        for i in open_idx:
            out[i] = _Outcome("ok")
    elif all_throttled:
        cut = max(0, len(open_idx) - left) if implicit else 0
        for i in open_idx[:cut]:
            out[i] = _Outcome("ok")
        for i in open_idx[cut:]:
            out[i] = _Outcome("throttle", reason=S.ERR_TOO_MANY_REQUEST)
    else:
        reason = "; ".join(unmatched) or "the marketplace gave no result for this row"
        for i in open_idx:
            out[i] = _Outcome("unknown", reason=reason)
    return out  # type: ignore[return-value]


def _resolve_inventory(chunk: list[_Row], data: InventoryRowsResult) -> list[_Outcome]:
    out: list[_Outcome | None] = [None] * len(chunk)
    unmatched = []
    entries = data.failed_rows_data or []
    for e in entries:
        i = _find(chunk, out, sku=e.sku, product_id=e.product_id)
        if i is None:
            unmatched.append(e.reason)
        else:
            out[i] = _fail_or_throttle(e.reason)
    extra = max(0, (data.failed_rows or 0) - len(entries))
    return _settle_rest(out, unmatched, extra, implicit=True)


def _resolve_active(chunk: list[_Row], data: ActiveRowsResult) -> list[_Outcome]:
    out: list[_Outcome | None] = [None] * len(chunk)
    unmatched = []
    entries = [str(e) for e in (data.failed_rows_data or [])]
    for text in entries:
        # The first number that is one of the call's ids names the row ("22: not found in shop 7").
        i = None
        for number in re.findall(r"\d+", text):
            if (i := _find(chunk, out, product_id=int(number))) is not None:
                break
        if i is None:
            unmatched.append(text)
        else:
            out[i] = _fail_or_throttle(text)
    extra = max(0, (data.failed_rows or 0) - len(entries))
    return _settle_rest(out, unmatched, extra, implicit=True)


def _resolve_products(chunk: list[_Row], data: ProductRowsResult, *, create: bool) -> list[_Outcome]:
    upload = data.pending_upload
    if upload is not None and not create:
        return [_Outcome("pending", reason=f"accepted as upload {upload}, processed later") for _ in chunk]
    out: list[_Outcome | None] = [None] * len(chunk)
    for s in data.success_rows_data or []:
        i = _find(chunk, out, sku=s.sku if create else None, product_id=s.product_id)
        if i is not None:
            out[i] = _Outcome("ok", s.product_id)
    unmatched = []
    for e in data.failed_rows_data or []:
        reason = "; ".join(e.errors) or "failed"
        i = _find(chunk, out, sku=e.sku, product_id=e.product_id, name=e.product_name)
        if i is None:
            unmatched.append(reason)
        elif create and any(_USED_SKU.search(x) for x in e.errors):
            out[i] = _Outcome("used", reason=reason)
        else:
            out[i] = _fail_or_throttle(reason)
    if data.success_rows_data is None and not create:
        extra = max(0, (data.fail_data or 0) - len(data.failed_rows_data or []))
        return _settle_rest(out, unmatched, extra, implicit=True)
    return _settle_rest(out, unmatched, 0, implicit=False)


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "…"


def _same(field: str, sent: Any, read: Any) -> bool:
    if read is None:
        return False
    if field == "weight":
        return math.isclose(float(read), float(sent), abs_tol=0.5)
    if isinstance(sent, str):
        return " ".join(str(read).split()) == " ".join(sent.split())
    try:
        return float(read) == float(sent)
    except (TypeError, ValueError):
        return False


def edit_differences(payload: dict[str, Any], info: ProductInfo) -> list[str]:
    """How a product read back differs from the edit sent (``[]``: every edited field shows the
    edit). Pictures are compared by count: the real marketplace hosts them under its own URLs."""
    read: dict[str, Any] = {
        "name": info.name, "sku": info.sku, "category_id": info.basic.categoryID, "price": info.price.value,
        "stock": info.stock.value, "min_order": info.min_order, "weight": info.weight.grams,
        "condition": info.condition_name, "description": info.description, "status": info.status_name,
        "pictures": len(info.pictures or []),
    }
    diffs = []
    for field, sent in payload.items():
        if field in ("id", "weight_unit"):
            continue
        want = len(sent) if field == "pictures" else sent
        if not _same(field, want, read.get(field)):
            diffs.append(f"{field} {_shown(read.get(field))}, not {_shown(want)}")
    return diffs
