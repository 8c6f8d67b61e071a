"""Buyer-details retention at scale: the purge over a large orders table, a purge with nothing to do,
and what the guard costs an order upsert.

    .venv/bin/python bench/retention.py [--orders 200000] [--url sqlite:///…|postgresql://…]

The table is filled with ``--orders`` orders created over two years (two lines each, details
filled in), three in four of them final long enough ago to lose their details; then the purge
(``StateStore.remove_buyer_details``, 500 orders per UPDATE) runs, then again (nothing due: it
reads the partial index only), then a chunk of 200 orders is upserted as a pull stores them, half
of them already emptied (the guard empties them again in the same transaction).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from connectors.state.models import Order as OrderRow
from connectors.state.models import OrderItem as ItemRow
from connectors.state.models import utcnow
from connectors.state.store import StateStore
from schemas.orders import Order, OrderLine, Recipient

DAY = 86_400


def _fill(store: StateStore, n: int, now: int) -> int:
    """``n`` orders (and two lines each) in bulk; returns how many are due for the purge."""
    rng, due, at = random.Random(1), 0, utcnow()
    for lo in range(0, n, 5_000):
        orders, items = [], []
        for oid in range(lo, min(n, lo + 5_000)):
            created = now - rng.randrange(730 * DAY)
            final = rng.random() < 0.9
            updated = min(now, created + rng.randrange(30 * DAY))
            status = rng.choice((700, 700, 700, 15)) if final else 400
            due += final and updated < now - 90 * DAY
            orders.append(dict(channel="marketplace", order_id=oid, shop_id=1 + oid % 20, invoice_ref_num=f"INV/{oid}",
                               status=status, create_time=created, update_time=updated, buyer_name=f"Buyer {oid}",
                               recipient_name=f"Buyer {oid}", recipient_phone="081234567890",
                               recipient_address=f"Jl. Melati {oid}", recipient_district="Kalibeber",
                               recipient_city="Wonosobo", recipient_province="Jawa Tengah",
                               recipient_postal_code="56351", shipping_cost=9_000, total_amount=34_000,
                               first_seen_at=at, updated_at=at))
            items += [dict(channel="marketplace", order_id=oid, line=k, product_id=k, sku=f"SKU-{k}", name="Keripik",
                           quantity=1, price=12_500, total_price=12_500) for k in (1, 2)]
        with store.session() as s:
            s.execute(OrderRow.__table__.insert(), orders)
            s.execute(ItemRow.__table__.insert(), items)
    return due


def _chunk(now: int) -> list[Order]:
    return [Order(order_id=oid, shop_id=1 + oid % 20, invoice=f"INV/{oid}", status=700, create_time=now - 400 * DAY,
                  update_time=now - 300 * DAY, buyer_name="Buyer", recipient=Recipient(name="Buyer", phone="0812"),
                  lines=(OrderLine(1, 1, "SKU-1", "Keripik", 1, 12_500, 12_500),), total_amount=12_500)
            for oid in range(0, 200)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--orders", type=int, default=200_000)
    ap.add_argument("--url", default="")
    args = ap.parse_args()
    now = int(time.time())
    with tempfile.TemporaryDirectory() as tmp:
        store = StateStore(args.url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        try:
            t = time.perf_counter()
            due = _fill(store, args.orders, now)
            print(f"filled {args.orders:,} orders ({2 * args.orders:,} lines) in {time.perf_counter() - t:.1f} s; "
                  f"{due:,} due for the purge")
            t = time.perf_counter()
            done = store.remove_buyer_details(now - 90 * DAY)
            took = time.perf_counter() - t
            print(f"purge: {done.orders:,} orders emptied, {len(done.months)} months, {took:.2f} s "
                  f"({done.orders / took:,.0f} orders/s)")
            assert done.orders == due, (done.orders, due)
            t = time.perf_counter()
            again = store.remove_buyer_details(now - 90 * DAY)
            print(f"purge again (nothing due): {again.orders} orders, {1000 * (time.perf_counter() - t):.1f} ms")
            chunk = _chunk(now)
            store.upsert_orders(chunk)  # warm
            t = time.perf_counter()
            for _ in range(5):
                store.upsert_orders(chunk)
            print(f"upsert of 200 orders (details removed; the guard empties them again): "
                  f"{1000 * (time.perf_counter() - t) / 5:.1f} ms per chunk")
            with store.session() as s:
                assert all(r == "" for r in s.scalars(
                    OrderRow.__table__.select().with_only_columns(OrderRow.buyer_name)
                    .where(OrderRow.order_id < 200, OrderRow.buyer_details_removed_at.is_not(None))))
        finally:
            store.close()


if __name__ == "__main__":
    main()
