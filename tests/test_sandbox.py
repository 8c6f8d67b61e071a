"""The sandbox marketplace against ../shared/marketplace-api.md, over real HTTP.

One sandbox subprocess serves the whole module; each test works on its own SKUs so the
tests do not depend on each other's order. Tests that change the rate limit or faults put
them back.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from connectors.sandbox import SandboxAdminError, SandboxHandle, running_sandbox
from schemas.categories import DEFAULT_CATEGORIES

SHOP = 479573
OTHER_SHOP = 479574
RATE_HEADERS = ("X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Reset-After",
                "X-Ratelimit-Full-Reset-After")


class Api:
    """Plain-requests access to one sandbox, the way any client would speak the contract."""

    def __init__(self, sb: SandboxHandle) -> None:
        self.sb = sb
        self.http = requests.Session()
        self.token = self.new_token()

    def new_token(self) -> str:
        r = self.http.post(f"{self.sb.url}/token", params={"grant_type": "client_credentials"},
                           auth=(self.sb.client_id, self.sb.client_secret), timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def call(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        path = path.replace("{fs}", str(self.sb.fs_id))
        headers = {"Authorization": f"Bearer {token or self.token}"}
        return self.http.request(method, f"{self.sb.url}{path}", headers=headers, timeout=10, **kw)

    def create(self, products: list[dict], shop: int = SHOP) -> requests.Response:
        return self.call("POST", "/v3/products/fs/{fs}/create", params={"shop_id": shop}, json={"products": products})

    def edit(self, products: list[dict], shop: int = SHOP) -> requests.Response:
        return self.call("PATCH", "/v3/products/fs/{fs}/edit", params={"shop_id": shop}, json={"products": products})

    def info(self, shop: int = SHOP, **params) -> requests.Response:
        return self.call("GET", "/inventory/v1/fs/{fs}/product/info", params={"shop_id": shop, **params})

    def by_sku(self, sku: str, shop: int = SHOP) -> dict | None:
        data = self.info(shop, sku=sku).json()["data"]
        return data[0] if data else None

    def orders(self, frm: int, to: int, shop: int = SHOP, **params) -> requests.Response:
        return self.call("GET", "/v2/order/list", params={
            "fs_id": self.sb.fs_id, "shop_id": shop, "from_date": frm, "to_date": to, **params})


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), rate_limit=None) as sb:
        yield sb


@pytest.fixture
def api(sandbox: SandboxHandle) -> Iterator[Api]:
    yield Api(sandbox)
    sandbox.admin.clear_faults()
    sandbox.admin.set_rate_limit(None)


@pytest.fixture
def tag() -> str:
    return uuid.uuid4().hex[:8]


def product(sku: str, **over) -> dict:
    row = {"name": f"Keripik Singkong {sku}", "sku": sku, "category_id": 101, "price": 15_000,
           "price_currency": "IDR", "stock": 10, "min_order": 1, "weight": 250, "weight_unit": "GR",
           "condition": "NEW", "description": "Renyah, tanpa pengawet",
           "pictures": [{"file_path": "https://img.example/keripik.jpg"}], "status": "ACTIVE"}
    return {**row, **over}


def created_ids(api: Api, rows: list[dict], shop: int = SHOP) -> dict[str, int]:
    r = api.create(rows, shop)
    assert r.status_code == 200 and r.json()["data"]["fail_data"] == 0, r.text
    return {x["sku"]: x["product_id"] for x in r.json()["data"]["success_rows_data"]}


def assert_envelope(r: requests.Response, status: int, error_code: str | int | None = None) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body["header"]) >= {"process_time", "messages", "reason", "error_code"}
    assert "data" in body
    if error_code is not None:
        assert body["header"]["error_code"] == error_code
    assert all(h in r.headers for h in RATE_HEADERS)
    return body


# --- authentication and categories ------------------------------------------------------------


def test_token_for_good_credentials_and_401_envelope_for_bad(sandbox: SandboxHandle) -> None:
    url = f"{sandbox.url}/token?grant_type=client_credentials"
    good = requests.post(url, auth=(sandbox.client_id, sandbox.client_secret), timeout=10)
    assert good.status_code == 200
    assert good.json()["expires_in"] == 2_592_000 and good.json()["token_type"] == "Bearer"
    assert good.json()["access_token"]

    bad = requests.post(url, auth=(sandbox.client_id, "wrong"), timeout=10)
    assert_envelope(bad, 401, "AUTH_INVALID_CLIENT")
    garbled = requests.post(url, headers={"Authorization": "Basic %%%"}, timeout=10)
    assert_envelope(garbled, 401)
    assert sandbox.client_secret not in bad.text


def test_calls_without_a_valid_token_answer_401(api: Api) -> None:
    assert_envelope(api.call("GET", "/v1/categories", token="not-a-token"), 401, "AUTH_INVALID_TOKEN")
    r = requests.get(f"{api.sb.url}/v1/categories", timeout=10)
    assert_envelope(r, 401)


def test_categories_are_the_default_tree(api: Api) -> None:
    body = assert_envelope(api.call("GET", "/v1/categories"), 200)
    assert body["data"] == [c.model_dump() for c in DEFAULT_CATEGORIES]


# --- products ---------------------------------------------------------------------------------


def test_create_then_read_back_by_sku(api: Api, tag: str) -> None:
    body = assert_envelope(api.create([product(f"{tag}-1"), product(f"{tag}-2", stock=0)]), 200)
    data = body["data"]
    assert (data["total_data"], data["success_data"], data["fail_data"]) == (2, 2, 0)
    ids = {x["sku"]: x["product_id"] for x in data["success_rows_data"]}
    got = api.by_sku(f"{tag}-2")
    assert got["basic"]["productID"] == ids[f"{tag}-2"]
    assert got["basic"]["name"] == f"Keripik Singkong {tag}-2"
    assert got["basic"]["status"] == "ACTIVE" and got["basic"]["shopID"] == SHOP
    assert got["price"]["value"] == 15_000 and got["stock"]["value"] == 0
    assert got["weight"] == {"value": 250, "unit": "GR"}
    assert got["pictures"] == [{"file_path": "https://img.example/keripik.jpg"}]
    assert got["min_order"] == 1 and got["sku"] == f"{tag}-2"


def test_unknown_sku_reads_as_empty_list(api: Api, tag: str) -> None:
    assert assert_envelope(api.info(sku=f"{tag}-none"), 200)["data"] == []


@pytest.mark.parametrize(("over", "message"), [
    ({"price": 99}, "Value [99] of field [price] must be between 100 and 100000000"),
    ({"price": 100_000_001}, "field [price] must be between"),
    ({"price": 1500.5}, "field [price] must be an integer"),
    ({"stock": 1_000_000}, "field [stock] must be between 0 and 999999"),
    ({"min_order": 0}, "field [min_order] must be between 1 and 9999"),
    ({"name": "x" * 71}, "field [name] must be 1 to 70 characters"),
    ({"sku": "s" * 51}, "field [sku] must be 1 to 50 characters"),
    ({"category_id": 1}, "Value [1] of field [category_id] is not a leaf category"),
    ({"category_id": 999}, "field [category_id] is not a known category"),
    ({"weight": 0}, "field [weight] must be greater than 0"),
    ({"weight_unit": "KG"}, "field [weight_unit] must be one of GR"),
    ({"condition": "REFURBISHED"}, "field [condition] must be one of NEW, USED"),
    ({"description": "d" * 2001}, "field [description] must be 0 to 2000 characters"),
    ({"pictures": []}, "Field [pictures] must hold 1 to 5 items"),
    ({"pictures": [{"file_path": "https://i.example/a.jpg"}] * 6}, "Field [pictures] must hold 1 to 5 items"),
    ({"pictures": [{"file_path": "http://i.example/a.jpg"}]}, "field [pictures.file_path] must be an https:// URL"),
    ({"status": "DELETED"}, "field [status] must be one of ACTIVE, INACTIVE"),
    ({"price": None}, "Field [price] is required"),
])
def test_create_rejects_a_row_outside_the_field_rules(api: Api, tag: str, over: dict, message: str) -> None:
    bad = {**product(f"{tag}-bad"), **over}
    data = assert_envelope(api.create([bad, product(f"{tag}-good")]), 200)["data"]
    assert (data["success_data"], data["fail_data"]) == (1, 1)
    assert data["success_rows_data"][0]["sku"] == f"{tag}-good"
    failed = data["failed_rows_data"][0]
    assert failed["sku"] == bad["sku"] and failed["product_name"] == bad["name"]
    assert any(message in e for e in failed["error"]), failed["error"]
    assert api.by_sku(bad["sku"]) is None


def test_create_rejects_used_sku_and_name_case_insensitively(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-1", name=f"Kopi Bubuk {tag}")])
    data = api.create([
        product(f"{tag}-1", name=f"Other {tag}"),  # SKU already in the shop
        product(f"{tag}-2", name=f"KOPI bubuk {tag}"),  # name differs only in case
        product(f"{tag}-3"), product(f"{tag}-3", name=f"Twin {tag}"),  # same SKU twice in one call
    ]).json()["data"]
    assert data["success_data"] == 1 and data["fail_data"] == 3
    errors = [row["error"] for row in data["failed_rows_data"]]
    assert errors[0] == [f"Value [{tag}-1] of field [sku] is already used"]
    assert errors[1] == [f"Value [KOPI bubuk {tag}] of field [name] is already used"]
    assert errors[2] == [f"Value [{tag}-3] of field [sku] is already used"]
    # Another shop has its own SKUs and names.
    assert created_ids(api, [product(f"{tag}-1", name=f"Kopi Bubuk {tag}")], OTHER_SHOP)


def test_more_than_25_products_is_400_and_creates_nothing(api: Api, tag: str) -> None:
    rows = [product(f"{tag}-{i}") for i in range(26)]
    assert_envelope(api.create(rows), 400)
    assert api.by_sku(f"{tag}-0") is None
    assert_envelope(api.create(rows[:25]), 200)


def test_malformed_bodies_and_parameters_answer_400_envelopes(api: Api) -> None:
    assert_envelope(api.call("POST", "/v3/products/fs/{fs}/create", params={"shop_id": SHOP},
                             data=b"{not json"), 400, "INVALID_REQUEST")
    assert_envelope(api.call("POST", "/v3/products/fs/{fs}/create", params={"shop_id": SHOP},
                             json={"products": []}), 400)
    assert_envelope(api.call("POST", "/v3/products/fs/{fs}/create", params={"shop_id": "abc"},
                             json={"products": [product("x")]}), 400, "INVALID_PARAMETER")
    assert_envelope(api.call("GET", "/v3/nowhere"), 404)


def test_edit_changes_only_the_given_fields(api: Api, tag: str) -> None:
    pid = created_ids(api, [product(f"{tag}-1")])[f"{tag}-1"]
    before = api.by_sku(f"{tag}-1")
    data = api.edit([{"id": pid, "price": 20_000, "description": "Lebih pedas"}]).json()["data"]
    assert data["success_rows_data"] == [{"product_id": pid, "sku": f"{tag}-1"}] and data["fail_data"] == 0
    after = api.by_sku(f"{tag}-1")
    assert after["price"]["value"] == 20_000 and after["description"] == "Lebih pedas"
    for unchanged in ("basic", "stock", "weight", "pictures", "min_order"):
        assert after[unchanged] == before[unchanged]


def test_edit_rejects_bad_rows_and_unknown_ids(api: Api, tag: str) -> None:
    ids = created_ids(api, [product(f"{tag}-1"), product(f"{tag}-2")])
    data = api.edit([
        {"id": ids[f"{tag}-1"], "price": 50},
        {"id": ids[f"{tag}-1"], "sku": f"{tag}-2"},
        {"id": 1, "price": 20_000},
        {"id": ids[f"{tag}-2"], "name": f"keripik singkong {tag}-2"},  # its own name, other case: allowed
    ]).json()["data"]
    assert data["success_rows_data"] == [{"product_id": ids[f"{tag}-2"], "sku": f"{tag}-2"}]
    errors = [r["error"] for r in data["failed_rows_data"]]
    assert "field [price] must be between" in errors[0][0]
    assert errors[1] == [f"Value [{tag}-2] of field [sku] is already used"]
    assert "not found" in errors[2][0]
    assert api.by_sku(f"{tag}-1")["price"]["value"] == 15_000


def test_name_cannot_change_once_the_product_has_an_order(api: Api, tag: str) -> None:
    pid = created_ids(api, [product(f"{tag}-1")])[f"{tag}-1"]
    api.sb.admin.place_order(SHOP, [{"sku": f"{tag}-1", "quantity": 1}])
    data = api.edit([{"id": pid, "name": f"Renamed {tag}"}]).json()["data"]
    assert data["success_data"] == 0
    assert "cannot be changed" in data["failed_rows_data"][0]["error"][0]
    assert api.by_sku(f"{tag}-1")["basic"]["name"] == f"Keripik Singkong {tag}-1"
    # Other fields still change.
    assert api.edit([{"id": pid, "price": 17_000}]).json()["data"]["success_data"] == 1


def test_price_and_stock_updates_by_sku_and_by_product_id(api: Api, tag: str) -> None:
    ids = created_ids(api, [product(f"{tag}-a"), product(f"{tag}-b")])
    price = api.call("POST", "/inventory/v1/fs/{fs}/price/update", params={"shop_id": SHOP}, json=[
        {"sku": f"{tag}-a", "new_price": 12_000},
        {"product_id": ids[f"{tag}-b"], "new_price": 13_000},
        {"sku": f"{tag}-none", "new_price": 14_000},
        {"sku": f"{tag}-a", "new_price": 50},
    ])
    data = assert_envelope(price, 200)["data"]
    assert (data["succeed_rows"], data["failed_rows"]) == (2, 2)
    assert [r["sku"] for r in data["failed_rows_data"]] == [f"{tag}-none", f"{tag}-a"]
    assert all(r["message"] and "new_price" in r for r in data["failed_rows_data"])

    stock = api.call("POST", "/inventory/v1/fs/{fs}/stock/update", params={"shop_id": SHOP}, json=[
        # sku wins over product_id: this row is about product a.
        {"sku": f"{tag}-a", "product_id": ids[f"{tag}-b"], "new_stock": 5},
        {"product_id": ids[f"{tag}-b"], "new_stock": 0},
        {"product_id": ids[f"{tag}-b"], "new_stock": 1_000_000},
    ]).json()["data"]
    assert (stock["succeed_rows"], stock["failed_rows"]) == (2, 1)
    a, b = api.by_sku(f"{tag}-a"), api.by_sku(f"{tag}-b")
    assert (a["price"]["value"], a["stock"]["value"]) == (12_000, 5)
    assert (b["price"]["value"], b["stock"]["value"]) == (13_000, 0)


def test_more_than_100_price_rows_is_400(api: Api) -> None:
    rows = [{"sku": f"s{i}", "new_price": 1000} for i in range(101)]
    assert_envelope(api.call("POST", "/inventory/v1/fs/{fs}/price/update", params={"shop_id": SHOP}, json=rows), 400)


def test_deactivate_and_activate(api: Api, tag: str) -> None:
    ids = created_ids(api, [product(f"{tag}-1"), product(f"{tag}-2")])
    pids = list(ids.values())
    r = api.call("POST", "/v1/products/fs/{fs}/inactive", params={"shop_id": SHOP}, json={"product_id": pids + [1]})
    data = assert_envelope(r, 200)["data"]
    assert (data["total_data"], data["succeed_rows"], data["failed_rows"]) == (3, 2, 1)
    assert data["failed_rows_data"][0].startswith("1:")
    assert {api.by_sku(s)["basic"]["status"] for s in ids} == {"INACTIVE"}
    r = api.call("POST", "/v1/products/fs/{fs}/active", params={"shop_id": SHOP}, json={"product_id": pids[:1]})
    assert r.json()["data"]["failed_rows_data"] is None
    assert api.by_sku(f"{tag}-1")["basic"]["status"] == "ACTIVE"
    assert api.by_sku(f"{tag}-2")["basic"]["status"] == "INACTIVE"
    too_many = {"product_id": list(range(26))}
    assert_envelope(api.call("POST", "/v1/products/fs/{fs}/active", params={"shop_id": SHOP}, json=too_many), 400)


def test_product_pages_cover_the_shop_and_end_short(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-{i}") for i in range(7)])
    seen: list[int] = []
    page = 1
    while True:
        rows = assert_envelope(api.info(page=page, per_page=3), 200)["data"]
        seen += [r["basic"]["productID"] for r in rows]
        if len(rows) < 3:
            break
        page += 1
    assert seen == [p["id"] for p in api.sb.admin.products(SHOP)]
    assert_envelope(api.info(page=1, per_page=51), 400)
    assert_envelope(api.info(page=0, per_page=10), 400)


def test_unlinked_shop_or_fs_id_is_403(api: Api) -> None:
    assert_envelope(api.create([product("x")], shop=999), 403, "RBAC_MDLW_001")
    r = api.call("GET", "/inventory/v1/fs/99/product/info", params={"shop_id": SHOP})
    assert_envelope(r, 403, "RBAC_MDLW_001")
    assert_envelope(api.orders(0, 100, shop=999), 403, "RBAC_MDLW_001")


# --- orders -----------------------------------------------------------------------------------


def test_order_window_is_from_inclusive_to_exclusive_and_under_3_days(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-1", stock=100)], OTHER_SHOP)
    t0 = 1_700_000_000 + int(tag, 16) % 10_000_000 * 10  # a window no other test writes in
    placed = [api.sb.admin.place_order(OTHER_SHOP, [{"sku": f"{tag}-1", "quantity": 1}], create_time=t)
              for t in (t0, t0 + 50, t0 + 100)]
    got = assert_envelope(api.orders(t0, t0 + 100, shop=OTHER_SHOP), 200)["data"]
    assert [o["order_id"] for o in got] == [o["order_id"] for o in placed[:2]]
    assert assert_envelope(api.orders(t0 + 1, t0 + 101, shop=OTHER_SHOP), 200)["data"][-1]["create_time"] == t0 + 100

    assert_envelope(api.orders(t0, t0 + 259_200, shop=OTHER_SHOP), 400, "ORD_DLV_013")
    assert len(api.orders(t0, t0 + 259_199, shop=OTHER_SHOP).json()["data"]) == 3


def test_orders_page_by_create_time_then_order_id(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-1", stock=100)], OTHER_SHOP)
    t0 = 1_600_000_000 + int(tag, 16) % 10_000_000 * 10
    for t in (t0 + 5, t0, t0 + 5, t0 + 1, t0):
        api.sb.admin.place_order(OTHER_SHOP, [{"sku": f"{tag}-1", "quantity": 1}], create_time=t)
    pages, page = [], 1
    while True:
        rows = api.orders(t0, t0 + 10, shop=OTHER_SHOP, page=page, per_page=2).json()["data"]
        pages.append(rows)
        if len(rows) < 2:
            break
        page += 1
    assert [len(p) for p in pages] == [2, 2, 1]
    keys = [(o["create_time"], o["order_id"]) for p in pages for o in p]
    assert keys == sorted(keys) and len(set(keys)) == 5
    assert_envelope(api.orders(t0, t0 + 10, shop=OTHER_SHOP, per_page=101), 400)


def test_an_order_reads_back_in_the_contract_shape(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-1", price=20_000), product(f"{tag}-2", price=5_000)])
    placed = api.sb.admin.place_order(SHOP, [{"sku": f"{tag}-1", "quantity": 2}, {"sku": f"{tag}-2", "quantity": 1}])
    r = api.call("GET", "/v2/fs/{fs}/order", params={"order_id": placed["order_id"]})
    o = assert_envelope(r, 200)["data"]
    assert o == placed
    assert o["order_status"] == 220 and o["shop_id"] == SHOP
    assert o["invoice_ref_num"].startswith("INV/") and o["invoice_ref_num"].endswith(f"/MPL/{o['order_id']}")
    assert [(p["sku"], p["quantity"], p["total_price"], p["currency"]) for p in o["products"]] == [
        (f"{tag}-1", 2, 40_000, "Rp"), (f"{tag}-2", 1, 5_000, "Rp")]
    assert o["amt"]["ttl_product_price"] == 45_000
    assert o["amt"]["ttl_amount"] == 45_000 + o["amt"]["shipping_cost"]
    assert set(o["buyer"]) == {"id", "name", "phone", "email"}
    assert set(o["recipient"]["address"]) == {"address_full", "district", "city", "province", "postal_code"}
    assert_envelope(api.call("GET", "/v2/fs/{fs}/order", params={"order_id": 1}), 404)


def test_orders_take_stock_and_a_cancel_gives_it_back(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-1", stock=10)])
    order = api.sb.admin.place_order(SHOP, [{"sku": f"{tag}-1", "quantity": 3}])
    assert api.by_sku(f"{tag}-1")["stock"]["value"] == 7
    with pytest.raises(SandboxAdminError, match="not enough stock"):
        api.sb.admin.place_order(SHOP, [{"sku": f"{tag}-1", "quantity": 8}])

    accepted = api.sb.admin.set_order_status(order["order_id"], 400)
    assert accepted["order_status"] == 400 and accepted["update_time"] > order["update_time"]
    assert api.by_sku(f"{tag}-1")["stock"]["value"] == 7
    cancelled = api.sb.admin.set_order_status(order["order_id"], 0)
    assert cancelled["update_time"] > accepted["update_time"]
    assert api.by_sku(f"{tag}-1")["stock"]["value"] == 10
    # The list still shows it, with its current status.
    listed = api.orders(order["create_time"], order["create_time"] + 1).json()["data"]
    assert {o["order_id"]: o["order_status"] for o in listed}[order["order_id"]] == 0


# --- rate limits ------------------------------------------------------------------------------


def test_bulk_call_past_the_limit_splits_then_next_call_is_429(api: Api, tag: str) -> None:
    api.sb.admin.set_rate_limit(2)
    before = api.sb.admin.stats()["totals"]
    data = assert_envelope(api.create([product(f"{tag}-{i}") for i in range(5)]), 200)["data"]
    assert data["success_data"] == 2 and data["fail_data"] == 3
    limited = data["failed_rows_data"]
    assert [r["sku"] for r in limited] == [f"{tag}-{i}" for i in (2, 3, 4)]
    assert all(r["error"] == ["ERR_TOO_MANY_REQUEST"] and r["message"] == "ERR_TOO_MANY_REQUEST" for r in limited)

    r = api.create([product(f"{tag}-2")])
    assert_envelope(r, 429)
    assert r.headers["X-Ratelimit-Limit"] == "2 req/s (burst 2)"
    assert int(r.headers["X-Ratelimit-Remaining"]) == 0
    assert 0 < float(r.headers["X-Ratelimit-Reset-After"]) <= 0.5
    assert float(r.headers["X-Ratelimit-Full-Reset-After"]) >= float(r.headers["X-Ratelimit-Reset-After"])
    # Each path has its own bucket: the limited rows were not applied.
    api.sb.admin.set_rate_limit(None)
    assert [api.by_sku(f"{tag}-{i}") is not None for i in range(5)] == [True, True, False, False, False]
    after = api.sb.admin.stats()["totals"]
    assert after["row_429"] - before["row_429"] == 3 and after["http_429"] - before["http_429"] == 1


def test_price_rows_past_the_limit_carry_the_row_message(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-{i}") for i in range(3)])
    api.sb.admin.set_rate_limit(1)
    rows = [{"sku": f"{tag}-{i}", "new_price": 9_000} for i in range(3)]
    data = api.call("POST", "/inventory/v1/fs/{fs}/price/update", params={"shop_id": SHOP}, json=rows).json()["data"]
    assert data["succeed_rows"] == 1
    assert [(r["sku"], r["message"]) for r in data["failed_rows_data"]] == [
        (f"{tag}-1", "ERR_TOO_MANY_REQUEST"), (f"{tag}-2", "ERR_TOO_MANY_REQUEST")]
    api.sb.admin.set_rate_limit(None)
    assert [api.by_sku(f"{tag}-{i}")["price"]["value"] for i in range(3)] == [9_000, 15_000, 15_000]


# --- faults -----------------------------------------------------------------------------------


def test_injected_429_then_normal_again(api: Api) -> None:
    api.sb.admin.inject_fault("http_429", path="/v1/categories", count=1, reset_after=0.25)
    r = api.call("GET", "/v1/categories")
    assert_envelope(r, 429)
    assert float(r.headers["X-Ratelimit-Reset-After"]) == 0.25
    assert api.call("GET", "/v1/categories").status_code == 200


def test_5xx_before_does_not_apply_and_5xx_after_does(api: Api, tag: str) -> None:
    created_ids(api, [product(f"{tag}-1")])
    fired = api.sb.admin.stats()["faults_fired"]
    api.sb.admin.inject_fault("error_5xx_before", path="/stock/update", count=1)
    r = api.call("POST", "/inventory/v1/fs/{fs}/stock/update", params={"shop_id": SHOP},
                 json=[{"sku": f"{tag}-1", "new_stock": 3}])
    assert_envelope(r, 500)
    assert api.by_sku(f"{tag}-1")["stock"]["value"] == 10

    api.sb.admin.inject_fault("error_5xx_after", path="/stock/update", count=1, status=503)
    r = api.call("POST", "/inventory/v1/fs/{fs}/stock/update", params={"shop_id": SHOP},
                 json=[{"sku": f"{tag}-1", "new_stock": 3}])
    assert_envelope(r, 503)
    assert api.by_sku(f"{tag}-1")["stock"]["value"] == 3

    api.sb.admin.inject_fault("error_5xx_after", path="/create", count=1)
    assert_envelope(api.create([product(f"{tag}-2")]), 500)
    assert api.by_sku(f"{tag}-2") is not None  # created: a client must look up before creating again
    now = api.sb.admin.stats()["faults_fired"]
    assert now.get("error_5xx_before", 0) - fired.get("error_5xx_before", 0) == 1
    assert now["error_5xx_after"] - fired.get("error_5xx_after", 0) == 2


def test_latency_delays_the_answer(api: Api) -> None:
    api.sb.admin.inject_fault("latency", path="/v1/categories", count=1, seconds=0.3)
    start = time.monotonic()
    assert api.call("GET", "/v1/categories").status_code == 200
    assert time.monotonic() - start >= 0.3


def test_token_expiry_revokes_the_token(api: Api) -> None:
    api.sb.admin.inject_fault("token_expiry", path="/v1/categories", count=1)
    assert_envelope(api.call("GET", "/v1/categories"), 401, "AUTH_TOKEN_EXPIRED")
    assert_envelope(api.call("GET", "/v1/categories"), 401, "AUTH_TOKEN_EXPIRED")
    assert api.call("GET", "/v1/categories", token=api.new_token()).status_code == 200


def test_probability_faults_repeat_with_the_same_seed(api: Api) -> None:
    def pattern() -> list[int]:
        api.sb.admin.clear_faults()
        api.sb.admin.inject_fault("error_5xx_before", path="/v1/categories", probability=0.5, seed=7)
        return [api.call("GET", "/v1/categories").status_code for _ in range(16)]

    first = pattern()
    assert set(first) == {200, 500}
    assert pattern() == first


def test_admin_refuses_bad_faults_and_orders(api: Api) -> None:
    with pytest.raises(SandboxAdminError) as err:
        api.sb.admin.inject_fault("meteor")  # type: ignore[arg-type]
    assert err.value.status == 400
    with pytest.raises(SandboxAdminError):
        api.sb.admin.place_order(SHOP, [{"sku": "no-such-sku", "quantity": 1}])
    with pytest.raises(SandboxAdminError):
        api.sb.admin.set_order_status(1, 0)


# --- persistence ------------------------------------------------------------------------------


def test_state_survives_a_restart(api: Api, tag: str) -> None:
    pid = created_ids(api, [product(f"{tag}-1", stock=5)])[f"{tag}-1"]
    order = api.sb.admin.place_order(SHOP, [{"product_id": pid, "quantity": 2}])
    calls = api.sb.admin.stats()["totals"]["calls"]
    url = api.sb.url
    api.sb.restart()
    assert api.sb.url == url and api.sb.running
    # The token issued before the restart is still good.
    assert api.by_sku(f"{tag}-1")["stock"]["value"] == 3
    r = api.call("GET", "/v2/fs/{fs}/order", params={"order_id": order["order_id"]})
    assert r.json()["data"] == order
    assert api.sb.admin.stats()["totals"]["calls"] > calls
    assert api.sb.admin.faults() == []


def test_a_probability_latency_fires_once_per_call(api: Api) -> None:
    api.sb.admin.inject_fault("latency", path="/v1/categories", probability=1.0, seconds=0.05)
    assert [api.call("GET", "/v1/categories").status_code for _ in range(2)] == [200, 200]
    assert api.sb.admin.faults()[0]["fired"] == 2


def test_counters_count_items_per_path(api: Api, tag: str) -> None:
    path = f"/v3/products/fs/{api.sb.fs_id}/create"
    before = api.sb.admin.stats()["paths"].get(path, {"calls": 0, "items": 0})
    api.create([product(f"{tag}-{i}") for i in range(3)])
    after = api.sb.admin.stats()["paths"][path]
    assert (after["calls"] - before["calls"], after["items"] - before["items"]) == (1, 3)


# --- entry points and secrets -----------------------------------------------------------------


def test_lapak_sandbox_flags_become_settings(tmp_path) -> None:
    from connectors.sandbox.server import settings_from_args
    from flows.cli import build_parser

    args = build_parser().parse_args(["sandbox", "--port", "8765", "--data", str(tmp_path), "--fs-id", "7",
                                      "--shops", "1,2", "--client-id", "c", "--rate-limit", "0"])
    s = settings_from_args(args)
    assert (s.port, s.data_dir, s.fs_id, s.shops, s.client_id, s.rate_limit) == (8765, tmp_path, 7, (1, 2), "c", None)
    defaults = settings_from_args(build_parser().parse_args(["sandbox"]))
    assert (defaults.client_id, defaults.fs_id, defaults.shops, defaults.rate_limit) == (
        "lapak-demo", 15001, (479573, 479574, 479575), 50.0)


def test_secrets_stay_out_of_files_and_reprs(api: Api) -> None:
    token = api.new_token()
    assert api.call("GET", "/v1/categories", token=token).status_code == 200
    assert api.sb.client_secret not in repr(api.sb)
    for f in api.sb.data_dir.iterdir():
        blob = f.read_bytes()
        assert api.sb.client_secret.encode() not in blob, f
        assert token.encode() not in blob, f
