"""A sales channel in memory, implementing :class:`schemas.channel.Channel` and nothing else.

Shops hold products (SKU and name unique per shop, case-insensitive names) and orders; every write
is counted per kind. The engine run against it proves that sync and orders speak only the channel
protocol: nothing here knows the first marketplace's wire format.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from schemas.categories import DEFAULT_CATEGORIES, Category
from schemas.channel import (
    ChannelLimits,
    ChannelProduct,
    ListingEdit,
    NewListing,
    ProductRef,
    RowOutcome,
    SetNumber,
    WriteResult,
)
from schemas.errors import NotFoundError
from schemas.orders import Order, OrderLine, Recipient


@dataclass
class Shop:
    products: dict[str, ChannelProduct] = field(default_factory=dict)  # by SKU
    orders: dict[int, Order] = field(default_factory=dict)

    def name_taken(self, name: str, sku: str) -> bool:
        return any(p.name.casefold() == name.casefold() and p.sku != sku for p in self.products.values())


class MemoryChannel:
    """Products and orders of any number of shops, in memory."""

    name = "memory"
    limits = ChannelLimits(create_batch=3, edit_batch=3, toggle_batch=3, price_batch=4, stock_batch=4)

    def __init__(self) -> None:
        self.shops: dict[int, Shop] = {}
        self.writes: Counter = Counter()  # items written per kind
        self.calls: Counter = Counter()
        self.uploads: dict[str, bytes] = {}
        self._ids = itertools.count(1001)
        self._orders = itertools.count(9001)

    def shop(self, shop_id: int) -> Shop:
        return self.shops.setdefault(shop_id, Shop())

    # ---- writes ----------------------------------------------------------------------------------

    def _write(self, kind: str, rows: Sequence[Any]) -> WriteResult:
        self.calls[kind] += 1
        self.writes[kind] += len(rows)
        return WriteResult()

    def create(self, shop_id: int, rows: Sequence[NewListing]) -> WriteResult:
        out, shop = self._write("create", rows), self.shop(shop_id)
        for r in rows:
            x = r.listing
            if r.sku in shop.products or shop.name_taken(x.name, r.sku):
                out.failed.append(RowOutcome(r.sku, False, error=f"name or SKU of {r.sku} already used"))
                continue
            pid = next(self._ids)
            shop.products[r.sku] = ChannelProduct(
                product_id=pid, sku=r.sku, name=x.name, category_id=x.category_id, price=x.price, stock=r.stock,
                min_order=x.min_order, weight_g=x.weight_g, condition=x.condition, description=x.description,
                pictures=x.pictures, status="ACTIVE" if x.active else "INACTIVE", shop_id=shop_id)
            out.applied.append(RowOutcome(r.sku, True, pid))
        return out

    def edit(self, shop_id: int, rows: Sequence[ListingEdit]) -> WriteResult:
        out, shop = self._write("edit", rows), self.shop(shop_id)
        for r in rows:
            p = shop.products.get(r.sku)
            if p is None or p.product_id != r.product_id:
                out.failed.append(RowOutcome(r.sku, False, error="no such product"))
            elif "name" in r.fields and shop.name_taken(r.fields["name"], r.sku):
                out.failed.append(RowOutcome(r.sku, False, error="name already used"))
            else:
                shop.products[r.sku] = replace(
                    p, **{f: tuple(v) if f == "pictures" else v for f, v in r.fields.items()})
                out.applied.append(RowOutcome(r.sku, True, p.product_id))
        return out

    def _set(self, kind: str, shop_id: int, rows: Sequence[SetNumber], field_name: str) -> WriteResult:
        out, shop = self._write(kind, rows), self.shop(shop_id)
        for r in rows:
            if r.sku not in shop.products:
                out.failed.append(RowOutcome(r.sku, False, error="no such SKU"))
                continue
            shop.products[r.sku] = replace(shop.products[r.sku], **{field_name: r.value})
            out.applied.append(RowOutcome(r.sku, True, shop.products[r.sku].product_id))
        return out

    def set_prices(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        return self._set("price", shop_id, rows, "price")

    def set_stock(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        return self._set("stock", shop_id, rows, "stock")

    def set_active(self, shop_id: int, rows: Sequence[ProductRef], active: bool) -> WriteResult:
        out, shop = self._write("activate" if active else "deactivate", rows), self.shop(shop_id)
        for r in rows:
            shop.products[r.sku] = replace(shop.products[r.sku], status="ACTIVE" if active else "INACTIVE")
            out.applied.append(RowOutcome(r.sku, True, r.product_id))
        return out

    def upload_picture(self, shop_id: int, data: bytes, filename: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.uploads[digest] = data
        return f"memory://pictures/{digest}"

    # ---- reads -----------------------------------------------------------------------------------

    def categories(self) -> list[Category]:
        return list(DEFAULT_CATEGORIES)

    def products(self, shop_id: int) -> Iterator[ChannelProduct]:
        return iter(list(self.shop(shop_id).products.values()))

    def product(self, shop_id: int, sku: str) -> ChannelProduct | None:
        return self.shop(shop_id).products.get(sku)

    def orders(self, shop_id: int, start: int, end: int) -> Iterator[Order]:
        return iter([o for o in self.shop(shop_id).orders.values() if start <= o.create_time < end])

    def order(self, shop_id: int, order_id: int) -> Order:
        try:
            return self.shop(shop_id).orders[order_id]
        except KeyError:
            raise NotFoundError(f"order {order_id} not found", status=404, endpoint="order") from None

    @property
    def counters(self) -> dict[str, Any]:
        return {"calls": dict(self.calls), "items": dict(self.writes)}

    def close(self) -> None:
        pass

    # ---- what buyers do ---------------------------------------------------------------------------

    def place_order(self, shop_id: int, items: dict[str, int], created: int, status: int = 220) -> Order:
        """A buyer's order: the channel takes the units off stock at once, as real ones do."""
        shop = self.shop(shop_id)
        lines = []
        for n, (sku, qty) in enumerate(items.items(), start=1):
            p = shop.products[sku]
            shop.products[sku] = replace(p, stock=max(0, (p.stock or 0) - qty))
            lines.append(OrderLine(line=n, product_id=p.product_id, sku=sku, name=p.name, quantity=qty,
                                   price=p.price, total_price=p.price * qty))
        oid = next(self._orders)
        order = Order(order_id=oid, shop_id=shop_id, invoice=f"INV/MEM/{oid}", status=status, create_time=created,
                      update_time=created, lines=tuple(lines), buyer_name="Siti",
                      recipient=Recipient(name="Siti", phone="+62811", address="Jl. Melati 7", city="Semarang"),
                      total_amount=sum(x.total_price for x in lines))
        shop.orders[oid] = order
        return order

    def set_status(self, shop_id: int, order_id: int, status: int, when: int) -> None:
        """The order moves on (or is cancelled: units are freed, but the stock is not raised by itself)."""
        order = self.shop(shop_id).orders[order_id]
        self.shop(shop_id).orders[order_id] = replace(order, status=status, update_time=when)
