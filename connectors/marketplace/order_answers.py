"""Orders as the seller API answers them, read into one model under the contract's names.

Two shapes arrive: the contract's order object (section 4; also the real order list, which spells
``products[].name`` in lower case and may lack ``update_time``), and the real single-order answer
(``invoice_number``, ``buyer_info``, ``shop_info``, ``order_info.order_detail``,
``order_info.destination``, ``order_info.shipping_info``, ISO-8601 times). The second is
rewritten into the first before validation; its own fields stay as extras.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AliasChoices, BeforeValidator, Field, model_validator

from connectors.marketplace.answers import Text, _Lenient, _sub

__all__ = ["DETAIL_NAMES", "Order", "is_detail", "unix_seconds"]


def unix_seconds(v: Any) -> Any:
    """UNIX seconds from an integer, a numeric string or an ISO-8601 time (``…Z``, an offset, or
    none: UTC). Go's zero time (``0001-01-01T00:00:00Z``) and ``""`` are no time at all."""
    if isinstance(v, bool) or not isinstance(v, int | float | str):
        return v
    if isinstance(v, int):
        return v
    text = str(v).strip()
    if not text:
        return None
    try:
        return math.floor(float(text))
    except (ValueError, OverflowError):
        pass
    try:
        t = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not UNIX seconds or an ISO-8601 time") from None
    if t.year <= 1:
        return None
    return math.floor((t if t.tzinfo else t.replace(tzinfo=UTC)).timestamp())


UnixTime = Annotated[int, BeforeValidator(unix_seconds)]
MaybeUnixTime = Annotated[int | None, BeforeValidator(unix_seconds)]


class OrderProduct(_Lenient):
    id: int | None = None
    Name: Text = Field(default=None, validation_alias=AliasChoices("Name", "name"))
    sku: Text = None
    quantity: int
    price: float | None = None
    total_price: float | None = None
    currency: str | None = None


class Buyer(_Lenient):
    id: int | None = None
    name: Text = None
    phone: Text = None
    email: Text = None


class Address(_Lenient):
    address_full: Text = None
    district: Text = None
    city: Text = None
    province: Text = None
    postal_code: Text = None


class Recipient(_Lenient):
    name: Text = None
    phone: Text = None
    address: Address = Field(default_factory=Address)


class Amount(_Lenient):
    ttl_product_price: float | None = None
    shipping_cost: float | None = None
    ttl_amount: float | None = None


# Fields of the single-order shape: any of them (and no ``invoice_ref_num``) marks it.
DETAIL_NAMES = ("invoice_number", "order_info", "buyer_info")


def is_detail(data: Any) -> bool:
    """Whether ``data`` is the real single-order answer rather than the contract's order object."""
    return isinstance(data, Mapping) and "invoice_ref_num" not in data and any(k in data for k in DETAIL_NAMES)


def _present(d: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _from_detail(d: Mapping[str, Any]) -> dict[str, Any]:
    """The single-order answer under the contract's names (an absent field stays absent)."""
    info, buyer = _sub(d, "order_info"), _sub(d, "buyer_info")
    dest = _sub(info, "destination")
    details = info.get("order_detail")
    mapped = _present({
        "invoice_ref_num": d.get("invoice_number"),
        "shop_id": _sub(d, "shop_info").get("shop_id") or d.get("seller_id"),
        "products": [_present({"id": x.get("product_id"), "Name": x.get("product_name"), "sku": x.get("sku"),
                               "quantity": x.get("quantity"), "price": x.get("product_price"),
                               "total_price": x.get("subtotal_price")})
                     for x in details if isinstance(x, Mapping)] if isinstance(details, list) else None,
        "buyer": _present({"id": buyer.get("buyer_id"), "name": buyer.get("buyer_fullname"),
                           "phone": buyer.get("buyer_phone"), "email": buyer.get("buyer_email")}),
        "recipient": {**_present({"name": dest.get("receiver_name"), "phone": dest.get("receiver_phone")}),
                      "address": _present({"address_full": dest.get("address_street"),
                                           "district": dest.get("address_district"),
                                           "city": dest.get("address_city"),
                                           "province": dest.get("address_province"),
                                           "postal_code": dest.get("address_postal")})},
        "amt": _present({"ttl_product_price": d.get("item_price"),
                         "shipping_cost": _sub(info, "shipping_info").get("shipping_price"),
                         "ttl_amount": d.get("open_amt")}),
    })
    return {**d, **{k: v for k, v in mapped.items() if k not in d}}


class Order(_Lenient):
    """The order object of the contract, section 4 (current status), from either shape."""

    answer_name: ClassVar[str] = "order answer"

    order_id: int
    invoice_ref_num: Text = None
    shop_id: int | None = None
    order_status: int
    create_time: UnixTime
    update_time: MaybeUnixTime = None
    products: list[OrderProduct] = Field(default_factory=list)
    buyer: Buyer = Field(default_factory=Buyer)
    recipient: Recipient = Field(default_factory=Recipient)
    amt: Amount = Field(default_factory=Amount)

    @model_validator(mode="before")
    @classmethod
    def _single_order_shape(cls, data: Any) -> Any:
        return _from_detail(data) if is_detail(data) else data
