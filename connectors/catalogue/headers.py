"""Recognise catalogue column headers and find the header row by its content.

Groups write headers their own way ("Nama Prodak", "HARGA (Rp)", "Berat kg", "Foto 1"), so a
header is matched after folding case, accents, spaces and punctuation, with a small typo
allowance, and a unit written in it ("(kg)", "(ribu)") is kept apart for the normaliser.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

HEADER_SCAN_ROWS = 30
"""How many non-empty rows at the top of a sheet may hold the header."""

# Canonical field -> headers seen in the groups' sheets (../shared/catalogue-formats.md).
# Matching ignores case, accents, spaces and punctuation, so "No. PIRT" == "no pirt" == "NOPIRT".
SYNONYMS: dict[str, tuple[str, ...]] = {
    "no": ("No", "Nomor", "No Urut", "Nomor Urut"),
    "name": ("Nama Produk", "Nama Barang", "Nama", "Produk", "Product Name", "Name", "Product",
             "Nama Item"),
    # The marketplace's workbook names its leaf category code "Kode Kategori" (its example sheet
    # "Kategori Kode"); the code is matched as a leaf id.
    "category": ("Kategori", "Jenis", "Category", "Kategori Produk", "Jenis Produk", "Jenis Barang",
                 "Kode Kategori", "Kategori Kode", "Category Code", "Category ID", "ID Kategori"),
    "price": ("Harga", "Harga Jual", "Harga Satuan", "Harga Produk", "Harga Jual Satuan", "Price",
              "Harga Normal"),
    "stock": ("Stok", "Jumlah Stok", "Stock", "Qty", "Jumlah", "Stok Tersedia", "Stok Produk",
              "Quantity"),
    "weight": ("Berat", "Weight", "Berat Produk", "Berat Satuan", "Berat Bersih"),
    "description": ("Deskripsi", "Keterangan", "Deskripsi Produk", "Description", "Ket",
                    "Keterangan Produk"),
    "sku": ("SKU", "Kode", "Kode Produk", "Kode Barang", "SKU Produk", "SKU Name"),
    "min_order": ("Minimum Pemesanan", "Min. Order", "Minimal Beli", "Minimum Order", "Min Beli",
                  "Minimum Beli", "Minimal Pembelian", "Minimum Pembelian", "Min Pembelian",
                  "Pemesanan Minimum", "Minimal Pemesanan", "Min Pemesanan"),
    "condition": ("Kondisi", "Condition", "Kondisi Produk"),
    "status": ("Status", "Status Produk", "Product Status"),
    "variant": ("Varian", "Variant", "Variasi"),
    "pirt": ("P-IRT", "No. PIRT", "PIRT", "No P-IRT", "Nomor PIRT", "SPP-IRT", "No SPP-IRT",
             "Izin PIRT"),
    "halal": ("Halal", "No. Halal", "Nomor Halal", "Sertifikat Halal", "Label Halal"),
    "expiry": ("Tanggal Kedaluwarsa", "Kedaluwarsa", "Kadaluarsa", "Kadaluwarsa", "Kedaluarsa",
               "Tanggal Kadaluarsa", "Tanggal Kadaluwarsa", "Tgl Kedaluwarsa", "Tgl Kadaluarsa",
               "Exp", "Expired", "Exp Date", "Expiry", "Expiry Date", "Tanggal Exp",
               "Best Before"),
    "unit": ("Satuan", "Unit"),
}
# Columns of the marketplace's own workbook that the project does not use: recognised (so they
# neither make its header row look foreign nor show as unknown columns), never product data.
UNUSED: dict[str, tuple[str, ...]] = {
    "error_message": ("Pesan Error", "Error Message", "Pesan Kesalahan"),
    "showcase": ("Nomor Etalase", "Etalase", "Kode Etalase", "Etalase Kode"),
    "preorder": ("Waktu Proses Preorder", "Preorder", "Pre Order", "Waktu Preorder"),
    "courier": ("Kurir Pengiriman", "Kurir", "Jasa Pengiriman"),
    "insurance": ("Asuransi Pengiriman", "Asuransi"),
    "video": ("URL Video Produk", "URL Video", "Video Produk", "Link Video", "Video",
              *(f"{stem} {i}" for stem in ("URL Video Produk", "URL Video", "Video") for i in range(1, 4))),
}
ERROR_COLUMN = "error_message"
"""The marketplace workbook's column for each row's error (``Pesan Error``): the annotated copy writes there."""
# A photo header is one of these, optionally numbered ("Foto 3", "Gambar2").
PHOTO_STEMS = ("Foto", "Gambar", "Photo", "Image", "URL Foto", "Link Foto", "Foto Produk",
               "Gambar Produk", "URL Gambar", "Link Gambar", "Picture", "Foto Utama")

# Units a header may carry: "Berat (kg)", "Berat kg", "Harga (ribu)", "Harga Rp".
UNITS: dict[str, dict[str, str]] = {
    "weight": {"kg": "kg", "kgs": "kg", "kilo": "kg", "kilogram": "kg", "g": "g", "gr": "g",
               "grm": "g", "gram": "g", "grams": "g", "ons": "ons", "pon": "pon"},
    "price": {"rp": "rp", "idr": "rp", "rupiah": "rp", "rb": "rb", "ribu": "rb", "ribuan": "rb",
              "k": "rb", "jt": "jt", "juta": "jt"},
}
# Words written beside a unit or as a note in brackets ("(dalam gram)", "(wajib)"): dropped.
_FILLER = {"dalam", "per", "pcs", "wajib", "opsional", "optional", "required", "satuan"}

_BRACKETED = re.compile(r"[(\[{]([^)\]}]*)[)\]}]")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PHOTO_NUMBER = re.compile(r"^(.*?)(\d{1,2})$")


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NON_ALNUM.sub(" ", folded).split()


def _compact(text: str) -> str:
    return "".join(_tokens(text))


_EXACT: dict[str, str] = {_compact(s): f for f, syns in (SYNONYMS | UNUSED).items() for s in syns}
_PHOTO: frozenset[str] = frozenset(_compact(s) for s in PHOTO_STEMS)


def _typo_distance(a: str, b: str, limit: int) -> int:
    """Edit distance counting an adjacent swap as one edit ("hraga" -> "harga"), capped at limit+1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _allowed_typos(key: str) -> int:
    # Short words get no allowance: "stok"/"stop", "nama"/"namo" would be guesses, not typos.
    return 0 if len(key) < 5 else 1 if len(key) < 9 else 2


