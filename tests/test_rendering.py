"""The workbooks as a person sees them: printed to PDF by LibreOffice, the pages read back with
poppler's ``pdftotext``. What openpyxl reads back is what was written; this is what is shown.

Skipped, saying why, without LibreOffice (``soffice``) or poppler-utils (``.ci/run`` installs
them). ``LAPAK_UPDATE_DOCS=1`` also redraws the README's pictures of the first page of each
workbook (``docs/*.png``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from PIL import Image, ImageOps

from connectors.config import load_config
from connectors.state import StateStore
from flows.engine.check import check_file
from flows.engine.order_sheets import write_order_sheets
from flows.engine.runtime import Runtime
from schemas.dates import WIB
from schemas.listing import KnownListing
from schemas.orders import Order, OrderLine, Recipient
from tests.conftest import SAMPLES

SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
PDFTOTEXT, PDFTOPPM = shutil.which("pdftotext"), shutil.which("pdftoppm")
DOCS = Path(__file__).resolve().parent.parent / "docs"

pytestmark = pytest.mark.skipif(
    not (SOFFICE and PDFTOTEXT and PDFTOPPM),
    reason="LibreOffice (soffice) or poppler-utils (pdftotext, pdftoppm) is not installed: "
           "the workbooks are not rendered (.ci/run installs them as root)")


def to_pdf(workbook: Path, tmp_path: Path) -> Path:
    """``workbook`` printed by LibreOffice, with a profile of its own (parallel runs never share one)."""
    out = tmp_path / "pdf"
    profile = tmp_path / "libreoffice-profile"
    done = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                           "--convert-to", "pdf", "--outdir", str(out), str(workbook)],
                          capture_output=True, text=True, timeout=180)
    pdf = out / f"{workbook.stem}.pdf"
    assert pdf.exists(), f"LibreOffice printed nothing:\n{done.stdout}\n{done.stderr}"
    return pdf


def pages(pdf: Path) -> list[str]:
    """Each page's text, in reading order."""
    text = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                          timeout=60, check=True).stdout
    return text.split("\f")[:-1]


def picture(pdf: Path, page: int, name: str, tmp_path: Path, dpi: int = 80) -> Path:
    """A PNG of one page (1-based): into ``docs/`` with ``LAPAK_UPDATE_DOCS=1``, else beside the test."""
    folder = DOCS if os.environ.get("LAPAK_UPDATE_DOCS") == "1" else tmp_path
    folder.mkdir(exist_ok=True)
    subprocess.run([PDFTOPPM, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile",
                    str(pdf), str(folder / name)], capture_output=True, timeout=60, check=True)
    png = folder / f"{name}.png"
    with Image.open(png) as page:  # the printed part, not the paper's empty margins
        box = ImageOps.invert(page.convert("L")).getbbox()
        if box:
            left, top, right, bottom = box
            page.crop((max(left - 16, 0), max(top - 16, 0), min(right + 16, page.width),
                       min(bottom + 16, page.height))).save(png, optimize=True)
    assert png.stat().st_size < 300_000, "small enough to commit"
    return png


def test_the_rejects_report_prints_the_groups_sheet_with_its_reasons(tmp_path):
    """Wonosobo's bundled catalogue, checked as ``lapak check`` does, then printed."""
    checked = check_file(SAMPLES / "catalogues" / "wonosobo" / "sekar-carica.xlsx",
                         load_config(SAMPLES / "lapak.toml"), tmp_path / "out")
    pdf = to_pdf(checked.report_xlsx, tmp_path)
    shown = pages(pdf)

    assert shown[0].lstrip().startswith("Laporan baris ditolak / Rejected rows report"), "the summary comes first"
    summary = "".join(shown[:2])
    assert "wonosobo-sekar-carica" in summary and "Cara memperbaiki / How to fix" in summary
    first = next(i for i, page in enumerate(shown) if "Katalog Produk KWT Sekar Carica" in page)
    sheet = shown[first]
    for text in ("Nama Produk", "Harga (Rp)", "Berat (gr)", "Keripik Kentang Dieng Original", "hubungi kami",
                 "1 toples", "Makanan & Minuman"):
        assert text in sheet, f"{text!r} is on the sheet's first page"
    everything = "".join(shown)
    assert "Alasan ditolak / Reason rejected" in everything
    assert "Harga (Rp): Harga bukan angka" in everything and "Berat (gr): Berat tidak terbaca" in everything
    assert "Daftar" not in sheet, "the problem list is a sheet of its own"
    print(f"rejects report: {len(shown)} pages; the group's sheet from page {first + 1}:\n{sheet}")
    picture(pdf, first + 1, "rejects-report", tmp_path)


SHOP, GROUP = 479573, "wonosobo-sekar-carica"
PRODUCTS = {"SKC-MAN-250": ("Manisan Carica 250 gr", 25_000),
            "SKC-KOP-200": ("Kopi Bubuk Arabika Dieng 200 gr", 55_000),
            "SKC-KER-150": ("Keripik Kentang Dieng Balado", 18_500)}


