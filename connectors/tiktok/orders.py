"""Orders of the TikTok-shaped API (../shared/tiktok-shop-api.md, section 6) in the project's words.

TikTok lists **one line item per unit**: the units of one SKU become one
:class:`~schemas.orders.OrderLine` with their count as quantity. Statuses map through
:data:`schemas.orders.TIKTOK_STATUS`; amounts are whole rupiah. ``buyer_message`` is untrusted
buyer text and is never read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from connectors.tiktok import settings as S
from connectors.tiktok.answers import Id, Money, Text
from connectors.tiktok.reads import Reads
from connectors.tiktok.transport import make_call
from schemas.errors import NotFoundError
from schemas.orders import TIKTOK_STATUS, Order, OrderLine, Recipient

log = logging.getLogger("lapak.tiktok")

UNKNOWN_STATUS = 400  # an unknown status still holds its units: never read as cancelled


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LineItem(_Lenient):
    id: Text = ""
    product_id: Id | None = None
    sku_id: Text = ""
    seller_sku: Text = ""
    product_name: Text = ""
    sale_price: Money = None


class Payment(_Lenient):
    currency: Text = ""
    sub_total: Money = None
    shipping_fee: Money = None
    total_amount: Money = None


class Address(_Lenient):
    name: Text = ""
    phone_number: Text = ""
    full_address: Text = ""
    postal_code: Text = ""
    district: Text = ""
    city: Text = ""
    province: Text = ""

    @field_validator("district", "city", "province", mode="before")
    @classmethod
    def _blank(cls, v: object) -> object:
        return v if isinstance(v, str) else ""


class WireOrder(_Lenient):
    id: Id
    status: Text = ""
    create_time: Id = 0
    update_time: Id | None = None
    line_items: list[LineItem] = Field(default_factory=list)
    payment: Payment = Field(default_factory=Payment)
    recipient_address: Address | None = None

    @field_validator("recipient_address", mode="before")
    @classmethod
    def _with_district(cls, v: object) -> object:
        """``district_info`` (TikTok's ``[{address_level_name, address_name}]`` or a plain mapping)
        read into district, city and province."""
        if not isinstance(v, dict):
            return v
        return {**v, **_levels(v.get("district_info"))}


class OrderPage(_Lenient):
    answer_name: ClassVar[str] = "the order search page"

    orders: list[WireOrder] = Field(default_factory=list)
    next_page_token: Text = ""


class OrderList(_Lenient):
    answer_name: ClassVar[str] = "the orders"

    orders: list[WireOrder] = Field(default_factory=list)


_LEVELS = {"l1": "province", "province": "province", "l2": "city", "city": "city", "regency": "city",
           "l3": "district", "district": "district"}


def _levels(info: object) -> dict[str, str]:
    if isinstance(info, dict):
        return {k: str(v) for k, v in info.items() if k in ("district", "city", "province") and v}
    out: dict[str, str] = {}
    for level in info if isinstance(info, list) else []:
        if not isinstance(level, dict) or not level.get("address_name"):
            continue
        for key in (str(level.get("address_level_name", "")).lower(), str(level.get("address_level", "")).lower()):
            if key in _LEVELS:
                out.setdefault(_LEVELS[key], str(level["address_name"]))
                break
    return out


def lines_of(items: list[LineItem]) -> tuple[OrderLine, ...]:
    """One line per SKU, its units counted (first appearance decides the order and the price)."""
    grouped: dict[str, list[LineItem]] = {}
    for item in items:
        key = item.seller_sku or item.sku_id or str(item.product_id or item.id)
        grouped.setdefault(key, []).append(item)
    return tuple(
        OrderLine(line=n, product_id=units[0].product_id, sku=units[0].seller_sku, name=units[0].product_name,
                  quantity=len(units), price=units[0].sale_price or 0,
                  total_price=sum(u.sale_price or 0 for u in units))
        for n, units in enumerate(grouped.values(), start=1))


def order_of(o: WireOrder, shop_id: int) -> Order:
    """An order in the project's words (an unknown status is kept as an open order, with a warning)."""
    status = TIKTOK_STATUS.get(o.status.upper())
    if status is None:
        log.warning("order %s: unknown TikTok status %r, kept as an open order (%d)", o.id, str(o.status)[:40],
                    UNKNOWN_STATUS)
        status = UNKNOWN_STATUS
    a = o.recipient_address or Address()
    recipient = Recipient(name=a.name, phone=a.phone_number, address=a.full_address, district=a.district,
                          city=a.city, province=a.province, postal_code=a.postal_code)
    return Order(order_id=o.id, shop_id=shop_id, invoice=str(o.id), status=status, create_time=o.create_time,
                 update_time=o.update_time if o.update_time is not None else o.create_time,
                 lines=lines_of(o.line_items), buyer_name=a.name, recipient=recipient,
                 shipping_cost=o.payment.shipping_fee or 0, total_amount=o.payment.total_amount or 0,
                 channel=S.CHANNEL)


class OrderReads(Reads):
    """Order search and look-up (a mixin of the channel)."""

    def orders(self, shop_id: int, start: int, end: int, *, by_update: bool = False) -> Iterator[Order]:
        """Orders created (``by_update``: last changed) in ``[start, end)``, oldest first, page after page."""
        shop, field = str(shop_id), "update_time" if by_update else "create_time"
        body = {f"{field}_ge": int(start), f"{field}_lt": int(end)}
        token, seen = "", set()
        while True:
            params = {"page_size": S.PAGE_SIZE, "sort_field": field, "sort_order": "ASC",
                      **({"page_token": token} if token else {})}
            call = make_call("POST", S.ORDER_SEARCH, params=params, json_body=body)
            page: OrderPage = self._model(self.call(call, shop), OrderPage, call)
            for o in page.orders:
                yield order_of(o, shop_id)
            token = page.next_page_token
            if not token or not page.orders or token in seen:
                return
            seen.add(token)

    def order(self, shop_id: int, order_id: int) -> Order:
        """One order with its current status (:class:`NotFoundError` when the answer leaves it out)."""
        call = make_call("GET", S.ORDERS, params={"ids": str(order_id)})
        found = self._model(self.call(call, str(shop_id)), OrderList, call, empty_ok=True).orders
        for o in found:
            if o.id == int(order_id):
                return order_of(o, shop_id)
        raise NotFoundError(f"shop {shop_id}: no order {order_id}", endpoint=call.endpoint)
