"""New-order messages: a group with ``notify`` is told once, in Indonesian, of each new paid order
to pack (its own lines only, no buyer's phone or address), never of a cancelled or an old one; a
failing block never stops a pull and its orders are told by the next.

The engine runs against the sandbox marketplace (a real server) and a real state store; the flow
tests run the real ``pull-orders`` flow on the session's Prefect server with a real
``CustomWebhookNotificationBlock`` posting to a local HTTP receiver.
"""

from __future__ import annotations

import time
import uuid
from argparse import Namespace

import httpx
import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from connectors.sandbox import running_sandbox
from connectors.state import StateStore
from connectors.state.store import MIGRATIONS, normalise_url
from flows.cli.demo import Receiver
from flows.engine.notices import notify_groups
from flows.engine.orders import backfill_for_shop, pull_orders_for_shop
from schemas.notices import ToPack, compose, failure_reason
from schemas.orders import Order, OrderLine, Recipient
from tests.test_orders import World

DAY = 86_400
SHOPS = tuple(range(620_001, 620_021))
_free = iter(SHOPS)
TOKEN = "tok-3b9f-very-secret"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    with running_sandbox(tmp_path_factory.mktemp("sandbox"), rate_limit=None, shops=SHOPS) as sb:
        yield sb


class NotifyWorld(World):
    """:class:`tests.test_orders.World` with ``notify`` set on some of its groups."""

    def __init__(self, tmp_path, sb, groups: dict[str, int], notify: dict[str, str], **kw) -> None:
        self.notify = notify
        super().__init__(tmp_path, sb, groups, **kw)

    def write_config(self, groups: dict[str, int], **kw) -> None:
        super().write_config(groups, **kw)
        text = self.config_path.read_text(encoding="utf-8")
        for name, ref in self.notify.items():
            text = text.replace(f'id = "{self.gid[name]}"\n', f'id = "{self.gid[name]}"\nnotify = "{ref}"\n')
        self.config_path.write_text(text, encoding="utf-8")


