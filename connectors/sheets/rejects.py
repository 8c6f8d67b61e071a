"""The rejects report: the group's own sheets annotated with reasons, a summary and a problem list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from connectors.catalogue import ERROR_COLUMN, match_header
from connectors.files import private_dir
from schemas.rejects import REJECT_COLUMNS

from .safe import (
    BOLD,
    WRAP,
    _cell,
    _records,
    _sheet_title,
    _table_sheet,
    _widths,
    _xlsx_clean,
    replace_atomically,
    write_csv,
)

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
# The bad cell itself, darker than its row so the eye lands on it; a warning's lighter than a reject's.
CELL_REJECT_FILL = PatternFill("solid", fgColor="FF7C80")
CELL_WARNING_FILL = PatternFill("solid", fgColor="FFD966")
COMMENT_AUTHOR = "Lapak Desa"
_COMMENT_MAX = 2_000  # characters: a note is read on hover, not scrolled


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


def _header_key(value: Any) -> str:
    return " ".join(str(value).split()).casefold()


def _cell_marks(problems: pd.DataFrame, header: list[Any]) -> dict[int, dict[int, tuple[str, bool]]]:
    """Per row, per 0-based column position: the comment for each bad cell and whether a reject
    is among its problems. Only problems naming a column found on the header row (first
    occurrence, spacing and case aside) have a cell; a missing column's problem keeps the row mark."""
    p = problems.dropna(subset=["row"])
    p = p[p["column"] != ""]
    positions: dict[str, int] = {}
    for pos, h in enumerate(header):
        if h is not None and str(h).strip():
            positions.setdefault(_header_key(h), pos)
    pos = p["column"].map(lambda c: positions.get(_header_key(c)))
    p = p.assign(pos=pos).dropna(subset=["pos"])
    if p.empty:
        return {}
    rejected = p["severity"] == "reject"
    text = p["reason_id"] + "\n" + p["reason_en"]
    text = text.where(rejected, "Peringatan: " + p["reason_id"] + "\nWarning: " + p["reason_en"])
    cells = (p.assign(text=text, rejected=rejected)
             .groupby(["row", "pos"], sort=False)
             .agg(text=("text", "\n\n".join), rejected=("rejected", "any")))
    marks: dict[int, dict[int, tuple[str, bool]]] = {}
    for (row, col), note, rej in zip(cells.index, cells["text"], cells["rejected"]):
        marks.setdefault(int(row), {})[int(col)] = (note, bool(rej))
    return marks


