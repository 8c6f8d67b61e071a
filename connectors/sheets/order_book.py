"""A group's month of orders as one workbook: what to pack and ship, every order line, the month per product.

Sheets, in the order a group member needs them:

1. "Perlu Dikirim (To ship)": the orders paid and not yet shipped, oldest first, one block per
   order (its products one per row) with the recipient and address; print-ready (landscape, fit
   to the page's width, the heading rows on every printed page).
2. "Pesanan (Orders)": one line per order item (:func:`connectors.sheets.orders.order_sheet`),
   Rupiah and date formats, a filter, a frozen header, cancelled lines greyed.
3. "Ringkasan (Summary)": per product the orders, units and Rupiah (cancelled orders not
   counted), a totals row and a native bar chart of those cells (editable in Excel).

Rupiah: numbers stay numbers, shown by :data:`RUPIAH_FORMAT`. Excel draws the ``,`` of ``#,##0``
(also ``[$Rp-421] #,##0``) with the *reader's* locale, so an English Excel shows ``Rp 85,000``; the
dots here are literal text between digit placeholders, so ``Rp 85.000`` reads the same everywhere
(up to 999.999.999; larger amounts lose their first dot, which a group's month never reaches).

Text is made inert as in :mod:`connectors.sheets.safe`: string cells, quote-prefixed where a
spreadsheet would read a formula; totals are written as numbers, never as formulas.
"""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.data_source import AxDataSource, StrRef
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from connectors.files import private_file
from connectors.sheets.orders import (
    MONTH_SUMMARY_SHEET,
    NOTHING_TO_SHIP,
    PER_PRODUCT,
    PRODUCT_COLUMNS,
    SHEET_COLUMNS,
    SHEET_NAME,
    SHOP_COLUMN,
    TO_SHIP_COLUMNS,
    TO_SHIP_SHEET,
    month_totals,
    order_sheet,
    product_summary,
    rupiah,
    to_ship,
)
from connectors.sheets.safe import BOLD, FORMULA_PREFIXES, HEADER_FILL, WRAP, _records, _widths, _xlsx_clean
from schemas.dates import WIB
from schemas.orders import CANCELLED

RUPIAH_FORMAT = '[>=1000000]"Rp "#"."###"."###;[>=1000]"Rp "#"."###;"Rp "0'
"""``Rp 85.000`` / ``Rp 1.250.000`` whatever the reader's locale (see the module's docstring)."""
DATE_FORMAT = "dd/mm/yyyy hh:mm"
"""Day first, as Indonesians write dates."""

GREY = Font(color="808080")
GREY_FILL = PatternFill("solid", fgColor="EDEDED")
TITLE = Font(bold=True, size=13)
BLOCK_TOP = Border(top=Side(style="thin", color="808080"))
TOP = Alignment(vertical="top")
SHIP_MAX_WIDTH = 36     # the to-ship sheet is printed: long addresses wrap rather than widen the page
LINE_HEIGHT = 15        # points per line of wrapped text
EXCEL_EXACT = 10**15    # integers from here on lose digits in a spreadsheet's number cells

_CANCELLED_NOTE = ("Pesanan yang dibatalkan tidak dihitung ({n} baris) / "
                   "Cancelled orders are not counted ({n} {lines})")
_ORDERS_NOTE = ("Total pesanan = pesanan berbeda (satu pesanan bisa berisi beberapa produk) / "
                "Total orders = distinct orders (one order may hold several products)")


def _cell(ws: Any, value: Any, *, number_format: str | None = None, font: Font | None = None,
          fill: PatternFill | None = None, alignment: Alignment | None = None,
          border: Border | None = None) -> WriteOnlyCell:
    """A cell; text is a string cell (quote-prefixed where a spreadsheet would see a formula)."""
    if value is not None and not isinstance(value, str) and pd.isna(value):
        value = None
    c = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        c.data_type = "s"
        if value.startswith(FORMULA_PREFIXES):
            c.quotePrefix = True
    for name, style in (("number_format", number_format), ("font", font), ("fill", fill),
                        ("alignment", alignment), ("border", border)):
        if style is not None:
            setattr(c, name, style)
    return c


def _header(ws: Any, headers: list[str]) -> list[WriteOnlyCell]:
    return [_cell(ws, h, font=BOLD, fill=HEADER_FILL, alignment=WRAP) for h in headers]


