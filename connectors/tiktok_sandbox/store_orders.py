"""The sandbox's orders: placed through ``/admin``, moved through their statuses, read in the
contract's shape (§6: one line item per unit, no address while ``UNPAID``/``ON_HOLD``).

Stock (contract): placing an order takes its units off the product's inventory (the default
warehouse first) and is refused when short; a cancel gives nothing back. An order placed
``UNPAID`` takes its units too. A mixin of :class:`~connectors.tiktok_sandbox.store.Store`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from connectors.tiktok_sandbox import paging
from connectors.tiktok_sandbox.tables import FIRST_ORDER_ID, next_id, orders, products

ORDER_STATUSES = ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "PARTIALLY_SHIPPING", "AWAITING_COLLECTION",
                  "IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED")
NO_ADDRESS = ("UNPAID", "ON_HOLD")
DEFAULT_CANCEL_REASON = "Dibatalkan oleh pembeli"
DEFAULT_BUYER = {"name": "Siti Rahayu", "phone": "(+62)812****5678",
                 "address": "Jl. Mawar No. 5, Desa Sukamaju, Kec. Ciawi, Kab. Bogor, Jawa Barat",
                 "postal_code": "16720"}
_DISTRICTS = [("Country", "Indonesia"), ("Province", "Jawa Barat"), ("City", "Kab. Bogor"), ("District", "Ciawi")]


class OrderError(ValueError):
    """An admin order action refused; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def order_answer(o: Mapping[str, Any]) -> dict[str, Any]:
    """An order row in the contract's shape."""
    doc = dict(o["doc"])
    if o["status"] in NO_ADDRESS:
        doc.pop("recipient_address", None)
    items = [{**li, "display_status": o["status"]} for li in doc.pop("line_items")]
    return {"id": str(o["id"]), "status": o["status"], "create_time": o["create_time"],
            "update_time": o["update_time"], **doc, "line_items": items}


def _address(buyer: Mapping[str, Any] | None) -> dict[str, Any]:
    b = {**DEFAULT_BUYER, **(buyer or {})}
    return {"name": str(b["name"]), "phone_number": str(b["phone"]), "full_address": str(b["address"]),
            "postal_code": str(b["postal_code"]), "region_code": "ID",
            "district_info": [{"address_level_name": k, "address_name": v} for k, v in _DISTRICTS]}


def _resolve(c: Connection, shop_id: str, items: Sequence[Mapping[str, Any]]) -> list[tuple[Mapping, int]]:
    """Each item's product row and quantity; 404 when the shop has no such product."""
    out = []
    for it in items:
        q = select(products).where(products.c.shop_id == shop_id)
        if it.get("product_id") is not None:
            q = q.where(products.c.id == int(it["product_id"]))
        else:
            q = q.where(products.c.seller_sku == it.get("seller_sku"))
        row = c.execute(q).mappings().first()
        if row is None:
            raise OrderError(404, f"shop {shop_id} has no product {it.get('product_id') or it.get('seller_sku')!r}")
        out.append((row, int(it["quantity"])))
    return out


def _take_stock(c: Connection, rows: list[tuple[Mapping, int]], warehouses: Sequence[str]) -> None:
    """Take every unit off inventory, the first warehouse of ``warehouses`` first; refuse when short."""
    wanted: dict[int, int] = {}
    docs: dict[int, dict] = {}
    for row, qty in rows:
        wanted[row["id"]] = wanted.get(row["id"], 0) + qty
        docs[row["id"]] = {**row["doc"], "inventory": dict(row["doc"]["inventory"])}
    for pid, qty in wanted.items():
        inv = docs[pid]["inventory"]
        if sum(inv.values()) < qty:
            raise OrderError(409, f"product {pid} has {sum(inv.values())} in stock, the order wants {qty}")
        for wid in sorted(inv, key=lambda w: warehouses.index(w) if w in warehouses else len(warehouses)):
            took = min(qty, inv[wid])
            inv[wid] -= took
            qty -= took
        c.execute(update(products).where(products.c.id == pid).values(doc=docs[pid]))


