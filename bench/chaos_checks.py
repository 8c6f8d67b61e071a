"""The chaos suite's invariants (bench/chaos.py), on both channels.

Ground truth is the catalogue files (what they ask of each channel: :meth:`World.desired`) and the
sandboxes' own products and orders; the state store is only ever the thing checked.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass

from chaos_world import MARKET, SHOPS, TIKTOK, TIKTOK_SHOPS, TIKTOK_STOCK_MAX, Sales, World

Key = tuple[str, object]  # (channel, shop)
TT_WRITE_ENDINGS = ("/partial_edit", "/inventory/update", "/prices/update", "/products/activate",
                    "/products/deactivate", "/images/upload")
TT_CREATE = "/product/202309/products"
MARKET_WRITE_PATHS = ("/create", "/edit", "/price/update", "/stock/update", "/active", "/inactive")


@dataclass(frozen=True)
class Shown:
    """A product as a channel shows it, in one shape for both channels."""

    sku: str
    name: str
    active: bool
    stock: int
    id: str
    raw: dict


def shown(world: World) -> dict[Key, list[Shown]]:
    """Every product of every shop on both sandboxes."""
    out: dict[Key, list[Shown]] = {}
    for shop in SHOPS:
        out[(MARKET, shop)] = [Shown(p["sku"], p["name"], p["status"] == "ACTIVE", p["stock"], str(p["id"]), p)
                               for p in world.sb.admin.products(shop)]
    for shop in TIKTOK_SHOPS:
        out[(TIKTOK, shop)] = [Shown(p["seller_sku"], p["doc"]["title"], p["status"] == "ACTIVATE",
                                     sum(p["doc"]["inventory"].values()), str(p["id"]), p)
                               for p in world.tt.admin.products(shop)]
    return out


def stock_shown(products: dict[Key, list[Shown]]) -> dict[tuple[str, str], int]:
    return {(key[0], p.sku): p.stock for key, items in products.items() for p in items}


def one_stock(world: World, products: dict[Key, list[Shown]], sales: Sales, versions: list[dict],
              exempt: set[tuple[str, str]]) -> list[str]:
    """No channel shows more than recorded − sold on ALL channels − buffer (TikTok capped): for each
    active listing, at most the rule of the catalogue the run may have worked from (the one the
    last clean sync converged to, or the one saved since), with every sale on either sandbox
    counted. ``exempt``: (channel, SKU) the run reported it could not write."""
    bad = []
    for (channel, shop), items in products.items():
        cap = TIKTOK_STOCK_MAX if channel == TIKTOK else None
        for p in items:
            if not p.active or not p.sku.startswith(world.prefixes) or (channel, p.sku) in exempt:
                continue
            gid = world.group_of(p.sku)
            rules = [sales.rule(v[gid][1][p.sku], p.sku, v[gid][0], world.buffer, cap)
                     for v in versions if p.sku in v[gid][1]]
            if rules and p.stock > max(rules):
                bad.append(f"one stock: {channel} shop {shop} shows {p.sku} at {p.stock}, above recorded − sold on "
                           f"all channels − buffer ({' or '.join(map(str, rules))}; sold {sales.sold(p.sku, 0)} "
                           f"in all)")
    return bad


def check_safety(world: World, products: dict[Key, list[Shown]], before: dict[tuple[str, str], int],
                 desired: dict[Key, dict[str, dict]], sales: Sales) -> list[str]:
    """What must hold after any run, faults or kills or not."""
    bad = []
    for (channel, shop), items in products.items():
        skus = Counter(p.sku for p in items)
        bad += [f"duplicate SKU in {channel} shop {shop}: {s} ×{n}" for s, n in skus.items() if n > 1]
        if channel == MARKET:  # the marketplace refuses a name in use; TikTok allows it (ours are unique at rest)
            names = Counter(p.name.casefold() for p in items)
            bad += [f"duplicate name in shop {shop}: {s!r} ×{n}" for s, n in names.items() if n > 1]
        for p in items:
            if not p.sku.startswith(world.prefixes):
                continue
            if p.sku not in world.asked[(channel, shop)]:
                bad.append(f"{channel} shop {shop}: product {p.sku} ({p.name!r}) no catalogue ever asked for there")
            if not p.active:
                continue
            want = desired[(channel, shop)].get(p.sku)
            allowed = max(before.get((channel, p.sku), -1), want["stock"] if want else -1)
            if p.stock > allowed:
                bad.append(f"stock: {channel} {p.sku} shows {p.stock}, above both its stock before the run "
                           f"({before.get((channel, p.sku))}) and recorded − sold − buffer ({want and want['stock']})")
    bad += check_orders(world, sales, exact=False)
    bad += check_state(world, products)
    return bad


def check_state(world: World, products: dict[Key, list[Shown]]) -> list[str]:
    """The state store never points a SKU at another product, nor two SKUs at one."""
    bad = []
    for (channel, shop), items in products.items():
        by_id = {p.id: p for p in items}
        rows = [asdict(k) for k in world.store.listings(shop_id=int(shop), channel=channel)]
        ids = Counter(r["product_id"] for r in rows if r["product_id"] is not None)
        bad += [f"state: {channel} product {pid} recorded under {n} SKUs in shop {shop}"
                for pid, n in ids.items() if n > 1]
        for r in rows:
            if r["product_id"] is None:
                continue
            p = by_id.get(str(r["product_id"]))
            if p is None or p.sku != r["sku"]:
                bad.append(f"state: {channel} {r['sku']} recorded as product {r['product_id']}, which is "
                           f"{p and p.sku!r} in shop {shop}")
    return bad


def check_orders(world: World, sales: Sales, *, exact: bool) -> list[str]:
    """Stored orders are the channels' orders, each once, with the channel's lines (TikTok: a
    line's quantity is the count of its line items); ``exact``: all of them, status too."""
    from schemas.orders import TIKTOK_STATUS

    bad = []
    channel_orders = [(MARKET, shop, {int(o["order_id"]): o for o in sales.market[shop]}) for shop in SHOPS]
    channel_orders += [(TIKTOK, shop, {int(o["id"]): o for o in sales.tiktok[shop]}) for shop in TIKTOK_SHOPS]
    for channel, shop, market in channel_orders:
        stored = world.store.orders_for(int(shop), channel=channel)
        ids = Counter(o.order_id for o in stored)
        bad += [f"{channel} order {oid} stored {n} times" for oid, n in ids.items() if n > 1]
        for o in stored:
            m = market.get(o.order_id)
            if m is None:
                bad.append(f"{channel} order {o.order_id} stored for shop {shop} but not on the channel")
                continue
            lines = sorted((i.sku, i.quantity) for i in o.lines)
            if channel == MARKET:
                theirs, status = sorted((p["sku"], p["quantity"]) for p in m["products"]), m["order_status"]
            else:
                theirs = sorted(Counter(li["seller_sku"] for li in m["line_items"]).items())
                status = TIKTOK_STATUS[m["status"]]
            if lines != theirs:
                bad.append(f"{channel} order {o.order_id}: stored lines {lines} differ from the channel's {theirs}")
            if exact and o.status != status:
                bad.append(f"{channel} order {o.order_id}: stored status {o.status}, the channel's {status}")
        if exact:
            bad += [f"{channel} order {oid} of shop {shop} never stored" for oid in sorted(set(market) - set(ids))]
    return bad


def check_converged(world: World, products: dict[Key, list[Shown]], desired: dict[Key, dict[str, dict]],
                    sales: Sales) -> list[str]:
    """After a clean sync (it pulls orders first): every shop on both channels holds exactly the
    catalogues' listings, stock = the rule; every order stored and in the order sheets once."""
    bad = []
    market_paths = {pic["sha256"]: pic["file_path"] for pic in world.sb.admin.pictures()}
    tiktok_images = {img["uri"]: img["sha256"] for img in world.tt.admin.images()}
    for (channel, shop), items in products.items():
        ours = {p.sku: p for p in items if p.sku.startswith(world.prefixes)}
        want = desired[(channel, shop)]
        active = {s for s, p in ours.items() if p.active}
        where = f"{channel} shop {shop}"
        bad += [f"{where}: {s} is active but no catalogue lists it" for s in sorted(active - set(want))]
        bad += [f"{where}: {s} ({want[s]['name']!r}) is not listed" for s in sorted(set(want) - set(ours))]
        bad += [f"{where}: {s} is listed but inactive" for s in sorted(set(want) & set(ours) - active)]
        for sku in sorted(set(want) & active):
            if channel == MARKET:
                bad += _market_fields(world, ours[sku].raw, want[sku], market_paths)
            else:
                bad += _tiktok_fields(world, shop, ours[sku], want[sku], tiktok_images, sales)
    bad += check_orders(world, sales, exact=True)
    bad += check_sheets(world)
    return bad


def _market_fields(world: World, p: dict, d: dict, paths: dict[str, str]) -> list[str]:
    bad = []
    sku, shop = d["sku"], p["shop_id"]
    for f in ("name", "category_id", "price", "stock", "min_order", "condition", "description"):
        if f == "name" and p["has_order"] and p[f] != d[f]:
            continue  # a product with an order keeps its name (the marketplace refuses a rename)
        if p[f] != d[f]:
            bad.append(f"shop {shop}: {sku} {f} is {p[f]!r}, the catalogue says {d[f]!r}")
    if abs(float(p["weight"]) - float(d["weight_g"])) > 1e-6:
        bad.append(f"shop {shop}: {sku} weight is {p['weight']}, the catalogue says {d['weight_g']}")
    shown_pics = [x["file_path"] if isinstance(x, dict) else x for x in p["pictures"]]
    wanted = [paths.get(world.prepared_sha(x), f"(not uploaded: {x})") if x.startswith("photo:") else x
              for x in d["pictures"]]
    if shown_pics != wanted:
        bad.append(f"shop {shop}: {sku} pictures {shown_pics} differ from the catalogue's {wanted}")
    return bad


def _tiktok_fields(world: World, shop: str, p: Shown, d: dict, images: dict[str, str], sales: Sales) -> list[str]:
    from connectors.tiktok.payloads import description_html
    from schemas.channel_rules import kilograms

    doc, sku, bad = p.raw["doc"], d["sku"], []
    where = f"tiktok shop {shop}: {sku}"
    if doc["title"] != d["name"] and (shop, sku) not in sales.tiktok_ordered:  # with an order: the title stays
        bad.append(f"{where} title is {doc['title']!r}, the catalogue says {d['name']!r}")
    for ours, theirs, what in ((doc["category_id"], str(d["category_id"]), "category"),
                               (doc["price"], str(d["price"]), "price"),
                               (p.stock, d["stock"], "stock"),
                               (doc["description"], description_html(d["description"]), "description")):
        if ours != theirs:
            bad.append(f"{where} {what} is {ours!r}, the catalogue says {theirs!r}")
    if abs(float(doc["package_weight"]["value"]) - float(kilograms(d["weight_g"]))) > 1e-9:
        bad.append(f"{where} weight is {doc['package_weight']}, the catalogue says {d['weight_g']} g")
    shown_pics = [images.get(u, f"(unknown image {u})") for u in doc["main_images"]]
    if shown_pics != [world.prepared_sha(x) for x in d["pictures"]]:
        bad.append(f"{where} main images differ from the catalogue's photos")
    return bad


def check_sheets(world: World) -> list[str]:
    """Every stored order line is in the order sheets once (orders of both channels)."""
    from schemas.channel import channel_label

    sheets: Counter = Counter()
    for path in (world.root / "out" / "orders").glob("*/*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                sheets[(row["Kanal / Channel"], int(row["No. Pesanan / Order ID"]), row["SKU"])] += 1
    stored = Counter((channel_label(o.channel), o.order_id, i.sku)
                     for o in world.store.orders_for(channel=None) for i in o.lines)
    bad = [f"order sheets: {k[0]} order {k[1]} {k[2]} appears {n} times" for k, n in sheets.items() if n > 1]
    bad += [f"order sheets: {k[0]} order {k[1]} {k[2]} missing" for k in stored if k not in sheets]
    return bad


def write_calls(world: World) -> dict[str, int]:
    """Writes each sandbox has seen (the marketplace's items; TikTok's calls, one product each)."""
    market = world.sb.admin.stats()["paths"]
    tiktok = world.tt.admin.stats()["paths"]
    return {MARKET: sum(p["items"] for path, p in market.items() if path.endswith(MARKET_WRITE_PATHS)),
            TIKTOK: sum(p["calls"] for path, p in tiktok.items()
                        if path.endswith(TT_WRITE_ENDINGS) or path == TT_CREATE)}
