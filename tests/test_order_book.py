"""A group's month of orders as a workbook and a picture: what to ship, the order lines, the month
per product with its chart, and the sales picture for a phone. Orders are built in memory: two
channels (with the same order id on both), a cancelled order, several products, orders to ship
and orders shipped or done."""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.chart import BarChart
from PIL import Image

from connectors.reports.sales import PICTURE_SIZE, write_sales_png
from connectors.sheets import SHEET_COLUMNS, SHEET_NAME, write_csv
from connectors.sheets.order_book import DATE_FORMAT, RUPIAH_FORMAT, write_order_book
from connectors.sheets.orders import (
    MONTH_SUMMARY_SHEET,
    NOTHING_TO_SHIP,
    PRODUCT_COLUMNS,
    TO_SHIP_COLUMNS,
    TO_SHIP_SHEET,
    order_lines,
    order_sheet,
    rupiah,
)
from flows.artifacts import reports_markdown
from schemas.dates import WIB
from schemas.orders import Order, OrderLine, Recipient

MONTH = "2026-11"
NOW = datetime(2026, 11, 20, 10, 0, tzinfo=WIB)
KERIPIK = ("KC-1", "Keripik Carica", 25_000)
KOPI = ("KP-3", "Kopi Purwaceng", 85_000)
HAMPER = ("HP-7", "Parsel Oleh-oleh Wonosobo", 1_250_000)
HOSTILE_BUYER = '=HYPERLINK("http://x","klik")'
HOSTILE_PRODUCT = "=1+2 Keripik Carica"
PHONE = "+6281234567890"


def at(day: int, hour: int = 9) -> int:
    return int(datetime(2026, 11, day, hour, tzinfo=WIB).timestamp())


def order(order_id: int, status: int, created: int, items, *, channel: str = "marketplace", **kw) -> Order:
    lines = tuple(OrderLine(line=i, product_id=None, sku=sku, name=name, quantity=qty, price=price,
                            total_price=qty * price)
                  for i, ((sku, name, price), qty) in enumerate(items, start=1))
    recipient = Recipient(name=kw.pop("recipient", "Ibu Sri"), phone=PHONE, address="Jl. Kartini 5",
                          district="Kalibeber", city="Wonosobo", province="Jawa Tengah", postal_code="56351")
    return Order(order_id=order_id, shop_id=479573, invoice=f"INV/{channel[:2].upper()}/{order_id}", status=status,
                 create_time=created, update_time=created, lines=lines, buyer_name=kw.pop("buyer", "Siti"),
                 recipient=recipient, channel=channel, **kw)


def month_orders() -> list[Order]:
    return [
        order(1, 400, at(5), [(KERIPIK, 2), (KOPI, 1)], buyer=HOSTILE_BUYER),       # to ship, 15 days
        order(1, 220, at(3), [(KOPI, 1)], channel="tiktok", recipient="@Ibu Ani"),  # to ship, the oldest: 17 days
        order(3, 700, at(2), [(KERIPIK, 4)]),                                       # done
        order(4, 15, at(6), [(KOPI, 3)], channel="tiktok"),                         # cancelled
        order(5, 500, at(10), [(HAMPER, 1)]),                                       # shipped
        order(6, 450, at(19, 20), [(("KC-1", HOSTILE_PRODUCT, 25_000), 1)]),        # to ship, 14 hours: 0 days
    ]


def lines_of(orders):
    return order_lines(orders, lambda sku: "g")


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("book") / f"{MONTH}.xlsx"
    return write_order_book(path, lines_of(month_orders()), month=MONTH, now=NOW)


@pytest.fixture(scope="module")
def wb(book):
    return openpyxl.load_workbook(book)


def table(ws, header_row: int = 1) -> tuple[list[str], list[dict]]:
    rows = list(ws.iter_rows(min_row=header_row))
    header = [c.value for c in rows[0]]
    return header, [dict(zip(header, r)) for r in rows[1:]]


def greyed_out(cell) -> bool:
    colour = cell.font.color
    return (colour is not None and colour.type == "rgb" and colour.rgb.endswith("808080")
            and cell.fill.fill_type == "solid" and cell.fill.fgColor.rgb.endswith("EDEDED"))


# ---- the workbook ------------------------------------------------------------------------------

def test_the_sheets_come_in_the_order_a_member_needs_them(wb):
    assert wb.sheetnames == [TO_SHIP_SHEET, SHEET_NAME, MONTH_SUMMARY_SHEET]
    assert wb.active.title == TO_SHIP_SHEET