def _marked_cell(ws, value: Any, note: str, rejected: bool):
    """The bad cell: its own fill and the reasons as a comment (shown on hover in Excel and Calc)."""
    c = _cell(ws, value, fill=CELL_REJECT_FILL if rejected else CELL_WARNING_FILL)
    text = ILLEGAL_CHARACTERS_RE.sub("", note)
    if len(text) > _COMMENT_MAX:
        text = text[: _COMMENT_MAX - 1] + "…"
    lines = sum(len(line) // 45 + 1 for line in text.split("\n"))
    c.comment = Comment(text, COMMENT_AUTHOR, height=min(20 + 15 * lines, 400), width=320)
    return c


def _print_ready(ws, header_row: int) -> None:
    """Landscape A4, the rows down to the header on every printed page. Not shrunk to the page's
    width: a group's sheet of photo links would print too small to read."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.print_title_rows = f"1:{header_row}"


def _guess_header_row(grid: pd.DataFrame) -> int:
    """Without a known header row, the widest of the first 30 rows (1-based), the first on ties."""
    head = grid.head(30)
    if head.empty:
        return 1
    filled = sum(head.iloc[:, i].astype("str").fillna("").str.strip().ne("").astype(int)
                 for i in range(head.shape[1]))
    return int(filled.to_numpy().argmax()) + 1


def _error_column(grid: pd.DataFrame, header_row: int) -> int | None:
    """Position of the sheet's own error column — the marketplace workbook's ``Pesan Error`` (its
    example sheet: ``Error Message``) — on the header row, if it has one."""
    if not 0 < header_row <= len(grid):
        return None
    for pos, cell in enumerate(grid.iloc[header_row - 1]):
        if isinstance(cell, str) and (m := match_header(cell)) is not None and m.field == ERROR_COLUMN:
            return pos
    return None


def _annotated_sheet(wb: Workbook, title: str, grid: pd.DataFrame, problems: pd.DataFrame,
                     header_row: int) -> str:
    """The group's sheet as written, problem rows coloured, each one's reasons beside it: in the
    sheet's own ``Pesan Error`` column when it has one (the marketplace's convention, so the fixed
    file can also be uploaded there by hand), else in a column added right of the last one. Each
    bad cell is coloured darker, its reasons in a comment. ``problems`` are this sheet's.
    Returns the header of the column holding the reasons."""
    notes = _row_notes(problems)
    grid = _xlsx_clean(grid.reset_index(drop=True))
    own = _error_column(grid, header_row)
    reasons = grid.shape[1] if own is None else own
    ws = wb.create_sheet(title)
    # Widths from the header row down: a title above the table spills over empty cells anyway.
    for i, w in enumerate(_widths(grid.iloc[max(header_row - 1, 0):]), start=1):
        ws.column_dimensions[get_column_letter(i)].width = w
    ws.column_dimensions[get_column_letter(reasons + 1)].width = 70
    ws.freeze_panes = f"A{header_row + 1}"
    _print_ready(ws, header_row)
    by_row = {int(r): (n, rej) for r, n, rej in zip(notes["row"], notes["note"], notes["rejected"])}
    header_cells = list(grid.iloc[header_row - 1]) if 0 < header_row <= len(grid) else []
    marks = _cell_marks(problems, header_cells)
    header = REASON_HEADER if own is None else str(grid.iat[header_row - 1, own])
    for i, rec in enumerate(_records(grid)):
        r = i + 1
        rec += [None] * (reasons + 1 - len(rec))   # the added column, when there is no own one
        if r == header_row:
            cells = [_cell(ws, v, font=BOLD) for v in rec]
            cells[reasons] = _cell(ws, header, font=Font(bold=True, color="9C0006"), fill=REJECT_FILL)
        elif r in by_row:
            note, rejected = by_row[r]
            fill = REJECT_FILL if rejected else WARNING_FILL
            cells = [_cell(ws, v, fill=fill) for v in rec]
            for pos, (text, bad) in marks.get(r, {}).items():
                if pos != reasons:
                    cells[pos] = _marked_cell(ws, rec[pos], text, bad)
            cells[reasons] = _cell(ws, note, fill=fill, alignment=WRAP)
        else:
            cells = [_cell(ws, v) for v in rec]
        ws.append(cells)
    return header


def _how_to_fix(annotated: dict[str, str]) -> str:
    """Where the reasons are: the sheet's own error column, or the one added on the right."""
    if not annotated:
        return (f"Perbaiki baris yang disebut di lembar '{PROBLEMS_SHEET}' pada katalog Anda. "
                f"/ Fix the rows listed in sheet '{PROBLEMS_SHEET}' in your catalogue.")
    where = ", ".join(f"'{t}'" for t in annotated)
    columns = set(annotated.values())
    if columns == {REASON_HEADER}:
        col_id, col_en = "kolom paling kanan", "the last column"
    else:
        names = ", ".join(f"'{c}'" for c in sorted(columns))
        col_id, col_en = f"kolom {names}", f"column {names}"
    return (f"Perbaiki baris merah di lembar {where} (alasannya di {col_id}; sel yang salah berwarna lebih tua "
            f"dan alasannya ada di komentarnya), lalu kirim kembali berkas ini. / Fix the red rows in sheet {where} "
            f"(the reason is in {col_en}; the wrong cell is darker and its comment says why), "
            f"then send this file back.")


def _summary_sheet(ws, group_id: str, problems: pd.DataFrame, annotated: dict[str, str],
                   stock_as_of: str | None = None) -> None:
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
        lines.append(["Cara memperbaiki / How to fix", _how_to_fix(annotated)])
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
    (``header=None``; index i is spreadsheet row i+1); each is reproduced with its problem rows
    coloured and their reasons in the sheet's own ``Pesan Error`` column (the marketplace
    workbook's) or, without one, in a reason column added on the right; each bad cell (a problem
    whose ``column`` is on the header row) darker, its reasons in a comment. ``header_rows`` maps a
    sheet name to its 1-based header row (guessed as the widest early row when absent).
    ``stock_as_of`` (text) says on the summary sheet from when the catalogue's stock counts
    (orders after it are taken off). The CSV holds the per-problem lines.
    """
    if not group_id or Path(group_id).name != group_id or group_id in {".", ".."}:
        raise ValueError(f"group id {group_id!r} cannot name a file")
    problems = _normalise_rejects(rejects, group_id)
    folder = Path(out_dir) / "rejects"
    private_dir(folder)
    xlsx_path, csv_path = folder / f"{group_id}.xlsx", folder / f"{group_id}.csv"

    table = _problem_table(problems, group_id)
    replace_atomically(csv_path, lambda tmp: write_csv(tmp, table))

    grids = grids or {}
    taken = {SUMMARY_SHEET, PROBLEMS_SHEET}  # a group's own sheet name must not take ours
    titles = {sheet: _sheet_title(sheet, taken) for sheet in grids}
    wb = Workbook(write_only=True)
    summary = wb.create_sheet(SUMMARY_SHEET)   # first, filled once the sheets say where their reasons are
    annotated = {}
    for sheet, grid in grids.items():
        header_row = (header_rows or {}).get(sheet) or _guess_header_row(grid)
        annotated[titles[sheet]] = _annotated_sheet(wb, titles[sheet], grid, problems[problems["sheet"] == sheet],
                                                    int(header_row))
    _summary_sheet(summary, group_id, problems, annotated, stock_as_of)
    _table_sheet(wb, PROBLEMS_SHEET, table)
    replace_atomically(xlsx_path, wb.save)
    return xlsx_path, csv_path
