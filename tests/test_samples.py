"""The bundled sample catalogues are what samples/EXPECTED.md and expected_rejects.json say they are."""

from __future__ import annotations

import csv
import hashlib
import importlib.util
import io
import json
import sys
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from connectors.config import load_config
from schemas.categories import DEFAULT_CATEGORIES
from schemas.listing import DESCRIPTION_MAX, NAME_MAX

SAMPLES = Path(__file__).resolve().parents[1] / "flows" / "samples"
EXPECTED = json.loads((SAMPLES / "expected_rejects.json").read_text(encoding="utf-8"))
GROUPS = EXPECTED["groups"]
LEAVES = {c.id for c in DEFAULT_CATEGORIES if c.is_leaf}


def _written(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def read_grid(group: dict) -> list[list[str]]:
    """The group's sheet as Excel shows it: row i of the list is spreadsheet row i+1."""
    path = SAMPLES / group["file"]
    if group["format"] == "csv":
        text = path.read_bytes().decode(group["encoding"])
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=group["delimiter"]))
    ws = openpyxl.load_workbook(path)[group["sheet"]]
    return [[_written(v) for v in row] for row in ws.iter_rows(values_only=True)]


def load_generator():
    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------- formats

def test_four_groups_in_the_four_formats():
    formats = {gid: (g["format"], g["encoding"], g["delimiter"]) for gid, g in GROUPS.items()}
    assert sorted(formats.values(), key=str) == sorted([
        ("xlsx", None, None), ("xlsx", None, None), ("csv", "cp1252", ";"), ("csv", "utf-8-sig", ","),
    ], key=str)
    assert {Path(g["file"]).parts[1] for g in GROUPS.values()} == {"wonosobo", "banyuwangi", "jember", "indramayu"}
    for g in GROUPS.values():
        assert (SAMPLES / g["file"]).is_file()


def test_wonosobo_workbook_has_notes_first_and_a_merged_title():
    g = GROUPS["wonosobo-sekar-carica"]
    wb = openpyxl.load_workbook(SAMPLES / g["file"])
    assert wb.sheetnames[0] == "Catatan" and wb.sheetnames[1] == g["sheet"]
    ws = wb[g["sheet"]]
    merged = {str(r) for r in ws.merged_cells.ranges}
    assert any(r.startswith("A1:") for r in merged) and any(r.startswith("A2:") for r in merged)
    assert ws["A1"].value == "Katalog Produk KWT Sekar Carica"
    assert "Wonosobo" in ws["A2"].value and "20 November 2026" in ws["A2"].value
    assert all(c.value is None for c in ws[3]), "a blank row between the subtitle and the header"
    header = [c.value for c in ws[g["header_row"]]]
    assert {"Berat (gr)", "Foto 1", "Foto 2", "Foto 3", "P-IRT"} <= set(header)
    price = header.index("Harga (Rp)") + 1
    kinds = {ws.cell(row=r, column=price).data_type for r in range(g["first_data_row"], ws.max_row + 1)
             if ws.cell(row=r, column=price).value is not None}
    assert kinds == {"n", "s"}, "some prices are numbers, some are text"
    names = [ws.cell(row=r, column=2).value for r in range(g["first_data_row"], ws.max_row + 1)]
    assert any(isinstance(n, str) and n != n.rstrip() for n in names), "a name with trailing spaces"


def test_banyuwangi_csv_is_cp1252_without_bom_and_not_utf8():
    g = GROUPS["banyuwangi-gajah-oling"]
    raw = (SAMPLES / g["file"]).read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("cp1252")
    assert "–" in text and "é" in text and "×" in text
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert b"\r\n" in raw
    lines = text.split("\r\n")
    assert lines[g["header_row"] - 1].startswith("No;Nama Barang;")
    assert "Rp 85.000" in text and "Rp150.000,-" in text and "1,5 jt" in text
    assert "0,5 kg" in text and "2 ons" in text