def test_to_ship_lists_paid_unshipped_orders_oldest_first_one_block_each_with_days_waiting(wb):
    ws = wb[TO_SHIP_SHEET]
    assert MONTH in ws["A1"].value and "20/11/2026 10:00 WIB" in ws["A1"].value
    header, rows = table(ws, header_row=2)
    assert header == list(TO_SHIP_COLUMNS.values())
    cols = TO_SHIP_COLUMNS
    got = [tuple(r[cols[k]].value for k in ("invoice", "waiting", "channel", "sku", "qty", "recipient", "courier"))
           for r in rows]
    assert got == [
        ("INV/TI/1", 17, "TikTok Shop", "KP-3", 1, "@Ibu Ani", "—"),
        ("INV/MA/1", 15, "Marketplace", "KC-1", 2, "Ibu Sri", "—"),
        (None, None, None, "KP-3", 1, None, None),  # the same order's second product: one block
        ("INV/MA/6", 0, "Marketplace", "KC-1", 1, "Ibu Sri", "—"),
    ]
    first = rows[0]
    assert first[cols["created"]].value == datetime(2026, 11, 3, 9, 0) and first[cols["created"]].is_date
    assert first[cols["created"]].number_format == DATE_FORMAT
    assert first[cols["phone"]].value == PHONE
    assert first[cols["address"]].value == "Jl. Kartini 5, Kalibeber, Wonosobo, Jawa Tengah, 56351"
    assert rows[1][cols["invoice"]].border.top.style == "thin" and rows[2][cols["invoice"]].border.top.style is None


def test_to_ship_is_print_ready(wb):
    ws = wb[TO_SHIP_SHEET]
    assert ws.page_setup.orientation == "landscape"
    assert (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.print_title_rows == "$1:$2"  # the title and the headers on every printed page
    assert ws.freeze_panes == "A3"


def test_a_month_with_nothing_to_ship_says_so(tmp_path):
    done = [o for o in month_orders() if not o.to_ship]
    ws = openpyxl.load_workbook(write_order_book(tmp_path / "b.xlsx", lines_of(done), month=MONTH, now=NOW))[
        TO_SHIP_SHEET]
    assert ws["A3"].value == NOTHING_TO_SHIP and ws.max_row == 3


def test_order_lines_have_rupiah_numbers_real_dates_a_filter_a_frozen_header_and_grey_cancelled_lines(wb):
    ws = wb[SHEET_NAME]
    header, rows = table(ws)
    assert header == list(SHEET_COLUMNS.values()) and len(rows) == 7
    price, total, created = SHEET_COLUMNS["unit_price"], SHEET_COLUMNS["total"], SHEET_COLUMNS["created"]
    for r in rows:
        for h in (price, total):
            assert isinstance(r[h].value, int) and r[h].data_type == "n" and r[h].number_format == RUPIAH_FORMAT
        assert isinstance(r[created].value, datetime) and r[created].is_date
        assert r[created].number_format == DATE_FORMAT
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(header))}8"
    assert ws.freeze_panes == "A2"
    widths = {h: ws.column_dimensions[openpyxl.utils.get_column_letter(i)].width for i, h in enumerate(header, 1)}
    assert widths[total] >= len(rupiah(1_250_000)) and widths[SHEET_COLUMNS["address"]] > 30
    greyed = {(r[SHEET_COLUMNS["order_id"]].value, r["Status"].value) for r in rows
              if all(greyed_out(c) for c in r.values())}
    assert greyed == {(4, "Dibatalkan")}, "the cancelled order's lines, whole, and nothing else"


def test_the_summary_counts_the_month_per_product_without_cancelled_orders_and_charts_its_own_cells(wb):
    ws = wb[MONTH_SUMMARY_SHEET]
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert values[0] == list(PRODUCT_COLUMNS.values())
    assert values[1:5] == [
        ["Parsel Oleh-oleh Wonosobo", "HP-7", 1, 1, 1_250_000],
        [HOSTILE_PRODUCT, "KC-1", 3, 7, 175_000],      # the latest name of the SKU
        ["Kopi Purwaceng", "KP-3", 2, 2, 170_000],     # the cancelled 3 units not counted
        ["Total", None, 5, 10, 1_595_000],             # five distinct orders (one id on both channels)
    ]
    assert all(ws.cell(row=r, column=5).number_format == RUPIAH_FORMAT for r in range(2, 6))
    notes = [v[0] for v in values[5:] if v[0]]
    assert any("tidak dihitung (1 baris)" in n and "Cancelled orders are not counted" in n for n in notes)
    (chart,) = ws._charts
    assert isinstance(chart, BarChart) and chart.type == "bar"
    (series,) = chart.series
    assert series.val.numRef.f == f"'{MONTH_SUMMARY_SHEET}'!$E$2:$E$4"
    assert series.cat.strRef.f == f"'{MONTH_SUMMARY_SHEET}'!$A$2:$A$4"
    assert chart.y_axis.number_format.formatCode == RUPIAH_FORMAT


