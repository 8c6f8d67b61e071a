"""Catalogue rows → marketplace listings, plus a reject line for every problem.

Pure and vectorised: one pass of pyarrow/numpy kernels per field over the whole frame,
Python only over the few distinct categories and the (few) rejected or duplicated rows.
Every input row ends either as a listing or as a rejected row; ``rows_in == listings +
rejected_rows`` always holds (checked at the end, not assumed).

Each step below reads its field(s) from the frame and adds its reject lines to the one
:class:`~schemas.rejects.Problems` collector, in a fixed sequence: lines for the same row and
``order`` keep that sequence in the report.

Choices, documented in the README:
- a name longer than 70 characters is rejected with a suggested shorter name, never cut;
- more than five photos keep the first five, with a warning line in the report;
- the SKU is ``<GROUP>-<SLUG>-<hash>``: the hash of group id + product identity (the
  group's own code when it has a Kode/SKU column, else the name), so it is the same
  across runs and row order and unchanged when price, stock or description change.
"""

from __future__ import annotations

import textwrap
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import messages as msg
from schemas import values as v
from schemas.categories import CategoryIndex
from schemas.listing import (
    DESCRIPTION_MAX,
    MIN_ORDER_MAX,
    MIN_ORDER_MIN,
    NAME_MAX,
    PRICE_MAX,
    PRICE_MIN,
    STOCK_MAX,
)
from schemas.pictures import PhotoResolution, picture_lists
from schemas.rejects import IntakeResult, Problems
from schemas.skus import make_skus, repeated
from schemas.text import EXCEL_ERRORS, blank, clean_description, clean_name, text_column, to_numpy

LISTING_COLUMNS = [
    "group_id", "sku", "name", "category_id", "price", "stock", "min_order", "weight_g",
    "condition", "description", "pictures", "active", "sheet", "row", "category_text",
]
# Fields compared to tell identical duplicate rows from conflicting ones ("no" is a row counter).
_CONTENT_FIELDS = ("name", "variant", "category", "price", "stock", "weight", "description", "sku",
                   "min_order", "condition", "pirt", "halal")
_NOT_CONTENT = ("sheet", "row", "no")
_CONDITIONS = {"": "NEW", "baru": "NEW", "new": "NEW", "b": "NEW",
               "bekas": "USED", "used": "USED", "second": "USED", "seken": "USED"}
# The marketplace workbook's Status column: kept inactive on the marketplace, or listed.
_STATUSES = {"": True, "aktif": True, "active": True, "ya": True, "tampil": True,
             "nonaktif": False, "non-aktif": False, "non aktif": False, "tidak aktif": False, "inactive": False,
             "arsip": False, "sembunyikan": False}


class _Names(NamedTuple):
    raw: pa.Array  # as written, for the report
    clean: pa.Array  # cleaned, the variant appended
    missing: np.ndarray  # rows without a name


class _Numbers(NamedTuple):
    price: v.Parsed
    stock: v.Parsed
    weight: v.Parsed
    min_order: v.Parsed


class _Fields(NamedTuple):
    """Every row's normalised fields, column by column (the rejected rows' too)."""

    sku: pa.Array
    name: pa.Array
    category_id: np.ndarray
    numbers: _Numbers
    condition: np.ndarray
    description: pa.Array
    pictures: pa.ListArray
    active: np.ndarray


