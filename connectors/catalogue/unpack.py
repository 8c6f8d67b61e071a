"""What a ZIP workbook (XLSX, ODS) holds, looked at before any reader allocates it.

A workbook that would take unbounded memory to read is refused with a message: one that unpacks
to more than MAX_UNPACKED_BYTES, a decompression bomb, or a sheet whose cells span more than
MAX_CELLS (one stray cell at XFD1048576, or an ODS cell "repeated" two million times, makes a
reader allocate billions). An ODS is read like an XLSX, so the same limits hold for it; and its
merged cells, which calamine does not report for ODS, are taken from the same pass.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
import zipfile
import zlib
from xml.parsers import expat

from schemas.errors import CatalogueError

from .table import column_letter

MAX_UNPACKED_BYTES = 200_000_000
"""What a workbook may unpack to: a catalogue people edit is a few MB; more is refused before
any reader allocates it (a decompression bomb, a runaway export)."""
MAX_RATIO = 100
"""Unpacked/packed beyond this (and over 20 MB) is a decompression bomb, not a spreadsheet."""
MAX_CELLS = 20_000_000
"""A sheet's bounding box (rows × columns) at most; readers allocate all of it."""
# The start tags that place cells (``<row>``, ``<c>``, with or without a namespace prefix), their
# ``r=`` attribute, and a cell reference's column letters and row number.
_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_REF_ATTR = re.compile(rb'\sr\s*=\s*["\']([^"\']*)["\']')
_CELL_POS = re.compile(rb"\$?([A-Z]{1,3})\$?([0-9]{1,7})?")
_SST = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sst\b([^>]*)>")
_COUNT_ATTR = re.compile(rb'\s(?:count|uniqueCount)\s*=\s*["\']([0-9]{1,20})["\']')
_SCAN_CHUNK = 1 << 20
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0 "
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0 "

Merge = tuple[tuple[int, int], tuple[int, int]]
"""A merged range as calamine gives it: (first row, first column), (last row, last column), 0-based."""
Box = list[int]  # top, left, bottom, right (0-based, inclusive)


def damaged(file: str) -> CatalogueError:
    return CatalogueError(file, "Berkas Excel rusak atau tidak lengkap; simpan ulang lalu kirim lagi",
                          "The workbook is damaged or incomplete; save it again and resend it")


def _too_big(file: str, size: int) -> CatalogueError:
    return CatalogueError(
        file, f"Berkas Excel ini terlalu besar setelah dibuka (lebih dari {MAX_UNPACKED_BYTES / 1e6:.0f} MB); "
        "simpan ulang hanya lembar produk, atau bagi katalognya",
        f"The workbook unpacks to more than {MAX_UNPACKED_BYTES / 1e6:.0f} MB ({size / 1e6:.0f} MB found); save only "
        "the product sheet again, or split the catalogue")


def _too_wide(file: str, sheet: str, box: Box) -> CatalogueError:
    far = f"{column_letter(box[3])}{box[2] + 1}"
    return CatalogueError(
        file,
        f"Lembar '{sheet}' punya isi jauh di luar tabel (sampai sel {far}); hapus sel itu (Ctrl+End "
        "menunjukkannya) lalu simpan ulang",
        f"Sheet '{sheet}' has content far outside the table (as far as cell {far}); delete that cell "
        "(Ctrl+End shows it) and save again")


def _spans_too_much(box: Box) -> bool:
    return box[2] >= box[0] and (box[2] - box[0] + 1) * (box[3] - box[1] + 1) > MAX_CELLS


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_paths(z: zipfile.ZipFile) -> dict[str, str]:
    """XLSX member path of each sheet name (``xl/worksheets/sheet1.xml`` → ``Produk``)."""
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


class _Budget:
    """Bytes unpacked so far, against MAX_UNPACKED_BYTES."""

    def __init__(self, file: str):
        self.file, self.used = file, 0

    def chunks(self, z: zipfile.ZipFile, info: zipfile.ZipInfo):
        with z.open(info) as member:
            while chunk := member.read(_SCAN_CHUNK):
                self.used += len(chunk)
                if self.used > MAX_UNPACKED_BYTES:
                    raise _too_big(self.file, self.used)
                yield chunk


def _check_xlsx_sheet(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget, names: dict[str, str]) -> None:
    """The sheet's box of cells as a reader places them, refused when it spans more than MAX_CELLS.

    A position may be implied (valid OOXML): a ``<row>`` without ``r=`` is the row after the
    previous one, a ``<c>`` without ``r=`` the column after the previous cell of its row. Both are
    counted as the reader counts them, so 200 cells without ``r=`` in row 1048576 are as far away
    as cells that say where they are.
    """
    box = [1 << 30, 1 << 30, -1, -1]
    row, col = -1, -1
    tail = b""
    for chunk in budget.chunks(z, info):
        text = tail + chunk
        cut = text.rfind(b"<")  # a tag cut by the chunk's end waits for the next chunk
        if cut < 0:
            tail = b""
            continue
        for m in _TAG.finditer(text, 0, cut):
            ref = _REF_ATTR.search(m.group(2))
            if m.group(1) == b"row":
                row = int(ref.group(1)) - 1 if ref and ref.group(1).isdigit() else row + 1
                col = -1
                continue
            pos = _CELL_POS.fullmatch(ref.group(1)) if ref else None
            if pos:
                col = _column_number(pos.group(1)) - 1
                if pos.group(2):
                    row = int(pos.group(2)) - 1
            else:
                col += 1
            if row < box[0]:
                box[0] = row
            if col < box[1]:
                box[1] = col
            if row > box[2]:
                box[2] = row
            if col > box[3]:
                box[3] = col
        tail = text[cut:]
    if _spans_too_much(box):
        raise _too_wide(budget.file, names.get(info.filename, info.filename), box)


