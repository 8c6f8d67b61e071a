"""Chaos suite: seeded, randomised sync and order cycles against the sandbox with faults injected.

    .venv/bin/python bench/chaos.py [--cycles 200] [--seed 1] [--keep DIR] [--verbose]

Every cycle (a ``random.Random`` seeded with ``SEED:CYCLE``, so a cycle repeats on its own):

1. the groups change their catalogues (prices, stock recounts, descriptions, renames, rows
   removed, restored and added, a name another group in the same shop already uses);
2. buyers place orders on the marketplace and orders move on or are cancelled;
3. faults are injected into the sandbox: 5xx before and after a write is applied, 429 storms,
   token expiry in the middle of a run, slow answers (some past the client's timeout: a lost
   answer), and in some cycles the process itself is killed (``os._exit``) at a random
   marketplace call (before it is sent or after its answer came) or state-store commit;
4. a sync, an order pull or a backfill runs under those faults (it may fail: that is allowed);
5. safety invariants are checked: no duplicate listing (SKU or name) in any shop, no listing the
   catalogues never asked for, no order stored twice or with lines that differ from the
   marketplace's, no state row pointing at another product, and no listing's marketplace stock
   above what it was before the run or above ``recorded − sold − buffer`` (the stock rule);
6. the faults stop, one sync runs (it pulls the shops' orders first), and the result must be *exact*: the active
   listings of every shop are the catalogues' listings with every field as planned (names made
   unique in shared shops, stock = recorded − sold since the catalogue was recorded − buffer),
   everything else of ours is inactive, the state store holds exactly the marketplace's orders,
   and every order line is in the order sheets once; every few cycles a further sync must make
   zero writes (checked on the sandbox's own counters).

Ground truth comes from the catalogue files, their modification times and the sandbox's own
orders and products, never from the pipeline's state store.

How the flows run (a choice): the engine the flows are a shell over (``flows.engine.sync.run_sync``,
``flows.engine.order_runs.run_order_pull`` / ``run_backfill``) in this process, each step run
inline (``flows.engine.steps.Inline``), without a Prefect API: a Prefect flow run costs ~1 s of
orchestration against ~0.25 s of work here, and hundreds of cycles must fit in minutes. So
Prefect's own task retries are not part of this suite (the connector's retries are). Killed runs
are a process of their own (forked; this file with ``--driver`` where fork is not available).
The client's backoff is scaled down (0.02 s base instead of 0.5 s; the same schedule shape) and
its timeout is 1 s, so a 1.5 s latency fault is a lost answer; shop locks
(flows/engine/locks.py) get a 1 s lease, so a killed run's shops are free 1 s later instead of 90 s.

Prints cycles, runs by kind, faults injected and fired by kind, kills, and invariant violations
(with the first examples); exit status 1 when there was any violation.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import logging
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KILL_STATUS = 37
CLIENT_TIMEOUT_S = 1.0
LOCK_LEASE_S = 1.0
WRITE_PATHS = ("/create", "/edit", "/price/update", "/stock/update", "/active", "/inactive")
READ_PATHS = ("/product/info", "/order/list", "/v2/fs/", "/token")
EVERY_RUN = ("", "", "/order/list", "/product/info")  # paths (""= any) every run calls: faults there fire
CANCEL_CODES = frozenset({0, 3, 5, 6, 10, 15})
FINISHED = CANCEL_CODES | {700}
NEXT_STATUS = {220: 400, 400: 450, 450: 500, 500: 600, 600: 700}
SHOPS = (479573, 479574, 479575)

# id, name, village, shop, has a Kode column (renames keep the SKU)
GROUPS = (
    ("kebumen-melati", "KWT Melati", "Desa Kutosari", 479573, True),
    ("garut-sukamaju", "KUB Sukamaju", "Desa Sukamaju", 479574, False),
    ("sumba-tenun-ikat", "Kelompok Tenun Ikat", "Desa Prailiu", 479574, True),
    ("bantul-mawar", "KWT Mawar", "Desa Wukirsari", 479575, False),
)
CATEGORIES = ("Keripik", "Manisan", "Kue Kering", "Sambal", "Kopi Bubuk", "Batik Tulis", "Sarung",
              "Anyaman", "Tas", "Masker Kain", "Kain Tenun", "Dekorasi Rumah")
WORDS = ("Singkong", "Pisang", "Balado", "Carica", "Nastar", "Bawang", "Robusta", "Pandan", "Mendong",
         "Ikat", "Sekar", "Jagad", "Lurik", "Gula Aren", "Jahe", "Talas", "Kelapa", "Melati")
SHARED_NAMES = ("Keripik Singkong Balado", "Kopi Bubuk Robusta 200 gr")
HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1"]

log = logging.getLogger("lapak.chaos")


# ---- running the flows' engine without a Prefect API ---------------------------------------------

_patch_lock = threading.Lock()
_patch_users: dict[str, tuple[int, list]] = {}


@contextlib.contextmanager
def _shared_patch(key: str, apply) -> Iterator[None]:
    """Module patches shared by threads: applied by the first user, undone by the last."""
    with _patch_lock:
        users, saved = _patch_users.get(key, (0, []))
        if users == 0:
            saved = apply()
        _patch_users[key] = (users + 1, saved)
    try:
        yield
    finally:
        with _patch_lock:
            users, saved = _patch_users[key]
            _patch_users[key] = (users - 1, saved)
            if users == 1:
                for mod, name, obj in reversed(saved):
                    setattr(mod, name, obj)


def quick_client():
    """The marketplace client with a short timeout and a scaled-down backoff (same shape)."""
    return _shared_patch("client", _quick_client)


def _quick_client() -> list:
    from tenacity import wait_exponential_jitter

    from connectors.marketplace import MarketplaceClient

    original = MarketplaceClient.__init__

    def init(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", CLIENT_TIMEOUT_S)
        original(self, *args, **kwargs)
        self._backoff = wait_exponential_jitter(multiplier=0.02, max=0.3, jitter=0.02)

    MarketplaceClient.__init__ = init
    return [(MarketplaceClient, "__init__", original)]


def short_leases():
    """Shop locks with a short lease: a killed run's shops are free again a second later, not 90 s."""
    return _shared_patch("locks", _short_leases)