def _fuzzy(compact: str, candidates: dict[str, str]) -> str | None:
    best, fields = 99, set()
    for key, fld in candidates.items():
        limit = _allowed_typos(key)
        if limit == 0:
            continue
        d = _typo_distance(compact, key, limit)
        if d > limit:
            continue
        if d < best:
            best, fields = d, {fld}
        elif d == best:
            fields.add(fld)
    return fields.pop() if len(fields) == 1 else None


def _field_of(compact: str, fuzzy: bool) -> str | None:
    if not compact or len(compact) > 40:
        return None
    stem = _PHOTO_NUMBER.sub(r"\1", compact)
    if not fuzzy:
        return _EXACT.get(compact) or ("photo" if compact in _PHOTO or stem in _PHOTO else None)
    return _fuzzy(compact, _EXACT) or _fuzzy(stem, dict.fromkeys(_PHOTO, "photo"))


@dataclass(frozen=True)
class HeaderMatch:
    """A header cell recognised as a canonical field, with the unit written in it, if any."""

    field: str
    unit: str | None = None


@lru_cache(maxsize=8192)
def match_header(text: str) -> HeaderMatch | None:
    """Recognise one header cell ("Harga (Rp)" -> price, unit "rp"); ``None`` if it is not a known column."""
    raw = text.strip()
    if not raw:
        return None
    if raw == "#":
        return HeaderMatch("no")
    bracketed = [t for part in _BRACKETED.findall(raw) for t in _tokens(part)]
    base = _tokens(_BRACKETED.sub(" ", raw))
    # (words naming the field, words that may hold its unit), most literal reading first.
    readings = [(base, bracketed)]
    cut = len(base)
    while cut > 1 and (base[cut - 1] in _FILLER or any(base[cut - 1] in u for u in UNITS.values())):
        cut -= 1
    if cut < len(base):
        readings.append((base[:cut], base[cut:] + bracketed))   # "Berat kg", "Harga Rp"
    if bracketed:
        readings.append((base + bracketed, []))                 # "Nama (Produk)"
    for fuzzy in (False, True):
        for words, unit_words in readings:
            fld = _field_of("".join(words), fuzzy)
            if fld is not None:
                units = UNITS.get(fld, {})
                return HeaderMatch(fld, next((units[w] for w in unit_words if w in units), None))
    return None


