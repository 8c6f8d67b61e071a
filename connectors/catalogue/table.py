"""One sheet as read (positional string columns) -> the labelled rows the normaliser takes.

Both the CSV and the workbook readers produce a :class:`SheetData`; everything after that
(dropping blank and instruction rows, naming columns, the grid for the annotated copy) is here,
once, and vectorised with pyarrow so a million-row CSV stays fast.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.dates import RECORDED_LABEL, StatedDate, find_date

from .headers import SheetHeader, is_instruction_row
from .model import STRING

log = logging.getLogger(__name__)

FIELD_ORDER = ("name", "category", "price", "stock", "weight", "description", "sku", "min_order",
               "condition", "status", "variant", "pirt", "halal", "expiry", "unit", "no")
MAX_INSTRUCTION_ROWS = 5
"""Templates put one or two guidance rows under the header; never skip more than this."""


def column_letter(pos: int) -> str:
    """Spreadsheet column name of a 0-based position (0 -> A, 27 -> AB)."""
    letters = ""
    pos += 1
    while pos:
        pos, rem = divmod(pos - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def stated_date(sheet: SheetData) -> StatedDate | None:
    """The date the sheet's title rows (above its header) say its stock was recorded, if any.

    A cell with a label (``diperbarui``, ``stok per``, ``as of`` …) and a date after it, or a
    label cell with the date in the next filled cell to its right.
    """
    for r, row in enumerate(sheet.top[: sheet.head.row_index]):
        for c, cell in enumerate(row):
            if not cell or not (label := RECORDED_LABEL.search(cell)):
                continue
            hit = find_date(cell[label.end():])
            if hit is None:
                right = next((x for x in row[c + 1:] if x), None)
                hit = find_date(right) if right else None
            if hit is not None:
                return StatedDate(hit[0], sheet.name, r + 1, column_letter(c), cell)
    return None


def positional_names(width: int) -> list[str]:
    """Column names of a positional table: c0, c1, …"""
    return [f"c{i}" for i in range(width)]


def strings_table(columns: list[list[str | None]], width: int) -> pa.Table:
    """A positional table of string columns (missing ones all null) from Python lists."""
    n = len(columns[0]) if columns else 0
    arrays = [pa.array(columns[i], pa.string()) if i < len(columns) else pa.nulls(n, pa.string())
              for i in range(width)]
    return pa.table(arrays, names=positional_names(width))


@dataclass
class SheetData:
    """One sheet with a header, as read: rows above and at the header, then the rows below it.

    ``table`` holds every row after the header, blank ones included, as string columns
    ``c0 … cN`` by position; ``rows`` is each one's row number as the spreadsheet shows it.
    ``fills`` copies a vertically merged cell's value down its merge (first row, last row,
    column, value) so every product row shows what the person sees.
    """

    name: str
    head: SheetHeader
    top: list[list[str | None]]          # rows 1 … header row
    table: pa.Table
    rows: np.ndarray
    fills: list[tuple[int, int, int, str]] = field(default_factory=list)

    @property
    def header_row(self) -> int:
        return self.head.row_index + 1


@dataclass
class LabelledSheet:
    """What :func:`label_sheet` makes of a sheet."""

    frame: pd.DataFrame
    headers: dict[str, str]
    units: dict[str, str]
    unknown: list[str]
    grid: pd.DataFrame | None


def _filled(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    valid = pc.is_valid(col)
    return pc.and_(valid, pc.invert(pc.fill_null(pc.utf8_is_space(col), False)))


def _row_cells(table: pa.Table, i: int) -> list[str | None]:
    return [table.column(j)[i].as_py() for j in range(table.num_columns)]


def _same_text(col: pa.ChunkedArray, text: str) -> pa.Array:
    folded = pc.utf8_lower(pc.utf8_trim_whitespace(col))
    return pc.fill_null(pc.equal(folded, text.strip().lower()), False)


def _keep_mask(sheet: SheetData, file: str) -> np.ndarray:
    """Which rows are data: not blank, not a template's instruction row, not a repeated header."""
    table, head = sheet.table, sheet.head
    no_pos = head.position("no")
    # A row holding only its number ("No" pre-filled down an empty template), or only values in
    # columns never read (the marketplace's "Asuransi Pengiriman" dragged down), is still blank.
    content = [j for j in range(table.num_columns) if j != no_pos and j not in head.unused] or [no_pos]
    keep = np.zeros(table.num_rows, dtype=bool)
    for j in content:
        keep |= _filled(table.column(j)).to_numpy(zero_copy_only=False)

    skipped = []
    for i in np.flatnonzero(keep)[:MAX_INSTRUCTION_ROWS]:
        if not is_instruction_row(_row_cells(table, int(i)), head):
            break
        keep[i] = False
        skipped.append(int(sheet.rows[i]))
    if skipped:
        log.info("%s, sheet %s: skipped template instruction row(s) %s under the header",
                 file, sheet.name, skipped)

    name_pos = head.position("name")
    other_pos = head.position("price")
    if other_pos is None:
        other_pos = head.position("stock")
    if name_pos is not None and other_pos is not None and table.num_rows:
        again = pc.and_(_same_text(table.column(name_pos), head.cells[name_pos]),
                        _same_text(table.column(other_pos), head.cells[other_pos]))
        again_np = again.to_numpy(zero_copy_only=False) & keep
        if again_np.any():
            log.info("%s, sheet %s: skipped repeated header row(s) %s", file, sheet.name,
                     sheet.rows[again_np].tolist()[:20])
            keep &= ~again_np
    return keep


