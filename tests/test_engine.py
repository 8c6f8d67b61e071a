"""The engine without Prefect and without the first marketplace: sync and orders against a channel
in memory (tests/memory_channel.py), each step run inline. What passes here passes through the
channel protocol alone."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from connectors.config import load_config
from connectors.state import StateStore
from flows.engine.apply import WRITERS
from flows.engine.order_runs import run_order_pull
from flows.engine.planning import SyncOptions
from flows.engine.runtime import Runtime
from flows.engine.steps import Inline
from flows.engine.sync import run_sync
from schemas.channel import Channel
from schemas.plan import WriteKind
from tests.conftest import SAMPLES
from tests.memory_channel import MemoryChannel

SHOP = 479573  # Wonosobo's shop in the samples: 12 listings, alone in its shop
# What the samples list but keep inactive from the start (Status Nonaktif in Indramayu's workbook).
NONAKTIF = sorted(li["name"] for g in json.loads((SAMPLES / "expected_rejects.json").read_text(encoding="utf-8"))
                  ["groups"].values() for li in g["listings"] if not li["active"])


@pytest.fixture
def rt(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
    config = load_config(tmp_path / "w" / "lapak.toml")
    runtime = Runtime(config=config, store=StateStore(config.state_url), channels={"marketplace": MemoryChannel()})
    yield runtime
    runtime.close()


def sync(rt: Runtime, **options) -> dict:
    report = run_sync(rt, SyncOptions(**options), Inline(rt))
    report.raise_for_problems()
    return report.summary()


def test_the_memory_channel_is_a_channel_and_every_kind_of_write_has_a_writer():
    assert isinstance(MemoryChannel(), Channel)
    assert set(WRITERS) == set(WriteKind)


def jember(rt: Runtime):
    """The Jember group's CSV (its products have their own codes: a rename keeps the SKU)."""
    return rt.config.path("catalogues/jember/anyaman-pandan-sari.csv")


def edit_jember(rt: Runtime, old: str, new: str) -> str:
    path = jember(rt)
    text = path.read_text(encoding="utf-8-sig")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8-sig")
    return text


def test_a_sync_through_the_protocol_creates_then_writes_only_what_changed(rt):
    channel: MemoryChannel = rt.channel
    first = sync(rt)
    listed = sum(len(s.products) for s in channel.shops.values())
    assert first["writes"]["creates"] == listed == 48 and channel.writes["create"] == 48
    # Batches at the channel's own limit (3 per create call here), not the first marketplace's 25.
    assert channel.calls["create"] == sum(-(-len(s.products) // 3) for s in channel.shops.values())
    names = [p.name.casefold() for s in channel.shops.values() for p in s.products.values()]
    assert len(names) == len(set(names))

    before = sum(channel.writes.values())
    again = sync(rt)
    assert sum(again["writes"].values()) == 0 == again["planned_writes"] and sum(channel.writes.values()) == before

    edit_jember(rt, "Topi Pandan Pantai", "Topi Pandan Pantai Lebar")
    edit_jember(rt, "Rp 185.000", "Rp 190.000")
    changed = sync(rt)
    assert changed["writes"] == {"edits": 1, "creates": 0, "reactivate": 0, "prices": 1, "stocks": 0,
                                 "deactivate": 0}, changed["writes"]
    assert {p.name for p in channel.products(479574)} >= {"Topi Pandan Pantai Lebar"}
    assert any(p.price == 190_000 for p in channel.products(479574))


def test_a_product_that_left_is_deactivated_and_comes_back_when_restored(rt):
    channel: MemoryChannel = rt.channel
    sync(rt)
    text = jember(rt).read_text(encoding="utf-8-sig")
    kept = text[:text.rindex("\n16,") + 1]  # the last product (row 16) left the catalogue
    jember(rt).write_text(kept, encoding="utf-8-sig")
    removed = sync(rt)
    assert removed["writes"]["deactivate"] == 1 and channel.writes["deactivate"] == 1
    inactive = [p.name for s in channel.shops.values() for p in s.products.values() if p.status == "INACTIVE"]
    assert NONAKTIF and sorted(inactive) == sorted(["Tas Laptop Anyaman Pandan 14 inci", *NONAKTIF])
    jember(rt).write_text(text, encoding="utf-8-sig")
    restored = sync(rt)
    assert restored["writes"]["reactivate"] == 1
    inactive = [p.name for s in channel.shops.values() for p in s.products.values() if p.status != "ACTIVE"]
    assert sorted(inactive) == NONAKTIF, "everything else active again; Nonaktif stays inactive"


def test_orders_are_stored_once_and_stock_follows_the_rule_through_the_protocol(rt):
    channel: MemoryChannel = rt.channel
    sync(rt)
    sku, product = next(iter(channel.shop(SHOP).products.items()))
    start = product.stock
    now = int(time.time())
    order = channel.place_order(SHOP, {sku: 3}, created=now - 5)

    pulled = run_order_pull(rt, Inline(rt), now=now)
    assert pulled["totals"]["orders_new"] == 1 and rt.store.count_orders() == 1
    known = {k.sku: k for k in rt.store.listings(shop_id=SHOP)}
    assert channel.product(SHOP, sku).stock == start - 3 == known[sku].stock
    again = run_order_pull(rt, Inline(rt), now=now + 60)
    assert again["totals"]["orders_new"] == 0 and rt.store.count_orders() == 1
    assert channel.writes["stock"] == 0  # the channel took the units off itself: nothing to push

    # Cancelled: the units are free again, but the channel does not put them back by itself. An
    # order pull only ever lowers stock (a push could undo a sale it has not seen); the next sync
    # raises it to the rule.
    channel.set_status(SHOP, order.order_id, 0, when=now + 90)
    cancelled = run_order_pull(rt, Inline(rt), now=now + 120)
    assert cancelled["totals"]["orders_changed"] == 1
    assert channel.product(SHOP, sku).stock == start - 3 and channel.writes["stock"] == 0
    synced = sync(rt)
    assert synced["writes"]["stocks"] == 1 and channel.product(SHOP, sku).stock == start
    assert {k.sku: k for k in rt.store.listings(shop_id=SHOP)}[sku].stock == start
