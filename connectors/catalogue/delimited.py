"""CSV files: encoding, delimiter and header found on a small sample, the rest read by pyarrow.

Row numbers are what Excel shows when it opens the file: every record counts, blank lines
included, and a quoted cell with line breaks is one row. pyarrow keeps blank lines as null rows
(``ignore_empty_lines=False``) and, reading single-threaded, reports each ragged row's record
number, so the numbering stays exact without a pass of the Python csv module over the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from schemas.errors import CatalogueError

from .headers import HEADER_SCAN_ROWS, SheetHeader, find_header
from .model import one_line_errors
from .table import SheetData, positional_names, strings_table

log = logging.getLogger(__name__)

_NON_SPACE = re.compile(rb"\S")
_SEP_HINT = re.compile(rb"sep=([;,\t|])[ \t]*(\r\n|\n|\r)", re.IGNORECASE)
DELIMITERS = (";", ",", "\t", "|")   # Indonesian Excel writes ";" first: it wins a tie
SAMPLE_BYTES = 1 << 20
BLOCK_BYTES = 1 << 23                 # pyarrow block; a single record must fit in one
_WIDTH_ROWS = 50                      # records after the header that set the expected width
MAX_EXTRA_CELLS = 64                  # cells a ragged row may have past the usual width


def _decode_sample(body: bytes, at_eof: bool, errors: str = "strict") -> str:
    return codecs.getincrementaldecoder("utf-8")(errors).decode(body[:SAMPLE_BYTES], final=at_eof)


def to_utf8(data: bytes) -> tuple[bytes, str, bool]:
    """The file's bytes as UTF-8, the encoding it was in, and whether that was only a guess.

    BOM first; then UTF-8 if the sample decodes; else cp1252 (Excel's "CSV" on Windows), which
    never fails: the few undefined bytes become U+FFFD. A pure-ASCII sample only guesses UTF-8;
    pyarrow then checks the rest of the file.
    """
    if data.startswith(codecs.BOM_UTF8):
        return data[3:], "utf-8-sig", False
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", errors="replace").encode("utf-8"), "utf-16", False
    if (utf16 := utf16_without_bom(data)) is not None:
        return data.decode(utf16, errors="replace").encode("utf-8"), utf16, False
    try:
        sample = _decode_sample(data, len(data) <= SAMPLE_BYTES)
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace").encode("utf-8"), "cp1252", False
    return data, "utf-8", sample.isascii()


def utf16_without_bom(data: bytes) -> str | None:
    """``"utf-16-le"``/``"utf-16-be"`` when text looks like mostly-ASCII UTF-16 written without a
    BOM (every other byte NUL), else ``None``."""
    head = data[:4096]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


@dataclass
class _Record:
    cells: list[str]
    end: int                      # byte offset just past the record


def _records(text: str, delimiter: str, complete_to_eof: bool) -> Iterator[_Record]:
    """Records of the sample with their end offsets (csv reads exactly one line at a time)."""
    consumed = 0
    last_line = ""

    def lines() -> Iterator[str]:
        nonlocal consumed, last_line
        for line in io.StringIO(text, newline=""):
            consumed += len(line.encode("utf-8"))
            last_line = line
            yield line

    reader = csv.reader(lines(), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)
    for cells in reader:
        # A record cut by the end of the sample is not a record.
        if not complete_to_eof and not last_line.endswith(("\n", "\r")):
            return
        yield _Record(cells, consumed)


def _sample_header(text: str, delimiter: str, at_eof: bool) -> tuple[SheetHeader, list[_Record]] | None:
    records: list[_Record] = []
    filled = 0
    try:
        for rec in _records(text, delimiter, at_eof):
            records.append(rec)
            filled += any(c.strip() for c in rec.cells)
            if filled >= HEADER_SCAN_ROWS + _WIDTH_ROWS:
                break
    except csv.Error:
        return None
    head = find_header([[c or None for c in r.cells] for r in records])
    return (head, records) if head else None


def _expected_width(records: list[_Record]) -> int:
    """The cell count most data rows of the sample have (the header's if there are none).

    Rows that leave out empty trailing cells, or end with an extra delimiter, are then the
    norm pyarrow reads at full speed rather than ragged rows to put back one by one.
    """
    counts = Counter(len(r.cells) for r in records[1:] if any(c.strip() for c in r.cells))
    if not counts:
        return len(records[0].cells)
    top = max(counts.values())
    return max(n for n, c in counts.items() if c == top)


def _fields(head: SheetHeader) -> int:
    return len({"photo" if n.startswith("photo_") else n for n in head.columns.values()})


Ragged = tuple[int, int, str]
"""A record whose cell count differs from the expected width: (record number, cells, raw text)."""


def _parse(buffer: pa.Buffer, width: int, delimiter: str, quoted: bool) -> tuple[pa.Table, list[Ragged]]:
    """Every record of ``buffer``, blank ones as null rows; ragged ones set aside with their number.

    ``quoted``: the buffer has a quote character, so a value may hold line breaks.
    """
    names = positional_names(width)
    ragged: list[Ragged] = []

    def set_aside(row: pacsv.InvalidRow) -> str:
        ragged.append((row.number, row.actual_columns, row.text))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(buffer),
        # Single-threaded: faster here than two threads, and it numbers the ragged rows.
        read_options=pacsv.ReadOptions(column_names=names, use_threads=False, block_size=BLOCK_BYTES),
        parse_options=pacsv.ParseOptions(
            delimiter=delimiter, quote_char='"', double_quote=True,
            newlines_in_values=quoted,
            ignore_empty_lines=False, invalid_row_handler=set_aside),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True),
    )
    return table, ragged


def _ragged_table(items: list[Ragged], width: int, delimiter: str) -> pa.Table:
    """Rows that all have ``width`` cells, parsed together by pyarrow (csv module if that disagrees)."""
    joined = "\n".join(text for _, _, text in items)
    table, odd = _parse(pa.py_buffer(joined.encode("utf-8")), width, delimiter, '"' in joined)
    if not odd and table.num_rows == len(items):
        return table
    cells = [next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), []) for _, _, text in items]
    return strings_table([[(c[j] or None) if j < len(c) else None for c in cells] for j in range(width)], width)


def _pad(table: pa.Table, width: int) -> pa.Table:
    """At least ``width`` columns, the missing ones all null (added in one go: a row of
    thousands of cells must not cost thousands of table copies)."""
    if table.num_columns >= width:
        return table
    missing = width - table.num_columns
    return pa.table(list(table.columns) + [pa.nulls(table.num_rows, pa.string())] * missing,
                    names=positional_names(width))


def _splice(table: pa.Table, ragged: list[Ragged], delimiter: str) -> tuple[pa.Table, np.ndarray]:
    """Put the ragged rows back where they were; cells past the expected width become extra columns.

    Rows are grouped by cell count and each group parsed by pyarrow in one go, so a file where
    most rows leave out their empty trailing cells stays fast.
    """
    total = table.num_rows + len(ragged)
    numbers = np.array([n for n, _, _ in ragged], dtype=np.int64)
    if (numbers < 1).any() or len(np.unique(numbers)) != len(numbers):
        raise ValueError("pyarrow did not number the ragged rows")
    groups: dict[int, list[Ragged]] = {}
    for item in ragged:
        groups.setdefault(item[1], []).append(item)
    width = max([table.num_columns, *groups])
    if width > table.num_columns + MAX_EXTRA_CELLS:
        # Cells that far past the table have no header and are never read; keeping them would
        # only make a stray row of thousands of cells cost seconds and a vast annotated copy.
        width = table.num_columns + MAX_EXTRA_CELLS
        wide = sorted(n for n, cells, _ in ragged if cells > width)
        log.warning("%d row(s) have more than %d cells (record(s) %s); the cells past column %d are ignored",
                    len(wide), width, wide[:10], width)
    parts = [_pad(table, width)]
    order = [np.setdiff1d(np.arange(1, total + 1), numbers, assume_unique=True)]
    for cells, items in groups.items():
        part = _ragged_table(items, cells, delimiter)
        parts.append(_pad(part.select(list(range(width))) if part.num_columns > width else part, width))
        order.append(np.array([n for n, _, _ in items], dtype=np.int64))
    all_numbers = np.concatenate(order)
    sort = np.argsort(all_numbers, kind="stable")
    return pa.concat_tables(parts).take(pa.array(sort)), all_numbers[sort]


@one_line_errors
def read_delimited(data: bytes, file: str, sheet: str) -> tuple[SheetData, str, str]:
    """Read a CSV's bytes: the sheet found in it, the encoding and the delimiter used."""
    body, encoding, guessed = to_utf8(data)
    candidates = DELIMITERS
    hint = _SEP_HINT.match(body)
    if hint:
        # Excel's "sep=;" first line: it names the delimiter and Excel does not show it as a row.
        body, candidates = body[hint.end():], (hint.group(1).decode(),)
    at_eof = len(body) <= SAMPLE_BYTES
    text = _decode_sample(body, at_eof, errors="replace")
    found = {d: _sample_header(text, d, at_eof) for d in candidates if d in text}
    found = {d: f for d, f in found.items() if f}
    if not found and hint:
        # A "sep=" line naming the wrong delimiter (a file edited by hand): go by the content.
        found = {d: _sample_header(text, d, at_eof) for d in DELIMITERS if d in text}
        found = {d: f for d, f in found.items() if f}
    if not found:
        raise no_header(file)
    delimiter = max(found, key=lambda d: _fields(found[d][0]))   # first of DELIMITERS on a tie
    head, records = found[delimiter]
    idx = head.row_index
    width = _expected_width(records[idx:])
    offset = records[idx].end
    try:
        if _NON_SPACE.search(body, offset):
            table, ragged = _parse(pa.py_buffer(body)[offset:], width, delimiter,
                                   quoted=body.find(b'"', offset) != -1)
        else:
            table, ragged = strings_table([], width), []
    except pa.ArrowInvalid as exc:
        if "utf8" not in str(exc).lower() and "utf-8" not in str(exc).lower():
            raise CatalogueError(file, "Isi CSV tidak bisa dibaca (struktur baris rusak)",
                                 f"The CSV cannot be parsed: {exc}") from None
        # The sample looked like UTF-8 but a later byte is not: cp1252 if the sample was plain
        # ASCII (no evidence either way), else UTF-8 with the stray bytes replaced.
        body = (data.decode("cp1252", errors="replace") if guessed
                else data.decode("utf-8", errors="replace")).encode("utf-8")
        encoding = "cp1252" if guessed else "utf-8"
        log.info("%s: not valid UTF-8 past the first %d bytes; read as %s", file, SAMPLE_BYTES, encoding)
        sheet_data, _, delimiter = read_delimited(body, file, sheet)
        return sheet_data, encoding, delimiter
    if ragged:
        log.info("%s: %d row(s) have a different number of cells than most rows", file, len(ragged))
        table, numbers = _splice(table, ragged, delimiter)
    else:
        numbers = np.arange(1, table.num_rows + 1, dtype=np.int64)
    if body.count(b'"', offset) % 2:  # quotes come in pairs, unless one was never closed
        _check_quotes(table, numbers + (idx + 1), delimiter, width, file)
    top = [[c or None for c in r.cells] for r in records[: idx + 1]]
    table = _pad(table, len(head.cells))      # header cells past the rows' last cell
    return SheetData(sheet, head, top, table, numbers + (idx + 1)), encoding, delimiter


def _check_quotes(table: pa.Table, rows: np.ndarray, delimiter: str, width: int, file: str) -> None:
    """A ``"`` opened and never closed swallows the lines after it into one cell: refuse the file,
    naming the row, rather than lose those products silently."""
    need = max(2, (width - 1) // 2)
    for col in table.columns:
        swallowed = pc.and_(pc.match_substring(col, "\n"), pc.greater_equal(pc.count_substring(col, delimiter), need))
        hit = np.flatnonzero(pc.fill_null(swallowed, False).to_numpy(zero_copy_only=False))
        if len(hit):
            row = int(rows[hit[0]])
            value = col[int(hit[0])].as_py()
            lines = value.count("\n")
            raise CatalogueError(
                file,
                f"Tanda kutip (\") di baris {row} tidak ditutup, sehingga {lines} baris sesudahnya terbaca sebagai "
                f"satu sel; hapus atau tutup tanda kutip itu lalu kirim lagi",
                f"A quote (\") in row {row} is never closed, so the {lines} line(s) after it were read as one cell "
                f"(starting {value[:40]!r}); remove or close that quote and resend the file")


def no_header(file: str) -> CatalogueError:
    """The error for a file where no sheet has a recognisable header row."""
    return CatalogueError(
        file,
        "Baris judul kolom tidak ditemukan: perlu minimal kolom Nama Produk dan Harga",
        "No header row found: need at least a product name and a price column",
    )
