"""The TikTok-shaped sandbox against ../shared/tiktok-shop-api.md, over real HTTP with plain requests.

One sandbox subprocess serves the module; each test works on its own SKUs so tests do not
depend on each other's order. Tests that change faults or the rate limit put them back.
"""

from __future__ import annotations

import io
import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
import requests
from PIL import Image

from connectors.tiktok.signing import sign, sign_base, webhook_signature
from connectors.tiktok_sandbox import TikTokSandboxAdminError, TikTokSandboxHandle, running_tiktok_sandbox

SHOP, OTHER = "7494001", "7494002"
LEAF = "710101"  # Keripik & Kerupuk


def png(w: int = 400, h: int = 400, fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 120, 40)).save(buf, fmt)
    return buf.getvalue()


class Api:
    """Signs and sends calls the way any client of the contract would."""

    def __init__(self, sb: TikTokSandboxHandle, shop: str = SHOP) -> None:
        self.sb = sb
        self.http = requests.Session()
        self.http.trust_env = False
        self.tokens = self.authorise(shop)
        self.token = self.tokens["access_token"]
        self.cipher = next(s["cipher"] for s in sb.admin.health()["shops"] if s["id"] == shop)

    def authorise(self, shop: str) -> dict:
        r = self.http.get(f"{self.sb.url}/api/v2/token/get", params={
            "app_key": self.sb.app_key, "app_secret": self.sb.app_secret, "auth_code": f"code-{shop}",
            "grant_type": "authorized_code"}, timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def call(self, method: str, path: str, *, body: Any = None, params: dict | None = None, cipher: bool = True,
             files: dict | None = None, **auth: Any) -> requests.Response:
        """A signed call; ``auth`` may replace the ``token``, the ``ts`` or the ``secret`` signed with."""
        token, ts, secret = auth.get("token"), auth.get("ts"), auth.get("secret")
        q = {"app_key": self.sb.app_key, "timestamp": str(int(time.time()) if ts is None else ts), **(params or {})}
        if cipher:
            q["shop_cipher"] = self.cipher
        raw = b"" if body is None else json.dumps(body).encode()
        q["sign"] = sign(secret or self.sb.app_secret, path, q, b"" if files else raw)
        headers = {"x-tts-access-token": token or self.token}
        if not files:
            headers["Content-Type"] = "application/json"
        return self.http.request(method, f"{self.sb.url}{path}", params=q, data=raw or None, files=files,
                                 headers=headers, timeout=10)

    def upload(self, data: bytes, **kw: Any) -> requests.Response:
        return self.call("POST", "/product/202309/images/upload", cipher=False,
                         files={"data": ("p.png", data, "image/png"), "use_case": (None, "MAIN_IMAGE")}, **kw)

    def image_uri(self) -> str:
        return self.upload(png()).json()["data"]["uri"]

    def product_body(self, sku: str, **over: Any) -> dict:
        body = {"title": "Keripik Singkong Balado Pedas 250 g", "description": "<p>Renyah dan pedas.</p>",
                "category_id": LEAF, "main_images": [{"uri": self.image_uri()}],
                "package_weight": {"value": "0.25", "unit": "KILOGRAM"},
                "skus": [{"seller_sku": sku, "price": {"amount": "15000", "currency": "IDR"},
                          "inventory": [{"warehouse_id": self.warehouse, "quantity": 10}]}]}
        return {**body, **over}

    @property
    def warehouse(self) -> str:
        return str(int(SHOP) * 100 + 1)

    def create(self, sku: str, **over: Any) -> requests.Response:
        return self.call("POST", "/product/202309/products", body=self.product_body(sku, **over))

    def search(self, body: dict, page_size: int = 100, token: str | None = None) -> requests.Response:
        params = {"page_size": str(page_size), **({"page_token": token} if token is not None else {})}
        return self.call("POST", "/product/202309/products/search", body=body, params=params)

    def detail(self, pid: str) -> requests.Response:
        return self.call("GET", f"/product/202309/products/{pid}")


def sku() -> str:
    return f"T-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TikTokSandboxHandle]:
    with running_tiktok_sandbox(tmp_path_factory.mktemp("tiktok"), webhook_backoff=0.05) as handle:
        yield handle


@pytest.fixture(scope="module")
def api(sb: TikTokSandboxHandle) -> Api:
    return Api(sb)


def code(r: requests.Response) -> int:
    return r.json()["code"]


# --- §2 signing, §1 tokens, shops ---------------------------------------------------------------


def test_the_contract_worked_example_signs_as_written():
    base = sign_base("S", "/authorization/202309/shops", {"app_key": "K", "timestamp": "1700000000"})
    assert base == b"S/authorization/202309/shopsapp_keyKtimestamp1700000000S"


def test_a_wrong_sign_or_app_key_is_refused_106001(api: Api):
    assert api.call("GET", "/authorization/202309/shops", cipher=False).status_code == 200
    bad = api.call("GET", "/authorization/202309/shops", cipher=False, secret="not-the-secret")
    assert (bad.status_code, code(bad)) == (401, 106001)
    r = api.http.get(f"{api.sb.url}/authorization/202309/shops", headers={"x-tts-access-token": api.token},
                     params={"app_key": "other", "timestamp": str(int(time.time())), "sign": "0" * 64}, timeout=10)
    assert (r.status_code, code(r)) == (401, 106001)


def test_timestamp_must_be_within_300_seconds(api: Api):
    now = int(time.time())
    assert api.call("GET", "/authorization/202309/shops", cipher=False, ts=now - 250).status_code == 200
    for ts in (now - 400, now + 400):
        r = api.call("GET", "/authorization/202309/shops", cipher=False, ts=ts)
        assert (r.status_code, code(r)) == (401, 106002)


def test_tokens_have_absolute_expiry_and_a_refresh_keeps_the_old_access_token(sb: TikTokSandboxHandle):
    api = Api(sb, OTHER)
    now = time.time()
    assert abs(api.tokens["access_token_expire_in"] - (now + 7 * 86400)) < 60
    assert api.tokens["refresh_token_expire_in"] > api.tokens["access_token_expire_in"]
    assert api.tokens["seller_base_region"] == "ID" and api.tokens["seller_name"]
    r = api.http.get(f"{sb.url}/api/v2/token/refresh", params={
        "app_key": sb.app_key, "app_secret": sb.app_secret, "refresh_token": api.tokens["refresh_token"],
        "grant_type": "refresh_token"}, timeout=10)
    fresh = r.json()["data"]
    assert r.status_code == 200 and fresh["access_token"] != api.token
    for token in (api.token, fresh["access_token"]):
        assert api.call("GET", "/authorization/202309/shops", cipher=False, token=token).status_code == 200
    again = api.http.get(f"{sb.url}/api/v2/token/refresh", params={
        "app_key": sb.app_key, "app_secret": sb.app_secret, "refresh_token": api.tokens["refresh_token"],
        "grant_type": "refresh_token"}, timeout=10)
    assert (again.status_code, code(again)) == (401, 36004006)  # the returned refresh token replaces it


def test_token_errors_and_expiry_from_admin(sb: TikTokSandboxHandle):
    api = Api(sb, "7494003")
    base = {"app_key": sb.app_key, "app_secret": sb.app_secret, "grant_type": "authorized_code"}
    r = api.http.get(f"{sb.url}/api/v2/token/get", params={**base, "app_secret": "x", "auth_code": "code-7494003"})
    assert (r.status_code, code(r)) == (401, 36004001)
    r = api.http.get(f"{sb.url}/api/v2/token/get", params={**base, "auth_code": "code-999"})
    assert (r.status_code, code(r)) == (400, 36004005)
    r = api.call("GET", "/authorization/202309/shops", cipher=False, token="no-such-token")
    assert (r.status_code, code(r)) == (401, 105001)
    sb.admin.expire_token("7494003", "access")
    r = api.call("GET", "/authorization/202309/shops", cipher=False)
    assert (r.status_code, code(r)) == (401, 105002)
    sb.admin.expire_token("7494003", "refresh")
    r = api.http.get(f"{sb.url}/api/v2/token/refresh", params={
        "app_key": sb.app_key, "app_secret": sb.app_secret, "refresh_token": api.tokens["refresh_token"],
        "grant_type": "refresh_token"})
    assert (r.status_code, code(r)) == (401, 36004006)


def test_the_token_acts_for_its_one_shop_and_every_call_needs_its_cipher(api: Api, sb: TikTokSandboxHandle):
    shops = api.call("GET", "/authorization/202309/shops", cipher=False).json()["data"]["shops"]
    assert [(s["id"], s["region"], s["cipher"]) for s in shops] == [(SHOP, "ID", api.cipher)]
    r = api.call("GET", "/logistics/202309/warehouses", cipher=False)
    assert (r.status_code, code(r)) == (403, 106013)
    other = next(s["cipher"] for s in sb.admin.health()["shops"] if s["id"] == OTHER)
    r = api.call("GET", "/logistics/202309/warehouses", cipher=False, params={"shop_cipher": other})
    assert (r.status_code, code(r)) == (403, 106013)
    r = api.call("GET", "/logistics/202309/warehouses")
    assert r.status_code == 200 and r.headers["X-RateLimit-Limit"] == "50" and "X-RateLimit-Remaining" in r.headers
    assert [w["is_default"] for w in r.json()["data"]["warehouses"]] == [True, False]


def test_categories_are_three_levels_with_the_renamed_leaves(api: Api):
    cats = api.call("GET", "/product/202309/categories").json()["data"]["categories"]
    by_id = {c["id"]: c for c in cats}
    leaves = {c["local_name"]: c["id"] for c in cats if c["is_leaf"]}
    assert len(leaves) == 23 and {"Keripik & Kerupuk", "Kopi", "Masker Kain & Scuba"} <= set(leaves)
    assert "Keripik" not in leaves and "Sambal" in leaves
    leaf = by_id[leaves["Kopi"]]
    assert by_id[by_id[leaf["parent_id"]]["parent_id"]]["parent_id"] == "0"


# --- §4 images -----------------------------------------------------------------------------------


def test_image_upload_accepts_jpeg_png_webp_in_size_and_refuses_the_rest(api: Api):
    for fmt in ("PNG", "JPEG", "WEBP"):
        data = api.upload(png(300, 4000, fmt)).json()["data"]
        assert (data["width"], data["height"], data["use_case"]) == (300, 4000, "MAIN_IMAGE") and data["uri"]
    for bad in (png(299, 400), png(400, 4001), b"not an image at all", png(400, 400, "GIF")):
        r = api.upload(bad)
        assert (r.status_code, code(r)) == (400, 12052003)


def test_an_image_serves_only_the_shop_that_uploaded_it(sb: TikTokSandboxHandle, api: Api):
    theirs = Api(sb, OTHER).image_uri()
    r = api.create(sku(), main_images=[{"uri": theirs}])
    assert (r.status_code, code(r)) == (400, 12052001) and "main_images" in r.json()["message"]


# --- §5 products ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("over", "field"), [
    ({"title": "Keripik pedas"}, "title"),
    ({"description": ""}, "description"),
    ({"category_id": "710100"}, "category_id"),
    ({"package_weight": {"value": "0.2505", "unit": "KILOGRAM"}}, "package_weight"),
    ({"package_weight": {"value": "0", "unit": "KILOGRAM"}}, "package_weight"),
    ({"package_weight": {"value": "100.5", "unit": "KILOGRAM"}}, "package_weight"),
    ({"main_images": []}, "main_images"),
    ({"idempotency_key": "k" * 129}, "idempotency_key"),
])
def test_a_broken_create_rule_names_its_field_and_creates_nothing(api: Api, over: dict, field: str):
    s = sku()
    r = api.create(s, **over)
    assert (r.status_code, code(r)) == (400, 12052001) and field in r.json()["message"]
    assert api.search({"seller_skus": [s]}).json()["data"]["total_count"] == 0