def normalise(
    frame: pd.DataFrame,
    *,
    group_id: str,
    file: str,
    categories: CategoryIndex,
    headers: dict[str, dict[str, str]] | None = None,
    units: dict[str, dict[str, str]] | None = None,
    photos: PhotoResolution | None = None,
) -> IntakeResult:
    """Validate and normalise a raw catalogue frame (columns ``sheet``, ``row`` and canonical fields).

    ``photos`` is what each photo reference (file name, Drive link) became, found and prepared
    by the intake (:func:`schemas.pictures.photo_references` lists them). Returns every row as a
    listing or as reject lines (several problems → several lines).
    """
    headers, units = headers or {}, units or {}
    frame = _without_blank_rows(frame)
    problems = Problems(frame, headers)
    # Keep this sequence: a row's lines of equal ``order`` appear in the report as they were added.
    names = _names(frame, problems)
    _broken_cells(frame, problems)
    cat_ids = _category(frame, categories, problems)
    numbers = _numbers(frame, problems, units)
    pictures = picture_lists(frame, problems, photos)
    condition = _condition(frame, problems)
    active = _status(frame, problems)
    description = _description(frame, problems)
    skus = _identity(frame, group_id, names, problems)
    fields = _Fields(skus, names.clean, cat_ids, numbers, condition, description, pictures, active)

    rejects = problems.frame(group_id, file)
    rejected = np.zeros(len(frame), dtype=bool)
    rejected[rejects.loc[rejects["severity"] == "reject", "_idx"].to_numpy(dtype=np.int64)] = True
    keep = np.flatnonzero(~rejected)
    listings = _listings_frame(frame, keep, group_id, fields)
    result = IntakeResult(group_id=group_id, file=file, rows_in=len(frame), listings=listings,
                          rejects=rejects.drop(columns="_idx"), headers=headers)
    if result.rows_in != len(result.listings) + result.rejected_rows:  # the no-loss invariant
        raise AssertionError(f"{file}: {result.rows_in} rows in, {len(listings)} listings + "
                             f"{result.rejected_rows} rejected")
    return result


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Returns ``frame`` without the rows that have no content cell filled in, re-indexed from 0."""
    content = [c for c in frame.columns if c not in _NOT_CONTENT]
    if content:  # a row with only its number filled in is a blank row, not a product
        filled = np.zeros(len(frame), dtype=bool)
        for c in content:
            filled |= ~blank(text_column(frame, c))
        frame = frame[filled]
    return frame.reset_index(drop=True)


def _names(frame: pd.DataFrame, problems: Problems) -> _Names:
    """Returns the names as written, cleaned (the variant appended) and which are missing; reports
    missing and too-long names. Each variant row is its own listing, the variant in its name."""
    raw_name = text_column(frame, "name")
    name = clean_name(raw_name)
    variant = clean_name(text_column(frame, "variant"))
    has_variant = ~blank(variant)
    if has_variant.any():
        name = pc.if_else(pa.array(has_variant), pc.binary_join_element_wise(name, variant, " - "), name)
    name_missing = blank(name)
    problems.add(name_missing, "name", msg.REASONS[("name", v.MISSING)], raw_name, order=0)
    name_len = to_numpy(pc.fill_null(pc.utf8_length(name), 0))
    long_idx = np.flatnonzero(name_len > NAME_MAX)
    if len(long_idx):
        long_names = to_numpy(name.take(pa.array(long_idx)))
        reasons = [msg.too_long_name(int(name_len[i]), textwrap.shorten(t, NAME_MAX, placeholder=""))
                   for i, t in zip(long_idx, long_names)]
        problems.add(long_idx, "name", tuple(zip(*reasons)), raw_name, order=0)
    return _Names(raw=raw_name, clean=name, missing=name_missing)


def _broken_cells(frame: pd.DataFrame, problems: Problems) -> None:
    """Returns nothing; reports every cell a decoder or a spreadsheet broke (mojibake, "#N/A"),
    which is never taken as text."""
    for col in [c for c in frame.columns if c not in _NOT_CONTENT]:
        raw = text_column(frame, col)
        if raw.null_count == len(raw):
            continue
        unreadable = to_numpy(pc.fill_null(pc.match_substring(raw, "\ufffd"), False))
        problems.add(unreadable, col, msg.REASONS[("cell", "unreadable")], raw, order=10)
        excel_error = to_numpy(pc.fill_null(pc.is_in(pc.utf8_upper(raw), value_set=EXCEL_ERRORS), False))
        problems.add(excel_error, col, msg.REASONS[("cell", "excel_error")], raw, order=10)


def _category(frame: pd.DataFrame, categories: CategoryIndex, problems: Problems) -> np.ndarray:
    """Returns each row's leaf category id (int64, -1 where there is none); reports missing,
    unknown and non-leaf categories. Looks up the distinct texts only."""
    n = len(frame)
    raw_cat = text_column(frame, "category")
    cat_ids = np.full(n, -1, dtype=np.int64)
    if "category" not in frame.columns:
        problems.add(np.ones(n, dtype=bool), "category", msg.REASONS[("category", "no_column")], None, order=1)
        return cat_ids
    problems.add(blank(raw_cat), "category", msg.REASONS[("category", v.MISSING)], raw_cat, order=1)
    enc = pc.dictionary_encode(pc.fill_null(raw_cat, ""))
    codes = to_numpy(enc.indices)
    for k, text in enumerate(enc.dictionary.to_pylist()):
        if not text:
            continue
        cid, code, suggestions = categories.lookup(text)
        mask = codes == k
        if cid is not None:
            cat_ids[mask] = cid
        else:
            reason = msg.category_not_leaf(suggestions) if code == "not_leaf" else msg.unknown_category(suggestions)
            problems.add(mask, "category", reason, raw_cat, order=1)
    return cat_ids


def _numbers(frame: pd.DataFrame, problems: Problems, units: dict[str, dict[str, str]]) -> _Numbers:
    """Returns price, stock, weight (grams) and minimum order as parsed; reports values that are
    not numbers or out of the marketplace's range. A blank minimum order is the marketplace's, 1."""
    raw_price = text_column(frame, "price")
    price = _per_unit(v.parse_price, raw_price, "price", problems.sheet, units)
    _add_parsed(problems, "price", price, raw_price, PRICE_MIN, PRICE_MAX, order=2)
    raw_stock = text_column(frame, "stock")
    stock = v.parse_count(raw_stock)
    _add_parsed(problems, "stock", stock, raw_stock, 0, STOCK_MAX, order=3)
    raw_weight = text_column(frame, "weight")
    weight = _per_unit(v.parse_weight, raw_weight, "weight", problems.sheet, units)
    _add_parsed(problems, "weight", weight, raw_weight, order=4)
    raw_min = text_column(frame, "min_order")
    min_order = v.parse_count(raw_min)
    min_blank = min_order.error == v.MISSING  # not given: the marketplace's minimum, 1
    min_order = v.Parsed(np.where(min_blank, 1.0, min_order.value), np.where(min_blank, v.OK, min_order.error))
    _add_parsed(problems, "min_order", min_order, raw_min, MIN_ORDER_MIN, MIN_ORDER_MAX, order=5)
    return _Numbers(price=price, stock=stock, weight=weight, min_order=min_order)


def _per_unit(parser, raw: pa.Array, field_name: str, sheets: np.ndarray,
              units: dict[str, dict[str, str]]) -> v.Parsed:
    """Returns ``parser``'s result, run once per distinct header unit (sheets may differ)."""
    unit_of = {s: units.get(s, {}).get(field_name) for s in pd.unique(sheets)}
    distinct = set(unit_of.values())
    if len(distinct) <= 1:
        return parser(raw, next(iter(distinct), None))
    value = np.full(len(raw), np.nan)
    error = np.empty(len(raw), dtype=object)
    for unit in distinct:
        mask = np.isin(sheets, [s for s, u in unit_of.items() if u == unit])
        part = parser(raw.filter(pa.array(mask)), unit)
        value[mask], error[mask] = part.value, part.error
    return v.Parsed(value=value, error=error)