def _short_leases() -> list:
    import flows.engine.locks as locks

    saved = [(locks, "DEFAULT_LEASE_S", locks.DEFAULT_LEASE_S)]
    locks.DEFAULT_LEASE_S = LOCK_LEASE_S
    return saved


def run_op(op: str, config: Path) -> dict:
    """One run of ``op`` (sync, orders or backfill of yesterday and today): the engine the flow
    runs, its steps inline; raises what the flow would end FAILED with."""
    from flows.engine.order_runs import raise_for_errors, run_backfill, run_order_pull
    from flows.engine.planning import SyncOptions
    from flows.engine.runtime import open_run
    from flows.engine.steps import Inline
    from flows.engine.sync import run_sync
    from schemas.dates import WIB

    with quick_client(), short_leases(), open_run(config) as rt:
        if op == "sync":
            report = run_sync(rt, SyncOptions(), Inline(rt))
            report.raise_for_problems()
            return report.summary()
        if op == "orders":
            summary = run_order_pull(rt, Inline(rt))
        else:
            from datetime import datetime, timedelta

            today = datetime.now(WIB).date()
            summary = run_backfill(rt, Inline(rt), today - timedelta(days=1), today)
        raise_for_errors(summary)
        return summary


# ---- the killed process --------------------------------------------------------------------------

def killed_run(op: str, config: Path, n: int, when: str, hook: str) -> int:
    """Run OP and ``os._exit(KILL_STATUS)`` at the Nth marketplace call (``hook`` http; ``when``
    before it is sent / after its answer came) or the Nth state-store transaction (``hook`` store;
    ``when`` before it commits / after). Meant for a process of its own: returns 0 or 1 if it
    was not killed."""
    seen = [0]

    def tick(phase: str) -> None:
        if phase == "before":
            seen[0] += 1
        if seen[0] == n and phase == when:
            os._exit(KILL_STATUS)

    if hook == "http":
        from connectors.marketplace.client import MarketplaceClient

        http = MarketplaceClient._http

        def killing_http(self, *args: Any, **kwargs: Any):
            tick("before")
            out = http(self, *args, **kwargs)
            tick("after")
            return out

        MarketplaceClient._http = killing_http
    else:
        from connectors.state.store import StateStore

        session = StateStore.session

        @contextlib.contextmanager
        def killing_session(self):
            with session(self) as s:
                yield s
                tick("before")  # still inside the transaction: dying here loses it
            tick("after")

        StateStore.session = killing_session
    try:
        run_op(op, config)
    except Exception as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def _child(args: tuple) -> None:
    logging.disable(logging.CRITICAL)
    os._exit(killed_run(*args))


