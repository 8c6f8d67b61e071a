"""The state store keyed by channel (migration 0005): an older database keeps its rows as the first
marketplace's, a second channel's listings and orders live beside them, and shop tokens are sealed."""

import sqlite3
import uuid

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine

from connectors.state import StateStore
from connectors.state.store import MIGRATIONS, normalise_url
from connectors.state.tokens import ConfigError, SealedTokens
from schemas.listing import KnownListing
from schemas.orders import Order, OrderLine
from schemas.tokens import ShopTokens


def _at_0004(url: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0004")
        conn.exec_driver_sql("INSERT INTO groups (id, name, village, regency, shop_id, updated_at) "
                             "VALUES ('g', 'G', '', '', 1, '2026-11-01 00:00:00+00:00')")
        conn.exec_driver_sql(
            "INSERT INTO listings (shop_id, sku, group_id, product_id, name, category_id, price, stock, recorded_stock,"
            " min_order, weight_g, condition, description, pictures, status, in_catalogue, has_orders, updated_at)"
            " VALUES (1, 'G-1', 'g', 10, 'Keripik', 101, 15000, 5, 5, 1, 250, 'NEW', '', '[]', 'ACTIVE', true, false,"
            " '2026-11-01 00:00:00+00:00')")
        conn.exec_driver_sql(
            "INSERT INTO orders (order_id, shop_id, invoice_ref_num, status, create_time, update_time, buyer_name,"
            " recipient_name, recipient_phone, recipient_address, shipping_cost, total_amount, first_seen_at,"
            " updated_at) VALUES (77, 1, 'INV/1', 400, 100, 100, '', '', '', '', 0, 30000,"
            " '2026-11-01 00:00:00+00:00', '2026-11-01 00:00:00+00:00')")
        conn.exec_driver_sql("INSERT INTO order_items (order_id, line, product_id, sku, name, quantity, price,"
                             " total_price) VALUES (77, 1, 10, 'G-1', 'Keripik', 2, 15000, 30000)")
    engine.dispose()


def _order(channel: str, qty: int, status: int = 400) -> Order:
    return Order(order_id=77, shop_id=1 if channel == "marketplace" else 7494001, invoice="77", status=status,
                 create_time=200, update_time=200, channel=channel,
                 lines=(OrderLine(1, 10, "G-1", "Keripik", qty, 15000, 15000 * qty),))


def _upgraded(url: str) -> StateStore:
    _at_0004(url)
    store = StateStore(url)
    [known] = store.listings()
    assert (known.channel, known.shop_id, known.sku, known.stock) == ("marketplace", 1, "G-1", 5)
    [order] = store.orders_for()
    assert (order.channel, order.order_id, order.lines[0].quantity) == ("marketplace", 77, 2)
    return store


def _two_channels(store: StateStore) -> None:
    """Order 77 on TikTok is another order than 77 on the marketplace; both count for the SKU."""
    store.save_listings([KnownListing(shop_id=1, sku="G-1", group_id="g", product_id=10, name="x" * 200,
                                      category_id=710101, price=15000, stock=5, recorded_stock=5, min_order=1,
                                      weight_g=250, condition="NEW", description="", pictures=(), channel="tiktok")])
    store.upsert_orders([_order("tiktok", 3)])
    assert {(o.channel, o.order_id) for o in store.orders_for(channel=None)} == {("marketplace", 77), ("tiktok", 77)}
    assert store.units_sold({"G-1": 0}) == {"G-1": 5}, "units sold on every channel"
    store.upsert_orders([_order("tiktok", 3, status=15)])  # cancelled on TikTok: only that one's units come back
    assert store.units_sold({"G-1": 0}) == {"G-1": 2}
    assert [k.channel for k in store.listings(channel=None)] == ["marketplace", "tiktok"]
    assert store.listings(channel="tiktok")[0].name == "x" * 200


def test_an_older_sqlite_database_is_migrated_and_keeps_its_rows(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = _upgraded(url)
    try:
        _two_channels(store)
    finally:
        store.close()


def test_an_older_postgres_database_is_migrated_and_keeps_its_rows(postgres_url):
    import psycopg

    schema = f"lapak_v5_{uuid.uuid4().hex[:8]}"  # its own schema: other tests share the database
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in postgres_url else "?"
    store = _upgraded(f"{postgres_url}{sep}options=-csearch_path%3D{schema}")
    try:
        _two_channels(store)
    finally:
        store.close()
        with psycopg.connect(postgres_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


def test_tokens_are_sealed_and_need_their_key(tmp_path):
    store = StateStore(f"sqlite:///{tmp_path / 's.db'}")
    try:
        SealedTokens(store, "key one").save("tiktok", ShopTokens("7494001", "ACCESS-XYZ", 100, "REFRESH-XYZ", 200))
        raw = sqlite3.connect(tmp_path / "s.db").execute("SELECT sealed, refresh_expires FROM shop_tokens").fetchone()
        assert "ACCESS-XYZ" not in raw[0] and "REFRESH-XYZ" not in raw[0] and raw[1] == 200
        assert SealedTokens(store, "key one").load("tiktok", "7494001").access_token == "ACCESS-XYZ"
        assert "ACCESS" not in repr(SealedTokens(store, "key one").load("tiktok", "7494001"))
        with pytest.raises(ConfigError, match="cannot be opened with this LAPAK_SECRET_KEY"):
            SealedTokens(store, "another key").load("tiktok", "7494001")
    finally:
        store.close()


def test_an_authorisation_ending_soon_or_missing_is_a_warning_in_every_run(tmp_path):
    import time

    from flows.engine.runtime import Runtime, authorisation_warnings
    from schemas.config import parse_config

    group = dict(name="G", shop_id=1, catalogue="k.csv")
    config = parse_config({
        "marketplace": dict(api_url="https://m", auth_url="https://m", fs_id=1, client_id="c", client_secret="s"),
        "tiktok": dict(api_url="https://t", auth_url="https://t", app_key="k", app_secret="s"),
        "state": {"url": f"sqlite:///{tmp_path / 's.db'}"},
        "groups": [dict(group, id="a", tiktok_shop_id=7494001), dict(group, id="b", tiktok_shop_id="7494002"),
                   dict(group, id="c")],
    }, tmp_path)
    store = StateStore(config.state_url)
    try:
        now = time.time()
        SealedTokens(store, "k").save("tiktok", ShopTokens("7494001", "A", int(now) + 60, "R", int(now) + 3 * 86_400))
        warnings = authorisation_warnings(Runtime(config=config, store=store, channels={}), now)
        assert warnings == ["tiktok shop 7494001: authorisation ends in 3.0 days; authorise again soon "
                            "(lapak authorize tiktok)",
                            "tiktok shop 7494002: not authorised yet; run lapak authorize tiktok --shop 7494002 "
                            "--code CODE"]
        SealedTokens(store, "k").save("tiktok", ShopTokens("7494001", "A", int(now) + 60, "R", int(now) + 30 * 86_400))
        assert len(authorisation_warnings(Runtime(config=config, store=store, channels={}), now)) == 1
    finally:
        store.close()


def test_the_tiktok_section_and_shop_ids_are_read_as_documented(tmp_path):
    from schemas.config import parse_config
    from schemas.errors import ConfigError

    base = {"marketplace": dict(api_url="https://m", auth_url="https://m", fs_id=1, client_id="c"),
            "groups": [dict(id="a", name="A", shop_id=1, catalogue="k.csv", tiktok_shop_id=7494001)]}
    tiktok = dict(api_url="https://t/", auth_url="https://t", app_key="k", categories={"keripik": 710101})
    config = parse_config({**base, "tiktok": tiktok}, tmp_path)
    assert config.channels == ("marketplace", "tiktok") and config.tiktok.api_url == "https://t"
    assert config.tiktok.categories == {"keripik": "710101"}, "the channel's ids are strings"
    assert config.groups[0].tiktok_shop_id == "7494001" and config.groups[0].shop_on("tiktok") == 7494001
    assert parse_config(base, tmp_path).channels == ("marketplace",)
    with pytest.raises(ConfigError, match=r"\[tiktok\] unknown key 'app_secrett'"):
        parse_config({**base, "tiktok": dict(tiktok, app_secrett="x")}, tmp_path)
    with pytest.raises(ConfigError, match="tiktok_shop_id"):
        parse_config({**base, "groups": [dict(base["groups"][0], tiktok_shop_id="74-94")]}, tmp_path)


@pytest.mark.parametrize("section, key", [("marketplace", "api_url"), ("marketplace", "auth_url"),
                                          ("tiktok", "api_url"), ("tiktok", "auth_url")])
def test_marketplace_urls_are_https_unless_they_stay_on_this_machine(tmp_path, section, key):
    """The client secret and tokens travel in these requests: plain http:// only to loopback (the sandboxes)."""
    from schemas.config import parse_config
    from schemas.errors import ConfigError

    data = {"marketplace": dict(api_url="https://m.example", auth_url="https://m.example", fs_id=1, client_id="c"),
            "tiktok": dict(api_url="https://t.example", auth_url="https://t.example", app_key="k")}
    for fine in ("https://fs.example", "http://127.0.0.1:8765", "http://localhost:9", "http://[::1]:9"):
        data[section][key] = fine
        assert getattr(getattr(parse_config(data, tmp_path), section), key) == fine
    for refused in ("http://fs.example", "http://10.0.0.5:8080", "ftp://fs.example", "fs.example"):
        data[section][key] = refused
        with pytest.raises(ConfigError, match=rf"\[{section}\] {key}: .*https://"):
            parse_config(data, tmp_path)
    assert parse_config({**data, section: {**data[section], key: "https://ok.example"}},
                        tmp_path).sync.allow_private_catalogue_urls is False