class OrderStore:
    engine: Engine

    def place_order(self, shop_id: str, warehouses: Sequence[str], items: Sequence[Mapping[str, Any]], *,
                    buyer: Mapping[str, Any] | None, status: str, create_time: int | None, now: int,
                    shipping_fee: int = 10_000) -> dict[str, Any]:
        """A new order of ``items`` (``{seller_sku | product_id, quantity}``), stock taken."""
        if status not in ORDER_STATUSES or status == "CANCELLED":
            raise OrderError(400, f"an order cannot be placed {status}")
        created = now if create_time is None else create_time
        with self.engine.begin() as c:
            rows = _resolve(c, shop_id, items)
            _take_stock(c, rows, warehouses)
            oid = next_id(c, orders.c.id, FIRST_ORDER_ID)
            units = [row for row, qty in rows for _ in range(qty)]
            line_items = [{"id": f"{oid}{n:03d}", "product_id": str(r["id"]), "sku_id": str(r["sku_id"]),
                           "seller_sku": r["seller_sku"], "product_name": r["doc"]["title"],
                           "sale_price": r["doc"]["price"], "currency": "IDR"} for n, r in enumerate(units, start=1)]
            sub = sum(int(r["doc"]["price"]) for r in units)
            doc: dict[str, Any] = {
                "buyer_message": str((buyer or {}).get("message", "")), "warehouse_id": warehouses[0],
                "line_items": line_items, "recipient_address": _address(buyer),
                "payment": {"currency": "IDR", "sub_total": str(sub), "shipping_fee": str(shipping_fee),
                            "total_amount": str(sub + shipping_fee)}}
            if status != "UNPAID":
                doc["paid_time"] = created
            c.execute(orders.insert().values(id=oid, shop_id=shop_id, status=status, create_time=created,
                                             update_time=created, doc=doc))
            return order_answer(c.execute(select(orders).where(orders.c.id == oid)).mappings().one())

    def set_order_status(self, order_id: int, status: str, *, update_time: int | None, now: int,
                         cancel_reason: str | None = None) -> tuple[dict[str, Any], bool]:
        """Move an order: ``(order, changed)``. ``update_time`` grows on every change."""
        if status not in ORDER_STATUSES:
            raise OrderError(400, f"unknown order status {status!r}; one of {', '.join(ORDER_STATUSES)}")
        with self.engine.begin() as c:
            cur = c.execute(select(orders).where(orders.c.id == order_id)).mappings().first()
            if cur is None:
                raise OrderError(404, f"no order {order_id}")
            if cur["status"] == status:
                return order_answer(cur), False
            if cur["status"] == "CANCELLED":
                raise OrderError(409, f"order {order_id} is cancelled")
            when = max(now, cur["update_time"] + 1) if update_time is None else update_time
            if when <= cur["update_time"]:
                raise OrderError(400, f"update_time must grow past {cur['update_time']}")
            doc = dict(cur["doc"])
            if cur["status"] == "UNPAID" and status != "CANCELLED":
                doc["paid_time"] = when
            if status == "CANCELLED":
                doc.update(cancel_reason=cancel_reason or DEFAULT_CANCEL_REASON, cancel_time=when)
            c.execute(update(orders).where(orders.c.id == order_id).values(status=status, update_time=when, doc=doc))
            return order_answer(c.execute(select(orders).where(orders.c.id == order_id)).mappings().one()), True

    def search_orders(self, shop_id: str, f: Mapping[str, Any], sort_field: str, descending: bool,
                      cursor: tuple[int, int] | None, limit: int) -> tuple[list[dict], int, bool]:
        """A page of the shop's orders: ``(orders, total_count, more)``."""
        conds = [orders.c.shop_id == shop_id]
        if f.get("order_status"):
            conds.append(orders.c.status == f["order_status"])
        for name in ("create_time", "update_time"):
            if f.get(f"{name}_ge") is not None:
                conds.append(orders.c[name] >= f[f"{name}_ge"])
            if f.get(f"{name}_lt") is not None:
                conds.append(orders.c[name] < f[f"{name}_lt"])
        col = orders.c[sort_field]
        order_by = (col.desc(), orders.c.id.desc()) if descending else (col, orders.c.id)
        with self.engine.connect() as c:
            total = c.execute(select(func.count()).select_from(orders).where(*conds)).scalar_one()
            q = select(orders).where(*conds)
            if cursor is not None:
                q = q.where(paging.after(col, orders.c.id, cursor, descending))
            rows = c.execute(q.order_by(*order_by).limit(limit + 1)).mappings().all()
        return [order_answer(r) for r in rows[:limit]], total, len(rows) > limit

    def orders_by_ids(self, shop_id: str, ids: Iterable[int]) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(select(orders).where(orders.c.shop_id == shop_id, orders.c.id.in_(list(ids)))
                             .order_by(orders.c.id)).mappings().all()
        return [order_answer(r) for r in rows]

    def order_shop(self, order_id: int) -> str | None:
        with self.engine.connect() as c:
            return c.execute(select(orders.c.shop_id).where(orders.c.id == order_id)).scalar()

    def orders_of(self, shop_id: str) -> list[dict]:
        with self.engine.connect() as c:
            rows = c.execute(select(orders).where(orders.c.shop_id == shop_id)
                             .order_by(orders.c.create_time, orders.c.id)).mappings().all()
        return [order_answer(r) for r in rows]
