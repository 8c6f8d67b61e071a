"""The marketplace client against the sandbox as a real HTTP server.

One sandbox for the module (a subprocess on a free port). The client speaks only the
contract; the tests use the sandbox's admin surface to arrange orders and faults and to
check what the marketplace really holds.
"""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from pydantic import SecretStr

from connectors.marketplace import AuthError, ForbiddenError, MarketplaceClient
from connectors.sandbox import running_sandbox

DAY = 86_400
_names = itertools.count()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), rate_limit=None) as sb:
        yield sb


@pytest.fixture(autouse=True)
def _clean_faults(sandbox):
    yield
    sandbox.admin.clear_faults()
    sandbox.admin.set_rate_limit(None)


def new_client(sb, **kw) -> MarketplaceClient:
    kw.setdefault("rate_limit_per_second", 10_000)
    kw.setdefault("timeout", 10)
    return MarketplaceClient(sb.url, sb.url, sb.fs_id, sb.client_id, SecretStr(sb.client_secret), **kw)


@pytest.fixture
def client(sandbox):
    with new_client(sandbox) as c:
        yield c


def products(n: int, **kw) -> list[dict]:
    """``n`` valid products with SKUs and names no other test uses."""
    tag = next(_names)
    out = []
    for i in range(n):
        p = {"name": f"Keripik Uji {tag}-{i}", "sku": f"T{tag}-{i}", "category_id": 101, "price": 12_000,
             "stock": 20, "weight": 200, "pictures": [{"file_path": f"https://img.example/{tag}/{i}.jpg"}]}
        p.update(kw)
        out.append(p)
    return out


def test_create_edit_price_stock_active_round_trip(sandbox, client):
    shop = sandbox.shops[0]
    rows = products(3)
    created = client.create_products(shop, rows)
    assert created.ok and len(created.applied) == 3
    ids = created.product_ids()
    a, b, c = (r["sku"] for r in rows)

    edited = client.edit_products(shop, [{"id": ids[a], "description": "Renyah, pedas", "min_order": 2}])
    priced = client.update_prices(shop, [{"sku": a, "new_price": 18_500}, {"product_id": ids[b], "new_price": 9_900}])
    stocked = client.update_stock(shop, [{"sku": b, "new_stock": 0}, {"sku": c, "new_stock": 321}])
    paused = client.set_active(shop, [ids[c]], active=False)
    assert all(r.ok for r in (edited, priced, stocked, paused))

    pa, pb, pc = (client.product_by_sku(shop, s) for s in (a, b, c))
    assert (pa.description, pa.min_order, pa.price.value) == ("Renyah, pedas", 2, 18_500)
    assert (pb.price.value, pb.stock.value) == (9_900, 0)
    assert (pc.stock.value, pc.basic.status) == (321, "INACTIVE")
    assert client.set_active(shop, [ids[c]], active=True).ok
    assert client.product_by_sku(shop, c).basic.status == "ACTIVE"


def test_row_errors_come_back_per_row(sandbox, client):
    shop = sandbox.shops[0]
    first, second = products(2)
    assert client.create_products(shop, [first]).ok
    clash = {**second, "name": first["name"].upper()}  # names are unique case-insensitively

    created = client.create_products(shop, [clash, {**second, "sku": second["sku"] + "x", "category_id": 1}])
    stock = client.update_stock(shop, [{"sku": first["sku"], "new_stock": 4}, {"sku": "NO-SUCH-SKU", "new_stock": 1}])

    assert not created.applied and len(created.failed) == 2
    assert "[name] is already used" in created.failed[0].error
    assert [r.key for r in stock.applied] == [first["sku"]]
    assert stock.failed[0].key == "NO-SUCH-SKU" and "not found" in stock.failed[0].error


def test_products_are_paged_until_a_short_page(sandbox, client):
    shop = sandbox.shops[2]
    before = {p.sku for p in client.iter_products(shop)}
    rows = products(7)
    assert client.create_products(shop, rows).ok

    calls = client.counters["calls"].get("product_info", 0)
    listed = [p.sku for p in client.iter_products(shop, per_page=3)]

    assert set(listed) - before == {r["sku"] for r in rows} and len(listed) == len(set(listed))
    pages = client.counters["calls"]["product_info"] - calls
    assert pages == len(listed) // 3 + 1


