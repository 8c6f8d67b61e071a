"""Photos as groups have them, end to end: files beside the catalogue, found, prepared (upright, no
GPS), uploaded once through the marketplace's picture upload, and never again while unchanged —
real Prefect flow runs against the sandbox marketplace as a real server."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.test_sync import WRITE_PATHS, writes

SHOP = 479573
HEADER = "Nama Produk,Kategori,Harga,Stok,Berat,Foto 1,Foto 2\n"
GPS = {1: "S", 2: (7.0, 21.0, 36.0), 3: "E", 4: (109.0, 54.0, 0.0)}  # near Wonosobo


def phone_photo(width: int = 1200, height: int = 900, *, colour=(200, 120, 40), rotated: bool = False) -> bytes:
    """A phone-like JPEG: EXIF with GPS (the maker's home) and, ``rotated``, orientation 6."""
    image = Image.new("RGB", (width, height), colour)
    image.paste((30, 30, 160), (0, 0, width // 4, height // 8))  # a mark in the top-left corner
    exif = Image.Exif()
    exif[0x010F] = "Phone Maker"
    exif[0x0112] = 6 if rotated else 1
    exif[0x8825] = GPS
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture()
def shop(tmp_path, monkeypatch):
    """One group on one shop of a fresh sandbox; its catalogue and photos in ``tmp_path/w``."""
    from connectors.sandbox import running_sandbox

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as market:
        work = tmp_path / "w"
        (work / "foto").mkdir(parents=True)
        (work / "foto" / "IMG-20261103-WA0012.jpg").write_bytes(phone_photo(rotated=True))
        (work / "foto" / "kopi.png").write_bytes(_png(800, 800))
        (work / "foto" / "thumb.jpg").write_bytes(phone_photo(200, 150))
        (work / "katalog.csv").write_text(
            HEADER
            + "Manisan Carica,Manisan,15000,40,250 gr,IMG-20261103-WA0012.jpg,\n"
            + "Kopi Bubuk Robusta,Kopi Bubuk,35000,12,200 gr,foto/kopi.png,https://img.example/kopi-2.jpg\n"
            + "Keripik Kecil,Keripik,9000,5,100 gr,thumb.jpg,\n", encoding="utf-8")
        (work / "lapak.toml").write_text("\n".join([
            "[marketplace]", f'api_url = "{market.url}"', f'auth_url = "{market.url}"', f"fs_id = {market.fs_id}",
            f'client_id = "{market.client_id}"', "rate_limit_per_second = 1000",
            "[[groups]]", 'id = "wonosobo-foto"', 'name = "KWT Foto"', f"shop_id = {SHOP}",
            'catalogue = "katalog.csv"']) + "\n", encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        yield market, work


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 140, 90)).save(out, "PNG")
    return out.getvalue()


def sync(work, **kw):
    from flows.sync import sync_catalogues

    return sync_catalogues(config_path=str(work / "lapak.toml"), **kw)


def uploads(market) -> int:
    return sum(p["calls"] for path, p in market.admin.stats()["paths"].items() if path.endswith("/upload"))


def test_photos_are_uploaded_once_upright_without_gps_and_never_again_while_unchanged(prefect_server, shop):
    market, work = shop
    first = sync(work)
    row = first["groups"][0]
    assert (row["listings"], row["rejected"], row["created"], row["photos_uploaded"]) == (2, 1, 2, 2)
    assert first["photos_uploaded"] == 2 and uploads(market) == 2

    # What the marketplace received: upright, no metadata at all (GPS above all).
    pictures = market.admin.pictures()
    assert len(pictures) == 2
    for pic in pictures:
        image = Image.open(io.BytesIO(market.admin.picture(pic["sha256"])))
        assert image.format == "JPEG" and not image.getexif() and "exif" not in image.info
        assert max(image.size) <= 2048
    sizes = {(p["width"], p["height"]) for p in pictures}
    assert (900, 1200) in sizes  # the phone photo, turned upright by its orientation tag

    listed = {p["name"]: [x["file_path"] if isinstance(x, dict) else x for x in p["pictures"]]
              for p in market.admin.products(SHOP)}
    paths = {p["file_path"] for p in pictures}
    assert len(listed["Manisan Carica"]) == 1 and listed["Manisan Carica"][0] in paths
    kopi = listed["Kopi Bubuk Robusta"]
    assert kopi[0] in paths and kopi[1] == "https://img.example/kopi-2.jpg"

    # The thumbnail's row is sent back, saying why, in both languages.
    report = (work / "out" / "rejects" / "wonosobo-foto.csv").read_text(encoding="utf-8-sig")
    assert "200×150" in report and "300×300" in report

    before = writes(market)
    again = sync(work)
    assert again["photos_uploaded"] == 0 and sum(again["writes"].values()) == 0
    assert uploads(market) == 2 and writes(market, before) == dict.fromkeys(WRITE_PATHS, 0)


def test_a_changed_photo_is_one_upload_and_one_picture_edit(prefect_server, shop):
    market, work = shop
    sync(work)
    before = writes(market)
    (work / "foto" / "IMG-20261103-WA0012.jpg").write_bytes(phone_photo(colour=(90, 200, 90), rotated=True))
    changed = sync(work)
    assert changed["photos_uploaded"] == 1 and uploads(market) == 3
    assert changed["writes"] == {"edits": 1, "creates": 0, "reactivate": 0, "prices": 0, "stocks": 0,
                                 "deactivate": 0}
    assert writes(market, before)["/edit"] == 1


def test_a_dry_run_uploads_nothing(prefect_server, shop):
    market, work = shop
    plan = sync(work, dry_run=True)
    assert plan["planned_writes"] == 2 and plan["photos_uploaded"] == 0
    assert uploads(market) == 0 and market.admin.products(SHOP) == []
