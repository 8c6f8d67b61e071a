"""Neutralising and low-level writing: text made inert for a spreadsheet, XLSX/CSV writers, atomic replace.

Every file written here may hold buyers' names, phones and addresses (order sheets) or a group's
own sheets (rejects reports): each is created 0600, the folders made for it 0700
(:mod:`connectors.files`), whatever the umask.

Text Excel could run as a formula (CWE-1236: ``=``, ``+``, ``-``, ``@``, tab, CR first) is made
inert. In XLSX every text is a string cell, and a risky one also carries the "quote prefix" style;
a CSV has no types or styles, so there :func:`safe_frame` writes the apostrophe itself.
"""

from __future__ import annotations

import csv
import os
import re
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from connectors.files import FILE_MODE, private_file

EXCEL_CELL_MAX = 32_767
"""Characters Excel holds in one cell."""

# Characters that make a spreadsheet treat a cell as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

# Styles shared by the rejects report and the template.
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


# In a CSV, a risky start may also follow a separator: where Excel splits on ";" (the Indonesian
# list separator) an unquoted "Budi;=cmd|…" would become a cell starting "=". Every field is
# quoted as well; the apostrophe covers readers that ignore the quotes.
_CSV_RISKY = r"(?:^|[,;|\t\r\n])\s*[=+\-@\t\r]"


def _is_text_column(s: pd.Series) -> bool:
    return s.dtype == object or isinstance(s.dtype, (pd.StringDtype, pd.CategoricalDtype))


def safe_frame(df: pd.DataFrame, *, csv: bool = False) -> pd.DataFrame:
    """A copy of ``df`` with every risky text cell (and column label) neutralised; numbers untouched.

    ``csv``: also a text with a risky character after any separator (``,`` ``;`` ``|`` tab, a line break)."""
    out = df.copy()
    out.columns = [safe_text(c) for c in out.columns]
    for i in range(out.shape[1]):
        s = out.iloc[:, i]
        if not _is_text_column(s):
            continue
        if isinstance(s.dtype, pd.CategoricalDtype):
            s = s.astype(object)
        try:
            risky = (s.str.contains(_CSV_RISKY, regex=True, na=False) if csv
                     else s.str.startswith(FORMULA_PREFIXES, na=False)).to_numpy(dtype=bool)
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
    path = private_file(Path(path))
    wb = Workbook(write_only=True)
    taken: set[str] = set()
    for name, df in sheets.items():
        _table_sheet(wb, _sheet_title(name, taken), df, autofit=autofit, freeze_header=freeze_header)
    if not sheets:
        wb.create_sheet("Sheet")
    wb.save(path)
    return path


def write_csv(path: Path, df: pd.DataFrame) -> Path:
    """Write ``df`` as UTF-8 with BOM (so Excel picks the encoding), ``,``-separated, every field
    quoted, text inert whichever separator the spreadsheet splits on."""
    path = private_file(Path(path))
    safe_frame(df, csv=True).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\r\n",
                                    quoting=csv.QUOTE_ALL)
    return path


def replace_atomically(path: Path, write: Any) -> Path:
    """``write(tmp)`` next to ``path``, then rename over it: a group opening its report never
    sees half a file, and two runs writing it at once never mix (one temporary file each).

    The temporary file is created 0600 before ``write`` fills it (writers truncate a file, keeping
    its mode), and made 0600 again before the rename in case ``write`` replaced it; missing
    folders are created 0700."""
    path = Path(path)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}-{threading.get_ident()}.tmp{path.suffix}")
    try:
        tmp.unlink(missing_ok=True)  # one left by a killed run of the same process id: never reused
        private_file(tmp)  # its missing folders too
        write(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