def _extra_columns(sheet: SheetData, keep: np.ndarray, file: str) -> list[str]:
    """Columns with data but no header (cells past the header's end, blank header cells)."""
    out = []
    seen: list[str] = []
    cells = sheet.head.cells
    for j in range(sheet.table.num_columns):
        if j < len(cells) and cells[j] and cells[j].strip():
            continue
        filled = _filled(sheet.table.column(j)).to_numpy(zero_copy_only=False) & keep
        if filled.any():
            letter = column_letter(j)
            out.append(f"Kolom {letter} (tanpa judul / no header)")
            seen.append(f"{letter} (rows {sheet.rows[filled].tolist()[:5]})")
    if seen:  # one line, however many columns
        log.warning("%s, sheet %s: %d column(s) have values but no header; not read: %s%s", file, sheet.name,
                    len(seen), ", ".join(seen[:10]), " …" if len(seen) > 10 else "")
    return out


def _apply_fills(sheet: SheetData, columns: dict[str, pa.ChunkedArray], rows: np.ndarray) -> None:
    for first, last, pos, value in sheet.fills:
        name = sheet.head.columns.get(pos)
        if name is None:
            continue
        inside = pa.array((rows > first) & (rows <= last))
        columns[name] = pc.if_else(pc.and_(inside, pc.invert(pc.is_valid(columns[name]))),
                                   pa.scalar(value, pa.string()), columns[name])


def ordered_columns(names) -> list[str]:
    """Canonical column order: the fields in FIELD_ORDER, then photo_1 … photo_N."""
    photos = sorted((n for n in names if n.startswith("photo_")), key=lambda n: int(n[6:]))
    return [n for n in FIELD_ORDER if n in names] + photos


def to_pandas(table: pa.Table) -> pd.DataFrame:
    """pyarrow -> pandas keeping strings pyarrow-backed (no object columns)."""
    return table.to_pandas(types_mapper={pa.string(): STRING, pa.large_string(): STRING}.get)


def label_sheet(sheet: SheetData, file: str, keep_grid: bool) -> LabelledSheet:
    """Name the columns of one sheet and keep only its data rows."""
    head = sheet.head
    for dup in head.duplicates:
        log.warning("%s, sheet %s: column '%s' repeats a field already read from another column; "
                    "using the first", file, sheet.name, dup)
    keep = _keep_mask(sheet, file)
    unknown = list(head.unknown) + _extra_columns(sheet, keep, file)

    everything = bool(keep.all())         # the usual machine-written file: skip the copy
    kept = sheet.table if everything else sheet.table.filter(pa.array(keep))
    rows = sheet.rows if everything else sheet.rows[keep]
    columns = {name: kept.column(pos) for pos, name in head.columns.items() if pos < kept.num_columns}
    for name in head.columns.values():   # a header cell past the last data cell
        columns.setdefault(name, pa.nulls(kept.num_rows, pa.string()))
    if sheet.fills:
        _apply_fills(sheet, columns, rows)
    names = ordered_columns(columns)
    out = pa.table(
        [pa.repeat(pa.scalar(sheet.name, pa.string()), kept.num_rows), pa.array(rows, pa.int64())]
        + [columns[n] for n in names],
        names=["sheet", "row", *names],
    )
    labels = {n: head.labels[n] for n in names}
    grid = build_grid(sheet) if keep_grid else None
    return LabelledSheet(to_pandas(out), labels, dict(head.units), unknown, grid)


def build_grid(sheet: SheetData) -> pd.DataFrame:
    """The whole sheet as written: row i+1 at index i, columns 0 … N-1, strings or NA."""
    width = max([sheet.table.num_columns, *(len(r) for r in sheet.top)])
    top = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in sheet.top],
                       columns=range(width), dtype=STRING)
    body = to_pandas(sheet.table)
    body.columns = range(body.shape[1])
    body = body.reindex(columns=range(width))
    body.index = sheet.rows - 1
    grid = pd.concat([top, body]) if len(body) else top
    last = int(sheet.rows.max()) if len(sheet.rows) else len(sheet.top)
    return grid.reindex(range(last)).astype(STRING)
