"""A second channel's field rules: fitting listings made for the first marketplace to another channel.

The intake validates rows against the first marketplace's rules; a channel with other rules
(TikTok, ../shared/tiktok-shop-api.md section 5) gets copies fitted by :func:`fit_listings`
(decisions.md, "Per-channel rules (issue 9)"). Pure: no I/O, nothing read from configuration.

Titles
    Never a reason to reject. A name of at least ``title_min`` characters is kept (cut at a word
    boundary to ``title_max``); a shorter one is completed by :func:`complete_title`:
    ``name - group name, regency``, then ``, Desa <village>``, then ``, Produk UMKM Desa
    Indonesia`` (repeated) while still short. A part the title already contains (casefolded,
    as whole words) and an empty part are skipped. The same input gives the same title every run.
Descriptions
    Required by the channel: an empty one becomes the product name (the permit lines the intake
    appends are already in the description). One over ``description_max`` is rejected, saying
    how much to cut: a description is never cut silently.
Categories
    :class:`CategoryMap` finds the channel's LEAF for a row: the ``[tiktok.categories]`` alias of
    the catalogue's text, else the alias of the first marketplace's leaf name, else the channel's
    tree matched (like :class:`schemas.categories.CategoryIndex`) on the catalogue's text, else on
    that leaf name. A numeric catalogue text is the first marketplace's code, never the channel's.
    No leaf: the row is rejected for this channel with the closest leaf names.
Rejects and warnings
    A reject (``severity="reject"``) keeps a row off THIS channel only: it stays listed on the
    first marketplace, and the reason says so. Rejects: no leaf category, weight not above 0 or
    over ``weight_max_g``, price outside the range, no picture, a seller SKU of the wrong length
    or with whitespace, a description too long. Warnings (the row is listed): more pictures than
    ``pictures_max`` (the first ones are sent) and stock over ``stock_max`` (the channel shows
    the cap; the engine clamps it when it sends stock). Every reason names the channel,
    Indonesian first and English beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from schemas.categories import Category, CategoryIndex, category_key
from schemas.listing import Listing, Reject
from schemas.messages import LABELS, rupiah

FIRST_CHANNEL = "marketplace"
"""How reasons call the first marketplace, where a row rejected for another channel stays listed."""

FILLER = "Produk UMKM Desa Indonesia"
"""The fixed words that complete a title still short after the group's own words."""

_SUGGESTIONS = 3


@dataclass(frozen=True, slots=True)
class ChannelRules:
    """A channel's field rules, as data (TikTok's: the contract's section 5)."""

    name: str
    label: str
    title_min: int = 25
    title_max: int = 255
    description_max: int = 10_000
    weight_max_g: float = 100_000      # > 0; sent in kg with at most 3 decimals (never under 0.001)
    price_min: int = 100
    price_max: int = 100_000_000
    stock_max: int = 99_999            # more is sent as this, with a warning
    pictures_min: int = 1
    pictures_max: int = 9              # more: the first ones are sent, with a warning
    sku_min: int = 1
    sku_max: int = 50                  # and no whitespace


TIKTOK = ChannelRules(name="tiktok", label="TikTok")


class GroupLabels(NamedTuple):
    """What completes a short title: the group's name, regency and village (any may be empty)."""

    group_name: str = ""
    regency: str = ""
    village: str = ""


