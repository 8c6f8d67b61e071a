"""The sandbox's products: create, edit, absolute price/stock, (de)activate, and reads.

A mixin of :class:`~connectors.sandbox.store.Store`; each public method is one transaction.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, select, update

from connectors.sandbox import rules
from connectors.sandbox.tables import FIRST_PRODUCT_ID, first_free_id, products
from schemas.listing import PRICE_MAX, PRICE_MIN, STOCK_MAX, STOCK_MIN


def product_info(p: Mapping[str, Any]) -> dict[str, Any]:
    """A product row in the contract's ``product/info`` shape."""
    return {
        "basic": {
            "productID": p["id"], "name": p["name"], "status": p["status"],
            "categoryID": p["category_id"], "condition": p["condition"], "shopID": p["shop_id"],
        },
        "price": {"value": p["price"], "currency": p["price_currency"]},
        "stock": {"value": p["stock"]},
        "weight": {"value": p["weight"], "unit": p["weight_unit"]},
        "sku": p["sku"],
        "description": p["description"],
        "pictures": [{"file_path": x["file_path"]} for x in p["pictures"]],
        "min_order": p["min_order"],
    }


def _taken(c: Connection, shop_id: int, col: Any, values: Iterable[str]) -> dict[str, int]:
    values = list(set(values))
    found: dict[str, int] = {}
    for i in range(0, len(values), 500):  # stay under SQLite's bound-parameter limit
        q = select(col, products.c.id).where(products.c.shop_id == shop_id, col.in_(values[i:i + 500]))
        found.update(c.execute(q).tuples().all())
    return found


def _edited(c: Connection, shop_id: int, pid: Any) -> tuple[RowMapping | None, str | None]:
    """The product an edit row names, or ``None`` and the row error saying why there is none."""
    if not isinstance(pid, int) or isinstance(pid, bool):
        return None, "Field [id] is required and must be an integer"
    cur = c.execute(select(products).where(
        products.c.shop_id == shop_id, products.c.id == pid)).mappings().first()
    if cur is None:
        return None, f"Product [{pid}] not found in shop [{shop_id}]"
    return cur, None


def _edit_conflicts(c: Connection, shop_id: int, pid: int, v: Mapping[str, Any], cur: RowMapping) -> list[str]:
    """The row errors of an edit whose new SKU or name is taken, or whose name is kept by an order."""
    errors: list[str] = []
    if "sku" in v and v["sku"] != cur["sku"]:
        other = c.execute(select(products.c.id).where(
            products.c.shop_id == shop_id, products.c.sku == v["sku"])).first()
        if other is not None:
            errors.append(rules.used("sku", v["sku"]))
    if "name" in v and v["name"] != cur["name"]:
        if cur["has_order"]:
            errors.append(f"Value [{v['name']}] of field [name] cannot be changed: "
                          f"product [{pid}] already has an order")
        other = c.execute(select(products.c.id).where(
            products.c.shop_id == shop_id, products.c.name_key == v["name"].casefold(),
            products.c.id != pid)).first()
        if other is not None:
            errors.append(rules.used("name", v["name"]))
    return errors


def _failed_edit(raw: Any, pid: Any, cur: RowMapping | None, errors: list[str]) -> dict:
    """A ``failed_rows_data`` item of an edit: the name and SKU it sent, else the product's."""
    src = dict(cur) if cur is not None else {}
    if isinstance(raw, Mapping):
        src.update({k: raw[k] for k in ("name", "sku") if k in raw})
    return {"product_id": pid, "product_name": src.get("name"), "sku": src.get("sku"), "error": errors}