def run_in_killed_process(op: str, config: Path, n: int, when: str, hook: str) -> int:
    """``killed_run`` in a process of its own (forked where possible: no start-up cost); its exit status."""
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods():
        proc = multiprocessing.get_context("fork").Process(target=_child, args=((op, config, n, when, hook),))
        proc.start()
        proc.join(300)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
        return proc.exitcode
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, str(Path(__file__).resolve()), "--driver", op, str(config), str(n), when,
                           hook], env=env, cwd=ROOT, capture_output=True, timeout=300).returncode


# ---- the world: sandbox, config, catalogues ------------------------------------------------------

@dataclass
class Product:
    code: str
    name: str
    category: str
    price: int
    stock: int
    weight_g: int
    description: str
    present: bool = True


@dataclass
class Group:
    id: str
    name: str
    village: str
    shop: int
    kode: bool
    products: list[Product] = field(default_factory=list)
    recorded_at: float = 0.0   # the file's modification time when its content last changed
    serial: int = 0
    seen: set[str] = field(default_factory=set)  # every content written

    @property
    def file(self) -> str:
        return f"catalogues/{self.id}.csv"


def _rupiah(n: int) -> str:
    return "Rp " + f"{n:,}".replace(",", ".")


class World:
    """The sandbox, a config pointing at it, four groups on three shops and their catalogues."""

    def __init__(self, root: Path, sandbox, *, seed: int, buffer: int = 1) -> None:
        self.root = root
        self.sb = sandbox
        self.buffer = buffer
        self.config = root / "lapak.toml"
        root.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{seed}:world")
        self.groups = [Group(*g) for g in GROUPS]
        for g in self.groups:
            for i in range(10):
                g.products.append(self._new_product(g, rng, i))
        # Two groups on one shop sell products of the same name.
        a, b = (g for g in self.groups if g.shop == 479574)
        for g in (a, b):
            for i, name in enumerate(SHARED_NAMES):
                g.products[i].name = name
        lines = ["[marketplace]", f'api_url = "{sandbox.url}"', f'auth_url = "{sandbox.url}"',
                 f"fs_id = {sandbox.fs_id}", f'client_id = "{sandbox.client_id}"', "rate_limit_per_second = 1000",
                 "[state]", 'url = "sqlite:///var/lapak.db"', "[output]", 'dir = "out"',
                 "[stock]", f"safety_buffer = {buffer}"]
        for g in self.groups:
            lines += ["[[groups]]", f'id = "{g.id}"', f'name = "{g.name}"', f'village = "{g.village}"',
                      f"shop_id = {g.shop}", f'catalogue = "{g.file}"']
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for g in self.groups:
            self.write(g)
        self._store = None
        self._intake_cache: dict[str, tuple[float, int, list[dict]]] = {}
        self.all_skus: set[str] = set()

    def _new_product(self, g: Group, rng: random.Random, i: int) -> Product:
        g.serial += 1
        category = rng.choice(CATEGORIES)
        return Product(code=f"{g.id[:3].upper()}-{g.serial:03d}", category=category,
                       name=f"{category} {rng.choice(WORDS)} {g.village.split()[-1]} {g.serial}",
                       price=rng.randrange(10, 400) * 500, stock=rng.randrange(3, 30),
                       weight_g=rng.choice((150, 250, 500, 1000)), description=f"Produk {g.name} dari {g.village}.")

    def _rows(self, g: Group) -> list[list[str]]:
        header = HEADER + (["Kode"] if g.kode else [])
        rows = [header]
        n = 0
        for p in g.products:
            if not p.present:
                continue
            n += 1
            slug = p.code.lower()
            row = [str(n), p.name, p.category, _rupiah(p.price), str(p.stock), f"{p.weight_g} gr", p.description,
                   f"https://images.lapakdesa.example/{g.id}/{slug}.jpg"]
            rows.append(row + ([p.code] if g.kode else []))
        return rows

    def write(self, g: Group) -> None:
        """Save the group's catalogue. Its content is always new: the pipeline takes a file whose
        content it already recorded as not recounted (the stock was counted back then)."""
        path = self.root / g.file
        path.parent.mkdir(parents=True, exist_ok=True)
        while repr(rows := self._rows(g)) in g.seen:  # e.g. a row removed and restored in one cycle
            self._bump_description(g)
        g.seen.add(repr(rows))
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
        g.recorded_at = path.stat().st_mtime

    @staticmethod
    def _bump_description(g: Group, p: Product | None = None) -> None:
        g.serial += 1
        p = p or next(q for q in g.products if q.present)
        p.description = f"Produk {g.name} dari {g.village}, edisi {g.serial}."

    @property
    def store(self):
        if self._store is None:
            from connectors.config import load_config
            from connectors.state import StateStore

            self._store = StateStore(load_config(self.config).state_url)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()

    # ---- what the catalogues ask for (ground truth) ----------------------------------------------

    def desired(self) -> dict[int, dict[str, dict]]:
        """Per shop: SKU → the listing the catalogues ask for (name unique in the shop, stock by the rule)."""
        from flows.engine.intake import intake_catalogue
        from schemas.categories import DEFAULT_CATEGORIES, CategoryIndex
        from schemas.listing import listings_of
        from schemas.naming import taken_names

        cats = CategoryIndex(DEFAULT_CATEGORIES, {})
        labels = {g.id: g.village or g.name for g in self.groups}
        orders = {shop: self.sb.admin.orders(shop) for shop in SHOPS}
        out: dict[int, dict[str, dict]] = {}
        for shop in SHOPS:
            rows = []
            for g in (g for g in self.groups if g.shop == shop):
                path = self.root / g.file
                key = (path.stat().st_mtime, path.stat().st_size)
                cached = self._intake_cache.get(g.id)
                if cached is None or cached[:2] != key:
                    _raw, result = intake_catalogue(path, g.id, cats)
                    if result.rejected_rows:
                        raise AssertionError(
                            f"{g.id}: the harness wrote rejected rows: {result.rejects.head().to_dict()}")
                    cached = (*key, [dict(asdict(x), recorded_stock=x.stock) for x in listings_of(result.listings)])
                    self._intake_cache[g.id] = cached
                since = int(g.recorded_at)  # orders created from that second on count as sold after it
                for r in cached[2]:
                    r = dict(r)
                    sold = sum(it["quantity"] for o in orders[shop] if o["order_status"] not in CANCEL_CODES
                               and o["create_time"] >= since for it in o["products"] if it["sku"] == r["sku"])
                    r["stock"] = max(0, r["recorded_stock"] - sold - self.buffer)
                    rows.append(r)
            wanted = {r["sku"]: r["name"] for r in rows}
            market = self.sb.admin.products(shop)
            # Names in use that no row can have: products no catalogue lists (by the plan's own
            # rule, schemas.naming.taken_names), and a product with an order whose name changed in
            # its catalogue (the marketplace keeps its name).
            others = [SimpleNamespace(name=p["name"], sku=p["sku"], group_id=self.group_of(p["sku"]))
                      for p in market if p["sku"] not in wanted]
            taken = taken_names(others, labels)
            taken.update({p["name"].casefold(): p["sku"] for p in market
                          if p["sku"] in wanted and p["has_order"] and p["name"] != wanted[p["sku"]]})
            skus = set(wanted)
            out[shop] = {r["sku"]: r for r in _unique_names(rows, labels, taken)}
            self.all_skus |= skus
        return out

    def group_of(self, sku: str) -> str:
        return next((g.id for g in self.groups if sku.startswith(_prefix(g.id))), "")

    # ---- changes people make ---------------------------------------------------------------------

    def mutate(self, rng: random.Random) -> list[str]:
        done = []
        for g in self.groups:
            if rng.random() > 0.45:
                continue
            for _ in range(rng.randint(1, 2)):
                done.append(self._mutate_one(g, rng))
            self.write(g)
        return done

    def _mutate_one(self, g: Group, rng: random.Random) -> str:
        present = [p for p in g.products if p.present]
        absent = [p for p in g.products if not p.present]
        kinds = ["price", "stock", "stock", "description", "rename", "add"]
        if len(present) > 7:
            kinds.append("remove")
        if absent:
            kinds.append("restore")
        other = next((o for o in self.groups if o.shop == g.shop and o is not g), None)
        if other is not None:
            kinds.append("same-name")
        kind = rng.choice(kinds)
        p = rng.choice(present)
        if kind == "price":
            p.price = rng.choice([v for v in (p.price + 500, p.price - 500, p.price + 2500) if v >= 1000])
        elif kind == "stock":
            p.stock = rng.choice([v for v in range(0, 40) if v != p.stock])
        elif kind == "description":
            self._bump_description(g, p)
        elif kind == "rename":
            g.serial += 1
            p.name = f"{p.name.rsplit(' Seri ', 1)[0]} Seri {g.serial}"[:70]
        elif kind == "add":
            g.products.append(self._new_product(g, rng, len(g.products)))
        elif kind == "remove":
            p.present = False
        elif kind == "restore":
            rng.choice(absent).present = True
        elif kind == "same-name":
            theirs = {q.name.casefold() for q in g.products}
            names = [q.name for q in other.products if q.present and q.name.casefold() not in theirs]
            if names:
                new = self._new_product(g, rng, len(g.products))
                new.name = rng.choice(names)
                g.products.append(new)
        return f"{g.id}:{kind}"

    # ---- buyers --------------------------------------------------------------------------------

    def buyers(self, rng: random.Random) -> Counter:
        done: Counter = Counter()
        prefixes = tuple(_prefix(g.id) for g in self.groups)
        for shop in SHOPS:
            products = [p for p in self.sb.admin.products(shop)
                        if p["status"] == "ACTIVE" and p["stock"] > 0 and p["sku"].startswith(prefixes)]
            for _ in range(rng.choice((0, 0, 1, 1, 2, 3))):
                products = [p for p in products if p["stock"] > 0]
                if not products:
                    break
                p = rng.choice(products)
                qty = rng.randint(1, min(3, p["stock"]))
                try:
                    self.sb.admin.place_order(shop, [{"sku": p["sku"], "quantity": qty}])
                    p["stock"] -= qty
                    done["orders placed"] += 1
                except Exception:  # e.g. min_order: a buyer who changed their mind
                    done["orders refused"] += 1
            if rng.random() < 0.5:
                open_orders = [o for o in self.sb.admin.orders(shop) if o["order_status"] not in FINISHED]
                if open_orders:
                    o = rng.choice(open_orders)
                    if rng.random() < 0.4:
                        self.sb.admin.set_order_status(o["order_id"], rng.choice((0, 5, 10)))
                        done["orders cancelled"] += 1
                    else:
                        self.sb.admin.set_order_status(o["order_id"], NEXT_STATUS.get(o["order_status"], 700))
                        done["orders moved on"] += 1
        return done

    # ---- faults --------------------------------------------------------------------------------

    def inject(self, rng: random.Random) -> Counter:
        injected: Counter = Counter()
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(("error_5xx_before", "error_5xx_after", "http_429", "token_expiry", "latency"))
            seed = rng.randrange(1 << 30)
            if kind == "error_5xx_before":
                path = rng.choice(EVERY_RUN + WRITE_PATHS + READ_PATHS)
                if rng.random() < 0.5:
                    self.sb.admin.inject_fault(kind, path=path, count=rng.randint(1, 3), seed=seed)
                else:
                    self.sb.admin.inject_fault(kind, path=path, probability=0.3, count=6, seed=seed)
            elif kind == "error_5xx_after":
                self.sb.admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS + ("/token",)),
                                           count=rng.randint(1, 2), seed=seed, status=rng.choice((500, 502, 503)))
            elif kind == "http_429":  # a storm: several in a row on one path
                self.sb.admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS + READ_PATHS),
                                           count=rng.randint(3, 10), reset_after=round(rng.uniform(0.02, 0.2), 3),
                                           seed=seed)
            elif kind == "token_expiry":
                self.sb.admin.inject_fault(kind, path=rng.choice(("",) + WRITE_PATHS + ("/order/list",)),
                                           count=rng.randint(1, 2), seed=seed)
            elif rng.random() < 0.3:  # an answer that never comes in time: the write may still land
                self.sb.admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS), count=1,
                                           seconds=CLIENT_TIMEOUT_S + 0.5)
                kind = "latency (timeout)"
            else:
                self.sb.admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS + READ_PATHS), probability=0.5,
                                           count=6, seconds=round(rng.uniform(0.02, 0.25), 3), seed=seed)
            injected[kind] += 1
        return injected