def test_text_typed_by_buyers_and_sellers_stays_inert_on_every_sheet(wb):
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{ws.title}!{c.coordinate} is a formula"
                if isinstance(c.value, str):
                    assert c.data_type == "s"
                    if c.value.startswith(("=", "+", "-", "@")):
                        assert c.quotePrefix, f"{ws.title}!{c.coordinate}: {c.value!r}"
                        seen.add((ws.title, c.value))
    assert {(SHEET_NAME, HOSTILE_BUYER), (SHEET_NAME, PHONE), (TO_SHIP_SHEET, "@Ibu Ani"),
            (TO_SHIP_SHEET, HOSTILE_PRODUCT), (MONTH_SUMMARY_SHEET, HOSTILE_PRODUCT)} <= seen


def test_the_csv_stays_plain_one_line_per_item_text_inert(tmp_path):
    path = write_csv(tmp_path / "o.csv", order_sheet(lines_of(month_orders())))
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 7 and list(rows[0]) == list(SHEET_COLUMNS.values())
    assert {r["Pembeli / Buyer"] for r in rows} == {"'" + HOSTILE_BUYER, "Siti"}
    assert rows[0]["Total"] == "100000"  # a plain number, no "Rp" or dots


def test_unassigned_lines_keep_the_shop_column(tmp_path):
    wb = openpyxl.load_workbook(write_order_book(tmp_path / "u.xlsx", lines_of(month_orders()), month=MONTH,
                                                 now=NOW, with_shop=True))
    header, rows = table(wb[SHEET_NAME])
    assert header[-1] == "ID Toko / Shop ID" and {r[header[-1]].value for r in rows} == {479573}


def test_ids_longer_than_a_spreadsheet_number_holds_are_kept_whole_as_text(tmp_path):
    long_id, long_shop = 577_000_000_000_000_001, 7_494_049_642_642_000_001
    tiktok = replace(order(long_id, 400, at(4), [(KOPI, 1)], channel="tiktok"), shop_id=long_shop)
    wb = openpyxl.load_workbook(write_order_book(tmp_path / "t.xlsx", lines_of([*month_orders(), tiktok]),
                                                 month=MONTH, now=NOW, with_shop=True))
    _, rows = table(wb[SHEET_NAME])
    ids = {(r[SHEET_COLUMNS["order_id"]].value, r["ID Toko / Shop ID"].value) for r in rows}
    assert (str(long_id), str(long_shop)) in ids and (4, 479573) in ids  # short ids stay numbers


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_a_spreadsheet_shows_rupiah_with_dots_whatever_its_locale(book, tmp_path):
    env = {**os.environ, "HOME": str(tmp_path), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    subprocess.run(["soffice", "--headless", "--convert-to",
                    "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,3",
                    "--outdir", str(tmp_path), str(book)], env=env, check=True, timeout=180, capture_output=True)
    shown = next(tmp_path.glob("*.csv")).read_text(encoding="utf-8")
    assert "Rp 1.250.000" in shown and "Rp 175.000" in shown and "Rp 1.595.000" in shown


# ---- the sales picture -------------------------------------------------------------------------

def test_the_sales_picture_is_a_phone_sized_png_that_follows_the_data(tmp_path):
    lines = lines_of(month_orders())
    first = write_sales_png(tmp_path / "a.png", lines, group_name="KWT Sekar Carica", month=MONTH)
    again = write_sales_png(tmp_path / "b.png", lines, group_name="KWT Sekar Carica", month=MONTH)
    more = lines_of([*month_orders(), order(7, 700, at(21), [(KOPI, 2)])])
    changed = write_sales_png(tmp_path / "c.png", more, group_name="KWT Sekar Carica", month=MONTH)
    data = first.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "PNG" and im.size == PICTURE_SIZE and im.height > im.width  # upright, like a phone
        assert not {"Software", "Creation Time", "date:create"} & set(im.info)
    assert again.read_bytes() == data, "the same month draws the same picture"
    assert changed.read_bytes() != data


def test_a_month_without_sales_still_draws_a_picture(tmp_path):
    cancelled = [o for o in month_orders() if o.cancelled]
    for lines in (lines_of(cancelled), lines_of([])):
        path = write_sales_png(tmp_path / "e.png", lines, group_name="$ KWT Mawar $", month="2026-02")
        with Image.open(path) as im:
            assert im.size == PICTURE_SIZE


def test_the_run_page_lists_each_picture_with_its_totals_escaped():
    text = reports_markdown([{"group": "g", "name": "KWT <b>Mawar</b> | x", "month": MONTH,
                              "picture": "/out/reports/g/2026-11.png", "orders": 5, "units": 10,
                              "rupiah": 1_595_000}])
    assert "| 5 | 10 | Rp 1.595.000 | `/out/reports/g/2026-11.png` |" in text
    assert "<b>" not in text and "\\| x" in text
    assert "No picture" in reports_markdown([])
