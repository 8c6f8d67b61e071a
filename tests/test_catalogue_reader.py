"""The catalogue reader: files as groups really write them -> labelled rows with Excel's row numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import zipfile

import openpyxl
import pandas as pd
import pytest
import requests
import responses
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.catalogue import CatalogueError, RawCatalogue, match_header, read_catalogue, sources
from connectors.catalogue.headers import SheetHeader, find_header, is_instruction_row, label_header

SHEET_URL = "https://docs.google.com/spreadsheets/d/e/2PACX-abc/pub"


def workbook(path, sheets: dict[str, list[list]], hidden=(), merges=None):
    """Write an XLSX: each sheet's rows from row 1 (None = empty cell, [] = empty row)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
        for rng in (merges or {}).get(name, ()):
            ws.merge_cells(rng)
        if name in hidden:
            ws.sheet_state = "hidden"
    wb.save(path)
    return path


def records(raw: RawCatalogue, *cols: str) -> list[tuple]:
    """(sheet, row, *cols) per frame row, NA as None."""
    f = raw.frame.astype(object).where(raw.frame.notna(), None)
    return [tuple(r) for r in f[["sheet", "row", *cols]].itertuples(index=False)]


# --- XLSX ----------------------------------------------------------------------------------------

def test_xlsx_with_notes_sheet_title_rows_merged_title_and_hidden_sheet(tmp_path, caplog):
    path = workbook(tmp_path / "katalog.xlsx", {
        "Petunjuk": [["Isi katalog di lembar Produk"], ["Harga dalam rupiah"]],
        "Produk": [
            ["Katalog Produk KWT Sekar Carica"],
            ["Desa Kalibeber, Wonosobo"],
            [],
            ["No", "Nama Produk", "Kategori", "Harga (Rp)", "Stok", "Berat (gram)", "Catatan Internal"],
            [1, "Manisan Carica ", "Manisan", 15000, 40, 250, "laris"],
            [2, "Keripik Jamur", "Keripik", "Rp 12.500", "habis", "0,5 kg", None],
        ],
        "Arsip": [["Nama Produk", "Harga"], ["Produk lama", 1000]],
    }, hidden={"Arsip"}, merges={"Produk": ["A1:G1"]})

    with caplog.at_level(logging.INFO, logger="connectors.catalogue"):
        raw = read_catalogue(path)

    assert raw.file == "katalog.xlsx"
    assert records(raw, "no", "name", "category", "price", "stock", "weight") == [
        ("Produk", 5, "1", "Manisan Carica ", "Manisan", "15000", "40", "250"),
        ("Produk", 6, "2", "Keripik Jamur", "Keripik", "Rp 12.500", "habis", "0,5 kg"),
    ]
    assert raw.header_rows == {"Produk": 4}
    assert raw.headers["Produk"]["price"] == "Harga (Rp)"
    assert raw.units == {"Produk": {"price": "rp", "weight": "g"}}
    assert raw.unknown_columns == {"Produk": ["Catatan Internal"]}
    assert raw.encoding is None and raw.delimiter is None
    assert "Arsip" in caplog.text and "hidden" in caplog.text


def test_xlsx_numbers_dates_and_text_become_strings_as_excel_shows_them(tmp_path):
    path = workbook(tmp_path / "angka.xlsx", {"Sheet1": [
        ["Nama", "Harga", "Stok", "Berat (kg)", "Tanggal Kedaluwarsa", "Halal"],
        ["Kopi", 15000.0, 40, 0.5, dt.date(2026, 8, 17), True],
        ["Teh", "15000", "40", "0,5", "17 Agustus 2026", "ya"],
        ["Gula", 0.1 + 0.2, 1234567890123456, 1.25, dt.datetime(2026, 10, 5, 0, 0), False],
    ]})
    raw = read_catalogue(path)
    assert records(raw, "name", "price", "stock", "weight", "expiry", "halal") == [
        ("Sheet1", 2, "Kopi", "15000", "40", "0.5", "2026-08-17", "TRUE"),
        ("Sheet1", 3, "Teh", "15000", "40", "0,5", "17 Agustus 2026", "ya"),
        ("Sheet1", 4, "Gula", "0.3", "1234567890123456", "1.25", "2026-10-05", "FALSE"),
    ]


