"""The contract's endpoints (../shared/marketplace-api.md), one router per section of it.

Every handler hands its work to :meth:`Sandbox.serve <connectors.sandbox.pipeline.Sandbox.serve>`
of the app's sandbox (:func:`~connectors.sandbox.pipeline.sandbox_of`): faults, authentication
and counters are done there, the endpoint's checks and the change itself in ``work``.

=====================  ===============================================================
router                 paths
=====================  ===============================================================
``auth_router``        POST /token
``categories_router``  GET /v1/categories
``products_router``    POST /v3/products/fs/{fs_id}/create, PATCH …/edit,
                       POST /inventory/v1/fs/{fs_id}/price/update and …/stock/update,
                       POST /v1/products/fs/{fs_id}/active and …/inactive,
                       GET /inventory/v1/fs/{fs_id}/product/info
``orders_router``      GET /v2/order/list, GET /v2/fs/{fs_id}/order
``pictures_router``    POST /v1/pictures/fs/{fs_id}/upload (in :mod:`~connectors.sandbox.pictures`)
=====================  ===============================================================

``CONTRACT_ROUTERS`` lists them in the order the app includes them.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from connectors.sandbox.envelope import ApiError, envelope
from connectors.sandbox.pictures import pictures_router
from connectors.sandbox.pipeline import ERR_TOO_MANY_REQUEST, Call, sandbox_of
from connectors.sandbox.settings import TOKEN_TTL_SECONDS

ORDER_WINDOW_MAX = 259_200  # to_date - from_date must be less than this
CREATE_MAX = EDIT_MAX = STATUS_MAX = 25
PRICE_STOCK_MAX = 100
PRODUCTS_PER_PAGE_MAX = 50
ORDERS_PER_PAGE_MAX = 100

auth_router = APIRouter()
categories_router = APIRouter()
products_router = APIRouter()
orders_router = APIRouter()


# --- request bodies and refused rows -------------------------------------------------------------


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "INVALID_REQUEST", "Request body is not valid JSON") from None


def _batch(body: Any, key: str | None, limit: int) -> list[Any]:
    rows = body.get(key) if key and isinstance(body, dict) else body
    where = f"field [{key}]" if key else "the request body"
    if not isinstance(rows, list):
        raise ApiError(400, "INVALID_REQUEST", f"{where} must be a list")
    if not rows:
        raise ApiError(400, "INVALID_REQUEST", f"{where} must not be empty")
    if len(rows) > limit:
        raise ApiError(400, "LIMIT_EXCEEDED", f"{where} holds {len(rows)} items; at most {limit} per call")
    return rows


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else None


def _limited_products(rows: Sequence[Any], with_id: bool) -> list[dict]:
    return [{**({"product_id": _get(r, "id")} if with_id else {}), "product_name": _get(r, "name"),
             "sku": _get(r, "sku"), "error": [ERR_TOO_MANY_REQUEST], "message": ERR_TOO_MANY_REQUEST}
            for r in rows]


# --- 1. authentication ---------------------------------------------------------------------------


@auth_router.post("/token")
async def token(request: Request, grant_type: str | None = None) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> JSONResponse:
        if grant_type != "client_credentials":
            raise ApiError(400, "INVALID_GRANT_TYPE", "grant_type must be client_credentials")
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        try:
            cid, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            cid = secret = ""
        # Both compared in constant time, and both always compared.
        id_ok = secrets.compare_digest(cid.encode(), sb.settings.client_id.encode())
        secret_ok = secrets.compare_digest(secret.encode(), sb.settings.client_secret.get_secret_value().encode())
        good = scheme.lower() == "basic" and id_ok and secret_ok
        if not good:
            raise ApiError(401, "AUTH_INVALID_CLIENT", "Invalid client credentials")
        sb.admit(call, 1)
        body = {"access_token": sb.store.issue_token(cid, TOKEN_TTL_SECONDS),
                "expires_in": TOKEN_TTL_SECONDS, "token_type": "Bearer"}
        # The flat OAuth fields are the contract; the envelope is there for lenient readers.
        return envelope(body, call.started, extra=body)

    return await sb.serve(request, work, auth=False)


# --- categories ----------------------------------------------------------------------------------


@categories_router.get("/v1/categories")
async def categories(request: Request) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> Any:
        sb.admit(call, 1)
        return sb.categories

    return await sb.serve(request, work)


# --- 3. products ---------------------------------------------------------------------------------


@products_router.post("/v3/products/fs/{fs_id}/create")
async def create(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> Any:
        sb.check_shop(fs_id, shop_id)
        rows = _batch(await _json(request), "products", CREATE_MAX)
        k = sb.admit(call, len(rows))
        ok, failed = sb.store.create_products(shop_id, rows[:k], leaves=sb.leaves, known=sb.known)
        failed += _limited_products(rows[k:], with_id=False)
        return {"total_data": len(rows), "success_data": len(ok), "fail_data": len(failed),
                "success_rows_data": ok, "failed_rows_data": failed}

    return await sb.serve(request, work)


@products_router.patch("/v3/products/fs/{fs_id}/edit")
async def edit(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> Any:
        sb.check_shop(fs_id, shop_id)
        rows = _batch(await _json(request), "products", EDIT_MAX)
        k = sb.admit(call, len(rows))
        ok, failed = sb.store.edit_products(shop_id, rows[:k], leaves=sb.leaves, known=sb.known)
        failed += _limited_products(rows[k:], with_id=True)
        return {"total_data": len(rows), "success_data": len(ok), "fail_data": len(failed),
                "success_rows_data": ok, "failed_rows_data": failed}

    return await sb.serve(request, work)


def _absolute(field: str):
    """The handler of an absolute ``price`` or ``stock`` update."""
    key = f"new_{field}"

    async def route(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
        sb = sandbox_of(request)

        async def work(call: Call) -> Any:
            sb.check_shop(fs_id, shop_id)
            rows = _batch(await _json(request), None, PRICE_STOCK_MAX)
            k = sb.admit(call, len(rows))
            succeeded, failed = sb.store.update_field(shop_id, rows[:k], field)
            failed += [{"product_id": _get(r, "product_id"), "sku": _get(r, "sku"), key: _get(r, key),
                        "message": ERR_TOO_MANY_REQUEST, "error": ERR_TOO_MANY_REQUEST} for r in rows[k:]]
            return {"total_data": len(rows), "succeed_rows": succeeded, "failed_rows": len(failed),
                    "failed_rows_data": failed}

        return await sb.serve(request, work)

    return route


products_router.post("/inventory/v1/fs/{fs_id}/price/update")(_absolute("price"))
products_router.post("/inventory/v1/fs/{fs_id}/stock/update")(_absolute("stock"))


def _status(status: str):
    """The handler that sets products ``ACTIVE`` or ``INACTIVE``."""

    async def route(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
        sb = sandbox_of(request)

        async def work(call: Call) -> Any:
            sb.check_shop(fs_id, shop_id)
            ids = _batch(await _json(request), "product_id", STATUS_MAX)
            k = sb.admit(call, len(ids))
            succeeded, failed = sb.store.set_status(shop_id, ids[:k], status)
            failed += [f"{i}: {ERR_TOO_MANY_REQUEST}" for i in ids[k:]]
            return {"total_data": len(ids), "succeed_rows": succeeded, "failed_rows": len(failed),
                    "failed_rows_data": failed or None}

        return await sb.serve(request, work)

    return route


products_router.post("/v1/products/fs/{fs_id}/active")(_status("ACTIVE"))
products_router.post("/v1/products/fs/{fs_id}/inactive")(_status("INACTIVE"))


@products_router.get("/inventory/v1/fs/{fs_id}/product/info")
async def product_info(request: Request, fs_id: int, shop_id: int | None = None, page: int = 1,
                       per_page: int = PRODUCTS_PER_PAGE_MAX, sku: str | None = None,
                       product_id: int | None = None) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> Any:
        one = sku is not None or product_id is not None
        sb.check_shop(fs_id, shop_id, required=not one)
        if not one and not (page >= 1 and 1 <= per_page <= PRODUCTS_PER_PAGE_MAX):
            raise ApiError(400, "INVALID_PARAMETER",
                           f"page must be >= 1 and per_page 1 to {PRODUCTS_PER_PAGE_MAX}")
        sb.admit(call, 1)
        if one:
            shops = [shop_id] if shop_id is not None else list(sb.settings.shops)
            return sb.store.products_where(shops, sku=sku, product_id=product_id)
        return sb.store.product_page(shop_id, page, per_page)

    return await sb.serve(request, work)


# --- 4. orders -----------------------------------------------------------------------------------


@orders_router.get("/v2/order/list")
async def order_list(request: Request, fs_id: int, from_date: int, to_date: int,
                     shop_id: int | None = None, page: int = 1,
                     per_page: int = ORDERS_PER_PAGE_MAX) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> Any:
        sb.check_shop(fs_id, shop_id, required=False)
        if to_date - from_date >= ORDER_WINDOW_MAX:
            raise ApiError(400, "ORD_DLV_013", "Date Range must be less than 3 days")
        if to_date < from_date:
            raise ApiError(400, "INVALID_PARAMETER", "to_date must not be before from_date")
        if not (page >= 1 and 1 <= per_page <= ORDERS_PER_PAGE_MAX):
            raise ApiError(400, "INVALID_PARAMETER", f"page must be >= 1 and per_page 1 to {ORDERS_PER_PAGE_MAX}")
        sb.admit(call, 1)
        shops = [shop_id] if shop_id is not None else list(sb.settings.shops)
        return sb.store.orders_window(shops, from_date, to_date, page, per_page)

    return await sb.serve(request, work)


@orders_router.get("/v2/fs/{fs_id}/order")
async def order(request: Request, fs_id: int, order_id: int) -> JSONResponse:
    sb = sandbox_of(request)

    async def work(call: Call) -> Any:
        sb.check_shop(fs_id, None, required=False)
        sb.admit(call, 1)
        found = sb.store.order(order_id)
        if found is None:
            raise ApiError(404, "ORDER_NOT_FOUND", f"Order {order_id} not found")
        sb.check_shop(fs_id, found["shop_id"])
        return found

    return await sb.serve(request, work)


CONTRACT_ROUTERS = (auth_router, categories_router, products_router, orders_router, pictures_router)
