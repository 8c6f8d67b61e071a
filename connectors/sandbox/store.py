"""The sandbox's state in SQLite (SQLAlchemy Core): products, orders, tokens, counters.

Each public method is one transaction, so a call that is answered 500 after applying
("error_5xx_after") really did apply. Only hashes of access tokens are stored.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    func,
    bindparam,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from connectors.sandbox import rules
from schemas.listing import PRICE_MAX, PRICE_MIN, STOCK_MAX, STOCK_MIN

CANCEL_CODES = frozenset({0, 3, 5, 6, 10, 15})
PAID = 220
ORDER_STATUSES = frozenset(
    {0, 3, 5, 6, 10, 15, 220, 221, 400, 450, 500, 501, 520, 530, 540, 550, 600, 601, 690, 700}
)
# Distinct id ranges, so a product id passed where an order id belongs finds nothing.
FIRST_PRODUCT_ID = 2_000_001
FIRST_ORDER_ID = 800_000_001
WIB = timezone(timedelta(hours=7))  # invoice dates are Jakarta dates

metadata = MetaData()

products = Table(
    "products", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("shop_id", Integer, nullable=False),
    Column("sku", String, nullable=False),
    Column("name", String, nullable=False),
    Column("name_key", String, nullable=False),  # casefolded: names are unique case-insensitively
    Column("category_id", Integer, nullable=False),
    Column("price", Integer, nullable=False),
    Column("price_currency", String, nullable=False),
    Column("stock", Integer, nullable=False),
    Column("min_order", Integer, nullable=False),
    Column("weight", Float, nullable=False),
    Column("weight_unit", String, nullable=False),
    Column("condition", String, nullable=False),
    Column("description", String, nullable=False),
    Column("pictures", JSON, nullable=False),
    Column("status", String, nullable=False),
    Column("has_order", Boolean, nullable=False),
    Column("create_time", Integer, nullable=False),
    Column("update_time", Integer, nullable=False),
    Index("ux_products_shop_sku", "shop_id", "sku", unique=True),
    Index("ux_products_shop_name", "shop_id", "name_key", unique=True),
)

orders = Table(
    "orders", metadata,
    Column("order_id", Integer, primary_key=True, autoincrement=False),
    Column("shop_id", Integer, nullable=False),
    Column("invoice_ref_num", String, nullable=False),
    Column("order_status", Integer, nullable=False),
    Column("create_time", Integer, nullable=False),
    Column("update_time", Integer, nullable=False),
    Column("buyer", JSON, nullable=False),
    Column("recipient", JSON, nullable=False),
    Column("shipping_cost", Integer, nullable=False),
    Index("ix_orders_shop_time", "shop_id", "create_time", "order_id"),
)

order_items = Table(
    "order_items", metadata,
    Column("order_id", Integer, ForeignKey("orders.order_id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("product_id", Integer, nullable=False),
    Column("sku", String, nullable=False),
    Column("name", String, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("price", Integer, nullable=False),
)

tokens = Table(
    "tokens", metadata,
    Column("token_hash", String, primary_key=True),
    Column("client_id", String, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False),
)

counters = Table(
    "counters", metadata,
    Column("path", String, primary_key=True),
    Column("calls", Integer, nullable=False),
    Column("items", Integer, nullable=False),
    Column("http_429", Integer, nullable=False),
    Column("row_429", Integer, nullable=False),
    Column("faults", Integer, nullable=False),
)

fault_counts = Table(
    "fault_counts", metadata,
    Column("kind", String, primary_key=True),
    Column("fired", Integer, nullable=False),
)

COUNTER_FIELDS = ("calls", "items", "http_429", "row_429", "faults")


class OrderError(ValueError):
    """An admin order action that cannot be done; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.status = status


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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


