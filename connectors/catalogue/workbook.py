"""Workbooks (XLSX, XLSM, ODS, legacy XLS) read with calamine, every visible sheet with a header.

Cells come back as Excel shows them in a plain cell: 15000.0 -> "15000", 0.5 -> "0.5", a date
-> "2026-08-17". Row numbers are Excel's: calamine starts a sheet at its first used cell, so the
rows and columns before ``sheet.start`` are put back.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import zipfile
import zlib
from decimal import Decimal

import numpy as np
import python_calamine as calamine

from schemas.errors import CatalogueError

from .headers import find_header, label_header
from .table import SheetData, column_letter, strings_table

log = logging.getLogger(__name__)

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted (password-protected) OOXML file is an OLE container with this stream.
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")


def number_text(x: float) -> str:
    """A number as a plain Excel cell shows it: no spurious ".0", at most 15 significant digits."""
    if not math.isfinite(x):
        return str(x)
    if x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    text = repr(float(f"{x:.15g}"))     # 0.1 + 0.2 -> "0.3", as Excel shows it
    return format(Decimal(text), "f") if "e" in text else text


def cell_text(value: object) -> str | None:
    """One calamine cell value as text; empty cells are ``None``."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _damaged(file: str) -> CatalogueError:
    return CatalogueError(file, "Berkas Excel rusak atau tidak lengkap; simpan ulang lalu kirim lagi",
                          "The workbook is damaged or incomplete; save it again and resend it")


def _password(file: str) -> CatalogueError:
    return CatalogueError(file, "Berkas Excel dilindungi kata sandi; simpan ulang tanpa kata sandi",
                          "The workbook is password-protected; save it again without a password")


def _library_failure(exc: BaseException) -> bool:
    # calamine raises its own errors on bad input, and a panic in its Rust code surfaces as
    # pyo3's PanicException, which is not an Exception subclass.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


MAX_UNPACKED_BYTES = 200_000_000
"""What a workbook may unpack to: a catalogue people edit is a few MB; more is refused before
any reader allocates it (a decompression bomb, a runaway export)."""
MAX_RATIO = 100
"""Unpacked/packed beyond this (and over 20 MB) is a decompression bomb, not a spreadsheet."""
MAX_CELLS = 20_000_000
"""A sheet's bounding box (rows × columns) at most; readers allocate all of it."""
_CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"')
_SCAN_CHUNK = 1 << 20


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """XLSX member path of each sheet name (``xl/worksheets/sheet1.xml`` → ``Produk``)."""
    import xml.etree.ElementTree as ET

    try:
        book = ET.fromstring(z.read("xl/workbook.xml"))
        rels = ET.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, ET.ParseError):
        return {}
    rid = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    out = {}
    for sheet in book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        target = targets.get(sheet.get(rid), "").lstrip("/")
        out[target if target.startswith("xl/") else f"xl/{target}"] = sheet.get("name", "?")
    return out


def inspect_zip(data: bytes, file: str) -> None:
    """Refuse, with a message, a workbook that would take unbounded memory to read: one that
    unpacks to more than MAX_UNPACKED_BYTES (sizes as declared and as actually unpacked), a
    decompression bomb, or a sheet whose cells span more than MAX_CELLS (one stray cell at
    XFD1048576 makes a reader allocate seventeen billion)."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise _damaged(file) from None
    declared = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if declared > MAX_UNPACKED_BYTES:
        raise _too_big(file, declared)
    if declared > 20_000_000 and declared > MAX_RATIO * packed:
        packed_mb, declared_mb, ratio = f"{packed / 1e6:.1f}", f"{declared / 1e6:.0f}", declared // packed
        raise CatalogueError(
            file, f"Berkas Excel ini mengembang dari {packed_mb.replace('.', ',')} MB menjadi {declared_mb} MB saat "
            f"dibuka ({ratio}×), tidak wajar untuk katalog; simpan ulang dari Excel hanya lembar produk",
            f"The workbook grows from {packed_mb} MB to {declared_mb} MB when unpacked ({ratio}×), which no "
            "catalogue does; save only the product sheet again from Excel")
    names = _sheet_paths(z)
    unpacked = 0
    for info in infos:
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        top = left = 1 << 30
        bottom = right = 0
        tail = b""
        try:
            with z.open(info) as member:
                while chunk := member.read(_SCAN_CHUNK):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNPACKED_BYTES:
                        raise _too_big(file, unpacked)
                    text = tail + chunk
                    for m in _CELL_REF.finditer(text):
                        col, row = _column_number(m.group(1)), int(m.group(2))
                        top, bottom, left, right = min(top, row), max(bottom, row), min(left, col), max(right, col)
                    tail = text[-64:]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError):
            raise _damaged(file) from None
        if bottom and (bottom - top + 1) * (right - left + 1) > MAX_CELLS:
            sheet = names.get(info.filename, info.filename)
            far = f"{column_letter(right - 1)}{bottom}"
            raise CatalogueError(
                file,
                f"Lembar '{sheet}' punya isi jauh di luar tabel (sampai sel {far}); hapus sel itu (Ctrl+End "
                "menunjukkannya) lalu simpan ulang",
                f"Sheet '{sheet}' has content far outside the table (as far as cell {far}); delete that cell "
                "(Ctrl+End shows it) and save again")


def _too_big(file: str, size: int) -> CatalogueError:
    return CatalogueError(
        file, f"Berkas Excel ini terlalu besar setelah dibuka (lebih dari {MAX_UNPACKED_BYTES / 1e6:.0f} MB); "
        "simpan ulang hanya lembar produk, atau bagi katalognya",
        f"The workbook unpacks to more than {MAX_UNPACKED_BYTES / 1e6:.0f} MB ({size / 1e6:.0f} MB found); save only "
        "the product sheet again, or split the catalogue")


def _open(data: bytes, file: str) -> calamine.CalamineWorkbook:
    if data.startswith(OLE_MAGIC) and _ENCRYPTED_STREAM in data[:1 << 16]:
        raise _password(file)
    if data.startswith(b"PK\x03\x04"):
        inspect_zip(data, file)
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except calamine.PasswordError:
        raise _password(file) from None
    except BaseException as exc:
        if not _library_failure(exc):
            raise
        if data.startswith(OLE_MAGIC):
            raise CatalogueError(
                file, "Berkas .xls lama ini tidak bisa dibaca; buka di Excel lalu simpan sebagai .xlsx",
                "This legacy .xls file cannot be read; open it in Excel and save it as .xlsx") from None
        raise _damaged(file) from None


Cells = tuple[list[list[object]], tuple[int, int] | None, list]


def _load(wb: calamine.CalamineWorkbook, name: str, file: str) -> Cells:
    """A sheet's used cells, the position of the first one, and its merged ranges."""
    try:
        sheet = wb.get_sheet_by_name(name)
        return sheet.to_python(skip_empty_area=True), sheet.start, sheet.merged_cell_ranges
    except BaseException as exc:
        if not _library_failure(exc):
            raise
        raise _damaged(file) from None


