"""The TikTok sandbox's admin surface (outside the contract, §8): loopback callers only, no auth.

=======  ==================================  ==================================================
method   path                                body / answer (``data`` of the envelope)
=======  ==================================  ==================================================
GET      /admin/health                       app_key, shops (cipher, auth code, warehouses),
                                             rate_limit, webhook_url, clock_offset, now
POST     /admin/orders                       PlaceOrder → the order (contract shape); notifies
GET      /admin/orders?shop_id=              every order of the shop (contract shape)
POST     /admin/orders/{id}/status           {status, update_time?, cancel_reason?} → order
GET      /admin/shops/{id}/products          every column of the shop's products
POST     /admin/shops/{id}/expire            {"token": "access" | "refresh"} → {"expired": n}
GET      /admin/images?shop_id=              uploaded images; GET /admin/images/{uri}: bytes
POST     /admin/faults                       FaultSpec → the live fault; GET lists; DELETE clears
GET      /admin/stats                        calls/429s per path template, creates per shop and
                                             seller_sku, webhooks, faults fired; DELETE resets
PUT      /admin/rate-limit                   {"rate": float | null}
PUT      /admin/webhook                      {"url": str | null}; GET answers it
PUT      /admin/clock                        {"offset": seconds} added to the server's clock
=======  ==================================  ==================================================

Its client is :class:`~connectors.tiktok_sandbox.admin_client.TikTokSandboxAdmin` (no FastAPI needed).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from connectors.tiktok_sandbox.envelope import ApiError, envelope
from connectors.tiktok_sandbox.faults import FaultSpec
from connectors.tiktok_sandbox.pipeline import WEBHOOK_KEY, TikTokSandbox, sandbox_of
from connectors.tiktok_sandbox.store import OrderError


def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = False
    if not ok:
        raise ApiError(403, 403, "the admin surface answers loopback callers only")


router = APIRouter(prefix="/admin", dependencies=[Depends(_loopback_only)])


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OrderItem(_Body):
    seller_sku: str | None = None
    product_id: str | int | None = None
    quantity: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _named(self) -> OrderItem:
        if not self.seller_sku and self.product_id is None:
            raise ValueError("an item needs seller_sku or product_id")
        return self


class Buyer(_Body):
    name: str = "Siti Rahayu"
    phone: str = "(+62)812****5678"
    address: str = "Jl. Mawar No. 5, Desa Sukamaju, Kec. Ciawi, Kab. Bogor, Jawa Barat"
    postal_code: str = "16720"
    message: str = ""


class PlaceOrder(_Body):
    shop_id: str | int
    items: list[OrderItem] = Field(min_length=1)
    buyer: Buyer | None = None
    status: str = "AWAITING_SHIPMENT"
    create_time: int | None = None
    shipping_fee: int = Field(default=10_000, ge=0)

    @field_validator("shop_id")
    @classmethod
    def _text(cls, v: str | int) -> str:
        return str(v)


class OrderStatus(_Body):
    status: str
    update_time: int | None = None
    cancel_reason: str | None = None


class Expire(_Body):
    token: Literal["access", "refresh"]


class Rate(_Body):
    rate: float | None = None


class Webhook(_Body):
    url: str | None = None


class Clock(_Body):
    offset: float = 0.0


def _sb(request: Request) -> TikTokSandbox:
    return sandbox_of(request)


def _shop_id(sb: TikTokSandbox, shop_id: str) -> str:
    if shop_id not in sb.shops:
        raise ApiError(404, 404, f"shop {shop_id} is not served by this sandbox")
    return shop_id


def _orders(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return fn(*args, **kwargs)
    except OrderError as err:
        raise ApiError(err.status, err.status, str(err)) from None


@router.get("/health")
async def health(request: Request) -> JSONResponse:
    sb = _sb(request)
    shops = [{**s.answer(), "auth_code": s.auth_code, "warehouses": [w.answer() for w in s.warehouses]}
             for s in sb.shops.values()]
    return envelope({"app_key": sb.settings.app_key, "shops": shops, "rate_limit": sb.limiter.rate,
                     "webhook_url": sb.store.get_setting(WEBHOOK_KEY), "clock_offset": sb.clock_offset,
                     "now": sb.now()})


@router.post("/orders")
async def place_order(request: Request, body: PlaceOrder) -> JSONResponse:
    sb = _sb(request)
    shop = sb.shops[_shop_id(sb, body.shop_id)]
    order = _orders(sb.store.place_order, shop.id, [w.id for w in shop.warehouses],
                    [i.model_dump() for i in body.items], buyer=body.buyer.model_dump() if body.buyer else None,
                    status=body.status, create_time=body.create_time, now=sb.now(), shipping_fee=body.shipping_fee)
    sb.notify(shop.id, order)
    return envelope(order)


@router.get("/orders")
async def list_orders(request: Request, shop_id: str) -> JSONResponse:
    sb = _sb(request)
    return envelope(sb.store.orders_of(_shop_id(sb, shop_id)))


@router.post("/orders/{order_id}/status")
async def set_order_status(request: Request, order_id: int, body: OrderStatus) -> JSONResponse:
    sb = _sb(request)
    order, changed = _orders(sb.store.set_order_status, order_id, body.status, update_time=body.update_time,
                             now=sb.now(), cancel_reason=body.cancel_reason)
    if changed:
        sb.notify(sb.store.order_shop(order_id) or "", order)
    return envelope(order)


@router.get("/shops/{shop_id}/products")
async def raw_products(request: Request, shop_id: str) -> JSONResponse:
    sb = _sb(request)
    return envelope(sb.store.raw_products(_shop_id(sb, shop_id)))


@router.post("/shops/{shop_id}/expire")
async def expire_tokens(request: Request, shop_id: str, body: Expire) -> JSONResponse:
    sb = _sb(request)
    return envelope({"expired": sb.store.expire_shop_tokens(_shop_id(sb, shop_id), body.token, sb.now())})


@router.get("/images")
async def list_images(request: Request, shop_id: str | None = None) -> JSONResponse:
    return envelope(_sb(request).store.image_list(shop_id))


@router.get("/images/{uri}")
async def image(request: Request, uri: str) -> FileResponse:
    found = _sb(request).store.image_file(uri)
    if found is None:
        raise ApiError(404, 404, f"no image {uri}")
    return FileResponse(found[0], media_type=f"image/{found[1].lower()}")


@router.post("/faults")
async def add_fault(request: Request, spec: FaultSpec) -> JSONResponse:
    return envelope(_sb(request).faults.add(spec).as_dict())  # type: ignore[arg-type]


@router.get("/faults")
async def list_faults(request: Request) -> JSONResponse:
    return envelope(_sb(request).faults.list())


@router.delete("/faults")
async def clear_faults(request: Request) -> JSONResponse:
    _sb(request).faults.clear()
    return envelope([])


@router.get("/stats")
async def stats(request: Request) -> JSONResponse:
    return envelope(_sb(request).stats.snapshot())


@router.delete("/stats")
async def reset_stats(request: Request) -> JSONResponse:
    _sb(request).stats.reset()
    return envelope({})


@router.put("/rate-limit")
async def set_rate_limit(request: Request, body: Rate) -> JSONResponse:
    sb = _sb(request)
    sb.limiter.set_rate(body.rate)
    return envelope({"rate": sb.limiter.rate})


@router.put("/webhook")
async def set_webhook(request: Request, body: Webhook) -> JSONResponse:
    _sb(request).store.set_setting(WEBHOOK_KEY, body.url or None)
    return envelope({"url": body.url or None})


@router.get("/webhook")
async def get_webhook(request: Request) -> JSONResponse:
    return envelope({"url": _sb(request).store.get_setting(WEBHOOK_KEY)})


@router.put("/clock")
async def set_clock(request: Request, body: Clock) -> JSONResponse:
    sb = _sb(request)
    sb.clock_offset = body.offset
    return envelope({"offset": sb.clock_offset, "now": sb.now()})
