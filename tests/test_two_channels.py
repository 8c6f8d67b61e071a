"""One catalogue on two channels, one stock: both sandboxes as real servers, a real state store,
real Prefect flow runs, the `lapak` command to authorise the second channel's shop."""

import shutil

import pytest

from tests.conftest import SAMPLES

GROUP = "wonosobo-sekar-carica"
MARKET_SHOP, TIKTOK_SHOP = 479573, 7494001


@pytest.fixture()
def market(tmp_path):
    from connectors.sandbox import running_sandbox

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as handle:
        yield handle


@pytest.fixture()
def tiktok(tmp_path):
    from connectors.tiktok_sandbox import running_tiktok_sandbox

    with running_tiktok_sandbox(tmp_path / "tiktok") as handle:
        yield handle


@pytest.fixture()
def workdir(tmp_path, market, tiktok, monkeypatch, capsys):
    """The samples pointed at both sandboxes, Wonosobo on both channels, its TikTok shop authorised."""
    from flows.cli import main
    from flows.cli.demo import with_tiktok

    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = tmp_path / "w" / "lapak.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
    text = text.replace('client_id = "lapak-demo"', 'client_id = "lapak-demo"\nrate_limit_per_second = 1000')
    cfg.write_text(with_tiktok(text, tiktok.url, TIKTOK_SHOP), encoding="utf-8")
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
    monkeypatch.setenv("LAPAK_TIKTOK_APP_SECRET", tiktok.app_secret)
    monkeypatch.setenv("LAPAK_SECRET_KEY", "a test key, long and random in real life")
    assert main(["authorize", "tiktok", "--config", str(cfg), "--shop", str(TIKTOK_SHOP),
                 "--code", f"code-{TIKTOK_SHOP}"]) == 0
    said = capsys.readouterr().out
    assert f"TikTok shop {TIKTOK_SHOP}" in said and "authorised until" in said
    return cfg


def sync(cfg, **kw):
    from flows.sync import sync_catalogues

    return sync_catalogues(config_path=str(cfg), groups=[GROUP], **kw)


def pull(cfg):
    from flows.orders import pull_orders

    return pull_orders(config_path=str(cfg))


def stock(market, tiktok) -> tuple[dict[str, int], dict[str, int]]:
    """Stock per SKU on the first marketplace and on the TikTok-shaped one."""
    first = {p["sku"]: p["stock"] for p in market.admin.products(MARKET_SHOP)}
    second = {}
    for p in tiktok.admin.products(TIKTOK_SHOP):  # the sandbox's own rows: inventory per warehouse
        second[p["seller_sku"]] = sum(p["doc"]["inventory"].values())
    return first, second


def test_one_sync_lists_on_both_channels_and_a_sale_on_one_lowers_the_other(prefect_server, market, tiktok,
                                                                              workdir):
    first = sync(workdir)
    row = next(r for r in first["groups"] if r["group"] == GROUP)
    on_market, on_tiktok = stock(market, tiktok)
    assert len(on_market) == row["listings"] == 12
    # Every product with a photo file goes to TikTok too (that channel takes uploaded images only).
    assert 0 < len(on_tiktok) <= len(on_market) and set(on_tiktok) <= set(on_market)
    assert {sku: on_market[sku] for sku in on_tiktok} == on_tiktok, "the same stock on both channels"
    titles = [p["doc"]["title"] for p in tiktok.admin.products(TIKTOK_SHOP)]
    assert all(25 <= len(t) <= 255 for t in titles)
    assert "Keripik Jamur Tiram - KWT Sekar Carica, Wonosobo" in titles, "a short name completed, not rejected"

    again = sync(workdir)
    assert again["planned_writes"] == 0 and sum(again["writes"].values()) == 0, "nothing changed: no writes"

    sku = next(iter(on_tiktok))
    tiktok.admin.place_order(TIKTOK_SHOP, [{"seller_sku": sku, "quantity": 2}],
                             buyer={"name": "Siti Aminah", "phone": "+6281234567801", "address": "Jl. Melati 7"})
    pull(workdir)
    now_market, now_tiktok = stock(market, tiktok)
    assert now_tiktok[sku] == on_tiktok[sku] - 2  # the channel took the units itself
    assert now_market[sku] == on_market[sku] - 2, "a sale on TikTok lowers the marketplace's stock"

    sheet = workdir.parent / "out" / "orders" / GROUP
    import openpyxl

    from connectors.sheets import SHEET_NAME

    rows = list(openpyxl.load_workbook(next(sheet.glob("*.xlsx")))[SHEET_NAME].iter_rows(values_only=True))
    assert "Kanal / Channel" in rows[0] and any("TikTok Shop" in r for r in rows[1:])

    order = tiktok.admin.orders(TIKTOK_SHOP)[0]
    tiktok.admin.set_order_status(order["id"], "CANCELLED")
    pull(workdir)
    sync(workdir)  # a cancel's units come back everywhere, at the latest by the next sync
    back_market, back_tiktok = stock(market, tiktok)
    assert back_market[sku] == on_market[sku] and back_tiktok[sku] == on_tiktok[sku]


def test_a_sale_on_the_marketplace_lowers_tiktok_and_an_expired_authorisation_fails_only_that_shop(
        prefect_server, market, tiktok, workdir):
    from schemas.errors import NeedsOperator

    sync(workdir)
    _, on_tiktok = stock(market, tiktok)
    sku = next(iter(on_tiktok))
    market.admin.place_order(MARKET_SHOP, [{"sku": sku, "quantity": 3}])
    pull(workdir)
    assert stock(market, tiktok)[1][sku] == on_tiktok[sku] - 3

    tiktok.admin.expire_token(TIKTOK_SHOP, "refresh")
    tiktok.admin.expire_token(TIKTOK_SHOP, "access")
    with pytest.raises(NeedsOperator) as failed:
        sync(workdir)
    assert f"tiktok:{TIKTOK_SHOP}" in str(failed.value) and "authorise again" in str(failed.value)
    assert str(failed.value).startswith(f"Shop authorisation missing or ended: shop tiktok:{TIKTOK_SHOP} (")
    assert failed.value.lines == [str(failed.value)]  # one cause, one line
    assert failed.value.summary["groups"][0]["listings"] == 12  # the marketplace shop was still synced
