"""Generate the bundled sample catalogues and what the intake must make of them.

Run from the repository root:  ``.venv/bin/python flows/samples/make_samples.py [--out DIR]``

Writes, under ``DIR`` (default: this folder):
- ``catalogues/<regency>/<file>``: four village groups' catalogues in the formats real groups
  send (see ../shared/catalogue-formats.md): an Excel workbook with a notes sheet and a merged
  title, an Excel-Indonesian ``;`` CSV in cp1252, a Google-Sheets ``,`` CSV with BOM, and the
  marketplace's own bulk-upload workbook ("Tambah Produk Sekaligus": product sheet, example
  sheet, list sheets);
- ``catalogues/wonosobo/foto/``: the Wonosobo group's photos as files beside its catalogue (found
  there by default, no configuration): drawn JPEGs, among them a phone photo stored sideways with
  EXIF orientation 6 and GPS tags, and a WhatsApp thumbnail too small to use;
- ``expected_rejects.json``: per group, every row that must be rejected (sheet, row as Excel
  shows it, column as written, value as written, reason) and every row that must become a
  listing with the values it must parse to (a prepared photo as ``photo:<sha256 of its file>``);
- ``EXPECTED.md``: the same for people.

Everything is fixed: running it twice gives byte-identical files (the XLSX zips get fixed
timestamps too; the photos are drawn, with fixed EXIF and no timestamps of their own, by the
pinned Pillow), so the committed samples can be checked against this script.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from PIL import Image, ImageDraw, ImageFont, ImageOps

HERE = Path(__file__).resolve().parent
FIXED_DATE = datetime(2026, 11, 20, 8, 0, 0)
IMG = "https://images.lapakdesa.example"

# The [categories] aliases written into flows/samples/lapak.toml: catalogue text -> leaf category id.
# Texts equal to a leaf name (any case) need no alias; these are the ones people write instead.
CATEGORY_ALIASES: dict[str, int] = {
    "keripik": 101,
    "kripik": 101,
    "carica": 102,
    "kopi": 105,
    "kerupuk": 107,
    "terasi": 108,
    "anyaman pandan": 301,
    "anyaman bambu": 301,
    "apd": 403,
}

# reason_key -> (Indonesian, English). One key per distinct reason a row is rejected for.
REASONS: dict[str, tuple[str, str]] = {
    "price_not_a_number": ("harga berupa teks, bukan angka", "price is text, not a number"),
    "price_ambiguous": ("harga ambigu: koma bisa desimal atau ribuan",
                        "ambiguous price: the comma may be a decimal mark or a thousands separator"),
    "price_too_low": ("harga di bawah Rp 100", "price below Rp 100"),
    "price_too_high": ("harga di atas Rp 100.000.000", "price above Rp 100,000,000"),
    "stock_negative": ("stok negatif", "negative stock"),
    "stock_not_a_number": ("stok bukan angka", "stock is not a number"),
    "name_missing": ("nama produk kosong", "product name missing"),
    "name_too_long": ("nama lebih dari 70 karakter", "name longer than 70 characters"),
    "category_unknown": ("kategori tidak dikenal", "unknown category"),
    "category_not_leaf": ("kategori induk, pilih subkategori",
                          "parent category, not a leaf category"),
    "photo_missing": ("tidak ada foto", "no photo"),
    "photo_not_found": ("berkas foto tidak ditemukan", "photo file not found"),
    "photo_too_small": ("foto terlalu kecil", "photo too small"),
    "photo_not_https": ("tautan foto bukan https", "photo URL is not https"),
    "weight_unreadable": ("berat tidak terbaca", "weight unreadable"),
    "weight_missing": ("berat kosong", "weight missing"),
    "duplicate_identical": ("baris ganda, sama persis dengan baris sebelumnya",
                            "identical duplicate of an earlier row"),
    "duplicate_conflicting": ("nama sama dengan baris lain tetapi harga berbeda",
                              "same name as another row with a different price"),
    "description_too_long": ("deskripsi lebih dari 2000 karakter",
                             "description longer than 2,000 characters"),
}


@dataclass
class Row:
    """One catalogue row: its cells as written, and what the intake must make of it."""

    cells: dict[str, Any]
    want: dict[str, Any] | None = None      # expected listing values when the row is valid
    reject: tuple[str, str] | None = None   # (column header as written, reason_key)


@dataclass
class Group:
    group_id: str
    name: str
    village: str
    regency: str
    shop_id: int
    file: str                     # relative to the samples folder
    fmt: str                      # "xlsx" | "csv"
    sheet: str
    headers: list[str]
    header_row: int               # 1-based, as Excel shows it
    rows: list[Row | None]        # None = a blank row in the sheet
    first_data_row: int = 0       # 0: the row below the header
    encoding: str = ""
    delimiter: str = ""
    title_rows: list[str] = field(default_factory=list)  # CSV lines above the header (padded)
    notes: list[str] = field(default_factory=list)  # what EXPECTED.md says about tricky cells
    photo_dir: str = ""           # the photos folder beside the catalogue, relative to the samples folder
    photos: list[SamplePhoto] = field(default_factory=list)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def photos(regency: str, name: str, n: int) -> list[str]:
    if n == 0:
        return []
    base = f"{IMG}/{regency}/{slug(name)}"
    return [f"{base}.jpg"] + [f"{base}-{i}.jpg" for i in range(2, n + 1)]


def leaf_id(text: str | int) -> int:
    """The leaf a category text means: a leaf's code (the marketplace workbook's), a leaf name in any
    case, or an alias."""
    from schemas.categories import DEFAULT_CATEGORIES

    if str(text).strip().isdigit():
        (leaf,) = [c.id for c in DEFAULT_CATEGORIES if c.is_leaf and c.id == int(text)]
        return leaf
    key = " ".join(str(text).split()).casefold()
    for c in DEFAULT_CATEGORIES:
        if c.is_leaf and c.name.casefold() == key:
            return c.id
    return CATEGORY_ALIASES[key]


# --------------------------------------------------------------------------- photos as files

@dataclass(frozen=True)
class SamplePhoto:
    """A photo a group keeps as a file: drawn here (a product on a table), so it is small and the
    same on every run. ``size`` is as shown, upright; ``orientation`` 6 stores it sideways (as a
    phone does) with the EXIF tag telling viewers to turn it; ``gps`` adds the phone's EXIF,
    position of the maker's home included."""

    file: str                           # the file's name in the photos folder
    label: str                          # written on the product's label
    colours: tuple[str, str, str]       # background top, background bottom, product
    size: tuple[int, int] = (1200, 900)
    orientation: int = 1
    gps: bool = False
    what: str = ""                      # for EXPECTED.md

    def jpeg(self) -> bytes:
        return _photo_bytes(self)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.jpeg()).hexdigest()

    @property
    def stored_size(self) -> tuple[int, int]:
        w, h = self.size
        return (h, w) if self.orientation in (5, 6, 7, 8) else (w, h)


# A made-up position in Desa Kalibeber, Mojotengah, Wonosobo (about 7.34° S, 109.91° E): the maker's
# home, where the phone photo was taken.
GPS_NEAR_KALIBEBER = {
    0: b"\x02\x03\x00\x00",                       # GPSVersionID 2.3
    1: "S", 2: (7.0, 20.0, 23.76),                  # latitude 7° 20' 23.76" S
    3: "E", 4: (109.0, 54.0, 41.52),                # longitude 109° 54' 41.52" E
    5: 0, 6: 742.0,                                 # 742 m above sea level
    29: "2026:11:03",                               # GPSDateStamp
}


def _phone_exif(photo: SamplePhoto) -> bytes:
    """What a phone camera writes: make, model, time taken, orientation and (``gps``) where."""
    exif = Image.Exif()
    exif[0x0112] = photo.orientation
    if photo.gps:
        exif[0x010F] = "Xiaomi"
        exif[0x0110] = "Redmi Note 12"
        exif[0x0131] = "MIUI Camera"
        exif[0x0132] = "2026:11:03 09:15:22"
        exif.get_ifd(0x8769).update({0x9003: "2026:11:03 09:15:22", 0x9004: "2026:11:03 09:15:22"})
        exif.get_ifd(0x8825).update(GPS_NEAR_KALIBEBER)
    return exif.tobytes()