def test_xlsx_row_numbers_match_excel_with_leading_empty_rows_columns_and_blank_rows(tmp_path):
    rows = [[], [], [None, None, "Daftar Produk"], [],
            [None, None, "Nama Produk", "Harga", "Stok"],
            [None, None, "Sarung Tenun", 250000, 3],
            [],
            [None, None, "   ", None, None],            # spaces only: blank, not a row
            [None, None, "Selendang", 175000, 2]]
    raw = read_catalogue(workbook(tmp_path / "geser.xlsx", {"Data": rows}))
    assert records(raw, "name") == [("Data", 6, "Sarung Tenun"), ("Data", 9, "Selendang")]
    assert raw.header_rows == {"Data": 5}
    grid = raw.grids["Data"]
    # The grid is the sheet as Excel shows it: row i+1 at index i, column A at 0.
    assert grid.shape == (9, 5)
    assert grid.iloc[2, 2] == "Daftar Produk"
    assert grid.iloc[4, 2] == "Nama Produk"
    assert grid.iloc[8].tolist()[2:] == ["Selendang", "175000", "2"]
    assert grid.iloc[0].isna().all()


def test_marketplace_template_header_on_row_2_instructions_on_row_3(tmp_path, caplog):
    path = workbook(tmp_path / "template.xlsx", {"Upload": [
        ["Template Upload Produk Massal"],
        ["Nama Produk*", "Deskripsi Produk", "Kategori*", "Harga*", "Stok*", "Berat*", "Foto 1*", "Foto 2"],
        ["Wajib diisi, maks. 70 karakter", "Opsional, maks. 2000 karakter", "Wajib, pilih dari daftar",
         "Wajib diisi angka, contoh: 15000", "Wajib diisi", "Wajib, dalam gram", "Wajib, URL foto", "Opsional"],
        ["Keripik Singkong Balado", "Renyah", "Keripik", 12000, 30, 250, "https://img.example/1.jpg", None],
        ["Keripik isi 10 bungkus", "Contoh produk lain", "Keripik", 50000, 5, 1000, "https://img.example/2.jpg", None],
    ]})
    with caplog.at_level(logging.INFO, logger="connectors.catalogue"):
        raw = read_catalogue(path)
    assert raw.header_rows == {"Upload": 2}
    assert records(raw, "name", "price", "photo_1", "photo_2") == [
        ("Upload", 4, "Keripik Singkong Balado", "12000", "https://img.example/1.jpg", None),
        ("Upload", 5, "Keripik isi 10 bungkus", "50000", "https://img.example/2.jpg", None),
    ]
    assert "instruction" in caplog.text


def test_two_product_sheets_are_read_and_concatenated(tmp_path):
    path = workbook(tmp_path / "dua.xlsx", {
        "Makanan": [["Nama Produk", "Harga", "Stok", "P-IRT"],
                    ["Sambal Bawang", 20000, 10, "P-IRT No. 1234567890123-45"]],
        "Kerajinan": [["Judul"], ["Nama Barang", "Harga Jual", "Jumlah", "Gambar 1"],
                      ["Tas Pandan", 85000, 4, "https://img.example/tas.jpg"]],
    })
    raw = read_catalogue(path)
    assert records(raw, "name", "price", "stock", "pirt", "photo_1") == [
        ("Makanan", 2, "Sambal Bawang", "20000", "10", "P-IRT No. 1234567890123-45", None),
        ("Kerajinan", 3, "Tas Pandan", "85000", "4", None, "https://img.example/tas.jpg"),
    ]
    assert raw.header_rows == {"Makanan": 1, "Kerajinan": 2}
    assert raw.headers["Kerajinan"] == {"name": "Nama Barang", "price": "Harga Jual", "stock": "Jumlah",
                                        "photo_1": "Gambar 1"}
    assert set(raw.grids) == {"Makanan", "Kerajinan"}


def test_photo_columns_are_numbered_left_to_right_and_merged_category_is_filled_down(tmp_path):
    path = workbook(tmp_path / "foto.xlsx", {"Produk": [
        ["Kategori", "Nama Produk", "Harga", "Foto 1", "Foto 2", "Foto 3", "Foto 4", "Foto 5", "Stok"],
        ["Batik", "Batik Tulis Parang", 450000, "u1", "u2", "u3", "u4", "u5", 2],
        [None, "Batik Cap Kawung", 150000, "v1", None, None, None, None, 7],
    ]}, merges={"Produk": ["A2:A3"]})
    raw = read_catalogue(path)
    assert list(raw.frame.columns) == ["sheet", "row", "name", "category", "price", "stock",
                                       "photo_1", "photo_2", "photo_3", "photo_4", "photo_5"]
    assert records(raw, "category", "photo_1", "photo_5") == [
        ("Produk", 2, "Batik", "u1", "u5"), ("Produk", 3, "Batik", "v1", None)]
    assert raw.headers["Produk"]["photo_3"] == "Foto 3"
    assert raw.grids["Produk"].iloc[2, 0] is pd.NA        # the grid stays as written


