"""The pure sync plan: only what changed is written, and names stay unique in a shared shop."""

from dataclasses import replace

from schemas.listing import NAME_MAX, KnownListing, Listing
from schemas.naming import unique_names
from schemas.plan import plan_shop

D = Listing(sku="G-A-1", group_id="g", name="Keripik", category_id=101, price=15000, stock=40, min_order=1,
            weight_g=250.0, condition="NEW", description="", pictures=("https://a.example/1.jpg",))
K = KnownListing.created(1, D, product_id=7, stock=40)


def like(base, **changes):
    """A listing (or known listing) like ``base`` but with ``changes``."""
    return replace(base, **changes)


def plan(desired, known, stock=None, **kw):
    stock = stock if stock is not None else {d.sku: 40 for d in desired}
    return plan_shop(1, desired, known, stock, managed_groups=kw.pop("managed", {"g"}), **kw)


def test_unchanged_plans_no_write():
    p = plan([D], [K])
    assert p.writes == 0 and "Nothing to change" in p.to_markdown()


def test_a_new_or_unconfirmed_product_is_created_with_the_stock_to_push():
    p = plan([D, like(D, sku="G-B-2", name="Sambal")], [like(K, sku="G-B-2", product_id=None)],
             {"G-A-1": 5, "G-B-2": 6})
    assert [(c.sku, c.stock) for c in p.creates] == [("G-A-1", 5), ("G-B-2", 6)]


def test_only_changed_fields_are_edited_and_price_and_stock_go_their_own_way():
    p = plan([like(D, description="baru", pictures=("https://a.example/2.jpg",), price=16000, weight_g=250.0000001)],
             [K], {"G-A-1": 39})
    assert [e.changes for e in p.edits] == [{"description": ("", "baru"),
                                             "pictures": (("https://a.example/1.jpg",), ("https://a.example/2.jpg",))}]
    assert [(x.old, x.new) for x in p.prices] == [(15000, 16000)]
    assert [(x.old, x.new) for x in p.stocks] == [(40, 39)]
    assert p.writes == 3


def test_a_name_stays_once_the_product_has_an_order():
    p = plan([like(D, name="Keripik Pedas")], [like(K, has_orders=True)])
    assert p.edits == [] and "cannot change once the product has an order" in p.notes[0]


def test_products_that_left_are_deactivated_unless_held_and_others_are_left_alone():
    gone = like(K, sku="G-X-9", name="Lama")
    foreign = like(K, sku="OTHER-1", group_id="someone-else", name="Bukan kita")
    p = plan([D], [K, gone, foreign])
    assert [x.sku for x in p.deactivate] == ["G-X-9"]
    held = plan([D], [K, gone], hold_deactivation={"g"})
    assert held.deactivate == [] and [x.sku for x in held.held] == ["G-X-9"] and held.writes == 0


def test_an_inactive_product_that_came_back_is_reactivated():
    p = plan([D], [like(K, status="INACTIVE")])
    assert [x.sku for x in p.reactivate] == ["G-A-1"] and p.writes == 1


def test_names_shared_by_two_groups_get_their_village_and_stay_within_70():
    long = "Kopi Bubuk Robusta Asli Petani Lereng Gunung Raung Sangrai Sedang Kemasan"
    a = like(D, sku="A-1", group_id="a", name=long)
    b = like(D, sku="B-1", group_id="b", name=long.upper().title())
    c = like(D, sku="B-2", group_id="b", name="Sambal")
    out = unique_names([a, b, c], {"a": "Desa Kemiren", "b": "Desa Dukuhdempok"}, taken={})
    names = [o.name for o in out]
    assert names[0].endswith(" - Desa Kemiren") and names[1].endswith(" - Desa Dukuhdempok") and names[2] == "Sambal"
    assert all(len(n) <= NAME_MAX for n in names) and len({n.casefold() for n in names}) == 3
    assert unique_names([a, b, c], {"a": "Desa Kemiren", "b": "Desa Dukuhdempok"}, taken={}) == out  # stable


def test_a_name_held_by_an_inactive_product_of_another_group_is_avoided():
    out = unique_names([like(D, name="Sambal")], {"g": "Desa Kenanga"}, taken={"sambal": "X-OLD-1"})
    assert out[0].name == "Sambal - Desa Kenanga"


def test_syncing_one_group_of_a_shared_shop_keeps_the_suffix_the_full_sync_gave():
    from schemas.naming import taken_names

    labels = {"a": "Desa Kemiren", "b": "Desa Dukuhdempok"}
    kopi_a = like(D, sku="A-1", group_id="a", name="Kopi Bubuk Robusta 200 gr")
    kopi_b = like(D, sku="B-1", group_id="b", name="Kopi Bubuk Robusta 200 gr")
    full = unique_names([kopi_a, kopi_b], labels, taken={})
    # as the full sync named it on the marketplace
    known_b = KnownListing.created(1, like(kopi_b, name=full[1].name), product_id=8, stock=1)
    only_a = unique_names([kopi_a], labels, taken=taken_names([known_b], labels))
    assert only_a[0].name == full[0].name == "Kopi Bubuk Robusta 200 gr - Desa Kemiren"


def test_a_product_its_catalogue_marks_nonaktif_is_created_inactive_or_deactivated_and_comes_back():
    off = like(D, active=False)
    created = plan([off], [])
    assert [(c.sku, c.listing.active) for c in created.creates] == [("G-A-1", False)]
    assert "(inactive)" in created.to_markdown()
    # Known and active: deactivated, still in its catalogue (not a product that left it).
    held = plan([off], [K], hold_deactivation={"g"})
    assert [(t.sku, t.in_catalogue) for t in held.deactivate] == [("G-A-1", True)] and held.held == []
    # Known and inactive: nothing to do; marked Aktif again: reactivated.
    assert plan([off], [like(K, status="INACTIVE")]).writes == 0
    assert [t.sku for t in plan([D], [like(K, status="INACTIVE")]).reactivate] == ["G-A-1"]


def test_the_plan_shown_on_the_run_page_makes_no_link_of_a_name():
    """A catalogue name is text written by people: in the ``sync-plan`` artifact it stays text."""
    from markdown_it import MarkdownIt

    name = "[Klik untuk bonus](https://evil.example/login) Keripik <img src=x onerror=alert(1)>"
    renamed = like(K, name="Keripik lama")
    p = plan([like(D, name=name), like(D, sku="G-B-2", name=name + " 2")], [renamed],
             {"G-A-1": 40, "G-B-2": 3})
    text = p.to_markdown()
    assert p.creates and p.edits and name[:20] in text.replace("\\", "")
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    assert "<a" not in rendered and "<img" not in rendered
    assert "[Klik untuk bonus](https://evil.example/login) Keripik" in rendered.replace("&lt;", "<")
