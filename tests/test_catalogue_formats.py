"""Catalogue formats as groups bring them: the marketplace's own bulk-upload workbook, ODS from
LibreOffice, scraped lists, snake_case exports, categories written as paths — and every reader
failure, whatever the format, one CatalogueError naming the file."""

from __future__ import annotations

import io
import random
import re
import zipfile
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
import pytest

from connectors.catalogue import CatalogueError, RawCatalogue, read_catalogue
from connectors.catalogue import workbook as workbook_module
from connectors.catalogue.delimited import read_delimited
from connectors.catalogue.workbook import read_workbook
from connectors.sheets import REASON_HEADER, write_rejects_report
from schemas.categories import DEFAULT_CATEGORIES, Category, CategoryIndex
from schemas.normalise import normalise
from tests.test_catalogue_reader import workbook

CATS = CategoryIndex(DEFAULT_CATEGORIES)
PHOTO = "https://i.imgur.com/{}.jpg"

# --- writing test files ----------------------------------------------------------------------------


def xlsx_bytes(sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None) -> bytes:
    """An XLSX (:func:`tests.test_catalogue_reader.workbook`), as bytes."""
    buf = io.BytesIO()
    workbook(buf, sheets, merges=merges)
    return buf.getvalue()


def _ods_cell(value, span: tuple[int, int] | None) -> str:
    attrs = f' table:number-rows-spanned="{span[0]}" table:number-columns-spanned="{span[1]}"' if span else ""
    if value is None:
        return f"<table:table-cell{attrs}/>"
    if isinstance(value, (int, float)):
        return (f'<table:table-cell{attrs} office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return (f'<table:table-cell{attrs} office:value-type="string"><text:p>{escape(str(value))}</text:p>'
            "</table:table-cell>")


def _ods_table(name: str, rows: list[list], merges: list[str]) -> str:
    spans, covered = {}, set()
    for rng in merges:
        (c1, r1, c2, r2) = openpyxl.utils.cell.range_boundaries(rng)
        spans[(r1 - 1, c1 - 1)] = (r2 - r1 + 1, c2 - c1 + 1)
        covered |= {(r, c) for r in range(r1 - 1, r2) for c in range(c1 - 1, c2)} - {(r1 - 1, c1 - 1)}
    out = [f'<table:table table:name="{escape(name)}">']
    for r, row in enumerate(rows):
        width = max([len(row)] + [c + 1 for (rr, c) in covered | set(spans) if rr == r])
        cells = [("<table:covered-table-cell/>" if (r, c) in covered
                  else _ods_cell(row[c] if c < len(row) else None, spans.get((r, c)))) for c in range(width)]
        out.append("<table:table-row>" + "".join(cells) + "</table:table-row>")
    return "".join(out) + "</table:table>"