def _add_parsed(problems: Problems, field_name: str, parsed: v.Parsed, raw: pa.Array,
                lo: float | None = None, hi: float | None = None, order: int = 0) -> np.ndarray:
    """Report a parser's errors and range violations; return the rows that are fine."""
    ok = parsed.ok()
    for code in np.unique(parsed.error[~ok]):
        problems.add(parsed.error == code, field_name, msg.REASONS[(field_name, int(code))], raw, order=order)
    if lo is not None:
        out = ok & ((parsed.value < lo) | (parsed.value > hi))
        problems.add(out, field_name, msg.REASONS[(field_name, "range")], raw, order=order)
        ok = ok & ~out
    return ok


def _status(frame: pd.DataFrame, problems: Problems) -> np.ndarray:
    """Returns whether each row is to be listed active (the Status column: Aktif / Nonaktif; blank
    or absent is Aktif); any other status is listed active with a warning."""
    raw = text_column(frame, "status")
    enc = pc.dictionary_encode(pc.fill_null(pc.utf8_lower(raw), ""))
    known = [_STATUSES.get(" ".join(t.split())) for t in enc.dictionary.to_pylist()]
    codes = to_numpy(enc.indices)
    unknown = np.array([k is None for k in known], dtype=bool)[codes] if known else np.zeros(len(frame), bool)
    # A group's own Status column may mean something else (Ready, Habis, PO): listed active, and said.
    problems.add(unknown, "status", msg.REASONS[("status", "unknown")], raw, severity="warning", order=7)
    return np.array([k is not False for k in known], dtype=bool)[codes] if known else np.ones(len(frame), bool)


