"""Rate limits honoured: end to end, the sync flow (a real Prefect flow run) of the four sample
groups against a sandbox that allows 5 items per second per endpoint path; and the pacer's shared
gate (one limit over several processes' pacers, keyed per channel, app and endpoint).
tests/test_rate_depth.py runs two worker processes against one shared limit."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import SAMPLES

LIMIT = 5


def test_a_full_sync_at_five_items_per_second_meets_no_429(prefect_server, tmp_path, monkeypatch, capsys):
    from connectors.sandbox import running_sandbox
    from flows.sync import sync_catalogues

    with running_sandbox(tmp_path / "sandbox", rate_limit=LIMIT) as market:
        shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = tmp_path / "w" / "lapak.toml"
        text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
        cfg.write_text(text.replace('client_id = "lapak-demo"',
                                    f'client_id = "lapak-demo"\nrate_limit_per_second = {LIMIT}'),
                       encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        assert market.admin.health()["rate_limit"] == LIMIT

        summary = sync_catalogues(config_path=str(cfg))
        stats = market.admin.stats()
        products = [p for shop in market.shops for p in market.admin.products(shop)]

    assert summary["writes"]["creates"] == 48 and len(products) == 48  # everything got through
    paths = stats["paths"]
    http_429 = {path: p["http_429"] for path, p in paths.items() if p["http_429"]}
    row_429 = sum(p["row_429"] for p in paths.values())
    items = sum(p["items"] for p in paths.values())
    with capsys.disabled():
        print(f"\n[rate limit {LIMIT}/s] {items} items over {len(paths)} paths; HTTP 429: {sum(http_429.values())}; "
              f"row-level 429: {row_429}; client: {summary['client'].get('http_429')} HTTP 429, "
              f"{summary['client'].get('row_429')} rows re-sent")
    assert http_429 == {}, f"the marketplace answered HTTP 429 on {http_429}"
    assert summary["client"]["http_429"] == 0
    assert row_429 <= 3, f"{row_429} rows refused with ERR_TOO_MANY_REQUEST"


# ---- the shared gate: one limit over several processes' pacers ----------------------------------

class FakeClock:
    """Time that sleeping advances: waits are asserted, not endured."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def server_bucket(clock: FakeClock, rate: float, seen: list | None = None):
    """A gate backed by one more token bucket, standing for the limit every process shares."""
    from connectors.pacing import ItemRateLimiter

    shared = ItemRateLimiter(rate, clock=clock, sleep=clock.sleep)

    def gate(key: str, items: int, configured: float) -> None:
        if seen is not None:
            seen.append((key, items, configured))
        shared.acquire(key, items, partial=False)
        shared.release(key, items)

    return gate


def test_shared_keys_name_the_channel_the_app_and_the_endpoint():
    from prefect.types.names import BANNED_CHARACTERS

    from connectors.pacing import name_part, shared_key

    assert shared_key("marketplace-15001", "/v3/products/fs/15001/create") == \
        "marketplace-15001-v3-products-fs-15001-create"
    assert shared_key("tiktok-a1b2c3", "/product/202309/products/{product_id}") == \
        "tiktok-a1b2c3-product-202309-products-product_id"
    assert name_part("6abc_DEF-12.x") == "6abc_DEF-12.x"  # a plain app key stays readable
    odd = name_part("key/with spaces&<more>")
    assert odd.startswith("h") and len(odd) == 13 and odd == name_part("key/with spaces&<more>")
    assert odd != name_part("key/with spaces&<mORe>")
    for key in (shared_key("tiktok-" + odd, "/a b/{x}?y=%z"), shared_key("marketplace-1", "/")):
        assert not any(c in key for c in BANNED_CHARACTERS), key


