"""The TikTok-shaped channel against mocked HTTP (../shared/tiktok-shop-api.md): signing, tokens,
errors, retries and every write. Orders: tests/test_tiktok_orders.py.

Time is a fake clock: sleeping advances it, so waits are asserted, not endured.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import responses
from pydantic import SecretStr

from connectors.tiktok import TikTokChannel, description_html, package_weight
from connectors.tiktok import settings as S
from connectors.tiktok.payloads import create_body
from connectors.tiktok.signing import sign, sign_base
from schemas.channel import Channel, ListingEdit, NewListing, ProductRef, SetNumber
from schemas.errors import (
    AuthError,
    NotFoundError,
    ShopAuthorisationError,
)
from schemas.listing import Listing
from schemas.tokens import ShopTokens
from tests.test_marketplace_client import FakeClock

API = "https://tts.test"
AUTH = "https://auth.tts.test"
KEY = "app-key-7"
SECRET = "tts-S3cret-Value-xyz"
SHOP = 7001
CIPHER = "ROW_cipher_7001"
T0 = 1_700_000_000
ACCESS = ("acc-AAAA-1111", "acc-BBBB-2222")
REFRESH = ("ref-CCCC-3333", "ref-DDDD-4444")
AGAIN = f"authorise again (lapak authorize tiktok --shop {SHOP} --code CODE)"


class MemoryKeeper:
    """A TokenKeeper in memory; ``meanwhile`` are tokens another worker saves while we wait to refresh."""

    def __init__(self, *tokens: ShopTokens) -> None:
        self.saved = {("tiktok", t.shop_id): t for t in tokens}
        self.locks: list[str] = []
        self.meanwhile: ShopTokens | None = None

    def load(self, channel: str, shop_id: str) -> ShopTokens | None:
        return self.saved.get((channel, shop_id))

    def save(self, channel: str, tokens: ShopTokens) -> None:
        self.saved[(channel, tokens.shop_id)] = tokens

    @contextmanager
    def refreshing(self, channel: str, shop_id: str):
        self.locks.append(shop_id)
        if self.meanwhile is not None:
            self.save(channel, self.meanwhile)
        yield


def shop_tokens(access: str = ACCESS[0], access_expires: int = T0 + 7 * 86_400, refresh: str = REFRESH[0],
                refresh_expires: int = T0 + 30 * 86_400) -> ShopTokens:
    return ShopTokens(str(SHOP), access, access_expires, refresh, refresh_expires, seller_name="Toko Desa")


def fake_clock() -> FakeClock:
    c = FakeClock()
    c.now = float(T0)
    return c


@pytest.fixture
def clock() -> FakeClock:
    return fake_clock()


@pytest.fixture
def keeper() -> MemoryKeeper:
    return MemoryKeeper(shop_tokens())


def make_channel(clock: FakeClock, keeper: MemoryKeeper, **kw) -> TikTokChannel:
    kw.setdefault("rate_limit_per_second", 1000)
    return TikTokChannel(API, AUTH, KEY, SecretStr(SECRET), keeper, clock=clock, sleep=clock.sleep, **kw)


@pytest.fixture
def channel(clock, keeper) -> TikTokChannel:
    return make_channel(clock, keeper)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def env(data=None, *, code: int | str = 0, message: str = "Success") -> dict:
    return {"code": code, "message": message, "request_id": "req-1", "data": data}


def url(template: str, **ids) -> str:
    return API + template.format(**ids)


def add_shops(rsps, *shops: tuple[int, str]) -> None:
    rows = [{"id": str(s), "name": "Toko Desa", "region": "ID", "seller_type": "LOCAL", "cipher": c, "code": "IDX"}
            for s, c in shops or [(SHOP, CIPHER)]]
    rsps.get(url(S.SHOPS), json=env({"shops": rows}))


def add_warehouses(rsps) -> None:
    rsps.get(url(S.WAREHOUSES), json=env({"warehouses": [{"id": "WH-2", "name": "Lain", "is_default": False},
                                                          {"id": "WH-1", "name": "Gudang", "is_default": True}]}))


def found(pid: int, sku: str, sku_id: int, **kw) -> dict:
    p = {"id": str(pid), "title": f"Produk {sku}", "status": "ACTIVATE", "create_time": T0, "update_time": T0,
         "skus": [{"id": str(sku_id), "seller_sku": sku,
                   "price": {"currency": "IDR", "sale_price": "15000", "tax_exclusive_price": "15000"},
                   "inventory": [{"warehouse_id": "WH-1", "quantity": 5}]}]}
    p.update(kw)
    return p


def search_page(*products: dict, token: str = "") -> dict:
    return env({"products": list(products), "next_page_token": token, "total_count": len(products)})


def calls_to(rsps, target: str) -> list:
    return [c for c in rsps.calls if urlsplit(c.request.url).path == urlsplit(target).path]


def query(call) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(call.request.url).query, keep_blank_values=True))


def body(call):
    return json.loads(call.request.body)


def assert_signed(call, *, cipher: bool = True, access: str = ACCESS[0]) -> None:
    """The request verifies: sign recomputed from its path, query and the exact body bytes sent."""
    q = query(call)
    raw = call.request.body if isinstance(call.request.body, bytes) else b""
    if "multipart/form-data" in call.request.headers.get("Content-Type", ""):
        raw = b""  # the multipart body is not signed
    expected = sign(SECRET, urlsplit(call.request.url).path, {k: v for k, v in q.items() if k != "sign"}, raw)
    assert q["sign"] == expected
    assert q["app_key"] == KEY and q["timestamp"].isdigit()
    assert call.request.headers["x-tts-access-token"] == access
    assert (q.get("shop_cipher") == CIPHER) if cipher else ("shop_cipher" not in q)


def listing(sku: str = "KRP-1", **kw) -> Listing:
    base = dict(group_id="desa-a", sku=sku, name="Keripik Singkong Pedas Manis Desa A", category_id=600001,
                price=15000, stock=12, min_order=1, weight_g=250, condition="NEW",
                description="Renyah & gurih.\nTanpa pengawet.\n\n<Asli> desa", pictures=("tos-img/1", "tos-img/2"))
    base.update(kw)
    return Listing(**base)


# ---------------------------------------------------------------- signing


def test_the_contracts_worked_example_signs_as_written():
    base = sign_base("S", "/authorization/202309/shops", {"app_key": "K", "timestamp": "1700000000"})
    assert base == b"S/authorization/202309/shopsapp_keyKtimestamp1700000000S"
    assert len(sign("S", "/authorization/202309/shops", {"app_key": "K", "timestamp": "1700000000"})) == 64


def test_channel_meets_the_protocol_and_its_limits(channel):
    assert isinstance(channel, Channel)
    assert channel.name == "tiktok"
    assert (channel.limits.create_batch, channel.limits.toggle_batch, channel.limits.stock_max) == (10, 20, 99_999)
    assert channel.limits.prices_need_active and channel.limits.orders_by_update


def test_signed_get_and_post_verify_and_carry_token_and_cipher(channel, clock, rsps):
    add_shops(rsps)
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9001, "KRP-1", 8001)))
    rsps.post(url(S.PRICES_UPDATE, id=9001), json=env())

    result = channel.set_prices(SHOP, [SetNumber("KRP-1", 17000)])

    assert [(r.sku, r.product_id) for r in result.applied] == [("KRP-1", 9001)]
    shops, search, prices = rsps.calls
    assert_signed(shops, cipher=False)
    assert_signed(search)
    assert_signed(prices)
    assert query(prices)["timestamp"] == str(T0)
    assert body(search) == {"seller_skus": ["KRP-1"]} and query(search)["page_size"] == "100"
    assert body(prices) == {"skus": [{"id": "8001", "price": {"amount": "17000", "currency": "IDR"}}]}
    assert prices.request.headers["Content-Type"] == "application/json"


def test_image_upload_is_multipart_signed_without_its_body_and_without_cipher(channel, rsps):
    rsps.post(url(S.IMAGE_UPLOAD), json=env({"uri": "tos-img/abc", "url": "https://cdn/x.jpg", "width": 800,
                                             "height": "800", "use_case": "MAIN_IMAGE"}))

    assert channel.upload_picture(SHOP, b"\xff\xd8jpeg-bytes", "keripik.jpg") == "tos-img/abc"
    (call,) = rsps.calls
    assert_signed(call, cipher=False)
    assert b'name="use_case"' in call.request.body and b"MAIN_IMAGE" in call.request.body
    assert b'name="data"; filename="keripik.jpg"' in call.request.body


# ---------------------------------------------------------------- payloads


def test_description_is_escaped_html_with_paragraphs_and_breaks():
    assert description_html("Renyah & gurih.\nTanpa pengawet.\n\n<Asli> desa") == (
        "<p>Renyah &amp; gurih.<br>Tanpa pengawet.</p><p>&lt;Asli&gt; desa</p>")


@pytest.mark.parametrize("grams, kg", [(250, "0.25"), (1000, "1"), (0.2, "0.001"), (0, "0.001"),
                                       (1234.5, "1.235"), (333.3, "0.333")])
def test_weight_is_kilograms_with_at_most_three_decimals_never_zero(grams, kg):
    assert package_weight(grams) == {"value": kg, "unit": "KILOGRAM"}


# ---------------------------------------------------------------- create


def test_create_sends_one_product_per_call_in_the_contracts_words(channel, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), json=env({"product_id": "9001", "skus": [{"id": "8001", "seller_sku": "KRP-1"}],
                                         "warnings": []}))
    rsps.post(url(S.PRODUCTS), json=env({"product_id": 9002, "skus": [{"id": 8002, "seller_sku": "KRP-2"}]}))

    result = channel.create(SHOP, [NewListing(listing(), 12), NewListing(listing("KRP-2", stock=500_000), 500_000)])

    assert [(r.sku, r.product_id) for r in result.applied] == [("KRP-1", 9001), ("KRP-2", 9002)]
    first, second = (body(c) for c in calls_to(rsps, url(S.PRODUCTS)))
    key = first.pop("idempotency_key")
    assert first == {
        "title": "Keripik Singkong Pedas Manis Desa A",
        "description": "<p>Renyah &amp; gurih.<br>Tanpa pengawet.</p><p>&lt;Asli&gt; desa</p>",
        "category_id": "600001", "main_images": [{"uri": "tos-img/1"}, {"uri": "tos-img/2"}],
        "package_weight": {"value": "0.25", "unit": "KILOGRAM"},
        "skus": [{"seller_sku": "KRP-1", "price": {"amount": "15000", "currency": "IDR"},
                  "inventory": [{"warehouse_id": "WH-1", "quantity": 12}]}]}
    assert len(key) == 64 and key != second["idempotency_key"]
    assert second["skus"][0]["inventory"][0]["quantity"] == 99_999
    assert len(calls_to(rsps, url(S.WAREHOUSES))) == 1  # learned once per shop


def test_the_idempotency_key_is_stable_for_the_same_shop_sku_and_content():
    key = create_body(listing(), 12, "WH-1", str(SHOP))["idempotency_key"]
    assert create_body(listing(), 12, "WH-1", str(SHOP))["idempotency_key"] == key
    assert create_body(listing(), 12, "WH-1", "7002")["idempotency_key"] != key
    assert create_body(listing(price=16000), 12, "WH-1", str(SHOP))["idempotency_key"] != key


def test_an_inactive_listing_is_deactivated_right_after_its_create(channel, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), json=env({"product_id": "9001", "skus": [{"id": "8001", "seller_sku": "KRP-1"}]}))
    rsps.post(url(S.DEACTIVATE), json=env({}))

    result = channel.create(SHOP, [NewListing(listing(active=False), 3)])

    assert [(r.sku, r.ok, r.product_id) for r in result.applied] == [("KRP-1", True, 9001)]
    assert body(calls_to(rsps, url(S.DEACTIVATE))[0]) == {"product_ids": ["9001"]}


def test_a_broken_rule_fails_its_row_and_the_others_go_on(channel, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), status=400, json=env(code=12052001, message="title: 25-255 characters"))
    rsps.post(url(S.PRODUCTS), json=env({"product_id": "9002"}))

    result = channel.create(SHOP, [NewListing(listing("KRP-1"), 1), NewListing(listing("KRP-2"), 1)])

    assert [(r.sku, r.error) for r in result.failed] == [("KRP-1", "title: 25-255 characters (12052001)")]
    assert [r.sku for r in result.applied] == ["KRP-2"]


def test_a_5xx_after_the_create_applied_finds_it_and_never_creates_twice(channel, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), status=500, json=env(code=36009003, message="internal error"))
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9001, "KRP-1", 8001)))

    result = channel.create(SHOP, [NewListing(listing(), 12)])

    assert [(r.sku, r.product_id) for r in result.applied] == [("KRP-1", 9001)]
    assert len(calls_to(rsps, url(S.PRODUCTS))) == 1
    assert body(calls_to(rsps, url(S.PRODUCT_SEARCH))[0]) == {"seller_skus": ["KRP-1"]}
    assert channel.counters["lost_responses"] == 1


def test_a_lost_create_not_found_is_created_again_with_the_same_key(channel, clock, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), body=requests.ConnectionError("reset"))
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page())
    rsps.post(url(S.PRODUCTS), json=env({"product_id": "9001"}))

    result = channel.create(SHOP, [NewListing(listing(), 12)])

    assert [r.product_id for r in result.applied] == [9001]
    a, b = calls_to(rsps, url(S.PRODUCTS))
    assert body(a)["idempotency_key"] == body(b)["idempotency_key"]
    assert clock.slept  # backed off before creating again


def test_a_sku_already_on_the_shop_is_adopted(channel, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), status=400, json=env(code="12052002", message="seller_sku already exists"))
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9555, "KRP-1", 8555)))

    result = channel.create(SHOP, [NewListing(listing(), 12)])

    assert [(r.sku, r.ok, r.product_id) for r in result.applied] == [("KRP-1", True, 9555)]
    assert not result.failed


def test_a_create_stopped_part_way_carries_the_rows_settled_before(channel, rsps):
    add_shops(rsps)
    add_warehouses(rsps)
    rsps.post(url(S.PRODUCTS), json=env({"product_id": "9001"}))
    rsps.post(url(S.PRODUCTS), status=401, json=env(code=106001, message="invalid sign"))

    with pytest.raises(AuthError) as info:
        channel.create(SHOP, [NewListing(listing("A-1"), 1), NewListing(listing("A-2"), 1),
                              NewListing(listing("A-3"), 1)])

    assert not isinstance(info.value, ShopAuthorisationError)
    assert [r.sku for r in info.value.partial.applied] == ["A-1"] and not info.value.partial.failed
    assert "app key" in str(info.value)


# ---------------------------------------------------------------- edit, prices, stock, (de)activation


def test_edit_maps_project_fields_and_skips_fields_without_counterpart(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.PARTIAL_EDIT, id=9001), json=env())
    rsps.post(url(S.PARTIAL_EDIT, id=9003), status=404, json=env(code=12052260, message="product not found"))

    result = channel.edit(SHOP, [
        ListingEdit("A", 9001, {"name": "Keripik Baru Pedas Manis Desa", "description": "a\nb", "category_id": 600002,
                                "pictures": ["tos-img/9"], "weight_g": 1500, "min_order": 3}),
        ListingEdit("B", 9002, {"min_order": 2, "condition": "NEW"}),
        ListingEdit("C", 9003, {"name": "Nama Lain Yang Cukup Panjang Sekali"})])

    assert [(r.sku, r.product_id) for r in result.applied] == [("A", 9001), ("B", 9002)]
    assert [(r.sku, r.product_id) for r in result.failed] == [("C", 9003)]
    assert body(calls_to(rsps, url(S.PARTIAL_EDIT, id=9001))[0]) == {
        "title": "Keripik Baru Pedas Manis Desa", "description": "<p>a<br>b</p>", "category_id": "600002",
        "main_images": [{"uri": "tos-img/9"}], "package_weight": {"value": "1.5", "unit": "KILOGRAM"}}
    assert not calls_to(rsps, url(S.PARTIAL_EDIT, id=9002))
    snapshot = channel.limiter.snapshot()
    assert S.PARTIAL_EDIT in snapshot and not any("9001" in k for k in snapshot)  # one bucket per template


def test_prices_of_inactive_products_and_unknown_skus_fail_their_rows(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9001, "A", 8001), found(9002, "B", 8002)))
    rsps.post(url(S.PRICES_UPDATE, id=9001), status=400, json=env(code=12052004, message="product not active"))
    rsps.post(url(S.PRICES_UPDATE, id=9002), json=env())
    rsps.post(url(S.PRICES_UPDATE, id=9002), json=env())

    result = channel.set_prices(SHOP, [SetNumber("A", 1000), SetNumber("B", 2000), SetNumber("GONE", 3000)])
    again = channel.set_prices(SHOP, [SetNumber("B", 2500)])

    assert [r.sku for r in result.applied] == ["B"] and [r.sku for r in again.applied] == ["B"]
    failed = {r.sku: r.error for r in result.failed}
    assert failed["A"].startswith("inactive: activate first") and "no product" in failed["GONE"]
    assert body(calls_to(rsps, url(S.PRODUCT_SEARCH))[0]) == {"seller_skus": ["A", "B", "GONE"]}
    assert len(calls_to(rsps, url(S.PRODUCT_SEARCH))) == 1  # what a search learned is kept


def test_stock_goes_to_the_default_warehouse_clamped_to_the_channel_maximum(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9001, "A", 8001)))
    add_warehouses(rsps)
    rsps.post(url(S.INVENTORY_UPDATE, id=9001), json=env())

    result = channel.set_stock(SHOP, [SetNumber("A", 5), SetNumber("A", 250_000)])  # the last figure wins

    assert [(r.sku, r.product_id) for r in result.applied] == [("A", 9001)]
    assert body(calls_to(rsps, url(S.INVENTORY_UPDATE, id=9001))[0]) == {
        "skus": [{"id": "8001", "inventory": [{"warehouse_id": "WH-1", "quantity": 99_999}]}]}


def test_set_active_sends_at_most_20_ids_and_fails_the_ids_the_answer_lists(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.ACTIVATE), json=env({"errors": [{"code": "12052260", "message": "product not found",
                                                    "detail": {"product_id": "103"}}]}))
    rsps.post(url(S.ACTIVATE), json=env(None))

    rows = [ProductRef(f"S-{i}", 100 + i) for i in range(25)]
    result = channel.set_active(SHOP, rows, active=True)

    assert [(r.sku, r.error) for r in result.failed] == [("S-3", "product not found")]
    assert len(result.applied) == 24
    sent = [body(c)["product_ids"] for c in calls_to(rsps, url(S.ACTIVATE))]
    assert [len(ids) for ids in sent] == [20, 5] and sent[0][0] == "100"


# ---------------------------------------------------------------- reads


def detail(pid: int, sku: str) -> dict:
    return {**found(pid, sku, pid - 1000, status="SELLER_DEACTIVATED"),
            "description": "<p>Renyah &amp; gurih<br>pedas</p><p>Asli</p>",
            "category_chains": [{"id": "600000", "local_name": "Makanan", "is_leaf": False, "parent_id": "0"},
                                {"id": "600001", "local_name": "Keripik", "is_leaf": True, "parent_id": "600000"}],
            "main_images": [{"uri": "tos-img/1", "urls": ["https://cdn/1"], "width": 800, "height": 800}],
            "package_weight": {"value": "0.250", "unit": "KILOGRAM"}, "brand": {"id": "x"}, "audit": None}


def test_products_page_through_the_search_and_read_each_in_detail(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9001, "A", 8001), token="tok-2"))
    rsps.post(url(S.PRODUCT_SEARCH), json=search_page(found(9002, "B", 8002)))
    rsps.get(url(S.PRODUCT, id=9001), json=env(detail(9001, "A")))
    second = detail(9002, "B")
    second["skus"][0]["inventory"] = [{"warehouse_id": "WH-1", "quantity": "3"}, {"warehouse_id": "WH-2",
                                                                                  "quantity": 4}]
    second.update(status="ACTIVATE", package_weight={"value": "1.5"})
    rsps.get(url(S.PRODUCT, id=9002), json=env(second))

    a, b = list(channel.products(SHOP))

    assert (a.product_id, a.sku, a.status, a.price, a.stock, a.category_id) == (9001, "A", "INACTIVE", 15000, 5, 600001)
    assert a.weight_g == 250 and a.pictures == ("tos-img/1",) and a.min_order == 1 and a.condition == "NEW"
    assert a.description == "Renyah & gurih\npedas\n\nAsli" and a.shop_id == SHOP
    assert (b.status, b.stock, b.weight_g) == ("ACTIVE", 7, 1500)
    pages = calls_to(rsps, url(S.PRODUCT_SEARCH))
    assert "page_token" not in query(pages[0]) and query(pages[1])["page_token"] == "tok-2"


def test_product_by_sku_is_none_when_the_search_finds_nothing(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.PRODUCT_SEARCH), json=env({"products": [], "next_page_token": ""}))

    assert channel.product(SHOP, "NONE") is None


def test_answers_are_read_leniently(channel, rsps):
    add_shops(rsps)
    sparse = {"id": 9001, "skus": [{"id": 8001, "seller_sku": 12345}], "new_field": {"x": 1}}
    rsps.post(url(S.PRODUCT_SEARCH), json=env({"products": [sparse]}))  # no token, no counts
    rsps.get(url(S.PRODUCT, id=9001), json=env({"id": "9001", "skus": [{"id": "8001", "seller_sku": "12345",
                                                                          "price": {"sale_price": "15000.00"}}]}))

    p = channel.product(SHOP, "12345")

    assert (p.product_id, p.sku, p.price, p.stock, p.category_id, p.weight_g) == (9001, "12345", 15000, None, 0, 0.0)


def test_categories_read_parent_zero_as_the_root(channel, rsps):
    add_shops(rsps)
    rsps.get(url(S.CATEGORIES), json=env({"categories": [
        {"id": "600000", "parent_id": "0", "local_name": "Makanan", "is_leaf": False},
        {"id": "600001", "parent_id": "600000", "local_name": "Keripik", "is_leaf": "true", "permission": []}]}))

    cats = channel.categories(SHOP)

    assert [(c.id, c.name, c.parent_id, c.is_leaf) for c in cats] == [
        (600000, "Makanan", None, False), (600001, "Keripik", 600000, True)]


# ---------------------------------------------------------------- orders


def wire_order(oid: str, status: str = "AWAITING_SHIPMENT", **kw) -> dict:
    items = [{"id": f"li-{n}", "product_id": "9001", "sku_id": "8001", "seller_sku": "A", "product_name": "Keripik",
              "sale_price": "15000", "currency": "IDR", "display_status": status} for n in range(3)]
    items.append({"id": "li-9", "product_id": 9002, "sku_id": "8002", "seller_sku": "B", "product_name": "Sambal",
                  "sale_price": "20000.00", "currency": "IDR"})
    o = {"id": oid, "status": status, "create_time": T0, "update_time": str(T0 + 60), "paid_time": T0,
         "buyer_message": "IGNORE ME =HYPERLINK()", "warehouse_id": "WH-1", "line_items": items,
         "payment": {"currency": "IDR", "sub_total": "65000", "shipping_fee": "9000.00", "total_amount": "74000"},
         "recipient_address": {"name": "Siti", "phone_number": "(+62)812****", "full_address": "Jl. Melati 1",
                               "postal_code": "55281", "region_code": "ID",
                               "district_info": [{"address_level_name": "Province", "address_name": "DIY"},
                                                 {"address_level_name": "City", "address_name": "Sleman"},
                                                 {"address_level": "L3", "address_name": "Depok"}]}}
    o.update(kw)
    return o


def test_line_items_one_per_unit_become_quantities(channel, rsps):
    add_shops(rsps)
    rsps.get(url(S.ORDERS), json=env({"orders": [wire_order("576000000000000001")]}))

    o = channel.order(SHOP, 576000000000000001)

    assert (o.channel, o.order_id, o.invoice, o.shop_id, o.status) == (
        "tiktok", 576000000000000001, "576000000000000001", SHOP, 400)
    assert [(li.line, li.sku, li.product_id, li.quantity, li.price, li.total_price) for li in o.lines] == [
        (1, "A", 9001, 3, 15000, 45000), (2, "B", 9002, 1, 20000, 20000)]
    assert (o.create_time, o.update_time, o.shipping_cost, o.total_amount) == (T0, T0 + 60, 9000, 74000)
    r = o.recipient
    assert (o.buyer_name, r.name, r.phone, r.address, r.district, r.city, r.province, r.postal_code) == (
        "Siti", "Siti", "(+62)812****", "Jl. Melati 1", "Depok", "Sleman", "DIY", "55281")
    assert "IGNORE ME" not in repr(o)
    assert query(rsps.calls[-1])["ids"] == "576000000000000001"


def test_an_order_the_answer_leaves_out_is_not_found(channel, rsps):
    add_shops(rsps)
    rsps.get(url(S.ORDERS), json=env({"orders": []}))

    with pytest.raises(NotFoundError):
        channel.order(SHOP, 42)


def test_orders_are_searched_oldest_first_page_after_page(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.ORDER_SEARCH), json=env({"orders": [wire_order("1")], "next_page_token": "p2", "total_count": 2}))
    rsps.post(url(S.ORDER_SEARCH), json=env({"orders": [wire_order("2", status="UNPAID", recipient_address=None,
                                                                   update_time=None)],
                                             "next_page_token": ""}))

    orders = list(channel.orders(SHOP, T0 - 3600, T0))

    assert [(o.order_id, o.status) for o in orders] == [(1, 400), (2, 100)]
    assert orders[1].update_time == orders[1].create_time and orders[1].recipient.name == ""
    first, second = calls_to(rsps, url(S.ORDER_SEARCH))
    assert body(first) == {"create_time_ge": T0 - 3600, "create_time_lt": T0}
    assert query(first) | {"sign": "", "timestamp": ""} == {
        "page_size": "100", "sort_field": "create_time", "sort_order": "ASC", "app_key": KEY,
        "shop_cipher": CIPHER, "sign": "", "timestamp": ""}
    assert query(second)["page_token"] == "p2"
    assert_signed(second)


def test_orders_by_update_filter_and_sort_on_update_time(channel, rsps, caplog):
    add_shops(rsps)
    rsps.post(url(S.ORDER_SEARCH), json=env({"orders": [wire_order("3", status="RETURNED_SOMEHOW")]}))

    (o,) = channel.orders(SHOP, 100, 200, by_update=True)

    assert o.status == 400 and not o.cancelled
    assert "unknown TikTok status" in caplog.text
    call = calls_to(rsps, url(S.ORDER_SEARCH))[0]
    assert body(call) == {"update_time_ge": 100, "update_time_lt": 200}
    assert query(call)["sort_field"] == "update_time"


def test_a_cancelled_order_is_cancelled(channel, rsps):
    add_shops(rsps)
    rsps.post(url(S.ORDER_SEARCH), json=env({"orders": [wire_order("4", status="CANCELLED")],
                                             "next_page_token": ""}))

    (o,) = channel.orders(SHOP, 0, T0)

    assert o.cancelled and o.status == 15