def _order(n: int, day: int, status: int, items: dict[str, int]) -> Order:
    t = int(datetime(2026, 11, day, 9 + n, 15, tzinfo=WIB).timestamp())
    lines = tuple(OrderLine(line=i, product_id=None, sku=sku, name=PRODUCTS[sku][0], quantity=q,
                            price=PRODUCTS[sku][1], total_price=q * PRODUCTS[sku][1])
                  for i, (sku, q) in enumerate(items.items(), start=1))
    return Order(order_id=880_000 + n, shop_id=SHOP, invoice=f"INV/202611{day:02d}/MPL/{3_000_000 + n}",
                 status=status, create_time=t, update_time=t, lines=lines, buyer_name=f"Pembeli {n}",
                 recipient=Recipient(name=f"Ibu Sari {n}", phone=f"+62 812 0000 000{n}", address="Jl. Melati No. 3",
                                     district="Mojotengah", city="Wonosobo", province="Jawa Tengah",
                                     postal_code="56351"))


@pytest.fixture
def month_workbook(tmp_path) -> Path:
    """Wonosobo's November workbook, written from a state store holding three orders (one
    finished, one to ship with two products, one cancelled) as the order pull leaves them."""
    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var", "catalogues"))
    config = load_config(tmp_path / "w" / "lapak.toml")
    rt = Runtime(config=config, store=StateStore(config.state_url), channels={})
    try:
        rt.store.upsert_groups(config.groups)
        rt.store.save_listings([KnownListing(
            shop_id=SHOP, sku=sku, group_id=GROUP, product_id=i, name=name, category_id=101, price=price, stock=10,
            recorded_stock=10, min_order=1, weight_g=250.0, condition="NEW", description="", pictures=())
            for i, (sku, (name, price)) in enumerate(PRODUCTS.items(), start=1)])
        rt.store.upsert_orders([_order(1, 3, 700, {"SKC-MAN-250": 2}),
                                _order(2, 12, 400, {"SKC-KOP-200": 1, "SKC-KER-150": 3}),
                                _order(3, 20, 5, {"SKC-KER-150": 1})])
        written = write_order_sheets(rt, {"2026-11"})
    finally:
        rt.close()
    return next(p for p in written if p.suffix == ".xlsx" and p.parent.name == GROUP)


def test_the_month_order_workbook_prints_its_orders(month_workbook, tmp_path):
    pdf = to_pdf(month_workbook, tmp_path)
    shown = pages(pdf)
    everything = "".join(shown)
    assert shown[0].strip(), "the first page has something on it"
    assert "Tanggal Pesanan" in everything
    for invoice in ("INV/20261103/MPL/3000001", "INV/20261112/MPL/3000002", "INV/20261120/MPL/3000003"):
        assert invoice in everything, f"{invoice} is printed"
    for name, _ in PRODUCTS.values():
        assert name in everything, f"{name!r} is printed"
    print(f"order workbook: {len(shown)} pages; the first:\n{shown[0]}")
    picture(pdf, 1, "order-workbook", tmp_path, dpi=120)  # fitted to the page's width: small print


def test_a_csv_opened_with_semicolons_as_the_separator_holds_no_formula(tmp_path):
    """Indonesian Excel splits CSV fields on ``;``: opened that way (LibreOffice, separator ``;``,
    quotes respected), an order sheet's CSV still holds no cell a spreadsheet would run."""
    from connectors.sheets import write_csv

    hostile = ["Budi;=cmd|' /C calc'!A0", "Jl. Mawar, =1+1", "Siti|@SUM(A1)", "ok; -2+3", "=HYPERLINK(\"x\")",
               "Sari\n+62 812", "Keripik"]
    sheet = pd.DataFrame({"pembeli / buyer": hostile, "jumlah / qty": range(len(hostile))})
    path = write_csv(tmp_path / "2026-11.csv", sheet)
    text = path.read_text(encoding="utf-8-sig")
    assert text.startswith('"pembeli / buyer","jumlah / qty"') and '"Keripik","6"' in text  # every field quoted
    by_semicolon, by_comma = (opened(path, tmp_path, sep) for sep in (";", ","))
    for ws in (by_semicolon, by_comma):
        cells = [c for row in ws.iter_rows() for c in row if c.value is not None]
        assert not [c.coordinate for c in cells
                    if c.data_type == "f" or str(c.value).startswith(("=", "+", "-", "@"))]
    assert by_semicolon.max_column == 1  # no field was split on its ";"
    assert by_comma.max_column == 2 and by_comma.max_row == len(hostile) + 1
    assert by_comma["A2"].value == "'Budi;=cmd|' /C calc'!A0" and by_comma["A8"].value == "Keripik"


def opened(path: Path, tmp_path: Path, separator: str):
    """The CSV as LibreOffice opens it with ``separator`` (quotes respected, UTF-8): its first sheet."""
    import openpyxl

    out = tmp_path / f"xlsx-{ord(separator)}"
    profile = tmp_path / "libreoffice-profile"
    done = subprocess.run([SOFFICE, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                           f"--infilter=CSV:{ord(separator)},34,76,1", "--convert-to", "xlsx", "--outdir", str(out),
                           str(path)], capture_output=True, text=True, timeout=180)
    book = out / f"{path.stem}.xlsx"
    assert book.exists(), f"LibreOffice read nothing:\n{done.stdout}\n{done.stderr}"
    return openpyxl.load_workbook(book).active