def test_jember_csv_has_bom_commas_and_a_line_break_inside_a_cell():
    g = GROUPS["jember-pandan-sari"]
    raw = (SAMPLES / g["file"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    grid = read_grid(g)
    assert grid[0][0] == "No" and "Berat (kg)" in grid[0]
    assert any("\n" in cell for row in grid[1:] for cell in row)
    assert len(raw.decode("utf-8-sig").splitlines()) > len(grid), "a record spans several lines"
    assert any("," in cell for row in grid[1:] for cell in row), "quoted cells holding commas"


# The marketplace's bulk-upload workbook, as ../shared/catalogue-formats.md reads it off its public copies.
MARKETPLACE_HEADERS = [
    "Pesan Error", "Nama Produk*", "Deskripsi Produk*", "Kode Kategori*", "Berat* (Gram)", "Minimum Pemesanan*",
    "Nomor Etalase", "Waktu Proses Preorder", "Kondisi*", "Foto Produk 1*", "Foto Produk 2", "Foto Produk 3",
    "Foto Produk 4", "Foto Produk 5", "SKU Name", "Status*", "Jumlah Stok*", "Harga (Rp)*", "Kurir Pengiriman",
    "Asuransi Pengiriman",
]


def test_indramayu_is_the_marketplaces_own_workbook():
    g = GROUPS["indramayu-srikandi-kenanga"]
    assert g["sheet"] == "ISI Template Impor Produk" and (g["header_row"], g["first_data_row"]) == (2, 4)
    wb = openpyxl.load_workbook(SAMPLES / g["file"])
    assert wb.sheetnames[0] == g["sheet"]
    assert {"Daftar Kategori", "Daftar Etalase", "Daftar Kurir Pengiriman"} <= set(wb.sheetnames)
    grid = read_grid(g)
    assert grid[0][0] == "Informasi Produk" and "Informasi SKU" in grid[0], "row 1: the group titles"
    assert grid[1] == MARKETPLACE_HEADERS, "row 2: the headers, in the marketplace's order and spelling"
    assert grid[2][1].startswith("Wajib") and all(grid[2]), "row 3: an instruction for every column"
    col = {h: i for i, h in enumerate(MARKETPLACE_HEADERS)}
    data = grid[3:]
    assert all(row[col["Pesan Error"]] == "" for row in data), "empty on upload"
    assert {row[col["Status*"]] for row in data} == {"Aktif", "Nonaktif"}
    assert all(row[col["Kode Kategori*"]].isdigit() for row in data), "numeric category codes"
    text = " ".join(" ".join(row) for row in data)
    for word in ("15rb", "15 ribu", "habis", "40 pcs"):
        assert word in text

    # Its lists: every category code a leaf of the default tree, named by its levels.
    kategori = [list(row) for row in wb["Daftar Kategori"].iter_rows(values_only=True)]
    assert kategori[0] == ["Kategori Level 1", "Kategori Level 2", "Kategori Level 3", "Kode"]
    assert sorted(row[3] for row in kategori[1:]) == sorted(LEAVES)
    showcases = {str(row[1]) for row in wb["Daftar Etalase"].iter_rows(min_row=2, values_only=True)}
    assert {row[col["Nomor Etalase"]] for row in data} <= showcases
    couriers = {row[2] for row in wb["Daftar Kurir Pengiriman"].iter_rows(min_row=2, values_only=True)}
    assert {c.strip() for row in data for c in row[col["Kurir Pengiriman"]].split(",")} <= couriers


def test_wonosobo_keeps_photos_as_files_in_foto_beside_its_catalogue():
    g = GROUPS["wonosobo-sekar-carica"]
    folder = SAMPLES / g["photo_folder"]
    assert folder == (SAMPLES / g["file"]).parent / "foto", "the default folder: found without configuration"
    files = {f["file"]: f for f in g["photo_files"]}
    on_disk = sorted(p.relative_to(SAMPLES).as_posix() for p in folder.iterdir())
    assert on_disk == sorted(files)
    assert sum((SAMPLES / f).stat().st_size for f in files) < 1_000_000, "the repository stays small"
    for name, f in files.items():
        data = (SAMPLES / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"] and len(data) == f["bytes"]
        with Image.open(SAMPLES / name) as im:
            assert im.format == "JPEG" and list(im.size) == f["stored_size"]
            exif = im.getexif()
            assert exif.get(0x0112) == f["exif_orientation"]
            assert bool(exif.get_ifd(0x8825)) == f["gps"]

    phone = files[f"{g['photo_folder']}/IMG-20261103-WA0012.jpg"]
    assert phone["exif_orientation"] == 6 and phone["gps"], "a rotated phone photo with GPS tags"
    assert phone["stored_size"] == phone["upright_size"][::-1] == [1200, 900]
    with Image.open(SAMPLES / phone["file"]) as im:
        gps = im.getexif().get_ifd(0x8825)
    lat, lon = (sum(float(x) / 60 ** i for i, x in enumerate(gps[k])) for k in (2, 4))
    assert (gps[1], gps[3]) == ("S", "E") and abs(lat - 7.34) < 0.1 and abs(lon - 109.91) < 0.1, "near Wonosobo"
    thumb = files[f"{g['photo_folder']}/IMG-20261105-WA0003.jpg"]
    assert thumb["stored_size"] == [200, 150] and thumb["exif_orientation"] is None

    # The cells name them by file name, by foto/ path, and two names in one cell.
    grid = read_grid(g)
    header = grid[g["header_row"] - 1]
    photo_cols = [i for i, h in enumerate(header) if h.startswith("Foto")]
    cells = [row[i] for row in grid[g["header_row"]:] for i in photo_cols if i < len(row)]
    assert "manisan-carica-250.jpg" in cells and "foto/sambal-bawang-dieng.jpg" in cells
    assert any("," in c and not c.startswith("http") for c in cells), "two file names in one cell"
    assert any(c.startswith("https://") for c in cells), "the other rows keep their links"
    assert all(f["rows"] for f in files.values()), "every photo file is named by a row"


def test_sample_config_loads_and_points_at_the_samples():
    cfg = load_config(SAMPLES / "lapak.toml")
    assert cfg.marketplace.api_url == cfg.marketplace.auth_url == "http://127.0.0.1:8765"
    assert (cfg.marketplace.fs_id, cfg.marketplace.client_id) == (15001, "lapak-demo")
    assert cfg.state.url == "sqlite:///var/lapak.db" and cfg.stock.safety_buffer == 0
    assert [g.id for g in cfg.groups] == list(GROUPS)
    shops = [g.shop_id for g in cfg.groups]
    assert sorted(shops) == [479573, 479574, 479574, 479575]
    for g in cfg.groups:
        assert cfg.path(g.catalogue) == (SAMPLES / GROUPS[g.id]["file"]).resolve()
        assert g.shop_id == GROUPS[g.id]["shop_id"]
    assert cfg.categories and set(cfg.categories.values()) <= LEAVES
    assert not any(g.photos for g in cfg.groups), "Wonosobo's foto/ beside its catalogue is found by default"


# --------------------------------------------------------------------------- expectations vs files

def test_totals_reach_sixty_rows_and_twelve_distinct_reasons():
    t = EXPECTED["totals"]
    assert t["data_rows"] >= 60 and t["distinct_reasons"] >= 12
    assert t["data_rows"] == sum(g["data_rows"] for g in GROUPS.values())
    assert t["rejected_rows"] == sum(len(g["rejects"]) for g in GROUPS.values())
    assert len({r["reason_key"] for g in GROUPS.values() for r in g["rejects"]}) == t["distinct_reasons"]
    assert all(g["rejects"] for g in GROUPS.values()), "every group has rejected rows"
    assert t["inactive_listings"] == sum(not li["active"] for g in GROUPS.values() for li in g["listings"]) >= 1
    photos = {p for g in GROUPS.values() for li in g["listings"] for p in li["pictures"] if p.startswith("photo:")}
    assert t["photos_to_upload"] == len(photos) >= 5


@pytest.mark.parametrize("group_id", list(GROUPS))
def test_rejects_point_at_the_value_as_written(group_id):
    g = GROUPS[group_id]
    grid = read_grid(g)
    header = grid[g["header_row"] - 1]
    for rj in g["rejects"]:
        assert rj["sheet"] == g["sheet"]
        row = grid[rj["row"] - 1]
        assert row[header.index(rj["column"])] == rj["value"], rj


@pytest.mark.parametrize("group_id", list(GROUPS))
def test_every_data_row_is_either_a_listing_or_a_reject(group_id):
    g = GROUPS[group_id]
    grid = read_grid(g)
    data = [i + 1 for i, row in enumerate(grid) if i + 1 >= g["first_data_row"] and any(c.strip() for c in row)]
    blank = [i + 1 for i, row in enumerate(grid) if i + 1 >= g["first_data_row"] and not any(c.strip() for c in row)]
    listed = [li["row"] for li in g["listings"]]
    rejected = [rj["row"] for rj in g["rejects"]]
    assert len(data) == g["data_rows"] == g["expected_listings"] + g["rejected_rows"]
    assert sorted(listed + rejected) == data
    assert blank == g["blank_rows"]


def test_each_reason_is_what_the_value_shows():
    """The rejects are real: names too long are too long, descriptions too, duplicates repeat."""
    by_key = {r["reason_key"]: (gid, r) for gid, g in GROUPS.items() for r in g["rejects"]}
    assert len(by_key["name_too_long"][1]["value"]) > NAME_MAX
    assert len(by_key["description_too_long"][1]["value"]) > DESCRIPTION_MAX
    assert by_key["photo_not_https"][1]["value"].startswith("http://")
    assert by_key["category_not_leaf"][1]["value"] in {c.name for c in DEFAULT_CATEGORIES if not c.is_leaf}
    gid, dup = by_key["duplicate_identical"]
    grid = read_grid(GROUPS[gid])
    assert grid[dup["row"] - 1] == grid[dup["duplicate_of"] - 1]
    conflicting = [r for r in GROUPS["banyuwangi-gajah-oling"]["rejects"] if r["reason_key"] == "duplicate_conflicting"]
    assert len(conflicting) == 2 and conflicting[0]["conflicts_with"] == [conflicting[1]["row"]]
    gid, small = by_key["photo_too_small"]
    (photo,) = [f for f in GROUPS[gid]["photo_files"] if f["file"].endswith("/" + small["value"])]
    assert min(photo["stored_size"]) < 300 and small["row"] in photo["rows"]
    gid, missing = by_key["photo_not_found"]
    folder = (SAMPLES / GROUPS[gid]["file"]).parent
    assert not any(p.name.casefold() == missing["value"].casefold() for p in folder.rglob("*"))


def test_listings_are_within_marketplace_rules():
    for g in GROUPS.values():
        for li in g["listings"]:
            assert li["category_id"] in LEAVES
            assert 100 <= li["price"] <= 100_000_000 and li["stock"] >= 0 and li["weight_g"] > 0
            files = {"photo:" + f["sha256"] for f in g["photo_files"]}
            assert 1 <= len(li["pictures"]) <= 5 and all(p.startswith("https://") or p in files for p in li["pictures"])
            assert 1 <= len(li["name"]) <= NAME_MAX


def test_shared_shop_groups_both_sell_the_same_product_name():
    names = [{li["name"] for li in GROUPS[gid]["listings"]}
             for gid in ("banyuwangi-gajah-oling", "jember-pandan-sari")]
    assert "Kopi Bubuk Robusta 200 gr" in names[0] & names[1]


# --------------------------------------------------------------------------- determinism

def test_generator_rebuilds_byte_identical_csvs_photos_and_expectations(tmp_path):
    load_generator().main(["--out", str(tmp_path)])
    for g in GROUPS.values():  # the photos are drawn by the pinned Pillow: the same bytes, so the same sha256
        for f in g["photo_files"]:
            assert (tmp_path / f["file"]).read_bytes() == (SAMPLES / f["file"]).read_bytes(), f["file"]
    for g in GROUPS.values():
        fresh, committed = tmp_path / g["file"], SAMPLES / g["file"]
        if g["format"] == "csv":
            assert fresh.read_bytes() == committed.read_bytes(), g["file"]
        else:  # zlib builds may differ between machines: compare what a reader sees
            a, b = openpyxl.load_workbook(fresh), openpyxl.load_workbook(committed)
            assert a.sheetnames == b.sheetnames
            for name in a.sheetnames:
                assert list(a[name].values) == list(b[name].values)
    assert (tmp_path / "expected_rejects.json").read_bytes() == (SAMPLES / "expected_rejects.json").read_bytes()
    assert (tmp_path / "EXPECTED.md").read_bytes() == (SAMPLES / "EXPECTED.md").read_bytes()