def _unique_names(rows: list[dict], labels: dict[str, str], taken: dict[str, str]) -> list[dict]:
    """The plan's own naming rule (schemas.naming.unique_names) on the harness's plain rows."""
    from schemas.listing import Listing
    from schemas.naming import unique_names

    fields = set(Listing.__dataclass_fields__)
    named = unique_names([Listing(**{k: v for k, v in r.items() if k in fields}) for r in rows], labels, taken)
    return [dict(r, name=n.name) for r, n in zip(rows, named)]


def _prefix(group_id: str) -> str:
    from schemas.skus import sku_prefix

    return sku_prefix(group_id) + "-"


# ---- invariants ----------------------------------------------------------------------------------

def marketplace_products(world: World) -> dict[int, list[dict]]:
    return {shop: world.sb.admin.products(shop) for shop in SHOPS}


def check_safety(world: World, products: dict[int, list[dict]], before: dict[str, int],
                 desired: dict[int, dict[str, dict]]) -> list[str]:
    """What must hold after any run, faults or not."""
    bad = []
    prefixes = tuple(_prefix(g.id) for g in world.groups)
    for shop, items in products.items():
        skus = Counter(p["sku"] for p in items)
        names = Counter(p["name"].casefold() for p in items)
        bad += [f"duplicate SKU in shop {shop}: {s} ×{n}" for s, n in skus.items() if n > 1]
        bad += [f"duplicate name in shop {shop}: {s!r} ×{n}" for s, n in names.items() if n > 1]
        for p in items:
            if not p["sku"].startswith(prefixes):
                continue
            if p["sku"] not in world.all_skus:
                bad.append(f"shop {shop}: listing {p['sku']} ({p['name']!r}) no catalogue ever asked for")
            if p["status"] != "ACTIVE":
                continue
            want = desired[shop].get(p["sku"])
            allowed = max(before.get(p["sku"], -1), want["stock"] if want else -1)
            if p["stock"] > allowed:
                bad.append(f"stock: {p['sku']} shows {p['stock']}, above both its stock before the run "
                           f"({before.get(p['sku'])}) and recorded − sold − buffer ({want and want['stock']})")
    bad += check_orders(world, exact=False)
    # The state store never points a SKU at another product, nor two SKUs at one.
    by_id = {p["id"]: p for items in products.values() for p in items}
    for shop in SHOPS:
        rows = [asdict(k) for k in world.store.listings(shop_id=shop)]
        ids = Counter(r["product_id"] for r in rows if r["product_id"] is not None)
        bad += [f"state: product {pid} recorded under {n} SKUs in shop {shop}" for pid, n in ids.items() if n > 1]
        for r in rows:
            p = by_id.get(r["product_id"]) if r["product_id"] is not None else None
            if r["product_id"] is not None and (p is None or p["sku"] != r["sku"] or p["shop_id"] != shop):
                bad.append(f"state: {r['sku']} recorded as product {r['product_id']}, which is "
                           f"{p and p['sku']!r} on the marketplace")
    return bad