def test_a_photo_header_merged_over_several_columns_names_each_of_them(tmp_path):
    path = workbook(tmp_path / "gabung.xlsx", {"S": [
        ["Nama Produk", "Harga", "Foto", None, None, "Catatan"],
        ["Selendang", 90000, "u1", "u2", "u3", "baru"],
    ]}, merges={"S": ["C1:E1"]})
    raw = read_catalogue(path)
    assert records(raw, "photo_1", "photo_2", "photo_3") == [("S", 2, "u1", "u2", "u3")]
    assert raw.unknown_columns == {"S": ["Catatan"]}


def test_frame_columns_are_pyarrow_strings_not_objects(tmp_path):
    raw = read_catalogue(workbook(tmp_path / "t.xlsx", {"S": [["Nama", "Harga"], ["A", 1], ["B", None]]}))
    for col in ("sheet", "name", "price"):
        assert raw.frame[col].dtype == pd.StringDtype("pyarrow")
    assert raw.frame["row"].dtype == "int64"
    assert raw.frame.loc[1, "price"] is pd.NA


def test_duplicate_field_keeps_the_first_column_and_reports_the_other(tmp_path, caplog):
    path = workbook(tmp_path / "dup.xlsx",
                    {"S": [["Nama Produk", "Harga", "Harga Jual", "Stok"], ["Kopi", 1000, 1200, 3]]})
    with caplog.at_level(logging.WARNING, logger="connectors.catalogue"):
        raw = read_catalogue(path)
    assert records(raw, "price") == [("S", 2, "1000")]
    assert raw.unknown_columns["S"] == ["Harga Jual"]
    assert "Harga Jual" in caplog.text


def test_rows_with_only_a_prefilled_number_are_blank(tmp_path):
    rows = [["No", "Nama Produk", "Harga"], [1, "Kopi", 1000], [2, None, None], [3, None, None], [4, "Teh", 900]]
    raw = read_catalogue(workbook(tmp_path / "no.xlsx", {"S": rows}))
    assert records(raw, "no", "name") == [("S", 2, "1", "Kopi"), ("S", 5, "4", "Teh")]


# --- CSV -----------------------------------------------------------------------------------------

def test_semicolon_cp1252_csv_from_indonesian_excel(tmp_path):
    text = ("Katalog Produk KWT Café Melati;;;;\r\n"
            ";;;;\r\n"
            "No;Nama Produk;Harga;Stok;Deskripsi\r\n"
            "1;Kue Kering Nastar;Rp 15.000;40;Renyah, manis\r\n"
            "2;Kopi Bubuk Arabika Gayo — 250 gr;Rp15.000,-;12;Crème, résumé\r\n")
    path = tmp_path / "katalog.csv"
    path.write_bytes(text.encode("cp1252"))
    raw = read_catalogue(path)
    assert (raw.encoding, raw.delimiter) == ("cp1252", ";")
    assert records(raw, "no", "name", "price", "description") == [
        ("katalog", 4, "1", "Kue Kering Nastar", "Rp 15.000", "Renyah, manis"),
        ("katalog", 5, "2", "Kopi Bubuk Arabika Gayo — 250 gr", "Rp15.000,-", "Crème, résumé"),
    ]
    assert raw.grids["katalog"].iloc[0, 0] == "Katalog Produk KWT Café Melati"


def test_utf8_bom_csv(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffNama Produk,Harga (ribu),Berat kg\nSambal Terasi Ñam,15,\"0,25\"\n".encode("utf-8"))
    raw = read_catalogue(path)
    assert (raw.encoding, raw.delimiter) == ("utf-8-sig", ",")
    assert raw.headers["bom"]["name"] == "Nama Produk"            # no BOM left in the header
    assert records(raw, "name", "price", "weight") == [("bom", 2, "Sambal Terasi Ñam", "15", "0,25")]
    assert raw.units["bom"] == {"price": "rb", "weight": "kg"}


@pytest.mark.parametrize("delimiter", ["\t", "|", ","])
def test_other_delimiters_are_detected(tmp_path, delimiter):
    rows = [["Nama Produk", "Harga", "Deskripsi"], ["Kopi", "15.000", "enak; murah, wangi | harum"]]
    buf = io.StringIO()
    csv.writer(buf, delimiter=delimiter).writerows(rows)
    path = tmp_path / "d.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    raw = read_catalogue(path)
    assert raw.delimiter == delimiter
    assert records(raw, "description") == [("d", 2, "enak; murah, wangi | harum")]


