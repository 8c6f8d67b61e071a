"""Each bundled sample catalogue, end to end through the real reader, photo finder and normaliser,
against samples/expected_rejects.json (written from the catalogues' own generator)."""

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from PIL import Image

from connectors.config import load_config
from flows.engine.intake import GroupIntake, intake_catalogue, load_categories, photo_places, write_report
from flows.engine.photos import cached_photo

SAMPLES = Path(__file__).resolve().parent.parent / "flows" / "samples"
EXPECTED = json.loads((SAMPLES / "expected_rejects.json").read_text(encoding="utf-8"))
CONFIG = load_config(SAMPLES / "lapak.toml")
CATEGORIES = load_categories(None).__class__(  # the default tree + the sample config's aliases
    list(load_categories(None).categories.values()), CONFIG.categories)

# How each expected reason shows in our English text.
REASON_TEXT = {
    "category_not_leaf": "too general", "category_unknown": "Unknown category",
    "description_too_long": "at most 2000", "duplicate_conflicting": "with different values",
    "duplicate_identical": "Duplicate of row", "name_missing": "name is empty",
    "name_too_long": "at most 70", "photo_missing": "A photo is required",
    "photo_not_https": "must start with https://", "photo_not_found": "Photo file not found",
    "photo_too_small": "Photo too small (200×150); at least 300×300",
    "price_ambiguous": "Ambiguous price", "price_not_a_number": "Price is not a number",
    "price_too_high": "between 100 and 100,000,000", "price_too_low": "between 100 and 100,000,000",
    "stock_negative": "cannot be negative", "stock_not_a_number": "Stock is not a number",
    "weight_missing": "Weight is empty", "weight_unreadable": "Weight cannot be read",
}


@pytest.fixture(scope="module", params=sorted(EXPECTED["groups"]))
def group(request, tmp_path_factory):
    gid = request.param
    expected = EXPECTED["groups"][gid]
    out = tmp_path_factory.mktemp(gid)
    source = SAMPLES / expected["file"]
    places = photo_places(CONFIG, CONFIG.group(gid), source, out)  # as the sync and `lapak check` find photos
    raw, result = intake_catalogue(source, gid, CATEGORIES, places)
    intake = write_report(out, GroupIntake(group=CONFIG.group(gid), result=result, raw=raw))
    return expected, raw, result, intake, places.cache_dir


def test_counts_and_no_loss(group):
    expected, raw, result, _, _ = group
    assert raw.header_rows[expected["sheet"]] == expected["header_row"]
    assert (result.rows_in, len(result.listings), result.rejected_rows) == (
        expected["data_rows"], expected["expected_listings"], expected["rejected_rows"])
    assert result.rows_in == len(result.listings) + result.rejected_rows


def test_every_expected_reject_names_sheet_row_column_value_and_reason(group):
    expected, _, result, _, _ = group
    got = result.rejects[result.rejects["severity"] == "reject"]
    assert sorted(set(got["row"])) == sorted(r["row"] for r in expected["rejects"])
    for want in expected["rejects"]:
        lines = got[got["row"] == want["row"]]
        assert (lines["sheet"] == want["sheet"]).all()
        assert want["column"] in set(lines["column"]), (want, lines.to_dict("records"))
        value = want["value"].rstrip("…")
        assert any(v.startswith(value[:60]) for v in lines["value"]), (want["value"], list(lines["value"]))
        assert any(REASON_TEXT[want["reason_key"]] in r for r in lines["reason_en"]), (want, list(lines["reason_en"]))
        assert all(lines["reason_id"].str.len() > 0)


def test_every_expected_listing_has_its_values(group):
    expected, _, result, _, _ = group
    by_row = result.listings.set_index("row")
    for want in expected["listings"]:
        got = by_row.loc[want["row"]]
        assert got["name"] == (want["name"].title() if want["name"].isupper() else want["name"])  # ALL CAPS → Title
        assert (got["category_id"], got["price"], got["stock"], got["min_order"]) == (
            want["category_id"], want["price"], want["stock"], want["min_order"])
        assert got["weight_g"] == pytest.approx(want["weight_g"])
        assert list(got["pictures"]) == want["pictures"]  # a photo file as photo:<sha256 of the file>
        assert bool(got["active"]) == want["active"]  # Status Nonaktif: listed, kept inactive
    assert result.listings["sku"].is_unique


def test_photo_files_are_prepared_upright_and_without_metadata(group):
    """Each photo file a listing shows is prepared once: upright by its EXIF orientation, no EXIF
    left (so no GPS), a JPEG of its upright size (all are under 2,048 px)."""
    expected, _, _, _, photo_cache = group
    used = {p for li in expected["listings"] for p in li["pictures"] if p.startswith("photo:")}
    for f in expected["photo_files"]:
        prepared = cached_photo(photo_cache, f["sha256"])
        if "photo:" + f["sha256"] not in used:
            assert not prepared.exists(), f"{f['file']} is refused, never prepared"
            continue
        with Image.open(prepared) as im:
            assert im.format == "JPEG" and list(im.size) == f["upright_size"], f["file"]
            assert len(im.getexif()) == 0 and "exif" not in im.info, f"{f['file']} still carries EXIF"


def test_the_rejects_report_is_written_and_holds_every_rejected_row(group):
    expected, _, result, intake, _ = group
    assert intake.report_xlsx.exists() and intake.report_csv.exists()
    csv_rows = pd.read_csv(intake.report_csv, encoding="utf-8-sig")
    assert len(csv_rows) == len(result.rejects)
    wb = openpyxl.load_workbook(intake.report_xlsx)
    text = "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value)
    for want in expected["rejects"]:
        assert REASON_TEXT[want["reason_key"]] in text
