"""The blank catalogue template: an instructions sheet, an empty ``Produk`` sheet with dropdowns,
and a hidden category list the dropdown reads.

Above the ``Produk`` table, row 1 holds the stock date line: ``Stok per / Stock as of:`` in A1 and
the date the group fills in, in B1. The reader's stated-date rule (a label cell, the date in the
next filled cell to its right) takes it as the moment the stock was counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from schemas.categories import DEFAULT_CATEGORIES
from schemas.listing import DESCRIPTION_MAX, NAME_MAX, PICTURES_MAX, PRICE_MAX, PRICE_MIN, SKU_MAX, STOCK_MAX

from .safe import BOLD, HEADER_FILL, WRAP


def _id_num(n: int) -> str:
    """A whole number as Indonesians write it: ``.`` groups thousands."""
    return f"{n:,}".replace(",", ".")


# (header, required, Indonesian, English, example)
TEMPLATE_COLUMNS: tuple[tuple[str, bool, str, str, str], ...] = (
    ("No", False, "Nomor urut, boleh dikosongkan.", "Row number, may be left empty.", "1"),
    ("Nama Produk", True, f"Nama produk, 1–{NAME_MAX} karakter, tidak boleh sama dengan produk lain.",
     f"Product name, 1–{NAME_MAX} characters, unique within the shop.", "Keripik Singkong Balado 250 gr"),
    ("Kategori", True, "Pilih dari daftar (panah di sel). Harus kategori paling rinci, bukan induknya.",
     "Choose from the list (arrow in the cell). Must be the most specific category, not a parent.",
     "Keripik"),
    ("Harga (Rp)", True,
     f"Harga satuan dalam rupiah tanpa sen, {_id_num(PRICE_MIN)}–{_id_num(PRICE_MAX)}. Boleh ditulis "
     "15000, 15.000, Rp 15.000, Rp15.000,-, 15rb, 15 ribu, 1,5 jt. Jangan tulis 15,000 (ambigu) atau 'nego'.",
     f"Unit price in whole rupiah, {PRICE_MIN:,} to {PRICE_MAX:,}. Written as 15000, 15.000, Rp 15.000, "
     "15rb, 15 ribu, 1,5 jt. Not 15,000 (ambiguous) and not 'nego'.", "Rp 15.000"),
    ("Stok", True, f"Jumlah barang siap jual, 0–{_id_num(STOCK_MAX)}. 'habis' atau 'kosong' berarti 0; "
     "'40 pcs' boleh. Tidak boleh negatif.",
     f"Units ready to sell, 0 to {STOCK_MAX:,}. 'habis'/'kosong' mean 0; '40 pcs' is fine. Never negative.",
     "40"),
    ("Berat (gram)", True, "Berat setelah dikemas. Angka saja berarti gram; boleh juga 0,5 kg atau "
     "2 ons (1 ons = 100 gram).", "Packed weight. A bare number is grams; 0,5 kg or 2 ons "
     "(1 ons = 100 g) are also read.", "250"),
    ("Deskripsi", False, f"Keterangan produk, paling banyak {_id_num(DESCRIPTION_MAX)} karakter.",
     f"Product description, at most {DESCRIPTION_MAX:,} characters.", "Singkong pilihan, pedas manis."),
    *((f"Foto {i}", i == 1,
       "Tautan foto yang diawali https://. Foto 1 wajib." if i == 1 else "Tautan foto tambahan (https://).",
       "Photo link starting with https://. Photo 1 is required." if i == 1 else "Extra photo link (https://).",
       f"https://contoh.example/foto/keripik-{i}.jpg") for i in range(1, PICTURES_MAX + 1)),
    ("Kode/SKU", False, f"Kode produk Anda sendiri, unik, paling banyak {SKU_MAX} karakter.",
     f"Your own unique product code, at most {SKU_MAX} characters.", "KRP-001"),
    ("Minimum Pemesanan", False, "Jumlah paling sedikit per pesanan; kosong berarti 1.",
     "Minimum quantity per order; empty means 1.", "1"),
    ("Kondisi", False, "Pilih Baru atau Bekas; kosong berarti Baru.", "Choose Baru (new) or Bekas (used); "
     "empty means new.", "Baru"),
    ("Varian", False, "Satu varian satu baris (misalnya ukuran atau rasa); varian ditambahkan ke nama.",
     "One variant per row (e.g. size or flavour); the variant is added to the name.", "Pedas"),
    ("No. PIRT", False, "Untuk makanan olahan: nomor P-IRT (15 digit) atau BPOM MD/ML. Dicantumkan di deskripsi.",
     "For processed food: the P-IRT number (15 digits) or BPOM MD/ML. Shown in the description.",
     "P-IRT No. 2073307010123-28"),
)
TEMPLATE_HEADERS = tuple(c[0] for c in TEMPLATE_COLUMNS)
INSTRUCTIONS_SHEET = "Petunjuk (Instructions)"
PRODUCT_SHEET = "Produk"
CATEGORY_SHEET = "Kategori"
TEMPLATE_ROWS = 2000  # last row the dropdowns cover
STOCK_DATE_LABEL = "Stok per / Stock as of:"
STOCK_DATE_LABEL_CELL = "A1"
STOCK_DATE_CELL = "B1"  # where the group writes the date its stock was counted
HEADER_ROW = 2  # the Produk sheet's header; products from the row below
_DATE_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="BF9000")


def write_template(path: Path) -> Path:
    """Write the blank catalogue template: instructions first, an empty ``Produk`` sheet with dropdowns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    parents, leaves = _category_tree()
    wb = Workbook()
    _instructions_sheet(wb.active, parents, leaves)
    ws = _product_sheet(wb)
    _category_sheet(wb, parents, leaves)
    _dropdowns(ws, len(leaves))
    wb.active = 0
    wb.save(path)
    return path


