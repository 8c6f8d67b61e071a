"""The TikTok-shaped channel against its sandbox as a real HTTP server.

One sandbox for the module (a subprocess on a free port, its rate limit off). The channel speaks
only the contract (../shared/tiktok-shop-api.md); the tests use the sandbox's admin surface to
arrange orders, tokens and faults and to check what the shop really holds. Each test authorises
its shop afresh into its own token keeper and works on SKUs no other test uses.
"""

from __future__ import annotations

import io
import itertools
import time
from collections import Counter
from dataclasses import replace

import pytest
from PIL import Image
from pydantic import SecretStr

from connectors.tiktok import TikTokChannel
from connectors.tiktok_sandbox import TikTokSandboxHandle, running_tiktok_sandbox
from schemas.channel import ListingEdit, NewListing, ProductRef, SetNumber
from schemas.errors import AuthError, NotFoundError, ShopAuthorisationError
from schemas.listing import Listing
from schemas.orders import TIKTOK_STATUS
from tests.test_tiktok_client import MemoryKeeper

LEAF, OTHER_LEAF = 710101, 710102  # Keripik & Kerupuk, Manisan
T0 = 1_600_000_000  # order times far from "now": no other test's orders fall in these windows
_tags = itertools.count()


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_tiktok_sandbox(tmp_path_factory.mktemp("tiktok-sandbox"), rate_limit=None) as sb:
        yield sb


_open: list[TikTokChannel] = []


@pytest.fixture(autouse=True)
def _clean_up(sandbox):
    yield
    sandbox.admin.clear_faults()
    sandbox.admin.set_rate_limit(None)
    while _open:
        _open.pop().close()


class Sleeps(list):
    """The channel's sleeps, recorded and cut short (a 429's ``Retry-After`` is at least 1 s)."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(min(seconds, 0.01))


def new_channel(sb: TikTokSandboxHandle, keeper: MemoryKeeper | None = None, *, secret: str | None = None,
                **kw) -> TikTokChannel:
    kw.setdefault("rate_limit_per_second", 10_000)
    kw.setdefault("timeout", 10)
    kw.setdefault("sleep", Sleeps())
    channel = TikTokChannel(sb.url, sb.url, sb.app_key, SecretStr(secret or sb.app_secret),
                            keeper if keeper is not None else MemoryKeeper(), **kw)
    channel.session.trust_env = False  # loopback: never through a proxy
    _open.append(channel)
    return channel


def authorised(sb: TikTokSandboxHandle, shop: str, **kw) -> TikTokChannel:
    """A channel with ``shop`` authorised by its seller's code (tokens in a keeper of its own)."""
    channel = new_channel(sb, **kw)
    channel.authorize(shop, f"code-{shop}")
    return channel


def jpeg(side: int = 320) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (side, side), (180, 90, 30)).save(buf, "JPEG", quality=80)
    return buf.getvalue()


_pictures: dict[tuple[str, str], str] = {}


def picture(sb: TikTokSandboxHandle, channel: TikTokChannel, shop: str) -> str:
    """An image uri of ``shop`` (a uri serves only the uploading shop), uploaded once per shop."""
    key = (sb.url, shop)
    if key not in _pictures:
        _pictures[key] = channel.upload_picture(int(shop), jpeg(), "keripik.jpg")
    return _pictures[key]


def listings(uri: str, n: int, **over) -> list[NewListing]:
    """``n`` valid listings (titles of 25+ characters) with SKUs no other test uses."""
    tag = next(_tags)
    rows = []
    for i in range(n):
        fields = {"group_id": "g1", "sku": f"TT{tag}-{i}", "name": f"Keripik Singkong Balado Uji {tag}-{i}",
                  "category_id": LEAF, "price": 15_000, "stock": 20, "min_order": 1, "weight_g": 250.0,
                  "condition": "NEW", "description": "Renyah dan pedas.\nTanpa pengawet.", "pictures": (uri,)}
        fields.update(over)
        rows.append(NewListing(Listing(**fields), fields["stock"]))
    return rows


def held(sb: TikTokSandboxHandle, shop: str) -> dict[str, dict]:
    """The shop's products as the sandbox holds them, by seller_sku."""
    return {p["seller_sku"]: p for p in sb.admin.products(shop)}


def stock_of(row: dict, shop: str) -> int:
    return row["doc"]["inventory"][f"{shop}01"]


# ---------------------------------------------------------------- authorisation, reference data


