"""Contract §6, orders: search (filters, sort, page tokens bound to both) and detail by ids.

Orders are placed and moved through ``/admin``; here they are only read, in the contract's shape
(:func:`~connectors.tiktok_sandbox.store_orders.order_answer`).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from connectors.tiktok_sandbox import paging
from connectors.tiktok_sandbox.envelope import BAD_REQUEST, ApiError
from connectors.tiktok_sandbox.pipeline import Ctx, sandbox_of
from connectors.tiktok_sandbox.routes_products import cursor, page_size, time_filters
from connectors.tiktok_sandbox.store_orders import ORDER_STATUSES

IDS_MAX = 50
SORT_FIELDS = ("create_time", "update_time")
SORT_ORDERS = ("ASC", "DESC")
TIME_FILTERS = ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")

router = APIRouter()


def _query(ctx: Ctx) -> dict:
    """The filters and sort a search asks for (what its page tokens are bound to)."""
    sort_field = ctx.query("sort_field") or "create_time"
    sort_order = (ctx.query("sort_order") or "DESC").upper()
    if sort_field not in SORT_FIELDS or sort_order not in SORT_ORDERS:
        raise ApiError(400, BAD_REQUEST, "sort_field must be create_time|update_time, sort_order ASC|DESC")
    body = ctx.json()
    f: dict = time_filters(body, TIME_FILTERS)
    if body.get("order_status") is not None:
        if body["order_status"] not in ORDER_STATUSES:
            raise ApiError(400, BAD_REQUEST, f"order_status must be one of {', '.join(ORDER_STATUSES)}")
        f["order_status"] = body["order_status"]
    return {"filters": f, "sort_field": sort_field, "sort_order": sort_order}


@router.post("/order/202309/orders/search")
async def search(request: Request) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        size = page_size(ctx)
        q = _query(ctx)
        field, desc = q["sort_field"], q["sort_order"] == "DESC"
        found, total, more = sb.store.search_orders(ctx.shop.id, q["filters"], field, desc,
                                                    cursor(q, ctx.query("page_token")), size)
        token = paging.encode(q, found[-1][field], int(found[-1]["id"])) if more and found else ""
        return {"orders": found, "next_page_token": token, "total_count": total}

    return await sb.serve(request, work)


@router.get("/order/202309/orders")
async def by_ids(request: Request) -> Response:
    sb = sandbox_of(request)

    async def work(ctx: Ctx) -> dict:
        ids = [i.strip() for i in (ctx.query("ids") or "").split(",") if i.strip()]
        if not 1 <= len(ids) <= IDS_MAX:
            raise ApiError(400, BAD_REQUEST, f"ids must name 1–{IDS_MAX} orders")
        wanted = [int(i) for i in ids if i.isdigit() and len(i) <= 19]
        return {"orders": sb.store.orders_by_ids(ctx.shop.id, wanted)}

    return await sb.serve(request, work)