def check_orders(world: World, *, exact: bool) -> list[str]:
    """Stored orders are marketplace orders, each once, with the marketplace's lines; ``exact``: all of them."""
    bad = []
    for shop in SHOPS:
        market = {o["order_id"]: o for o in world.sb.admin.orders(shop)}
        stored = world.store.orders_for(shop)
        ids = Counter(o.order_id for o in stored)
        bad += [f"order {oid} stored {n} times" for oid, n in ids.items() if n > 1]
        for o in stored:
            m = market.get(o.order_id)
            if m is None:
                bad.append(f"order {o.order_id} stored for shop {shop} but not on the marketplace")
                continue
            lines = sorted((i.sku, i.quantity) for i in o.lines)
            if lines != sorted((p["sku"], p["quantity"]) for p in m["products"]):
                bad.append(f"order {o.order_id}: stored lines {lines} differ from the marketplace's")
            if exact and o.status != m["order_status"]:
                bad.append(f"order {o.order_id}: stored status {o.status}, marketplace {m['order_status']}")
        if exact:
            missing = set(market) - set(ids)
            bad += [f"order {oid} of shop {shop} never stored" for oid in sorted(missing)]
    return bad


def check_converged(world: World, products: dict[int, list[dict]], desired: dict[int, dict[str, dict]]) -> list[str]:
    """After a clean sync and pull: the shops hold exactly the catalogues' listings."""
    bad = []
    prefixes = tuple(_prefix(g.id) for g in world.groups)
    fields = (("name", "name"), ("category_id", "category_id"), ("price", "price"), ("stock", "stock"),
              ("min_order", "min_order"), ("condition", "condition"), ("description", "description"))
    for shop, items in products.items():
        ours = {p["sku"]: p for p in items if p["sku"].startswith(prefixes)}
        want = desired[shop]
        active = {s for s, p in ours.items() if p["status"] == "ACTIVE"}
        bad += [f"shop {shop}: {s} is active but no catalogue lists it" for s in sorted(active - set(want))]
        bad += [f"shop {shop}: {s} ({want[s]['name']!r}) is not listed" for s in sorted(set(want) - set(ours))]
        bad += [f"shop {shop}: {s} is listed but inactive" for s in sorted(set(want) & set(ours) - active)]
        for sku in sorted(set(want) & active):
            p, d = ours[sku], want[sku]
            for mf, df in fields:
                if mf == "name" and p["has_order"] and p[mf] != d[df]:
                    continue  # a product with an order keeps its name (the marketplace refuses a rename)
                if p[mf] != d[df]:
                    bad.append(f"shop {shop}: {sku} {mf} is {p[mf]!r}, the catalogue says {d[df]!r}")
            if abs(float(p["weight"]) - float(d["weight_g"])) > 1e-6:
                bad.append(f"shop {shop}: {sku} weight is {p['weight']}, the catalogue says {d['weight_g']}")
            if [x["file_path"] if isinstance(x, dict) else x for x in p["pictures"]] != list(d["pictures"]):
                bad.append(f"shop {shop}: {sku} pictures differ")
    bad += check_orders(world, exact=True)
    # Every order line in the order sheets, once.
    sheets = Counter()
    for path in (world.root / "out" / "orders").glob("*/*.csv"):
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                sheets[(int(row["No. Pesanan / Order ID"]), row["SKU"])] += 1
    stored = Counter((o.order_id, i.sku) for shop in SHOPS for o in world.store.orders_for(shop) for i in o.lines)
    bad += [f"order sheets: order {k[0]} {k[1]} appears {n} times" for k, n in sheets.items() if n > 1]
    bad += [f"order sheets: order {k[0]} {k[1]} missing" for k in stored if k not in sheets]
    return bad