def test_orders_are_read_in_windows_under_three_days(sandbox, client):
    shop = sandbox.shops[1]
    rows = products(2, stock=500)
    assert client.create_products(shop, rows).ok
    t0 = 1_700_000_000
    offsets = [0, 5, 2 * DAY, 3 * DAY - 1, 3 * DAY, 4 * DAY + 7, 7 * DAY + 1, 8 * DAY - 1]
    placed = [sandbox.admin.place_order(shop, [{"sku": rows[i % 2]["sku"], "quantity": 1 + i}], create_time=t0 + o)
              for i, o in enumerate(offsets)]
    sandbox.admin.place_order(shop, [{"sku": rows[0]["sku"], "quantity": 1}], create_time=t0 + 8 * DAY)  # past end
    sandbox.admin.set_order_status(placed[1]["order_id"], 0)  # cancelled later: still listed

    got = list(client.iter_orders(shop, t0, t0 + 8 * DAY, per_page=2))

    assert [o.order_id for o in got] == [p["order_id"] for p in placed]
    assert got[1].order_status == 0 and got[0].products[0].sku == rows[0]["sku"]
    assert client.get_order(placed[1]["order_id"]).order_status == 0
    # Windows of 3 days less a second hold 3, 3 and 2 orders; pages of 2 until a short one
    # (an empty page closes the last window).
    assert client.counters["calls"]["orders"] == 2 + 2 + 2


def test_rate_limited_bulk_calls_complete_with_every_row_applied(sandbox, client):
    shop = sandbox.shops[0]
    rows = products(60)
    assert client.create_products(shop, rows).ok
    sandbox.admin.set_rate_limit(40)  # the client still believes 10,000/s: the headers teach it

    result = client.update_stock(shop, [{"sku": r["sku"], "new_stock": 100 + i} for i, r in enumerate(rows)])

    assert len(result.applied) == 60 and not result.failed
    assert client.counters["row_429"] > 0  # the first call of 60 met a bucket of 40
    held = {p.sku: p.stock.value for p in client.iter_products(shop) if p.sku in {r["sku"] for r in rows}}
    assert held == {r["sku"]: 100 + i for i, r in enumerate(rows)}


def test_injected_http_429_and_expired_token_are_absorbed(sandbox, client):
    shop = sandbox.shops[0]
    rows = products(2)
    assert client.create_products(shop, rows).ok
    sandbox.admin.inject_fault("http_429", path="stock/update", count=2, reset_after=0.05)
    sandbox.admin.inject_fault("token_expiry", path="stock/update", count=1)

    result = client.update_stock(shop, [{"sku": r["sku"], "new_stock": 3} for r in rows])

    assert result.ok and len(result.applied) == 2
    c = client.counters
    assert c["http_429"] == 2 and c["token_fetches"] == 2


@pytest.mark.parametrize("kind", ["error_5xx_after", "error_5xx_before"])
def test_create_with_a_lost_answer_makes_no_duplicate(sandbox, client, kind):
    shop = sandbox.shops[1]
    rows = products(30)
    sandbox.admin.inject_fault(kind, path="/create", count=1)

    result = client.create_products(shop, rows)

    assert len(result.applied) == 30 and not result.failed
    held = Counter(p["sku"] for p in sandbox.admin.products(shop))
    assert all(held[r["sku"]] == 1 for r in rows)
    assert client.counters["lost_responses"] == 1
    assert {r.key: r.product_id for r in result.applied} == {
        p["sku"]: p["id"] for p in sandbox.admin.products(shop) if p["sku"] in result.product_ids()}


def test_stock_update_with_5xx_after_apply_is_repeated_safely(sandbox, client):
    shop = sandbox.shops[1]
    rows = products(5)
    assert client.create_products(shop, rows).ok
    sandbox.admin.inject_fault("error_5xx_after", path="stock/update", count=1)

    result = client.update_stock(shop, [{"sku": r["sku"], "new_stock": 42} for r in rows])

    assert len(result.applied) == 5 and client.counters["retries"] == 1
    assert {client.product_by_sku(shop, r["sku"]).stock.value for r in rows} == {42}


def test_unlinked_shop_and_bad_credentials_fail_clearly(sandbox, client):
    with pytest.raises(ForbiddenError) as info:
        client.update_stock(1, [{"sku": "X", "new_stock": 1}])
    assert info.value.error_code == "RBAC_MDLW_001"

    wrong = MarketplaceClient(sandbox.url, sandbox.url, sandbox.fs_id, sandbox.client_id, SecretStr("wrong-secret"))
    with pytest.raises(AuthError) as info:
        wrong.categories()
    assert "wrong-secret" not in str(info.value)


def test_categories_are_served(client):
    cats = client.categories()
    assert any(c.is_leaf and c.id == 101 for c in cats)
