"""Workbooks (XLSX, XLSM, ODS, legacy XLS) read with calamine, every visible sheet with a header.

An ODS is read exactly like an XLSX: the same size and cell-span limits before reading
(:mod:`.unpack`), the same merged-cell handling (its merged ranges taken from its XML, which
calamine does not report for ODS).

Cells come back as Excel shows them in a plain cell: 15000.0 -> "15000", 0.5 -> "0.5", a date
-> "2026-08-17". Row numbers are Excel's: calamine starts a sheet at its first used cell, so the
rows and columns before ``sheet.start`` are put back.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
from decimal import Decimal

import numpy as np
import python_calamine as calamine

from schemas.errors import CatalogueError

from .headers import find_header, label_header
from .marketplace import is_list_sheet, without_examples
from .model import one_line_errors
from .table import SheetData, strings_table
from .unpack import Merge, damaged, inspect_zip

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


def _password(file: str) -> CatalogueError:
    return CatalogueError(file, "Berkas Excel dilindungi kata sandi; simpan ulang tanpa kata sandi",
                          "The workbook is password-protected; save it again without a password")


def _library_failure(exc: BaseException) -> bool:
    # calamine raises its own errors on bad input, and a panic in its Rust code surfaces as
    # pyo3's PanicException, which is not an Exception subclass.
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _open(data: bytes, file: str) -> tuple[calamine.CalamineWorkbook, dict[str, list[Merge]]]:
    """The workbook, and the merged ranges calamine gives none for (an ODS's, read from its XML)."""
    if data.startswith(OLE_MAGIC) and _ENCRYPTED_STREAM in data[:1 << 16]:
        raise _password(file)
    merges = inspect_zip(data, file) if data.startswith(b"PK\x03\x04") else {}
    try:
        return calamine.CalamineWorkbook.from_filelike(io.BytesIO(data)), merges
    except calamine.PasswordError:
        raise _password(file) from None
    except BaseException as exc:
        if not _library_failure(exc):
            raise
        if data.startswith(OLE_MAGIC):
            raise CatalogueError(
                file, "Berkas .xls lama ini tidak bisa dibaca; buka di Excel lalu simpan sebagai .xlsx",
                "This legacy .xls file cannot be read; open it in Excel and save it as .xlsx") from None
        raise damaged(file) from None


Cells = tuple[list[list[object]], tuple[int, int] | None, list[Merge]]


def _load(wb: calamine.CalamineWorkbook, name: str, file: str, merges: dict[str, list[Merge]]) -> Cells:
    """A sheet's used cells, the position of the first one, and its merged ranges.

    calamine gives ``None`` for the merged ranges of an ODS sheet (it reads them from XLSX and
    XLS only): those come from ``merges``, read off the ODS's own XML.
    """
    try:
        sheet = wb.get_sheet_by_name(name)
        values, start, merged = sheet.to_python(skip_empty_area=True), sheet.start, sheet.merged_cell_ranges
    except BaseException as exc:
        if not _library_failure(exc):
            raise
        raise damaged(file) from None
    return values, start, list(merged) if merged is not None else merges.get(name, [])


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
    wb, merges = _open(data, file)
    try:
        with_products = [n for n in hidden if _sheet(_load(wb, n, file, merges), n) is not None]
    finally:
        wb.close()
    if with_products:
        names = ", ".join(f"'{n}'" for n in with_products)
        raise CatalogueError(
            file, f"Lembar produk {names} disembunyikan; tampilkan lagi (klik kanan tab lembar > Unhide / Tampilkan) "
            "lalu simpan",
            f"The product sheet {names} is hidden; unhide it (right-click a sheet tab > Unhide) and save again")


@one_line_errors
def read_workbook(data: bytes, file: str) -> list[SheetData]:
    """Every visible sheet of a workbook that has a header row, in workbook order.

    The marketplace workbook's list sheets and example sheet are never read for products
    (:mod:`.marketplace`).
    """
    wb, merges = _open(data, file)
    found, hidden, without = [], [], []
    try:
        for meta in wb.sheets_metadata:
            if meta.visible != calamine.SheetVisibleEnum.Visible:
                hidden.append(meta.name)
            elif meta.typ == calamine.SheetTypeEnum.WorkSheet and is_list_sheet(meta.name):
                without.append(meta.name)
            elif meta.typ == calamine.SheetTypeEnum.WorkSheet:
                sheet = _sheet(_load(wb, meta.name, file, merges), meta.name)
                (found if sheet else without).append(sheet or meta.name)
    finally:
        wb.close()
    if hidden:
        log.info("%s: hidden sheet(s) not read: %s", file, ", ".join(hidden))
    if hidden and not found:
        _refuse_hidden_products(data, file, hidden)
    found, examples = without_examples(found)
    if examples:
        log.info("%s: example sheet(s) not read for products: %s", file, ", ".join(examples))
    if without and found:
        log.info("%s: sheet(s) without a product header not read: %s", file, ", ".join(without))
    return found