def test_csv_row_numbers_with_blank_lines_multiline_cell_and_ragged_rows(tmp_path, caplog):
    text = ("\n"                                              # 1 blank line before the title
            "Daftar Produk\n"                                 # 2 title, one cell
            "Nama Produk,Harga,Stok,Deskripsi\n"              # 3 header
            "Keripik,15000,10,\"Renyah\n\nGurih, \"\"asli\"\"\"\n"   # 4 multi-line cell with a blank line inside
            "\n"                                              # 5 blank
            ",,,\n"                                           # 6 all empty
            "Sambal,20000\n"                                  # 7 fewer cells
            "Kopi,30000,5,Wangi,ekstra,lagi\n"                # 8 more cells than the header
            "Teh,5000,1,Segar\n")                             # 9
    path = tmp_path / "acak.csv"
    path.write_text(text, encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="connectors.catalogue"):
        raw = read_catalogue(path)
    assert raw.header_rows == {"acak": 3}
    assert records(raw, "name", "stock", "description") == [
        ("acak", 4, "Keripik", "10", 'Renyah\n\nGurih, "asli"'),
        ("acak", 7, "Sambal", None, None),
        ("acak", 8, "Kopi", "5", "Wangi"),
        ("acak", 9, "Teh", "1", "Segar"),
    ]
    # Cells past the header are not dropped silently: reported as columns without a header.
    assert raw.unknown_columns["acak"] == ["Kolom E (tanpa judul / no header)", "Kolom F (tanpa judul / no header)"]
    assert "[8]" in caplog.text
    grid = raw.grids["acak"]
    assert grid.shape == (9, 6)
    assert grid.iloc[7].tolist() == ["Kopi", "30000", "5", "Wangi", "ekstra", "lagi"]
    assert grid.iloc[4].isna().all()


def test_csv_header_with_typos_and_units(tmp_path):
    path = tmp_path / "typo.csv"
    path.write_text("Nama Prodak;Hraga;Stok ;Berat (kg);Deskirpsi;Kategory;Foto 1;Gambar 2\n"
                    "Tas Anyaman;85.000;4;0,5;Anyaman pandan;Kerajinan;u1;u2\n", encoding="utf-8")
    raw = read_catalogue(path)
    assert raw.headers["typo"] == {
        "name": "Nama Prodak", "category": "Kategory", "price": "Hraga", "stock": "Stok ",
        "weight": "Berat (kg)", "description": "Deskirpsi", "photo_1": "Foto 1", "photo_2": "Gambar 2"}
    assert raw.units["typo"] == {"weight": "kg"}
    assert records(raw, "name", "price", "photo_2") == [("typo", 2, "Tas Anyaman", "85.000", "u2")]


def test_rows_leaving_out_empty_trailing_cells_are_read_in_place(tmp_path):
    path = tmp_path / "pendek.csv"
    path.write_text("Nama Produk,Harga,Stok,Foto 1,Foto 2\n"
                    "Kopi,15000,3\n"
                    "Teh,5000,2\n"
                    "Gula,12000,9,https://img.example/g1.jpg,https://img.example/g2.jpg\n"
                    "Susu,8000\n"
                    "Madu,90000,1\n", encoding="utf-8")
    raw = read_catalogue(path)
    assert records(raw, "name", "stock", "photo_1", "photo_2") == [
        ("pendek", 2, "Kopi", "3", None, None),
        ("pendek", 3, "Teh", "2", None, None),
        ("pendek", 4, "Gula", "9", "https://img.example/g1.jpg", "https://img.example/g2.jpg"),
        ("pendek", 5, "Susu", None, None, None),
        ("pendek", 6, "Madu", "1", None, None),
    ]
    assert raw.unknown_columns == {"pendek": []}


@pytest.mark.parametrize("later, encoding, value", [
    ("Caf\xe9".encode("cp1252"), "cp1252", "Café"),               # ASCII sample: the rest decides
    (b"Caf\xff", "utf-8", "Caf\ufffd"),                            # UTF-8 sample: a stray byte is replaced
])
def test_encoding_past_the_sample(tmp_path, monkeypatch, later, encoding, value):
    from connectors.catalogue import delimited
    monkeypatch.setattr(delimited, "SAMPLE_BYTES", 64)
    first = "Kopi Gayo" if encoding == "cp1252" else "Kopi Gayo ☕"
    data = f"Nama Produk;Harga\n{first};1\n".encode() + b"x;2\n" * 20 + later + b";3\n"
    path = tmp_path / "campur.csv"
    path.write_bytes(data)
    raw = read_catalogue(path)
    assert raw.encoding == encoding
    assert raw.frame["name"].iloc[0] == first
    assert records(raw, "name")[-1] == ("campur", 23, value)


def test_excel_sep_hint_line_sets_the_delimiter_and_is_not_a_row(tmp_path):
    path = tmp_path / "sep.csv"
    path.write_bytes(b"sep=;\r\nNama Produk;Harga\r\nKopi, Gayo;15.000\r\n")
    raw = read_catalogue(path)
    assert raw.delimiter == ";"
    assert records(raw, "name", "price") == [("sep", 2, "Kopi, Gayo", "15.000")]


