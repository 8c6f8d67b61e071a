"""Contract §5, products: create, search and detail (the writes are in
:mod:`~connectors.tiktok_sandbox.routes_product_writes`).

A create checks its fields in the contract's order and answers the first broken rule (400
``12052001`` naming it); a ``seller_sku`` already in the shop is ``12052002``; an
``idempotency_key`` seen in the shop within 24 h answers the first result and creates nothing.
Search pages by ``create_time`` then id with opaque keyset tokens (so it reads its own writes);
the last page's ``next_page_token`` is ``""``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.tiktok_sandbox import paging, rules
from connectors.tiktok_sandbox.envelope import BAD_REQUEST, DUPLICATE_SKU, PRODUCT_RULE, UNKNOWN_PRODUCT, ApiError
from connectors.tiktok_sandbox.pipeline import Ctx, TikTokSandbox, sandbox_of
from connectors.tiktok_sandbox.store_products import DuplicateSku, product_detail, product_summary

PAGE_MAX = 100
SELLER_SKUS_MAX = 100
STATUSES = ("ALL", "ACTIVATE", "SELLER_DEACTIVATED")
TIME_FILTERS = ("create_time_ge", "create_time_le", "update_time_ge", "update_time_le")

router = APIRouter()
T = TypeVar("T")


def checked(fn: Callable[[], T]) -> T:
    """Run a rule check; a :class:`rules.RuleError` becomes 400 ``12052001``."""
    try:
        return fn()
    except rules.RuleError as err:
        raise ApiError(400, PRODUCT_RULE, str(err)) from None


def product_id(raw: str) -> int:
    """A path's product id; 404 ``12052260`` when it cannot be one."""
    if not raw.isdigit() or len(raw) > 19:
        raise ApiError(404, UNKNOWN_PRODUCT, f"product {raw} not found")
    return int(raw)


def the_product(sb: TikTokSandbox, ctx: Ctx, raw: str) -> Any:
    row = sb.store.product(ctx.shop.id, product_id(raw))
    if row is None:
        raise ApiError(404, UNKNOWN_PRODUCT, f"product {raw} not found in this shop")
    return row


def page_size(ctx: Ctx, limit: int = PAGE_MAX) -> int:
    raw = ctx.query("page_size") or ""
    if not raw.isdigit() or not 1 <= int(raw) <= limit:
        raise ApiError(400, BAD_REQUEST, f"page_size must be 1–{limit}")
    return int(raw)


def cursor(query: Any, token: str | None) -> tuple[int, int] | None:
    try:
        return paging.decode(query, token)
    except paging.PageTokenError as err:
        raise ApiError(400, BAD_REQUEST, str(err)) from None


def time_filters(body: dict, names: tuple[str, ...]) -> dict[str, int]:
    out = {}
    for name in names:
        v = body.get(name)
        if v is not None:
            if isinstance(v, bool) or not isinstance(v, int):
                raise ApiError(400, BAD_REQUEST, f"{name} must be unix seconds")
            out[name] = v
    return out


def _search_filters(body: dict) -> dict[str, Any]:
    f: dict[str, Any] = time_filters(body, TIME_FILTERS)
    status = body.get("status")
    if status is not None:
        if status not in STATUSES:
            raise ApiError(400, BAD_REQUEST, f"status must be one of {', '.join(STATUSES)}")
        f["status"] = status
    skus = body.get("seller_skus")
    if skus is not None:
        if not isinstance(skus, list) or len(skus) > SELLER_SKUS_MAX or not all(isinstance(s, str) for s in skus):
            raise ApiError(400, BAD_REQUEST, f"seller_skus must be a list of at most {SELLER_SKUS_MAX} strings")
        f["seller_skus"] = sorted(set(skus))
    return f


@router.post("/product/202309/products")
async def create(request: Request) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        body = ctx.json()
        key = checked(lambda: rules.idempotency_key(body.get("idempotency_key")))
        if (first := sb.store.idempotent_result(ctx.shop.id, key, ctx.now)) is not None:
            return first
        warehouses = [w.id for w in ctx.shop.warehouses]
        doc = checked(lambda: rules.new_product(body, lambda uri: sb.store.owns_image(ctx.shop.id, uri), warehouses))
        try:
            result, replayed = sb.store.create_product(ctx.shop.id, doc, key, ctx.now)
        except DuplicateSku as err:
            raise ApiError(400, DUPLICATE_SKU, f"skus[0].seller_sku: {err}") from None
        if not replayed:
            sb.stats.created(ctx.shop.id, doc["seller_sku"])
        return result

    return await sb.serve(request, work)


@router.post("/product/202309/products/search")
async def search(request: Request) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        size = page_size(ctx)
        f = _search_filters(ctx.json())
        rows, total, more = sb.store.search_products(ctx.shop.id, f, cursor(f, ctx.query("page_token")), size)
        token = paging.encode(f, rows[-1]["create_time"], rows[-1]["id"]) if more and rows else ""
        return {"products": [product_summary(r) for r in rows], "next_page_token": token, "total_count": total}

    return await sb.serve(request, work)


@router.get("/product/202309/products/{product_id}")
async def detail(request: Request, product_id: str) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        row = the_product(sb, ctx, product_id)
        return product_detail(row, sb.store.image_rows(row["doc"]["main_images"]))

    return await sb.serve(request, work)