@pytest.fixture
def world(tmp_path, sandbox, monkeypatch):
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", sandbox.client_secret)
    made = []

    def make(groups: dict[str, int], notify: dict[str, str], **kw) -> NotifyWorld:
        w = NotifyWorld(tmp_path, sandbox, groups, notify, **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        w.rt.close()


class Outbox:
    """A ``send`` that keeps what it was given, or fails as told."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str]] = []
        self.fail: Exception | None = None

    def __call__(self, block_ref: str, subject: str, body: str) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((block_ref, subject, body))


def pull(w: World, shop: int) -> None:
    pull_orders_for_shop(w.rt, shop, now=int(time.time()))


# ---- the message (pure) -------------------------------------------------------------------------

BUYER = Recipient(name="Siti Aminah", phone="+6281234567801", address="Jl. Melati No. 7 RT 02", district="Candisari",
                  city="Semarang", province="Jawa Tengah", postal_code="50257")


def _order(order_id: int, *lines: tuple[str, str, int], channel: str = "marketplace", invoice: str = "") -> Order:
    return Order(order_id=order_id, shop_id=1, invoice=invoice or f"INV/20261201/MPL/{order_id}", status=220,
                 create_time=1_790_000_000 + order_id, update_time=1_790_000_000, recipient=BUYER, channel=channel,
                 buyer_name="Siti Aminah", lines=tuple(OrderLine(i, None, sku, name, qty, 10_000, 10_000 * qty)
                                                       for i, (sku, name, qty) in enumerate(lines, 1)))


def test_the_message_says_what_to_pack_in_indonesian_and_nothing_personal():
    mine = {"SC-1", "SC-2"}
    orders = [_order(1, ("SC-1", "Manisan Carica 250 gr", 3), ("GO-1", "Selendang Batik", 1)),
              _order(2, ("SC-2", "Keripik Jamur\nTiram", 2), channel="tiktok", invoice="577001")]
    message = compose("KWT Sekar Carica", [ToPack.of(o, mine) for o in orders])
    body = message.body
    assert "KWT Sekar Carica" in message.subject and "Pesanan baru" in message.subject
    assert body.startswith("Halo KWT Sekar Carica, ada 2 pesanan baru yang sudah dibayar. Mohon dikemas (5 barang):")
    assert "(New paid orders to pack: 2, 5 items.)" in body
    assert "1. INV/20261201/MPL/1 · Marketplace · kirim ke Semarang\n   - 3 × Manisan Carica 250 gr\n2." in body
    assert "2. 577001 · TikTok Shop · kirim ke Semarang\n   - 2 × Keripik Jamur Tiram" in body
    assert "Selendang" not in body, "another group's line of a shared shop's order"
    for personal in ("Siti", "Aminah", "+62812", "81234567801", "Melati", "RT 02", "Candisari", "50257"):
        assert personal not in body and personal not in message.subject, personal
    assert [t.order_id for t in message.told] == [1, 2]
    assert ToPack.of(orders[0], {"XX-9"}) is None, "an order without the group's lines is not the group's"

    many = [ToPack.of(_order(i, ("SC-1", "Manisan", 1)), mine) for i in range(1, 36)]
    long = compose("KWT Sekar Carica", many)
    assert len(long.told) == 30 and "5 pesanan lain menyusul" in long.body and "5 more in the next message" in long.body


def test_a_failure_reason_names_the_error_but_no_webhook_token():
    request = httpx.Request("POST", f"https://hooks.example.com/services/T0/B0/{TOKEN}?token={TOKEN}")
    err = httpx.HTTPStatusError(f"Server error '500' for url '{request.url}'\nFor more information check: x",
                                request=request, response=httpx.Response(500, request=request))
    assert failure_reason(err) == "HTTPStatusError: Server error '500' for url 'https://hooks.example.com/…'"
    assert TOKEN not in failure_reason(httpx.ConnectError(f"cannot reach http://user:{TOKEN}@127.0.0.1:9/x"))


# ---- the engine against the sandbox -------------------------------------------------------------

def test_each_paid_order_is_told_once_own_lines_only_never_cancelled_nor_old(world, sandbox):
    shared, other = next(_free), next(_free)
    w = world({"a": shared, "b": shared, "c": other}, {"a": "custom-webhook/wa-a", "b": "custom-webhook/wa-b"})
    (a1, a2), (b1,), (c1,) = w.products("a", 2), w.products("b", 1), w.products("c", 1)
    both = w.order(shared, {a1: 2, b1: 1})
    only_a = w.order(shared, {a2: 1})
    w.order(other, {c1: 1})  # group c has no notify
    gone = w.order(shared, {a1: 1})
    sandbox.admin.set_order_status(gone["order_id"], 0)  # cancelled before any pull: never told
    old = w.order(shared, {a1: 1}, create_time=int(time.time()) - 8 * DAY)
    backfill_for_shop(w.rt, shared, int(time.time()) - 9 * DAY, int(time.time()))  # stored, paid, but old
    pull(w, shared)
    pull(w, other)

    out = Outbox()
    result = notify_groups(w.rt, out)
    assert set(result) == {w.gid["a"], w.gid["b"]}
    assert result[w.gid["a"]] == {"block": "custom-webhook/wa-a", "sent": 2, "error": "",
                                  "orders": [both["invoice_ref_num"], only_a["invoice_ref_num"]]}
    assert result[w.gid["b"]]["orders"] == [both["invoice_ref_num"]]
    to_a, to_b = (body for ref, _, body in sorted(out.sent))
    assert gone["invoice_ref_num"] not in to_a and old["invoice_ref_num"] not in to_a
    assert f"2 × Keripik {w.tag} a 0" in to_a and f"1 × Keripik {w.tag} a 1" in to_a
    assert b1 not in to_a and both["invoice_ref_num"] in to_b and to_b.count("   - ") == 1, to_b

    pull(w, shared)
    assert notify_groups(w.rt, out) == {} and len(out.sent) == 2, "each order is told once"

    later = w.order(shared, {a1: 1})
    paid_then_cancelled = w.order(shared, {a2: 1})
    pull(w, shared)
    sandbox.admin.set_order_status(paid_then_cancelled["order_id"], 0)
    pull(w, shared)  # cancelled before the group was told: never told
    assert notify_groups(w.rt, out)[w.gid["a"]]["orders"] == [later["invoice_ref_num"]]
    told = {(oid, gid) for _, oid, gid, _ in w.rt.store.notices()}
    assert told == {(both["order_id"], w.gid["a"]), (both["order_id"], w.gid["b"]),
                    (only_a["order_id"], w.gid["a"]), (later["order_id"], w.gid["a"])}


def test_a_failing_block_leaves_the_orders_untold_and_the_next_pull_tells_them(world):
    shop = next(_free)
    w = world({"a": shop}, {"a": "custom-webhook/wa-a"})
    (a1,) = w.products("a", 1)
    first = w.order(shop, {a1: 1})
    pull(w, shop)
    out = Outbox()
    request = httpx.Request("POST", f"http://127.0.0.1:9/wa?token={TOKEN}")
    out.fail = httpx.ConnectError(f"All connection attempts failed for {request.url}", request=request)

    failed = notify_groups(w.rt, out)[w.gid["a"]]
    assert failed["sent"] == 0 and failed["orders"] == [first["invoice_ref_num"]]
    assert failed["error"].startswith("ConnectError: All connection attempts failed") and TOKEN not in failed["error"]
    assert w.rt.store.notices() == []

    out.fail = None
    second = w.order(shop, {a1: 1})
    pull(w, shop)
    told = notify_groups(w.rt, out)[w.gid["a"]]
    assert told["sent"] == 2 and told["orders"] == [first["invoice_ref_num"], second["invoice_ref_num"]]
    assert len(out.sent) == 1, "one message for both"

    third = w.order(shop, {a1: 1})
    pull(w, shop)
    assert w.rt.store.try_lock("notices", "another-run", "another pull-orders run", 60) is None
    assert notify_groups(w.rt, out) == {} and len(out.sent) == 1, "one run tells at a time"
    w.rt.store.release_lock("notices", "another-run")
    assert notify_groups(w.rt, out)[w.gid["a"]]["orders"] == [third["invoice_ref_num"]]


# ---- the flow, a real block, a real receiver ----------------------------------------------------

def _save_block(name: str, receiver: Receiver) -> str:
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    block = CustomWebhookNotificationBlock(name="test group", url=receiver.url + "/wa?token={{token}}",
                                           secrets={"token": TOKEN},
                                           json_data={"subject": "{{subject}}", "body": "{{body}}"})
    block.save(name, overwrite=True)
    return f"custom-webhook/{name}"


def _notice_artifacts() -> list:
    import anyio
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def read():
        async with get_client() as client:
            return await client.read_artifacts(artifact_filter=ArtifactFilter(
                key=ArtifactFilterKey(any_=["orders-notices"])))

    return anyio.run(read)


def test_the_pull_orders_flow_tells_a_group_through_a_saved_block_and_survives_its_failures(
        prefect_server, world, capsys):
    from flows.cli.runs import orders_command
    from flows.orders import pull_orders

    shop = next(_free)
    with Receiver() as receiver:
        name = f"wa-test-{uuid.uuid4().hex[:8]}"
        w = world({"a": shop, "b": next(_free)}, {"a": _save_block(name, receiver)})
        (a1,) = w.products("a", 1)
        first = w.order(shop, {a1: 2}, recipient={"name": "Dewi", "phone": "+6281299990000",
                                                   "address": {"address_full": "Jl. Kenari 9", "city": "Surabaya"}})
        receiver.status = 500
        assert orders_command(Namespace(config=str(w.config_path))) == 0, "a failing block never fails the pull"
        printed = capsys.readouterr().out
        assert f"Pesan ke {w.gid['a']} GAGAL / message FAILED, 1 pesanan menunggu / orders wait for the next pull: " \
            "HTTPStatusError: Server error '500 Internal Server Error'" in printed and TOKEN not in printed
        assert any(w.gid["a"] in str(a.data) and "500" in str(a.data) and TOKEN not in str(a.data)
                   for a in _notice_artifacts())
        assert receiver.messages == [] and w.rt.store.notices() == []

        receiver.status = 200
        summary = pull_orders(config_path=str(w.config_path))
        assert summary["notices"] == {w.gid["a"]: {"block": f"custom-webhook/{name}", "sent": 1, "error": "",
                                                   "orders": [first["invoice_ref_num"]]}}
        [said] = receiver.messages
        assert said["path"] == f"/wa?token={TOKEN}" and first["invoice_ref_num"] in said["body"]
        assert "kirim ke Surabaya" in said["body"] and "2 × Keripik" in said["body"]
        assert "Dewi" not in said["body"] and "9999" not in said["body"] and "Kenari" not in said["body"]
        port = int(receiver.url.rsplit(":", 1)[1])

    second = w.order(shop, {a1: 1})
    summary = pull_orders(config_path=str(w.config_path))  # the receiver is down
    assert summary["notices"][w.gid["a"]]["error"].startswith("ConnectError") and summary["totals"]["orders_new"] == 1
    with Receiver(port) as back:
        summary = pull_orders(config_path=str(w.config_path))
        assert summary["notices"][w.gid["a"]]["orders"] == [second["invoice_ref_num"]]
        assert [second["invoice_ref_num"] in m["body"] and first["invoice_ref_num"] not in m["body"]
                for m in back.messages] == [True]


# ---- the migration ------------------------------------------------------------------------------

def _at_0005(url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0005")
        conn.exec_driver_sql(
            "INSERT INTO orders (channel, order_id, shop_id, invoice_ref_num, status, create_time, update_time,"
            " buyer_name, recipient_name, recipient_phone, recipient_address, shipping_cost, total_amount,"
            " first_seen_at, updated_at) VALUES ('tiktok', 77, 1, '77', 400, 100, 100, '', '', '', '', 0, 30000,"
            " '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00')")
    engine.dispose()


def _upgraded_and_told(url: str) -> None:
    _at_0005(url)
    store = StateStore(url)
    try:
        assert [o.order_id for o in store.orders_for(channel="tiktok")] == [77] and store.notices() == []
        store.record_told("g", [("tiktok", 77), ("marketplace", 77)])
        store.record_told("g", [("tiktok", 77)])  # told already: stays as it was
        store.record_told("h", [("tiktok", 77)])  # another group sharing the shop
        assert store.told("g", "tiktok", [77, 78]) == {77} and store.told("g", "marketplace", [77]) == {77}
        assert sorted((ch, oid, g) for ch, oid, g, _ in store.notices()) == [
            ("marketplace", 77, "g"), ("tiktok", 77, "g"), ("tiktok", 77, "h")]
        assert all(sent.tzinfo is not None for *_, sent in store.notices())
    finally:
        store.close()


def test_a_0005_sqlite_database_is_migrated_to_keep_notices(tmp_path):
    _upgraded_and_told(f"sqlite:///{tmp_path / 'old.db'}")


def test_a_0005_postgres_database_is_migrated_to_keep_notices(postgres_url):
    import psycopg

    schema = f"lapak_v6_{uuid.uuid4().hex[:8]}"  # its own schema: other tests share the database
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    try:
        _upgraded_and_told(f"{postgres_url}{sep}options=-csearch_path%3D{schema}")
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