def _category_tree() -> tuple[dict[Any, str], list[Any]]:
    """Parent category id → name, and the leaf categories (the only ones a product may name)."""
    parents = {c.id: c.name for c in DEFAULT_CATEGORIES if not c.is_leaf}
    leaves = [c for c in DEFAULT_CATEGORIES if c.is_leaf]
    return parents, leaves


def _instructions_sheet(info: Worksheet, parents: dict[Any, str], leaves: list[Any]) -> None:
    """The first sheet: how to fill the template, every column explained with an example, the categories."""
    info.title = INSTRUCTIONS_SHEET
    info.append(["Templat Katalog Produk Lapak Desa / Lapak Desa product catalogue template"])
    info["A1"].font = Font(bold=True, size=14)
    for line in (
        f"Isi lembar 'Produk': satu baris untuk satu produk, mulai baris {HEADER_ROW + 1}. Jangan ubah judul "
        f"kolom. / Fill in the 'Produk' sheet: one row per product, from row {HEADER_ROW + 1}. Do not change "
        "the headers.",
        f"Tanggal stok: di sel {STOCK_DATE_CELL} lembar 'Produk' (baris '{STOCK_DATE_LABEL}' di atas tabel) tulis "
        "tanggal stok dihitung, misalnya 20/11/2026 atau 20 November 2026 (tanggal dulu, lalu bulan). Stok "
        "dianggap dihitung pukul 00.00 WIB hari itu: pesanan sejak tanggal itu dikurangkan dari stok. Tulis "
        "tanggal baru setiap kali stok dihitung ulang; jangan tanggal yang belum tiba. Kosong: dipakai waktu "
        "berkas terakhir disimpan. / Stock date: in cell "
        f"{STOCK_DATE_CELL} of the 'Produk' sheet (the '{STOCK_DATE_LABEL}' line above the table) write the "
        "date the stock was counted, e.g. 20/11/2026 or 20 November 2026 (day first). The stock counts from "
        "00:00 WIB that day: orders since then are taken off it. Write a new date each time the stock is "
        "counted again; never a date still to come. Left empty: the time the file was last saved is used.",
        "Kolom wajib harus diisi; baris yang salah dikembalikan dengan alasannya. "
        "/ Required columns must be filled; a wrong row comes back with its reason.",
        "Contoh di bawah hanya contoh: jangan disalin ke lembar 'Produk' kecuali itu produk Anda. "
        "/ The examples below are examples only.",
    ):
        info.append([line])
    info.append([])
    head = ["Kolom / Column", "Wajib? / Required?", "Penjelasan", "Explanation", "Contoh / Example"]
    info.append(head)
    for c in info[info.max_row]:
        c.font = BOLD
        c.fill = HEADER_FILL
    for name, required, text_id, text_en, example in TEMPLATE_COLUMNS:
        info.append([name, "Wajib / Required" if required else "Tidak / Optional", text_id, text_en, example])
        for c in info[info.max_row]:
            c.alignment = WRAP
            c.data_type = "s"
    info.append([])
    info.append(["Daftar kategori / Category list"])
    info[f"A{info.max_row}"].font = BOLD
    for pid, pname in parents.items():
        info.append([pname, ", ".join(c.name for c in leaves if c.parent_id == pid)])
    for col, w in zip("ABCDE", (20, 18, 60, 60, 34)):
        info.column_dimensions[col].width = w


