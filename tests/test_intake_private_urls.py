"""A group's catalogue URL pointing into a private or loopback network is refused by the sync's
intake unless ``[sync] allow_private_catalogue_urls`` says so (issue 15, item 7); plain http://
stays loopback-only even then."""

from __future__ import annotations

import shutil
import socket

import pytest
import responses

from connectors.config import load_config
from connectors.state import StateStore
from flows.engine.intake import load_categories, read_group
from flows.engine.runtime import Runtime
from schemas.errors import CatalogueError
from tests.conftest import SAMPLES

CSV = ("Nama Produk,Kategori,Harga,Stok,Berat (kg),Foto 1,Kode\r\n"
       "Tikar Pandan Lipat,Anyaman,85000,10,\"1,2\",https://images.lapakdesa.example/jember/tikar.jpg,TKR-001\r\n")
JEMBER = 'catalogue = "catalogues/jember/anyaman-pandan-sari.csv"'
DNS = {"sheets.local": "192.168.1.20", "docs.google.com": "142.250.4.100"}


@pytest.fixture(autouse=True)
def offline_dns(monkeypatch):
    """Host names as DNS would answer them (HTTP is mocked; the tests run offline)."""
    from connectors.catalogue import download

    def resolve(host, port, proto=0):
        if host not in DNS:
            raise socket.gaierror(f"unknown host {host}")
        return [(socket.AF_INET, socket.SOCK_STREAM, proto, "", (DNS[host], 443))]

    monkeypatch.setattr(download, "resolve", resolve)


def runtime(tmp_path, url: str, *, allow: bool | None) -> Runtime:
    """The samples with Jember's catalogue at ``url``; ``allow``: the setting (None: not written)."""
    work = tmp_path / "w"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = work / "lapak.toml"
    text = cfg.read_text(encoding="utf-8")
    assert JEMBER in text
    text = text.replace(JEMBER, f'catalogue = "{url}"')
    if allow is not None:
        text = text.replace("[stock]", f"[sync]\nallow_private_catalogue_urls = {str(allow).lower()}\n\n[stock]", 1)
    cfg.write_text(text, encoding="utf-8")
    config = load_config(cfg)
    assert config.sync.allow_private_catalogue_urls is bool(allow)
    return Runtime(config=config, store=StateStore(config.state_url), channels={})


def read_jember(rt: Runtime):
    group = next(g for g in rt.config.groups if g.catalogue_is_url)
    return read_group(rt, group, load_categories(None))


@pytest.mark.parametrize("url, says", [
    ("https://sheets.local/katalog.csv", "private or local network"),
    ("http://127.0.0.1:8080/katalog.csv", "plain http:// is not safe"),
])
@pytest.mark.parametrize("allow", [None, False])
@responses.activate
def test_a_private_catalogue_url_is_refused_by_default(tmp_path, url, says, allow):
    served = responses.get(url, body=CSV)
    rt = runtime(tmp_path, url, allow=allow)
    try:
        with pytest.raises(CatalogueError) as err:
            read_jember(rt)
    finally:
        rt.close()
    assert says in err.value.message_en and served.call_count == 0, "refused before any request"


@pytest.mark.parametrize("url", ["https://sheets.local/katalog.csv", "http://127.0.0.1:8080/katalog.csv"])
@responses.activate
def test_a_private_catalogue_url_is_read_when_the_configuration_allows_it(tmp_path, url):
    served = responses.get(url, body=CSV)
    rt = runtime(tmp_path, url, allow=True)
    try:
        cat = read_jember(rt)
    finally:
        rt.close()
    assert served.call_count == 1 and cat.rows_in == 1
    assert [li.name for li in cat.listings] == ["Tikar Pandan Lipat"]


@responses.activate
def test_plain_http_to_a_private_network_stays_refused_when_private_urls_are_allowed(tmp_path):
    served = responses.get("http://sheets.local/katalog.csv", body=CSV)
    rt = runtime(tmp_path, "http://sheets.local/katalog.csv", allow=True)
    try:
        with pytest.raises(CatalogueError, match="plain http"):
            read_jember(rt)
    finally:
        rt.close()
    assert served.call_count == 0
