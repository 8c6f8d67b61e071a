"""Reads of the TikTok-shaped API: categories, warehouses, product search and details.

Searches teach the client each SKU's product id and channel SKU id (``_known``), so a price or
stock update finds its product without another search; a lost create searches afresh.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from connectors.tiktok import settings as S
from connectors.tiktok.answers import Categories, Detail, Found, SearchPage, Warehouses
from connectors.tiktok.auth import ShopAuth
from connectors.tiktok.payloads import chunked, description_text
from connectors.tiktok.transport import make_call
from schemas.categories import Category
from schemas.channel import ChannelProduct
from schemas.errors import ChannelError


def product_of(p: Detail, shop_id: int | None = None) -> ChannelProduct:
    """A product's details in the project's words: its (only) SKU's price and summed stock,
    grams, the leaf category, picture URIs, ``ACTIVE``/``INACTIVE`` (other statuses as given)."""
    sku = p.skus[0] if p.skus else None
    stock = sum(s.quantity for s in sku.inventory) if sku is not None and sku.inventory is not None else None
    price = sku.price.value if sku is not None and sku.price is not None else None
    return ChannelProduct(
        product_id=p.id, sku=(sku.seller_sku or None) if sku is not None else None, name=p.title,
        category_id=p.category_chains[-1].id if p.category_chains else 0, price=price or 0, stock=stock,
        min_order=1, weight_g=p.package_weight.grams if p.package_weight is not None else 0.0, condition="NEW",
        description=description_text(p.description), pictures=tuple(i.uri for i in p.main_images if i.uri),
        status=S.STATUS_NAMES.get(p.status, p.status), shop_id=shop_id)


class Reads(ShopAuth):
    """Categories, warehouses and products (a mixin of the channel)."""

    category_shop: str | None
    _warehouses: dict[str, str]
    _known: dict[tuple[str, str], tuple[int, int]]  # (shop, seller_sku) -> (product id, channel SKU id)

    def categories(self, shop_id: int | None = None) -> list[Category]:
        """The category tree, read as ``shop_id`` (default: ``category_shop``, else a shop already used)."""
        shop = self._some_shop(shop_id)
        call = make_call("GET", S.CATEGORIES)
        rows = self._model(self.call(call, shop), Categories, call).categories
        return [Category(id=c.id, name=c.local_name, is_leaf=c.is_leaf,
                         parent_id=int(c.parent_id) if c.parent_id.strip() not in ("", "0") else None)
                for c in rows]

    def _some_shop(self, shop_id: int | None) -> str:
        if shop_id is not None:
            return str(shop_id)
        if self.category_shop:
            return self.category_shop
        with self._state_lock:
            held = sorted(self._held)
        if not held:
            raise ChannelError("reading TikTok categories needs an authorised shop: pass category_shop= "
                               "or categories(shop_id)", endpoint=f"tiktok GET {S.CATEGORIES}")
        return held[0]

    def _warehouse(self, shop: str) -> str:
        """The shop's default warehouse (its only one when none is marked default)."""
        with self._state_lock:
            cached = self._warehouses.get(shop)
        if cached is not None:
            return cached
        call = make_call("GET", S.WAREHOUSES)
        found = self._model(self.call(call, shop), Warehouses, call).warehouses
        chosen = [w for w in found if w.is_default] or (found if len(found) == 1 else [])
        if not chosen:
            raise ChannelError(f"shop {shop}: no default warehouse among {len(found)}", endpoint=call.endpoint)
        with self._state_lock:
            self._warehouses[shop] = chosen[0].id
        return chosen[0].id

    # ------------------------------------------------------------------ search

    def _search(self, shop: str, body: dict) -> Iterator[Found]:
        """Every product the search ``body`` matches, page after page (``page_token`` until ``""``)."""
        token, seen = "", set()
        while True:
            params = {"page_size": S.PAGE_SIZE, **({"page_token": token} if token else {})}
            call = make_call("POST", S.PRODUCT_SEARCH, params=params, json_body=body)
            page: SearchPage = self._model(self.call(call, shop), SearchPage, call)
            self._learn(shop, page.products)
            yield from page.products
            token = page.next_page_token
            if not token or not page.products or token in seen:
                return
            seen.add(token)

    def _learn(self, shop: str, products: Iterable[Found]) -> None:
        with self._state_lock:
            for p in products:
                for sku in p.skus:
                    if sku.seller_sku:
                        self._known[(shop, sku.seller_sku)] = (p.id, sku.id)

    def lookup(self, shop: str, skus: Sequence[str], *, fresh: bool = False) -> dict[str, tuple[int, int]]:
        """Product id and channel SKU id of each SKU on the shop that has one (searched ≤ 100 at a
        time unless already known; ``fresh`` searches regardless)."""
        wanted = list(dict.fromkeys(skus))
        with self._state_lock:
            if fresh:
                for s in wanted:
                    self._known.pop((shop, s), None)
            missing = [s for s in wanted if (shop, s) not in self._known]
        for chunk in chunked(missing, S.SKUS_PER_SEARCH):
            self._counters.add("sku_lookups", len(chunk))
            for _ in self._search(shop, {"seller_skus": list(chunk)}):
                pass
        with self._state_lock:
            return {s: self._known[(shop, s)] for s in wanted if (shop, s) in self._known}

    def forget(self, shop: str, sku: str) -> None:
        with self._state_lock:
            self._known.pop((shop, sku), None)

    # ------------------------------------------------------------------ products

    def _detail(self, shop: str, product_id: int) -> Detail:
        call = make_call("GET", S.PRODUCT, ids={"id": product_id})
        detail: Detail = self._model(self.call(call, shop), Detail, call)
        self._learn(shop, [detail])
        return detail

    def products(self, shop_id: int) -> Iterator[ChannelProduct]:
        """Every product of the shop, each read in detail."""
        shop, seen = str(shop_id), set()
        for found in self._search(shop, {}):
            if found.id not in seen:
                seen.add(found.id)
                yield product_of(self._detail(shop, found.id), shop_id)

    def product(self, shop_id: int, sku: str) -> ChannelProduct | None:
        """The shop's product with this SKU, or None."""
        shop = str(shop_id)
        hit = self.lookup(shop, [sku], fresh=True).get(sku)
        return product_of(self._detail(shop, hit[0]), shop_id) if hit is not None else None