def test_two_pacers_sharing_a_gate_keep_to_one_rate_together():
    from connectors.pacing import ItemRateLimiter

    clock = FakeClock()
    alone = [ItemRateLimiter(5, clock=clock, sleep=clock.sleep) for _ in range(2)]
    start = clock.now
    for _ in range(6):
        for lim in alone:
            assert lim.acquire("/create", 25) == 5
    unshared = clock.now - start  # each paces itself: together twice the rate

    seen: list = []
    gate = server_bucket(clock, 5, seen)
    shared = [ItemRateLimiter(5, clock=clock, sleep=clock.sleep) for _ in range(2)]
    for lim in shared:
        lim.share(gate, "marketplace-15001")
    start = clock.now
    for _ in range(6):
        for lim in shared:
            assert lim.acquire("/create", 25) == 5
    together = clock.now - start

    assert unshared == pytest.approx(5.0)  # 60 items: a full bucket each, then 10/s
    assert together == pytest.approx(11.0)  # the same 60 items: one full bucket, then 5/s
    assert seen[0] == ("marketplace-15001-create", 5, 5.0) and len(seen) == 12


def test_the_shared_wait_and_the_own_refill_overlap_and_unshared_pacing_is_unchanged():
    from connectors.pacing import ItemRateLimiter

    clock = FakeClock()
    lim = ItemRateLimiter(5, clock=clock, sleep=clock.sleep)
    lim.share(server_bucket(clock, 5), "marketplace-15001")
    start = clock.now
    grants = [lim.acquire("/p", 5) for _ in range(4)]
    assert grants == [5] * 4 and clock.now - start == pytest.approx(3.0)  # not 6: the waits overlap

    lim.share(None, "")  # this process's pacing alone again
    start = clock.now
    assert lim.acquire("/p", 5) == 5 and lim.acquire("/q", 5) == 5
    assert clock.now - start == pytest.approx(1.0)  # "/p" refills at 5/s; "/q" is a bucket of its own

    # Without partial grants the whole call is taken from the gate (in pieces the gate may split).
    seen: list = []
    lim.share(server_bucket(clock, 5, seen), "s")
    assert lim.acquire("/r", 12, partial=False) == 12 and seen == [("s-r", 12, 5.0)]


def test_the_marketplace_client_shares_per_app_and_path():
    import responses

    from connectors.marketplace import MarketplaceClient

    clock = FakeClock()
    client = MarketplaceClient("https://api.test", "https://auth.test", 15001, "cid-7", "s3cr3t", clock=clock,
                               sleep=clock.sleep, rate_limit_per_second=5)
    seen: list = []
    client.share_pacing(server_bucket(clock, 5, seen))
    with responses.RequestsMock() as mock:
        mock.post("https://auth.test/token", json={"access_token": "tok-1", "expires_in": 3600})
        mock.get("https://api.test/v1/categories", json={"header": {"error_code": 0}, "data": []})
        client.categories()
    assert [key for key, _, _ in seen] == ["marketplace-15001-v1-categories", "marketplace-15001-token"]


def test_the_tiktok_channel_shares_per_app_key_and_template():
    from pydantic import SecretStr

    from connectors.tiktok import TikTokChannel

    clock = FakeClock()
    seen: list = []
    channel = TikTokChannel("https://open.test", "https://auth.test", "6abc123", SecretStr("x" * 8), tokens=None,
                            clock=clock, sleep=clock.sleep, rate_limit_per_second=50)
    channel.share_pacing(server_bucket(clock, 50, seen))
    channel.limiter.acquire("/product/202309/products/{product_id}", 1, partial=False)
    assert seen == [("tiktok-6abc123-product-202309-products-product_id", 1, 50.0)]


def test_the_shared_limits_client_repeats_a_moments_refusal_at_once():
    import httpx

    from flows.prefect_transport import QuickRetry

    answers = iter([503, 503, 200])
    seen: list[bytes] = []

    def server(request: httpx.Request) -> httpx.Response:
        seen.append(request.read())
        return httpx.Response(next(answers), json={})

    with httpx.Client(transport=QuickRetry(httpx.MockTransport(server)), base_url="http://prefect.test") as c:
        assert c.post("/v2/concurrency_limits/increment", json={"slots": 5}).status_code == 200
    assert seen == [b'{"slots":5}'] * 3  # the same request, whole, each time

    with httpx.Client(transport=QuickRetry(httpx.MockTransport(lambda r: httpx.Response(503)))) as c:
        assert c.get("http://prefect.test/").status_code == 503  # still refused: Prefect's client retries later
