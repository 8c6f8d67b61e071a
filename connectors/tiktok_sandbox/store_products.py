"""The sandbox's products: create (with idempotency keys), edit, absolute stock and prices,
(de)activate, and reads in the contract's shapes.

A mixin of :class:`~connectors.tiktok_sandbox.store.Store`; each public method is one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update

from connectors.tiktok_sandbox import paging
from connectors.tiktok_sandbox.categories import chain
from connectors.tiktok_sandbox.tables import FIRST_PRODUCT_ID, FIRST_SKU_ID, next_id, products

ACTIVATE, DEACTIVATED = "ACTIVATE", "SELLER_DEACTIVATED"


class DuplicateSku(ValueError):
    """The seller_sku is already in the shop (400 ``12052002``)."""


def _price(amount: str) -> dict[str, str]:
    return {"currency": "IDR", "sale_price": amount, "tax_exclusive_price": amount}


def sku_answer(p: Mapping[str, Any]) -> dict[str, Any]:
    doc = p["doc"]
    return {"id": str(p["sku_id"]), "seller_sku": p["seller_sku"], "price": _price(doc["price"]),
            "inventory": [{"warehouse_id": w, "quantity": q} for w, q in doc["inventory"].items()]}


def product_summary(p: Mapping[str, Any]) -> dict[str, Any]:
    """A product as search lists it."""
    return {"id": str(p["id"]), "title": p["doc"]["title"], "status": p["status"],
            "create_time": p["create_time"], "update_time": p["update_time"], "skus": [sku_answer(p)]}


def product_detail(p: Mapping[str, Any], image_rows: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A product as ``GET /product/202309/products/{id}`` answers it."""
    doc = p["doc"]
    imgs = [{"uri": u, "urls": [image_rows[u]["url"]] if u in image_rows else [],
             "width": image_rows.get(u, {}).get("width", 0), "height": image_rows.get(u, {}).get("height", 0)}
            for u in doc["main_images"]]
    return {**product_summary(p), "description": doc["description"], "category_chains": chain(doc["category_id"]),
            "main_images": imgs, "package_weight": doc["package_weight"]}


def _row(c: Connection, shop_id: str, pid: int) -> Mapping[str, Any] | None:
    return c.execute(select(products).where(products.c.shop_id == shop_id, products.c.id == pid)).mappings().first()


class ProductStore:
    engine: Engine

    def create_product(self, shop_id: str, doc: dict[str, Any], key: str | None, now: int) -> tuple[dict, bool]:
        """``(result, replayed)``: a new ACTIVATE product, or the first result under ``key``.

        Raises :class:`DuplicateSku` when the shop already has the seller_sku.
        """
        with self.engine.begin() as c:
            if key is not None and (first := self._first_result(c, shop_id, key, now)) is not None:  # type: ignore[attr-defined]
                return first, True
            taken = c.execute(select(products.c.id).where(products.c.shop_id == shop_id,
                                                          products.c.seller_sku == doc["seller_sku"])).first()
            if taken is not None:
                raise DuplicateSku(f"seller_sku {doc['seller_sku']!r} is already product {taken.id} in this shop")
            pid = next_id(c, products.c.id, FIRST_PRODUCT_ID)
            sku_id = next_id(c, products.c.sku_id, FIRST_SKU_ID)
            c.execute(products.insert().values(id=pid, shop_id=shop_id, seller_sku=doc["seller_sku"], sku_id=sku_id,
                                               status=ACTIVATE, create_time=now, update_time=now, doc=doc))
            result = {"product_id": str(pid), "skus": [{"id": str(sku_id), "seller_sku": doc["seller_sku"]}],
                      "warnings": []}
            if key is not None:
                self._remember(c, shop_id, key, now, result)  # type: ignore[attr-defined]
        return result, False

    def product(self, shop_id: str, pid: int) -> Mapping[str, Any] | None:
        with self.engine.connect() as c:
            return _row(c, shop_id, pid)

    def search_products(self, shop_id: str, f: Mapping[str, Any], cursor: tuple[int, int] | None,
                        limit: int) -> tuple[list[Mapping[str, Any]], int, bool]:
        """A page of the shop's products by ``create_time`` then id: ``(rows, total_count, more)``."""
        conds = [products.c.shop_id == shop_id]
        if f.get("status") not in (None, "ALL"):
            conds.append(products.c.status == f["status"])
        if f.get("seller_skus") is not None:
            conds.append(products.c.seller_sku.in_(f["seller_skus"]))
        for name, col in (("create_time", products.c.create_time), ("update_time", products.c.update_time)):
            if f.get(f"{name}_ge") is not None:
                conds.append(col >= f[f"{name}_ge"])
            if f.get(f"{name}_le") is not None:
                conds.append(col <= f[f"{name}_le"])
        with self.engine.connect() as c:
            total = c.execute(select(func.count()).select_from(products).where(*conds)).scalar_one()
            q = select(products).where(*conds)
            if cursor is not None:
                q = q.where(paging.after(products.c.create_time, products.c.id, cursor))
            rows = c.execute(q.order_by(products.c.create_time, products.c.id).limit(limit + 1)).mappings().all()
        return list(rows[:limit]), total, len(rows) > limit

    def edit_product(self, shop_id: str, pid: int, changes: Mapping[str, Any], now: int) -> bool:
        """Apply partial_edit's fields; ``False`` when the product is not the shop's."""
        return self._change(shop_id, pid, lambda doc: {**doc, **changes}, now)

    def set_inventory(self, shop_id: str, pid: int, inventory: Mapping[str, int], now: int) -> bool:
        """Absolute quantities for the warehouses named; the others keep theirs."""
        return self._change(shop_id, pid, lambda doc: {**doc, "inventory": {**doc["inventory"], **inventory}}, now)

    def set_price(self, shop_id: str, pid: int, amount: str, now: int) -> bool:
        return self._change(shop_id, pid, lambda doc: {**doc, "price": amount}, now)

    def _change(self, shop_id: str, pid: int, fn: Any, now: int) -> bool:
        with self.engine.begin() as c:
            cur = _row(c, shop_id, pid)
            if cur is None:
                return False
            new = fn(dict(cur["doc"]))
            if new != cur["doc"]:
                c.execute(update(products).where(products.c.id == pid).values(
                    doc=new, update_time=max(now, cur["update_time"] + 1)))
        return True

    def set_status(self, shop_id: str, ids: Iterable[int], status: str, now: int) -> list[int]:
        """Set ``status`` on the shop's products among ``ids``; returns the ids it does not have."""
        unknown = []
        with self.engine.begin() as c:
            for pid in ids:
                cur = _row(c, shop_id, pid)
                if cur is None:
                    unknown.append(pid)
                elif cur["status"] != status:
                    c.execute(update(products).where(products.c.id == pid).values(
                        status=status, update_time=max(now, cur["update_time"] + 1)))
        return unknown

    def raw_products(self, shop_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(products).where(products.c.shop_id == shop_id).order_by(products.c.id)).mappings()
            return [{**dict(r), "id": str(r["id"]), "sku_id": str(r["sku_id"])} for r in rows]