def test_a_shop_is_authorised_with_its_code_and_only_that_shop(sandbox):
    shop, other = sandbox.shops[0], sandbox.shops[1]
    keeper = MemoryKeeper()
    channel = new_channel(sandbox, keeper)

    tokens = channel.authorize(shop, f"code-{shop}")

    assert tokens.shop_id == shop and tokens.seller_name == "Toko Desa Sukamaju"
    assert keeper.load("tiktok", shop) == tokens
    assert tokens.access_expires > time.time() + 6 * 86_400 and tokens.refresh_expires > tokens.access_expires
    with pytest.raises(ShopAuthorisationError) as info:
        channel.authorize(shop, f"code-{other}")  # a code of another shop's seller
    assert other in str(info.value) and keeper.load("tiktok", shop) == tokens


def test_categories_are_served_with_their_leaves(sandbox):
    channel = authorised(sandbox, sandbox.shops[0], category_shop=sandbox.shops[0])

    cats = {c.id: c for c in channel.categories()}

    assert cats[LEAF].is_leaf and cats[LEAF].name == "Keripik & Kerupuk"
    assert cats[LEAF].parent_id is not None and not cats[cats[LEAF].parent_id].is_leaf
    assert sum(c.is_leaf for c in cats.values()) == 23


# ---------------------------------------------------------------- products


def test_a_picture_is_uploaded_and_products_are_created_with_it(sandbox):
    shop = sandbox.shops[0]
    channel = authorised(sandbox, shop)
    uri = channel.upload_picture(int(shop), jpeg(480), "foto.jpg")
    rows = listings(uri, 2)
    paused = listings(uri, 1, active=False)

    result = channel.create(int(shop), [*rows, *paused])

    assert len(result.applied) == 3 and not result.failed
    assert [i["uri"] for i in sandbox.admin.images(shop)].count(uri) == 1
    on_shop = held(sandbox, shop)
    for out, row in zip(result.applied, [*rows, *paused], strict=True):
        p = on_shop[row.sku]
        assert (out.sku, out.product_id) == (row.sku, int(p["id"]))
        assert p["doc"]["title"] == row.listing.name and p["doc"]["main_images"] == [uri]
        assert (p["doc"]["price"], stock_of(p, shop)) == ("15000", 20)
        assert p["doc"]["package_weight"] == {"value": "0.25", "unit": "KILOGRAM"}
    assert [on_shop[r.sku]["status"] for r in (*rows, *paused)] == ["ACTIVATE", "ACTIVATE", "SELLER_DEACTIVATED"]
    got = channel.product(int(shop), rows[0].sku)
    assert (got.pictures, got.category_id, got.weight_g) == ((uri,), LEAF, 250.0)
    assert got.description == "Renyah dan pedas.\nTanpa pengawet."


def test_edit_prices_stock_deactivate_activate_round_trip(sandbox):
    shop = sandbox.shops[0]
    channel = authorised(sandbox, shop)
    rows = listings(picture(sandbox, channel, shop), 3)
    created = channel.create(int(shop), rows)
    assert len(created.applied) == 3
    ids = {r.sku: r.product_id for r in created.applied}
    a, b, c = (r.sku for r in rows)
    new_name = f"{rows[0].listing.name} Edisi Baru"

    edited = channel.edit(int(shop), [ListingEdit(a, ids[a], {"name": new_name, "min_order": 3}),
                                      ListingEdit(b, ids[b], {"category_id": OTHER_LEAF, "weight_g": 1_500})])
    priced = channel.set_prices(int(shop), [SetNumber(a, 18_500), SetNumber(b, 9_900)])
    stocked = channel.set_stock(int(shop), [SetNumber(b, 0), SetNumber(c, 321)])
    paused = channel.set_active(int(shop), [ProductRef(c, ids[c])], active=False)
    assert all(len(r.applied) == len(r) and not r.failed for r in (edited, priced, stocked, paused))

    on_shop = held(sandbox, shop)
    pa, pb, pc = (on_shop[s] for s in (a, b, c))
    assert (pa["doc"]["title"], pa["doc"]["description"], pa["doc"]["price"]) == (
        new_name, "<p>Renyah dan pedas.<br>Tanpa pengawet.</p>", "18500")  # the rest kept
    assert (pb["doc"]["category_id"], pb["doc"]["package_weight"]["value"], pb["doc"]["title"]) == (
        str(OTHER_LEAF), "1.5", rows[1].listing.name)
    assert (pb["doc"]["price"], stock_of(pb, shop), stock_of(pc, shop)) == ("9900", 0, 321)
    assert pc["status"] == "SELLER_DEACTIVATED" and pa["status"] == "ACTIVATE"

    assert not channel.set_active(int(shop), [ProductRef(c, ids[c])], active=True).failed
    assert held(sandbox, shop)[c]["status"] == "ACTIVATE"
    assert channel.product(int(shop), c).status == "ACTIVE"