def test_excel_unicode_text_utf16_tab_file(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes("Nama Produk\tHarga\r\nKopi ☕\t15000\r\n".encode("utf-16"))
    raw = read_catalogue(path)
    assert (raw.encoding, raw.delimiter) == ("utf-16", "\t")
    assert records(raw, "name") == [("unicode", 2, "Kopi ☕")]


def test_a_header_repeated_further_down_is_not_a_product(tmp_path):
    path = tmp_path / "ulang.csv"
    path.write_text("Nama Produk;Harga;Stok\nKopi;1000;2\n\nNAMA PRODUK ;Harga;Stok\nTeh;500;1\n", encoding="utf-8")
    assert records(read_catalogue(path), "name") == [("ulang", 2, "Kopi"), ("ulang", 5, "Teh")]


def test_big_files_keep_no_grid(tmp_path, monkeypatch):
    monkeypatch.setattr(sources, "BIG_FILE_ROWS", 3)
    path = tmp_path / "besar.csv"
    path.write_text("Nama,Harga\n" + "".join(f"P{i},{i}\n" for i in range(5)), encoding="utf-8")
    raw = read_catalogue(path)
    assert raw.grids is None and len(raw.frame) == 5


def test_file_content_decides_not_the_extension(tmp_path):
    xlsx = workbook(tmp_path / "x.xlsx", {"S": [["Nama", "Harga"], ["Kopi", 1]]})
    disguised = tmp_path / "katalog.csv"
    disguised.write_bytes(xlsx.read_bytes())
    assert records(read_catalogue(disguised), "name") == [("S", 2, "Kopi")]


cell = st.text(alphabet='ab é";\n\r', max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, max_size=5), max_size=12))
def test_csv_rows_match_what_a_csv_parser_and_excel_number(tmp_path, body):
    """Whatever the records (quotes, line breaks, blanks, ragged), rows and values match csv.reader's."""
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows([["Nama Produk", "Harga", "Stok"], *body])
    path = tmp_path / "h.csv"
    path.write_bytes(buf.getvalue().encode("utf-8"))
    expected = []
    for number, rec in enumerate(csv.reader(io.StringIO(buf.getvalue(), newline=""), delimiter=";"), start=1):
        if number > 1 and any(c.strip() for c in rec):
            rec = rec + [""] * 3
            expected.append(("h", number, *[c or None for c in rec[:3]]))
    assert records(read_catalogue(path), "name", "price", "stock") == expected


# --- URLs ----------------------------------------------------------------------------------------

DNS = {"docs.google.com": "142.250.4.100", "internal.example": "10.0.0.5", "metadata.example": "169.254.169.254",
       "sheets.local": "192.168.1.20", "localhost": "127.0.0.1", "v6.example": "::ffff:10.1.2.3"}


@pytest.fixture(autouse=True)
def offline_dns(monkeypatch):
    """Host names as DNS would answer them (these tests mock HTTP and run offline)."""
    import socket

    from connectors.catalogue import download

    def resolve(host, port, proto=0):
        if host not in DNS:
            raise socket.gaierror(f"unknown host {host}")
        family = socket.AF_INET6 if ":" in DNS[host] else socket.AF_INET
        return [(family, socket.SOCK_STREAM, proto, "", (DNS[host], 443))]

    monkeypatch.setattr(download, "resolve", resolve)


@responses.activate
def test_google_sheets_csv_url():
    body = "Nama Produk,Harga,Stok,Foto\r\nKopi Gayo,\"15,000\",7,https://img.example/k.jpg\r\n"
    responses.get(SHEET_URL, body=body.encode(), content_type="text/csv; charset=utf-8",
                  match=[responses.matchers.query_param_matcher({"gid": "0", "output": "csv"})])
    raw = read_catalogue(SHEET_URL + "?gid=0&output=csv", timeout=5)
    assert raw.file == SHEET_URL                       # no query string in the name
    assert (raw.encoding, raw.delimiter) == ("utf-8", ",")
    assert records(raw, "name", "price", "photo_1") == [("CSV", 2, "Kopi Gayo", "15,000", "https://img.example/k.jpg")]


@responses.activate
def test_url_with_a_passed_session_and_a_transient_error_retried_by_default():
    responses.get(SHEET_URL, status=503)
    responses.get(SHEET_URL, body="Nama,Harga\nKopi,1\n")
    assert len(read_catalogue(SHEET_URL).frame) == 1
    assert len(responses.calls) == 2
    with requests.Session() as s:
        assert len(read_catalogue(SHEET_URL, session=s).frame) == 1


@responses.activate
def test_url_404_names_the_url_without_its_query():
    responses.get(SHEET_URL, status=404)
    with pytest.raises(CatalogueError) as err:
        read_catalogue(SHEET_URL + "?output=csv&token=rahasia")
    assert err.value.file == SHEET_URL
    assert "404" in err.value.message_en and "404" in err.value.message_id
    assert "rahasia" not in str(err.value)