def _sheet(cells: Cells, name: str) -> SheetData | None:
    values, start, merged = cells
    if not values or start is None:
        return None
    first_row, first_col = start
    lead = [None] * first_col
    rows: list[list[str | None]] = [[] for _ in range(first_row)]
    rows += [lead + [cell_text(v) for v in row] for row in values]
    head = find_header(rows)
    if head is None:
        return None

    h = head.row_index
    # A header cell merged down (two-row header): the row under it is still header, not data.
    header_end = max([h] + [r2 for (r1, _), (r2, _) in merged if r1 == h and r2 - h <= 2])
    fills = []
    for (r1, c1), (r2, c2) in merged:
        if r1 <= h <= r2 and c2 > c1 and c1 < len(head.cells) and head.cells[c1]:
            # "Foto" merged over three columns: each of them is a photo column.
            for c in range(c1 + 1, min(c2 + 1, len(head.cells))):
                head.cells[c] = head.cells[c] or head.cells[c1]
        elif r1 > header_end and r2 > r1 and r1 < len(rows) and rows[r1][c1] is not None:
            fills.append((r1 + 1, r2 + 1, c1, rows[r1][c1]))
    head = label_header(h, head.cells)

    body = rows[header_end + 1:]
    width = len(rows[-1])
    columns = [list(col) for col in zip(*body)] if body else []
    table = strings_table(columns, width)
    numbers = np.arange(header_end + 2, header_end + 2 + len(body), dtype=np.int64)
    return SheetData(name, head, rows[: header_end + 1], table, numbers, fills)


def _refuse_hidden_products(data: bytes, file: str, hidden: list[str]) -> None:
    """No visible sheet has products but a hidden one does: say so (else: no header, as usual)."""
    wb = _open(data, file)
    try:
        with_products = [n for n in hidden if _sheet(_load(wb, n, file), n) is not None]
    finally:
        wb.close()
    if with_products:
        names = ", ".join(f"'{n}'" for n in with_products)
        raise CatalogueError(
            file, f"Lembar produk {names} disembunyikan; tampilkan lagi (klik kanan tab lembar > Unhide / Tampilkan) "
            "lalu simpan",
            f"The product sheet {names} is hidden; unhide it (right-click a sheet tab > Unhide) and save again")


def read_workbook(data: bytes, file: str) -> list[SheetData]:
    """Every visible sheet of a workbook that has a header row, in workbook order."""
    wb = _open(data, file)
    found, hidden, without = [], [], []
    try:
        for meta in wb.sheets_metadata:
            if meta.visible != calamine.SheetVisibleEnum.Visible:
                hidden.append(meta.name)
            elif meta.typ == calamine.SheetTypeEnum.WorkSheet:
                sheet = _sheet(_load(wb, meta.name, file), meta.name)
                (found if sheet else without).append(sheet or meta.name)
    finally:
        wb.close()
    if hidden:
        log.info("%s: hidden sheet(s) not read: %s", file, ", ".join(hidden))
    if hidden and not found:
        _refuse_hidden_products(data, file, hidden)
    if without and found:
        log.info("%s: sheet(s) without a product header not read: %s", file, ", ".join(without))
    return found
