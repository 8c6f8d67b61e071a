"""Real answers of the API the contract is modelled on, read by the client and the channel.

``tests/fixtures/real-api-examples/`` holds, verbatim, every example of ../shared/real-api-examples/
(see SOURCE.md there). One test runs over every file of that folder: it serves the file, with the
HTTP status it implies, at the endpoint it answers, calls the client method of that endpoint and
then the :class:`MarketplaceChannel` method over it, and checks the values under the project's
names — or the project's typed error, or the failed rows with the fixture's reason. The same runs
again with unknown fields added everywhere. A field the contract truly needs and an answer lacks
is a :class:`MalformedResponseError` naming it. An edit answered with only ``upload_id`` is
confirmed by reading the products back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import responses
from pydantic import SecretStr

from connectors.marketplace import BatchResult, MarketplaceClient
from connectors.marketplace.channel import MarketplaceChannel
from schemas.channel import ListingEdit, NewListing, ProductRef, RowOutcome, SetNumber, WriteResult
from schemas.errors import BadRequestError, MalformedResponseError, ServerError
from schemas.listing import Listing
from schemas.orders import Order, OrderLine, Recipient
from tests.test_marketplace_client import FakeClock

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real-api-examples"
FILES = sorted(p.name for p in FIXTURES.glob("*.json"))

API, AUTH, FS, SHOP = "http://api.test", "http://auth.test", 15001, 479573
TOKEN_URL = f"{AUTH}/token"
CREATE = f"{API}/v3/products/fs/{FS}/create"
EDIT = f"{API}/v3/products/fs/{FS}/edit"
STOCK = f"{API}/inventory/v1/fs/{FS}/stock/update"
PRICE = f"{API}/inventory/v1/fs/{FS}/price/update"
INFO = f"{API}/inventory/v1/fs/{FS}/product/info"
ACTIVE = f"{API}/v1/products/fs/{FS}/active"
INACTIVE = f"{API}/v1/products/fs/{FS}/inactive"
ORDERS = f"{API}/v2/order/list"
ORDER = f"{API}/v2/fs/{FS}/order"
ATTEMPTS = 2  # the client's tries of one call: a 5xx fixture is served this many times


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def salted(value: object) -> object:
    """``value`` with unknown fields added to every object in it, top level and nested."""
    if isinstance(value, dict):
        out = {k: salted(v) for k, v in value.items()}
        out["x_unknown_field"] = {"nested": [1, "two", None], "deeper": {"x": 1.5}}
        out["xUnknownFlag"] = True
        return out
    if isinstance(value, list):
        return [salted(v) for v in value]
    return value


def implied_status(name: str, raw: dict) -> int:
    """The HTTP status a fixture implies: ``*-ok*`` 200; a fail with rows in ``data`` is a 200
    with row failures; a fail without data is a 400 ("malformed request") or a 500 ("our server
    encounters an error"), as its ``header.messages`` says."""
    if "-ok" in name or raw["data"] is not None:
        return 200
    messages = raw["header"]["messages"].lower()
    if "malformed request" in messages:
        return 400
    assert "server encounters an error" in messages, name
    return 500


def ts(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@dataclass
class World:
    """One fixture served to one client and the channel over it."""

    name: str
    salt: bool
    rsps: responses.RequestsMock
    clock: FakeClock
    client: MarketplaceClient
    channel: MarketplaceChannel

    def answer(self, name: str | None = None) -> dict:
        raw = load(name or self.name)
        return salted(raw) if self.salt else raw  # type: ignore[return-value]

    def serve(self, method: str, url: str, name: str | None = None, **kw) -> dict:
        raw = self.answer(name)
        status = implied_status(name or self.name, load(name or self.name))
        self.rsps.add(method, url, json=raw, status=status, **kw)
        return raw

    def calls(self, url: str) -> list:
        return [c for c in self.rsps.calls if c.request.url.split("?")[0] == url]


@pytest.fixture
def world_of():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        def make(name: str, salt: bool = False) -> World:
            clock = FakeClock()
            client = MarketplaceClient(API, AUTH, FS, "cid-7", SecretStr("s3cret"), rate_limit_per_second=1000,
                                       max_attempts=ATTEMPTS, clock=clock, sleep=clock.sleep)
            rsps.post(TOKEN_URL, json={"access_token": "tok-1", "expires_in": 2592000, "token_type": "Bearer"})
            return World(name, salt, rsps, clock, client, MarketplaceChannel(client))
        yield make


# ---------------------------------------------------------------- product reads

PRODUCTS = {  # what each product read holds, under the project's names
    "product-get-product-info-ok-1.json": [
        dict(product_id=15245228, sku="12345", name="hxh wallpaper best la zzzz", category_id=1828, price=3000,
             stock=10, min_order=1, weight_g=5.0, condition="NEW", status="ACTIVE", shop_id=480829,
             description="Best wallpaper for hxh")],
    "product-get-product-info-ok-2.json": [
        dict(product_id=15347299, sku="TST21", name="Product Testing V2 1.0", category_id=1817, price=10000,
             stock=900, min_order=1, weight_g=200.0, condition="NEW", status="ACTIVE", shop_id=479573,
             description="Product Testing Descr V2")],
    "product-get-product-info-ok-3.json": [  # weight 1 with unit 2: one kilogram; status 3: inactive
        dict(product_id=15330470, sku="1000407", name="Apple Ceri Bulk 3 Kg 3 kg Sayurbox", category_id=1166,
             price=180000, stock=1, min_order=1, weight_g=1000.0, condition="NEW", status="INACTIVE",
             shop_id=479573, description="Apple Ceri Bulk 3 kg \n [SAYURBOX INFO]"),
        dict(product_id=15330458, sku="1001103", name="A Surprise Fruit Box Promo SPecial 1 pack Sayurbox",
             category_id=1160, price=220000, stock=2000, min_order=1, weight_g=1000.0, condition="NEW",
             status="ACTIVE", shop_id=479573, description="A box mix of fruits \n [SAYURBOX INFO]")],
}


def product_info_ok(w: World) -> None:
    raw = w.serve("GET", INFO)
    want = PRODUCTS[w.name]

    wire = list(w.client.iter_products(SHOP))
    assert [(p.product_id, p.sku, p.weight.unit) for p in wire] == [
        (e["product_id"], e["sku"], raw_row["weight"]["unit"]) for e, raw_row in zip(want, raw["data"])]

    got = list(w.channel.products(SHOP))
    assert len(got) == len(want)
    for product, expected, raw_row in zip(got, want, raw["data"]):
        fields = {k: getattr(product, k) for k in expected if k != "description"}
        assert fields == {k: v for k, v in expected.items() if k != "description"}
        assert product.description.startswith(expected["description"])
        assert product.description == raw_row["basic"]["shortDesc"]
        # filePath is a folder here, not a URL: the picture's URL is OriginalURL (decisions.md)
        assert product.pictures == tuple(p["OriginalURL"] for p in raw_row["pictures"])

    last = want[-1]
    assert w.channel.product(last["shop_id"], last["sku"]) == got[-1]
    assert parse_qs(urlparse(w.calls(INFO)[-1].request.url).query)["sku"] == [last["sku"]]


def product_info_fail(w: World) -> None:
    w.serve("GET", INFO)  # 500 "Error Convert number format into string"

    with pytest.raises(ServerError) as info:
        w.client.product_by_sku(SHOP, "12345")
    assert info.value.error_code == "PRD_USC_024" and "Error Convert number format" in str(info.value)
    with pytest.raises(ServerError) as info:
        w.channel.product(SHOP, "12345")
    assert info.value.status == 500
    assert len(w.calls(INFO)) == 2 * ATTEMPTS  # a read is repeated after a 5xx


# ---------------------------------------------------------------- orders

LIST_ORDER = Order(
    order_id=43481289, shop_id=479066, invoice="INV/20200110/XX/I/502", status=700,
    create_time=1578671153, update_time=1578671153,  # the real list has no update_time: create_time
    lines=(OrderLine(line=1, product_id=15242279, sku="11550001", name="Chitato Rasa Beef BBQ 35 gr isi 20 pcs",
                     quantity=1, price=98784, total_price=98784),),
    buyer_name="Mitra Test Account",
    recipient=Recipient(name="Mitra Test Account", phone="62888888888",
                        address="Kobakma, Kab. Mamberamo Tengah, Papua, 99558", district="Kobakma",
                        city="Kab. Mamberamo Tengah", province="Papua", postal_code="99558"),
    shipping_cost=10000, total_amount=108784)

SINGLE_ORDER = Order(
    order_id=12472302, shop_id=479573, invoice="INV/20170720/XVII/VII/12472252", status=0,
    create_time=ts(2017, 7, 20, 17, 50, 58), update_time=ts(2017, 7, 24, 8, 1, 7),  # from ISO-8601
    lines=(OrderLine(line=1, product_id=14286600, sku="SKU01",
                     name="STABILO Paket Ballpoint Premium Bionic Rollerball - Multicolor",
                     quantity=1, price=261000, total_price=261000),),
    buyer_name="Maulana Hasim",
    recipient=Recipient(name="maul", phone="085712345678", address="jalan gatot subroto kav 123456789",
                        district="Jagakarsa", city="Kota Administrasi Jakarta Selatan", province="DKI Jakarta",
                        postal_code="123456"),
    shipping_cost=9000, total_amount=270000)

WINDOW = (1578671153 - 3600, 1578671153 + 3600)


def orders_ok(w: World) -> None:
    w.serve("GET", ORDERS)

    [wire] = list(w.client.iter_orders(SHOP, *WINDOW))
    assert (wire.order_id, wire.update_time, wire.products[0].Name) == (
        43481289, None, "Chitato Rasa Beef BBQ 35 gr isi 20 pcs")
    assert list(w.channel.orders(SHOP, *WINDOW)) == [LIST_ORDER]


def orders_fail(w: World) -> None:
    w.serve("GET", ORDERS)  # 400 ORD_DLV_013

    with pytest.raises(BadRequestError) as info:
        list(w.client.iter_orders(SHOP, *WINDOW))
    assert info.value.error_code == "ORD_DLV_013" and "Date Range must be less than 3 days" in str(info.value)
    with pytest.raises(BadRequestError):
        list(w.channel.orders(SHOP, *WINDOW))
    assert len(w.calls(ORDERS)) == 2  # a 400 is never repeated


def single_order_ok(w: World) -> None:
    w.serve("GET", ORDER, match=[responses.matchers.query_param_matcher({"order_id": "12472302"})])

    wire = w.client.get_order(12472302)
    assert (wire.order_id, wire.invoice_ref_num, wire.create_time) == (
        12472302, "INV/20170720/XVII/VII/12472252", 1500573058)
    assert w.channel.order(SHOP, 12472302) == SINGLE_ORDER


# ---------------------------------------------------------------- writes

def listing(sku: str) -> Listing:
    return Listing(group_id="g", sku=sku, name=f"Keripik {sku}", category_id=101, price=15000, stock=10,
                   min_order=1, weight_g=250.0, condition="NEW", description="",
                   pictures=(f"https://img.example/{sku}.jpg",))


def create_fail(w: World) -> None:
    w.serve("POST", CREATE)  # 400 PRD_DLV_042

    with pytest.raises(BadRequestError) as info:
        w.client.create_products(SHOP, [product_row("A")])
    assert info.value.error_code == "PRD_DLV_042" and "field [shop_id] format" in str(info.value)
    assert isinstance(info.value.partial, BatchResult) and len(info.value.partial) == 0
    with pytest.raises(BadRequestError) as info:
        w.channel.create(SHOP, [NewListing(listing("B"), stock=5)])
    assert isinstance(info.value.partial, WriteResult) and len(info.value.partial) == 0
    assert len(w.calls(CREATE)) == 2


def product_row(sku: str) -> dict:
    return {"name": f"Keripik {sku}", "sku": sku, "category_id": 101, "price": 15000, "stock": 10,
            "weight": 250, "pictures": [{"file_path": f"https://img.example/{sku}.jpg"}]}


def edit_fail(w: World) -> None:
    w.serve("PATCH", EDIT)  # 500 "Data Not Found"

    with pytest.raises(ServerError) as info:
        w.client.edit_products(SHOP, [{"id": 15347299, "price": 12000}])
    assert info.value.error_code == "OPENAPI_DB_003" and "Data Not Found" in str(info.value)
    with pytest.raises(ServerError) as info:
        w.channel.edit(SHOP, [ListingEdit("TST21", 15347299, {"weight_g": 300.0})])
    assert isinstance(info.value.partial, WriteResult)
    assert len(w.calls(EDIT)) == 2 * ATTEMPTS  # an edit is safe to repeat after a 5xx


def edit_ok(w: World) -> None:
    """``{"upload_id": 5721}``: accepted, processed later — confirmed by reading back (by SKU)."""
    w.serve("PATCH", EDIT)
    w.serve("GET", INFO, "product-get-product-info-ok-2.json",
            match=[responses.matchers.query_param_matcher({"shop_id": str(SHOP), "sku": "TST21"})])

    result = w.client.edit_products(SHOP, [{"id": 15347299, "price": 10000, "weight": 200}],
                                    skus={15347299: "TST21"})
    assert [(r.key, r.product_id) for r in result.applied] == [("15347299", 15347299)] and not result.failed

    got = w.channel.edit(SHOP, [ListingEdit("TST21", 15347299, {"name": "Product Testing V2 1.0",
                                                                "weight_g": 200.0, "condition": "NEW"})])
    assert got == WriteResult(applied=[RowOutcome("TST21", True, 15347299)])
    assert w.client.counters["edit_readbacks"] == 2 and not w.clock.slept


def toggle(active: bool) -> tuple[Callable[[World], None], Callable[[World], None]]:
    url = ACTIVE if active else INACTIVE

    def ok(w: World) -> None:
        w.serve("POST", url)  # total_data 2, succeed_rows 2, failed_rows_data null
        result = w.client.set_active(SHOP, [15347299, 15330458], active)
        assert [r.key for r in result.applied] == ["15347299", "15330458"] and not result.failed
        got = w.channel.set_active(SHOP, [ProductRef("TST21", 15347299), ProductRef("1001103", 15330458)], active)
        assert got == WriteResult(applied=[RowOutcome("TST21", True, 15347299),
                                           RowOutcome("1001103", True, 15330458)])

    def fail(w: World) -> None:
        raw = w.serve("POST", url)  # failed_rows_data: ["Error Product ID [115306196] : …"]
        [reason] = raw["data"]["failed_rows_data"]
        assert "There are some problem when retrieve product info" in reason
        result = w.client.set_active(SHOP, [115306196], active)
        assert [(r.key, r.error) for r in result.failed] == [("115306196", reason)] and not result.applied
        got = w.channel.set_active(SHOP, [ProductRef("SKU-X", 115306196)], active)
        assert got == WriteResult(failed=[RowOutcome("SKU-X", False, 115306196, reason)])

    return ok, fail


def inventory(field: str) -> tuple[Callable[[World], None], Callable[[World], None]]:
    url = PRICE if field == "new_price" else STOCK
    client_call = "update_prices" if field == "new_price" else "update_stock"
    channel_call = "set_prices" if field == "new_price" else "set_stock"
    value = 12000 if field == "new_price" else 7

    def ok(w: World) -> None:
        w.serve("POST", url)  # succeed_rows 3
        rows = [{"sku": s, field: value} for s in ("A", "B", "C")]
        result = getattr(w.client, client_call)(SHOP, rows)
        assert [r.key for r in result.applied] == ["A", "B", "C"] and not result.failed
        got = getattr(w.channel, channel_call)(SHOP, [SetNumber(s, value) for s in ("A", "B", "C")])
        assert got == WriteResult(applied=[RowOutcome(s, True) for s in ("A", "B", "C")])

    def fail(w: World) -> None:
        raw = w.serve("POST", url)
        sent = [{k: v for k, v in r.items() if k in ("sku", "product_id", field) and v != ""}
                for r in raw["data"]["failed_rows_data"]]
        result = getattr(w.client, client_call)(SHOP, sent)
        expected = [(str(r.get("sku") or r.get("product_id")), r["message"]) for r in raw["data"]["failed_rows_data"]]
        assert [(r.key, r.error) for r in result.failed] == expected and not result.applied
        by_sku = [(r["sku"], r[field]) for r in sent if "sku" in r]
        got = getattr(w.channel, channel_call)(SHOP, [SetNumber(s, v) for s, v in by_sku])
        assert [(r.sku, r.ok, r.error) for r in got.failed] == [(s, False, m) for s, m in expected if s in dict(by_sku)]

    return ok, fail


ACTIVE_OK, ACTIVE_FAIL = toggle(True)
INACTIVE_OK, INACTIVE_FAIL = toggle(False)
PRICE_OK, PRICE_FAIL = inventory("new_price")
STOCK_OK, STOCK_FAIL = inventory("new_stock")

CASES: dict[str, Callable[[World], None]] = {
    "order-get-all-orders-fail.json": orders_fail,
    "order-get-all-orders-ok.json": orders_ok,
    "order-get-single-order-ok.json": single_order_ok,
    "product-create-product-fail.json": create_fail,
    "product-edit-product-fail.json": edit_fail,
    "product-edit-product-ok.json": edit_ok,
    "product-get-product-info-fail-1.json": product_info_fail,
    "product-get-product-info-ok-1.json": product_info_ok,
    "product-get-product-info-ok-2.json": product_info_ok,
    "product-get-product-info-ok-3.json": product_info_ok,
    "product-set-active-product-fail.json": ACTIVE_FAIL,
    "product-set-active-product-ok.json": ACTIVE_OK,
    "product-set-inactive-product-fail.json": INACTIVE_FAIL,
    "product-set-inactive-product-ok.json": INACTIVE_OK,
    "product-update-price-only-fail.json": PRICE_FAIL,
    "product-update-price-only-ok.json": PRICE_OK,
    "product-update-stock-only-fail.json": STOCK_FAIL,
    "product-update-stock-only-ok.json": STOCK_OK,
}


def test_the_folder_holds_the_shared_examples_and_each_has_a_case():
    assert len(FILES) == 18 and set(FILES) == set(CASES)
    assert {"README.md", "SOURCE.md"} <= {p.name for p in FIXTURES.iterdir()}
    statuses = {name: implied_status(name, load(name)) for name in FILES}
    assert {n for n, s in statuses.items() if s != 200} == {
        "order-get-all-orders-fail.json", "product-create-product-fail.json", "product-edit-product-fail.json",
        "product-get-product-info-fail-1.json"}
    assert [statuses[n] for n in sorted(n for n, s in statuses.items() if s != 200)] == [400, 400, 500, 500]


@pytest.mark.parametrize("name", FILES)
def test_every_real_answer_is_read(world_of, name):
    if name not in CASES:
        pytest.fail(f"{name}: a real answer with no case in this test: add one")
    CASES[name](world_of(name))


@pytest.mark.parametrize("name", FILES)
def test_unknown_extra_fields_anywhere_never_fail(world_of, name):
    """The same answers with unknown fields added to every object, top level and nested."""
    assert "x_unknown_field" in json.dumps(salted(load(name))["header"])
    CASES[name](world_of(name, salt=True))


# ---------------------------------------------------------------- what an answer truly lacks


def _drop(*path: str | int) -> Callable[[dict], None]:
    def mutate(raw: dict) -> None:
        obj = raw
        for key in path[:-1]:
            obj = obj[key]
        del obj[path[-1]]
    return mutate


def _put(value: object, *path: str | int) -> Callable[[dict], None]:
    def mutate(raw: dict) -> None:
        obj = raw
        for key in path[:-1]:
            obj = obj[key]
        obj[path[-1]] = value
    return mutate


def _single(w: World) -> object:
    return w.channel.order(SHOP, 12472302)


def _listed(w: World) -> object:
    return list(w.channel.orders(SHOP, *WINDOW))


def _products(w: World) -> object:
    return list(w.channel.products(SHOP))


LACKING = [
    ("order-get-single-order-ok.json", ORDER, _drop("data", "order_id"), _single, "order answer lacks order_id"),
    ("order-get-single-order-ok.json", ORDER, _drop("data", "invoice_number"), _single,
     "order answer lacks invoice_number"),
    ("order-get-single-order-ok.json", ORDER, _drop("data", "order_info", "order_detail", 0, "quantity"), _single,
     "order answer lacks order_info.order_detail.0.quantity"),
    ("order-get-single-order-ok.json", ORDER, _put("last tuesday", "data", "create_time"), _single,
     "order answer has an unreadable create_time (not UNIX seconds or an ISO-8601 time)"),
    ("order-get-single-order-ok.json", ORDER, _put(None, "data", "order_status"), _single,
     "order answer lacks order_status"),
    ("order-get-all-orders-ok.json", ORDERS, _drop("data", 0, "order_id"), _listed,
     "order answer lacks order_id (item 1 of 1)"),
    ("order-get-all-orders-ok.json", ORDERS, _drop("data", 0, "products", 0, "quantity"), _listed,
     "order answer lacks products.0.quantity"),
    ("product-get-product-info-ok-3.json", INFO, _drop("data", 1, "basic", "productID"), _products,
     "product answer lacks basic.productID (item 2 of 2)"),
    ("product-get-product-info-ok-1.json", INFO, _drop("data", 0, "basic"), _products,
     "product answer lacks basic"),
    ("product-get-product-info-ok-2.json", INFO, _put(7, "data", 0, "weight", "unit"), _products,
     "product answer has an unreadable weight.unit (7 is neither 1 or GR (gram) nor 2 or KG (kilogram))"),
]


@pytest.mark.parametrize("name, url, mutate, call, message", LACKING,
                         ids=[m.split(" ", 2)[2] for *_, m in LACKING])
def test_a_field_the_contract_needs_and_the_answer_lacks_is_named(world_of, name, url, mutate, call, message):
    w = world_of(name)
    raw = load(name)
    mutate(raw)
    w.rsps.get(url, json=raw)

    with pytest.raises(MalformedResponseError) as info:
        call(w)

    text = str(info.value)
    assert message in text
    for dump in ("validation error", "pydantic", "input_value", "Field required", "For further information"):
        assert dump not in text
    assert "\n" not in text and len(w.calls(url)) == 1  # one line; an unreadable answer is not asked again


# ---------------------------------------------------------------- an edit processed later


def read_back(*changes: tuple[str, object], pid: int = 15347299) -> dict:
    """product-get-product-info-ok-2 (real shape) with ``changes`` applied (dotted paths)."""
    raw = load("product-get-product-info-ok-2.json")
    row = raw["data"][0]
    row["basic"]["productID"] = pid
    for path, value in changes:
        obj = row
        *parents, last = path.split(".")
        for key in parents:
            obj = obj[key]
        obj[last] = value
    return raw


UPLOADED = {"header": {"process_time": 3.9, "messages": "Your request has been processed successfully"},
            "data": {"upload_id": 5721}}


def by_sku(sku: str) -> list:
    return [responses.matchers.query_param_matcher({"shop_id": str(SHOP), "sku": sku})]


def test_an_upload_id_edit_applies_the_rows_that_read_back_and_fails_the_others(world_of):
    w = world_of("product-edit-product-ok.json")
    w.rsps.patch(EDIT, json=UPLOADED)
    w.rsps.get(INFO, match=by_sku("TST21"), json=read_back(("price.value", 12500)))
    # weight 1.5 kg sent in grams: 1,500 g shows as {"value": 1.5, "unit": 2}
    kilos = read_back(("other.sku", "KRP-2"), ("weight", {"value": 1.5, "unit": 2}), pid=22)
    w.rsps.get(INFO, match=by_sku("KRP-2"), json=kilos)
    w.rsps.get(INFO, match=by_sku("KRP-3"), json=read_back(("other.sku", "KRP-3"), ("basic.name", "Lama"), pid=33))

    got = w.channel.edit(SHOP, [ListingEdit("TST21", 15347299, {"price": 12500}),
                                ListingEdit("KRP-2", 22, {"weight_g": 1500.0}),
                                ListingEdit("KRP-3", 33, {"name": "Keripik Baru"})])

    assert [(r.sku, r.product_id) for r in got.applied] == [("TST21", 15347299), ("KRP-2", 22)]
    [failed] = got.failed
    assert (failed.sku, failed.product_id) == ("KRP-3", 33)
    assert failed.error == ("edit accepted as upload 5721, processed later, but product 33 read back 3 times "
                            "shows name 'Lama', not 'Keripik Baru'")
    assert len(w.calls(EDIT)) == 1  # accepted is not sent again
    assert w.clock.slept == [2.0, 4.0]  # the product is read again after a pause, twice
    assert len(w.calls(INFO)) == 3 + 2  # all three once, then the one that did not show, twice


def test_an_upload_processed_between_reads_is_applied(world_of):
    w = world_of("product-edit-product-ok.json")
    w.rsps.patch(EDIT, json=UPLOADED)
    w.rsps.get(INFO, match=by_sku("TST21"), json=read_back(("stock.value", 900)))
    w.rsps.get(INFO, match=by_sku("TST21"), json=read_back(("stock.value", 40)))

    result = w.client.edit_products(SHOP, [{"id": 15347299, "stock": 40}], skus={15347299: "TST21"})

    assert [r.key for r in result.applied] == ["15347299"] and not result.failed
    assert w.clock.slept == [2.0]


def test_without_a_sku_the_edit_is_found_in_the_product_list(world_of):
    w = world_of("product-edit-product-ok.json")
    w.rsps.patch(EDIT, json=UPLOADED)
    other = read_back(pid=15347298)["data"]
    mine = read_back(("basic.status", 3), ("basic.condition", 2))["data"]
    w.rsps.get(INFO, json={"header": {}, "data": other + mine},
               match=[responses.matchers.query_param_matcher({"shop_id": str(SHOP), "page": "1", "per_page": "50"})])

    result = w.client.edit_products(SHOP, [{"id": 15347299, "status": "INACTIVE", "condition": "USED"}])

    assert [r.key for r in result.applied] == ["15347299"] and not result.failed


def test_an_edit_whose_read_back_fails_is_failed_not_confirmed(world_of):
    w = world_of("product-edit-product-ok.json")
    w.rsps.patch(EDIT, json=UPLOADED)
    w.serve("GET", INFO, "product-get-product-info-fail-1.json")  # 500

    got = w.channel.edit(SHOP, [ListingEdit("TST21", 15347299, {"price": 12500})])

    [failed] = got.failed
    assert failed.sku == "TST21" and not got.applied
    assert failed.error.startswith("edit accepted as upload 5721, processed later; reading it back failed")
    assert "PRD_USC_024" in failed.error


def test_rows_the_edit_answer_names_are_not_read_back(world_of):
    """The contract's answer (rows) is read as before: no read-back, no pause."""
    w = world_of("product-edit-product-ok.json")
    w.rsps.patch(EDIT, json={"header": {}, "data": {"total_data": 1, "success_data": 1, "fail_data": 0,
                                                    "success_rows_data": [{"product_id": 7}], "failed_rows_data": []}})

    result = w.client.edit_products(SHOP, [{"id": 7, "price": 12500}], skus={7: "A"})

    assert [r.key for r in result.applied] == ["7"] and not w.calls(INFO) and not w.clock.slept


def test_the_copies_are_the_shared_examples_verbatim():
    shared = Path(__file__).resolve().parents[2] / "shared" / "real-api-examples"
    if not shared.is_dir():
        pytest.skip("../shared/real-api-examples is not here (a clean clone): nothing to compare")
    names = sorted(p.name for p in shared.iterdir() if p.is_file())
    assert names == sorted([*FILES, "README.md"])
    assert all((FIXTURES / n).read_bytes() == (shared / n).read_bytes() for n in names)
