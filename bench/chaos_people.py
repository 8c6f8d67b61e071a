"""What people do in the chaos suite (bench/chaos.py): groups change their catalogues and photos,
buyers order on both channels, orders move on or are cancelled."""

from __future__ import annotations

import random
from collections import Counter

from chaos_world import SHOPS, TIKTOK_SHOPS, Group, World

FINISHED = frozenset({0, 3, 5, 6, 10, 15, 700})
NEXT_STATUS = {220: 400, 400: 450, 450: 500, 500: 600, 600: 700}
TIKTOK_FINISHED = frozenset({"COMPLETED", "CANCELLED"})
TIKTOK_NEXT = {"UNPAID": "AWAITING_SHIPMENT", "ON_HOLD": "AWAITING_SHIPMENT",
               "AWAITING_SHIPMENT": "AWAITING_COLLECTION", "AWAITING_COLLECTION": "IN_TRANSIT",
               "IN_TRANSIT": "DELIVERED", "DELIVERED": "COMPLETED"}


# ---- the groups ----------------------------------------------------------------------------------

def mutate(world: World, rng: random.Random) -> list[str]:
    done = []
    for g in world.groups:
        if rng.random() > 0.45:
            continue
        for _ in range(rng.randint(1, 2)):
            done.append(_mutate_one(world, g, rng))
        world.write(g)
    return done


def _mutate_one(world: World, g: Group, rng: random.Random) -> str:
    present = [p for p in g.products if p.present]
    absent = [p for p in g.products if not p.present]
    kinds = ["price", "stock", "stock", "description", "rename", "add"]
    if len(present) > 7:
        kinds.append("remove")
    if absent:
        kinds.append("restore")
    if g.tiktok:
        kinds.append("photo")
    other = next((o for o in world.groups if o.shop == g.shop and o is not g), None)
    if other is not None:
        kinds.append("same-name")
    kind = rng.choice(kinds)
    p = rng.choice(present)
    if kind == "price":
        p.price = rng.choice([v for v in (p.price + 500, p.price - 500, p.price + 2500) if v >= 1000])
    elif kind == "stock":
        p.stock = rng.choice([v for v in range(0, 40) if v != p.stock])
    elif kind == "description":
        world.bump_description(g, p)
    elif kind == "rename":
        g.serial += 1
        p.name = f"{p.name.rsplit(' Seri ', 1)[0]} Seri {g.serial}"[:70]
    elif kind == "add":
        g.products.append(world.new_product(g, rng, len(g.products)))
    elif kind == "remove":
        p.present = False
    elif kind == "restore":
        rng.choice(absent).present = True
    elif kind == "photo":  # a new photo; a link instead of a file (off TikTok); another product's photo
        files = sorted({q.photo for q in g.products if q.photo and q.photo != p.photo})
        roll = rng.random()
        if roll < 0.6 or (roll >= 0.8 and not files):
            p.photo = world.new_photo(g, rng)
            kind = "photo:new file"
        elif roll < 0.8:
            p.photo = None
            kind = "photo:link"
        else:
            p.photo = rng.choice(files)
            kind = "photo:shared file"
        return f"{g.id}:{kind}"
    elif kind == "same-name":
        theirs = {q.name.casefold() for q in g.products}
        names = [q.name for q in other.products if q.present and q.name.casefold() not in theirs]
        if names:
            new = world.new_product(g, rng, len(g.products))
            new.name = rng.choice(names)
            g.products.append(new)
    return f"{g.id}:{kind}"


# ---- buyers --------------------------------------------------------------------------------------

def buyers(world: World, rng: random.Random) -> Counter:
    done: Counter = Counter()
    _marketplace_buyers(world, rng, done)
    _tiktok_buyers(world, rng, done)
    return done


def _marketplace_buyers(world: World, rng: random.Random, done: Counter) -> None:
    admin = world.sb.admin
    for shop in SHOPS:
        products = [p for p in admin.products(shop)
                    if p["status"] == "ACTIVE" and p["stock"] > 0 and p["sku"].startswith(world.prefixes)]
        for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
            products = [p for p in products if p["stock"] > 0]
            if not products:
                break
            p = rng.choice(products)
            qty = rng.randint(1, min(3, p["stock"]))
            try:
                admin.place_order(shop, [{"sku": p["sku"], "quantity": qty}])
                p["stock"] -= qty
                done["marketplace orders placed"] += 1
            except Exception:  # e.g. min_order: a buyer who changed their mind
                done["marketplace orders refused"] += 1
        if rng.random() < 0.5:
            open_orders = [o for o in admin.orders(shop) if o["order_status"] not in FINISHED]
            if open_orders:
                o = rng.choice(open_orders)
                if rng.random() < 0.4:
                    admin.set_order_status(o["order_id"], rng.choice((0, 5, 10)))
                    done["marketplace orders cancelled"] += 1
                else:
                    admin.set_order_status(o["order_id"], NEXT_STATUS.get(o["order_status"], 700))
                    done["marketplace orders moved on"] += 1


def _tiktok_buyers(world: World, rng: random.Random, done: Counter) -> None:
    """Orders of one or two SKUs (TikTok lists one line item per unit), some left UNPAID or put ON_HOLD."""
    admin = world.tt.admin
    for shop in TIKTOK_SHOPS:
        stock = {p["seller_sku"]: sum(p["doc"]["inventory"].values()) for p in admin.products(shop)
                 if p["status"] == "ACTIVATE" and p["seller_sku"].startswith(world.prefixes)}
        placed: set[str] = set()
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            skus = sorted(s for s, n in stock.items() if n > 0)
            if not skus:
                break
            items = [{"seller_sku": s, "quantity": rng.randint(1, min(3, stock[s]))}
                     for s in rng.sample(skus, min(len(skus), rng.choice((1, 1, 1, 2))))]
            roll = rng.random()
            status = "UNPAID" if roll < 0.2 else "ON_HOLD" if roll < 0.25 else "AWAITING_SHIPMENT"
            try:
                order = admin.place_order(shop, items, status=status,
                                          buyer={"name": "Dewi Lestari", "message": "<b>tolong</b> cepat ya"})
                placed.add(order["id"])
                for it in items:
                    stock[it["seller_sku"]] -= it["quantity"]
                done[f"tiktok orders placed ({status})"] += 1
            except Exception:
                done["tiktok orders refused"] += 1
        if rng.random() < 0.6:
            # Not an order placed just now: moved in the second it was placed, the sandbox dates the
            # change a second ahead of the clock, and a pull cut off at "now" sees it only next time.
            open_orders = [o for o in admin.orders(shop)
                           if o["status"] not in TIKTOK_FINISHED and o["id"] not in placed]
            if open_orders:
                o = rng.choice(open_orders)
                if rng.random() < 0.4:
                    admin.set_order_status(o["id"], "CANCELLED")
                    done[f"tiktok orders cancelled ({o['status']})"] += 1
                else:
                    admin.set_order_status(o["id"], TIKTOK_NEXT[o["status"]])
                    done["tiktok orders moved on"] += 1