def _condition(frame: pd.DataFrame, problems: Problems) -> np.ndarray:
    """Returns each row's condition code (int8: 0 NEW, 1 USED, -1 unknown, reported). Blank is NEW."""
    raw_cond = text_column(frame, "condition")
    enc = pc.dictionary_encode(pc.fill_null(pc.utf8_lower(raw_cond), ""))
    cond_of = np.array([{"NEW": 0, "USED": 1}.get(_CONDITIONS.get(t), -1) for t in enc.dictionary.to_pylist()],
                       dtype=np.int8)
    condition = cond_of[to_numpy(enc.indices)]
    problems.add(condition < 0, "condition", msg.REASONS[("condition", "unknown")], raw_cond, order=7)
    return condition


def _description(frame: pd.DataFrame, problems: Problems) -> pa.Array:
    """Returns each row's description, cleaned, with the P-IRT number and halal note appended
    (never null); reports P-IRT numbers too short and descriptions too long."""
    raw_pirt = text_column(frame, "pirt")
    pirt_digits = to_numpy(pc.fill_null(pc.utf8_length(pc.replace_substring_regex(raw_pirt, r"\D", "")), 0))
    pirt_given = ~blank(raw_pirt)
    problems.add(pirt_given & (pirt_digits < 15), "pirt", msg.REASONS[("pirt", "invalid")], raw_pirt, order=8)
    description = pc.fill_null(clean_description(text_column(frame, "description")), "")
    extra = _labels(raw_pirt, pirt_given, text_column(frame, "halal"))
    has_extra = to_numpy(pc.greater(pc.utf8_length(extra), 0))
    if has_extra.any():
        joined = pc.binary_join_element_wise(description, extra, "\n\n")
        alone = pc.equal(pc.utf8_length(description), 0)
        description = pc.if_else(pa.array(has_extra), pc.if_else(alone, extra, joined), description)
    desc_len = to_numpy(pc.utf8_length(description))
    long_idx = np.flatnonzero(desc_len > DESCRIPTION_MAX)
    if len(long_idx):
        reasons = [msg.too_long_description(int(desc_len[i])) for i in long_idx]
        start = pc.utf8_slice_codeunits(text_column(frame, "description"), 0, 80)  # the report shows the start
        problems.add(long_idx, "description", tuple(zip(*reasons)),
                     pc.binary_join_element_wise(start, "…", ""), order=8)
    return description


def _labels(raw_pirt: pa.Array, pirt_given: np.ndarray, raw_halal: pa.Array) -> pa.Array:
    """Returns the "No. P-IRT: …" and "Halal: …" lines for each row, one per line ("" when neither)."""
    extra = pc.if_else(pa.array(pirt_given), pc.binary_join_element_wise("No. P-IRT: ", raw_pirt, ""), "")
    halal_given = ~blank(raw_halal)
    if halal_given.any():
        halal = pc.if_else(pa.array(halal_given), pc.binary_join_element_wise("Halal: ", raw_halal, ""), "")
        extra = pc.if_else(pa.array(halal_given & pirt_given), pc.binary_join_element_wise(extra, halal, "\n"),
                           pc.if_else(pa.array(halal_given), halal, extra))
    return extra


