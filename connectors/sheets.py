"""Spreadsheets written back to people: order sheets, rejects reports and the blank template.

Groups open these files in Excel. Text Excel could run as a formula (CWE-1236: ``=``, ``+``,
``-``, ``@``, tab, CR first) is made inert. In XLSX every text is a string cell, and a risky one
also carries Excel's "quote prefix" style (what typing a leading ``'`` does): it shows exactly
as written (a phone ``+62…`` reads ``+62…``) and stays text when someone edits the cell. A CSV
has no types or styles, so there :func:`safe_frame` writes the apostrophe itself. Numbers stay
numbers. Headers people read are Indonesian with English beside them.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from schemas.categories import DEFAULT_CATEGORIES
from schemas.listing import DESCRIPTION_MAX, NAME_MAX, PICTURES_MAX, PRICE_MAX, PRICE_MIN, SKU_MAX, STOCK_MAX

EXCEL_CELL_MAX = 32_767
"""Characters Excel holds in one cell."""

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

REJECT_COLUMNS = ("group_id", "file", "sheet", "row", "column", "value", "reason_id", "reason_en", "severity")
PROBLEM_HEADERS = {
    "group_id": "Kelompok / Group",
    "file": "Berkas / File",
    "sheet": "Lembar / Sheet",
    "row": "Baris / Row",
    "column": "Kolom / Column",
    "value": "Nilai tertulis / Value as written",
    "reason_id": "Alasan / Reason (ID)",
    "reason_en": "Reason (EN)",
    "severity": "Jenis / Severity",
}
SEVERITY_LABELS = {"reject": "ditolak / reject", "warning": "peringatan / warning"}
REASON_HEADER = "Alasan ditolak / Reason rejected"
SUMMARY_SHEET = "Ringkasan (Summary)"
PROBLEMS_SHEET = "Daftar Masalah (Problems)"
NO_REJECTS = "Tidak ada baris ditolak / No rejected rows"
WARNING_PREFIX = "Peringatan / Warning: "
REJECT_FILL = PatternFill("solid", fgColor="FFC7CE")   # Excel's "bad" light red
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")  # Excel's "neutral" light yellow
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")
BOLD = Font(bold=True)
WRAP = Alignment(wrap_text=True, vertical="top")
MAX_WIDTH = 60
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


# --------------------------------------------------------------------------- neutralising

def safe_text(value: Any) -> Any:
    """``value`` made inert for a spreadsheet: risky text gets a leading ``'``; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _is_text_column(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype))


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` with every risky text cell (and column label) neutralised; numbers untouched."""
    out = df.copy()
    out.columns = [safe_text(c) for c in out.columns]
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if not _is_text_column(s):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        try:
            risky = s.str.startswith(FORMULA_PREFIXES, na=False).to_numpy(dtype=bool)
        except AttributeError:  # an object column holding no strings at all
            continue
        if risky.any():
            s = s.copy()
            s.iloc[risky] = ("'" + s.iloc[risky].astype(str)).to_numpy()
            out.isetitem(i, s)
    return out


def _xlsx_clean(df: pd.DataFrame) -> pd.DataFrame:
    """Drop control characters XML cannot hold (openpyxl refuses them; tab, CR and LF stay) and
    cut text past Excel's 32,767 characters per cell (Excel calls a longer one a damaged file)."""
    out = df.copy()
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            out.isetitem(i, s.dt.tz_localize(None))  # Excel has no time zones: keep the wall time
        elif _is_text_column(s):
            try:
                has_bad = s.str.contains(ILLEGAL_CHARACTERS_RE.pattern, regex=True, na=False)
                too_long = s.str.len().fillna(0).to_numpy() > EXCEL_CELL_MAX
            except AttributeError:
                continue
            bad = has_bad.to_numpy(dtype=bool)
            if bad.any():
                s = s.copy()
                s.iloc[bad] = s.iloc[bad].str.replace(ILLEGAL_CHARACTERS_RE.pattern, "", regex=True).to_numpy()
            if too_long.any():
                s = s.copy()
                s.iloc[too_long] = (s.iloc[too_long].str.slice(0, EXCEL_CELL_MAX - 1) + "…").to_numpy()
            if bad.any() or too_long.any():
                out.isetitem(i, s)
    return out


# --------------------------------------------------------------------------- low-level writing

def _sheet_title(name: str, taken: set[str]) -> str:
    """A valid, unused Excel sheet name (≤ 31 characters, none of ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", str(name)).strip("'") or "Sheet"
    title, n = base[:31], 2
    while title.casefold() in {t.casefold() for t in taken}:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(title)
    return title


def _cell(ws, value: Any, *, font: Font | None = None, fill: PatternFill | None = None,
          alignment: Alignment | None = None) -> WriteOnlyCell | Any:
    """A write-only cell; text is forced to a string cell so nothing can become a formula or error,
    and text a spreadsheet would read as a formula also gets the quote-prefix style."""
    if value is not None and not isinstance(value, str) and pd.isna(value):
        value = None
    if font is None and fill is None and alignment is None and not isinstance(value, str):
        return value
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"
        if value.startswith(FORMULA_PREFIXES):
            c.quotePrefix = True
    if font is not None:
        c.font = font
    if fill is not None:
        c.fill = fill
    if alignment is not None:
        c.alignment = alignment
    return c


def _records(df: pd.DataFrame) -> Iterator[list[Any]]:
    """Row value lists with every missing value as ``None``."""
    obj = df.astype(object)
    obj = obj.where(df.notna(), None)
    for rec in obj.itertuples(index=False, name=None):
        yield list(rec)


def _widths(df: pd.DataFrame, header: list[str] | None = None) -> list[float]:
    """Column widths from the longest line in each column (vectorised), capped at MAX_WIDTH."""
    widths = []
    for i in range(df.shape[1]):
        s = df.iloc[:, i]
        text = s.astype(object).where(s.notna(), "").astype(str)
        longest = int(text.str.split("\n").explode().str.len().max()) if len(text) else 0
        if header is not None:
            longest = max(longest, len(str(header[i])))
        widths.append(min(max(longest, 4) + 2, MAX_WIDTH))
    return widths


def _table_sheet(wb: Workbook, title: str, df: pd.DataFrame, *, autofit: bool = True,
                 freeze_header: bool = True) -> None:
    df = _xlsx_clean(df)
    ws = wb.create_sheet(title)
    header = [str(c) for c in df.columns]
    if autofit:
        for i, w in enumerate(_widths(df, header), start=1):
            ws.column_dimensions[get_column_letter(i)].width = w
    if freeze_header:
        ws.freeze_panes = "A2"
    ws.append([_cell(ws, h, font=BOLD, fill=HEADER_FILL) for h in header])
    for rec in _records(df):
        ws.append([_cell(ws, v) for v in rec])


def write_xlsx(path: Path, sheets: Mapping[str, pd.DataFrame], *, autofit: bool = True,
               freeze_header: bool = True) -> Path:
    """Write one sheet per frame (name → frame): bold header, sized columns, numbers as numbers, text inert
    (string cells; quote-prefixed where a spreadsheet would see a formula)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    for name, df in sheets.items():
        _table_sheet(wb, _sheet_title(name, taken), df, autofit=autofit, freeze_header=freeze_header)
    if not sheets:
        wb.create_sheet("Sheet")
    wb.save(path)
    return path


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    """Write ``df`` as UTF-8 with BOM (so Excel picks the encoding), ``,``-separated, text inert."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return path


def replace_atomically(path: Path, write: Any) -> Path:
    """``write(tmp)`` next to ``path``, then rename over it: a group opening its report never
    sees half a file, and two runs writing it at once never mix (one temporary file each)."""
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# --------------------------------------------------------------------------- rejects report

def rejects_frame(rejects: Iterable[Any]) -> pd.DataFrame:
    """A rejects frame (:data:`REJECT_COLUMNS`) from :class:`schemas.listing.Reject` models or dicts."""
    rows = [r.model_dump() if hasattr(r, "model_dump") else dict(r) for r in rejects]
    return _normalise_rejects(pd.DataFrame(rows, columns=list(REJECT_COLUMNS)), group_id="")


def _normalise_rejects(rejects: pd.DataFrame, group_id: str) -> pd.DataFrame:
    df = rejects.copy()
    for col in REJECT_COLUMNS:
        if col not in df.columns:
            df[col] = group_id if col == "group_id" else "reject" if col == "severity" else None
    df = df[list(REJECT_COLUMNS)]
    df["row"] = pd.to_numeric(df["row"], errors="coerce").astype("Int64")
    df["severity"] = df["severity"].fillna("reject")
    unknown = set(df["severity"]) - set(SEVERITY_LABELS)
    if unknown:
        raise ValueError(f"unknown severity {sorted(unknown)!r}; expected 'reject' or 'warning'")
    for col in ("group_id", "file", "sheet", "column", "reason_id", "reason_en"):
        df[col] = df[col].astype(object).where(df[col].notna(), "").astype(str)
    if group_id:
        df["group_id"] = df["group_id"].where(df["group_id"] != "", group_id)
    return df.sort_values(["file", "sheet", "row"], kind="stable", na_position="first").reset_index(drop=True)


def _problem_table(problems: pd.DataFrame, group_id: str) -> pd.DataFrame:
    """The per-problem lines with bilingual headers; one explanatory line when there are none."""
    if problems.empty:
        line = dict.fromkeys(REJECT_COLUMNS, "")
        line.update(group_id=group_id, row=None, reason_id="Tidak ada baris ditolak", reason_en="No rejected rows")
        table = pd.DataFrame([line], columns=list(REJECT_COLUMNS)).astype({"row": "Int64"})
    else:
        table = problems.assign(severity=problems["severity"].map(SEVERITY_LABELS))
    return table.rename(columns=PROBLEM_HEADERS)


def _row_notes(problems: pd.DataFrame) -> pd.DataFrame:
    """Per (sheet, row): every problem joined into one cell, and whether the row is rejected."""
    p = problems.dropna(subset=["row"])
    if p.empty:
        return pd.DataFrame(columns=["sheet", "row", "note", "rejected"])
    col = p["column"].where(p["column"] == "", p["column"] + ": ")
    text = col + p["reason_id"] + " / " + p["reason_en"]
    text = text.where(p["severity"] == "reject", WARNING_PREFIX + text)
    notes = (p.assign(note=text, rejected=p["severity"] == "reject")
             .groupby(["sheet", "row"], sort=False)
             .agg(note=("note", "; ".join), rejected=("rejected", "any"))
             .reset_index())
    return notes


def _guess_header_row(grid: pd.DataFrame) -> int:
    """Without a known header row, the widest of the first 30 rows (1-based), the first on ties."""
    head = grid.head(30)
    if head.empty:
        return 1
    filled = sum(head.iloc[:, i].astype("str").fillna("").str.strip().ne("").astype(int)
                 for i in range(head.shape[1]))
    return int(filled.to_numpy().argmax()) + 1


def _annotated_sheet(wb: Workbook, title: str, grid: pd.DataFrame, notes: pd.DataFrame,
                     header_row: int) -> None:
    """The group's sheet as written, a reason column right of the last one, problem rows coloured."""
    grid = _xlsx_clean(grid.reset_index(drop=True))
    ncol = grid.shape[1]
    ws = wb.create_sheet(title)
    for i, w in enumerate(_widths(grid), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.column_dimensions[get_column_letter(ncol + 1)].width = 70
    ws.freeze_panes = f"A{header_row + 1}"
    by_row = {int(r): (n, rej) for r, n, rej in zip(notes["row"], notes["note"], notes["rejected"])}
    for i, rec in enumerate(_records(grid)):
        r = i + 1
        if r == header_row:
            cells = [_cell(ws, v, font=BOLD) for v in rec]
            cells.append(_cell(ws, REASON_HEADER, font=Font(bold=True, color="9C0006"), fill=REJECT_FILL))
        elif r in by_row:
            note, rejected = by_row[r]
            fill = REJECT_FILL if rejected else WARNING_FILL
            cells = [_cell(ws, v, fill=fill) for v in rec]
            cells.append(_cell(ws, note, fill=fill, alignment=WRAP))
        else:
            cells = [_cell(ws, v) for v in rec]
        ws.append(cells)


def _summary_sheet(wb: Workbook, group_id: str, problems: pd.DataFrame, annotated: list[str],
                   stock_as_of: str | None = None) -> None:
    ws = wb.create_sheet(SUMMARY_SHEET)
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 70
    keys = ["file", "sheet", "row"]
    rejected = problems[problems["severity"] == "reject"].drop_duplicates(keys)
    flagged = problems.drop_duplicates(keys)
    warn_only = len(flagged) - len(flagged.merge(rejected[keys], on=keys))
    files = ", ".join(sorted(set(problems["file"]) - {""}))
    lines: list[list[Any]] = [
        ["Laporan baris ditolak / Rejected rows report"],
        ["Kelompok / Group", group_id],
        ["Berkas / File", files],
        ["Baris ditolak / Rows rejected", len(rejected)],
        ["Baris dengan peringatan saja / Rows with warnings only", int(warn_only)],
        ["Jumlah masalah / Problems", len(problems)],
    ]
    if stock_as_of:
        lines.append(["Stok dihitung per / Stock counted as of", stock_as_of])
    lines.append([])
    if rejected.empty:
        lines.append([NO_REJECTS])
    else:
        if annotated:
            where = ", ".join(f"'{t}'" for t in annotated)
            how = (f"Perbaiki baris merah di lembar {where} (alasannya di kolom paling kanan), lalu kirim "
                   f"kembali berkas ini. / Fix the red rows in sheet {where} (the reason is in the last "
                   "column), then send this file back.")
        else:
            how = (f"Perbaiki baris yang disebut di lembar '{PROBLEMS_SHEET}' pada katalog Anda. "
                   f"/ Fix the rows listed in sheet '{PROBLEMS_SHEET}' in your catalogue.")
        lines.append(["Cara memperbaiki / How to fix", how])
    if not problems.empty:
        lines += [[], ["Masalah per kolom / Problems per column", "Jumlah / Count"]]
        per_col = problems["column"].replace("", "(berkas / file)").value_counts(sort=True)
        lines += [[c, int(n)] for c, n in per_col.items()]
    for i, line in enumerate(lines):
        bold = i == 0 or (line and line[0] == "Masalah per kolom / Problems per column")
        ws.append([_cell(ws, v, font=BOLD if bold else None,
                         alignment=WRAP if isinstance(v, str) and len(v) > 60 else None) for v in line])


def write_rejects_report(out_dir: Path, group_id: str, rejects: pd.DataFrame,
                         grids: Mapping[str, pd.DataFrame] | None = None,
                         header_rows: Mapping[str, int] | None = None,
                         stock_as_of: str | None = None) -> tuple[Path, Path]:
    """Write ``out_dir/rejects/<group_id>.xlsx`` and ``.csv``; return both paths.

    ``rejects`` has :data:`REJECT_COLUMNS`, one line per problem (``row`` 1-based as the
    spreadsheet shows it). ``grids`` maps a sheet name to that sheet exactly as written
    (``header=None``; index i is spreadsheet row i+1); each is reproduced with a reason column
    and its problem rows coloured. ``header_rows`` maps a sheet name to its 1-based header row
    (guessed as the widest early row when absent). ``stock_as_of`` (text) says on the summary
    sheet from when the catalogue's stock counts (orders after it are taken off). The CSV holds
    the per-problem lines.
    """
    if not group_id or Path(group_id).name != group_id or group_id in {".", ".."}:
        raise ValueError(f"group id {group_id!r} cannot name a file")
    problems = _normalise_rejects(rejects, group_id)
    folder = Path(out_dir) / "rejects"
    folder.mkdir(parents=True, exist_ok=True)
    xlsx_path, csv_path = folder / f"{group_id}.xlsx", folder / f"{group_id}.csv"

    table = _problem_table(problems, group_id)
    replace_atomically(csv_path, lambda tmp: write_csv(tmp, table))

    grids = grids or {}
    taken = {SUMMARY_SHEET, PROBLEMS_SHEET}  # a group's own sheet name must not take ours
    titles = {sheet: _sheet_title(sheet, taken) for sheet in grids}
    notes = _row_notes(problems)
    wb = Workbook(write_only=True)
    _summary_sheet(wb, group_id, problems, list(titles.values()), stock_as_of)
    for sheet, grid in grids.items():
        header_row = (header_rows or {}).get(sheet) or _guess_header_row(grid)
        _annotated_sheet(wb, titles[sheet], grid, notes[notes["sheet"] == sheet], int(header_row))
    _table_sheet(wb, PROBLEMS_SHEET, table)
    replace_atomically(xlsx_path, wb.save)
    return xlsx_path, csv_path


# --------------------------------------------------------------------------- blank template

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
TEMPLATE_ROWS = 2000  # rows the dropdowns cover


def write_template(path: Path) -> Path:
    """Write the blank catalogue template: instructions first, an empty ``Produk`` sheet with dropdowns."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb = Workbook()
    info = wb.active
    info.title = INSTRUCTIONS_SHEET
    info.append(["Templat Katalog Produk Lapak Desa / Lapak Desa product catalogue template"])
    info["A1"].font = Font(bold=True, size=14)
    for line in (
        "Isi lembar 'Produk': satu baris untuk satu produk, mulai baris 2. Jangan ubah judul kolom. "
        "/ Fill in the 'Produk' sheet: one row per product, from row 2. Do not change the headers.",
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
    parents = {c.id: c.name for c in DEFAULT_CATEGORIES if not c.is_leaf}
    leaves = [c for c in DEFAULT_CATEGORIES if c.is_leaf]
    for pid, pname in parents.items():
        info.append([pname, ", ".join(c.name for c in leaves if c.parent_id == pid)])
    for col, w in zip("ABCDE", (20, 18, 60, 60, 34)):
        info.column_dimensions[col].width = w

    ws = wb.create_sheet(PRODUCT_SHEET)
    ws.append(list(TEMPLATE_HEADERS))
    for i, (name, required, *_rest) in enumerate(TEMPLATE_COLUMNS, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="9C0006" if required else None)
        cell.fill = HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = {"Nama Produk": 40, "Deskripsi": 50}.get(
            name, 34 if name.startswith("Foto") else max(len(name) + 4, 12))
    ws.freeze_panes = "A2"

    cats = wb.create_sheet(CATEGORY_SHEET)
    for leaf in leaves:
        cats.append([leaf.name, parents.get(leaf.parent_id, "")])
    cats.sheet_state = "hidden"

    def column(header: str) -> str:
        return get_column_letter(TEMPLATE_HEADERS.index(header) + 1)

    cat_col, cond_col = column("Kategori"), column("Kondisi")
    # "warning" style: a group may still type a name it uses (an alias the config maps); Excel asks first.
    dv_cat = DataValidation(type="list", formula1=f"={CATEGORY_SHEET}!$A$1:$A${len(leaves)}",
                            allow_blank=True, showErrorMessage=True, errorStyle="warning",
                            errorTitle="Kategori / Category",
                            error="Pilih kategori dari daftar. / Choose a category from the list.",
                            promptTitle="Kategori / Category", prompt="Pilih dari daftar / Choose from the list",
                            showInputMessage=True)
    dv_cond = DataValidation(type="list", formula1='"Baru,Bekas"', allow_blank=True, showErrorMessage=True,
                             errorTitle="Kondisi / Condition", error="Baru atau Bekas / Baru (new) or Bekas (used)")
    dv_cat.add(f"{cat_col}2:{cat_col}{TEMPLATE_ROWS}")
    dv_cond.add(f"{cond_col}2:{cond_col}{TEMPLATE_ROWS}")
    ws.add_data_validation(dv_cat)
    ws.add_data_validation(dv_cond)
    wb.active = 0
    wb.save(path)
    return path