@pytest.mark.parametrize(("sku_over", "field"), [
    ({"seller_sku": "has space"}, "seller_sku"),
    ({"price": {"amount": "99", "currency": "IDR"}}, "price"),
    ({"price": {"amount": "15000.5", "currency": "IDR"}}, "price"),
    ({"inventory": [{"warehouse_id": "123", "quantity": 1}]}, "inventory"),
    ({"inventory": [{"warehouse_id": "749400101", "quantity": 100000}]}, "inventory"),
])
def test_sku_rules(api: Api, sku_over: dict, field: str):
    body = api.product_body(sku())
    body["skus"][0].update(sku_over)
    r = api.call("POST", "/product/202309/products", body=body)
    assert (r.status_code, code(r)) == (400, 12052001) and field in r.json()["message"]


def test_create_activates_at_once_and_ignores_unknown_fields(api: Api):
    s = sku()
    r = api.create(s, brand_id="123", made_up={"x": 1})
    data = r.json()["data"]
    assert r.status_code == 200 and data["skus"][0]["seller_sku"] == s and data["warnings"] == []
    d = api.detail(data["product_id"]).json()["data"]
    assert d["status"] == "ACTIVATE" and d["package_weight"] == {"value": "0.25", "unit": "KILOGRAM"}
    assert [c["id"] for c in d["category_chains"]] == ["710000", "710100", LEAF]
    assert d["main_images"][0]["width"] == 400 and d["main_images"][0]["urls"]
    assert d["skus"][0]["price"]["sale_price"] == "15000"
    assert d["skus"][0]["inventory"] == [{"warehouse_id": api.warehouse, "quantity": 10}]