class ProductStore:
    """Products: the contract's product endpoints (and a raw listing for the admin surface)."""

    engine: Engine

    def create_products(
        self, shop_id: int, rows: Sequence[Any], *, leaves: Collection[int], known: Collection[int]
    ) -> tuple[list[dict], list[dict]]:
        """Create what passes the rules; returns (success_rows_data, failed_rows_data)."""
        checked = [rules.check_product(r, partial=False, leaves=leaves, known=known) for r in rows]
        now = int(time.time())
        ok: list[dict] = []
        failed: list[dict] = []
        new: list[dict] = []
        with self.engine.begin() as c:
            skus = _taken(c, shop_id, products.c.sku, (v["sku"] for v, _ in checked if "sku" in v))
            names = _taken(c, shop_id, products.c.name_key,
                           (v["name"].casefold() for v, _ in checked if "name" in v))
            next_id = first_free_id(c, products.c.id, FIRST_PRODUCT_ID)
            for raw, (v, errors) in zip(rows, checked):
                if "sku" in v and v["sku"] in skus:
                    errors.append(rules.used("sku", v["sku"]))
                if "name" in v and v["name"].casefold() in names:
                    errors.append(rules.used("name", v["name"]))
                if errors:
                    src = raw if isinstance(raw, Mapping) else {}
                    failed.append({"product_name": src.get("name"), "sku": src.get("sku"), "error": errors})
                    continue
                pid = next_id
                next_id += 1
                skus[v["sku"]] = pid
                names[v["name"].casefold()] = pid
                new.append({**v, "id": pid, "shop_id": shop_id, "name_key": v["name"].casefold(),
                            "has_order": False, "create_time": now, "update_time": now})
                ok.append({"product_id": pid, "sku": v["sku"]})
            if new:
                c.execute(products.insert(), new)
        return ok, failed

    def edit_products(
        self, shop_id: int, rows: Sequence[Any], *, leaves: Collection[int], known: Collection[int]
    ) -> tuple[list[dict], list[dict]]:
        """Change only the fields each row gives; returns (success_rows_data, failed_rows_data)."""
        now = int(time.time())
        ok: list[dict] = []
        failed: list[dict] = []
        with self.engine.begin() as c:
            for raw in rows:
                pid = raw.get("id") if isinstance(raw, Mapping) else None
                v, errors = rules.check_product(raw, partial=True, leaves=leaves, known=known)
                cur, missing = _edited(c, shop_id, pid)
                if missing:
                    errors.insert(0, missing)
                if cur is not None:
                    errors += _edit_conflicts(c, shop_id, pid, v, cur)
                if errors:
                    failed.append(_failed_edit(raw, pid, cur, errors))
                    continue
                if "name" in v:
                    v["name_key"] = v["name"].casefold()
                c.execute(update(products).where(products.c.id == pid).values(**v, update_time=now))
                ok.append({"product_id": pid, "sku": v.get("sku", cur["sku"])})
        return ok, failed

    def update_field(self, shop_id: int, rows: Sequence[Any], field: str) -> tuple[int, list[dict]]:
        """Absolute price (``field="price"``) or stock updates; returns (succeed_rows, failed_rows_data)."""
        key = f"new_{field}"
        lo, hi = (PRICE_MIN, PRICE_MAX) if field == "price" else (STOCK_MIN, STOCK_MAX)
        now = int(time.time())
        succeeded = 0
        failed: list[dict] = []
        with self.engine.begin() as c:
            wanted = [r for r in rows if isinstance(r, Mapping)]
            by_sku = _taken(c, shop_id, products.c.sku,
                            (r["sku"] for r in wanted if isinstance(r.get("sku"), str) and r["sku"]))
            ids = [r["product_id"] for r in wanted if rules.is_int(r.get("product_id"))]
            by_id = {pid for (pid,) in c.execute(select(products.c.id).where(
                products.c.shop_id == shop_id, products.c.id.in_(ids)))} if ids else set()
            changes: list[dict] = []
            for raw in rows:
                r = raw if isinstance(raw, Mapping) else {}
                sku, pid, value = r.get("sku"), r.get("product_id"), r.get(key)
                if sku is not None and sku != "":  # the contract: sku wins over product_id
                    target = by_sku.get(sku) if isinstance(sku, str) else None
                    missing = f"Product with sku [{sku}] not found in shop [{shop_id}]"
                elif pid is not None:
                    target = pid if rules.is_int(pid) and pid in by_id else None
                    missing = f"Product [{pid}] not found in shop [{shop_id}]"
                else:
                    target, missing = None, "Field [sku] or [product_id] is required"
                msg = missing if target is None else rules.int_in_range(key, value, lo, hi)
                if msg:
                    failed.append({"product_id": target if target is not None else pid, "sku": sku,
                                   key: value, "message": msg})
                    continue
                changes.append({"pid": target, "value": value})
                succeeded += 1
            if changes:
                c.execute(update(products).where(products.c.id == bindparam("pid"))
                          .values({field: bindparam("value"), "update_time": now}), changes)
        return succeeded, failed

    def set_status(self, shop_id: int, ids: Sequence[Any], status: str) -> tuple[int, list[str]]:
        """Activate/deactivate; returns (succeed_rows, failed_rows_data as strings)."""
        good = [i for i in ids if rules.is_int(i)]
        with self.engine.begin() as c:
            found = {pid for (pid,) in c.execute(select(products.c.id).where(
                products.c.shop_id == shop_id, products.c.id.in_(good)))} if good else set()
            if found:
                c.execute(update(products).where(products.c.id.in_(found))
                          .values(status=status, update_time=int(time.time())))
        failed = [f"{i}: product not found in shop {shop_id}" if rules.is_int(i)
                  else f"{i}: product_id must be an integer" for i in ids
                  if not (rules.is_int(i) and i in found)]
        return len(ids) - len(failed), failed

    def product_page(self, shop_id: int, page: int, per_page: int) -> list[dict]:
        q = (select(products).where(products.c.shop_id == shop_id).order_by(products.c.id)
             .limit(per_page).offset((page - 1) * per_page))
        with self.engine.connect() as c:
            return [product_info(p) for p in c.execute(q).mappings()]

    def products_where(self, shop_ids: Collection[int], *, sku: str | None = None,
                       product_id: int | None = None) -> list[dict]:
        """Products of the given shops with that SKU or id, in the info shape."""
        q = select(products).where(products.c.shop_id.in_(list(shop_ids)))
        if sku is not None:
            q = q.where(products.c.sku == sku)
        if product_id is not None:
            q = q.where(products.c.id == product_id)
        with self.engine.connect() as c:
            return [product_info(p) for p in c.execute(q.order_by(products.c.id)).mappings()]

    def raw_products(self, shop_id: int) -> list[dict]:
        """Every column of a shop's products (admin, for test assertions)."""
        with self.engine.connect() as c:
            rows = c.execute(select(products).where(products.c.shop_id == shop_id).order_by(products.c.id))
            return [{k: v for k, v in r.items() if k != "name_key"} for r in rows.mappings()]