class Store:
    """The sandbox state in one SQLite file under the data dir."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(f"sqlite:///{db_path}")

        @event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            # WAL + NORMAL: commits survive a process crash, without an fsync per request.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    # --- tokens -----------------------------------------------------------------------------

    def issue_token(self, client_id: str, ttl: int) -> str:
        """A fresh bearer token valid ``ttl`` seconds; only its hash is kept."""
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as c:
            c.execute(tokens.insert().values(
                token_hash=_hash(token), client_id=client_id, expires_at=time.time() + ttl, revoked=False))
        return token

    def token_state(self, token: str) -> str:
        """``"ok"``, ``"expired"`` (past its time or revoked) or ``"invalid"``."""
        with self.engine.connect() as c:
            row = c.execute(select(tokens).where(tokens.c.token_hash == _hash(token))).first()
        if row is None:
            return "invalid"
        return "expired" if row.revoked or row.expires_at <= time.time() else "ok"

    def revoke_token(self, token: str) -> None:
        with self.engine.begin() as c:
            c.execute(update(tokens).where(tokens.c.token_hash == _hash(token)).values(revoked=True))

    # --- products ---------------------------------------------------------------------------

    @staticmethod
    def _next_id(c: Connection, col: Any, first: int) -> int:
        return max(c.execute(select(func.max(col))).scalar() or 0, first - 1) + 1

    @staticmethod
    def _taken(c: Connection, shop_id: int, col: Any, values: Iterable[str]) -> dict[str, int]:
        values = list(set(values))
        found: dict[str, int] = {}
        for i in range(0, len(values), 500):  # stay under SQLite's bound-parameter limit
            q = select(col, products.c.id).where(products.c.shop_id == shop_id, col.in_(values[i:i + 500]))
            found.update({k: pid for k, pid in c.execute(q)})
        return found

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
            skus = self._taken(c, shop_id, products.c.sku, (v["sku"] for v, _ in checked if "sku" in v))
            names = self._taken(c, shop_id, products.c.name_key,
                                (v["name"].casefold() for v, _ in checked if "name" in v))
            next_id = self._next_id(c, products.c.id, FIRST_PRODUCT_ID)
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
                cur = None
                if not isinstance(pid, int) or isinstance(pid, bool):
                    errors.insert(0, "Field [id] is required and must be an integer")
                else:
                    cur = c.execute(select(products).where(
                        products.c.shop_id == shop_id, products.c.id == pid)).mappings().first()
                    if cur is None:
                        errors.insert(0, f"Product [{pid}] not found in shop [{shop_id}]")
                if cur is not None:
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
                if errors:
                    src = dict(cur) if cur is not None else {}
                    if isinstance(raw, Mapping):
                        src.update({k: raw[k] for k in ("name", "sku") if k in raw})
                    failed.append({"product_id": pid, "product_name": src.get("name"),
                                   "sku": src.get("sku"), "error": errors})
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
            by_sku = self._taken(c, shop_id, products.c.sku, (r["sku"] for r in wanted if isinstance(r.get("sku"), str) and r["sku"]))
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

    # --- orders -----------------------------------------------------------------------------

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
        if not items:
            raise OrderError("an order needs at least one item", 400)
        now = int(time.time())
        created = int(create_time) if create_time is not None else now
        with self.engine.begin() as c:
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
            order_id = self._next_id(c, orders.c.order_id, FIRST_ORDER_ID)
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
            row = c.execute(select(orders).where(orders.c.order_id == order_id)).mappings().one()
            return self._orders_json(c, [row])[0]

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

    # --- counters ---------------------------------------------------------------------------

    def bump(self, path: str, **counts: int) -> None:
        """Add to one path's counters (``calls``, ``items``, ``http_429``, ``row_429``, ``faults``)."""
        values = {f: counts.get(f, 0) for f in COUNTER_FIELDS}
        stmt = sqlite_insert(counters).values(path=path, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=["path"], set_={f: counters.c[f] + stmt.excluded[f] for f in COUNTER_FIELDS})
        with self.engine.begin() as c:
            c.execute(stmt)

    def fault_fired(self, kind: str) -> None:
        stmt = sqlite_insert(fault_counts).values(kind=kind, fired=1)
        with self.engine.begin() as c:
            c.execute(stmt.on_conflict_do_update(index_elements=["kind"],
                                                 set_={"fired": fault_counts.c.fired + 1}))

    def stats(self) -> dict[str, Any]:
        """Counters per path, their totals, and faults fired by kind."""
        with self.engine.connect() as c:
            paths = {r["path"]: {f: r[f] for f in COUNTER_FIELDS}
                     for r in c.execute(select(counters).order_by(counters.c.path)).mappings()}
            fired = {k: n for k, n in c.execute(select(fault_counts.c.kind, fault_counts.c.fired))}
        totals = {f: sum(p[f] for p in paths.values()) for f in COUNTER_FIELDS}
        return {"paths": paths, "totals": totals, "faults_fired": fired}

    def reset_stats(self) -> None:
        with self.engine.begin() as c:
            c.execute(counters.delete())
            c.execute(fault_counts.delete())