def test_row_errors_come_back_per_row_while_the_other_rows_apply(sandbox):
    shop = sandbox.shops[0]
    channel = authorised(sandbox, shop)
    uri = picture(sandbox, channel, shop)
    good, heavy, short = listings(uri, 3)
    heavy = NewListing(replace(heavy.listing, weight_g=150_000), heavy.stock)  # 150 kg, over 100
    short = NewListing(replace(short.listing, name="Keripik pedas"), short.stock)  # under 25 characters

    created = channel.create(int(shop), [heavy, good, short])

    assert [r.sku for r in created.applied] == [good.sku]
    assert [r.sku for r in created.failed] == [heavy.sku, short.sku]
    assert "package_weight" in created.failed[0].error and "12052001" in created.failed[0].error
    assert "title" in created.failed[1].error
    on_shop = held(sandbox, shop)
    assert good.sku in on_shop and heavy.sku not in on_shop and short.sku not in on_shop

    stock = channel.set_stock(int(shop), [SetNumber("NO-SUCH-SKU", 1), SetNumber(good.sku, 4)])
    toggled = channel.set_active(int(shop), [ProductRef("GHOST", 1_729_400_999_999_999_999),
                                             ProductRef(good.sku, created.applied[0].product_id)], active=False)
    assert [r.sku for r in stock.applied] == [good.sku] and [r.sku for r in stock.failed] == ["NO-SUCH-SKU"]
    assert [r.sku for r in toggled.applied] == [good.sku] and [r.sku for r in toggled.failed] == ["GHOST"]
    assert "not found" in toggled.failed[0].error
    row = held(sandbox, shop)[good.sku]
    assert (stock_of(row, shop), row["status"]) == (4, "SELLER_DEACTIVATED")


def test_a_sku_already_on_the_shop_is_adopted_never_created_twice(sandbox):
    shop = sandbox.shops[0]
    channel = authorised(sandbox, shop)
    (row,) = listings(picture(sandbox, channel, shop), 1)
    first = channel.create(int(shop), [row]).applied[0]

    again = new_channel(sandbox, channel.tokens).create(int(shop), [row])  # the same body: replayed by its key
    repriced = channel.create(int(shop), [NewListing(replace(row.listing, price=16_000), 20)])  # 12052002

    assert [r.product_id for r in (*again.applied, *repriced.applied)] == [first.product_id] * 2
    assert sandbox.admin.stats()["creates"][shop][row.sku] == 1
    assert held(sandbox, shop)[row.sku]["doc"]["price"] == "15000"


def test_the_price_of_a_deactivated_product_fails_per_row(sandbox):
    shop = sandbox.shops[1]
    channel = authorised(sandbox, shop)
    rows = listings(picture(sandbox, channel, shop), 2)
    created = channel.create(int(shop), rows)
    a, b = (r.sku for r in rows)
    channel.set_active(int(shop), [ProductRef(a, created.applied[0].product_id)], active=False)

    priced = channel.set_prices(int(shop), [SetNumber(a, 20_000), SetNumber(b, 21_000)])

    assert [r.sku for r in priced.applied] == [b] and [r.sku for r in priced.failed] == [a]
    assert "activate first" in priced.failed[0].error and "12052004" in priced.failed[0].error
    on_shop = held(sandbox, shop)
    assert (on_shop[a]["doc"]["price"], on_shop[b]["doc"]["price"]) == ("15000", "21000")


def test_products_are_read_back_page_after_page(sandbox):
    shop = sandbox.shops[2]
    channel = authorised(sandbox, shop)
    rows = listings(picture(sandbox, channel, shop), 103)
    assert len(channel.create(int(shop), rows).applied) == 103
    searches = "tiktok POST /product/202309/products/search"
    before = channel.counters["calls"].get(searches, 0)

    listed = list(channel.products(int(shop)))

    skus = [p.sku for p in listed]
    assert len(skus) == len(set(skus)) == len(sandbox.admin.products(shop))
    assert {r.sku for r in rows} <= set(skus)
    assert channel.counters["calls"][searches] - before == 2  # 100, then the rest
    by_sku = {p.sku: p for p in listed}
    assert (by_sku[rows[-1].sku].price, by_sku[rows[-1].sku].stock, by_sku[rows[-1].sku].shop_id) == (
        15_000, 20, int(shop))

    fresh = new_channel(sandbox, channel.tokens)  # knows no product ids: looks them up, 100 SKUs a search
    stocked = fresh.set_stock(int(shop), [SetNumber(r.sku, i) for i, r in enumerate(rows)])
    assert len(stocked.applied) == 103 and fresh.counters["calls"][searches] == 2
    on_shop = held(sandbox, shop)
    assert [stock_of(on_shop[r.sku], shop) for r in rows] == list(range(103))