def _identity(frame: pd.DataFrame, group_id: str, names: _Names, problems: Problems) -> pa.Array:
    """Returns each row's SKU (null without a name or code); reports duplicated products and SKU
    collisions. The identity is the group's own code when given, else the name."""
    raw_sku = text_column(frame, "sku")
    code_given = ~blank(raw_sku)
    by_code = pc.binary_join_element_wise("kode:", pc.utf8_upper(raw_sku), "")
    by_name = pc.binary_join_element_wise("nama:", pc.utf8_lower(names.clean), "")
    identity = pc.if_else(pa.array(code_given), by_code, pc.if_else(pa.array(names.missing), None, by_name))
    # The same identity always gives the same SKU, so repeated SKUs are a superset of repeated
    # identities: one hash pass over the SKUs finds both duplicates and SKU collisions.
    display = pc.if_else(pa.array(code_given), raw_sku, names.clean)
    skus = pc.if_else(pc.is_valid(identity), make_skus(group_id, identity, display), None)
    same_sku = repeated(skus)
    same_identity = _duplicates(frame, identity, same_sku, problems.row, problems, names.raw)
    clash = np.setdiff1d(same_sku, same_identity)  # different products, same slug and 32-bit hash
    problems.add(clash, "name", ("Kode SKU bentrok dengan produk lain — ubah nama sedikit",
                                 "SKU collides with another product — change the name slightly"), names.raw, order=9)
    return skus


def _duplicates(frame: pd.DataFrame, identity: pa.Array, candidates: np.ndarray, row: np.ndarray,
                problems: Problems, raw_name: pa.Array) -> np.ndarray:
    """Identical repeated rows: the later ones are rejects. Conflicting ones: all rejected.

    ``candidates`` are rows that may repeat (a superset); returns the rows whose identity repeats.
    """
    sub = identity.take(pa.array(candidates))
    idx = candidates[repeated(sub)]
    if len(idx) == 0:
        return idx
    content_cols = [c for c in _CONTENT_FIELDS if c in frame.columns]
    content = frame.iloc[idx][content_cols].astype("str").apply(lambda s: s.str.strip().str.casefold())
    d = pd.DataFrame({"idx": idx, "key": to_numpy(identity.take(pa.array(idx))), "row": row[idx],
                      "sig": pd.util.hash_pandas_object(content.fillna(""), index=False).to_numpy()})
    by_key = d.groupby("key", sort=False)
    d["n_sig"] = by_key["sig"].transform("nunique")
    d["first_row"] = by_key["row"].transform("first")
    later = d[(d["n_sig"] == 1) & (d["row"] != d["first_row"])]
    reasons = [msg.duplicate_of(int(r)) for r in later["first_row"]]
    problems.add(later["idx"].to_numpy(), "name", tuple(zip(*reasons)) if reasons else ("", ""), raw_name, order=9)
    conflict = d[d["n_sig"] > 1]
    rows_by_key = conflict.groupby("key", sort=False)["row"].apply(list).to_dict()
    reasons = [msg.conflicting([r for r in rows_by_key[k] if r != this])
               for k, this in zip(conflict["key"], conflict["row"])]
    problems.add(conflict["idx"].to_numpy(), "name", tuple(zip(*reasons)) if reasons else ("", ""), raw_name, order=9)
    return idx


def _listings_frame(frame: pd.DataFrame, keep: np.ndarray, group_id: str, fields: _Fields) -> pd.DataFrame:
    """Returns the listings frame (:data:`LISTING_COLUMNS`) of the rows at positions ``keep``:
    Arrow-backed text, int64 numbers, categorical condition and sheet."""
    take = pa.array(keep)
    return pd.DataFrame({
        "group_id": group_id,
        "sku": pd.arrays.ArrowStringArray(fields.sku.take(take)),
        "name": pd.arrays.ArrowStringArray(fields.name.take(take)),
        "category_id": fields.category_id[keep],
        "price": fields.numbers.price.value[keep].astype(np.int64),
        "stock": fields.numbers.stock.value[keep].astype(np.int64),
        "min_order": fields.numbers.min_order.value[keep].astype(np.int64),
        "weight_g": fields.numbers.weight.value[keep],
        "condition": pd.Categorical.from_codes(fields.condition[keep], categories=["NEW", "USED"]),
        "description": pd.arrays.ArrowStringArray(fields.description.take(take)),
        "pictures": pd.arrays.ArrowExtensionArray(fields.pictures.take(take)),
        "active": fields.active[keep],
        "sheet": pd.Categorical(frame["sheet"].iloc[keep]),
        "row": frame["row"].to_numpy()[keep],
        # The category as written: another channel maps it to its own leaves.
        "category_text": pd.arrays.ArrowStringArray(pc.fill_null(text_column(frame, "category").take(take), "")),
    })