@responses.activate
def test_url_returning_a_login_page_instead_of_csv():
    responses.get(SHEET_URL, body="<!DOCTYPE html><html><body>Sign in</body></html>", content_type="text/html")
    with pytest.raises(CatalogueError, match="web page") as err:
        read_catalogue(SHEET_URL)
    assert "Publikasikan ke web" in err.value.message_id


@responses.activate
def test_url_connection_failure_is_a_catalogue_error():
    responses.get(SHEET_URL, body=requests.ConnectionError("boom https://x?key=secret"))
    with pytest.raises(CatalogueError) as err:
        read_catalogue(SHEET_URL + "?key=secret")
    assert "secret" not in str(err.value) and "ConnectionError" in err.value.message_en


@pytest.mark.parametrize("url, says", [
    ("http://docs.google.com/spreadsheets/d/x/pub", "plain http:// is not safe"),
    ("https://internal.example/katalog.csv", "private or local network"),
    ("https://metadata.example/latest/meta-data/", "private or local network"),
    ("https://192.168.1.20/katalog.csv", "private or local network"),
    ("https://v6.example/katalog.csv", "private or local network"),
    ("https://localhost:8080/katalog.csv", "private or local network"),
    ("http://127.0.0.1:8080/katalog.csv", "plain http:// is not safe"),
    ("https://nowhere.example/katalog.csv", "host name is unknown"),
    ("ftp://docs.google.com/katalog.csv", "must start with https://"),
])
@responses.activate
def test_a_catalogue_url_may_only_point_at_a_public_https_server(url, says):
    responses.get(url.split("?")[0], body="Nama,Harga\nKopi,1\n")
    with pytest.raises(CatalogueError) as err:
        read_catalogue(url)
    assert says in err.value.message_en and len(responses.calls) == 0  # refused before any request


@responses.activate
def test_a_redirect_is_checked_at_every_hop():
    responses.get(SHEET_URL, status=302, headers={"Location": "https://docs.google.com/next"})
    responses.get("https://docs.google.com/next", status=307, headers={"Location": "http://127.0.0.1:9/admin/stats"})
    internal = responses.get("http://127.0.0.1:9/admin/stats", body="Nama,Harga\nRAHASIA,1\n")
    with pytest.raises(CatalogueError) as err:
        read_catalogue(SHEET_URL)
    assert "https://" in err.value.message_en and internal.call_count == 0
    assert "RAHASIA" not in str(err.value)


@responses.activate
def test_a_redirect_to_a_public_server_is_followed_and_loops_end():
    responses.get(SHEET_URL, status=302, headers={"Location": "/spreadsheets/d/e/final.csv"})
    responses.get("https://docs.google.com/spreadsheets/d/e/final.csv", body="Nama,Harga\nKopi,1\n")
    assert len(read_catalogue(SHEET_URL).frame) == 1
    responses.get("https://docs.google.com/loop", status=302, headers={"Location": "https://docs.google.com/loop"})
    with pytest.raises(CatalogueError, match="redirected more than 5 times"):
        read_catalogue("https://docs.google.com/loop")


@responses.activate
def test_private_addresses_when_the_configuration_allows_them():
    responses.get("http://127.0.0.1:8080/katalog.csv", body="Nama,Harga\nKopi,1\n")
    responses.get("https://sheets.local/katalog.csv", body="Nama,Harga\nKopi,1\n")
    assert len(read_catalogue("http://127.0.0.1:8080/katalog.csv", allow_private=True).frame) == 1
    assert len(read_catalogue("https://sheets.local/katalog.csv", allow_private=True).frame) == 1
    with pytest.raises(CatalogueError, match="plain http"):  # http:// stays loopback-only
        read_catalogue("http://sheets.local/katalog.csv", allow_private=True)


@responses.activate
def test_the_whole_download_has_a_deadline():
    from connectors.catalogue.download import download

    responses.get(SHEET_URL, body="Nama,Harga\n" + "Kopi,1\n" * 400_000)
    with requests.Session() as s, pytest.raises(CatalogueError, match="took more than 0 s"):
        download(s, SHEET_URL, SHEET_URL, timeout=5, max_bytes=10**9, too_big=sources.too_big, deadline_s=0)


# --- Files that cannot be used -------------------------------------------------------------------

