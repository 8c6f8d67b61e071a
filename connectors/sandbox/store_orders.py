"""The sandbox's orders: the contract's order reads, and the admin's simulated orders and status moves.

A mixin of :class:`~connectors.sandbox.store.Store`; each public method is one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from connectors.sandbox import rules
from connectors.sandbox.tables import (
    CANCEL_CODES,
    FIRST_ORDER_ID,
    ORDER_STATUSES,
    PAID,
    WIB,
    first_free_id,
    order_items,
    orders,
    products,
)
from schemas.listing import STOCK_MAX


class OrderError(ValueError):
    """An admin order action that cannot be done; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def _order_json(o: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    lines = [
        {"id": i["product_id"], "Name": i["name"], "sku": i["sku"], "quantity": i["quantity"],
         "price": i["price"], "total_price": i["price"] * i["quantity"], "currency": "Rp"}
        for i in items
    ]
    ttl = sum(x["total_price"] for x in lines)
    return {
        "order_id": o["order_id"], "invoice_ref_num": o["invoice_ref_num"], "shop_id": o["shop_id"],
        "order_status": o["order_status"], "create_time": o["create_time"],
        "update_time": o["update_time"], "products": lines, "buyer": o["buyer"],
        "recipient": o["recipient"],
        "amt": {"ttl_product_price": ttl, "shipping_cost": o["shipping_cost"],
                "ttl_amount": ttl + o["shipping_cost"]},
    }


def _default_buyer(order_id: int) -> dict[str, Any]:
    n = order_id % 1000
    return {"id": 7_000_000 + n, "name": f"Pembeli Sandbox {n}", "phone": f"08120000{n:04d}",
            "email": f"pembeli{n}@example.com"}


def _default_recipient(buyer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": buyer.get("name", "Penerima Sandbox"), "phone": buyer.get("phone", "081200000000"),
        "address": {"address_full": "Jl. Merdeka No. 1, RT 01/RW 02", "district": "Gambir",
                    "city": "Jakarta Pusat", "province": "DKI Jakarta", "postal_code": "10110"},
    }


class OrderStore:
    """Orders: read in the contract's shape, placed and moved by the admin surface."""

    engine: Engine

    def _orders_json(self, c: Connection, rows: Sequence[Mapping[str, Any]]) -> list[dict]:
        ids = [o["order_id"] for o in rows]
        items: dict[int, list] = {i: [] for i in ids}
        if ids:
            q = select(order_items).where(order_items.c.order_id.in_(ids)).order_by(
                order_items.c.order_id, order_items.c.line)
            for it in c.execute(q).mappings():
                items[it["order_id"]].append(it)
        return [_order_json(o, items[o["order_id"]]) for o in rows]

    def orders_window(self, shop_ids: Collection[int], from_date: int, to_date: int,
                      page: int, per_page: int) -> list[dict]:
        """Orders with ``from_date <= create_time < to_date``, by create_time then order_id.

        Every sandbox order was placed paid (220), so every order has reached 220.
        """
        q = (select(orders).where(orders.c.shop_id.in_(list(shop_ids)),
                                  orders.c.create_time >= from_date, orders.c.create_time < to_date)
             .order_by(orders.c.create_time, orders.c.order_id)
             .limit(per_page).offset((page - 1) * per_page))
        with self.engine.connect() as c:
            return self._orders_json(c, c.execute(q).mappings().all())

    def order(self, order_id: int) -> dict | None:
        with self.engine.connect() as c:
            row = c.execute(select(orders).where(orders.c.order_id == order_id)).mappings().first()
            return self._orders_json(c, [row])[0] if row else None

    def place_order(
        self, shop_id: int, items: Sequence[Mapping[str, Any]], *, buyer: Mapping | None = None,
        recipient: Mapping | None = None, create_time: int | None = None, shipping_cost: int = 15_000,
    ) -> dict:
        """A paid (220) order, taking its units out of stock as a marketplace does."""
        with self.engine.begin() as c:
            order_id = self._place(c, shop_id, items, buyer=buyer, recipient=recipient, create_time=create_time,
                                   shipping_cost=shipping_cost)
            row = c.execute(select(orders).where(orders.c.order_id == order_id)).mappings().one()
            return self._orders_json(c, [row])[0]

    def place_orders(self, placed: Sequence[Mapping[str, Any]]) -> list[int]:
        """Many paid orders in one transaction (``shop_id``, ``items`` and :meth:`place_order`'s
        keywords each); all or none. Returns their ids."""
        with self.engine.begin() as c:
            return [self._place(c, o["shop_id"], o["items"], **{k: v for k, v in o.items()
                                                                if k not in ("shop_id", "items")})
                    for o in placed]

    def _place(
        self, c: Connection, shop_id: int, items: Sequence[Mapping[str, Any]], *, buyer: Mapping | None = None,
        recipient: Mapping | None = None, create_time: int | None = None, shipping_cost: int = 15_000,
    ) -> int:
        """One order placed in ``c``'s transaction; its id."""
        if not items:
            raise OrderError("an order needs at least one item", 400)
        now = int(time.time())
        created = int(create_time) if create_time is not None else now
        lines: list[dict] = []
        wanted: dict[int, int] = {}
        for it in items:
            q = select(products).where(products.c.shop_id == shop_id)
            if it.get("sku"):
                q = q.where(products.c.sku == it["sku"])
            elif it.get("product_id") is not None:
                q = q.where(products.c.id == it["product_id"])
            else:
                raise OrderError("each item needs sku or product_id", 400)
            p = c.execute(q).mappings().first()
            if p is None:
                raise OrderError(f"no product {it.get('sku') or it.get('product_id')} in shop {shop_id}", 404)
            qty = it.get("quantity", 1)
            if not rules.is_int(qty) or qty < 1:
                raise OrderError(f"quantity {qty!r} for {p['sku']} is not a positive integer", 400)
            if p["status"] != "ACTIVE":
                raise OrderError(f"product {p['sku']} is not ACTIVE")
            if qty < p["min_order"]:
                raise OrderError(f"quantity {qty} for {p['sku']} is below its min_order {p['min_order']}")
            wanted[p["id"]] = wanted.get(p["id"], 0) + qty
            if wanted[p["id"]] > p["stock"]:
                raise OrderError(f"not enough stock for {p['sku']}: {p['stock']} left, {wanted[p['id']]} wanted")
            lines.append({"product_id": p["id"], "sku": p["sku"], "name": p["name"],
                          "quantity": qty, "price": p["price"]})
        order_id = first_free_id(c, orders.c.order_id, FIRST_ORDER_ID)
        for pid, qty in wanted.items():
            c.execute(update(products).where(products.c.id == pid).values(
                stock=products.c.stock - qty, has_order=True, update_time=now))
        b = dict(buyer) if buyer else _default_buyer(order_id)
        day = datetime.fromtimestamp(created, WIB).strftime("%Y%m%d")
        c.execute(orders.insert().values(
            order_id=order_id, shop_id=shop_id, invoice_ref_num=f"INV/{day}/MPL/{order_id}",
            order_status=PAID, create_time=created, update_time=created,
            buyer=b, recipient=dict(recipient) if recipient else _default_recipient(b),
            shipping_cost=int(shipping_cost)))
        c.execute(order_items.insert(), [{"order_id": order_id, "line": n, **ln} for n, ln in enumerate(lines, 1)])
        return order_id

    def set_order_status(self, order_id: int, status: int, *, update_time: int | None = None) -> dict:
        """Move an order; a move to a cancel code puts its units back in stock."""
        if status not in ORDER_STATUSES:
            raise OrderError(f"unknown order status {status}", 400)
        with self.engine.begin() as c:
            o = c.execute(select(orders).where(orders.c.order_id == order_id)).mappings().first()
            if o is None:
                raise OrderError(f"no order {order_id}", 404)
            if status != o["order_status"]:
                if o["order_status"] in CANCEL_CODES:
                    raise OrderError(f"order {order_id} is already cancelled ({o['order_status']})")
                # update_time must change with the status, even twice in one second.
                stamp = update_time if update_time is not None else max(int(time.time()), o["update_time"] + 1)
                c.execute(update(orders).where(orders.c.order_id == order_id)
                          .values(order_status=status, update_time=stamp))
                if status in CANCEL_CODES:
                    for it in c.execute(select(order_items).where(order_items.c.order_id == order_id)).mappings():
                        c.execute(update(products).where(products.c.id == it["product_id"]).values(
                            stock=func.min(products.c.stock + it["quantity"], STOCK_MAX)))
            row = c.execute(select(orders).where(orders.c.order_id == order_id)).mappings().one()
            return self._orders_json(c, [row])[0]