def write_items(world: World) -> int:
    paths = world.sb.admin.stats()["paths"]
    return sum(p["items"] for path, p in paths.items() if path.endswith(WRITE_PATHS))


# ---- the suite ---------------------------------------------------------------------------------

@dataclass
class Report:
    cycles: int = 0
    runs: Counter = field(default_factory=Counter)
    injected: Counter = field(default_factory=Counter)
    fired: Counter = field(default_factory=Counter)
    kills: Counter = field(default_factory=Counter)
    people: Counter = field(default_factory=Counter)
    violations: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    zero_write_checks: int = 0
    seconds: float = 0.0
    spent: Counter = field(default_factory=Counter)

    def violate(self, cycle: int, where: str, problems: list[str]) -> None:
        for p in problems:
            self.violations[where] += 1
            if len(self.examples) < 25:
                self.examples.append(f"cycle {cycle} ({where}): {p}")

    @property
    def total_violations(self) -> int:
        return sum(self.violations.values())

    def lines(self) -> list[str]:
        out = [f"cycles: {self.cycles} in {self.seconds:.0f} s",
               "runs under faults: " + _fmt(self.runs),
               "faults injected (specs): " + _fmt(self.injected),
               "faults fired (sandbox counters): " + _fmt(self.fired),
               "process kills: " + _fmt(self.kills),
               "catalogue changes and buyers: " + _fmt(self.people),
               f"zero-write re-sync checks: {self.zero_write_checks}",
               "time spent (s): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(self.spent.items())),
               f"invariant violations: {self.total_violations}"
               + (f" ({_fmt(self.violations)})" if self.violations else "")]
        out += [f"  {e}" for e in self.examples]
        return out