def kilograms(weight_g: float) -> str:
    """A weight as the channel takes it: kilograms, at most 3 decimals, never under 0.001."""
    kg = (Decimal(repr(float(weight_g))) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    kg = max(kg, Decimal("0.001"))
    text = format(kg, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


# ---- titles ------------------------------------------------------------------------------------

def _squash(text: str) -> str:
    return " ".join(text.split())


def _contains(title: str, part: str) -> bool:
    """``part`` appears in ``title`` as whole words, ignoring case."""
    return re.search(rf"(?<!\w){re.escape(part.casefold())}(?!\w)", title.casefold()) is not None


def _cut(text: str, limit: int, floor: int) -> str:
    """``text`` cut at a word boundary to ``limit`` (hard-cut when that would leave under ``floor``)."""
    if len(text) <= limit:
        return text
    cut = text[: limit + 1].rsplit(" ", 1)[0].rstrip(" ,-") if " " in text[: limit + 1] else ""
    return cut if len(cut) >= floor else text[:limit].rstrip()


def complete_title(name: str, group_name: str, regency: str, village: str, rules: ChannelRules) -> str:
    """The channel's title for ``name``: at least ``rules.title_min`` and at most ``rules.title_max``
    characters, the same for the same input.

    A name long enough is kept (cut at a word boundary when over the maximum). A short one
    becomes ``<name> - <group name>, <regency>``, then gets ``, Desa <village>`` and then
    ``, Produk UMKM Desa Indonesia`` (as often as needed) only while still short. Empty parts and
    parts the title already holds (casefolded, whole words) are skipped. Whitespace is normalised.
    """
    title = _squash(name)
    if len(title) >= rules.title_min:
        return _cut(title, rules.title_max, rules.title_min)
    place = re.sub(r"(?i)^desa\s+", "", _squash(village))
    extras: list[str] = []
    for part, only_if_short in ((_squash(group_name), False), (_squash(regency), False),
                                (place and "Desa " + place, True)):
        current = _compose(title, extras)
        if only_if_short and len(current) >= rules.title_min:
            break
        if part and not _contains(current, part.removeprefix("Desa ") if only_if_short else part):
            extras.append(part)
    while len(_compose(title, extras)) < rules.title_min:
        extras.append(FILLER)
    return _cut(_compose(title, extras), rules.title_max, rules.title_min)


def _compose(name: str, extras: list[str]) -> str:
    return " - ".join(p for p in (name, ", ".join(extras)) if p)


# ---- categories --------------------------------------------------------------------------------

class CategoryMap:
    """Finds a channel's leaf category for a row, once per distinct (catalogue text, first leaf name).

    ``aliases`` is ``[tiktok.categories]``: catalogue text → the channel's leaf id (as text),
    matched on :func:`schemas.categories.category_key` like the first marketplace's aliases.
    An alias naming no leaf of ``categories`` raises :class:`ValueError` (a configuration mistake).
    """

    def __init__(self, categories: list[Category], aliases: Mapping[str, str] | None = None,
                 *, rules: ChannelRules = TIKTOK):
        self.index = CategoryIndex(categories)
        self._aliases: dict[str, int] = {}
        for text, leaf in (aliases or {}).items():
            cid = int(leaf) if str(leaf).strip().isdigit() else None
            if cid is None or cid not in self.index.leaves:
                raise ValueError(f"[{rules.name}.categories] {text!r} = {leaf!r}: not a leaf category "
                                 f"of {rules.label}'s category list")
            self._aliases[category_key(text)] = cid
        self._cache: dict[tuple[str, str], tuple[int | None, tuple[str, ...]]] = {}

    def leaf_for(self, category_text: str, first_leaf_name: str) -> tuple[int | None, list[str]]:
        """``(leaf id, [])``, or ``(None, leaf names to suggest)`` when no leaf is found."""
        pair = (category_text, first_leaf_name)
        if pair not in self._cache:
            self._cache[pair] = self._find(category_text, first_leaf_name)
        leaf, suggestions = self._cache[pair]
        return leaf, list(suggestions)

    def _find(self, category_text: str, first_leaf_name: str) -> tuple[int | None, tuple[str, ...]]:
        keys = [category_key(category_text), category_key(first_leaf_name)]
        for key in keys:
            if key in self._aliases:
                return self._aliases[key], ()
        suggestions: list[str] = []
        # A numeric catalogue text is the first marketplace's Kode Kategori: its ids are not this channel's.
        for text, key in ((category_text, keys[0] if not keys[0].isdigit() else ""), (first_leaf_name, keys[1])):
            if not key:
                continue
            leaf, _code, near = self.index.lookup(text)
            if leaf is not None:
                return leaf, ()
            suggestions += [n for n in near if n not in suggestions]
        return None, tuple(suggestions[:_SUGGESTIONS])


# ---- fitting listings --------------------------------------------------------------------------

@dataclass
class FitResult:
    """A group's listings fitted to one channel: the copies to list there, and the lines to report."""

    listings: list[Listing] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        """Catalogue rows kept off this channel (a row with several problems counts once)."""
        return len({(r.group_id, r.file, r.sheet, r.row) for r in self.rejects if r.severity == "reject"})

    @property
    def warnings(self) -> int:
        return sum(r.severity == "warning" for r in self.rejects)


class _Reporter:
    """Builds one channel's reject and warning lines, each reason naming the channel."""

    def __init__(self, rules: ChannelRules, file: str, headers: Mapping[str, str] | None):
        self.rules, self.file, self.headers = rules, file, headers or {}
        self.lines: list[Reject] = []

    def column(self, fieldname: str) -> str:
        return self.headers.get(fieldname) or LABELS.get(fieldname, fieldname)

    def add(self, listing: Listing, fieldname: str, value: str, reason: tuple[str, str],
            fix: tuple[str, str] | None = None, severity: str = "reject") -> None:
        label = self.rules.label
        rid, ren = f"{label}: {reason[0]}", f"{label}: {reason[1]}"
        if severity == "reject":
            rid += f" — produk ini tidak dicantumkan di {label} (di {FIRST_CHANNEL} tetap tampil)"
            ren += f" — this product is not listed on {label} (it stays listed on the {FIRST_CHANNEL})"
        if fix:
            rid, ren = f"{rid}. {fix[0]}", f"{ren}. {fix[1]}"
        self.lines.append(Reject(group_id=listing.group_id, file=self.file, sheet=listing.sheet, row=listing.row,
                                 column=self.column(fieldname), value=value, reason_id=rid, reason_en=ren,
                                 severity=severity))


def _number(n: int) -> tuple[str, str]:
    """``n`` grouped the Indonesian way and the English way."""
    return f"{n:,}".replace(",", "."), f"{n:,}"


def _kg_text(weight_g: float) -> str:
    return kilograms(weight_g).replace(".", ",") + " kg"


def fit_listings(listings: Iterable[Listing], rules: ChannelRules, *, categories: CategoryMap,
                 first_leaf_names: Mapping[int, str], group: GroupLabels | tuple[str, str, str], file: str,
                 headers: Mapping[str, str] | None = None) -> FitResult:
    """``listings`` (the first marketplace's, one group's) as this channel lists them.

    ``first_leaf_names``: the first marketplace's leaf id → name; ``group``: (group name,
    regency, village) completing short titles; ``file``: the catalogue, for the report;
    ``headers``: field → the header as the group wrote it (else the usual label).
    Rows with a problem for this channel are left out of ``result.listings`` with reject lines;
    the rest are copies with the channel's title, leaf category and a description.
    """
    group = GroupLabels(*group)
    report = _Reporter(rules, file, headers)
    titles: dict[str, str] = {}
    out: list[Listing] = []
    for listing in listings:
        before = len(report.lines)
        leaf = _check_category(listing, categories, first_leaf_names, report)
        _check_numbers(listing, rules, report)
        description = listing.description or listing.name
        _check_text(listing, description, rules, report)
        if any(r.severity == "reject" for r in report.lines[before:]):
            continue
        if listing.name not in titles:
            titles[listing.name] = complete_title(listing.name, *group, rules)
        out.append(replace(listing, name=titles[listing.name], category_id=leaf, description=description,
                           pictures=listing.pictures[: rules.pictures_max]))
    return FitResult(listings=out, rejects=report.lines)


def _check_category(listing: Listing, categories: CategoryMap, first_leaf_names: Mapping[int, str],
                    report: _Reporter) -> int | None:
    first_name = first_leaf_names.get(listing.category_id, "")
    leaf, suggestions = categories.leaf_for(listing.category_text, first_name)
    if leaf is not None:
        return leaf
    label, shown = report.rules.label, listing.category_text or first_name
    if suggestions:
        s = ", ".join(suggestions)
        reason = (f"kategori '{shown}' tidak ada di {label}. Yang mirip: {s}",
                  f"category '{shown}' is not one of {label}'s. Closest: {s}")
    else:
        reason = (f"kategori '{shown}' tidak ada di {label} dan tidak ada yang mirip",
                  f"category '{shown}' is not one of {label}'s and none is close")
    fix = (f"Tulis kategori yang ada di {label} di kolom {report.column('category')}, atau minta pengelola "
           f"menambahkannya di [{report.rules.name}.categories]",
           f"Write a category {label} has in the {report.column('category')} column, or ask the operator "
           f"to add it under [{report.rules.name}.categories]")
    report.add(listing, "category", shown, reason, fix)
    return None


def _check_numbers(listing: Listing, rules: ChannelRules, report: _Reporter) -> None:
    weight_col = report.column("weight")
    max_id, max_en = _number(int(rules.weight_max_g // 1000))
    if listing.weight_g <= 0:
        report.add(listing, "weight", f"{listing.weight_g:g} gr",
                   ("berat harus lebih dari 0", "weight must be more than 0"),
                   (f"Tulis beratnya di kolom {weight_col} (mis. 250 gr)",
                    f"Write the weight in the {weight_col} column (e.g. 250 gr)"))
    elif Decimal(kilograms(listing.weight_g)) * 1000 > Decimal(str(rules.weight_max_g)):
        report.add(listing, "weight", _kg_text(listing.weight_g),
                   (f"berat di atas {max_id} kg", f"weight over {max_en} kg"),
                   (f"Bila beratnya salah tulis, perbaiki di kolom {weight_col} (mis. 250 gr atau 0,5 kg)",
                    f"If the weight is mistyped, fix it in the {weight_col} column (e.g. 250 gr or 0,5 kg)"))
    if not rules.price_min <= listing.price <= rules.price_max:
        (lo_id, lo_en), (hi_id, hi_en) = _number(rules.price_min), _number(rules.price_max)
        report.add(listing, "price", rupiah(listing.price),
                   (f"harga harus antara Rp {lo_id} dan Rp {hi_id}", f"price must be between {lo_en} and {hi_en} IDR"),
                   (f"Perbaiki di kolom {report.column('price')}", f"Fix it in the {report.column('price')} column"))
    if listing.stock > rules.stock_max:
        cap_id, cap_en = _number(rules.stock_max)
        report.add(listing, "stock", _number(listing.stock)[0],
                   (f"stok di atas {cap_id}: {rules.label} menampilkan stok {cap_id}",
                    f"stock over {cap_en}: {rules.label} shows a stock of {cap_en}"),
                   severity="warning")


def _check_text(listing: Listing, description: str, rules: ChannelRules, report: _Reporter) -> None:
    label, pictures = rules.label, len(listing.pictures)
    if pictures < rules.pictures_min:
        report.add(listing, "photo", "",
                   (f"minimal {rules.pictures_min} foto", f"at least {rules.pictures_min} picture needed"),
                   (f"Tambahkan foto di kolom {report.column('photo')}",
                    f"Add a picture in the {report.column('photo')} column"))
    elif pictures > rules.pictures_max:
        n = rules.pictures_max
        report.add(listing, "photo", f"{pictures} foto",
                   (f"lebih dari {n} foto: hanya {n} foto pertama dipakai di {label}",
                    f"more than {n} pictures: only the first {n} are used on {label}"), severity="warning")
    sku = listing.sku
    if not rules.sku_min <= len(sku) <= rules.sku_max or any(c.isspace() for c in sku):
        col = report.column("sku")
        report.add(listing, "sku", sku,
                   (f"kode produk harus {rules.sku_min}–{rules.sku_max} karakter tanpa spasi",
                    f"the product code must be {rules.sku_min}–{rules.sku_max} characters with no spaces"),
                   (f"Perbaiki di kolom {col} (mis. KRP-001)", f"Fix it in the {col} column (e.g. KRP-001)"))
    if len(description) > rules.description_max:
        over = len(description) - rules.description_max
        (mx_id, mx_en), (ov_id, ov_en) = _number(rules.description_max), _number(over)
        col = report.column("description")
        report.add(listing, "description", description[:80] + "…",
                   (f"deskripsi {_number(len(description))[0]} karakter, maksimal {mx_id}",
                    f"description has {_number(len(description))[1]} characters, at most {mx_en}"),
                   (f"Pendekkan kolom {col} sebanyak {ov_id} karakter",
                    f"Shorten the {col} column by {ov_en} character{'s' if over > 1 else ''}"))