def _check_shared_strings(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> None:
    """Shared strings may not claim more entries than their bytes can hold (a reader reserves room
    for the claimed count: two billion of them is gigabytes before the first string is read)."""
    head = next(budget.chunks(z, info), b"")[:4096]
    sst = _SST.search(head)
    if sst is None:
        return
    most = info.file_size // 5 + 16  # "<si/>" is the shortest entry
    for count in _COUNT_ATTR.findall(sst.group(1)):
        if int(count) > most:
            raise damaged(budget.file)


class _OdsSheets:
    """One streaming pass over an ODS ``content.xml``: each sheet's box of filled cells (repeats
    counted) and its merged ranges."""

    def __init__(self) -> None:
        self.boxes: dict[str, Box] = {}
        self.merges: dict[str, list[Merge]] = {}
        self._name, self._row, self._col, self._rows = "?", 0, 0, 1
        self._cell: list | None = None  # [column, repeat, filled]

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _TABLE + "table":
            self._name, self._row = attrs.get(_TABLE + "name", "?"), 0
            self.boxes[self._name], self.merges[self._name] = [1 << 62, 1 << 62, -1, -1], []
        elif tag == _TABLE + "table-row":
            self._rows, self._col = int(attrs.get(_TABLE + "number-rows-repeated", 1)), 0
        elif tag in (_TABLE + "table-cell", _TABLE + "covered-table-cell"):
            repeat = int(attrs.get(_TABLE + "number-columns-repeated", 1))
            rows, cols = (int(attrs.get(_TABLE + f"number-{k}-spanned", 1)) for k in ("rows", "columns"))
            if rows > 1 or cols > 1:
                self.merges[self._name].append(((self._row, self._col), (self._row + rows - 1, self._col + cols - 1)))
            self._cell = [self._col, repeat, _OFFICE + "value-type" in attrs]

    def text(self, data: str) -> None:
        if self._cell is not None and not data.isspace():
            self._cell[2] = True

    def end(self, tag: str) -> None:
        if tag in (_TABLE + "table-cell", _TABLE + "covered-table-cell") and self._cell is not None:
            col, repeat, filled = self._cell
            if filled:
                b = self.boxes[self._name]
                b[:] = [min(b[0], self._row), min(b[1], col), max(b[2], self._row + self._rows - 1),
                        max(b[3], col + repeat - 1)]
            self._col += repeat
            self._cell = None
        elif tag == _TABLE + "table-row":
            self._row += self._rows


def _scan_ods(z: zipfile.ZipFile, info: zipfile.ZipInfo, budget: _Budget) -> dict[str, list[Merge]]:
    scan = _OdsSheets()
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.StartElementHandler, parser.EndElementHandler = scan.start, scan.end
    parser.CharacterDataHandler = scan.text
    try:
        for chunk in budget.chunks(z, info):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except (expat.ExpatError, ValueError):
        raise damaged(budget.file) from None
    for name, box in scan.boxes.items():
        if _spans_too_much(box):
            raise _too_wide(budget.file, name, box)
    return scan.merges


def _check_sizes(file: str, infos: list[zipfile.ZipInfo]) -> None:
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


def inspect_zip(data: bytes, file: str) -> dict[str, list[Merge]]:
    """Refuse, with a message, a ZIP workbook that would take unbounded memory to read: one that
    unpacks to more than MAX_UNPACKED_BYTES (sizes as declared and as actually unpacked), a
    decompression bomb, or a sheet whose cells span more than MAX_CELLS.

    Returns an ODS's merged ranges by sheet name (``{}`` for an XLSX, whose calamine reads them).
    """
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError):  # "zip file version 6.9"
        raise damaged(file) from None
    _check_sizes(file, infos)
    budget = _Budget(file)
    merges: dict[str, list[Merge]] = {}
    try:
        names = _sheet_paths(z)
        for info in infos:
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                _check_xlsx_sheet(z, info, budget, names)
            elif info.filename.lower() == "xl/sharedstrings.xml":
                _check_shared_strings(z, info, budget)
            elif info.filename == "content.xml":
                merges = _scan_ods(z, info, budget)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError, RuntimeError):
        raise damaged(file) from None  # ValueError: "negative seek value" (a bad member offset)
    return merges
