"""Contract §5, product writes (all ``POST``, absolute; a broken rule → 400, nothing applied):
``partial_edit`` (SKU fields refused), ``inventory/update``, ``prices/update`` (``12052004``
unless ``ACTIVATE``), ``activate`` / ``deactivate`` (1–20 ids; ids the shop does not have come
back in ``data.errors``, the rest apply). Nothing is ever deleted.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.tiktok_sandbox import rules
from connectors.tiktok_sandbox.envelope import BAD_REQUEST, NOT_ACTIVE, UNKNOWN_PRODUCT, ApiError
from connectors.tiktok_sandbox.pipeline import Ctx, sandbox_of
from connectors.tiktok_sandbox.routes_products import checked, the_product
from connectors.tiktok_sandbox.store_products import ACTIVATE, DEACTIVATED

STATUS_IDS_MAX = 20

router = APIRouter()


def _one_sku(body: dict, row: Any) -> dict:
    """The body's single ``skus`` entry, naming this product's SKU."""
    skus = body.get("skus")
    if not isinstance(skus, list) or len(skus) != 1 or not isinstance(skus[0], dict):
        raise rules.RuleError("skus", "must hold exactly one sku (the product's)")
    if str(skus[0].get("id")) != str(row["sku_id"]):
        raise rules.RuleError("skus[0].id", f"{skus[0].get('id')!r} is not this product's sku ({row['sku_id']})")
    return skus[0]


@router.post("/product/202309/products/{product_id}/partial_edit")
async def partial_edit(request: Request, product_id: str) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        body = ctx.json()
        row = the_product(sb, ctx, product_id)
        changes = checked(lambda: rules.edit(body, lambda uri: sb.store.owns_image(ctx.shop.id, uri)))
        sb.store.edit_product(ctx.shop.id, row["id"], changes, ctx.now)
        return {"product_id": str(row["id"]), "skus": [{"id": str(row["sku_id"]), "seller_sku": row["seller_sku"]}],
                "warnings": []}

    return await sb.serve(request, work)


@router.post("/product/202309/products/{product_id}/inventory/update")
async def inventory_update(request: Request, product_id: str) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> None:
        body = ctx.json()
        row = the_product(sb, ctx, product_id)
        warehouses = [w.id for w in ctx.shop.warehouses]
        inv = checked(lambda: rules.inventory(_one_sku(body, row).get("inventory"), warehouses, "skus[0].inventory"))
        sb.store.set_inventory(ctx.shop.id, row["id"], inv, ctx.now)

    return await sb.serve(request, work)


@router.post("/product/202309/products/{product_id}/prices/update")
async def prices_update(request: Request, product_id: str) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> None:
        body = ctx.json()
        row = the_product(sb, ctx, product_id)
        if row["status"] != ACTIVATE:
            raise ApiError(400, NOT_ACTIVE, f"product {row['id']} is {row['status']}: activate it first")
        amount = checked(lambda: rules.price(_one_sku(body, row).get("price"), "skus[0].price"))
        sb.store.set_price(ctx.shop.id, row["id"], amount, ctx.now)

    return await sb.serve(request, work)


def _status_ids(body: dict) -> list[str]:
    ids = body.get("product_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= STATUS_IDS_MAX:
        raise ApiError(400, BAD_REQUEST, f"product_ids must be a list of 1–{STATUS_IDS_MAX} ids")
    return [str(i) for i in ids]


async def _set_status(request: Request, status: str) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        ids = _status_ids(ctx.json())
        known = [int(i) for i in ids if i.isdigit() and len(i) <= 19]
        missing = set(map(str, sb.store.set_status(ctx.shop.id, known, status, ctx.now)))
        missing |= {i for i in ids if not (i.isdigit() and len(i) <= 19)}
        return {"errors": [{"code": UNKNOWN_PRODUCT, "message": f"product {i} not found in this shop",
                            "detail": {"product_id": i}} for i in ids if i in missing]}

    return await sb.serve(request, work)


@router.post("/product/202309/products/activate")
async def activate(request: Request) -> Response:
    return await _set_status(request, ACTIVATE)


@router.post("/product/202309/products/deactivate")
async def deactivate(request: Request) -> Response:
    return await _set_status(request, DEACTIVATED)
