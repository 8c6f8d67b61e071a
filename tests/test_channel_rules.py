"""Fitting the first marketplace's listings to TikTok's rules (schemas/channel_rules.py, decisions.md issue 9)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from schemas.categories import DEFAULT_CATEGORIES, Category
from schemas.channel_rules import TIKTOK, CategoryMap, GroupLabels, complete_title, fit_listings, kilograms
from schemas.listing import Listing

GROUP = GroupLabels("KWT Sekar Carica", "Wonosobo", "Sembungan")
FIRST_LEAVES = {c.id: c.name for c in DEFAULT_CATEGORIES if c.is_leaf}
FIRST_ID = {name: cid for cid, name in FIRST_LEAVES.items()}

# TikTok's own tree: other ids, other names, one level deeper in places.
TIKTOK_TREE = [
    Category(id=600000, name="Makanan & Minuman", parent_id=None, is_leaf=False),
    Category(id=600100, name="Camilan", parent_id=600000, is_leaf=False),
    Category(id=600101, name="Keripik & Kerupuk", parent_id=600100, is_leaf=True),
    Category(id=600102, name="Manisan", parent_id=600100, is_leaf=True),
    Category(id=600200, name="Kopi", parent_id=600000, is_leaf=True),
    Category(id=700000, name="Fashion Wanita", parent_id=None, is_leaf=False),
    Category(id=700101, name="Batik Tulis", parent_id=700000, is_leaf=True),
    Category(id=700102, name="Kain Tenun", parent_id=700000, is_leaf=True),
]
ALIASES = {"Kripik Jamur": "600101", "Kopi Bubuk": "600200"}


def listing(**kw) -> Listing:
    base = dict(group_id="kwt-sekar", sku="KWT-SEKAR-KERIPIK-1A2B3C4D", name="Keripik Jamur Tiram Renyah 250 gr",
                category_id=FIRST_ID["Keripik"], price=15_000, stock=40, min_order=1, weight_g=250.0,
                condition="NEW", description="Keripik jamur tiram.", pictures=("https://x.id/a.jpg",),
                sheet="Produk", row=2, category_text="Kripik Jamur")
    base.update(kw)
    return Listing(**base)


def fit(listings, **kw):
    kw.setdefault("categories", CategoryMap(TIKTOK_TREE, ALIASES))
    return fit_listings(listings, TIKTOK, first_leaf_names=FIRST_LEAVES, group=GROUP, file="katalog.xlsx", **kw)


# ---- titles ------------------------------------------------------------------------------------

def test_a_short_name_gets_group_and_regency():
    title = complete_title("Keripik Jamur Tiram", "KWT Sekar Carica", "Wonosobo", "Sembungan", TIKTOK)
    assert title == "Keripik Jamur Tiram - KWT Sekar Carica, Wonosobo"


def test_a_long_enough_name_stays_as_it_is():
    name = "Keripik Jamur Tiram Renyah 250 gr"
    assert complete_title(name, "KWT Sekar Carica", "Wonosobo", "Sembungan", TIKTOK) == name


def test_empty_group_parts_are_skipped():
    assert complete_title("Keripik Tiram", "", "Wonosobo", "", TIKTOK) == \
        "Keripik Tiram - Wonosobo, Produk UMKM Desa Indonesia"
    assert complete_title("Keripik Jamur Tiram", "KWT Sekar Carica", "", "", TIKTOK) == \
        "Keripik Jamur Tiram - KWT Sekar Carica"


def test_a_part_the_name_already_holds_is_not_repeated():
    title = complete_title("Carica Wonosobo", "KWT", "wonosobo", "Sembungan", TIKTOK)
    assert title == "Carica Wonosobo - KWT, Desa Sembungan"
    assert title.casefold().count("wonosobo") == 1


def test_village_and_filler_only_while_still_short():
    assert complete_title("Teh", "KWT", "Batu", "Desa Tulungrejo", TIKTOK) == "Teh - KWT, Batu, Desa Tulungrejo"
    assert complete_title("Teh", "", "", "", TIKTOK) == "Teh - Produk UMKM Desa Indonesia"


@pytest.mark.parametrize("name", ["Teh", "T", "", "  Kopi   Luwak  "])
@pytest.mark.parametrize("labels", [("", "", ""), ("A", "B", "C"), ("KWT Sekar Carica", "Wonosobo", "Sembungan")])
def test_every_title_reaches_the_minimum_and_is_stable(name, labels):
    title = complete_title(name, *labels, TIKTOK)
    assert TIKTOK.title_min <= len(title) <= TIKTOK.title_max
    assert title == " ".join(title.split())
    assert complete_title(name, *labels, TIKTOK) == title


def test_titles_never_exceed_the_maximum():
    long_name = " ".join(["Kerajinan"] * 40)
    title = complete_title(long_name, "", "", "", TIKTOK)
    assert len(title) <= TIKTOK.title_max and long_name.startswith(title) and not title.endswith(" ")
    huge_group = complete_title("Teh", "X" * 400, "Wonosobo", "", TIKTOK)
    assert TIKTOK.title_min <= len(huge_group) <= TIKTOK.title_max


# ---- categories --------------------------------------------------------------------------------

def test_category_by_alias_of_the_catalogue_text():
    assert CategoryMap(TIKTOK_TREE, ALIASES).leaf_for("kripik  JAMUR", "Keripik") == (600101, [])


def test_category_by_alias_of_the_first_leaf_name():
    assert CategoryMap(TIKTOK_TREE, ALIASES).leaf_for("Bubuk kopi robusta", "Kopi Bubuk") == (600200, [])


def test_category_by_lookup_on_the_text_then_the_first_leaf_name():
    cats = CategoryMap(TIKTOK_TREE, {})
    assert cats.leaf_for("Makanan & Minuman > Manisan", "Keripik") == (600102, [])
    assert cats.leaf_for("Jarik", "Batik Tulis") == (700101, [])


def test_a_numeric_text_is_the_first_marketplace_code_not_the_channels():
    assert CategoryMap(TIKTOK_TREE, {}).leaf_for("600102", "Batik Tulis") == (700101, [])


def test_an_alias_that_is_not_a_leaf_is_a_config_error():
    with pytest.raises(ValueError, match="Camilan Pedas"):
        CategoryMap(TIKTOK_TREE, {"Camilan Pedas": "600100"})
    with pytest.raises(ValueError, match="Kopi Sachet"):
        CategoryMap(TIKTOK_TREE, {"Kopi Sachet": "99"})


def test_an_unknown_category_is_rejected_for_tiktok_with_suggestions():
    row = listing(category_text="Kerupuk Udang", category_id=FIRST_ID["Makanan Ringan"])
    result = fit([row], headers={"category": "Jenis Produk"})
    assert result.listings == [] and result.rejected_rows == 1
    (line,) = result.rejects
    assert (line.column, line.value, line.severity) == ("Jenis Produk", "Kerupuk Udang", "reject")
    assert line.reason_id.startswith("TikTok: kategori 'Kerupuk Udang' tidak ada di TikTok. Yang mirip: ")
    assert "Keripik & Kerupuk" in line.reason_id and "Keripik & Kerupuk" in line.reason_en
    assert "tetap tampil" in line.reason_id and "stays listed" in line.reason_en


def test_categories_are_looked_up_once_per_distinct_pair():
    cats = CategoryMap(TIKTOK_TREE, ALIASES)
    calls = []
    lookup = cats.index.lookup
    cats.index.lookup = lambda text: calls.append(text) or lookup(text)
    for _ in range(3):
        cats.leaf_for("Jarik", "Batik Tulis")
    assert calls == ["Jarik", "Batik Tulis"]


# ---- fitting listings --------------------------------------------------------------------------

def test_a_listing_valid_for_tiktok_is_a_copy_with_the_channels_title_and_leaf():
    row = listing(name="Keripik Jamur Tiram", category_text="Kripik Jamur")
    result = fit([row])
    assert result.rejects == [] and result.rejected_rows == 0
    (out,) = result.listings
    assert out == replace(row, name="Keripik Jamur Tiram - KWT Sekar Carica, Wonosobo", category_id=600101)


def test_weight_over_100_kg_is_rejected_naming_tiktok_in_both_languages():
    heavy, light = listing(sku="A-1", weight_g=120_000.0, row=3), listing(sku="A-2", row=4)
    result = fit([heavy, light])
    assert [x.sku for x in result.listings] == ["A-2"]
    assert result.listings[0] == replace(light, category_id=600101)
    (line,) = result.rejects
    assert (line.column, line.value, line.row, line.severity) == ("Berat", "120 kg", 3, "reject")
    assert line.reason_id.startswith("TikTok: berat di atas 100 kg — produk ini tidak dicantumkan di TikTok")
    assert line.reason_en.startswith("TikTok: weight over 100 kg — this product is not listed on TikTok")
    assert "marketplace" in line.reason_id and "marketplace" in line.reason_en


def test_weights_are_sent_in_kilograms_and_a_gram_fraction_is_not_a_reject():
    assert [kilograms(g) for g in (250, 0.4, 1500, 100_000, 1234.5678)] == ["0.25", "0.001", "1.5", "100", "1.235"]
    assert fit([listing(weight_g=0.4)]).rejects == []


def test_an_empty_description_becomes_the_name():
    (out,) = fit([listing(description="")]).listings
    assert out.description == "Keripik Jamur Tiram Renyah 250 gr"


def test_more_than_9_pictures_keeps_the_first_9_with_a_warning():
    pictures = tuple(f"https://x.id/{i}.jpg" for i in range(12))
    result = fit([listing(pictures=pictures)])
    assert result.listings[0].pictures == pictures[:9] and result.rejected_rows == 0
    (line,) = result.rejects
    assert (line.severity, line.column) == ("warning", "Foto")
    assert line.reason_id.startswith("TikTok: ") and "9" in line.reason_en


def test_stock_over_99999_is_a_warning_and_left_as_is():
    result = fit([listing(stock=150_000)], headers={"stock": "Jumlah Stok"})
    assert result.listings[0].stock == 150_000 and result.warnings == 1
    (line,) = result.rejects
    assert (line.severity, line.column, line.value) == ("warning", "Jumlah Stok", "150.000")
    assert "99.999" in line.reason_id and "99,999" in line.reason_en and "TikTok" in line.reason_en


def test_other_channel_rules_reject_with_how_to_fix():
    rows = [listing(sku="KODE DENGAN SPASI", row=2), listing(sku="B-1", price=50, row=3),
            listing(sku="B-2", pictures=(), row=4), listing(sku="B-3", description="x" * 10_050, row=5)]
    result = fit(rows)
    assert result.listings == [] and result.rejected_rows == 4
    assert [line.column for line in result.rejects] == ["Kode", "Harga", "Foto", "Deskripsi"]
    assert all(line.reason_id.startswith("TikTok: ") and line.reason_en.startswith("TikTok: ")
               for line in result.rejects)
    assert "50 karakter" in result.rejects[3].reason_id and "by 50 characters" in result.rejects[3].reason_en


def test_a_row_with_several_problems_counts_once():
    result = fit([listing(weight_g=200_000.0, price=10, category_text="Entah", category_id=999)])
    assert len(result.rejects) == 3 and result.rejected_rows == 1


def test_ten_thousand_listings_sharing_five_categories():
    texts = ["Kripik Jamur", "Manisan", "Kopi Bubuk", "Jarik", "Tenun Ikat"]
    firsts = ["Keripik", "Manisan", "Kopi Bubuk", "Batik Tulis", "Kain Tenun"]
    rows = [listing(sku=f"KWT-{i}", name=f"Produk {i}", row=i + 2, category_text=texts[i % 5],
                    category_id=FIRST_ID[firsts[i % 5]], stock=i * 20) for i in range(10_000)]
    result = fit(rows)
    assert len(result.listings) == 10_000 and result.rejected_rows == 0
    assert {x.category_id for x in result.listings} == {600101, 600102, 600200, 700101, 700102}
    assert result.warnings == sum(i * 20 > 99_999 for i in range(10_000))
    assert all(len(x.name) >= 25 for x in result.listings)
