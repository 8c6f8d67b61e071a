"""An unchanged catalogue is not read and normalised again; anything its intake depends on changing
makes it read again (flows/engine/intake_cache.py)."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from PIL import Image

import flows.engine.intake as intake
import flows.engine.intake_cache as intake_cache
from connectors.config import load_config
from flows.engine.intake import read_group
from schemas.categories import DEFAULT_CATEGORIES, CategoryIndex
from schemas.dates import WIB

HEADER = "No;Nama Produk;Kategori;Harga;Stok;Berat;Deskripsi;Foto 1"
ROWS = ["1;Keripik Carica Manis;Keripik;Rp 25.000;40;250 gr;Keripik carica dari Dieng.;foto/carica.jpg",
        "2;Sirup Carica Asli;carica;Rp 35.000;12;600 gr;Sirup carica segar.;foto/sirup.jpg"]


def jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), colour).save(out, "JPEG")
    return out.getvalue()


def write_catalogue(folder, rows=ROWS, title="Katalog KWT Mawar;;;;;;;") -> None:
    (folder / "mawar.csv").write_text("\n".join([title, HEADER, *rows]) + "\n", encoding="utf-8")


@pytest.fixture()
def world(tmp_path, monkeypatch):
    """A one-group configuration, its CSV catalogue with two photos beside it, and a counter of reads."""
    (tmp_path / "katalog" / "foto").mkdir(parents=True)
    write_catalogue(tmp_path / "katalog")
    (tmp_path / "katalog" / "foto" / "carica.jpg").write_bytes(jpeg((200, 120, 0)))
    (tmp_path / "katalog" / "foto" / "sirup.jpg").write_bytes(jpeg((240, 200, 10)))
    (tmp_path / "lapak.toml").write_text("""
[marketplace]
api_url = "http://127.0.0.1:9"
auth_url = "http://127.0.0.1:9"
fs_id = 15001
client_id = "lapak-test"

[state]
url = "sqlite:///var/lapak.db"

[output]
dir = "out"

[[groups]]
id = "wonosobo-mawar"
name = "KWT Mawar"
village = "Desa Sembungan"
regency = "Wonosobo"
shop_id = 479573
catalogue = "katalog/mawar.csv"

[categories]
"carica" = 102
""", encoding="utf-8")
    reads = []
    real = intake.read_catalogue
    monkeypatch.setattr(intake, "read_catalogue", lambda source, **kw: reads.append(source) or real(source, **kw))

    def read(config=None):
        config = config or load_config(tmp_path / "lapak.toml")
        rt = SimpleNamespace(config=config)
        return read_group(rt, config.groups[0], CategoryIndex(DEFAULT_CATEGORIES, config.categories))

    return SimpleNamespace(root=tmp_path, folder=tmp_path / "katalog", reads=reads, read=read)


def test_an_unchanged_catalogue_is_not_read_again_and_hands_on_the_same_listings(world):
    first = world.read()
    assert len(world.reads) == 1 and len(first.listings) == 2 and first.rejected == 0
    again = world.read()
    assert len(world.reads) == 1, "read again though nothing changed"
    assert again.listings == first.listings and again.fingerprint == first.fingerprint
    assert (again.rows_in, again.rejected, again.report_xlsx) == (first.rows_in, first.rejected, first.report_xlsx)
    assert again.saved == first.saved and again.group == first.group


def test_a_changed_byte_of_the_catalogue_reads_it_again(world):
    first = world.read()
    write_catalogue(world.folder, [ROWS[0].replace("Rp 25.000", "Rp 26.000"), ROWS[1]])
    changed = world.read()
    assert len(world.reads) == 2
    assert {x.price for x in changed.listings} == {26_000, 35_000} != {x.price for x in first.listings}
    world.read()
    assert len(world.reads) == 2, "the new content is remembered in turn"


def test_a_changed_photo_file_reads_it_again(world):
    first = world.read()
    (world.folder / "foto" / "sirup.jpg").write_bytes(jpeg((10, 90, 200)))  # same name, another picture
    changed = world.read()
    assert len(world.reads) == 2
    assert changed.listings[1].pictures != first.listings[1].pictures
    (world.folder / "foto" / "carica.jpg").unlink()  # a photo gone: its row becomes a reject
    assert world.read().rejected == 1 and len(world.reads) == 3


def test_a_changed_alias_or_group_config_reads_it_again(world):
    world.read()
    config = load_config(world.root / "lapak.toml")
    world.read(config.model_copy(update={"categories": {"carica": 101}}))
    assert len(world.reads) == 2, "another alias may map the rows elsewhere"
    renamed = config.groups[0].model_copy(update={"name": "KWT Mawar Merah"})
    world.read(config.model_copy(update={"groups": [renamed]}))
    assert len(world.reads) == 3, "the group's configuration is part of what its intake made"


def test_a_stock_date_still_to_come_is_read_again_the_next_day(world, monkeypatch):
    today = datetime.now(WIB).date()
    soon = today + timedelta(days=1)
    write_catalogue(world.folder, title=f"Stok per {soon:%d/%m/%Y};;;;;;;")
    early = world.read()
    assert early.stated is None and early.warnings == 1, "a date to come is not used (yet)"
    world.read()
    assert len(world.reads) == 1, "the same day: nothing changed"

    class Tomorrow(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=1)

    monkeypatch.setattr(intake_cache, "datetime", Tomorrow)
    monkeypatch.setattr(intake, "datetime", Tomorrow)
    later = world.read()
    assert len(world.reads) == 2 and later.stated is not None and later.stated.on == soon


def test_a_stock_date_already_past_stays_remembered_the_next_day(world, monkeypatch):
    write_catalogue(world.folder, title="Stok per 02/01/2026;;;;;;;")
    assert world.read().stated.on == date(2026, 1, 2)

    class Tomorrow(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(days=1)

    monkeypatch.setattr(intake_cache, "datetime", Tomorrow)
    world.read()
    assert len(world.reads) == 1


def test_a_corrupt_cache_file_or_a_missing_report_is_a_read_not_a_crash(world):
    first = world.read()
    cache = world.root / "out" / ".cache" / "intake" / "wonosobo-mawar.pickle"
    assert cache.exists()
    cache.write_bytes(b"\x80\x05not a pickle at all")
    assert world.read().listings == first.listings and len(world.reads) == 2
    world.read()
    assert len(world.reads) == 2, "the cache was written again"
    (world.root / "out" / "rejects" / "wonosobo-mawar.xlsx").unlink()
    world.read()
    assert len(world.reads) == 3 and (world.root / "out" / "rejects" / "wonosobo-mawar.xlsx").exists()