def _corrupt_zip(tmp_path):
    good = workbook(tmp_path / "g.xlsx", {"S": [["Nama", "Harga"], ["Kopi", 1]]}).read_bytes()
    return good[: len(good) // 2]


def _not_a_workbook_zip(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hello")
    return buf.getvalue()


@pytest.mark.parametrize("name, content, words", [
    ("kosong.csv", b"", "empty"),
    ("spasi.csv", b"\xef\xbb\xbf \r\n\r\n", "empty"),
    ("kosong.xlsx", b"", "empty"),
    ("sampah.csv", bytes(range(256)) * 40, "neither a CSV"),
    ("halaman.xlsx", b"<html><table><tr><td>Nama</td></tr></table></html>", "web page"),
    ("halaman.csv", b"\n  <!DOCTYPE html><html></html>", "web page"),
    ("rusak.xlsx", _corrupt_zip, "damaged"),
    ("zip.xlsx", _not_a_workbook_zip, "damaged"),
    ("terkunci.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000 + "EncryptedPackage".encode("utf-16-le"),
     "password"),
    ("lama.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "legacy .xls"),
    ("tanpa-judul.csv", b"Kopi;15000;10\nTeh;5000;3\n", "No header row found"),
    ("satu-kolom.csv", b"Nama Produk\nKopi\n", "No header row found"),
])
def test_unusable_files_raise_a_catalogue_error_naming_the_file(tmp_path, name, content, words):
    path = tmp_path / name
    path.write_bytes(content(tmp_path) if callable(content) else content)
    with pytest.raises(CatalogueError) as err:
        read_catalogue(path)
    assert err.value.file == name
    assert words in err.value.message_en
    assert str(err.value) == f"{name}: {err.value.message_en} ({err.value.message_id})"


def test_workbook_without_any_header(tmp_path):
    path = workbook(tmp_path / "catatan.xlsx", {"Catatan": [["Belum ada produk"]], "Lain": [["Nama", "Alamat"]]})
    with pytest.raises(CatalogueError) as err:
        read_catalogue(path)
    assert err.value.message_id.startswith("Baris judul kolom tidak ditemukan")


def test_missing_file(tmp_path):
    with pytest.raises(CatalogueError, match="not found"):
        read_catalogue(tmp_path / "tidak-ada.xlsx")


# --- Headers -------------------------------------------------------------------------------------

@pytest.mark.parametrize("header, field, unit", [
    ("Nama Produk", "name", None), ("NAMA BARANG", "name", None), ("Product Name", "name", None),
    ("Nama Prodak", "name", None), ("Hraga", "price", None), ("Harga (Rp)", "price", "rp"),
    ("Harga (ribu)", "price", "rb"), ("Harga Satuan", "price", None), ("Harga Rp", "price", "rp"),
    ("Berat (gram)", "weight", "g"), ("Berat (gr)", "weight", "g"), ("Berat kg", "weight", "kg"),
    ("Berat (ons)", "weight", "ons"), ("Stok ", "stock", None), ("Qty", "stock", None),
    ("Foto 5", "photo", None), ("URL Foto", "photo", None), ("Gambar2", "photo", None),
    ("No.", "no", None), ("Kode Produk", "sku", None), ("Min. Order", "min_order", None),
    ("Minimal Beli", "min_order", None), ("Kondisi", "condition", None), ("No. PIRT", "pirt", None),
    ("P-IRT", "pirt", None), ("No. Halal", "halal", None), ("Kadaluarsa", "expiry", None),
    ("Tanggal Kedaluwarsa", "expiry", None), ("Varian", "variant", None), ("Satuan", "unit", None),
    ("Nama Produk* (wajib)", "name", None), ("Deskripsi Produk", "description", None),
])
def test_match_header(header, field, unit):
    m = match_header(header)
    assert (m.field, m.unit) == (field, unit)


@pytest.mark.parametrize("text", ["Harga Modal", "Nama Kelompok", "Katalog Produk", "15000", "Stop",
                                  "Keripik Singkong", ""])
def test_non_headers_are_not_guessed(text):
    assert match_header(text) is None


def test_header_row_is_the_best_scoring_row_and_needs_name_and_price_or_stock():
    rows = [["Nama", "Alamat"], ["Nama Produk", "Stok"], [], ["Nama Produk", "Harga", "Stok", "Berat"],
            ["x", "1", "2", "3"]]
    head = find_header(rows)
    assert head.row_index == 3
    assert find_header([["Nama", "Kategori", "Deskripsi"]]) is None


def test_instruction_row_detection_is_conservative():
    head = label_header(0, ["Nama Produk", "Harga", "Deskripsi"])
    assert isinstance(head, SheetHeader)
    assert is_instruction_row(["Wajib diisi", "Isi angka, contoh 15000", "Opsional, maks 2000 karakter"], head)
    assert not is_instruction_row(["Keripik isi 10", "15000", "Contoh rasa: balado"], head)
    assert not is_instruction_row(["Wajib diisi", "15.000", "Contoh"], head)
    assert not is_instruction_row(["Keripik Pedas", "hubungi kami", "Renyah"], head)


# --- the date a catalogue states for its stock -----------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("17 Agustus 2026", dt.date(2026, 8, 17)),
    ("Senin, 5 Okt. 2026", dt.date(2026, 10, 5)),
    ("5-Okt-2026", dt.date(2026, 10, 5)),
    ("17 agt 26", dt.date(2026, 8, 17)),
    ("1 Nopember 2026", dt.date(2026, 11, 1)),
    ("03/04/2026", dt.date(2026, 4, 3)),  # day first
    ("3.4.2026", dt.date(2026, 4, 3)),
    ("2026-04-03 10:00:00", dt.date(2026, 4, 3)),  # a spreadsheet's own date cell
    ("as of 20 November 2026", dt.date(2026, 11, 20)),
    ("31/02/2026", None), ("Rp 15.000", None), ("1/2 kg", None), ("40 pcs", None), ("2026", None),
    ("1" + " " * 100_000 + "Agustus 2026", None),  # a hostile cell: answered at once, not after hours
])
def test_dates_are_read_day_first_in_indonesian_and_english(text, expected):
    from schemas.dates import find_date

    found = find_date(text)
    assert (found[0] if found else None) == expected


def test_a_catalogue_states_when_its_stock_was_counted_above_its_table(tmp_path):
    header = ["Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Foto 1"]
    row = ["Keripik Tempe", "Keripik", "15000", "40", "250", "https://img.example/1.jpg"]
    same_cell = workbook(tmp_path / "a.xlsx", {"Produk": [["Katalog KWT Mawar — diperbarui 20 November 2026"], [],
                                                           header, row]}, merges={"Produk": ["A1:F1"]})
    stated = read_catalogue(same_cell).recorded_on
    assert (stated.on, stated.where(), stated.row, stated.column) == (dt.date(2026, 11, 20), "Produk!A1", 1, "A")

    # Label and date in two cells (the date an Excel date cell), on the second of two product sheets
    # that both state one: the earlier date, so no sale since then is missed.
    two = workbook(tmp_path / "b.xlsx", {
        "Makanan": [["Stok per", dt.datetime(2026, 11, 18)], header, row],
        "Kerajinan": [["Katalog"], ["Tanggal stok:", None, "5 Okt 2026"], header, [*row[:0], "Tas Pandan", *row[1:]]]})
    stated = read_catalogue(two).recorded_on
    assert (stated.on, stated.where()) == (dt.date(2026, 10, 5), "Kerajinan!A2")

    # A CSV's title line; and no date where none is stated (an expiry column is not one).
    csv_path = tmp_path / "c.csv"
    csv_path.write_text("Katalog Batik — stok per 03/11/2026;;;;;\n" + ";".join(header) + "\n" + ";".join(row) + "\n",
                        encoding="utf-8")
    assert read_catalogue(csv_path).recorded_on.on == dt.date(2026, 11, 3)
    none = workbook(tmp_path / "d.xlsx", {"Produk": [["Katalog 2026 (update harga tiap bulan)"],
                                                      [*header, "Tanggal Kedaluwarsa"], [*row, "17 Agustus 2027"]]})
    assert read_catalogue(none).recorded_on is None


def test_a_stated_date_still_to_come_is_not_used_and_the_report_says_so(tmp_path):
    from connectors.sheets import PROBLEMS_SHEET, SUMMARY_SHEET
    from flows.engine.intake import GroupIntake, intake_catalogue, load_categories, recorded_at, saved_at, write_report
    from schemas.config import GroupConfig

    header = ["Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Foto 1"]
    row = ["Keripik Tempe", "Keripik", "15000", "40", "250", "https://img.example/1.jpg"]
    later = dt.date.today() + dt.timedelta(days=40)
    path = workbook(tmp_path / "mawar.xlsx", {"Produk": [["Katalog", f"Stok per {later:%d/%m/%Y}"], header, row]})
    raw, result = intake_catalogue(path, "mawar", load_categories(None))
    assert raw.recorded_on is None and result.warnings == 1 and len(result.listings) == 1
    when, how = recorded_at(raw.recorded_on, saved_at(path))
    assert how == "file saved" and when == dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)

    group = GroupConfig(id="mawar", name="Mawar", shop_id=1, catalogue=str(path))
    report = openpyxl.load_workbook(write_report(tmp_path / "out", GroupIntake(group, result, raw)).report_xlsx)
    problems = list(report[PROBLEMS_SHEET].iter_rows(values_only=True))
    assert any(r[3] == 1 and r[4] == "B" and "has not come yet" in r[7] and "belum tiba" in r[6] for r in problems)
    summary = {r[0]: r[1] for r in report[SUMMARY_SHEET].iter_rows(values_only=True) if r and r[0]}
    assert summary["Stok dihitung per / Stock counted as of"].startswith("waktu berkas terakhir disimpan")