def _drawing(photo: SamplePhoto) -> Image.Image:
    """The photo upright: a gradient wall, a wooden table, the product (a jar with a label), fruit."""
    w, h = photo.size
    top, bottom, product = photo.colours
    im = ImageOps.colorize(Image.linear_gradient("L").resize((w, h)), black=top, white=bottom)
    d = ImageDraw.Draw(im)
    table = int(h * 0.72)
    d.rectangle((0, table, w, h), fill="#8b5a2b")
    for i in range(1, 6):  # planks
        d.line((0, table + i * (h - table) // 6, w, table + i * (h - table) // 6), fill="#6e4420", width=3)
    jw, jh = int(min(w, h) * 0.42), int(min(w, h) * 0.55)
    x0, y0 = (w - jw) // 2, table - jh + int(h * 0.04)
    d.rounded_rectangle((x0, y0, x0 + jw, y0 + jh), radius=jw // 8, fill=product, outline="#3a2a1a", width=4)
    d.rectangle((x0 + jw // 8, y0 - jh // 10, x0 + jw * 7 // 8, y0 + jh // 20), fill="#c0392b")  # lid
    d.rectangle((x0 + jw // 10, y0 + jh // 3, x0 + jw * 9 // 10, y0 + jh * 2 // 3), fill="#fdf6e3")  # label
    font = ImageFont.load_default(size=max(12, jw // 9))
    for n, line in enumerate(photo.label.split("\n")):
        d.text((w // 2, y0 + jh // 2 + (n - 0.5) * jw // 10), line, fill="#3a2a1a", font=font, anchor="mm")
    r = min(w, h) // 12
    for cx in (x0 - 2 * r, x0 + jw + 2 * r, min(w - r, x0 + jw + 4 * r)):  # carica fruit beside the jar
        d.ellipse((cx - r, table - r // 2 - r, cx + r, table - r // 2 + r), fill="#f5b041", outline="#b9770e", width=3)
    return im


@functools.cache
def _photo_bytes(photo: SamplePhoto) -> bytes:
    im = _drawing(photo)
    if photo.orientation == 6:  # stored sideways: turned a quarter to the left, the tag turns it back
        im = im.transpose(Image.Transpose.ROTATE_90)
    assert im.size == photo.stored_size
    buf = io.BytesIO()
    extra = {"exif": _phone_exif(photo)} if photo.orientation != 1 or photo.gps else {}
    im.save(buf, "JPEG", quality=80, **extra)
    return buf.getvalue()


def write_photos(g: Group, out: Path) -> None:
    folder = out / g.photo_dir
    folder.mkdir(parents=True, exist_ok=True)
    for photo in g.photos:
        (folder / photo.file).write_bytes(photo.jpeg())


def _photo_entries(cell: Any) -> list[str]:
    """A photo cell's entries, as the intake splits them (``,`` ``;`` line breaks)."""
    return [e.strip() for e in re.split(r"[,;\r\n]+", str(cell or "")) if e.strip()]


def picture_of(g: Group, entry: str) -> str:
    """What an entry must become: a link as it is, a photo file as ``photo:<sha256 of the file>``."""
    if entry.startswith("https://"):
        return entry
    name = entry.replace("\\", "/").rsplit("/", 1)[-1].casefold()
    (photo,) = [p for p in g.photos if p.file.casefold() == name]
    return "photo:" + photo.sha256


# --------------------------------------------------------------------------- Wonosobo (XLSX)

W_HEADERS = ["No", "Nama Produk", "Kategori", "Harga (Rp)", "Stok", "Berat (gr)", "Deskripsi",
             "Foto 1", "Foto 2", "Foto 3", "P-IRT"]


W_PHOTOS = [
    SamplePhoto("manisan-carica-250.jpg", "MANISAN\nCARICA", ("#d6eaf8", "#fdfefe", "#f9e79f"),
                what="a file name alone, found in `foto/`"),
    SamplePhoto("manisan-carica-250-toples.jpg", "CARICA\n250 gr", ("#e8f8f5", "#fef9e7", "#f8c471"),
                size=(900, 1200), what="a `foto/…` path, found beside the catalogue"),
    SamplePhoto("gift-box-carica.jpg", "GIFT BOX\nisi 6", ("#fadbd8", "#fdedec", "#f5cba7"),
                what="one of two names in one cell"),
    SamplePhoto("gift-box-carica-isi.jpg", "6 cup\nCARICA", ("#f4ecf7", "#fdfefe", "#f7dc6f"),
                what="the second name in that cell"),
    SamplePhoto("IMG-20261103-WA0012.jpg", "KERIPIK\nJAMUR", ("#d5f5e3", "#fbfcfc", "#e59866"),
                size=(900, 1200), orientation=6, gps=True,
                what="a phone photo: stored sideways (1200×900) with EXIF orientation 6, and the phone's EXIF "
                     "with GPS coordinates; uploaded upright (900×1200) with no EXIF at all"),
    SamplePhoto("sambal-bawang-dieng.jpg", "SAMBAL\nBAWANG", ("#fdebd0", "#fef5e7", "#cb4335"),
                what="a `foto/…` path"),
    SamplePhoto("IMG-20261105-WA0003.jpg", "SELAI", ("#ebf5fb", "#ffffff", "#f0b27a"), size=(200, 150),
                what="a WhatsApp thumbnail, 200×150: its row is rejected, the photo is too small"),
]


def _w(no, name, cat, price, stock, weight, desc, n_photos, pirt, *, want=None, reject=None,
       photo_name=None, files=None) -> Row:
    urls = list(files) if files is not None else photos("wonosobo", photo_name or name or f"produk-{no}", n_photos)
    urls += [None] * (3 - len(urls))
    cells = dict(zip(W_HEADERS, [no, name, cat, price, stock, weight, desc, *urls, pirt]))
    return Row(cells, want, reject)


def wonosobo() -> Group:
    pirt = "P-IRT No. 2073307010{:03d}-28".format
    rows: list[Row | None] = [
        _w(1, "Manisan Carica 250 gr", "Manisan", 25000, 40, 250,
           "Manisan buah carica khas Dieng dalam sirup, 250 gr. Tanpa pengawet.", 2, pirt(123),
           files=["manisan-carica-250.jpg", "foto/manisan-carica-250-toples.jpg"],
           want=dict(price=25000, stock=40, weight_g=250)),
        _w(2, "Manisan Carica 500 gr ", "manisan", "45000", "25", "500",
           "Manisan carica kemasan toples 500 gr, cocok untuk oleh-oleh.", 2, pirt(124),
           want=dict(price=45000, stock=25, weight_g=500)),
        _w(3, "Manisan Carica Gift Box isi 6", "Manisan", "Rp 90.000", 12, "1,5 kg",
           "Kotak hadiah isi 6 cup manisan carica 🍑 — pas untuk hantaran.", 3, pirt(125),
           files=["gift-box-carica.jpg, gift-box-carica-isi.jpg", f"{IMG}/wonosobo/manisan-carica-gift-box-isi-6.jpg"],
           want=dict(price=90000, stock=12, weight_g=1500)),
        _w(4, "KERIPIK JAMUR TIRAM", "Kripik", 15000, "30 ", 200,
           "Keripik jamur tiram renyah, gurih. Jamur dari kebun anggota KWT.", 1, pirt(126),
           files=["IMG-20261103-WA0012.jpg"], want=dict(price=15000, stock=30, weight_g=200)),
        _w(5, "Keripik Kentang Dieng Balado", "keripik", 18500.0, 50, "150 gr",
           "Kentang Dieng diiris tipis, bumbu balado pedas manis.", 2, pirt(127),
           want=dict(price=18500, stock=50, weight_g=150)),
        _w(6, "Keripik Kentang Dieng Original", "Keripik", "hubungi kami", 35, 150,
           "Keripik kentang rasa asin gurih.", 1, pirt(128),
           reject=("Harga (Rp)", "price_not_a_number")),
        _w(7, "Kopi Bubuk Arabika Dieng 200 gr", "Kopi Bubuk", 55000, 20, 200,
           "Arabika Dieng, sangrai medium, digiling halus.\nSimpan di tempat kering.", 2, pirt(129),
           want=dict(price=55000, stock=20, weight_g=200)),
        _w(8, "Kopi Bubuk Robusta Kalibeber 200 gr", "Kopi", "35000 ", 28, 200,
           "Robusta kebun warga Kalibeber, sangrai gelap.", 1, pirt(130),
           want=dict(price=35000, stock=28, weight_g=200)),
        _w(9, "Sirup Carica 600 ml", "Minuman", 35000, 15, 700,
           "Sirup carica botol kaca 600 ml.", 1, pirt(131),
           want=dict(price=35000, stock=15, weight_g=700)),
        None,  # the facilitator left a gap while re-ordering rows
        _w(10, "Kue Kering Lidah Kucing Carica", "Kue Kering", 60000, 10, "1 toples",
           "Lidah kucing rasa carica, toples plastik.", 1, pirt(132),
           reject=("Berat (gr)", "weight_unreadable")),
        _w(11, "Kue Kering Nastar Carica", "Kue Kering", 65000, 10, 500,
           "Nastar isi selai carica, toples 500 gr.", 2, pirt(133),
           want=dict(price=65000, stock=10, weight_g=500)),
        _w(12, None, "Manisan", 25000, 20, 250,
           "Manisan carica kemasan cup, isi 1.", 1, pirt(134), photo_name="manisan-carica-cup",
           reject=("Nama Produk", "name_missing")),
        _w(13, "Dodol Carica 250 gr", "Makanan & Minuman", 20000, 25, 250,
           "Dodol lembut dari buah carica.", 1, pirt(135),
           reject=("Kategori", "category_not_leaf")),
        _w(14, "Keripik Tempe Kemul", "Keripik", 12000, 35, 200,
           "Tempe kemul khas Wonosobo, digoreng kering.", 0, pirt(136),
           reject=("Foto 1", "photo_missing")),
        _w(15, "Carica Kering 200 gr", "Manisan", "Rp 30.000", "18", "200",
           "Manisan kering carica, tidak lengket.", 1, pirt(137),
           want=dict(price=30000, stock=18, weight_g=200)),
        _w(16, "Kopi Bubuk Arabika Dieng 500 gr", "Kopi Bubuk", 125000, 8, "0,5 kg",
           "Arabika Dieng, kemasan 500 gr dengan katup.", 3, pirt(138),
           want=dict(price=125000, stock=8, weight_g=500)),
        _w(17, "Sambal Bawang Dieng", "Sambal", 22000, 24, 180,
           "Sambal bawang dengan cabai Dieng, botol 180 gr.", 1, pirt(139),
           files=["foto/sambal-bawang-dieng.jpg"], want=dict(price=22000, stock=24, weight_g=180)),
        _w(18, "Selai Carica 200 gr", "Manisan", 24000, 15, 200,
           "Selai carica untuk roti, toples kaca 200 gr.", 1, pirt(140),
           files=["IMG-20261105-WA0003.jpg"], reject=("Foto 1", "photo_too_small")),
    ]
    return Group(
        group_id="wonosobo-sekar-carica", name="KWT Sekar Carica", village="Desa Kalibeber",
        regency="Wonosobo", shop_id=479573, file="catalogues/wonosobo/sekar-carica.xlsx",
        fmt="xlsx", sheet="Produk", headers=W_HEADERS, header_row=4, rows=rows,
        photo_dir="catalogues/wonosobo/foto", photos=W_PHOTOS,
        notes=[
            "The notes sheet `Catatan` comes first; the products are on `Produk`.",
            "Rows 1–2 are a merged title and subtitle, row 3 is blank, the header is row 4.",
            "Row 14 is blank (not a data row, not a reject).",
            "Prices are numbers (25000, 18500.0) or text (\"45000\", \"35000 \", \"Rp 90.000\").",
            "`Berat (gr)`: bare numbers are grams; \"1,5 kg\", \"0,5 kg\" and \"150 gr\" carry their own unit.",
            "`Kripik` and `Kopi` reach their leaves through `[categories]` aliases.",
            "Names/stock with trailing spaces (\"Manisan Carica 500 gr \", \"30 \") are valid.",
            "Some photos are files in `foto/` beside the catalogue (found there without any configuration), "
            "named by file name (`manisan-carica-250.jpg`), by path (`foto/sambal-bawang-dieng.jpg`), and two "
            "in one cell (`gift-box-carica.jpg, gift-box-carica-isi.jpg`, then a link in `Foto 2`); the other "
            "rows keep their https links. Each file becomes a prepared photo (`photo:<sha256>` at the intake; "
            "the sync uploads it once and lists the marketplace's picture).",
            "`IMG-20261103-WA0012.jpg` (row 8) is a phone photo stored sideways with EXIF orientation 6 and "
            "GPS coordinates of the maker's home: it is uploaded upright, without EXIF, so without GPS.",
            "`IMG-20261105-WA0003.jpg` (row 23) is a 200×150 WhatsApp thumbnail: the row is rejected, the "
            "photo is too small.",
        ],
    )


# --------------------------------------------------------------------------- Banyuwangi (CSV ;)

B_HEADERS = ["No", "Nama Barang", "Jenis", "Harga Jual", "Jumlah Stok", "Berat", "Keterangan",
             "Gambar 1", "Gambar 2", "Kode"]


def _b(no, name, cat, price, stock, weight, desc, n_photos, sku, *, want=None, reject=None,
       urls=None) -> Row:
    urls = urls if urls is not None else photos("banyuwangi", name, n_photos)
    urls = urls + [""] * (2 - len(urls))
    cells = dict(zip(B_HEADERS, [str(no), name, cat, price, str(stock), weight, desc, *urls, sku]))
    return Row(cells, want, reject)


def banyuwangi() -> Group:
    long_name = ("Kain Batik Tulis Pewarna Alami Motif Gajah Oling Kombinasi Kangkung Setingkes "
                 "Ukuran 2,5 Meter")
    assert len(long_name) > 70
    rows: list[Row | None] = [
        _b(1, "Batik Tulis Gajah Oling Merah", "Batik tulis", "Rp 850.000", 5, "0,5 kg",
           "Kain katun primisima 2 m × 1,15 m – motif khas Banyuwangi, dikerjakan 3 minggu.",
           2, "BTG-001", want=dict(price=850000, stock=5, weight_g=500)),
        _b(2, "Batik Tulis Kangkung Setingkes", "Batik Tulis", "Rp1.250.000,-", 3, "500 gr",
           "Batik tulis halus, pewarna alam (indigo & tingi).", 2, "BTG-002",
           want=dict(price=1250000, stock=3, weight_g=500)),
        _b(3, "Batik Cap Paras Gempal", "Batik Cap", "Rp 185.000", 12, "4 ons",
           "Batik cap katun, 2 m × 1,15 m.", 1, "BCP-001",
           want=dict(price=185000, stock=12, weight_g=400)),
        _b(4, "Batik Cap Kopi Pecah", "batik cap", "Rp150.000,-", 15, "4 ons",
           "Motif kopi pecah… warna soga dan hitam.", 1, "BCP-002",
           want=dict(price=150000, stock=15, weight_g=400)),
        _b(5, "Batik Tulis Sutra Sisik Melik", "Batik Tulis", "1,5 jt", 2, "3 ons",
           "Kain sutra ATBM, batik tulis halus; hanya 2 lembar.", 2, "BTG-003",
           want=dict(price=1500000, stock=2, weight_g=300)),
        _b(6, "Selendang Batik Gajah Oling", "Selendang", "Rp 85.000", 20, "2 ons",
           "Selendang katun rayon 180 × 50 cm.", 1, "SLD-001",
           want=dict(price=85000, stock=20, weight_g=200)),
        _b(7, "Sarung Batik Osing Pria", "Sarung", "Rp 175.000", 10, "1/2 kg",
           "Sarung batik cap, sudah dijahit.", 1, "SRG-001",
           want=dict(price=175000, stock=10, weight_g=500)),
        _b(8, "Taplak Meja Batik 150 × 150 cm", "Dekorasi Rumah", "Rp 120.000", 6, "0,6 kg",
           "Taplak batik cap, cocok untuk café dan rumah makan.", 1, "TPK-001",
           want=dict(price=120000, stock=6, weight_g=600)),
        _b(9, "Kemeja Batik Cap Pria Lengan Panjang – ukuran L", "Pakaian Pria", "Rp 225.000", 9,
           "300 gr", "Kemeja katun, furing dalam; ukuran L (lebar dada 54 cm).", 2, "KMJ-001-L",
           want=dict(price=225000, stock=9, weight_g=300)),
        _b(10, "Daster Batik Banyuwangi", "Pakaian Wanita", "Rp 95.000", 0, "250 gr",
           "Daster rayon adem, all size. Stok sedang dijahit.", 1, "DST-001",
           want=dict(price=95000, stock=0, weight_g=250)),
        _b(11, "Batik Tulis Gajah Oling Biru", "Batik Tulis", "Rp 150,000", 4, "0,5 kg",
           "Batik tulis katun, warna biru indigo.", 1, "BTG-004",
           reject=("Harga Jual", "price_ambiguous")),
        _b(12, "Batik Tulis Motif Moto Pitik", "Batik Tulis", "Rp 1.250.000.000", 1, "0,5 kg",
           "Batik tulis halus motif moto pitik.", 1, "BTG-005",
           reject=("Harga Jual", "price_too_high")),
        _b(13, long_name, "Batik Tulis", "Rp 950.000", 2, "0,5 kg",
           "Kain panjang batik tulis, pewarna alami.", 1, "BTG-006",
           reject=("Nama Barang", "name_too_long")),
        _b(14, "Selendang Sutra Batik Osing", "Selendang", "Rp 275.000", 4, "1 ons",
           "Selendang sutra, batik tulis tangan.", 1, "SLD-002",
           urls=["http://images.lapakdesa.example/banyuwangi/selendang-sutra.jpg"],
           reject=("Gambar 1", "photo_not_https")),
        _b(15, "Sarung Batik Tenun Osing", "Sarung", "Rp 210.000", 7, "0,5 kg",
           "Sarung tenun dengan motif batik.", 1, "SRG-002",
           reject=("Nama Barang", "duplicate_conflicting")),
        _b(16, "Kopi Bubuk Robusta 200 gr", "Kopi Bubuk", "Rp 35.000", 30, "2 ons",
           "Kopi Osing dari lereng Ijen, sangrai sedang. P-IRT No. 2103510020456-27", 1, "KOP-001",
           want=dict(price=35000, stock=30, weight_g=200)),
        _b(17, "Sarung Batik Tenun Osing", "Sarung", "Rp 230.000", 7, "0,5 kg",
           "Sarung tenun dengan motif batik.", 1, "SRG-002",
           reject=("Nama Barang", "duplicate_conflicting")),
        _b(18, "Batik Cap Sisik Melik", "Batik Cap", "Rp 165.000", 11, "4 ons",
           "Batik cap katun primisima.", 1, "BCP-003",
           want=dict(price=165000, stock=11, weight_g=400)),
        _b(19, "Selendang Batik Kangkung Setingkes", "selendang", "Rp 90.000", 14, "2 ons",
           "Selendang katun, motif kangkung setingkes.", 2, "SLD-003",
           want=dict(price=90000, stock=14, weight_g=200)),
    ]
    return Group(
        group_id="banyuwangi-gajah-oling", name="Kelompok Batik Gajah Oling", village="Desa Kemiren",
        regency="Banyuwangi", shop_id=479574, file="catalogues/banyuwangi/batik-gajah-oling.csv",
        fmt="csv", sheet="batik-gajah-oling", headers=B_HEADERS, header_row=3, rows=rows,
        encoding="cp1252", delimiter=";",
        title_rows=["KATALOG BATIK GAJAH OLING – DESA KEMIREN, GLAGAH, BANYUWANGI", ""],
        notes=[
            "Saved by Excel with an Indonesian locale: `;` delimiter, cp1252, no BOM, CRLF.",
            "Row 1 is a title, row 2 is empty (`;;;;;;;;;`), the header is row 3.",
            "Prices: \"Rp 850.000\", \"Rp1.250.000,-\", \"1,5 jt\"; weights \"0,5 kg\", \"4 ons\" (400 g), \"1/2 kg\".",
            "Stock 0 (row 13) is valid: the listing is pushed with stock 0.",
            "`Kopi Bubuk Robusta 200 gr` (row 19) is also sold by the Jember group on the same shop "
            "479574: both are valid listings; the planner must keep them apart.",
            "Non-ASCII cp1252 characters: × – … é. Decoded as latin-1 instead of cp1252, \"…\" (0x85) "
            "becomes U+0085, which `str.splitlines()` treats as a line break.",
        ],
    )


# --------------------------------------------------------------------------- Jember (CSV , BOM)

J_HEADERS = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat (kg)", "Deskripsi",
             "Foto 1", "Foto 2", "Foto 3", "Foto 4", "Kode"]

J_LONG_DESCRIPTION = "\n\n".join([
    "Tas Anyaman Pandan Jumbo buatan ibu-ibu KUB Pandan Sari, Desa Dukuhdempok, Kecamatan "
    "Wuluhan, Kabupaten Jember. Kami adalah perempuan purna migran yang dulu bekerja di Hong Kong, "
    "Taiwan, Malaysia dan Arab Saudi, dan sekarang menganyam di rumah sambil mengasuh anak.",
    "Daun pandan duri kami ambil dari kebun sendiri, dibuang durinya, dibelah, direbus, direndam "
    "semalam, lalu dijemur tiga sampai lima hari sampai warnanya putih gading. Setelah itu daun "
    "diwarnai dengan pewarna tekstil yang aman, dijemur lagi, lalu dianyam dengan tangan. Satu tas "
    "jumbo butuh kira-kira empat hari kerja untuk satu orang penganyam yang berpengalaman.",
    "Ukuran: panjang 45 cm, tinggi 35 cm, lebar alas 15 cm, tinggi pegangan 20 cm. Bagian dalam "
    "dilapisi kain blacu, ada satu kantong kecil untuk ponsel dan kunci, dan resleting di bagian "
    "atas supaya barang tidak jatuh. Tas kuat untuk belanja ke pasar, membawa bekal, atau ke pantai.",
    "Cara merawat: jangan dicuci dengan mesin, cukup dilap dengan kain lembap lalu diangin-anginkan. "
    "Jangan dijemur langsung di bawah matahari terik terlalu lama agar warna tidak pudar. Jika "
    "terkena hujan, keringkan dengan kain dan biarkan di tempat teduh. Simpan di tempat kering, "
    "jangan ditumpuk dengan barang berat supaya bentuknya tetap rapi.",
    "Setiap tas sedikit berbeda karena dibuat dengan tangan, jadi warna dan motif bisa sedikit "
    "berbeda dari foto. Kami bisa menerima pesanan warna khusus untuk seragam, suvenir pernikahan, "
    "atau hadiah kantor, minimal 20 buah, dengan waktu pengerjaan sekitar tiga minggu.",
    "Pilihan warna: hijau daun, merah bata, biru laut, cokelat kopi dan putih gading polos. "
    "Tuliskan warna yang Anda inginkan di catatan pesanan; jika stok warna itu sedang habis, kami "
    "akan menghubungi Anda lewat pesan sebelum mengirim, supaya Anda bisa memilih warna lain atau "
    "menunggu tas berikutnya selesai dianyam. Untuk pembelian lebih dari lima buah kami beri "
    "potongan harga, silakan bertanya lewat fitur chat.",
    "Dengan membeli tas ini, Anda ikut membantu perempuan purna migran di desa kami mendapat "
    "penghasilan tanpa harus berangkat lagi ke luar negeri. Terima kasih atas dukungan Anda, semoga "
    "tasnya awet dan bermanfaat. Pengiriman setiap hari Senin, Rabu dan Jumat dari Jember.",
])
assert 2000 < len(J_LONG_DESCRIPTION) < 2600, len(J_LONG_DESCRIPTION)


def _j(no, name, cat, price, stock, weight, desc, n_photos, sku, *, want=None, reject=None,
       urls=None) -> Row:
    urls = urls if urls is not None else photos("jember", name, n_photos)
    urls = urls + [""] * (4 - len(urls))
    cells = dict(zip(J_HEADERS, [str(no), name, cat, price, str(stock), weight, desc, *urls, sku]))
    return Row(cells, want, reject)


def jember() -> Group:
    rows: list[Row | None] = [
        _j(1, "Tas Anyaman Pandan Motif Kawung", "Tas", "Rp 125.000", 15, "0,4",
           "Tas jinjing anyaman pandan, lapisan kain, resleting. Ukuran 30 x 25 cm.", 3, "TAS-001",
           want=dict(price=125000, stock=15, weight_g=400)),
        _j(2, "Tikar Pandan Lipat 120 × 180 cm", "anyaman pandan", "85000", 10, "1,2",
           "Tikar pandan lipat, warna alami, bisa untuk piknik.", 2, "TKR-001",
           want=dict(price=85000, stock=10, weight_g=1200)),
        _j(3, "Topi Pandan Pantai", "Aksesoris", "45000", 25, "0,2",
           "Topi lebar anyaman pandan, pita kain.", 1, "TOP-001",
           want=dict(price=45000, stock=25, weight_g=200)),
        _j(4, "Keranjang Bambu Serbaguna", "Anyaman Bambu", "Rp 60.000", 20, "0,5",
           "Keranjang bambu anyam tangan.\nUkuran: 35 x 25 x 20 cm, dengan tutup.", 2, "KRJ-001",
           want=dict(price=60000, stock=20, weight_g=500)),
        _j(5, "Tempat Tisu Anyaman Pandan", "Dekorasi Rumah", "35000", 30, "0,15",
           "Tempat tisu kotak, anyaman pandan warna-warni.", 1, "TTS-001",
           want=dict(price=35000, stock=30, weight_g=150)),
        _j(6, "Lampu Hias Anyaman Bambu", "Elektronik", "150000", 5, "0,8",
           "Kap lampu gantung anyaman bambu, tanpa bohlam.", 2, "LMP-001",
           reject=("Kategori", "category_unknown")),
        _j(7, "Dompet Pandan Mini", "Aksesoris", "25000", -3, "0,1",
           "Dompet koin anyaman pandan, resleting.", 1, "DMP-001",
           reject=("Stok", "stock_negative")),
        _j(8, "Tas Selempang Pandan Warna Alam", "Tas", "Rp 110.000", 12, "0,35",
           "Tas selempang, tali kulit sintetis.", 1, "TAS-002",
           urls=["IMG_20261102_0915.jpg"], reject=("Foto 1", "photo_not_found")),
        _j(9, "Bakul Nasi Bambu", "Peralatan Dapur", "Rp 40.000", 18, "0,3",
           "Bakul nasi anyaman bambu, diameter 25 cm.", 1, "BKL-001",
           want=dict(price=40000, stock=18, weight_g=300)),
        _j(10, "Kopi Bubuk Robusta 200 gr", "Kopi Bubuk", "Rp 38.000", 40, "0,2",
           "Robusta lereng Argopuro, sangrai sedang, giling halus. P-IRT No. 2103509010789-27", 1,
           "KOP-001", want=dict(price=38000, stock=40, weight_g=200)),
        _j(11, "Tas Anyaman Pandan Jumbo", "Tas", "Rp 175.000", 6, "0,7", J_LONG_DESCRIPTION, 2,
           "TAS-003", reject=("Deskripsi", "description_too_long")),
        _j(12, "Sandal Anyaman Pandan", "Aksesoris", "75", 20, "0,3",
           "Sandal hotel anyaman pandan, ukuran 38–40.", 1, "SDL-001",
           reject=("Harga", "price_too_low")),
        _j(13, "Kotak Perhiasan Anyaman Pandan", "Aksesoris", "Rp 55.000", 14, "0,25",
           "Kotak perhiasan bertutup, lapisan beludru.", 2, "KTK-001",
           want=dict(price=55000, stock=14, weight_g=250)),
        _j(14, "Tudung Saji Bambu", "Peralatan Dapur", "Rp 65.000", 9, "0,6",
           "Tudung saji bambu diameter 50 cm, \"anti lalat\".", 1, "TDS-001",
           want=dict(price=65000, stock=9, weight_g=600)),
        _j(15, "Hiasan Dinding Anyaman Bambu Bulat", "Dekorasi Rumah", "Rp 95.000", 7, "1",
           "Set 3 hiasan dinding bulat, diameter 30, 40 dan 50 cm.", 3, "HDD-001",
           want=dict(price=95000, stock=7, weight_g=1000)),
        _j(16, "Tas Laptop Anyaman Pandan 14 inci", "Tas", "Rp 185.000", 5, "0,6",
           "Tas laptop 14 inci, busa pelindung, tali bahu.", 4, "TAS-004",
           want=dict(price=185000, stock=5, weight_g=600)),
    ]
    return Group(
        group_id="jember-pandan-sari", name="KUB Anyaman Pandan Sari", village="Desa Dukuhdempok",
        regency="Jember", shop_id=479574, file="catalogues/jember/anyaman-pandan-sari.csv",
        fmt="csv", sheet="anyaman-pandan-sari", headers=J_HEADERS, header_row=1, rows=rows,
        encoding="utf-8-sig", delimiter=",",
        notes=[
            "Google Sheets export: UTF-8 with BOM, `,` delimiter, quoted cells holding commas/quotes.",
            "Row 5's description holds a line break inside the quoted cell; row numbers count "
            "records (as Excel shows them), not physical lines. Row 12's long description has line "
            "breaks too.",
            "`Berat (kg)`: bare numbers are kilograms with a decimal comma (\"0,4\" = 400 g, \"1\" = 1000 g).",
            "`anyaman pandan` and `Anyaman Bambu` reach leaf 301 through aliases.",
            "`Kopi Bubuk Robusta 200 gr` (row 11) shares its name with the Banyuwangi group on the same shop.",
            "Row 9's `Foto 1` names a phone photo file (`IMG_20261102_0915.jpg`) that was not sent with the "
            "catalogue (no photos folder or ZIP beside it): rejected, the file is not found.",
        ],
    )


# --------------------------------------------------------------------------- Indramayu (the marketplace's workbook)

I_SHEET = "ISI Template Impor Produk"
# The product sheet's headers, in the marketplace's order; row 3 holds its instruction for each.
I_COLUMNS: list[tuple[str, str]] = [
    ("Pesan Error", "Abaikan kolom ini. Jika upload gagal, pesan kesalahan akan muncul di sini."),
    ("Nama Produk*", "Wajib. Masukkan nama produk, maks. 70 karakter. Nama tidak bisa diubah setelah produk terjual."),
    ("Deskripsi Produk*", "Wajib. Masukkan deskripsi produk yang jelas, maks. 2000 karakter."),
    ("Kode Kategori*", "Wajib. Pilih kode kategori dari sheet Daftar Kategori (kategori paling akhir)."),
    ("Berat* (Gram)", "Wajib. Masukkan berat dalam gram, angka saja (1 – 500.000)."),
    ("Minimum Pemesanan*", "Wajib. Tentukan jumlah minimum pemesanan (1 – 9.999); jika kosong otomatis 1."),
    ("Nomor Etalase", "Opsional. Masukkan kode etalase dari sheet Daftar Etalase, pisahkan dengan koma."),
    ("Waktu Proses Preorder", "Opsional. Isi jumlah hari proses preorder (1 – 30); kosongkan jika tidak preorder."),
    ("Kondisi*", "Wajib. Pilih Baru atau Bekas; jika kosong otomatis Baru."),
    ("Foto Produk 1*", "Wajib. Masukkan link foto produk (unggah dulu ke situs penyimpan gambar), minimal "
                       "300 x 300 piksel."),
    *((f"Foto Produk {i}", "Opsional. Masukkan link foto produk tambahan.") for i in range(2, 6)),
    ("SKU Name", "Opsional. Masukkan SKU, maks. 50 karakter."),
    ("Status*", "Wajib. Pilih Aktif atau Nonaktif; jika kosong otomatis Aktif."),
    ("Jumlah Stok*", "Wajib. Isi jumlah stok dengan angka, tanpa titik atau koma (0 – 999.999)."),
    ("Harga (Rp)*", "Wajib. Masukkan harga dalam rupiah, angka saja tanpa titik (100 – 100.000.000)."),
    ("Kurir Pengiriman", "Opsional. Masukkan kode kurir dari sheet Daftar Kurir Pengiriman, pisahkan dengan koma."),
    ("Asuransi Pengiriman", "Opsional. Pilih Wajib atau Opsional."),
]
I_HEADERS = [h for h, _ in I_COLUMNS]
I_GROUP_TITLES = (("Informasi Produk", "A", "N"), ("Informasi SKU", "O", "T"))
I_SHOWCASES = [("Masker Kain", 31001), ("APD & Masker Medis", 31002), ("Oleh-oleh Khas Indramayu", 31003),
               ("Bumbu & Sambal", 31004)]
I_COURIERS = [("JNE", "Reguler", "jne"), ("J&T Express", "EZ", "jnt"), ("SiCepat", "Reguler", "sicepat"),
              ("Pos Indonesia", "Pos Kilat Khusus", "pos"), ("GoSend", "Instant", "gosend")]
# The example sheet spells some headers differently (catalogue-formats.md) and is never read.
I_EXAMPLE_SHEET = "Contoh Pengisian"
I_EXAMPLE_HEADERS = ["Error Message", "Nama Produk*", "Deskripsi Produk", "Kategori Kode*", "Berat* (Gram)",
                     "Minimum Pemesanan *", "Nomor Etalase", "Waktu Proses Preorder", "Kondisi*",
                     *(f"Gambar {i}" + ("*" if i == 1 else "") for i in range(1, 6)),
                     *(f"URL Video Produk {i}" for i in range(1, 4)), "SKU Name", "Status*", "Jumlah Stok*",
                     "Harga (Rp)*", "Asuransi Pengiriman"]
I_EXAMPLE = {"Nama Produk*": "Keripik Singkong Balado 250 gr",
             "Deskripsi Produk": "Contoh: keripik singkong pedas manis, kemasan 250 gr.", "Kategori Kode*": 101,
             "Berat* (Gram)": 250, "Minimum Pemesanan *": 1, "Kondisi*": "Baru",
             "Gambar 1*": f"{IMG}/contoh/keripik-singkong-balado.jpg", "SKU Name": "KRP-SKG-250",
             "Status*": "Aktif", "Jumlah Stok*": 100, "Harga (Rp)*": 15000, "Asuransi Pengiriman": "Opsional"}


def _i(name, desc, code, weight, min_order, n_photos, sku, stock, price, *, showcase, preorder=None,
       status="Aktif", want=None, reject=None) -> Row:
    urls = photos("indramayu", name, n_photos) + [None] * (5 - n_photos)
    cells = dict(zip(I_HEADERS, [None, name, desc, code, weight, min_order, showcase, preorder, "Baru", *urls,
                                 sku, status, stock, price, "jne, jnt, sicepat", "Opsional"]))
    return Row(cells, want, reject)


def indramayu() -> Group:
    mask = "Masker kain 3 lapis (katun + katun + kain saring), motif batik Paoman. Bisa dicuci."
    food, spice = "31003", "31004"
    rows: list[Row | None] = [
        _i("Masker Kain 3 Lapis Batik Paoman", mask, 401, 30, 1, 2, "MSK-PAO-01", "40 pcs", "15rb",
           showcase="31001", want=dict(price=15000, stock=40, weight_g=30)),
        _i("Masker Kain 3 Lapis Polos Hitam", "Masker kain 3 lapis warna hitam, tali telinga elastis.", 401, 30, 1,
           1, "MSK-HTM-01", "habis", "15 ribu", showcase="31001", want=dict(price=15000, stock=0, weight_g=30)),
        _i("Masker Anak Motif Kartun", "Masker kain anak usia 3–8 tahun, 2 lapis.", "401", 25, 1, 2, "MSK-ANK-01",
           "25 pcs", "12rb", showcase="31001", want=dict(price=12000, stock=25, weight_g=25)),
        _i("Masker Kain Batik Paoman isi 5", mask + " Isi 5 motif berbeda.", 401, 120, 1, 3, "MSK-PAO-05", 30,
           "Rp 60.000", showcase="31001", preorder=3, want=dict(price=60000, stock=30, weight_g=120)),
        _i("Masker Medis 3 Ply isi 50", "Masker medis earloop 3 ply, 1 kotak isi 50.", 402, 250, 1, 1,
           "MSK-MED-50", "banyak", "35rb", showcase="31002", reject=("Jumlah Stok*", "stock_not_a_number")),
        _i("Manisan Mangga Gedong Gincu 250 gr",
           "Manisan mangga gedong gincu khas Indramayu. P-IRT No. 2063212010321-28", 102, 250, 1, 2, "MNS-MGG-250",
           20, "28rb", showcase=food, want=dict(price=28000, stock=20, weight_g=250)),
        _i("Dodol Mangga Indramayu 500 gr",
           "Dodol mangga legit, dibungkus satuan. P-IRT No. 2063212010322-28", 107, 500, 1, 1, "DDL-MGG-500", 15,
           "Rp 32.000", showcase=food, want=dict(price=32000, stock=15, weight_g=500)),
        _i("Kerupuk Udang Indramayu 250 gr",
           "Kerupuk udang mentah, tinggal goreng. P-IRT No. 2063212010323-28", 107, 250, 2, 1, "KRP-UDG-250", 50,
           "20 ribu", showcase=food, want=dict(price=20000, stock=50, weight_g=250, min_order=2)),
        _i("Sambal Cumi Asin Pedas",
           "Sambal cumi asin, botol 200 gr. P-IRT No. 2103212010324-27", 104, 200, 1, 1, "SMB-CUM-200", 24,
           "27.500", showcase=spice, want=dict(price=27500, stock=24, weight_g=200)),
        _i("Terasi Udang Rebon 250 gr",
           "Terasi rebon asli Indramayu. P-IRT No. 2083212010325-28", 108, 250, 1, 1, "TRS-RBN-250", 30, "18rb",
           showcase=spice, want=dict(price=18000, stock=30, weight_g=250)),
        _i("Kue Kering Semprit Mangga",
           "Semprit rasa mangga, toples. P-IRT No. 2063212010326-28", 103, None, 1, 1, "KUE-SMP-01", 12, "45rb",
           showcase=food, reject=("Berat* (Gram)", "weight_missing")),
        _i("Masker Kain 3 Lapis Batik Paoman", mask, 401, 30, 1, 2, "MSK-PAO-01", "40 pcs", "15rb",
           showcase="31001", reject=("Nama Produk*", "duplicate_identical")),
        _i("Keripik Pisang Tanduk Manis",
           "Keripik pisang tanduk, manis gurih. P-IRT No. 2063212010327-28", 101, 200, 1, 1, "KRP-PSG-200", 35,
           "Rp 16.000", showcase=food, want=dict(price=16000, stock=35, weight_g=200)),
        _i("Kerupuk Ikan Tenggiri 250 gr",
           "Kerupuk ikan tenggiri mentah. P-IRT No. 2063212010328-28", 107, 250, 1, 1, "KRP-TGR-250", "40 pcs",
           "22rb", showcase=food, want=dict(price=22000, stock=40, weight_g=250)),
        _i("Baju Hazmat Kain Parasut", "Baju pelindung (APD) kain parasut, bisa dicuci, all size.", 403, 350, 1,
           2, "APD-HZM-01", 10, "Rp 85.000", showcase="31002", preorder=7, status="Nonaktif",
           want=dict(price=85000, stock=10, weight_g=350, active=False)),
        _i("Abon Ikan Tongkol Pedas 100 gr",
           "Abon tongkol pedas, kemasan standing pouch. P-IRT No. 2063212010329-28", 1759, 100, 1, 1,
           "ABN-TKL-100", 20, "25000", showcase=food, reject=("Kode Kategori*", "category_unknown")),
    ]
    return Group(
        group_id="indramayu-srikandi-kenanga", name="KUB Srikandi Kenanga", village="Desa Kenanga",
        regency="Indramayu", shop_id=479575, file="catalogues/indramayu/srikandi-kenanga.xlsx",
        fmt="xlsx", sheet=I_SHEET, headers=I_HEADERS, header_row=2, first_data_row=4,
        rows=rows,
        notes=[
            "The marketplace's own bulk-upload workbook (\"Tambah Produk Sekaligus\"), filled by the group: the "
            f"product sheet `{I_SHEET}` has group titles on row 1 (\"Informasi Produk\", \"Informasi SKU\"), the "
            "headers on row 2 (required ones end in `*`), the marketplace's instruction for each column on row 3 "
            "(not a data row), data from row 4.",
            f"The other sheets are not products and are never read: `{I_EXAMPLE_SHEET}` (the marketplace's "
            "example, headers spelt `Error Message`, `Kategori Kode*`, `Gambar 1*`…), `Daftar Kategori` (three "
            "levels and a `Kode`; the sandbox's tree has two, so level 3 is empty), `Daftar Etalase`, "
            "`Daftar Kurir Pengiriman`.",
            "`Kode Kategori*` holds leaf category codes (401, \"401\" as text, 107…); `1759` (row 19), a "
            "code from another marketplace's list, is no category: rejected, nothing suggested.",
            "`Status*`: row 18 (`Baju Hazmat Kain Parasut`) is `Nonaktif`: listed, and kept inactive on the "
            "marketplace.",
            "`Pesan Error`, `Nomor Etalase`, `Waktu Proses Preorder`, `Kurir Pengiriman` and `Asuransi "
            "Pengiriman` are the marketplace's own columns: recognised, not product data. `Pesan Error` is "
            "empty; the annotated copy writes each rejected row's reasons there.",
            "Prices \"15rb\", \"15 ribu\", \"27.500\", \"Rp 60.000\" (the template asks for digits only; "
            "people write what they say); stock \"40 pcs\", \"habis\" (= 0), numbers.",
            "P-IRT numbers sit inside the description (the workbook has no P-IRT column).",
            "Row 11 has minimum order 2.",
        ],
    )


# --------------------------------------------------------------------------- writers

def _fixed_zip(path: Path) -> None:
    """Rewrite an XLSX with fixed entry timestamps and document dates, so reruns are byte-identical."""
    with zipfile.ZipFile(path) as z:
        entries = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def _new_workbook(author: str) -> Workbook:
    wb = Workbook()
    wb.properties.creator = author
    wb.properties.lastModifiedBy = author
    wb.properties.created = FIXED_DATE
    return wb


def _data_lines(g: Group) -> list[tuple[int, Row | None]]:
    """(spreadsheet row, row) for every line below the header, blank rows included."""
    first = g.first_data_row or g.header_row + 1
    return [(first + i, r) for i, r in enumerate(g.rows)]


def write_wonosobo(g: Group, out: Path) -> None:
    wb = _new_workbook(g.name)
    notes = wb.active
    notes.title = "Catatan"
    lines = [
        "Catatan untuk pengurus KWT Sekar Carica",
        "",
        "1. Harga sudah termasuk kemasan, belum termasuk ongkos kirim.",
        "2. Stok dihitung ulang setiap hari Sabtu setelah produksi.",
        "3. Foto produk: taruh berkas foto dari HP di folder foto (di samping berkas ini), tulis nama "
        "berkasnya di kolom Foto; atau tempel tautan fotonya.",
        "4. Produk baru: tanyakan dulu nomor P-IRT ke Bu Sekretaris.",
        "Kontak pendamping: Bu Sri, +62 812-0000-4512",
    ]
    for i, line in enumerate(lines, start=1):
        notes.cell(row=i, column=1, value=line)
    notes["A1"].font = Font(bold=True, size=12)
    notes.column_dimensions["A"].width = 80

    ws = wb.create_sheet(g.sheet)
    last = chr(ord("A") + len(g.headers) - 1)
    ws["A1"] = "Katalog Produk KWT Sekar Carica"
    ws["A1"].font = Font(bold=True, size=14)
    ws.merge_cells(f"A1:{last}1")
    ws["A2"] = "Desa Kalibeber, Kec. Mojotengah, Wonosobo — diperbarui 20 November 2026"
    ws["A2"].font = Font(italic=True)
    ws.merge_cells(f"A2:{last}2")
    head_fill = PatternFill("solid", fgColor="C6EFCE")
    for c, h in enumerate(g.headers, start=1):
        cell = ws.cell(row=g.header_row, column=c, value=h)
        cell.font = Font(bold=True)
        cell.fill = head_fill
    for r, row in _data_lines(g):
        if row is None:
            continue
        for c, h in enumerate(g.headers, start=1):
            v = row.cells[h]
            if v is not None:
                cell = ws.cell(row=r, column=c, value=v)
                if h == "Harga (Rp)" and not isinstance(v, str):
                    cell.number_format = '"Rp"#,##0'  # shown as Rp25.000; the cell holds 25000
                if h == "Deskripsi":
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
    for col, width in zip("ABCDEFGHIJK", (5, 36, 16, 12, 7, 11, 50, 30, 30, 30, 28)):
        ws.column_dimensions[col].width = width
    ws.freeze_panes = f"A{g.header_row + 1}"
    path = out / g.file
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _fixed_zip(path)
    write_photos(g, out)


def _list_sheet(wb: Workbook, title: str, header: list[str], rows: list[tuple]) -> None:
    ws = wb.create_sheet(title)
    ws.append(header)
    for c in ws[1]:
        c.font = Font(bold=True)
    for row in rows:
        ws.append(list(row))
    for c in range(1, len(header) + 1):
        ws.column_dimensions[chr(ord("A") + c - 1)].width = 26


def write_indramayu(g: Group, out: Path) -> None:
    """The marketplace's workbook as a group fills it: its product sheet, its example, its lists."""
    from schemas.categories import DEFAULT_CATEGORIES

    wb = _new_workbook(g.name)
    ws = wb.active
    ws.title = g.sheet
    for title, first, last in I_GROUP_TITLES:
        ws[f"{first}1"] = title
        ws[f"{first}1"].font = Font(bold=True)
        ws[f"{first}1"].alignment = Alignment(horizontal="center")
        ws.merge_cells(f"{first}1:{last}1")
    for c, (h, hint) in enumerate(I_COLUMNS, start=1):
        head = ws.cell(row=2, column=c, value=h)
        head.font = Font(bold=True, color="FFFFFF")
        head.fill = PatternFill("solid", fgColor="03AC0E")
        tip = ws.cell(row=3, column=c, value=hint)
        tip.font = Font(italic=True, color="808080")
        tip.alignment = Alignment(wrap_text=True, vertical="top")
    for r, row in _data_lines(g):
        for c, h in enumerate(g.headers, start=1):
            v = row.cells[h]
            if v is not None:
                ws.cell(row=r, column=c, value=v)
    for c in range(1, len(g.headers) + 1):
        ws.column_dimensions[_column_letter(c)].width = 34 if c in (2, 3, 10) else 16
    ws.freeze_panes = "A4"

    example = wb.create_sheet(I_EXAMPLE_SHEET)
    example["A1"] = "Contoh pengisian — sheet ini tidak ikut diunggah"
    example["A1"].font = Font(bold=True)
    for c, h in enumerate(I_EXAMPLE_HEADERS, start=1):
        example.cell(row=2, column=c, value=h).font = Font(bold=True)
        example.cell(row=3, column=c, value=I_EXAMPLE.get(h))
    parents = {c.id: c.name for c in DEFAULT_CATEGORIES if not c.is_leaf}
    _list_sheet(wb, "Daftar Kategori", ["Kategori Level 1", "Kategori Level 2", "Kategori Level 3", "Kode"],
                [(parents[c.parent_id], c.name, None, c.id) for c in DEFAULT_CATEGORIES if c.is_leaf])
    _list_sheet(wb, "Daftar Etalase", ["Nama Etalase", "Nomor Etalase"], I_SHOWCASES)
    _list_sheet(wb, "Daftar Kurir Pengiriman", ["Kurir", "Layanan", "Kode Kurir"], I_COURIERS)
    path = out / g.file
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    _fixed_zip(path)


def _column_letter(n: int) -> str:
    return chr(ord("A") + n - 1)  # the sample sheets stay within A–Z


def csv_text(g: Group) -> str:
    """The CSV text of a group, before encoding: Excel and Google Sheets both end records with CRLF."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=g.delimiter, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    n = len(g.headers)
    for line in g.title_rows:  # Excel pads every row, even a blank one, to the used width
        w.writerow([line] + [""] * (n - 1))
    w.writerow(g.headers)
    for _, row in _data_lines(g):
        w.writerow([row.cells[h] for h in g.headers])
    return buf.getvalue()


def write_csv(g: Group, out: Path) -> None:
    path = out / g.file
    path.parent.mkdir(parents=True, exist_ok=True)
    # strict: a character outside cp1252 must fail here, not turn into '?' in the sample
    path.write_bytes(csv_text(g).encode(g.encoding, errors="strict"))


# --------------------------------------------------------------------------- expectations

def _written(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # as Excel displays 18500.0
    return str(v)


GROUPS = ((wonosobo, write_wonosobo), (banyuwangi, write_csv), (jember, write_csv),
          (indramayu, write_indramayu))


def data_by_row(data: list[tuple[int, Row]], r: int) -> Row:
    return next(x for r0, x in data if r0 == r)


def _photo_cols(g: Group) -> list[str]:
    return [h for h in g.headers if h.startswith(("Foto", "Gambar"))]


def _too_small(g: Group, entry: dict[str, Any]) -> None:
    (photo,) = [p for p in g.photos if p.file == entry["value"].rsplit("/", 1)[-1]]
    w, h = photo.size
    entry["reason_id"] = f"foto terlalu kecil ({w}×{h}); minimal 300×300"
    entry["reason"] = f"photo too small ({w}×{h}); at least 300×300"


def photo_files(g: Group, data: list[tuple[int, Row]]) -> list[dict[str, Any]]:
    """The group's photo files: what each is, where the catalogue names it, what it becomes."""
    named: dict[str, list[int]] = {}
    for r, row in data:
        for entry in (e for h in _photo_cols(g) for e in _photo_entries(row.cells[h])):
            if not entry.startswith("https://"):
                named.setdefault(entry.rsplit("/", 1)[-1], []).append(r)
    return [{
        "file": f"{g.photo_dir}/{p.file}", "bytes": len(p.jpeg()), "sha256": p.sha256,
        "stored_size": list(p.stored_size), "upright_size": list(p.size),
        "exif_orientation": p.orientation if p.orientation != 1 or p.gps else None, "gps": p.gps,
        "rows": named.get(p.file, []), "what": p.what,
    } for p in g.photos]


def expectations(g: Group) -> dict[str, Any]:
    lines = _data_lines(g)
    data = [(r, row) for r, row in lines if row is not None]
    name_col = next(h for h in g.headers if h.startswith("Nama"))
    price_col = next(h for h in g.headers if h.startswith("Harga"))
    cat_col = next(h for h in g.headers if h.startswith(("Kategori", "Jenis", "Kode Kategori")))
    rejects, listings = [], []
    for r, row in data:
        if row.reject:
            col, key = row.reject
            rid, ren = REASONS[key]
            entry: dict[str, Any] = {
                "sheet": g.sheet, "row": r, "column": col, "value": _written(row.cells[col]),
                "reason_key": key, "reason_id": rid, "reason": ren,
            }
            if key == "photo_too_small":
                _too_small(g, entry)
            if key == "duplicate_identical":
                first = next(r0 for r0, x in data if r0 < r and x.cells == row.cells)
                entry["duplicate_of"] = first
                entry["reason_id"] += f" {first}"
                entry["reason"] = f"duplicate of row {first}"
            if key == "duplicate_conflicting":
                others = [r0 for r0, x in data if r0 != r and x.cells[name_col] == row.cells[name_col]]
                entry["conflicts_with"] = others
                entry["reason_id"] = f"nama sama dengan baris {others[0]} tetapi harga berbeda"
                entry["reason"] = (f"same name as row {others[0]} with a different price "
                                   f"({row.cells[price_col]} vs {data_by_row(data, others[0]).cells[price_col]})")
            rejects.append(entry)
        else:
            pics = [picture_of(g, e) for h in _photo_cols(g) for e in _photo_entries(row.cells[h])]
            listings.append({
                "row": r,
                "name": row.cells[name_col].strip(),
                "category_id": leaf_id(row.cells[cat_col]),
                "price": row.want["price"],
                "stock": row.want["stock"],
                "weight_g": row.want["weight_g"],
                "min_order": row.want.get("min_order", 1),
                "active": row.want.get("active", True),
                "pictures": pics,
            })
    uploads = {p for li in listings for p in li["pictures"] if p.startswith("photo:")}
    return {
        "name": g.name, "village": g.village, "regency": g.regency, "shop_id": g.shop_id,
        "file": g.file, "format": g.fmt, "encoding": g.encoding or None, "delimiter": g.delimiter or None,
        "sheet": g.sheet, "header_row": g.header_row, "first_data_row": lines[0][0],
        "blank_rows": [r for r, row in lines if row is None],
        "data_rows": len(data),
        "expected_listings": len(listings),
        "rejected_rows": len(rejects),
        "inactive_listings": sum(not li["active"] for li in listings),
        "photos_to_upload": len(uploads),
        "photo_folder": g.photo_dir or None,
        "photo_files": photo_files(g, data),
        "rejects": rejects,
        "listings": listings,
    }


def build_expected(groups: list[Group]) -> dict[str, Any]:
    per = {g.group_id: expectations(g) for g in groups}
    keys = {rj["reason_key"] for e in per.values() for rj in e["rejects"]}
    return {
        "about": ("What the intake must make of flows/samples/catalogues: every rejected row (row numbers as "
                  "Excel shows them; for CSV, records counted from 1, a quoted line break does not start "
                  "a new row) and every expected listing (active false: listed, kept inactive; a picture "
                  "photo:<sha256> is the photo file with that sha256, prepared at the intake and uploaded by "
                  "the sync), and each group's photo files. Generated by flows/samples/make_samples.py."),
        "groups": per,
        "reasons": {k: {"id": REASONS[k][0], "en": REASONS[k][1]} for k in sorted(keys)},
        "totals": {
            "data_rows": sum(e["data_rows"] for e in per.values()),
            "expected_listings": sum(e["expected_listings"] for e in per.values()),
            "rejected_rows": sum(e["rejected_rows"] for e in per.values()),
            "distinct_reasons": len(keys),
            "inactive_listings": sum(e["inactive_listings"] for e in per.values()),
            "photos_to_upload": sum(e["photos_to_upload"] for e in per.values()),
        },
    }


def _md_cell(text: str, limit: int = 60) -> str:
    text = text.replace("\n", "⏎").replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md_listing(li: dict[str, Any]) -> str:
    text = f"row {li['row']} {li['price']}/{li['stock']}/{li['weight_g']:g}"
    if files := sum(p.startswith("photo:") for p in li["pictures"]):
        text += f" +{files} photo file{'s' if files > 1 else ''}"
    return text + ("" if li["active"] else " inactive")


def _md_photos(e: dict[str, Any]) -> list[str]:
    if not e["photo_files"]:
        return []
    out = [f"Photo files in `{e['photo_folder']}/` (size as stored, and upright as uploaded, with no metadata):",
           "",
           "| file | rows | stored | upright | EXIF | sha256 | what |", "|---|---|---|---|---|---|---|"]
    for f in e["photo_files"]:
        exif = (f"orientation {f['exif_orientation']}" + (", GPS" if f["gps"] else "")) if f["exif_orientation"] \
            else "none"
        out.append(f"| `{f['file'].rsplit('/', 1)[-1]}` | {', '.join(map(str, f['rows']))} | "
                   f"{'×'.join(map(str, f['stored_size']))} | {'×'.join(map(str, f['upright_size']))} | {exif} | "
                   f"`{f['sha256'][:12]}…` | {f['what']} |")
    return out + [""]


def expected_md(groups: list[Group], expected: dict[str, Any]) -> str:
    t = expected["totals"]
    out = [
        "# Sample catalogues: what the intake must make of them",
        "",
        "Generated by `flows/samples/make_samples.py` (do not edit by hand; change the script and rerun it).",
        "The machine-readable twin is `expected_rejects.json`; the normaliser tests assert against it.",
        "",
        f"Four village groups, **{t['data_rows']} data rows**: **{t['expected_listings']} listings** "
        f"({t['inactive_listings']} kept inactive, as its catalogue says), "
        f"**{t['rejected_rows']} rejected rows** for **{t['distinct_reasons']} distinct reasons**; "
        f"**{t['photos_to_upload']} photos** the groups keep as files are prepared and uploaded. "
        "Each rejected row has exactly one problem. Row numbers are as Excel shows them; for a CSV, "
        "records counted from 1 (a line break inside a quoted cell does not start a new row). "
        "A data row is a non-blank row below the header (the bulk-upload instruction row is not one). "
        "For a CSV the sheet is the file name without extension, as Excel names it when opening the file.",
        "",
        "| group | file | format | shop | header row | data rows | listings | inactive | rejected | photos |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in groups:
        e = expected["groups"][g.group_id]
        fmt = g.fmt.upper() + (f", {g.encoding}, `{g.delimiter}`" if g.fmt == "csv" else "")
        if g.fmt == "xlsx" and g.sheet == I_SHEET:
            fmt += ", the marketplace's workbook"
        out.append(f"| `{g.group_id}` ({g.name}, {g.village}, {g.regency}) | `{g.file}` | {fmt} | "
                   f"{g.shop_id} | {g.header_row} | {e['data_rows']} | {e['expected_listings']} | "
                   f"{e['inactive_listings']} | {e['rejected_rows']} | {e['photos_to_upload']} |")
    out += ["", "Shop 479574 is shared by the Banyuwangi and Jember groups; both sell a "
            "`Kopi Bubuk Robusta 200 gr`, and both must be listed.", ""]
    for g in groups:
        e = expected["groups"][g.group_id]
        out += [f"## {g.name} — `{g.group_id}`", "", f"`{g.file}`, sheet `{g.sheet}`.", ""]
        out += [f"- {n}" for n in g.notes]
        out += ["", "Rejected rows:", "", "| row | column | value as written | reason |", "|---|---|---|---|"]
        for rj in e["rejects"]:
            out.append(f"| {rj['row']} | {rj['column']} | `{_md_cell(rj['value'])}` | "
                       f"{rj['reason']} (`{rj['reason_key']}`) |")
        out += ["", "Listings (price Rp / stock / weight g; photos uploaded from the group's files; inactive):", ""]
        out.append(", ".join(_md_listing(li) for li in e["listings"]))
        out.append("")
        out += _md_photos(e)
    out += ["## Reasons", "", "| key | Indonesian | English |", "|---|---|---|"]
    out += [f"| `{k}` | {v['id']} | {v['en']} |" for k, v in expected["reasons"].items()]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE, help="where to write (default: this folder)")
    out = ap.parse_args(argv).out
    groups = []
    for make, write in GROUPS:
        g = make()
        write(g, out)
        groups.append(g)
    expected = build_expected(groups)
    (out / "expected_rejects.json").write_text(
        json.dumps(expected, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / "EXPECTED.md").write_text(expected_md(groups, expected), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(f"samples written to {main()}")
