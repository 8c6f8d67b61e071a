"""``lapak webhooks``: both channels' order notifications over real HTTP, verified, deduped in a real
state store, debounced per shop; one test through the session's Prefect server (the events the
automation acts on) and one with what both sandboxes really send."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from connectors.webhooks import Burst, running_receiver
from connectors.webhooks.signatures import marketplace_signature, tiktok_signature
from flows.webhooks import EVENT, Webhooks, open_webhooks

FS_ID, SHOP, OTHER_SHOP, TT_SHOP = 15001, 479573, 479574, "7494001"
SECRET, APP_KEY, APP_SECRET = "lapak-demo-secret", "lapak-tiktok-demo", "lapak-tiktok-demo-secret"
WINDOW = 0.25  # a short debounce window keeps the tests quick; the command's test runs the default


def write_config(folder: Path, *, tiktok: bool = True, api_url: str = "http://127.0.0.1:9",
                 tiktok_url: str = "http://127.0.0.1:9") -> Path:
    text = (f'[marketplace]\napi_url = "{api_url}"\nauth_url = "{api_url}"\nfs_id = {FS_ID}\n'
            'client_id = "lapak-demo"\n\n[state]\nurl = "sqlite:///var/lapak.db"\n\n')
    if tiktok:
        text += f'[tiktok]\napi_url = "{tiktok_url}"\nauth_url = "{tiktok_url}"\napp_key = "{APP_KEY}"\n\n'
    text += (f'[[groups]]\nid = "sekar"\nname = "KWT Sekar"\nshop_id = {SHOP}\ncatalogue = "a.csv"\n'
             + (f'tiktok_shop_id = "{TT_SHOP}"\n' if tiktok else "")
             + f'\n[[groups]]\nid = "mawar"\nname = "KWT Mawar"\nshop_id = {OTHER_SHOP}\ncatalogue = "b.csv"\n')
    path = folder / "lapak.toml"
    path.write_text(text, encoding="utf-8")
    return path


class Recorder:
    """A sink that keeps the bursts it is handed."""

    def __init__(self) -> None:
        self.bursts: list[Burst] = []
        self._cond = threading.Condition()

    def __call__(self, burst: Burst) -> None:
        with self._cond:
            self.bursts.append(burst)
            self._cond.notify_all()

    def wait(self, n: int, timeout: float = 5.0) -> list[Burst]:
        """The bursts once there are ``n``, after one more window in which no other may come."""
        with self._cond:
            assert self._cond.wait_for(lambda: len(self.bursts) >= n, timeout), f"{len(self.bursts)} bursts, not {n}"
        time.sleep(WINDOW * 2)
        return list(self.bursts)


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", SECRET)
    monkeypatch.setenv("LAPAK_TIKTOK_APP_SECRET", APP_SECRET)


@pytest.fixture
def config(tmp_path: Path, secrets: None) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def hooks(config: Path, recorder: Recorder) -> Iterator[Webhooks]:
    opened = open_webhooks(config, sink=recorder, window=WINDOW)
    yield opened
    opened.close()


@pytest.fixture
def url(hooks: Webhooks) -> Iterator[str]:
    with running_receiver(hooks.app) as base:
        yield base


def mp_body(shop: int = SHOP, order: int = 1001, event: str | None = None, fs_id: int = FS_ID) -> bytes:
    return json.dumps({"event_id": event or uuid.uuid4().hex, "fs_id": fs_id, "shop_id": shop, "order_id": order,
                       "order_status": 220, "update_time": int(time.time())}).encode()


def mp_post(base: str, raw: bytes, *, secret: str = SECRET, ts: int | None = None,
            headers: dict | None = None) -> requests.Response:
    stamp = str(int(time.time()) if ts is None else ts)
    sent = {"Content-Type": "application/json", "X-Mp-Timestamp": stamp,
            "X-Mp-Signature": marketplace_signature(secret, stamp, raw)}
    sent.update(headers or {})
    return requests.post(f"{base}/webhooks/marketplace", data=raw, headers={k: v for k, v in sent.items() if v},
                         timeout=10)


def tt_body(shop: str = TT_SHOP, order: str = "576461413038785752", event: str | None = None) -> bytes:
    return json.dumps({"type": 1, "tts_notification_id": event or str(uuid.uuid4().int)[:19], "shop_id": shop,
                       "timestamp": int(time.time()), "data": {"order_id": order, "order_status": "AWAITING_SHIPMENT",
                                                               "is_on_hold_order": False, "update_time": 1}}).encode()


def tt_post(base: str, raw: bytes, *, secret: str = APP_SECRET, signature: str | None = None) -> requests.Response:
    sign = tiktok_signature(APP_KEY, secret, raw) if signature is None else signature
    headers = {"Content-Type": "application/json", **({"Authorization": sign} if sign else {})}
    return requests.post(f"{base}/webhooks/tiktok", data=raw, headers=headers, timeout=10)


# --- one notification, refused ones ------------------------------------------------------------------------


def test_a_signed_notification_is_acknowledged_at_once_and_becomes_one_burst(url: str, recorder: Recorder,
                                                                              hooks: Webhooks):
    event = uuid.uuid4().hex
    r = mp_post(url, mp_body(order=5001, event=event))
    assert (r.status_code, r.json()) == (200, {"ok": True})
    assert r.elapsed.total_seconds() < 1.0
    [burst] = recorder.wait(1)
    assert (burst.channel, burst.shop_id, burst.notifications, burst.order_ids) == ("marketplace", str(SHOP), 1,
                                                                                      ["5001"])
    assert burst.first_received == burst.last_received
    assert [(c, e, s) for c, e, s, _ in hooks.receiver.events.seen()] == [("marketplace", event, str(SHOP))]


def test_a_wrong_or_missing_signature_or_a_stale_timestamp_is_401_and_nothing_happens(
        url: str, recorder: Recorder, hooks: Webhooks):
    raw, now = mp_body(), int(time.time())
    refused = {
        "wrong secret": mp_post(url, raw, secret="not-the-secret"),
        "no signature": mp_post(url, raw, headers={"X-Mp-Signature": ""}),
        "no timestamp": mp_post(url, raw, headers={"X-Mp-Timestamp": ""}),
        "stale": mp_post(url, raw, ts=now - 330),     # signed right, but too old (a margin for a slow machine)
        "future": mp_post(url, raw, ts=now + 330),
        "not a number": mp_post(url, raw, headers={"X-Mp-Timestamp": "12.5"}),
        "body changed": mp_post(url, raw.replace(b"220", b"221"), headers={
            "X-Mp-Timestamp": str(now), "X-Mp-Signature": marketplace_signature(SECRET, str(now), raw)}),
        "timestamp changed": mp_post(url, raw, headers={
            "X-Mp-Timestamp": str(now - 1), "X-Mp-Signature": marketplace_signature(SECRET, str(now), raw)}),
    }
    assert {case: r.status_code for case, r in refused.items()} == dict.fromkeys(refused, 401)
    assert "300 s" in refused["stale"].json()["error"] and refused["wrong secret"].json()["error"] == "wrong signature"
    assert not any(SECRET in r.text for r in refused.values())
    time.sleep(WINDOW * 2)
    assert recorder.bursts == [] and hooks.receiver.events.seen() == []


def test_a_timestamp_within_300_seconds_either_way_is_accepted(url: str, recorder: Recorder):
    now = int(time.time())
    assert mp_post(url, mp_body(), ts=now - 290).status_code == 200
    assert mp_post(url, mp_body(), ts=now + 290).status_code == 200
    assert recorder.wait(1)[0].notifications == 2


def test_bodies_that_are_not_notifications_too_large_or_not_ours(url: str, recorder: Recorder, hooks: Webhooks):
    assert mp_post(url, b"{not json").status_code == 400
    assert mp_post(url, json.dumps({"fs_id": FS_ID, "shop_id": SHOP}).encode()).status_code == 400  # no event_id
    assert mp_post(url, b"[1, 2]").status_code == 400
    assert mp_post(url, b" " * (64 * 1024 + 1)).status_code == 413
    unknown = mp_post(url, mp_body(shop=999))  # signed, but a shop of another configuration: ack, ignore
    assert unknown.status_code == 200 and "999" in unknown.json()["ignored"]
    foreign = mp_post(url, mp_body(fs_id=1))
    assert foreign.status_code == 200 and "fs_id 1" in foreign.json()["ignored"]
    other_kind = json.dumps({"type": 7, "tts_notification_id": "1", "shop_id": TT_SHOP, "timestamp": 1,
                             "data": {}}).encode()
    assert tt_post(url, other_kind).json() == {"ok": True, "ignored": "not an order status change"}
    assert requests.get(f"{url}/webhooks/marketplace", timeout=5).status_code == 405
    time.sleep(WINDOW * 2)
    assert recorder.bursts == [] and hooks.receiver.events.seen() == []


def test_a_channel_not_configured_is_404(tmp_path: Path, secrets: None, recorder: Recorder):
    hooks = open_webhooks(write_config(tmp_path, tiktok=False), sink=recorder, window=WINDOW)
    try:
        with running_receiver(hooks.app) as base:
            assert tt_post(base, tt_body()).status_code == 404
            assert requests.get(f"{base}/healthz", timeout=5).json() == {"ok": True, "channels": ["marketplace"]}
    finally:
        hooks.close()


# --- dedupe and debounce -------------------------------------------------------------------------------------


def test_a_redelivery_is_acknowledged_but_acted_on_once_also_after_a_restart(config: Path, recorder: Recorder):
    event = uuid.uuid4().hex
    raw = mp_body(event=event)
    hooks = open_webhooks(config, sink=recorder, window=WINDOW)
    try:
        with running_receiver(hooks.app) as base:
            assert mp_post(base, raw).json() == {"ok": True}
            assert mp_post(base, raw).json() == {"ok": True, "duplicate": True}  # signed anew, same event id
    finally:
        hooks.close()
    assert [b.notifications for b in recorder.wait(1)] == [1]
    again = open_webhooks(config, sink=recorder, window=WINDOW)  # a restart: the ids are in the state store
    try:
        with running_receiver(again.app) as base:
            assert mp_post(base, raw).json() == {"ok": True, "duplicate": True}
            assert mp_post(base, mp_body(event=event, shop=OTHER_SHOP)).json()["duplicate"] is True
            assert tt_post(base, tt_body(event=event)).json() == {"ok": True}  # ids are per channel
    finally:
        again.close()
    assert [(b.channel, b.notifications) for b in recorder.wait(2)] == [("marketplace", 1), ("tiktok", 1)]


def test_a_burst_for_one_shop_is_one_event_and_two_shops_are_two(config: Path, recorder: Recorder):
    window = 2.0  # wide enough for 23 requests on a busy CI machine; the default (0.5 s) is tested below
    hooks = open_webhooks(config, sink=recorder, window=window)
    try:
        with running_receiver(hooks.app) as base, ThreadPoolExecutor(10) as pool:
            started = time.monotonic()
            answers = list(pool.map(lambda i: mp_post(base, mp_body(order=7000 + i)), range(20)))
            answers += list(pool.map(lambda i: mp_post(base, mp_body(shop=OTHER_SHOP, order=8000 + i)), range(3)))
            sent_in = time.monotonic() - started
            assert [a.status_code for a in answers] == [200] * 23
            assert sent_in < window, f"the burst took {sent_in:.2f} s to send: longer than the window"
            bursts = recorder.wait(2, timeout=window + 5)
    finally:
        hooks.close()
    by_shop = {b.shop_id: b for b in bursts}
    assert len(bursts) == 2 and set(by_shop) == {str(SHOP), str(OTHER_SHOP)}
    assert by_shop[str(SHOP)].notifications == 20
    assert sorted(by_shop[str(SHOP)].order_ids) == [str(7000 + i) for i in range(20)]
    assert by_shop[str(OTHER_SHOP)].notifications == 3
    first = by_shop[str(SHOP)]
    assert first.first_received <= first.last_received


def test_tiktok_notifications_are_verified_deduped_and_debounced(url: str, recorder: Recorder):
    event = str(uuid.uuid4().int)[:19]
    assert tt_post(url, tt_body(event=event, order="1")).json() == {"ok": True}
    assert tt_post(url, tt_body(event=event, order="1")).json() == {"ok": True, "duplicate": True}
    assert tt_post(url, tt_body(order="2")).json() == {"ok": True}
    assert tt_post(url, tt_body(), secret="wrong").status_code == 401
    assert tt_post(url, tt_body(), signature="").status_code == 401
    assert tt_post(url, tt_body(), signature=tiktok_signature(APP_KEY, APP_SECRET, b"{}")).status_code == 401
    assert tt_post(url, tt_body(shop="123")).json()["ignored"] == "shop 123 is not in this configuration"
    upper = tt_body(order="3")  # the contract says lowercase hex; an uppercase one is the same signature
    assert tt_post(url, upper, signature=tiktok_signature(APP_KEY, APP_SECRET, upper).upper()).status_code == 200
    [burst] = recorder.wait(1)
    assert (burst.channel, burst.shop_id, burst.notifications, burst.order_ids) == ("tiktok", TT_SHOP, 3,
                                                                                      ["1", "2", "3"])


def test_every_answer_comes_well_within_5_seconds_under_load(url: str, recorder: Recorder):
    def one(i: int) -> float:
        started = time.perf_counter()
        r = (mp_post(url, mp_body(shop=(SHOP, OTHER_SHOP)[i % 2], order=i)) if i % 3
             else tt_post(url, tt_body(order=str(i))))
        assert r.status_code == 200
        return time.perf_counter() - started

    with ThreadPoolExecutor(25) as pool:
        took = sorted(pool.map(one, range(150)))
    assert took[-1] < 3.0, f"slowest answer {took[-1]:.2f} s"
    assert sum(b.notifications for b in recorder.wait(3)) == 150


def test_a_state_store_busy_writing_does_not_hold_the_answer(config: Path, recorder: Recorder, hooks: Webhooks,
                                                               url: str):
    import sqlite3

    hooks.receiver.dedupe_wait = 0.5
    event = uuid.uuid4().hex
    raw = mp_body(event=event)
    lock = sqlite3.connect(config.parent / "var" / "lapak.db", isolation_level=None)
    try:
        lock.execute("BEGIN IMMEDIATE")  # another run holds SQLite's write lock
        r = mp_post(url, raw)
        assert (r.status_code, r.json()) == (200, {"ok": True})  # passed on as new rather than kept waiting
        assert 0.4 < r.elapsed.total_seconds() < 2.0
        [burst] = recorder.wait(1)
        assert burst.notifications == 1
    finally:
        lock.execute("ROLLBACK")
        lock.close()
    deadline = time.monotonic() + 5  # the id is recorded once the lock is free
    while not hooks.receiver.events.seen() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mp_post(url, raw).json() == {"ok": True, "duplicate": True}


def test_seen_ids_are_kept_and_pruned_in_postgresql_too(postgres_url: str):
    from datetime import timedelta

    from connectors.state import StateStore
    from connectors.state.models import utcnow
    from connectors.state.webhooks import WebhookEvents

    store = StateStore(postgres_url)
    try:
        events, new, old = WebhookEvents(store), uuid.uuid4().hex, uuid.uuid4().hex
        assert events.first_seen("marketplace", new, str(SHOP)) is True
        assert events.first_seen("marketplace", new, str(SHOP)) is False
        assert events.first_seen("tiktok", new, TT_SHOP) is True
        assert events.first_seen("marketplace", old, str(SHOP), received_at=utcnow() - timedelta(days=4)) is True
        assert events.prune() >= 1
        kept = {(c, e) for c, e, _, _ in events.seen()}
        assert {("marketplace", new), ("tiktok", new)} <= kept and ("marketplace", old) not in kept
    finally:
        store.close()


# --- through real parts: what the sandboxes send; the command and the Prefect server ----------------------


def test_what_both_sandboxes_send_is_accepted(tmp_path: Path, secrets: None, recorder: Recorder):
    from connectors.sandbox import running_sandbox
    from connectors.tiktok_sandbox import running_tiktok_sandbox
    from tests.test_sandbox import Api as MarketApi
    from tests.test_sandbox import created_ids, product
    from tests.test_tiktok_sandbox import Api as TikTokApi

    with ExitStack() as stack, ThreadPoolExecutor(2) as pool:  # both start at once: each takes seconds
        starting = [pool.submit(stack.enter_context, running_sandbox(tmp_path / "market", rate_limit=None)),
                    pool.submit(stack.enter_context, running_tiktok_sandbox(tmp_path / "tiktok", rate_limit=None))]
        market, tiktok = (f.result() for f in starting)
        hooks = open_webhooks(write_config(tmp_path, api_url=market.url, tiktok_url=tiktok.url), sink=recorder,
                              window=WINDOW)
        try:
            with running_receiver(hooks.app) as base:
                market.admin.set_webhook(f"{base}/webhooks/marketplace")
                tiktok.admin.set_webhook(f"{base}/webhooks/tiktok")
                sku = f"W-{uuid.uuid4().hex[:8]}"
                created_ids(MarketApi(market), [product(sku)])
                order = market.admin.place_order(SHOP, [{"sku": sku, "quantity": 1}])
                market.admin.set_order_status(order["order_id"], 400)  # a status change is notified too
                assert TikTokApi(tiktok).create(sku).status_code == 200
                tt_order = tiktok.admin.place_order(TT_SHOP, [{"seller_sku": sku, "quantity": 2}])
                deadline = time.monotonic() + 10
                while sum(b.notifications for b in recorder.bursts) < 3 and time.monotonic() < deadline:
                    time.sleep(0.05)
                bursts = recorder.wait(1)
        finally:
            hooks.close()
        # Every delivery was acknowledged at its first attempt: nothing refused, nothing retried.
        assert {k: market.admin.stats()["webhooks"][k] for k in ("attempts", "delivered", "failed")} == {
            "attempts": 2, "delivered": 2, "failed": 0}
        assert {k: tiktok.admin.stats()["webhooks"][k] for k in ("attempts", "delivered", "failed")} == {
            "attempts": 1, "delivered": 1, "failed": 0}
    got = {(b.channel, b.shop_id): (sum(x.notifications for x in bursts if x.channel == b.channel),
                                     sorted({o for x in bursts if x.channel == b.channel for o in x.order_ids}))
           for b in bursts}
    assert got == {("marketplace", str(SHOP)): (2, [str(order["order_id"])]),
                   ("tiktok", TT_SHOP): (1, [str(tt_order["id"])])}


def test_lapak_webhooks_turns_each_shops_burst_into_one_prefect_event(prefect_server, config: Path):
    import os
    import signal
    import subprocess
    import sys

    from prefect.client.orchestration import get_client
    from prefect.events.filters import EventFilter, EventNameFilter, EventResourceFilter
    from prefect.events.schemas.events import ResourceSpecification
    from prefect.settings import PREFECT_API_URL

    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "webhooks", "--config", str(config), "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        base = next(ln.split()[1] for ln in lines if "/webhooks/marketplace" in ln).rsplit("/webhooks/", 1)[0]
        with ThreadPoolExecutor(4) as pool:  # within the default window (0.5 s) of the shop's first one
            sent = list(pool.map(lambda i: mp_post(base, mp_body(order=900 + i)), range(3)))
        assert [r.status_code for r in sent] == [200] * 3
        assert tt_post(base, tt_body(order="77")).status_code == 200
        assert mp_post(base, mp_body(), secret="wrong").status_code == 401
        # Stopped at once: the bursts still in their window go before it exits.
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "lapak webhooks: stopped" in out and "wrong signature (401)" in err
    assert "-> lapak.orders.notified" in err and SECRET not in out + err

    path = str(config.resolve())
    events: list = []
    deadline = time.monotonic() + 20  # the server stores events within its persister's flush (5 s)
    with get_client(sync_client=True) as client:
        while len(events) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
            events = client.read_events(EventFilter(
                event=EventNameFilter(name=[EVENT]),
                resource=EventResourceFilter(labels=ResourceSpecification({"lapak.config": path}))), limit=10).events
    by_channel = {e.resource["lapak.channel"]: e for e in events}
    assert len(events) == 2 and set(by_channel) == {"marketplace", "tiktok"}
    market, tiktok = by_channel["marketplace"], by_channel["tiktok"]
    assert dict(market.resource) == {"prefect.resource.id": f"lapak.shop.marketplace.{SHOP}",
                                     "lapak.channel": "marketplace", "lapak.shop_id": str(SHOP), "lapak.config": path}
    assert market.payload["notifications"] == 3 and sorted(market.payload["order_ids"]) == ["900", "901", "902"]
    assert market.payload["first_received"] <= market.payload["last_received"]
    assert tiktok.resource.id == f"lapak.shop.tiktok.{TT_SHOP}" and tiktok.resource["lapak.shop_id"] == TT_SHOP
    assert (tiktok.payload["notifications"], tiktok.payload["order_ids"]) == (1, ["77"])
