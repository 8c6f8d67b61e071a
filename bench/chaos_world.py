"""The chaos suite's world (bench/chaos.py): both sandboxes, a config pointing at them, four groups
on three marketplace shops (three of them also on two TikTok shops, one shared), their catalogues
and photo files, and what the catalogues ask of each channel (ground truth: the catalogue files,
their modification times and the sandboxes' own orders and products, never the state store).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import random
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

SHOPS = (479573, 479574, 479575)
TIKTOK_SHOPS = ("7494001", "7494002")
MARKET, TIKTOK = "marketplace", "tiktok"
CANCEL_CODES = frozenset({0, 3, 5, 6, 10, 15})
TIKTOK_CANCELLED = "CANCELLED"
TIKTOK_STOCK_MAX = 99_999
SECRET_KEY = "the chaos suite's key for sealed shop tokens, long enough"

# id, name, village, marketplace shop, has a Kode column (renames keep the SKU), TikTok shop (None: not there)
GROUPS = (
    ("kebumen-melati", "KWT Melati", "Desa Kutosari", 479573, True, "7494001"),
    ("garut-sukamaju", "KUB Sukamaju", "Desa Sukamaju", 479574, False, "7494002"),
    ("sumba-tenun-ikat", "Kelompok Tenun Ikat", "Desa Prailiu", 479574, True, "7494002"),
    ("bantul-mawar", "KWT Mawar", "Desa Wukirsari", 479575, False, None),
)
CATEGORIES = ("Keripik", "Manisan", "Kue Kering", "Sambal", "Kopi Bubuk", "Batik Tulis", "Sarung",
              "Anyaman", "Tas", "Masker Kain", "Kain Tenun", "Dekorasi Rumah")
# Where TikTok's leaf names differ from the first marketplace's (as the samples' [tiktok.categories]).
TIKTOK_ALIASES = {"keripik": "710101", "kopi bubuk": "710301", "masker kain": "740101"}
WORDS = ("Singkong", "Pisang", "Balado", "Carica", "Nastar", "Bawang", "Robusta", "Pandan", "Mendong",
         "Ikat", "Sekar", "Jagad", "Lurik", "Gula Aren", "Jahe", "Talas", "Kelapa", "Melati")
SHARED_NAMES = ("Keripik Singkong Balado", "Kopi Bubuk Robusta 200 gr")
HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1"]
PHOTO_SHARE = 0.8  # of a TikTok group's products, those with a photo file (the rest: an image-host link)


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
    photo: str | None = None  # a file in the group's photos folder; None: an image-host link


@dataclass
class Group:
    id: str
    name: str
    village: str
    shop: int
    kode: bool
    tiktok: str | None = None
    products: list[Product] = field(default_factory=list)
    recorded_at: float = 0.0   # the file's modification time when its content last changed
    serial: int = 0
    seen: set[str] = field(default_factory=set)  # every content written

    @property
    def file(self) -> str:
        return f"catalogues/{self.id}.csv"

    @property
    def photos(self) -> str:
        return f"photos/{self.id}"


@dataclass(frozen=True)
class Intake:
    """One catalogue content as the harness read it: the marketplace's rows and TikTok's fitted rows."""

    key: tuple[float, int]
    market: list[dict]
    tiktok: list[dict]


def _rupiah(n: int) -> str:
    return "Rp " + f"{n:,}".replace(",", ".")


def prefix_of(group_id: str) -> str:
    from schemas.skus import sku_prefix

    return sku_prefix(group_id) + "-"


class Sales:
    """Units in live (not cancelled) orders per SKU on both channels, read from both sandboxes."""

    def __init__(self, market: dict[int, list[dict]], tiktok: dict[str, list[dict]]) -> None:
        self.market, self.tiktok = market, tiktok
        self.units: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for orders in market.values():
            for o in orders:
                if o["order_status"] not in CANCEL_CODES:
                    self.units_of(o["create_time"], ((p["sku"], p["quantity"]) for p in o["products"]))
        for orders in tiktok.values():
            for o in orders:
                if o["status"] != TIKTOK_CANCELLED:  # UNPAID and ON_HOLD hold their units
                    self.units_of(o["create_time"], ((li["seller_sku"], 1) for li in o["line_items"]))
        self.tiktok_ordered = {(shop, li["seller_sku"]) for shop, orders in tiktok.items() for o in orders
                               for li in o["line_items"]}

    def units_of(self, created: int, lines) -> None:
        for sku, qty in lines:
            self.units[sku].append((int(created), int(qty)))

    def sold(self, sku: str, since: int) -> int:
        """Units sold from the second ``since`` on (an order in that second may come after the count)."""
        return sum(q for t, q in self.units.get(sku, ()) if t >= since)

    def rule(self, recorded: int, sku: str, since: int, buffer: int, cap: int | None = None) -> int:
        n = max(0, recorded - self.sold(sku, since) - buffer)
        return min(n, cap) if cap is not None else n


class World:
    """Both sandboxes, a config pointing at them, four groups and their catalogues and photos."""

    def __init__(self, root: Path, sandbox, tiktok, *, seed: int, buffer: int = 1) -> None:
        self.root = root
        self.sb, self.tt = sandbox, tiktok
        self.buffer = buffer
        self.config = root / "lapak.toml"
        self.cache = root / "harness-cache" / "photos"  # the harness's own prepared photos
        root.mkdir(parents=True, exist_ok=True)
        rng = random.Random(f"{seed}:world")
        self.groups = [Group(*g) for g in GROUPS]
        for g in self.groups:
            for i in range(10):
                g.products.append(self.new_product(g, rng, i))
        # Two groups on one shop sell products of the same name (on TikTok too: one shop there as well).
        a, b = (g for g in self.groups if g.shop == 479574)
        for g in (a, b):
            for i, name in enumerate(SHARED_NAMES):
                g.products[i].name = name
        self.config.write_text(self._config_text(), encoding="utf-8")
        for g in self.groups:
            self.write(g)
        self._store = None
        self._intake: dict[str, Intake] = {}
        self._prepared: dict[str, str] = {}
        self.asked: dict[tuple[str, object], set[str]] = defaultdict(set)  # (channel, shop) → SKUs ever asked for

    def _config_text(self) -> str:
        sb, tt = self.sb, self.tt
        lines = ["[marketplace]", f'api_url = "{sb.url}"', f'auth_url = "{sb.url}"', f"fs_id = {sb.fs_id}",
                 f'client_id = "{sb.client_id}"', "rate_limit_per_second = 1000",
                 "[tiktok]", f'api_url = "{tt.url}"', f'auth_url = "{tt.url}"', f'app_key = "{tt.app_key}"',
                 "rate_limit_per_second = 1000", "[tiktok.categories]",
                 *(f'"{k}" = "{v}"' for k, v in TIKTOK_ALIASES.items()),
                 "[state]", 'url = "sqlite:///var/lapak.db"', "[output]", 'dir = "out"',
                 "[stock]", f"safety_buffer = {self.buffer}"]
        for g in self.groups:
            lines += ["[[groups]]", f'id = "{g.id}"', f'name = "{g.name}"', f'village = "{g.village}"',
                      f"shop_id = {g.shop}", f'catalogue = "{g.file}"']
            if g.tiktok:
                lines += [f'tiktok_shop_id = "{g.tiktok}"', f'photos = "{g.photos}"']
        return "\n".join(lines) + "\n"

    def authorize_tiktok(self) -> None:
        """``lapak authorize tiktok`` for each TikTok shop (its tokens sealed in the state store)."""
        from flows.cli import main

        for shop in TIKTOK_SHOPS:
            with contextlib.redirect_stdout(io.StringIO()) as said:
                status = main(["authorize", "tiktok", "--config", str(self.config), "--shop", shop,
                               "--code", f"code-{shop}"])
            if status != 0 or f"TikTok shop {shop}" not in said.getvalue():
                raise RuntimeError(f"tiktok shop {shop} could not be authorised: {said.getvalue()}")

    # ---- catalogues and photos -----------------------------------------------------------------

    def new_product(self, g: Group, rng: random.Random, i: int) -> Product:
        g.serial += 1
        category = rng.choice(CATEGORIES)
        p = Product(code=f"{g.id[:3].upper()}-{g.serial:03d}", category=category,
                    name=f"{category} {rng.choice(WORDS)} {g.village.split()[-1]} {g.serial}",
                    price=rng.randrange(10, 400) * 500, stock=rng.randrange(3, 30),
                    weight_g=rng.choice((150, 250, 500, 1000)), description=f"Produk {g.name} dari {g.village}.")
        if g.tiktok and rng.random() < PHOTO_SHARE:
            p.photo = self.new_photo(g, rng)
        return p

    def new_photo(self, g: Group, rng: random.Random) -> str:
        """A new photo file (320 × 320 px JPEG, its own colours) in the group's photos folder."""
        from PIL import Image, ImageDraw

        g.serial += 1
        name = f"{g.id.split('-')[0]}-{g.serial:03d}.jpg"
        folder = self.root / g.photos
        folder.mkdir(parents=True, exist_ok=True)
        im = Image.new("RGB", (320, 320), tuple(rng.randrange(256) for _ in range(3)))
        x, y = rng.randrange(200), rng.randrange(200)
        ImageDraw.Draw(im).rectangle((x, y, x + 100, y + 100), fill=tuple(rng.randrange(256) for _ in range(3)))
        im.save(folder / name, "JPEG", quality=90)
        return name

    def _rows(self, g: Group) -> list[list[str]]:
        header = HEADER + (["Kode"] if g.kode else [])
        rows = [header]
        n = 0
        for p in g.products:
            if not p.present:
                continue
            n += 1
            photo = p.photo or f"https://images.lapakdesa.example/{g.id}/{p.code.lower()}.jpg"
            row = [str(n), p.name, p.category, _rupiah(p.price), str(p.stock), f"{p.weight_g} gr", p.description,
                   photo]
            rows.append(row + ([p.code] if g.kode else []))
        return rows

    def write(self, g: Group) -> None:
        """Save the group's catalogue. Its content is always new: the pipeline takes a file whose
        content it already recorded as not recounted (the stock was counted back then)."""
        path = self.root / g.file
        path.parent.mkdir(parents=True, exist_ok=True)
        while repr(rows := self._rows(g)) in g.seen:  # e.g. a row removed and restored in one cycle
            self.bump_description(g)
        g.seen.add(repr(rows))
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)
        g.recorded_at = path.stat().st_mtime

    @staticmethod
    def bump_description(g: Group, p: Product | None = None) -> None:
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

    def group_of(self, sku: str) -> str:
        return next((g.id for g in self.groups if sku.startswith(prefix_of(g.id))), "")

    @property
    def prefixes(self) -> tuple[str, ...]:
        return tuple(prefix_of(g.id) for g in self.groups)

    # ---- what the catalogues ask for (ground truth) ----------------------------------------------

    def sales(self) -> Sales:
        return Sales({shop: self.sb.admin.orders(shop) for shop in SHOPS},
                     {shop: self.tt.admin.orders(shop) for shop in TIKTOK_SHOPS})

    def intake(self, g: Group) -> Intake:
        """The group's catalogue read (by the intake, with its photo files) and fitted to TikTok; cached per content."""
        from flows.engine.intake import PhotoPlaces, intake_catalogue
        from schemas.categories import DEFAULT_CATEGORIES, CategoryIndex
        from schemas.channel_rules import TIKTOK as RULES
        from schemas.channel_rules import GroupLabels, fit_listings
        from schemas.listing import listings_of
        from schemas.pictures import PHOTO

        path = self.root / g.file
        key = (path.stat().st_mtime, path.stat().st_size)
        cached = self._intake.get(g.id)
        if cached is not None and cached.key == key:
            return cached
        cats = CategoryIndex(DEFAULT_CATEGORIES, {})
        places = PhotoPlaces(path.parent, self.root / g.photos if g.tiktok else None, self.cache)
        _raw, result = intake_catalogue(path, g.id, cats, places)
        if result.rejected_rows:
            raise AssertionError(f"{g.id}: the harness wrote rejected rows: {result.rejects.head().to_dict()}")
        listings = listings_of(result.listings)
        tiktok: list[dict] = []
        if g.tiktok:
            # Only photo files go to TikTok (it takes uploaded images, no outside links).
            files = [replace(x, pictures=tuple(p for p in x.pictures if p.startswith(PHOTO))) for x in listings]
            leaf_names = {cid: c.name for cid, c in cats.categories.items()}
            fit = fit_listings(files, RULES, categories=self._tiktok_categories(), first_leaf_names=leaf_names,
                               group=GroupLabels(g.name, "", g.village), file=result.file)
            tiktok = [dict(asdict(x), recorded_stock=x.stock) for x in fit.listings]
        cached = Intake(key, [dict(asdict(x), recorded_stock=x.stock) for x in listings], tiktok)
        self._intake[g.id] = cached
        return cached

    def _tiktok_categories(self):
        """The TikTok sandbox's own category tree, with the config's aliases."""
        from connectors.tiktok_sandbox.categories import CATEGORIES as TREE
        from schemas.categories import Category
        from schemas.channel_rules import TIKTOK as RULES
        from schemas.channel_rules import CategoryMap

        cats = [Category(id=int(c.id), name=c.local_name, is_leaf=c.is_leaf,
                         parent_id=int(c.parent_id) if c.parent_id != "0" else None) for c in TREE]
        return CategoryMap(cats, TIKTOK_ALIASES, rules=RULES)

    def version(self) -> dict[str, tuple[int, dict[str, int]]]:
        """Per group: since when its catalogue's stock counts and each SKU's recorded stock."""
        return {g.id: (int(g.recorded_at), {r["sku"]: r["recorded_stock"] for r in self.intake(g).market})
                for g in self.groups}

    def desired(self, sales: Sales | None = None) -> dict[tuple[str, object], dict[str, dict]]:
        """Per (channel, shop): SKU → the listing the catalogues ask for there (names unique in
        the shop, stock by the rule counted over both channels' sales, TikTok's capped)."""
        sales = sales or self.sales()
        labels = {g.id: g.village or g.name for g in self.groups}
        out: dict[tuple[str, object], dict[str, dict]] = {}
        for channel, shops in ((MARKET, SHOPS), (TIKTOK, TIKTOK_SHOPS)):
            for shop in shops:
                rows = []
                for g in self.groups:
                    if (g.shop if channel == MARKET else g.tiktok) != shop:
                        continue
                    since = int(g.recorded_at)  # orders created from that second on count as sold after it
                    cap = TIKTOK_STOCK_MAX if channel == TIKTOK else None
                    for r in getattr(self.intake(g), "market" if channel == MARKET else "tiktok"):
                        rows.append(dict(r, stock=sales.rule(r["recorded_stock"], r["sku"], since, self.buffer, cap),
                                         since=since))
                taken = self._taken(channel, shop, {r["sku"]: r["name"] for r in rows}, labels, sales)
                out[(channel, shop)] = {r["sku"]: r for r in _unique_names(rows, labels, taken)}
                self.asked[(channel, shop)] |= set(out[(channel, shop)])
        return out

    def _taken(self, channel: str, shop, wanted: dict[str, str], labels: dict[str, str], sales: Sales) -> dict:
        """Names in use that no row can have: products no catalogue lists (by the plan's own rule,
        schemas.naming.taken_names), and a product with an order whose name changed in its
        catalogue (the channel keeps its name)."""
        from schemas.naming import taken_names

        if channel == MARKET:
            market = [(p["sku"], p["name"], p["has_order"]) for p in self.sb.admin.products(shop)]
        else:
            market = [(p["seller_sku"], p["doc"]["title"], (shop, p["seller_sku"]) in sales.tiktok_ordered)
                      for p in self.tt.admin.products(shop)]
        others = [SimpleNamespace(name=name, sku=sku, group_id=self.group_of(sku))
                  for sku, name, _ in market if sku not in wanted]
        taken = taken_names(others, labels)
        taken.update({name.casefold(): sku for sku, name, ordered in market
                      if sku in wanted and ordered and name != wanted[sku]})
        return taken

    def prepared_sha(self, picture: str) -> str:
        """The sha256 of what a channel is sent for ``photo:<source sha>`` (the harness's own preparation)."""
        from flows.engine.photos import cached_photo
        from schemas.pictures import PHOTO

        if not picture.startswith(PHOTO):
            return picture
        src = picture[len(PHOTO):]
        if src not in self._prepared:
            self._prepared[src] = hashlib.sha256(cached_photo(self.cache, src).read_bytes()).hexdigest()
        return self._prepared[src]


def _unique_names(rows: list[dict], labels: dict[str, str], taken: dict[str, str]) -> list[dict]:
    """The plan's own naming rule (schemas.naming.unique_names) on the harness's plain rows."""
    from schemas.listing import Listing
    from schemas.naming import unique_names

    fields = set(Listing.__dataclass_fields__)
    named = unique_names([Listing(**{k: v for k, v in r.items() if k in fields}) for r in rows], labels, taken)
    return [dict(r, name=n.name) for r, n in zip(rows, named)]
