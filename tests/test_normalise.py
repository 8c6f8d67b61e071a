"""Catalogue rows → listings + rejects: each rule, and the no-loss invariant."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.categories import DEFAULT_CATEGORIES, CategoryIndex
from schemas.listing import NAME_MAX, SKU_MAX, listings_of
from schemas.normalise import normalise

CATS = CategoryIndex(DEFAULT_CATEGORIES, {"kripik": 101, "anyaman pandan": 301})
GOOD = dict(name="Keripik Singkong", category="Keripik", price="Rp 15.000", stock="40",
            weight="250 gr", photo_1="https://img.example/k.jpg")


def run(*rows, group="wonosobo-sekar-carica", headers=None, units=None, first_row=5):
    frame = pd.DataFrame(list(rows)).astype("str")
    frame.insert(0, "row", range(first_row, first_row + len(frame)))
    frame.insert(0, "sheet", "Produk")
    return normalise(frame, group_id=group, file="katalog.xlsx", categories=CATS,
                     headers=headers or {}, units=units or {})


def reasons(result, row):
    return result.rejects.loc[result.rejects["row"] == row, "reason_en"].tolist()


def test_a_good_row_becomes_a_listing_with_every_field_normalised():
    r = run(dict(GOOD, name="KERIPIK SINGKONG PEDAS 🌶️", description="Gurih\r\n  renyah",
                 pirt="P-IRT No. 1234567890123-45", condition="Baru", min_order=""))
    assert r.rejects.empty
    (listing,) = listings_of(r.listings)
    assert listing.name == "Keripik Singkong Pedas"
    assert (listing.price, listing.stock, listing.weight_g, listing.category_id) == (15000, 40, 250, 101)
    assert listing.description == "Gurih\nrenyah\n\nNo. P-IRT: P-IRT No. 1234567890123-45"
    assert listing.min_order == 1 and listing.condition == "NEW" and listing.row == 5


def test_rejects_name_the_header_as_written_the_value_and_the_reason_in_both_languages():
    r = run(dict(GOOD, price="nego"), headers={"Produk": {"price": "Harga Jual"}})
    (line,) = r.rejects.to_dict("records")
    assert line["column"] == "Harga Jual" and line["value"] == "nego" and line["row"] == 5
    assert line["reason_id"].startswith("Harga bukan angka") and "not a number" in line["reason_en"]
    assert line["file"] == "katalog.xlsx" and line["sheet"] == "Produk" and line["severity"] == "reject"


def test_several_problems_on_one_row_are_each_reported_but_count_once():
    r = run(dict(GOOD, price="15,000", stock="-3", weight="secukupnya"))
    assert len(r.rejects) == 3 and r.rejected_rows == 1 and len(r.listings) == 0


def test_sku_is_stable_across_row_order_and_value_changes_but_not_names():
    a = run(GOOD, dict(GOOD, name="Manisan Carica", category="Manisan"))
    b = run(dict(GOOD, name="Manisan Carica", category="Manisan"),
            dict(GOOD, price="20.000", stock="3", description="baru"))
    skus_a = dict(zip(a.listings["name"], a.listings["sku"]))
    skus_b = dict(zip(b.listings["name"], b.listings["sku"]))
    assert skus_a == skus_b
    assert skus_a["Keripik Singkong"].startswith("WONOSOBO-SEKAR-C-KERIPIK-SINGKONG-")
    other_group = run(GOOD, group="jember-anyaman")
    assert other_group.listings["sku"][0] != skus_a["Keripik Singkong"]


def test_sku_uses_the_groups_own_code_when_given_and_fits_50_chars():
    r = run(dict(GOOD, sku="SC-001"), dict(GOOD, name="Nama " + "panjang " * 7, sku=""),
            group="a-very-long-group-identifier-of-forty-ch")
    assert r.listings["sku"][0].startswith("A-VERY-LONG-GROU-SC-001-")
    assert r.listings["sku"].str.len().max() <= SKU_MAX
    renamed = run(dict(GOOD, name="Keripik Singkong Balado", sku="SC-001"),
                  group="a-very-long-group-identifier-of-forty-ch")
    assert renamed.listings["sku"][0] == r.listings["sku"][0]  # the code, not the name, is the identity


def test_identical_duplicate_keeps_the_first_and_rejects_the_later():
    r = run(GOOD, dict(GOOD, name="Sambal", category="Sambal"), dict(GOOD))
    assert len(r.listings) == 2
    assert reasons(r, 7) == ["Duplicate of row 5 (identical)"]


def test_conflicting_duplicates_are_both_rejected():
    r = run(GOOD, dict(GOOD, name="keripik  singkong", price="20000"))
    assert len(r.listings) == 0 and r.rejected_rows == 2
    assert "row 6" in reasons(r, 5)[0] and "row 5" in reasons(r, 6)[0]


def test_a_long_name_is_rejected_with_a_suggestion_never_cut():
    name = "Keripik Singkong Pedas Manis Gurih Renyah Khas Desa Kalibeber Wonosobo Jawa Tengah"
    r = run(dict(GOOD, name=name))
    (reason,) = reasons(r, 5)
    assert f"{len(name)} characters" in reason
    suggestion = reason.split('Suggestion: "')[1].rstrip('"')
    assert len(suggestion) <= NAME_MAX and name.startswith(suggestion) and name[len(suggestion)] == " "


def test_variants_are_their_own_listings_with_the_variant_in_the_name():
    r = run(dict(GOOD, variant="Pedas"), dict(GOOD, variant="Original"))
    assert sorted(r.listings["name"]) == ["Keripik Singkong - Original", "Keripik Singkong - Pedas"]
    assert r.listings["sku"].nunique() == 2


def test_photos_from_several_columns_and_cells_up_to_five_with_a_warning():
    many = dict(GOOD, photo_1="https://a.example/1.jpg", photo_2="https://a.example/2.jpg, https://a.example/3.jpg",
                photo_3="https://a.example/4.jpg\nhttps://a.example/5.jpg https://a.example/6.jpg")
    r = run(many)
    assert list(r.listings["pictures"][0]) == [f"https://a.example/{i}.jpg" for i in range(1, 6)]
    assert r.rejects["severity"].tolist() == ["warning"] and r.rejected_rows == 0


@pytest.mark.parametrize("photo", ["", "http://a.example/1.jpg", "foto di WA"])
def test_a_row_without_a_valid_https_photo_is_rejected(photo):
    assert run(dict(GOOD, photo_1=photo)).rejected_rows == 1


def test_categories_by_name_alias_or_id_and_helpful_rejects():
    r = run(dict(GOOD, category="KRIPIK"), dict(GOOD, name="B", category="anyaman  pandan"),
            dict(GOOD, name="C", category="401"), dict(GOOD, name="D", category="Makanan & Minuman"),
            dict(GOOD, name="E", category="Elektronik"))
    assert r.listings["category_id"].tolist() == [101, 301, 401]
    assert "choose one of: Keripik, Manisan" in reasons(r, 8)[0]
    assert reasons(r, 9)[0].startswith("Unknown category. Closest: ")


def test_numbers_use_the_header_unit():
    r = run(dict(GOOD, weight="0,5"), units={"Produk": {"weight": "kg"}})
    assert r.listings["weight_g"][0] == 500


@pytest.mark.parametrize("field, value, fragment", [
    ("price", "50", "between 100 and 100,000,000"), ("price", "Rp 150.000.000", "between"),
    ("stock", "1.000.000", "at most 999,999"), ("min_order", "0", "1 to 9,999"),
    ("condition", "Rusak", "Condition must be"), ("pirt", "P-IRT 12345", "at least 15 digits"),
    ("description", "x" * 2001, "at most 2000"), ("name", "  ", "Product name is empty"),
])
def test_marketplace_field_rules(field, value, fragment):
    r = run(dict(GOOD, **{field: value}))
    assert r.rejected_rows == 1 and any(fragment in x for x in reasons(r, 5)), reasons(r, 5)


def test_blank_rows_and_number_only_rows_are_not_rows():
    r = run(GOOD, dict(name="", price=None, no="7"), dict(GOOD, name="Sambal", category="Sambal"))
    assert r.rows_in == 2 and len(r.listings) == 2


def test_a_missing_category_column_rejects_every_row_with_that_reason():
    row = {k: x for k, x in GOOD.items() if k != "category"}
    r = run(row, dict(row, name="B"))
    assert r.rejected_rows == 2 and reasons(r, 5) == ["This sheet has no Category column"]


ROW = st.fixed_dictionaries({
    "name": st.sampled_from(["Keripik", "keripik", "Sambal", "", "KOPI", "x" * 80, "Tas 👜"]),
    "category": st.sampled_from(["Keripik", "Sambal", "Elektronik", "", "Makanan & Minuman"]),
    "price": st.sampled_from(["15.000", "nego", "15,000", "", "1,5 jt", "50"]),
    "stock": st.sampled_from(["40", "-1", "habis", "", "banyak"]),
    "weight": st.sampled_from(["250 gr", "secukupnya", "", "2 ons"]),
    "photo_1": st.sampled_from(["https://a.example/1.jpg", "", "http://x"]),
    "sku": st.sampled_from(["", "", "K-1", "k-1"]),
})


@settings(max_examples=150, deadline=None)
@given(st.lists(ROW, min_size=1, max_size=25))
def test_nothing_is_lost_every_row_is_a_listing_or_a_reject(rows):
    r = run(*rows)
    rejected = set(r.rejects.loc[r.rejects["severity"] == "reject", "row"])
    listed = set(r.listings["row"])
    assert not rejected & listed
    assert r.rows_in == len(listed) + len(rejected) == len(r.listings) + r.rejected_rows
    assert (r.listings["sku"].is_unique and r.listings["name"].str.len().max(skipna=True) <= NAME_MAX
            if len(r.listings) else True)