def test_a_duplicate_seller_sku_is_12052002(api: Api):
    s = sku()
    assert api.create(s).status_code == 200
    r = api.create(s)
    assert (r.status_code, code(r)) == (400, 12052002)


def test_an_idempotency_key_replays_the_first_result_and_creates_nothing(api: Api, sb: TikTokSandboxHandle):
    s, key = sku(), uuid.uuid4().hex
    first = api.create(s, idempotency_key=key).json()["data"]
    again = api.create(s, idempotency_key=key)
    assert again.status_code == 200 and again.json()["data"] == first
    assert api.search({"seller_skus": [s]}).json()["data"]["total_count"] == 1
    assert sb.admin.stats()["creates"][SHOP][s] == 1


def test_search_pages_with_tokens_and_reads_its_own_writes(api: Api):
    skus = [sku() for _ in range(5)]
    ids = [api.create(s).json()["data"]["product_id"] for s in skus[:4]]
    page = api.search({"seller_skus": skus}, page_size=3).json()["data"]
    assert page["total_count"] == 4 and [p["id"] for p in page["products"]] == ids[:3] and page["next_page_token"]
    ids.append(api.create(skus[4]).json()["data"]["product_id"])  # written between two pages
    rest = api.search({"seller_skus": skus}, page_size=3, token=page["next_page_token"]).json()["data"]
    assert [p["id"] for p in rest["products"]] == ids[3:] and rest["next_page_token"] == ""
    assert rest["total_count"] == 5
    r = api.search({"seller_skus": skus[:1]}, page_size=3, token=page["next_page_token"])
    assert (r.status_code, code(r)) == (400, 36009004)
    assert api.search({}, page_size=101).status_code == 400