def _size_columns(ws: Any, shown: pd.DataFrame, headers: list[str], cap: int | None = None) -> None:
    """Column widths from the text as shown (``shown``: dates and Rupiah already formatted)."""
    for i, width in enumerate(_widths(shown, headers), start=1):
        ws.column_dimensions[get_column_letter(i)].width = min(width, cap) if cap else width


def _print_ready(ws: Any, title_rows: str) -> None:
    """Landscape A4, as wide as the page, ``title_rows`` repeated on every printed page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # as many pages down as it takes
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = title_rows


def _shown(df: pd.DataFrame, dates: tuple[str, ...] = (), amounts: tuple[str, ...] = ()) -> pd.DataFrame:
    """``df`` as the spreadsheet shows it (for column widths)."""
    out = df.copy()
    for col in dates:
        out[col] = out[col].dt.strftime("%d/%m/%Y %H:%M")
    for col in amounts:
        out[col] = out[col].map(rupiah)
    return out


# ---- the sheets -------------------------------------------------------------------------------

def _ship_widths(frame: pd.DataFrame, headers: list[str]) -> list[int]:
    """Widths from the values (headers wrap: only their longest word counts), capped for the printed page."""
    shown = _shown(frame, dates=("created",))
    widths = []
    for i, header in enumerate(headers):
        text = shown.iloc[:, i].astype(object).where(shown.iloc[:, i].notna(), "").astype(str)
        longest = max([int(text.str.len().max()) if len(text) else 0, *(len(w) for w in header.split())])
        widths.append(min(max(longest, 6) + 2, SHIP_MAX_WIDTH))
    return widths


def _height(values: list[Any], widths: list[int]) -> float:
    """A row's height (points) for its wrapped text: spreadsheets do not grow a row written this way."""
    # A column of width w holds about 1.25 w characters of proportional text.
    lines = max((-(-len(str(v)) // max(int((w - 2) * 1.25), 1)) for v, w in zip(values, widths) if v is not None),
                default=1)
    return LINE_HEIGHT * max(lines, 1)


def _to_ship_sheet(wb: Workbook, ship: pd.DataFrame, month: str, now: datetime) -> None:
    ws = wb.create_sheet(TO_SHIP_SHEET)
    cols, headers = list(TO_SHIP_COLUMNS), list(TO_SHIP_COLUMNS.values())
    frame = _xlsx_clean(ship[cols])
    widths = _ship_widths(frame, headers)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    _print_ready(ws, "1:2")
    ws.freeze_panes = "A3"
    ws.append([_cell(ws, f"Pesanan yang perlu dikemas dan dikirim, terlama di atas / Orders to pack and ship, "
                         f"oldest first — {month} (per {now.astimezone(WIB):%d/%m/%Y %H:%M} WIB)", font=TITLE)])
    # Bold headers wrap at their words: as many lines as the narrowest column makes of its header.
    header_lines = max(len(textwrap.wrap(h, max(w - 2, 1))) for h, w in zip(headers, widths))
    ws.row_dimensions[2].height = LINE_HEIGHT * header_lines
    ws.append(_header(ws, headers))
    if frame.empty:
        ws.append([_cell(ws, NOTHING_TO_SHIP, font=BOLD)])
        return
    for n, (rec, first) in enumerate(zip(_records(frame), ship["first"]), start=3):
        values = [v if first or col in PER_PRODUCT else None for col, v in zip(cols, rec)]
        ws.row_dimensions[n].height = _height(values, widths)
        ws.append([_cell(ws, v, number_format=DATE_FORMAT if col == "created" else None,
                         font=BOLD if first and col == "invoice" else None,
                         alignment=WRAP, border=BLOCK_TOP if first else None) for col, v in zip(cols, values)])


def _exact_ids(frame: pd.DataFrame) -> pd.DataFrame:
    """Order and shop ids past Excel's 15 significant digits (the second channel's) as text: as a
    number, ``577000000000000001`` would read ``5.77E+17`` and lose its last digits."""
    out = frame.copy()
    for col in (SHEET_COLUMNS["order_id"], SHOP_COLUMN[1]):
        if col in out.columns and (out[col].abs() >= EXCEL_EXACT).any():
            out[col] = out[col].map(lambda v: str(v) if abs(v) >= EXCEL_EXACT else v).astype(object)
    return out


def _lines_sheet(wb: Workbook, sheet: pd.DataFrame) -> None:
    ws = wb.create_sheet(SHEET_NAME)
    frame = _exact_ids(_xlsx_clean(sheet))
    headers = [str(c) for c in frame.columns]
    date, amounts = SHEET_COLUMNS["created"], (SHEET_COLUMNS["unit_price"], SHEET_COLUMNS["total"])
    _size_columns(ws, _shown(frame, dates=(date,), amounts=amounts), headers)
    formats = [DATE_FORMAT if h == date else RUPIAH_FORMAT if h in amounts else None for h in headers]
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(frame) + 1}"
    _print_ready(ws, "1:1")
    ws.append(_header(ws, headers))
    cancelled = sheet[SHEET_COLUMNS["status_code"]].isin(CANCELLED).to_numpy(dtype=bool)
    for rec, grey in zip(_records(frame), cancelled):
        ws.append([_cell(ws, v, number_format=f, font=GREY if grey else None, fill=GREY_FILL if grey else None)
                   for v, f in zip(rec, formats)])


def _summary_sheet(wb: Workbook, per_product: pd.DataFrame, totals: dict[str, int]) -> None:
    ws = wb.create_sheet(MONTH_SUMMARY_SHEET)
    headers = list(PRODUCT_COLUMNS.values())
    frame = _xlsx_clean(per_product)
    total_row = pd.DataFrame([{"product": "Total", "sku": "", "orders": totals["orders"], "qty": totals["units"],
                               "total": totals["rupiah"]}])
    _size_columns(ws, _shown(pd.concat([frame, total_row], ignore_index=True), amounts=("total",)), headers)
    ws.freeze_panes = "A2"
    _print_ready(ws, "1:1")
    ws.append(_header(ws, headers))
    for rec in _records(frame):
        ws.append([_cell(ws, v, number_format=RUPIAH_FORMAT if col == "total" else None)
                   for col, v in zip(PRODUCT_COLUMNS, rec)])
    for rec in _records(total_row):
        ws.append([_cell(ws, v, font=BOLD, border=BLOCK_TOP, number_format=RUPIAH_FORMAT if col == "total" else None)
                   for col, v in zip(PRODUCT_COLUMNS, rec)])
    ws.append([])
    ws.append([_cell(ws, _CANCELLED_NOTE.format(n=totals["cancelled_lines"],
                                                         lines="line" if totals["cancelled_lines"] == 1 else "lines"))])
    ws.append([_cell(ws, _ORDERS_NOTE)])
    if len(frame):  # below the notes, so it covers no cell
        ws.add_chart(_rupiah_chart(ws, len(frame)), f"A{len(frame) + 7}")


def _rupiah_chart(ws: Any, products: int) -> BarChart:
    """Horizontal bars of the Rupiah column per product, from the sheet's own cells."""
    chart = BarChart()
    chart.type = "bar"
    chart.style = 10
    chart.title = "Rupiah per produk / per product"
    rupiah_col = list(PRODUCT_COLUMNS).index("total") + 1
    chart.add_data(Reference(ws, min_col=rupiah_col, min_row=1, max_row=products + 1), titles_from_data=True)
    # The product names as text (openpyxl's set_categories would call them numbers).
    names = Reference(ws, min_col=1, min_row=2, max_row=products + 1)
    chart.series[0].cat = AxDataSource(strRef=StrRef(f=str(names)))
    chart.legend = None
    chart.y_axis.number_format = RUPIAH_FORMAT
    chart.y_axis.scaling.min = 0  # bars compared from zero, not from a spreadsheet's chosen floor
    chart.y_axis.majorGridlines = None
    chart.x_axis.scaling.orientation = "maxMin"  # the best seller on top, as in the table
    chart.x_axis.delete = chart.y_axis.delete = False  # openpyxl 3.1 hides the axes otherwise
    chart.width, chart.height = 24, max(7.5, 1.0 * products + 3)
    return chart


def write_order_book(path: Path, lines: pd.DataFrame, *, month: str, now: datetime, with_shop: bool = False) -> Path:
    """Write the month's workbook of ``lines`` (:func:`connectors.sheets.orders.order_lines` of one
    group and month) to ``path``: to ship (days waiting as of ``now``), the order lines (with the
    shop column when ``with_shop``: the unassigned lines), the month per product with a chart."""
    path = private_file(Path(path))  # buyers' names, phones and addresses: the owner's only
    wb = Workbook(write_only=True)
    _to_ship_sheet(wb, to_ship(lines, now), month, now)
    _lines_sheet(wb, order_sheet(lines, with_shop=with_shop))
    _summary_sheet(wb, product_summary(lines), month_totals(lines))
    wb.save(path)
    return path