def ods_bytes(sheets: dict[str, list[list]], merges: dict[str, list[str]] | None = None,
              content: str | None = None) -> bytes:
    """An ODS as LibreOffice Calc writes one (mimetype first and stored, content.xml, manifest),
    written by hand: no ODS writer is a dependency of the project."""
    body = "".join(_ods_table(n, rows, (merges or {}).get(n, [])) for n, rows in sheets.items())
    xml = content or (
        '<?xml version="1.0" encoding="UTF-8"?><office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f"<office:body><office:spreadsheet>{body}</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")  # stored, first
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", xml, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def records(raw: RawCatalogue, *cols: str) -> list[tuple]:
    f = raw.frame.astype(object).where(raw.frame.notna(), None)
    return [tuple(r) for r in f[["sheet", "row", *cols]].itertuples(index=False)]


def intake(raw: RawCatalogue, group: str = "kwt-uji"):
    return normalise(raw.frame, group_id=group, file=raw.file, categories=CATS, headers=raw.headers, units=raw.units)


# --- the marketplace's own workbook ---------------------------------------------------------------

TEMPLATE_HEADERS = [
    "Pesan Error", "Nama Produk*", "Deskripsi Produk*", "Kode Kategori*", "Berat* (Gram)", "Minimum Pemesanan*",
    "Nomor Etalase", "Waktu Proses Preorder", "Kondisi*", "Foto Produk 1*", "Foto Produk 2", "Foto Produk 3",
    "Foto Produk 4", "Foto Produk 5", "SKU Name", "Status*", "Jumlah Stok*", "Harga (Rp)*", "Kurir Pengiriman",
    "Asuransi Pengiriman",
]
EXAMPLE_HEADERS = [
    "Error Message", "Nama Produk*", "Deskripsi Produk", "Kategori Kode*", "Berat* (Gram)", "Minimum Pemesanan *",
    "Nomor Etalase", "Waktu Proses Preorder", "Kondisi*", "Gambar 1*", "Gambar 2", "Gambar 3", "Gambar 4",
    "Gambar 5", "URL Video Produk 1", "URL Video Produk 2", "URL Video Produk 3", "SKU Name", "Status*",
    "Jumlah Stok*", "Harga (Rp)*", "Asuransi Pengiriman",
]
# Row 3: the marketplace's guidance for each column (paraphrased), keyed by the header's start.
GUIDANCE = {
    "Pesan": "Abaikan kolom ini, akan terisi pesan kesalahan setelah upload",
    "Error": "Abaikan kolom ini, akan terisi pesan kesalahan setelah upload",
    "Nama": "Masukkan nama produk, maks. 70 karakter; nama tidak bisa diubah setelah terjual",
    "Deskripsi": "Masukkan deskripsi produk yang jelas, maks. 2000 karakter",
    "Kode": "Pilih kode kategori dari sheet Daftar Kategori",
    "Kategori": "Pilih kode kategori dari sheet Daftar Kategori",
    "Berat": "Masukan berat dalam gram, angka saja tanpa titik atau koma",
    "Minimum": "Tentukan jumlah minimum pemesanan, jika kosong otomatis 1",
    "Nomor": "(Opsional) Masukkan kode etalase dari sheet Daftar Etalase",
    "Waktu": "(Opsional) Isi jumlah hari proses preorder",
    "Kondisi": "Pilih kondisi: Baru atau Bekas, jika kosong otomatis Baru",
    "Foto": "Masukkan link foto produk (unggah dulu ke situs penyimpan gambar), minimal 300x300",
    "Gambar": "Masukkan link foto produk (unggah dulu ke situs penyimpan gambar), minimal 300x300",
    "URL": "(Opsional) Tambahkan link video Youtube",
    "SKU": "(Opsional) Masukkan SKU maks. 50 karakter",
    "Status": "Pilih status: Aktif atau Nonaktif, jika kosong otomatis Aktif",
    "Jumlah": "Isi jumlah stok dengan angka, tanpa titik atau koma",
    "Harga": "Masukkan harga dalam rupiah, angka saja, minimal 100",
    "Kurir": "(Opsional) Pilih kurir dari sheet Daftar Kurir Pengiriman",
    "Asuransi": "Pilih: Ya atau Opsional, jika kosong otomatis Ya",
}


def _key(header: str) -> str:
    """``Harga (Rp)*`` → ``harga``, ``Foto Produk 1*`` → ``foto1``: the first word, and the number of a numbered one."""
    number = re.search(r"(\d)\*?$", header)
    return header.split()[0].rstrip("*").lower() + (number.group(1) if number else "")


def product_row(headers: list[str], **values) -> list:
    """A row under ``headers``, values named by :func:`_key` (``nama``, ``harga``, ``foto1`` …)."""
    return [values.get(_key(h)) for h in headers]


def marketplace_workbook(headers: list[str], sheet: str = "ISI Template Impor Produk") -> dict[str, list[list]]:
    photo = "foto1" if "Foto Produk 1*" in headers else "gambar1"
    rows = [
        ["Informasi Produk"] + [None] * 13 + ["Informasi SKU"],
        headers,
        [next(v for k, v in GUIDANCE.items() if h.startswith(k)) for h in headers],
        product_row(headers, nama="Keripik Singkong Balado", deskripsi="Renyah, pedas manis", kode=101, kategori=101,
                    berat=250, minimum=2, kondisi="Baru", sku="KRP-001", status="Aktif", jumlah=40, harga=15000,
                    **{photo: PHOTO.format("krp")}, nomor="12345", asuransi="Ya"),
        product_row(headers, nama="Tas Anyaman Pandan", deskripsi="Anyaman tangan", kode="302", kategori="302",
                    berat="1200", minimum=None, kondisi="Bekas", sku="TAS-07", status="Nonaktif", jumlah="3",
                    harga="Rp 85.000", **{photo: PHOTO.format("tas")}, kurir="jne, sicepat"),
        [],
        product_row(headers, asuransi="Ya", kurir="jne"),  # the marketplace's defaults dragged down: blank
    ]
    example = [["Contoh pengisian"], EXAMPLE_HEADERS,
               product_row(EXAMPLE_HEADERS, nama="Sepatu Lari Pria", kategori=1759, berat=800, jumlah=10,
                           harga=350000, gambar1=PHOTO.format("sepatu"))]
    return {
        sheet: rows,
        "Contoh Pengisian": example,
        "Daftar Kategori": [["Kategori Level 1", "Kategori Level 2", "Kategori Level 3", "Kode"],
                            ["Makanan & Minuman", "Makanan Ringan", "Keripik", 101]],
        "Daftar Etalase": [["Nama Etalase", "Kode Etalase"], ["Camilan", 12345]],
        "Daftar Kurir Pengiriman": [["Kurir", "Layanan", "Kode"], ["JNE", "REG", "jne"]],
    }


@pytest.mark.parametrize("headers, sheet", [(TEMPLATE_HEADERS, "ISI Template Impor Produk"),
                                            (EXAMPLE_HEADERS, "products")], ids=["template", "example-spelling"])
def test_the_marketplace_workbook_gives_its_filled_rows_as_listings(tmp_path, headers, sheet):
    path = tmp_path / "tambah-sekaligus.xlsx"
    path.write_bytes(xlsx_bytes(marketplace_workbook(headers, sheet), {sheet: ["A1:N1"]}))
    raw = read_catalogue(path)

    assert raw.header_rows == {sheet: 2}, "only the product sheet: not the lists, not the example sheet"
    assert raw.unknown_columns == {sheet: []}, "every marketplace column is recognised"
    assert records(raw, "name", "category", "price", "stock", "weight", "min_order", "condition", "sku",
                   "status", "photo_1") == [
        (sheet, 4, "Keripik Singkong Balado", "101", "15000", "40", "250", "2", "Baru", "KRP-001", "Aktif",
         PHOTO.format("krp")),
        (sheet, 5, "Tas Anyaman Pandan", "302", "Rp 85.000", "3", "1200", None, "Bekas", "TAS-07", "Nonaktif",
         PHOTO.format("tas")),
    ], "row 3's instructions are no product; a row of dragged-down defaults is blank"
    assert raw.units[sheet] == {"price": "rp", "weight": "g"}
    assert {"photo_1", "photo_5"} <= set(raw.frame.columns)
    unused = {"error_message", "showcase", "preorder", "courier", "insurance", "video"}
    assert not unused & set(raw.frame.columns), "columns the project does not use never become product data"

    result = intake(raw)
    assert result.rejected_rows == 0, result.rejects.to_dict("records")
    got = result.listings.set_index("name")
    assert got.loc["Keripik Singkong Balado", ["category_id", "price", "stock", "weight_g", "min_order", "condition"]
                   ].tolist() == [101, 15000, 40, 250, 2, "NEW"]
    assert got.loc["Tas Anyaman Pandan", ["category_id", "price", "weight_g", "min_order", "condition"]
                   ].tolist() == [302, 85000, 1200, 1, "USED"]
    assert "-KRP-001-" in got.loc["Keripik Singkong Balado", "sku"], "SKU Name is the group's own code"


def test_an_example_sheet_alone_is_read_and_list_sheets_never_are(tmp_path):
    rows = [["Nama Produk", "Harga", "Stok"], ["Kopi Bubuk", "25000", "9"]]
    path = tmp_path / "k.xlsx"
    path.write_bytes(xlsx_bytes({"Contoh Katalog": rows, "Daftar Etalase": rows, "daftar  kategori": rows}))
    raw = read_catalogue(path)
    assert list(raw.header_rows) == ["Contoh Katalog"], "a group's only sheet, whatever its name, is read"


def test_an_unknown_field_in_the_raw_frame_does_not_break_the_normaliser():
    frame = pd.DataFrame([dict(sheet="S", row=2, name="Kopi Bubuk", category="Kopi Bubuk", price="25000", stock="9",
                               weight="200", photo_1=PHOTO.format("kopi"), status="Aktif", field_of_tomorrow="x")],
                         dtype="string[pyarrow]").astype({"row": "int64"})
    result = normalise(frame, group_id="g", file="f.xlsx", categories=CATS)
    assert (len(result.listings), result.rejected_rows) == (1, 0)


# --- headers as met --------------------------------------------------------------------------------

def test_a_scraped_list_with_produk_and_harga_normal(tmp_path):
    path = tmp_path / "hasil-scrape.csv"
    path.write_text("No,Produk,Harga Normal,Harga Diskon,Terjual,Stok,Kategori,Berat,Gambar\n"
                    f"1,Keripik Tempe,Rp18.000,Rp15.000,120,30,Keripik,200 gr,{PHOTO.format('t')}\n", encoding="utf-8")
    raw = read_catalogue(path)
    assert records(raw, "name", "price") == [("hasil-scrape", 2, "Keripik Tempe", "Rp18.000")]
    assert raw.headers["hasil-scrape"]["price"] == "Harga Normal"
    assert raw.unknown_columns["hasil-scrape"] == ["Harga Diskon", "Terjual"], "the discount price is not the price"
    assert intake(raw).listings["price"].tolist() == [18000]


def test_snake_case_headers(tmp_path):
    path = tmp_path / "ekspor.csv"
    path.write_text("nama_produk,kategori,harga,stok,berat_gram,deskripsi,url_gambar_1,url_gambar_2\n"
                    f"Sambal Roa,Sambal,22000,15,0250,Pedas,{PHOTO.format('s1')},{PHOTO.format('s2')}\n",
                    encoding="utf-8")
    raw = read_catalogue(path)
    assert records(raw, "name", "category", "price", "stock", "weight", "description", "photo_1", "photo_2") == [
        ("ekspor", 2, "Sambal Roa", "Sambal", "22000", "15", "0250", "Pedas", PHOTO.format("s1"), PHOTO.format("s2"))]
    assert raw.units["ekspor"] == {"weight": "g"}
    assert intake(raw).listings[["category_id", "weight_g"]].values.tolist() == [[104, 250]]


# --- categories written as paths -------------------------------------------------------------------

@pytest.mark.parametrize("text, leaf", [
    ("Makanan & Minuman > Makanan Ringan > Keripik", 101),
    ("Makanan & Minuman / Sambal", 104),
    ("Kerajinan Tangan » Anyaman", 301),
    ("Tekstil & Fashion › Batik Tulis", 201),
    ("  Kesehatan >  masker kain ", 401),
    ("Makanan & Minuman > Makanan Ringan", 107),   # a leaf may be another leaf's neighbour in a path
    ("101", 101), ("302", 302),                    # the marketplace workbook's Kode Kategori
])
def test_a_category_path_matches_on_its_last_part(text, leaf):
    assert CATS.lookup(text) == (leaf, None, [])


def test_a_path_matches_on_its_last_two_parts_joined_when_the_leaf_name_holds_a_separator():
    tree = [Category(id=1, name="Fashion", is_leaf=False),
            Category(id=11, name="Aksesoris Rambut / Jepit", parent_id=1, is_leaf=True)]
    index = CategoryIndex(tree)
    assert index.lookup("Aksesoris Rambut / Jepit")[0] == 11
    assert index.lookup("Fashion > Aksesoris Rambut / Jepit")[0] == 11
    assert index.lookup("Fashion › Aksesoris Rambut › Jepit")[0] == 11


@pytest.mark.parametrize("text, code, suggestions", [
    # Nothing in the tree fits, and none of its words is close to a leaf: no random leaves.
    ("Otomotif > Suku Cadang Mobil > Sistem Kemudi", "unknown", []),
    # Suggestions come from the part not understood ("Kripik Pedas"), not from the whole string.
    ("Makanan & Minuman > Kripik Pedas", "unknown", ["Keripik"]),
    ("Kerajinan Tangan > Dekorasi", "unknown", ["Dekorasi Rumah"]),
    ("Fashion > Batik", "unknown", ["Batik Tulis", "Batik Cap"]),
    # A parent understood, its leaf not: the parent's leaves.
    ("Kesehatan > Obat Herbal", "not_leaf", ["Masker Kain", "Masker Medis", "Alat Pelindung Diri"]),
    # A leaf named higher up the path is offered after what is close to the last part.
    ("Makanan Ringan > Keripik Pisang Coklat", "unknown", ["Keripik", "Makanan Ringan"]),
    ("9999", "unknown", []),                      # a code that is no category's
    ("4", "not_leaf", ["Masker Kain", "Masker Medis", "Alat Pelindung Diri"]),   # a parent's code
])
def test_an_unmatched_path_suggests_from_the_parts_not_understood(text, code, suggestions):
    assert CATS.lookup(text) == (None, code, suggestions)


def test_the_reject_for_a_category_from_another_marketplace_says_so():
    frame = pd.DataFrame([dict(sheet="S", row=2, name="Setir Mobil", category="Otomotif > Suku Cadang Mobil > "
                               "Sistem Kemudi", price="250000", stock="2", weight="1 kg", photo_1=PHOTO.format("x"))],
                         dtype="string[pyarrow]").astype({"row": "int64"})
    result = normalise(frame, group_id="g", file="f.xlsx", categories=CATS)
    line = result.rejects.iloc[0]
    assert line["reason_en"].startswith("Unknown category: not one of the marketplace's categories")
    assert "Closest" not in line["reason_en"] and "bukan salah satu kategori marketplace" in line["reason_id"]


# --- ODS read like XLSX ----------------------------------------------------------------------------

CATALOGUE = {
    "Petunjuk": [["Isi katalog di lembar Produk"]],
    "Produk": [
        ["Katalog Produk KWT Sekar Carica"],
        [],
        ["No", "Nama Produk", "Kategori", "Harga (Rp)", "Stok", "Berat (kg)", "Foto", None],
        [1, "Manisan Carica", "Manisan", 15000, 40, 0.25, PHOTO.format("c1"), PHOTO.format("c2")],
        [2, "Keripik Jamur", "Keripik", "Rp 12.500", "habis", "0,5", PHOTO.format("j"), None],
        [3, "Keripik Kentang", None, 9000.0, 7, 0.1, PHOTO.format("k"), None],
        [4, "Sirup Carica", "Minuman", "", 5, 1, PHOTO.format("s"), None],
    ],
}
MERGES = {"Produk": ["A1:H1", "G3:H3", "C5:C6"]}   # title, a photo header over two columns, a category down


def test_an_ods_catalogue_gives_the_same_listings_as_the_same_xlsx(tmp_path):
    (tmp_path / "katalog.xlsx").write_bytes(xlsx_bytes(CATALOGUE, MERGES))
    (tmp_path / "katalog.ods").write_bytes(ods_bytes(CATALOGUE, MERGES))
    xlsx, ods = read_catalogue(tmp_path / "katalog.xlsx"), read_catalogue(tmp_path / "katalog.ods")

    assert ods.header_rows == xlsx.header_rows == {"Produk": 3}
    pd.testing.assert_frame_equal(ods.frame, xlsx.frame)
    assert ods.headers == xlsx.headers and ods.units == xlsx.units
    assert records(ods, "category", "photo_2")[2] == ("Produk", 6, "Keripik", None), "merged category filled down"
    a, b = intake(xlsx), intake(ods)
    pd.testing.assert_frame_equal(a.listings, b.listings)
    pd.testing.assert_frame_equal(a.rejects.drop(columns="file"), b.rejects.drop(columns="file"))
    assert (len(b.listings), b.rejected_rows) == (3, 1)
    pd.testing.assert_frame_equal(ods.grids["Produk"], xlsx.grids["Produk"])


def test_an_ods_repeating_a_cell_millions_of_times_is_refused_before_it_is_read(tmp_path):
    plain = ods_bytes({"S": [["Nama Produk", "Harga"], ["Kopi", 15000]]})
    content = zipfile.ZipFile(io.BytesIO(plain)).read("content.xml").decode()
    bomb = ('<table:table-row table:number-rows-repeated="100000"><table:table-cell '
            'table:number-columns-repeated="1000" office:value-type="string"><text:p>x</text:p>'
            "</table:table-cell></table:table-row>")
    path = tmp_path / "bom.ods"
    path.write_bytes(ods_bytes({}, content=content.replace("</table:table>", bomb + "</table:table>")))
    with pytest.raises(CatalogueError) as err:
        read_catalogue(path)
    assert err.value.file == "bom.ods" and "far outside the table (as far as cell ALL100002)" in err.value.message_en


# --- every reader failure is one CatalogueError naming the file -------------------------------------

GOOD = {"Produk": [["Nama Produk", "Harga", "Stok"], ["Kopi", 15000, 3], ["Teh", 5000, 9]]}
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _mutations(data: bytes, seed: int, n: int = 25) -> list[bytes]:
    """Damaged copies of a file: cut short, bytes overwritten, bytes inserted."""
    rng = random.Random(seed)
    out = [data[: len(data) // 2], data[:40], data[:-1]]
    for _ in range(n):
        d = bytearray(data)
        for _ in range(rng.randint(1, 8)):
            d[rng.randrange(len(d))] = rng.randrange(256)
        p = rng.randrange(len(d))
        d[p:p] = bytes(rng.randrange(256) for _ in range(rng.randint(0, 16)))
        out.append(bytes(d))
    return out


def _broken_ods() -> list[bytes]:
    return [ods_bytes(GOOD, content="<office:document-content><table:table"),          # cut XML
            ods_bytes(GOOD, content="Nama Produk;Harga"),                                 # not XML
            ods_bytes({}, content='<?xml version="1.0"?><d xmlns:table="urn:oasis:names:tc:opendocument:xmlns:'
                      'table:1.0"><table:table table:name="S"><table:table-row table:number-rows-repeated="x"/>'
                      "</table:table></d>")]                                              # a repeat that is no number


MALFORMED = {
    "xlsx": _mutations(xlsx_bytes(GOOD), 1) + [b"PK\x03\x04" + bytes(200), b"PK\x05\x06" + bytes(18)],
    "ods": _mutations(ods_bytes(GOOD), 2) + _broken_ods(),
    "xls": [OLE, OLE + bytes(600), OLE + bytes(range(256)) * 8, OLE + b"\xff" * 4096],
    "csv": [b"Nama Produk;Harga\n\"Kopi;15000\nTeh;5000\n", b"Nama Produk,Harga\nKopi\x00,1\n" + b"\x00" * 300,
            bytes(range(256)) * 8, b"\xff\xfe" + "Nama Produk\tHarga\n".encode("utf-16-le")[:-1],
            b"Nama Produk,Harga\n" + b"\"" * 70000, b"\xef\xbb\xbf"],
}


@pytest.mark.parametrize("fmt", sorted(MALFORMED))
def test_malformed_bytes_of_every_format_give_a_catalogue_error_naming_the_file(tmp_path, fmt):
    own_reader = (lambda data, name: read_delimited(data, name, "S")) if fmt == "csv" else read_workbook
    for i, data in enumerate(MALFORMED[fmt]):
        name = f"rusak-{i}.{fmt}"
        (tmp_path / name).write_bytes(data)
        for read, arg in ((read_catalogue, tmp_path / name), (own_reader, data)):
            try:
                read(arg, name) if read is own_reader else read(arg)
            except CatalogueError as err:
                assert err.file == name and str(err).startswith(f"{name}: ") and "\n" not in str(err)
                assert err.message_id and err.message_en
                # Each of these is foreseen and said specifically, not left to the readers' catch-all.
                assert "unexpected" not in err.message_en, err
            # A damaged copy may still read (a changed value): then it is rows, never a raw exception.


@pytest.mark.parametrize("fmt", ["xlsx", "ods", "csv"])
def test_an_unforeseen_failure_inside_a_reader_is_still_one_line_naming_the_file(tmp_path, monkeypatch, fmt, caplog):
    def broken(*_args, **_kwargs):
        raise TypeError("'NoneType' object is not iterable")

    monkeypatch.setattr(workbook_module, "find_header", broken)
    monkeypatch.setattr("connectors.catalogue.delimited.find_header", broken)
    path = tmp_path / f"katalog.{fmt}"
    path.write_bytes({"xlsx": xlsx_bytes, "ods": ods_bytes}[fmt](GOOD) if fmt != "csv"
                     else b"Nama Produk;Harga\nKopi;15000\n")
    with pytest.raises(CatalogueError) as err:
        read_catalogue(path)
    assert err.value.file == f"katalog.{fmt}"
    assert "unexpected TypeError" in err.value.message_en and "tidak bisa dibaca" in err.value.message_id
    assert "NoneType" not in str(err.value), "the operator's line holds no Python internals"
    assert "NoneType" in caplog.text, "the traceback is in the log"


# --- the annotated copy writes into the workbook's own Pesan Error column ----------------------------

@pytest.mark.parametrize("headers", [TEMPLATE_HEADERS, EXAMPLE_HEADERS], ids=["Pesan Error", "Error Message"])
def test_reasons_go_into_the_workbooks_own_error_column(tmp_path, headers):
    sheets = marketplace_workbook(headers)
    sheets["ISI Template Impor Produk"][4][headers.index("Harga (Rp)*")] = "nego"     # row 5: rejected
    path = tmp_path / "tambah-sekaligus.xlsx"
    path.write_bytes(xlsx_bytes(sheets))
    raw = read_catalogue(path)
    result = intake(raw)
    assert result.rejected_rows == 1
    xlsx, _ = write_rejects_report(tmp_path, "kwt-uji", result.rejects, raw.grids, raw.header_rows)

    ws = openpyxl.load_workbook(xlsx)["ISI Template Impor Produk"]
    grid = [[c.value for c in row] for row in ws.iter_rows()]
    assert ws.max_column == len(headers) and grid[1] == headers, "the header row as written: no column added"
    assert grid[2][0] == GUIDANCE[headers[0].split()[0]], "the instruction row is left as it was"
    assert grid[4][0].startswith("Harga (Rp)*: Harga bukan angka") and "Price is not a number" in grid[4][0]
    assert grid[3][0] is None, "a listed row's error cell stays empty"
    assert ws.cell(row=5, column=1).fill.fgColor.rgb.endswith("FFC7CE")
    assert REASON_HEADER not in {v for row in grid for v in row}
    summary = [v for row in openpyxl.load_workbook(xlsx).worksheets[0].iter_rows(values_only=True) for v in row if v]
    assert any(f"kolom '{headers[0]}'" in str(v) for v in summary), "the summary says where the reasons are"


def test_the_rejects_report_points_at_each_bad_cell_of_a_checked_catalogue(tmp_path):
    """``lapak check`` on a group's CSV: each bad cell coloured, its reason in a comment."""
    from flows.engine.check import check_file

    (tmp_path / "katalog-uji.csv").write_text(
        "Nama Produk;Kategori;Harga;Stok;Berat;Foto 1\n"
        "Keripik Pisang;Keripik;15000;10;250 gr;https://img.example/a.jpg\n"
        "Keripik Talas;Keripik;nego;5;1 toples;https://img.example/b.jpg\n"
        "Radio Transistor;Elektronik;90000;2;500 gr;https://img.example/c.jpg\n", encoding="utf-8")
    checked = check_file(tmp_path / "katalog-uji.csv", None, tmp_path / "out")
    ws = openpyxl.load_workbook(checked.report_xlsx)["katalog-uji"]
    comments = {c.coordinate: c.comment for row in ws.iter_rows() for c in row if c.comment is not None}
    assert sorted(comments) == ["B4", "C3", "E3"], "row 3's price and weight, row 4's category"
    price, weight, category = comments["C3"], comments["E3"], comments["B4"]
    assert price.text.startswith("Harga bukan angka") and "\nPrice is not a number" in price.text
    assert weight.text.startswith("Berat tidak terbaca") and "\nWeight cannot be read" in weight.text
    assert category.text.startswith("Kategori tidak dikenal") and "\nUnknown category" in category.text
    assert {c.author for c in comments.values()} == {"Lapak Desa"}
    row_fill, cell_fill = (ws[a].fill.fgColor.rgb[-6:] for a in ("A3", "C3"))
    assert row_fill == "FFC7CE" and cell_fill == ws["E3"].fill.fgColor.rgb[-6:] == ws["B4"].fill.fgColor.rgb[-6:]
    assert cell_fill != row_fill and ws["A2"].fill.fill_type is None


def test_lapak_check_lists_the_filled_rows_of_the_marketplace_workbook_and_of_an_ods(tmp_path, capsys):
    """As a facilitator runs it: ``lapak check`` on the bundled marketplace workbook, and on an ODS."""
    from flows.cli import main
    from tests.conftest import SAMPLES

    sample = SAMPLES / "catalogues" / "indramayu" / "srikandi-kenanga.xlsx"
    assert main(["check", str(sample), "--out", str(tmp_path / "out")]) == 0
    lines = capsys.readouterr().out.splitlines()
    listed = [line for line in lines if line.startswith("✓ ISI Template Impor Produk baris/row ")]
    assert len(listed) == 12 and lines[-1] == "16 rows: 12 listings, 4 rejected"

    (tmp_path / "katalog.ods").write_bytes(ods_bytes(CATALOGUE, MERGES))
    assert main(["check", str(tmp_path / "katalog.ods"), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("✓ Produk baris/row ") for line in out) == 3 and out[-1].endswith(
        "3 listings, 1 rejected")


def test_lapak_check_as_a_group_gives_that_groups_skus(tmp_path, capsys):
    """``lapak check FILE --config F --group ID`` (../shared/interface.md): the SKUs the sync makes."""
    import shutil

    from flows.cli import main
    from tests.conftest import SAMPLES

    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
    copy = tmp_path / "elsewhere.csv"
    shutil.copy(tmp_path / "w" / "catalogues" / "jember" / "anyaman-pandan-sari.csv", copy)
    assert main(["check", str(copy), "--config", str(tmp_path / "w" / "lapak.toml"),
                 "--group", "jember-pandan-sari", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "— jember-pandan-sari" in out and "→ JEMBER-PANDAN-SA-" in out