def _product_sheet(wb: Workbook) -> Worksheet:
    """The empty ``Produk`` sheet: the stock date line, then headers only (required ones in red),
    sized columns, everything down to the header frozen."""
    ws = wb.create_sheet(PRODUCT_SHEET)
    _stock_date_line(ws)
    for i, (name, required, *_rest) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=HEADER_ROW, column=i, value=name)
        cell.font = Font(bold=True, color="9C0006" if required else None)
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = {"Nama Produk": 40, "Deskripsi": 50}.get(
            name, 34 if name.startswith("Foto") else max(len(name) + 4, 12))
    ws.column_dimensions["A"].width = len(STOCK_DATE_LABEL) + 2  # the label fits beside a filled date
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    return ws


def _stock_date_line(ws: Worksheet) -> None:
    """Row 1: the label, and the highlighted cell for the date (a date cell shown day first; text
    such as ``20 November 2026`` is read as well)."""
    label = ws[STOCK_DATE_LABEL_CELL]
    label.value, label.font = STOCK_DATE_LABEL, BOLD
    date = ws[STOCK_DATE_CELL]
    date.fill, date.number_format = _DATE_FILL, "DD/MM/YYYY"
    date.border = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
    # A prompt, not a value: nothing here may look like a date to the reader but what the group writes.
    prompt = DataValidation(allow_blank=True, showInputMessage=True, promptTitle="Tanggal stok / Stock date",
                            prompt="Tanggal stok dihitung, tanggal dulu (20/11/2026). "
                                   "/ The day the stock was counted, day first.")
    prompt.add(STOCK_DATE_CELL)
    ws.add_data_validation(prompt)


def _category_sheet(wb: Workbook, parents: dict[Any, str], leaves: list[Any]) -> None:
    """The hidden sheet the category dropdown reads: leaf name, parent name."""
    cats = wb.create_sheet(CATEGORY_SHEET)
    for leaf in leaves:
        cats.append([leaf.name, parents.get(leaf.parent_id, "")])
    cats.sheet_state = "hidden"


def _column(header: str) -> str:
    """The column letter of a template header on the ``Produk`` sheet."""
    return get_column_letter(TEMPLATE_HEADERS.index(header) + 1)


def _dropdowns(ws: Worksheet, n_leaves: int) -> None:
    """Dropdowns on the ``Produk`` sheet: category (from the hidden sheet) and condition."""
    cat_col, cond_col = _column("Kategori"), _column("Kondisi")
    # "warning" style: a group may still type a name it uses (an alias the config maps); Excel asks first.
    dv_cat = DataValidation(type="list", formula1=f"={CATEGORY_SHEET}!$A$1:$A${n_leaves}",
                            allow_blank=True, showErrorMessage=True, errorStyle="warning",
                            errorTitle="Kategori / Category",
                            error="Pilih kategori dari daftar. / Choose a category from the list.",
                            promptTitle="Kategori / Category", prompt="Pilih dari daftar / Choose from the list",
                            showInputMessage=True)
    dv_cond = DataValidation(type="list", formula1='"Baru,Bekas"', allow_blank=True, showErrorMessage=True,
                             errorTitle="Kondisi / Condition", error="Baru atau Bekas / Baru (new) or Bekas (used)")
    first = HEADER_ROW + 1
    dv_cat.add(f"{cat_col}{first}:{cat_col}{TEMPLATE_ROWS}")
    dv_cond.add(f"{cond_col}{first}:{cond_col}{TEMPLATE_ROWS}")
    ws.add_data_validation(dv_cat)
    ws.add_data_validation(dv_cond)
