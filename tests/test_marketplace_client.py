"""The marketplace client against mocked HTTP: every test names exactly the calls a behaviour makes.

Time is a fake clock: sleeping advances it, so waits are asserted, not endured.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from urllib.parse import parse_qs, urlparse

import pytest
import requests
import responses
from pydantic import SecretStr

from connectors.marketplace import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    ItemRateLimiter,
    MalformedResponseError,
    MarketplaceClient,
    NotFoundError,
    RateLimitInfo,
    ServerError,
    order_windows,
)
from connectors.marketplace.models import Envelope
from connectors.pacing import parse_limit
from schemas.config import MarketplaceConfig

API = "https://api.test"
AUTH = "https://auth.test"
FS = 15001
SHOP = 479573
SECRET = "s3cr3t-Client-Value"
TOKENS = ("tok-AAAA-1111", "tok-BBBB-2222", "tok-CCCC-3333")

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
CATEGORIES = f"{API}/v1/categories"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(clock: FakeClock, **kw) -> MarketplaceClient:
    kw.setdefault("rate_limit_per_second", 1000)
    return MarketplaceClient(API, AUTH, FS, "cid-7", SecretStr(SECRET), clock=clock, sleep=clock.sleep, **kw)


@pytest.fixture
def client(clock: FakeClock) -> MarketplaceClient:
    return make_client(clock)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def env(data=None, *, code=0, reason="") -> dict:
    return {"header": {"process_time": 0.01, "messages": reason, "reason": reason, "error_code": code}, "data": data}


def add_token(rsps, *tokens: str) -> None:
    for t in tokens or TOKENS[:1]:
        rsps.post(TOKEN_URL, json={"access_token": t, "expires_in": 2592000, "token_type": "Bearer"})


def body(call) -> object:
    return json.loads(call.request.body)


def calls_to(rsps, url: str) -> list:
    return [c for c in rsps.calls if c.request.url.split("?")[0] == url]


def query(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(call.request.url).query).items()}


def product(i: int | str, **kw) -> dict:
    p = {"name": f"Keripik {i}", "sku": f"SKU-{i}", "category_id": 101, "price": 15000, "stock": 10,
         "weight": 250, "pictures": [{"file_path": f"https://img.example/{i}.jpg"}]}
    p.update(kw)
    return p


def info_row(pid: int, sku: str, name: str) -> dict:
    return {"basic": {"productID": pid, "name": name, "status": "ACTIVE", "categoryID": 101,
                      "condition": "NEW", "shopID": SHOP},
            "price": {"value": 15000}, "stock": {"value": 10}, "weight": {"value": 250, "unit": "GR"},
            "sku": sku, "description": "", "pictures": [], "min_order": 1}


def inventory_ok(n: int) -> dict:
    return env({"succeed_rows": n, "failed_rows": 0, "failed_rows_data": []})


def rate_headers(remaining: int, reset_after: float, limit: str = "1000 req/s (burst 1000)") -> dict:
    return {"X-Ratelimit-Limit": limit, "X-Ratelimit-Remaining": str(remaining),
            "X-Ratelimit-Reset-After": str(reset_after), "X-Ratelimit-Full-Reset-After": "1.0"}


# ---------------------------------------------------------------- auth


def test_token_is_fetched_with_basic_auth_once_and_sent_as_bearer(client, rsps):
    add_token(rsps)
    rsps.get(CATEGORIES, json=env([{"id": 101, "name": "Keripik", "parent_id": 1, "is_leaf": True}]))

    assert [c.id for c in client.categories()] == [101]
    assert [c.name for c in client.categories()] == ["Keripik"]

    token_calls = calls_to(rsps, TOKEN_URL)
    assert len(token_calls) == 1
    assert query(token_calls[0]) == {"grant_type": "client_credentials"}
    expected = "Basic " + base64.b64encode(f"cid-7:{SECRET}".encode()).decode()
    assert token_calls[0].request.headers["Authorization"] == expected
    for call in calls_to(rsps, CATEGORIES):
        assert call.request.headers["Authorization"] == f"Bearer {TOKENS[0]}"
    assert client.counters["token_fetches"] == 1


def test_expired_token_is_refreshed_once_and_the_call_repeated(client, rsps):
    add_token(rsps, TOKENS[0], TOKENS[1])
    rsps.get(CATEGORIES, status=401, json=env(code="AUTH_TOKEN_EXPIRED", reason="token expired"))
    rsps.get(CATEGORIES, json=env([]))

    assert client.categories() == []
    cat_calls = calls_to(rsps, CATEGORIES)
    assert [c.request.headers["Authorization"] for c in cat_calls] == [f"Bearer {TOKENS[0]}", f"Bearer {TOKENS[1]}"]
    assert len(calls_to(rsps, TOKEN_URL)) == 2


def test_a_token_refused_twice_is_an_auth_error_not_a_loop(client, rsps):
    add_token(rsps, TOKENS[0], TOKENS[1])
    rsps.get(CATEGORIES, status=401, json=env(code="AUTH_TOKEN_EXPIRED"))

    with pytest.raises(AuthError) as info:
        client.categories()
    assert info.value.error_code == "AUTH_TOKEN_EXPIRED"
    assert len(calls_to(rsps, CATEGORIES)) == 2


def test_bad_credentials_raise_auth_error_without_the_secret(client, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="lapak.marketplace")
    rsps.post(TOKEN_URL, status=401, json=env(code="AUTH_INVALID_CLIENT", reason="invalid client"))

    with pytest.raises(AuthError) as info:
        client.categories()

    err = info.value
    assert err.status == 401 and err.error_code == "AUTH_INVALID_CLIENT"
    assert "cid-7" in str(err)  # the operator learns which client was refused
    b64 = base64.b64encode(f"cid-7:{SECRET}".encode()).decode()
    for text in (str(err), repr(err), repr(client), caplog.text):
        assert SECRET not in text and b64 not in text
    assert len(calls_to(rsps, TOKEN_URL)) == 1  # a 401 is not retried


# ---------------------------------------------------------------- envelope and errors


@pytest.mark.parametrize("raw, expected", [(0, None), ("0", None), ("", None), (None, None),
                                           ("ORD_DLV_013", "ORD_DLV_013"), (42, "42")])
def test_error_code_is_parsed_leniently(raw, expected):
    assert Envelope.model_validate({"header": {"error_code": raw}, "data": []}).header.error_code == expected


def test_envelope_without_error_code_or_header_parses():
    assert Envelope.model_validate({"data": [1]}).header.error_code is None
    assert Envelope.model_validate({"header": {"messages": "ok"}}).data is None


def test_malformed_json_is_a_clear_error_and_not_repeated(client, rsps):
    add_token(rsps)
    rsps.post(STOCK, body="<html>gateway</html>", content_type="text/html")

    with pytest.raises(MalformedResponseError) as info:
        client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}])
    assert "not the JSON envelope" in str(info.value)
    assert len(calls_to(rsps, STOCK)) == 1


def test_order_range_too_wide_is_a_bad_request_not_retried(client, rsps):
    add_token(rsps)
    rsps.get(ORDERS, status=400, json=env(code="ORD_DLV_013", reason="Date Range must be less than 3 days"))

    with pytest.raises(BadRequestError) as info:
        list(client.iter_orders(SHOP, 0, 100))
    assert info.value.error_code == "ORD_DLV_013"
    assert "less than 3 days" in str(info.value)
    assert len(calls_to(rsps, ORDERS)) == 1


def test_unlinked_shop_is_forbidden_not_retried_and_carries_partial_result(client, rsps):
    add_token(rsps)
    rsps.post(STOCK, status=403, json=env(code="RBAC_MDLW_001", reason="shop not linked"))

    with pytest.raises(ForbiddenError) as info:
        client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}])
    assert info.value.error_code == "RBAC_MDLW_001"
    assert info.value.partial is not None and len(info.value.partial) == 0
    assert len(calls_to(rsps, STOCK)) == 1


def test_unknown_order_is_not_found_not_retried(client, rsps):
    add_token(rsps)
    rsps.get(ORDER, status=404, json=env(code="ORDER_NOT_FOUND", reason="no such order"))

    with pytest.raises(NotFoundError):
        client.get_order(99)
    assert len(calls_to(rsps, ORDER)) == 1


# ---------------------------------------------------------------- retries


def test_http_429_waits_reset_after_then_repeats(client, clock, rsps):
    add_token(rsps)
    rsps.post(STOCK, status=429, json=env(code="ERR_TOO_MANY_REQUEST"), headers=rate_headers(0, 2.5))
    rsps.post(STOCK, json=inventory_ok(2), headers=rate_headers(998, 0))

    result = client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}, {"sku": "B", "new_stock": 2}])

    assert [r.key for r in result.applied] == ["A", "B"] and not result.failed
    assert len(calls_to(rsps, STOCK)) == 2
    assert sum(clock.slept) >= 2.5
    c = client.counters
    assert c["http_429"] == 1 and c["retries"] == 1 and c["calls"]["stock"] == 2 and c["items"]["stock"] == 4


def test_server_error_on_stock_update_is_retried(client, clock, rsps):
    add_token(rsps)
    rsps.post(STOCK, status=502, json=env(code="BAD_GATEWAY"))
    rsps.post(STOCK, json=inventory_ok(1))

    result = client.update_stock(SHOP, [{"sku": "A", "new_stock": 7}])

    assert result.ok and [r.key for r in result.applied] == ["A"]
    assert [body(c) for c in calls_to(rsps, STOCK)] == [[{"sku": "A", "new_stock": 7}]] * 2
    assert clock.slept and client.counters["retries"] == 1


@pytest.mark.parametrize("exc", [requests.ConnectionError("reset by peer"), requests.ReadTimeout("slow")])
def test_connection_errors_and_timeouts_are_retried(client, rsps, exc):
    add_token(rsps)
    rsps.post(PRICE, body=exc)
    rsps.post(PRICE, json=inventory_ok(1))

    result = client.update_prices(SHOP, [{"product_id": 5, "new_price": 12000}])

    assert [r.key for r in result.applied] == ["5"]
    assert len(calls_to(rsps, PRICE)) == 2


def test_server_errors_give_up_after_max_attempts(clock, rsps):
    client = make_client(clock, max_attempts=3)
    add_token(rsps)
    rsps.post(STOCK, status=503, json=env(code="DOWN"))

    with pytest.raises(ServerError) as info:
        client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}])
    assert len(calls_to(rsps, STOCK)) == 3
    assert info.value.status == 503


# ---------------------------------------------------------------- per-row results


def test_partial_failures_are_mapped_per_row(client, rsps):
    add_token(rsps)
    rsps.post(STOCK, json=env({"succeed_rows": 2, "failed_rows": 1, "failed_rows_data": [
        {"product_id": 0, "sku": "B", "new_stock": 5, "message": "product not found"}]}))

    result = client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}, {"sku": "B", "new_stock": 5},
                                        {"sku": "C", "new_stock": 9}])

    assert [r.key for r in result.applied] == ["A", "C"]
    assert [(r.key, r.ok, r.error) for r in result.failed] == [("B", False, "product not found")]


def test_create_rows_report_product_ids_and_reasons(client, rsps):
    add_token(rsps)
    rsps.post(CREATE, json=env({"total_data": 2, "success_data": 1, "fail_data": 1,
                                "success_rows_data": [{"product_id": 9001, "sku": "SKU-1"}],
                                "failed_rows_data": [{"product_name": "Keripik 2", "sku": "SKU-2",
                                                      "error": ["Value [Keripik 2] of field [name] "
                                                                "is already used"]}]}))

    result = client.create_products(SHOP, [product(1), product(2)])

    assert [(r.key, r.product_id) for r in result.applied] == [("SKU-1", 9001)]
    assert result.failed[0].key == "SKU-2" and "field [name] is already used" in result.failed[0].error


def test_invalid_rows_are_reported_and_never_sent(client, rsps):
    add_token(rsps)
    rsps.post(STOCK, json=inventory_ok(1))

    result = client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}, {"sku": "B", "new_stock": -3}])

    assert [r.key for r in result.applied] == ["A"]
    assert result.failed[0].key == "B" and "invalid row" in result.failed[0].error
    assert body(calls_to(rsps, STOCK)[0]) == [{"sku": "A", "new_stock": 1}]


def test_rate_limited_rows_are_sent_again_after_the_headers_wait(client, clock, rsps):
    add_token(rsps)
    rsps.post(STOCK, headers=rate_headers(0, 0.5), json=env({"succeed_rows": 2, "failed_rows": 2, "failed_rows_data": [
        {"sku": "C", "new_stock": 3, "message": "ERR_TOO_MANY_REQUEST"},
        {"sku": "D", "new_stock": 4, "message": "ERR_TOO_MANY_REQUEST"}]}))
    rsps.post(STOCK, json=inventory_ok(2))

    rows = [{"sku": s, "new_stock": n} for n, s in enumerate("ABCD", 1)]
    result = client.update_stock(SHOP, rows)

    assert sorted(r.key for r in result.applied) == ["A", "B", "C", "D"] and not result.failed
    assert body(calls_to(rsps, STOCK)[1]) == [{"sku": "C", "new_stock": 3}, {"sku": "D", "new_stock": 4}]
    assert sum(clock.slept) >= 0.5  # the limiter waited as the headers said
    assert client.counters["row_429"] == 2 and client.counters["http_429"] == 0


def test_rate_limited_rows_fail_only_when_attempts_are_spent(clock, rsps):
    client = make_client(clock, max_attempts=2)
    add_token(rsps)
    refused = env({"succeed_rows": 0, "failed_rows": 1,
                   "failed_rows_data": [{"sku": "A", "new_stock": 1, "message": "ERR_TOO_MANY_REQUEST"}]})
    rsps.post(STOCK, json=refused, headers=rate_headers(0, 0.2))

    result = client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}])

    assert not result.applied and "ERR_TOO_MANY_REQUEST" in result.failed[0].error
    assert len(calls_to(rsps, STOCK)) == 2


def test_unnamed_too_many_request_strings_are_the_tail_of_an_activate_call(client, rsps):
    add_token(rsps)
    rsps.post(ACTIVE, json=env({"total_data": 3, "succeed_rows": 1, "failed_rows": 2,
                                "failed_rows_data": ["ERR_TOO_MANY_REQUEST", "ERR_TOO_MANY_REQUEST"]}))
    rsps.post(ACTIVE, json=env({"total_data": 2, "succeed_rows": 2, "failed_rows": 0, "failed_rows_data": None}))

    result = client.set_active(SHOP, [11, 12, 13], active=True)

    assert sorted(r.key for r in result.applied) == ["11", "12", "13"]
    assert body(calls_to(rsps, ACTIVE)[1]) == {"product_id": [12, 13]}


def test_deactivate_failures_naming_ids_are_mapped(client, rsps):
    add_token(rsps)
    rsps.post(INACTIVE, json=env({"total_data": 2, "succeed_rows": 1, "failed_rows": 1,
                                  "failed_rows_data": ["22: product not found in shop 21"]}))

    result = client.set_active(SHOP, [21, 22, 21], active=False)

    assert [r.key for r in result.applied] == ["21"]
    assert [(r.key, r.error) for r in result.failed] == [("22", "22: product not found in shop 21")]
    assert body(calls_to(rsps, INACTIVE)[0]) == {"product_id": [21, 22]}


def test_failures_that_name_no_row_are_settled_by_sending_rows_alone(client, rsps):
    add_token(rsps)
    unnamed = {"error": ["name cannot change: product has orders"]}
    rsps.patch(EDIT, json=env({"total_data": 3, "success_data": 1, "fail_data": 1,
                               "success_rows_data": [{"product_id": 31}], "failed_rows_data": [unnamed]}))
    rsps.patch(EDIT, json=env({"total_data": 1, "success_data": 1, "fail_data": 0,
                               "success_rows_data": [{"product_id": 32}], "failed_rows_data": []}))
    rsps.patch(EDIT, json=env({"total_data": 1, "success_data": 0, "fail_data": 1,
                               "success_rows_data": [], "failed_rows_data": [unnamed]}))

    result = client.edit_products(SHOP, [{"id": 31, "price": 20000}, {"id": 32, "stock": 4},
                                         {"id": 33, "name": "Baru"}])

    assert [(r.key, r.product_id) for r in result.applied] == [("31", 31), ("32", 32)]
    assert result.failed[0].key == "33" and "cannot change" in result.failed[0].error
    assert [body(c)["products"] for c in calls_to(rsps, EDIT)] == [
        [{"id": 31, "price": 20000}, {"id": 32, "stock": 4}, {"id": 33, "name": "Baru"}],
        [{"id": 32, "stock": 4}], [{"id": 33, "name": "Baru"}]]


# ---------------------------------------------------------------- create without idempotency key


def test_lost_create_answer_looks_skus_up_and_sends_only_the_missing(client, rsps):
    add_token(rsps)
    rsps.post(CREATE, status=500, json=env(code="INTERNAL"))  # applied SKU-1 only, then failed
    rsps.get(INFO, match=[responses.matchers.query_param_matcher({"shop_id": str(SHOP), "sku": "SKU-1"})],
             json=env([info_row(7001, "SKU-1", "Keripik 1")]))
    rsps.get(INFO, match=[responses.matchers.query_param_matcher({"shop_id": str(SHOP), "sku": "SKU-2"})],
             json=env([]))
    rsps.post(CREATE, json=env({"total_data": 1, "success_data": 1, "fail_data": 0,
                                "success_rows_data": [{"product_id": 7002, "sku": "SKU-2"}],
                                "failed_rows_data": []}))

    result = client.create_products(SHOP, [product(1), product(2)])

    assert sorted((r.key, r.product_id) for r in result.applied) == [("SKU-1", 7001), ("SKU-2", 7002)]
    creates = calls_to(rsps, CREATE)
    assert [[p["sku"] for p in body(c)["products"]] for c in creates] == [["SKU-1", "SKU-2"], ["SKU-2"]]
    assert client.counters["lost_responses"] == 1 and client.counters["sku_lookups"] == 2


def test_lost_create_answer_with_everything_applied_sends_nothing_again(client, rsps):
    add_token(rsps)
    rsps.post(CREATE, body=requests.ReadTimeout("read timed out"))
    rsps.get(INFO, json=env([info_row(7001, "SKU-1", "keripik  1")]))  # same name, other spacing/case

    result = client.create_products(SHOP, [product(1)])

    assert [(r.key, r.product_id) for r in result.applied] == [("SKU-1", 7001)]
    assert len(calls_to(rsps, CREATE)) == 1


def test_sku_already_used_by_the_same_product_counts_as_created(client, rsps):
    add_token(rsps)
    rsps.post(CREATE, json=env({"total_data": 2, "success_data": 0, "fail_data": 2, "success_rows_data": [],
                                "failed_rows_data": [
                                    {"product_name": "Keripik 1", "sku": "SKU-1",
                                     "error": ["Value [SKU-1] of field [sku] is already used"]},
                                    {"product_name": "Keripik 2", "sku": "SKU-2",
                                     "error": ["Value [SKU-2] of field [sku] is already used"]}]}))
    rsps.get(INFO, match=[responses.matchers.query_param_matcher({"shop_id": str(SHOP), "sku": "SKU-1"})],
             json=env([info_row(7001, "SKU-1", "Keripik 1")]))
    rsps.get(INFO, match=[responses.matchers.query_param_matcher({"shop_id": str(SHOP), "sku": "SKU-2"})],
             json=env([info_row(8123, "SKU-2", "Sambal Roa")]))

    result = client.create_products(SHOP, [product(1), product(2)])

    assert [(r.key, r.product_id) for r in result.applied] == [("SKU-1", 7001)]
    assert result.failed[0].key == "SKU-2" and "8123" in result.failed[0].error
    assert len(calls_to(rsps, CREATE)) == 1


def test_create_is_not_resent_when_the_lookup_itself_fails(clock, rsps):
    client = make_client(clock, max_attempts=2)
    add_token(rsps)
    rsps.post(CREATE, status=500, json=env(code="INTERNAL"))
    rsps.get(INFO, status=500, json=env(code="INTERNAL"))

    with pytest.raises(Exception) as info:
        client.create_products(SHOP, [product(1)])
    assert "not sending again" in str(info.value)
    assert len(calls_to(rsps, CREATE)) == 1


# ---------------------------------------------------------------- batching and pacing


def test_sixty_products_go_out_as_25_25_10(client, rsps):
    add_token(rsps)

    def created(request):
        rows = json.loads(request.body)["products"]
        ok = [{"product_id": 5000 + int(p["sku"].split("-")[1]), "sku": p["sku"]} for p in rows]
        return 200, {}, json.dumps(env({"total_data": len(rows), "success_data": len(rows), "fail_data": 0,
                                        "success_rows_data": ok, "failed_rows_data": []}))

    rsps.add_callback(responses.POST, CREATE, callback=created)

    result = client.create_products(SHOP, [product(i) for i in range(60)])

    assert [len(body(c)["products"]) for c in calls_to(rsps, CREATE)] == [25, 25, 10]
    assert len(result.applied) == 60 and result.product_ids()["SKU-59"] == 5059
    assert all(query(c)["shop_id"] == str(SHOP) for c in calls_to(rsps, CREATE))


def test_stock_rows_go_out_100_a_call_and_the_last_value_per_sku_wins(client, rsps):
    add_token(rsps)
    rsps.add_callback(responses.POST, STOCK,
                      callback=lambda r: (200, {}, json.dumps(inventory_ok(len(json.loads(r.body))))))

    rows = [{"sku": f"S{i}", "new_stock": i} for i in range(250)] + [{"sku": "S0", "new_stock": 77}]
    result = client.update_stock(SHOP, rows)

    sent = [body(c) for c in calls_to(rsps, STOCK)]
    assert [len(b) for b in sent] == [100, 100, 50]
    assert sent[-1][-1] == {"sku": "S0", "new_stock": 77} and {"sku": "S0", "new_stock": 0} not in sent[0]
    assert len(result.applied) == 250


def test_a_bulk_call_sends_no_more_items_than_the_limiter_allows(clock, rsps):
    client = make_client(clock, rate_limit_per_second=10)
    add_token(rsps)
    rsps.add_callback(responses.POST, STOCK,
                      callback=lambda r: (200, {}, json.dumps(inventory_ok(len(json.loads(r.body))))))

    t0 = clock.now
    client.update_stock(SHOP, [{"sku": f"S{i}", "new_stock": i} for i in range(35)])

    assert [len(body(c)) for c in calls_to(rsps, STOCK)] == [10, 10, 10, 5]
    assert clock.now - t0 == pytest.approx(2.5, abs=0.01)  # 10 at once, then 10 items/s


def test_headers_shrink_the_next_call_to_what_the_server_has_left(client, clock, rsps):
    add_token(rsps)
    rsps.post(STOCK, json=inventory_ok(100), headers=rate_headers(3, 0.01, limit="100 req/s (burst 100)"))
    rsps.post(STOCK, json=inventory_ok(100))

    client.update_stock(SHOP, [{"sku": f"S{i}", "new_stock": i} for i in range(200)])

    # After the first call the server has 3 items left at 100/s: the client waits for a full bucket.
    assert [len(body(c)) for c in calls_to(rsps, STOCK)] == [100, 100]
    assert sum(clock.slept) == pytest.approx(0.97, abs=0.01)


def test_limiter_counts_items_and_obeys_remaining_and_reset_after():
    clock = FakeClock()
    lim = ItemRateLimiter(10, clock=clock, sleep=clock.sleep)
    assert lim.acquire("/p", 25) == 10  # the bucket holds one second's worth
    lim.release("/p", 10, RateLimitInfo(remaining=0, reset_after=2.0))
    assert lim.acquire("/p", 1) == 1
    assert sum(clock.slept) == pytest.approx(2.0)
    assert lim.acquire("/q", 4) == 4 and clock.slept == pytest.approx([2.0])  # other paths are separate


def test_limiter_takes_the_lower_of_configured_and_advertised_rate():
    clock = FakeClock()
    lim = ItemRateLimiter(100, clock=clock, sleep=clock.sleep)
    lim.acquire("/p", 100)
    lim.release("/p", 100, RateLimitInfo(rate=5, burst=5, remaining=0, reset_after=0.2))
    assert lim.acquire("/p", 100) == 5
    assert sum(clock.slept) == pytest.approx(1.0)  # 0.2 s to the first item, 0.8 s for four more


def test_limiter_never_grants_more_than_the_rate_across_threads():
    lock = threading.Lock()
    clock = FakeClock()
    start = clock.now

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    lim = ItemRateLimiter(50, clock=clock, sleep=sleep)
    grants: list[tuple[float, int]] = []

    def worker() -> None:
        for _ in range(40):
            n = lim.acquire("/p", 3)
            with lock:
                grants.append((clock.now, n))
            lim.release("/p", n)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sum(n for _, n in grants) == 8 * 40 * 3
    total = 0
    for when, n in sorted(grants):  # never ahead of one full bucket plus 50 items/s
        total += n
        assert total <= 50 + 50 * (when - start) + 1e-6


@pytest.mark.parametrize("text, expected", [("5 req/s (burst 5)", (5.0, 5.0)), ("100", (100.0, None)),
                                            ("300 req/min", (5.0, None)), ("100, 100;w=10", (10.0, None))])
def test_limit_header_parsing(text, expected):
    assert parse_limit(text) == expected


# ---------------------------------------------------------------- reads and paging


def test_products_are_paged_until_a_short_page(client, rsps):
    add_token(rsps)
    for page, n in ((1, 2), (2, 2), (3, 1)):
        rows = [info_row(100 * page + i, f"P{page}-{i}", f"N{page}-{i}") for i in range(n)]
        rsps.get(INFO, json=env(rows), match=[responses.matchers.query_param_matcher(
            {"shop_id": str(SHOP), "page": str(page), "per_page": "2"})])

    products = list(client.iter_products(SHOP, per_page=2))

    assert [p.product_id for p in products] == [100, 101, 200, 201, 300]
    assert products[0].sku == "P1-0" and products[0].stock.value == 10


def test_product_by_sku_returns_none_for_an_unknown_sku(client, rsps):
    add_token(rsps)
    rsps.get(INFO, json=env([]))
    assert client.product_by_sku(SHOP, "NOPE") is None


def test_order_windows_are_under_three_days_and_cover_the_range():
    start = datetime(2025, 3, 1, tzinfo=UTC)
    windows = order_windows(start, start + timedelta(days=7))
    assert all(hi - lo < 259_200 for lo, hi in windows)
    assert windows[0][0] == int(start.timestamp()) and windows[-1][1] == int(start.timestamp()) + 7 * 86400
    assert all(a[1] == b[0] for a, b in pairwise(windows))
    assert len(windows) == 3


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="timezone"):
        order_windows(datetime(2025, 3, 1), datetime(2025, 3, 2))


def test_orders_are_read_window_by_window_each_until_a_short_page(client, rsps):
    add_token(rsps)
    start = 1_740_000_000
    end = start + 4 * 86400
    seen = []

    def orders(request):
        q = {k: int(v[0]) for k, v in parse_qs(urlparse(request.url).query).items()}
        seen.append((q["from_date"] - start, q["to_date"] - start, q["page"]))
        assert q["fs_id"] == FS and q["shop_id"] == SHOP and q["per_page"] == 2
        n = {(0, 1): 2, (0, 2): 1}.get((q["from_date"] - start, q["page"]), 0)
        rows = [{"order_id": q["page"] * 10 + i, "order_status": 220, "create_time": q["from_date"] + i,
                 "update_time": q["from_date"] + i,
                 "products": [{"id": 1, "Name": "X", "sku": "S", "quantity": 2, "price": 1000, "total_price": 2000,
                               "currency": "Rp"}]}
                for i in range(n)]
        return 200, {}, json.dumps(env(rows))

    rsps.add_callback(responses.GET, ORDERS, callback=orders)

    got = list(client.iter_orders(SHOP, start, end, per_page=2))

    assert [o.order_id for o in got] == [10, 11, 20]
    assert got[0].products[0].quantity == 2
    assert seen == [(0, 259_199, 1), (0, 259_199, 2), (259_199, 4 * 86400, 1)]


def test_get_order_reads_the_current_status(client, rsps):
    add_token(rsps)
    rsps.get(ORDER, match=[responses.matchers.query_param_matcher({"order_id": "55"})],
             json=env({"order_id": 55, "invoice_ref_num": "INV/1", "shop_id": SHOP, "order_status": 700,
                       "create_time": 1, "update_time": 2, "buyer": {"name": "Sri"},
                       "recipient": {"address": {"city": "Wonosobo"}}, "amt": {"ttl_amount": 50000},
                       "new_field": "kept"}))

    order = client.get_order(55)

    assert order.order_status == 700 and order.recipient.address.city == "Wonosobo"
    assert order.model_extra == {"new_field": "kept"}


# ---------------------------------------------------------------- config, secrets, counters


def test_from_config_uses_the_resolved_secret(rsps, monkeypatch):
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", SECRET)
    cfg = MarketplaceConfig(api_url=API + "/", auth_url=AUTH, fs_id=FS, client_id="cid-7", rate_limit_per_second=7)
    client = MarketplaceClient.from_config(cfg)
    add_token(rsps)
    rsps.get(CATEGORIES, json=env([]))

    client.categories()

    assert client.api_url == API and client.limiter.rate == 7
    assert (base64.b64decode(calls_to(rsps, TOKEN_URL)[0].request.headers["Authorization"][6:]).decode()
            == f"cid-7:{SECRET}")


def test_secrets_and_tokens_never_reach_reprs_errors_or_logs(client, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="lapak.marketplace")
    add_token(rsps, TOKENS[0], TOKENS[1])
    rsps.post(STOCK, status=401, json=env(code="AUTH_TOKEN_EXPIRED"))
    rsps.post(STOCK, status=500, json=env(code="INTERNAL"))
    rsps.post(STOCK, json=inventory_ok(1))
    rsps.get(ORDER, status=404, json=env(code="NOT_FOUND"))

    client.update_stock(SHOP, [{"sku": "A", "new_stock": 1}])
    with pytest.raises(NotFoundError) as info:
        client.get_order(1)

    texts = [repr(client), str(info.value), repr(info.value), repr(vars(client)), caplog.text]
    texts += [str(r.args) for r in caplog.records]
    for text in texts:
        for secret in (SECRET, *TOKENS[:2]):
            assert secret not in text
        assert "Authorization" not in text
    assert any("batch" in r.getMessage() and r.levelno == logging.INFO for r in caplog.records)


def test_counters_count_calls_items_and_retries(client, rsps):
    add_token(rsps)
    rsps.post(STOCK, status=500, json=env())
    rsps.post(STOCK, json=inventory_ok(3))

    client.update_stock(SHOP, [{"sku": s, "new_stock": 1} for s in "ABC"])

    c = client.counters
    assert c["calls"] == {"token": 1, "stock": 2}
    assert c["items"] == {"token": 1, "stock": 6}
    assert (c["retries"], c["http_429"], c["row_429"]) == (1, 0, 0)


# ---------------------------------------------------------------- picture upload

UPLOAD = f"{API}/v1/pictures/fs/{FS}/upload"
PICTURE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4  # bytes only: the server judges the content


def multipart_parts(call) -> list[tuple[str, bytes]]:
    """The parts of a multipart/form-data request: (headers, payload) each."""
    ctype = call.request.headers["Content-Type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    chunks = call.request.body.split(b"--" + boundary)
    assert chunks[0] == b"" and chunks[-1] == b"--\r\n"
    parts = []
    for chunk in chunks[1:-1]:
        head, _, payload = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        parts.append((head.decode(), payload.removesuffix(b"\r\n")))
    return parts


def uploaded(**kw) -> dict:
    data = {"file_path": "https://img.sandbox.test/p/ab12.png", "width": 800, "height": 600, "sha256": "ab12"}
    data.update(kw)
    return env(data)


def test_upload_picture_sends_one_file_part_and_returns_the_picture(client, rsps):
    add_token(rsps)
    rsps.post(UPLOAD, json=uploaded(extra_field="kept"))

    pic = client.upload_picture(SHOP, PICTURE, filename="keripik.png")

    assert (pic.file_path, pic.width, pic.height, pic.sha256) == (
        "https://img.sandbox.test/p/ab12.png", 800, 600, "ab12")
    [call] = calls_to(rsps, UPLOAD)
    assert query(call) == {"shop_id": str(SHOP)}
    assert call.request.headers["Authorization"] == f"Bearer {TOKENS[0]}"
    [(head, payload)] = multipart_parts(call)
    assert 'name="file"' in head and 'filename="keripik.png"' in head
    assert payload == PICTURE
    c = client.counters
    assert c["calls"]["picture_upload"] == 1 and c["items"]["picture_upload"] == 1


def test_upload_picture_reads_a_lenient_answer(client, rsps):
    add_token(rsps)
    rsps.post(UPLOAD, json=env({"file_path": "https://img.example/x.jpg"}))

    pic = client.upload_picture(SHOP, PICTURE)

    assert pic.file_path == "https://img.example/x.jpg" and pic.width is None and pic.sha256 is None
    [(head, _)] = multipart_parts(calls_to(rsps, UPLOAD)[0])
    assert 'filename="picture.jpg"' in head


def test_upload_picture_refused_is_a_bad_request_naming_the_code_not_retried(client, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="lapak.marketplace")
    add_token(rsps)
    rsps.post(UPLOAD, status=400, json=env(code="PIC_DIMENSION", reason="width 120 px is below the minimum of 300 px"))

    with pytest.raises(BadRequestError) as info:
        client.upload_picture(SHOP, PICTURE)

    err = info.value
    assert err.status == 400 and err.error_code == "PIC_DIMENSION" and err.endpoint == "picture_upload"
    assert "PIC_DIMENSION" in str(err) and "minimum of 300" in str(err)
    assert len(calls_to(rsps, UPLOAD)) == 1
    assert client.counters["retries"] == 0
    for text in (str(err), repr(err), repr(client), caplog.text):
        assert TOKENS[0] not in text and SECRET not in text and "Authorization" not in text


def test_upload_picture_is_repeated_after_a_server_error(client, clock, rsps):
    add_token(rsps)
    rsps.post(UPLOAD, status=503, json=env(code="UNAVAILABLE", reason="try later"))
    rsps.post(UPLOAD, json=uploaded())

    pic = client.upload_picture(SHOP, PICTURE)

    assert pic.file_path == "https://img.sandbox.test/p/ab12.png"
    calls = calls_to(rsps, UPLOAD)
    assert len(calls) == 2
    assert [multipart_parts(c)[0][1] for c in calls] == [PICTURE, PICTURE]  # the same bytes each time
    assert client.counters["retries"] == 1 and clock.slept


def test_upload_picture_that_keeps_failing_raises_without_the_token(clock, rsps, caplog):
    caplog.set_level(logging.DEBUG, logger="lapak.marketplace")
    client = make_client(clock, max_attempts=2)
    add_token(rsps)
    rsps.post(UPLOAD, status=502, json=env(code="BAD_GATEWAY"))

    with pytest.raises(ServerError) as info:
        client.upload_picture(SHOP, PICTURE)

    assert len(calls_to(rsps, UPLOAD)) == 2
    for text in (str(info.value), repr(info.value), caplog.text):
        assert TOKENS[0] not in text and SECRET not in text and "Authorization" not in text