def test_partial_edit_changes_what_it_names_and_refuses_sku_fields(api: Api):
    pid = api.create(sku()).json()["data"]["product_id"]
    before = api.detail(pid).json()["data"]
    r = api.call("POST", f"/product/202309/products/{pid}/partial_edit",
                 body={"title": "Keripik Singkong Original Gurih 500 g"})
    after = api.detail(pid).json()["data"]
    assert r.status_code == 200 and after["title"] == "Keripik Singkong Original Gurih 500 g"
    assert after["description"] == before["description"] and after["update_time"] > before["update_time"]
    r = api.call("POST", f"/product/202309/products/{pid}/partial_edit", body={"skus": [{"seller_sku": "X"}]})
    assert (r.status_code, code(r)) == (400, 12052001) and "skus" in r.json()["message"]
    r = api.call("POST", "/product/202309/products/1729400099999999999/partial_edit", body={"title": "x" * 30})
    assert (r.status_code, code(r)) == (404, 12052260)


def test_inventory_and_prices_are_absolute_and_prices_need_activate(api: Api):
    data = api.create(sku()).json()["data"]
    pid, sku_id = data["product_id"], data["skus"][0]["id"]
    inv = {"skus": [{"id": sku_id, "inventory": [{"warehouse_id": api.warehouse, "quantity": 3}]}]}
    assert api.call("POST", f"/product/202309/products/{pid}/inventory/update", body=inv).status_code == 200
    price = {"skus": [{"id": sku_id, "price": {"amount": "17500", "currency": "IDR"}}]}
    assert api.call("POST", "/product/202309/products/deactivate", body={"product_ids": [pid]}).status_code == 200
    r = api.call("POST", f"/product/202309/products/{pid}/prices/update", body=price)
    assert (r.status_code, code(r)) == (400, 12052004)
    api.call("POST", "/product/202309/products/activate", body={"product_ids": [pid]})
    assert api.call("POST", f"/product/202309/products/{pid}/prices/update", body=price).status_code == 200
    s = api.detail(pid).json()["data"]["skus"][0]
    assert s["price"]["sale_price"] == "17500" and s["inventory"][0]["quantity"] == 3