_INSTRUCTION_WORDS = frozenset({
    "wajib", "diisi", "isi", "isikan", "contoh", "maks", "maksimal", "maksimum", "minimal", "min", "max",
    "required", "example", "optional", "opsional", "pilih", "masukkan", "format", "karakter", "character",
    "characters", "mandatory", "tuliskan", "kosongkan", "boleh", "harus", "gunakan", "angka",
    "masukan", "abaikan", "tentukan", "tambahkan", "otomatis", "pilihan", "enter", "select",
})
_NUMERIC = re.compile(r"(rp\.?)?\s*[\d.,\s]+\s*(rb|ribu|k|jt|juta)?\s*(,-)?", re.IGNORECASE)


@dataclass
class SheetHeader:
    """Where a sheet's header is and what each of its columns means.

    ``columns`` maps a 0-based column position to its canonical name (``photo_1`` … for
    photos, numbered left to right); ``labels`` gives the header as written for each of them.
    ``unused`` maps the position of each recognised column the project does not read (the
    marketplace workbook's ``Pesan Error``, ``Nomor Etalase`` …) to its field in :data:`UNUSED`.
    """

    row_index: int                      # position of the header within the rows given
    cells: list[str | None]
    columns: dict[int, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    unused: dict[int, str] = field(default_factory=dict)

    def position(self, name: str) -> int | None:
        """Column position of a canonical field, or ``None``."""
        return next((p for p, c in self.columns.items() if c == name), None)


def _row_fields(cells: Sequence[str | None]) -> set[str]:
    found = set()
    for cell in cells:
        if cell and len(cell) <= 60:
            m = match_header(cell)
            if m:
                found.add(m.field)
    return found


def _is_header(found: set[str]) -> bool:
    return "name" in found and ("price" in found or "stock" in found)


def find_header(rows: Sequence[Sequence[str | None]], scan: int = HEADER_SCAN_ROWS) -> SheetHeader | None:
    """Find the header among the first ``scan`` non-empty rows: the one recognising the most fields.

    A header needs at least a name column and a price (or stock) column; ``None`` when no row has them.
    """
    best: tuple[int, int] | None = None         # (score, index)
    seen = 0
    for i, cells in enumerate(rows):
        if not any(c and c.strip() for c in cells):
            continue
        seen += 1
        if seen > scan:
            break
        found = _row_fields(cells)
        if _is_header(found) and (best is None or len(found) > best[0]):
            best = (len(found), i)
    if best is None:
        return None
    return label_header(best[1], list(rows[best[1]]))


def label_header(row_index: int, cells: list[str | None]) -> SheetHeader:
    """Name each column of a header row; the first of two headers for one field wins."""
    head = SheetHeader(row_index=row_index, cells=cells)
    photos = 0
    for pos, cell in enumerate(cells):
        if not cell or not cell.strip():
            continue
        m = match_header(cell)
        if m is None:
            head.unknown.append(cell)
            continue
        if m.field in UNUSED:
            head.unused[pos] = m.field
            continue
        if m.field == "photo":
            photos += 1
            name = f"photo_{photos}"
        elif m.field in head.labels:
            head.duplicates.append(cell)
            head.unknown.append(cell)
            continue
        else:
            name = m.field
        head.columns[pos] = name
        head.labels[name] = cell
        if m.unit:
            head.units[m.field] = m.unit
    return head


def is_instruction_row(cells: Sequence[str | None], head: SheetHeader) -> bool:
    """True for a template's guidance row under the header ("Wajib diisi, maks. 70 karakter").

    Conservative: most filled cells must read like instructions and the price (or stock) cell
    must not be a number, so a real product named "Keripik isi 10" is never skipped.
    """
    filled = [c for c in cells if c and c.strip()]
    if len(filled) < 2:
        return False
    wordy = sum(1 for c in filled if _INSTRUCTION_WORDS.intersection(_tokens(c)))
    if wordy < 0.6 * len(filled):
        return False
    pos = head.position("price")
    if pos is None:
        pos = head.position("stock")
    value = cells[pos] if pos is not None and pos < len(cells) else None
    return not (value and _NUMERIC.fullmatch(value.strip()))
