"""The sandbox's admin surface (outside the contract): the routes, served by the sandbox process.

For demos and tests only — place simulated orders, move their status, inject faults, read
counters, change the rate limit, list a shop's products raw, read back uploaded pictures. No
auth; loopback callers only. Nothing in the marketplace connector may depend on it.

=======  ===================================  ===============================================
method   path                                 body / answer (``data`` of the envelope)
=======  ===================================  ===============================================
GET      /admin/health                        fs_id, shops, rate_limit
POST     /admin/orders                        PlaceOrder → the order (contract shape)
POST     /admin/orders/bulk                   {"orders": [PlaceOrder, …]} → their ids (one
                                              transaction: all or none; not notified)
GET      /admin/orders?shop_id=               every order of the shop (contract shape)
POST     /admin/orders/{order_id}/status      {"status", "update_time"?} → the order
POST     /admin/faults                        FaultSpec → the live fault (with its ``id``)
GET      /admin/faults                        the faults in force
DELETE   /admin/faults                        clear them all
GET      /admin/stats                         {"paths": {path: counters}, "totals", "faults_fired",
                                              "webhooks": {queued, attempts, delivered, failed}}
DELETE   /admin/stats                         reset the counters
PUT      /admin/rate-limit                    {"rate": float | null} (null = unlimited)
PUT      /admin/webhook                       {"url": str | null}: where orders are notified (§6)
GET      /admin/webhook                       {"url": str | null}
GET      /admin/shops/{shop_id}/products      every column of the shop's products
GET      /admin/pictures?shop_id=             uploaded pictures (sha256, file_path, format,
                                              width, height, bytes, shop_id, uploaded_at,
                                              last_uploaded_at, uploads); shop_id optional
GET      /admin/pictures/{sha256}             the bytes kept, exactly as uploaded (not JSON:
                                              ``image/jpeg`` or ``image/png``); 404 unknown
=======  ===================================  ===============================================

The client for these routes, :class:`~connectors.sandbox.admin_client.SandboxAdmin`, lives in
:mod:`connectors.sandbox.admin_client` so that callers need no FastAPI (the ``sandbox`` extra).
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.sandbox.envelope import ApiError, envelope
from connectors.sandbox.faults import FaultSpec
from connectors.sandbox.store import OrderError


def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ApiError(403, "ADMIN_LOOPBACK_ONLY", "The admin surface answers loopback callers only")


router = APIRouter(prefix="/admin", dependencies=[Depends(_loopback_only)])


def _ok(data: Any, status: int = 200) -> JSONResponse:
    return envelope(data, time.perf_counter(), status=status)


def _sandbox(request: Request):
    return request.app.state.sandbox


class OrderItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = None
    product_id: int | None = None
    quantity: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _named(self) -> OrderItem:
        if not self.sku and self.product_id is None:
            raise ValueError("an item needs sku or product_id")
        return self


class PlaceOrder(BaseModel):
    """A simulated paid order (status 220)."""

    model_config = ConfigDict(extra="forbid")

    shop_id: int
    items: list[OrderItem] = Field(min_length=1)
    buyer: dict[str, Any] | None = None
    recipient: dict[str, Any] | None = None
    create_time: int | None = Field(default=None, description="UNIX seconds; default now.")
    shipping_cost: int = Field(default=15_000, ge=0)


class OrderStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: int
    update_time: int | None = None


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rate: float | None = Field(default=None, description="Items per second per path; null = unlimited.")


def _order_action(fn, *args, notify: Any = None, **kwargs) -> JSONResponse:
    """Do an order action; with ``notify`` (the sandbox), notify the webhook target of the order."""
    try:
        order = fn(*args, **kwargs)
    except OrderError as err:
        raise ApiError(err.status, "ADMIN_ORDER_REFUSED", str(err)) from None
    if notify is not None:
        notify.webhooks.notify(notify.settings.fs_id, order)
    return _ok(order)


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    sb = _sandbox(request)
    return _ok({"fs_id": sb.settings.fs_id, "shops": list(sb.settings.shops), "rate_limit": sb.limiter.rate})


@router.post("/orders")
async def place_order(request: Request, body: PlaceOrder) -> JSONResponse:
    sb = _sandbox(request)
    if body.shop_id not in sb.settings.shops:
        raise ApiError(404, "ADMIN_ORDER_REFUSED", f"shop {body.shop_id} is not served by this sandbox")
    return _order_action(sb.store.place_order, body.shop_id, [i.model_dump() for i in body.items],
                         buyer=body.buyer, recipient=body.recipient, create_time=body.create_time,
                         shipping_cost=body.shipping_cost, notify=sb)


class PlaceOrders(BaseModel):
    """Many simulated orders at once (benchmarks)."""

    model_config = ConfigDict(extra="forbid")

    orders: list[PlaceOrder] = Field(min_length=1, max_length=10_000)


@router.post("/orders/bulk")
async def place_orders(request: Request, body: PlaceOrders) -> JSONResponse:
    sb = _sandbox(request)
    if unknown := sorted({o.shop_id for o in body.orders} - set(sb.settings.shops)):
        raise ApiError(404, "ADMIN_ORDER_REFUSED", f"shops {unknown} are not served by this sandbox")
    return _order_action(sb.store.place_orders, [dict(o.model_dump(exclude_none=True),
                                                      items=[i.model_dump() for i in o.items]) for o in body.orders])


@router.get("/orders")
async def list_orders(request: Request, shop_id: int) -> JSONResponse:
    return _ok(_sandbox(request).store.orders_window([shop_id], 0, 2**62, 1, 2**31))


@router.post("/orders/{order_id}/status")
async def set_order_status(request: Request, order_id: int, body: OrderStatus) -> JSONResponse:
    sb = _sandbox(request)
    before = sb.store.order(order_id)
    changes = before is not None and before["order_status"] != body.status  # only a change is notified
    return _order_action(sb.store.set_order_status, order_id, body.status, update_time=body.update_time,
                         notify=sb if changes else None)


@router.post("/faults")
async def add_fault(request: Request, spec: FaultSpec) -> JSONResponse:
    return _ok(_sandbox(request).faults.add(spec).as_dict())


@router.get("/faults")
async def list_faults(request: Request) -> JSONResponse:
    return _ok(_sandbox(request).faults.list())


@router.delete("/faults")
async def clear_faults(request: Request) -> JSONResponse:
    _sandbox(request).faults.clear()
    return _ok([])


@router.get("/stats")
async def stats(request: Request) -> JSONResponse:
    sb = _sandbox(request)
    return _ok({**sb.store.stats(), "webhooks": sb.webhooks.stats()})


@router.delete("/stats")
async def reset_stats(request: Request) -> JSONResponse:
    _sandbox(request).store.reset_stats()
    return _ok({})


@router.put("/rate-limit")
async def set_rate_limit(request: Request, body: RateLimit) -> JSONResponse:
    sb = _sandbox(request)
    sb.limiter.set_rate(body.rate)
    return _ok({"rate": sb.limiter.rate})


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, description="Where order notifications go; null = nowhere.")


@router.put("/webhook")
async def set_webhook(request: Request, body: Webhook) -> JSONResponse:
    sb = _sandbox(request)
    sb.webhooks.set_url(body.url)
    return _ok({"url": sb.webhooks.url})


@router.get("/webhook")
async def webhook(request: Request) -> JSONResponse:
    return _ok({"url": _sandbox(request).webhooks.url})


@router.get("/shops/{shop_id}/products")
async def raw_products(request: Request, shop_id: int) -> JSONResponse:
    return _ok(_sandbox(request).store.raw_products(shop_id))


@router.get("/pictures")
async def list_pictures(request: Request, shop_id: int | None = None) -> JSONResponse:
    return _ok(_sandbox(request).store.picture_list(shop_id))


@router.get("/pictures/{sha256}")
async def picture(request: Request, sha256: str) -> Response:
    found = _sandbox(request).store.picture_data(sha256)
    if found is None:
        raise ApiError(404, "ADMIN_PICTURE_NOT_FOUND", f"No picture kept under sha256 {sha256}")
    data, fmt = found
    return Response(content=data, media_type=f"image/{fmt.lower()}")