def test_activate_and_deactivate_report_unknown_ids_and_apply_the_rest(api: Api):
    pid = api.create(sku()).json()["data"]["product_id"]
    r = api.call("POST", "/product/202309/products/deactivate", body={"product_ids": [pid, "1729400099999999998"]})
    errors = r.json()["data"]["errors"]
    assert r.status_code == 200 and [e["detail"]["product_id"] for e in errors] == ["1729400099999999998"]
    assert errors[0]["code"] == 12052260
    assert api.detail(pid).json()["data"]["status"] == "SELLER_DEACTIVATED"
    r = api.call("POST", "/product/202309/products/activate", body={"product_ids": [str(i) for i in range(21)]})
    assert (r.status_code, code(r)) == (400, 36009004)


# --- §6 orders -----------------------------------------------------------------------------------


def _stock(api: Api, pid: str) -> int:
    return sum(i["quantity"] for i in api.detail(pid).json()["data"]["skus"][0]["inventory"])


def test_an_order_has_one_line_item_per_unit_and_takes_stock_a_cancel_gives_none_back(api: Api,
                                                                                        sb: TikTokSandboxHandle):
    s = sku()
    pid = api.create(s).json()["data"]["product_id"]
    order = sb.admin.place_order(SHOP, [{"seller_sku": s, "quantity": 3}], buyer={"name": "Budi"})
    assert [li["seller_sku"] for li in order["line_items"]] == [s] * 3
    assert len({li["id"] for li in order["line_items"]}) == 3
    assert order["payment"]["sub_total"] == "45000" and order["recipient_address"]["name"] == "Budi"
    assert order["status"] == "AWAITING_SHIPMENT" and _stock(api, pid) == 7
    with pytest.raises(TikTokSandboxAdminError):
        sb.admin.place_order(SHOP, [{"product_id": pid, "quantity": 8}])
    r = api.call("GET", "/order/202309/orders", params={"ids": f"{order['id']},577999999999999999"})
    assert [o["id"] for o in r.json()["data"]["orders"]] == [order["id"]]
    cancelled = sb.admin.set_order_status(order["id"], "CANCELLED")
    assert cancelled["cancel_reason"] and cancelled["cancel_time"] == cancelled["update_time"] > 0
    assert cancelled["update_time"] > order["update_time"] and _stock(api, pid) == 7


def test_an_unpaid_order_shows_no_address_until_paid(api: Api, sb: TikTokSandboxHandle):
    s = sku()
    api.create(s)
    order = sb.admin.place_order(SHOP, [{"seller_sku": s, "quantity": 1}], status="UNPAID")
    assert "recipient_address" not in order and "paid_time" not in order
    paid = sb.admin.set_order_status(order["id"], "AWAITING_SHIPMENT")
    assert paid["recipient_address"]["region_code"] == "ID" and paid["paid_time"] == paid["update_time"]


def test_order_search_by_update_time_pages_with_tokens_bound_to_filters_and_sort(api: Api, sb: TikTokSandboxHandle):
    s, t0 = sku(), 1_600_000_000
    api.create(s)
    ids = [sb.admin.place_order(SHOP, [{"seller_sku": s, "quantity": 1}], create_time=t0 + 10 * i)["id"]
           for i in range(3)]
    sb.admin.set_order_status(ids[0], "IN_TRANSIT", update_time=t0 + 30)
    window = {"update_time_ge": t0, "update_time_lt": t0 + 100}
    asc = {"page_size": "2", "sort_field": "update_time", "sort_order": "ASC"}
    path = "/order/202309/orders/search"
    first = api.call("POST", path, body=window, params=asc).json()["data"]
    assert [o["id"] for o in first["orders"]] == ids[1:] and first["total_count"] == 3
    second = api.call("POST", path, body=window, params={**asc, "page_token": first["next_page_token"]}).json()["data"]
    assert [o["id"] for o in second["orders"]] == ids[:1] and second["next_page_token"] == ""
    for body, params in (({**window, "order_status": "IN_TRANSIT"}, asc), (window, {**asc, "sort_order": "DESC"})):
        r = api.call("POST", path, body=body, params={**params, "page_token": first["next_page_token"]})
        assert (r.status_code, code(r)) == (400, 36009004)
    newest_first = api.call("POST", path, body={"create_time_ge": t0, "create_time_lt": t0 + 100},
                            params={"page_size": "10"}).json()["data"]["orders"]
    assert [o["id"] for o in newest_first] == ids[::-1]


# --- §3 rate limit and faults --------------------------------------------------------------------