# ---------------------------------------------------------------- orders


def test_orders_are_read_by_create_time_and_by_update_time(sandbox):
    shop = sandbox.shops[1]
    channel = authorised(sandbox, shop)
    a, b = listings(picture(sandbox, channel, shop), 2, stock=500)
    assert len(channel.create(int(shop), [a, b]).applied) == 2
    admin = sandbox.admin
    paid = admin.place_order(shop, [{"seller_sku": a.sku, "quantity": 3}, {"seller_sku": b.sku, "quantity": 1}],
                             create_time=T0 + 10)
    unpaid = admin.place_order(shop, [{"seller_sku": b.sku, "quantity": 2}], status="UNPAID", create_time=T0 + 20)
    gone = admin.place_order(shop, [{"seller_sku": a.sku, "quantity": 1}], create_time=T0 + 30)
    admin.place_order(shop, [{"seller_sku": a.sku, "quantity": 1}], create_time=T0 + 100)  # past the end
    admin.set_order_status(gone["id"], "CANCELLED", update_time=T0 + 500)

    got = list(channel.orders(int(shop), T0, T0 + 100))

    assert [o.order_id for o in got] == [int(paid["id"]), int(unpaid["id"]), int(gone["id"])]
    first = got[0]
    assert [(ln.sku, ln.quantity, ln.price, ln.total_price) for ln in first.lines] == [
        (a.sku, 3, 15_000, 45_000), (b.sku, 1, 15_000, 15_000)]
    assert first.status == TIKTOK_STATUS["AWAITING_SHIPMENT"] and first.recipient.district == "Ciawi"
    assert (first.total_amount, first.shipping_cost, first.channel) == (70_000, 10_000, "tiktok")
    assert got[1].status == TIKTOK_STATUS["UNPAID"] and not got[1].cancelled and got[1].lines[0].quantity == 2
    assert got[1].recipient.address == ""  # no address while UNPAID
    assert got[2].cancelled and got[2].update_time == T0 + 500

    changed = list(channel.orders(int(shop), T0 + 400, T0 + 600, by_update=True))
    assert [o.order_id for o in changed] == [int(gone["id"])]

    one = channel.order(int(shop), int(unpaid["id"]))
    assert (one.order_id, one.status, one.lines[0].sku) == (int(unpaid["id"]), 100, b.sku)
    with pytest.raises(NotFoundError):
        channel.order(int(shop), 577_999_999_999_999_999)