def _fmt(c: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"


def _fired(world: World) -> Counter:
    return Counter(world.sb.admin.stats().get("faults_fired") or {})


def run_killed(world: World, op: str, rng: random.Random) -> tuple[str, int]:
    hook = "store" if rng.random() < 0.3 else "http"
    n = rng.randint(1, 12 if hook == "store" else 20)
    when = rng.choice(("before", "after"))
    status = run_in_killed_process(op, world.config, n, when, hook)
    label = f"killed at {hook} {when} #{n}" if status == KILL_STATUS else (
        "finished before the kill point" if status == 0 else "failed before the kill point")
    return label, status


@contextlib.contextmanager
def _timed(report: Report, what: str) -> Iterator[None]:
    t = time.monotonic()
    try:
        yield
    finally:
        report.spent[what] += time.monotonic() - t


def cycle(world: World, report: Report, seed: int, n: int, *, zero_write_every: int, kill_share: float,
          verbose: bool) -> None:
    """One cycle: people change things, faults, a run, the safety checks, a clean run, the exact checks."""
    rng = random.Random(f"{seed}:{n}")
    with _timed(report, "people"):
        report.people.update(k.split(":")[1] for k in world.mutate(rng))
        report.people.update(world.buyers(rng))
    with _timed(report, "checks"):
        desired = world.desired()
        before = {p["sku"]: p["stock"] for items in marketplace_products(world).values() for p in items}
        fired0 = _fired(world)
    report.injected.update(world.inject(rng))
    op = rng.choice(("sync",) * 6 + ("orders",) * 3 + ("backfill",))
    with _timed(report, "runs under faults"):
        if rng.random() < kill_share:
            outcome, status = run_killed(world, op, rng)
            report.kills[outcome.split(" #")[0]] += 1
            result = "killed" if status == KILL_STATUS else "completed" if status == 0 else "failed"
        else:
            try:
                run_op(op, world.config)
                outcome = result = "completed"
            except Exception as err:
                outcome, result = f"failed ({type(err).__name__}: {err})", "failed"
    report.runs[f"{op} {result}"] += 1
    with _timed(report, "checks"):
        world.sb.admin.clear_faults()
        report.fired.update(_fired(world) - fired0)
        report.violate(n, "after faults", check_safety(world, marketplace_products(world), before, desired))

    with _timed(report, "clean runs"):
        try:
            run_op("sync", world.config)  # one run, with the faults off, must converge
        except Exception as err:
            report.violate(n, "clean run", [f"the sync failed with faults off: {type(err).__name__}: {err}"])
    with _timed(report, "checks"):
        report.violate(n, "converged", check_converged(world, marketplace_products(world), world.desired()))
    if zero_write_every and n % zero_write_every == 0:
        with _timed(report, "clean runs"):
            before_writes = write_items(world)
            try:
                planned = run_op("sync", world.config)["planned_writes"]
            except Exception as err:
                planned = f"{type(err).__name__}: {err}"
            made = write_items(world) - before_writes
        report.zero_write_checks += 1
        if planned != 0 or made != 0:
            report.violate(n, "zero-write re-sync", [f"planned {planned}, the marketplace saw {made} write items"])
    report.cycles += 1
    if verbose:
        print(f"cycle {n}: {op} {outcome}; violations so far {report.total_violations}", flush=True)


def run_suite(cycles: int, seed: int, root: Path, *, zero_write_every: int = 5, kill_share: float = 0.2,
              verbose: bool = False) -> Report:
    """Run ``cycles`` chaos cycles in ``root`` (a fresh sandbox and world); returns the figures."""
    from connectors.sandbox import running_sandbox

    report = Report()
    t0 = time.monotonic()
    with running_sandbox(root / "sandbox", rate_limit=None, shops=SHOPS) as sb:
        os.environ["LAPAK_CLIENT_SECRET"] = sb.client_secret
        world = World(root / "world", sb, seed=seed)
        try:
            world.desired()
            run_op("sync", world.config)  # the first listing, without faults
            report.violate(0, "converged", check_converged(world, marketplace_products(world), world.desired()))
            for n in range(1, cycles + 1):
                cycle(world, report, seed, n, zero_write_every=zero_write_every, kill_share=kill_share, verbose=verbose)
        finally:
            world.close()
    report.seconds = time.monotonic() - t0
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--driver"]:  # where fork is not available
        logging.disable(logging.CRITICAL)
        op, config, n, when, hook = argv[1:6]
        return killed_run(op, Path(config), int(n), when, hook)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kill-share", type=float, default=0.2, help="share of cycles run in a process killed part-way")
    p.add_argument("--zero-write-every", type=int, default=5, help="a zero-write re-sync check every N cycles")
    p.add_argument("--keep", type=Path, default=None, help="keep the sandbox, catalogues and state here")
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args(argv)
    for k in [k for k in os.environ if k.startswith("LAPAK_")]:  # a developer's overrides would skew the run
        del os.environ[k]
    logging.basicConfig(level=logging.CRITICAL)
    root = args.keep or Path(tempfile.mkdtemp(prefix="lapak-chaos-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"chaos suite: {args.cycles} cycles, seed {args.seed}, in {root}", flush=True)
    try:
        report = run_suite(args.cycles, args.seed, root, zero_write_every=args.zero_write_every,
                           kill_share=args.kill_share, verbose=args.verbose)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print("\n".join(report.lines()))
    return 1 if report.total_violations else 0


if __name__ == "__main__":
    sys.exit(main())