def test_more_than_50_a_second_on_one_path_is_429_with_retry_after(api: Api):
    limited = None
    for _ in range(300):
        r = api.call("GET", "/product/202309/categories")
        if r.status_code == 429:
            limited = r
            break
    assert limited is not None and code(limited) == 36009002
    assert int(limited.headers["Retry-After"]) >= 1 and limited.headers["X-RateLimit-Remaining"] == "0"
    assert api.call("GET", "/logistics/202309/warehouses").status_code == 200  # another template's bucket


def test_an_injected_429_applies_nothing(api: Api, sb: TikTokSandboxHandle):
    s = sku()
    sb.admin.inject_fault("http_429", path="/product/202309/products", count=1)
    r = api.create(s)
    assert (r.status_code, code(r)) == (429, 36009002) and r.headers["Retry-After"] == "1"
    assert api.search({"seller_skus": [s]}).json()["data"]["total_count"] == 0


def test_a_5xx_after_apply_or_a_dropped_connection_still_creates(api: Api, sb: TikTokSandboxHandle):
    s = sku()
    body = api.product_body(s)  # uploads first, so the fault meets the create
    sb.admin.inject_fault("error_5xx_after", path="/product/202309/products", count=1)
    r = api.call("POST", "/product/202309/products", body=body)
    assert (r.status_code, code(r)) == (500, 36009003)
    assert api.search({"seller_skus": [s]}).json()["data"]["total_count"] == 1
    assert code(api.call("POST", "/product/202309/products", body=body)) == 12052002
    s2 = sku()
    body = api.product_body(s2)
    sb.admin.inject_fault("drop_after", path="/product/202309/products", count=1)
    with pytest.raises(requests.ConnectionError):
        api.call("POST", "/product/202309/products", body=body)
    assert api.search({"seller_skus": [s2]}).json()["data"]["total_count"] == 1
    assert sb.admin.stats()["faults_fired"]["drop_after"] >= 1


# --- §7 webhooks ---------------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    got: ClassVar[list[tuple[str, bytes]]] = []
    fail_first = True

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        fail, _Receiver.fail_first = _Receiver.fail_first, False
        if not fail:
            _Receiver.got.append((self.headers.get("Authorization", ""), raw))
        self.send_response(500 if fail else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_webhooks_are_signed_retried_and_counted(api: Api, sb: TikTokSandboxHandle):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        sb.admin.set_webhook(f"http://127.0.0.1:{server.server_address[1]}/hook")
        s = sku()
        api.create(s)
        order = sb.admin.place_order(SHOP, [{"seller_sku": s, "quantity": 1}])
        sb.admin.set_order_status(order["id"], "ON_HOLD")
        deadline = time.monotonic() + 5
        while len(_Receiver.got) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        sb.admin.set_webhook(None)
        server.shutdown()
    assert len(_Receiver.got) == 2
    for auth, raw in _Receiver.got:
        assert auth == webhook_signature(sb.app_key, sb.app_secret, raw)
    bodies = [json.loads(raw) for _, raw in _Receiver.got]
    assert [(b["type"], b["shop_id"], b["data"]["order_id"]) for b in bodies] == [(1, SHOP, order["id"])] * 2
    assert [(b["data"]["order_status"], b["data"]["is_on_hold_order"]) for b in bodies] == [
        ("AWAITING_SHIPMENT", False), ("ON_HOLD", True)]
    assert bodies[0]["tts_notification_id"] != bodies[1]["tts_notification_id"]
    hooks = sb.admin.stats()["webhooks"]
    assert hooks["delivered"] >= 2 and hooks["attempts"] >= 3


# --- §9 state survives a restart (last: it restarts the module's sandbox) ------------------------


def test_state_survives_a_restart(api: Api, sb: TikTokSandboxHandle):
    s, key = sku(), uuid.uuid4().hex
    first = api.create(s, idempotency_key=key).json()["data"]
    order = sb.admin.place_order(SHOP, [{"seller_sku": s, "quantity": 2}])
    sb.admin.set_webhook("http://127.0.0.1:9/nowhere")
    sb.restart()
    try:
        assert api.detail(first["product_id"]).json()["data"]["skus"][0]["seller_sku"] == s  # token kept too
        assert api.create(s, idempotency_key=key).json()["data"] == first
        assert [o["id"] for o in sb.admin.orders(SHOP) if o["id"] == order["id"]] == [order["id"]]
        assert sb.admin.webhook() == "http://127.0.0.1:9/nowhere"
        assert api.upload(png()).status_code == 200
    finally:
        sb.admin.set_webhook(None)