def test_more_than_a_page_of_orders_is_read_in_order(sandbox):
    shop = sandbox.shops[2]
    channel = authorised(sandbox, shop)
    (row,) = listings(picture(sandbox, channel, shop), 1, stock=1_000)
    assert channel.create(int(shop), [row]).applied
    t0 = T0 + 86_400
    placed = [sandbox.admin.place_order(shop, [{"seller_sku": row.sku, "quantity": 1}], create_time=t0 + i // 2)
              for i in range(105)]  # two orders a second: ties broken by id

    got = list(channel.orders(int(shop), t0, t0 + 86_400))
    changed = list(channel.orders(int(shop), t0, t0 + 86_400, by_update=True))

    assert [o.order_id for o in got] == [o.order_id for o in changed] == [int(p["id"]) for p in placed]
    assert channel.counters["calls"]["tiktok POST /order/202309/orders/search"] == 4


# ---------------------------------------------------------------- faults, tokens, credentials


def test_the_servers_rate_limit_headers_slow_the_channel_down(sandbox):
    shop = sandbox.shops[0]
    channel = authorised(sandbox, shop, sleep=time.sleep)  # believes 10,000/s
    rows = listings(picture(sandbox, channel, shop), 30)
    assert len(channel.create(int(shop), rows).applied) == 30
    sandbox.admin.set_rate_limit(20)

    result = channel.set_stock(int(shop), [SetNumber(r.sku, 5) for r in rows])

    assert len(result.applied) == 30 and not result.failed
    assert channel.counters["http_429"] == 0
    assert sandbox.admin.stats()["paths"]["/product/202309/products/{product_id}/inventory/update"]["http_429"] == 0


def test_injected_429s_are_absorbed(sandbox):
    shop = sandbox.shops[0]
    sleeps = Sleeps()
    channel = authorised(sandbox, shop, sleep=sleeps)
    rows = listings(picture(sandbox, channel, shop), 2)
    assert len(channel.create(int(shop), rows).applied) == 2
    sandbox.admin.inject_fault("http_429", path="inventory/update", count=2, retry_after=2)

    result = channel.set_stock(int(shop), [SetNumber(r.sku, 7) for r in rows])

    assert len(result.applied) == 2 and not result.failed
    c = channel.counters
    assert c["http_429"] == 2 and c["retries"] == 2
    assert sleeps.count(2.0) == 2  # waited as Retry-After said
    assert {stock_of(held(sandbox, shop)[r.sku], shop) for r in rows} == {7}


@pytest.mark.parametrize("how", ["admin", "fault"])
def test_an_access_token_expired_on_the_server_is_refreshed_once_and_the_call_repeated(sandbox, how):
    shop = sandbox.shops[1]
    channel = authorised(sandbox, shop)
    rows = listings(picture(sandbox, channel, shop), 1)
    assert len(channel.create(int(shop), rows).applied) == 1
    before = channel.tokens.load("tiktok", shop)
    if how == "admin":
        assert sandbox.admin.expire_token(shop, "access") >= 1
    else:
        sandbox.admin.inject_fault("token_expiry", path="inventory/update", count=1)

    result = channel.set_stock(int(shop), [SetNumber(rows[0].sku, 11)])

    assert len(result.applied) == 1
    assert channel.counters["token_refreshes"] == 1 and channel.counters["retries"] == 0
    after = channel.tokens.load("tiktok", shop)
    assert after.access_token != before.access_token and after.refresh_token != before.refresh_token
    assert stock_of(held(sandbox, shop)[rows[0].sku], shop) == 11


def test_an_expired_refresh_token_asks_to_authorise_the_shop_again(sandbox):
    shop = sandbox.shops[2]
    channel = authorised(sandbox, shop)
    channel.categories(int(shop))
    sandbox.admin.expire_token(shop, "access")
    sandbox.admin.expire_token(shop, "refresh")

    with pytest.raises(ShopAuthorisationError) as info:
        channel.categories(int(shop))

    text = str(info.value)
    assert shop in text and "authorise again" in text
    channel.authorize(shop, f"code-{shop}")  # the seller's code mends it
    assert channel.categories(int(shop))


@pytest.mark.parametrize("kind", ["error_5xx_after", "drop_after"])
def test_a_create_whose_answer_is_lost_makes_no_duplicate(sandbox, kind):
    shop = sandbox.shops[1]
    channel = authorised(sandbox, shop)
    rows = listings(picture(sandbox, channel, shop), 3)
    sandbox.admin.inject_fault(kind, path="/product/202309/products", count=1)

    result = channel.create(int(shop), rows)

    assert len(result.applied) == 3 and not result.failed
    assert channel.counters["lost_responses"] == 1
    creates = sandbox.admin.stats()["creates"][shop]
    assert [creates.get(r.sku) for r in rows] == [1, 1, 1]
    on_shop = held(sandbox, shop)
    assert Counter(p["seller_sku"] for p in sandbox.admin.products(shop)).most_common(1)[0][1] == 1
    assert {r.sku: r.product_id for r in result.applied} == {r.sku: int(on_shop[r.sku]["id"]) for r in rows}


def test_a_stock_update_answered_5xx_after_applying_is_repeated_safely(sandbox):
    shop = sandbox.shops[1]
    channel = authorised(sandbox, shop)
    rows = listings(picture(sandbox, channel, shop), 3)
    assert len(channel.create(int(shop), rows).applied) == 3
    sandbox.admin.inject_fault("error_5xx_after", path="inventory/update", count=1)

    result = channel.set_stock(int(shop), [SetNumber(r.sku, 42) for r in rows])

    assert len(result.applied) == 3 and not result.failed and channel.counters["retries"] == 1
    assert {stock_of(held(sandbox, shop)[r.sku], shop) for r in rows} == {42}


def test_a_wrong_app_secret_is_an_auth_error_not_a_shop_authorisation(sandbox):
    shop = sandbox.shops[0]
    good = authorised(sandbox, shop)
    wrong = new_channel(sandbox, good.tokens, secret="wrong-secret")

    with pytest.raises(AuthError) as signed:
        wrong.categories(int(shop))  # a valid token, a wrong signature
    with pytest.raises(AuthError) as token:
        new_channel(sandbox, secret="wrong-secret").authorize(shop, f"code-{shop}")

    for err in (signed.value, token.value):
        assert not isinstance(err, ShopAuthorisationError) and "wrong-secret" not in str(err)
    assert (signed.value.error_code, token.value.error_code) == ("106001", "36004001")

