"""Catalogue rows → marketplace listings, plus a reject line for every problem.

Pure and vectorised: one pass of pyarrow/numpy kernels per field over the whole frame,
Python only over the few distinct categories and the (few) rejected or duplicated rows.
Every input row ends either as a listing or as a rejected row; ``rows_in == listings +
rejected_rows`` always holds (checked at the end, not assumed).

Choices, documented in the README:
- a name longer than 70 characters is rejected with a suggested shorter name, never cut;
- more than five photos keep the first five, with a warning line in the report;
- the SKU is ``<GROUP>-<SLUG>-<hash>``: the hash of group id + product identity (the
  group's own code when it has a Kode/SKU column, else the name), so it is the same
  across runs and row order and unchanged when price, stock or description change.
"""

from __future__ import annotations

import hashlib
import textwrap
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import messages as msg
from schemas import values as v
from schemas.categories import CategoryIndex
from schemas.listing import (
    DESCRIPTION_MAX, MIN_ORDER_MAX, MIN_ORDER_MIN, NAME_MAX, PICTURES_MAX, PRICE_MAX, PRICE_MIN,
    STOCK_MAX, Listing, Reject,
)

REJECT_COLUMNS = ["group_id", "file", "sheet", "row", "column", "value", "reason_id", "reason_en", "severity"]
LISTING_COLUMNS = [
    "group_id", "sku", "name", "category_id", "price", "stock", "min_order", "weight_g",
    "condition", "description", "pictures", "sheet", "row",
]
# Fields compared to tell identical duplicate rows from conflicting ones ("no" is a row counter).
_CONTENT_FIELDS = ("name", "variant", "category", "price", "stock", "weight", "description", "sku",
                   "min_order", "condition", "pirt", "halal")
_URL = r"^https://[A-Za-z0-9][^\s]*\.[^\s]+$"
_EMOJI = r"[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B00}-\x{2BFF}\x{FE00}-\x{FE0F}\x{200B}-\x{200D}\x{2060}]"
_CONDITIONS = {"": "NEW", "baru": "NEW", "new": "NEW", "b": "NEW",
               "bekas": "USED", "used": "USED", "second": "USED", "seken": "USED"}


@dataclass
class IntakeResult:
    """What one catalogue became: listings (a frame, one row each) and reject lines."""

    group_id: str
    file: str
    rows_in: int
    listings: pd.DataFrame
    rejects: pd.DataFrame
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        r = self.rejects[self.rejects["severity"] == "reject"]
        return int(r[["sheet", "row"]].drop_duplicates().shape[0])

    @property
    def warnings(self) -> int:
        return int((self.rejects["severity"] == "warning").sum())

    def summary_line(self) -> str:
        return f"{self.rows_in} rows: {len(self.listings)} listings, {self.rejected_rows} rejected"

    def content_hash(self) -> str:
        """A fingerprint of what the catalogue became (listings and rejects): equal means nothing to redo."""
        h = hashlib.sha256()
        for frame in (self.listings.drop(columns=["pictures"]), self.rejects):
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        h.update("\x1f".join("\n".join(p) for p in self.listings["pictures"]).encode())
        return h.hexdigest()

    def listing_models(self) -> list[Listing]:
        """The listings as validated pydantic models (for what leaves the pipeline)."""
        records = self.listings.drop(columns=["pictures"]).to_dict("records")
        pictures = self.listings["pictures"].tolist()
        return [Listing(**r, pictures=tuple(p)) for r, p in zip(records, pictures)]

    def reject_models(self) -> list[Reject]:
        return [Reject(**r) for r in self.rejects.to_dict("records")]


def _text(frame: pd.DataFrame, col: str) -> pa.Array:
    """A column as a trimmed pyarrow string array; all-null when the column is absent."""
    if col not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    arr = pa.array(frame[col], type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):  # a big CSV arrives in chunks; kernels below want one array
        arr = arr.combine_chunks()
    return pc.utf8_trim_whitespace(arr)


def _np(arr: pa.Array) -> np.ndarray:
    return arr.to_numpy(zero_copy_only=False)


def _blank(arr: pa.Array) -> np.ndarray:
    return _np(pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True))


def _where_needed(arr: pa.Array, needs: str, fix) -> pa.Array:
    """Apply ``fix`` only to the values matching ``needs``: most cells are already clean."""
    mask = pc.fill_null(pc.match_substring_regex(arr, needs), False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fix(arr.filter(mask)))


_INVISIBLE = r"\p{Cf}"  # format characters: bidi overrides (U+202E), zero-width spaces and joiners, BOM


def clean_name(arr: pa.Array) -> pa.Array:
    """One line, no emoji or control characters, spaces folded; ALL CAPS becomes Title Case."""
    def fix(a: pa.Array) -> pa.Array:
        a = pc.replace_substring_regex(a, r"[\x00-\x1f\x7f-\x9f]", " ")
        a = pc.replace_substring_regex(a, _INVISIBLE, "")  # bidi overrides, zero-width: a name reads as shown
        a = pc.replace_substring_regex(a, _EMOJI, "")
        return pc.utf8_trim_whitespace(pc.replace_substring_regex(a, r"\s+", " "))

    arr = _where_needed(arr, r"[^ -~]|\s\s", fix)
    # Shouting: no lower-case letter but at least two upper-case ones in a row.
    shouting = pc.and_(pc.invert(pc.match_substring_regex(arr, r"\p{Ll}")),
                       pc.match_substring_regex(arr, r"\p{Lu}\p{Lu}"))
    return pc.if_else(pc.fill_null(shouting, False), pc.utf8_title(arr), arr)


def clean_description(arr: pa.Array) -> pa.Array:
    """Line breaks kept (as \\n), other control characters dropped, runs of spaces folded."""
    def fix(a: pa.Array) -> pa.Array:
        a = pc.replace_substring_regex(a, r"\r\n?", "\n")
        a = pc.replace_substring_regex(a, r"\t", " ")
        a = pc.replace_substring_regex(a, r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "")
        a = pc.replace_substring_regex(a, _INVISIBLE, "")
        a = pc.replace_substring_regex(a, r" {2,}", " ")
        return pc.replace_substring_regex(a, r" *\n *", "\n")

    return pc.utf8_trim_whitespace(_where_needed(arr, r"[\x00-\x1f\x7f-\x9f]|\p{Cf}|  ", fix))


_EXCEL_ERRORS = pa.array(["#N/A", "#N/A N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#SPILL!",
                          "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"])


def sku_prefix(group_id: str) -> str:
    return group_id.upper()[:16].rstrip("-")


_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _hash8(group_id: str, identity: pa.Array) -> pa.Array:
    """8 hex digits of blake2b(group id, identity): a published hash from hashlib, so SKUs
    never drift with a library upgrade. Hex formatting is vectorised."""
    salted = pc.cast(pc.binary_join_element_wise(group_id + "\x1f", pc.fill_null(identity, ""), ""), pa.binary())
    digest = b"".join([hashlib.blake2b(b, digest_size=4).digest() for b in salted.to_pylist()])
    raw = np.frombuffer(digest, dtype=np.uint8)
    hexed = np.empty(len(raw) * 2, dtype=np.uint8)
    hexed[0::2], hexed[1::2] = _HEX[raw >> 4], _HEX[raw & 15]
    offsets = pa.array(np.arange(0, len(hexed) + 1, 8, dtype=np.int32))
    return pa.StringArray.from_buffers(len(identity), offsets.buffers()[1], pa.py_buffer(hexed.tobytes()))


def make_skus(group_id: str, identity: pa.Array, display: pa.Array) -> pa.Array:
    """``<GROUP>-<SLUG>-<hash8>``, at most 16+1+24+1+8 = 50 characters, from the product identity only."""
    start = pc.utf8_slice_codeunits(pc.fill_null(display, ""), 0, 48)  # the slug keeps 24; spare the regex
    slug = pc.replace_substring_regex(pc.utf8_upper(start), r"[^A-Z0-9]+", "-")
    slug = pc.utf8_trim(pc.utf8_slice_codeunits(pc.utf8_trim(slug, "-"), 0, 24), "-")
    digests = _hash8(group_id, identity)
    with_slug = pc.binary_join_element_wise(sku_prefix(group_id), slug, digests, "-")
    return pc.if_else(pc.equal(pc.utf8_length(slug), 0),
                      pc.binary_join_element_wise(sku_prefix(group_id), digests, "-"), with_slug)


class _Problems:
    """Collects reject/warning lines, whole columns at a time."""

    def __init__(self, frame: pd.DataFrame, headers: dict[str, dict[str, str]]):
        self.sheet = frame["sheet"].astype(object).to_numpy()
        self.row = frame["row"].to_numpy()
        self.headers = headers
        self.sheets = list(pd.unique(self.sheet))
        self.parts: list[pd.DataFrame] = []

    def header(self, column: str, idx: np.ndarray) -> np.ndarray:
        base = column.split("_")[0] if column.startswith("photo_") else column
        label = msg.LABELS.get(base, column)
        by_sheet = {s: self.headers.get(s, {}).get(column, label) for s in self.sheets}
        return pd.Series(self.sheet[idx]).map(by_sheet).to_numpy(dtype=object)

    def add(self, rows: np.ndarray, column: str, reason: tuple, raw: pa.Array | None,
            severity: str = "reject", order: int = 0) -> None:
        """Report ``rows`` (a boolean mask or row positions); ``reason`` is one (id, en) pair
        or a pair of per-row sequences."""
        idx = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.int64)
        if len(idx) == 0:
            return
        value = _np(pc.fill_null(raw.take(pa.array(idx)), "")) if raw is not None else ""
        rid, ren = reason
        self.parts.append(pd.DataFrame({
            "_idx": idx, "_order": order, "sheet": self.sheet[idx], "row": self.row[idx],
            "column": self.header(column, idx), "value": value,
            "reason_id": rid, "reason_en": ren, "severity": severity,
        }))

    def frame(self, group_id: str, file: str) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("row", "_idx") else "str")
                                 for c in REJECT_COLUMNS + ["_idx"]})
        out = pd.concat(self.parts, ignore_index=True).sort_values(["_idx", "_order"], kind="stable")
        out.insert(0, "file", file)
        out.insert(0, "group_id", group_id)
        return out[REJECT_COLUMNS + ["_idx"]].reset_index(drop=True)


def _per_unit(parser, raw: pa.Array, field_name: str, sheets: np.ndarray,
              units: dict[str, dict[str, str]]) -> v.Parsed:
    """Run a unit-aware parser once per distinct header unit (sheets may differ)."""
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


def _add_parsed(problems: _Problems, field_name: str, parsed: v.Parsed, raw: pa.Array,
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


def _pictures(frame: pd.DataFrame, problems: _Problems) -> tuple[pa.ListArray, np.ndarray, np.ndarray]:
    """All photo columns → a list of up to five https URLs per row, each row's count, and
    which rows had a URL that is not one."""
    n = len(frame)
    cols = sorted((c for c in frame.columns if c.startswith("photo_")), key=lambda c: int(c.split("_")[1]))
    parents, urls = [], []
    any_bad = np.zeros(n, dtype=bool)
    for col in cols:
        raw = _text(frame, col)
        parts = pc.split_pattern_regex(pc.fill_null(raw, ""), r"[\s,;]+")
        flat = pc.list_flatten(parts)
        parent = _np(pc.list_parent_indices(parts))
        keep = _np(pc.greater(pc.utf8_length(flat), 0))
        flat, parent = flat.filter(pa.array(keep)), parent[keep]
        good = _np(pc.match_substring_regex(flat, _URL))
        bad_rows = np.zeros(n, dtype=bool)
        bad_rows[parent[~good]] = True
        problems.add(bad_rows, col, msg.REASONS[("photo", "bad_url")], raw, order=6)
        any_bad |= bad_rows
        parents.append(parent[good])
        urls.append(flat.filter(pa.array(good)))
    parent = np.concatenate(parents) if parents else np.zeros(0, dtype=np.int64)
    flat = pa.concat_arrays(urls) if urls else pa.array([], pa.string())
    order = np.argsort(parent, kind="stable")  # rows in order, columns in order within a row
    parent, flat = parent[order], flat.take(pa.array(order))
    counts = np.bincount(parent, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(parent)) - starts[parent]
    keep = rank < PICTURES_MAX
    kept = np.minimum(counts, PICTURES_MAX)
    offsets = np.concatenate([[0], np.cumsum(kept)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(keep)))
    return lists, counts, any_bad


def _repeated(identity: pa.Array) -> np.ndarray:
    """Positions of non-null values that occur more than once (an exact C++ hash table)."""
    enc = pc.dictionary_encode(identity)
    codes = _np(pc.fill_null(enc.indices, -1))
    counts = np.append(np.bincount(codes[codes >= 0], minlength=len(enc.dictionary)), 0)
    return np.flatnonzero(counts[codes] > 1)  # code -1 (null) reads the appended 0


def _duplicates(frame: pd.DataFrame, identity: pa.Array, candidates: np.ndarray, row: np.ndarray,
                problems: _Problems, raw_name: pa.Array) -> np.ndarray:
    """Identical repeated rows: the later ones are rejects. Conflicting ones: all rejected.

    ``candidates`` are rows that may repeat (a superset); returns the rows whose identity repeats.
    """
    sub = identity.take(pa.array(candidates))
    idx = candidates[_repeated(sub)]
    if len(idx) == 0:
        return idx
    content_cols = [c for c in _CONTENT_FIELDS if c in frame.columns]
    content = frame.iloc[idx][content_cols].astype("str").apply(lambda s: s.str.strip().str.casefold())
    d = pd.DataFrame({"idx": idx, "key": _np(identity.take(pa.array(idx))), "row": row[idx],
                      "sig": pd.util.hash_pandas_object(content.fillna(""), index=False).to_numpy()})
    by_key = d.groupby("key", sort=False)
    d["n_sig"] = by_key["sig"].transform("nunique")
    d["first_row"] = by_key["row"].transform("first")
    later = d[(d["n_sig"] == 1) & (d["row"] != d["first_row"])]
    reasons = [msg.duplicate_of(int(r)) for r in later["first_row"]]
    problems.add(later["idx"].to_numpy(), "name", tuple(zip(*reasons)) if reasons else ("", ""), raw_name, order=9)
    conflict = d[d["n_sig"] > 1]
    rows_by_key = conflict.groupby("key", sort=False)["row"].apply(list).to_dict()
    reasons = [msg.conflicting([r for r in rows_by_key[k] if r != this]) for k, this in zip(conflict["key"], conflict["row"])]
    problems.add(conflict["idx"].to_numpy(), "name", tuple(zip(*reasons)) if reasons else ("", ""), raw_name, order=9)
    return idx


def normalise(
    frame: pd.DataFrame,
    *,
    group_id: str,
    file: str,
    categories: CategoryIndex,
    headers: dict[str, dict[str, str]] | None = None,
    units: dict[str, dict[str, str]] | None = None,
) -> IntakeResult:
    """Validate and normalise a raw catalogue frame (columns ``sheet``, ``row`` and canonical fields).

    Returns every row as a listing or as reject lines (several problems → several lines).
    """
    headers, units = headers or {}, units or {}
    content = [c for c in frame.columns if c not in ("sheet", "row", "no")]
    if content:  # a row with only its number filled in is a blank row, not a product
        filled = np.zeros(len(frame), dtype=bool)
        for c in content:
            filled |= ~_blank(_text(frame, c))
        frame = frame[filled]
    frame = frame.reset_index(drop=True)
    n = len(frame)
    problems = _Problems(frame, headers)
    sheets = problems.sheet
    row = problems.row

    # Name (+ variant: each variant row is its own listing, the variant in its name).
    raw_name = _text(frame, "name")
    name = clean_name(raw_name)
    variant = clean_name(_text(frame, "variant"))
    has_variant = ~_blank(variant)
    if has_variant.any():
        name = pc.if_else(pa.array(has_variant), pc.binary_join_element_wise(name, variant, " - "), name)
    name_missing = _blank(name)
    problems.add(name_missing, "name", msg.REASONS[("name", v.MISSING)], raw_name, order=0)
    name_len = _np(pc.fill_null(pc.utf8_length(name), 0))
    long_idx = np.flatnonzero(name_len > NAME_MAX)
    if len(long_idx):
        long_names = _np(name.take(pa.array(long_idx)))
        reasons = [msg.too_long_name(int(name_len[i]), textwrap.shorten(t, NAME_MAX, placeholder=""))
                   for i, t in zip(long_idx, long_names)]
        problems.add(long_idx, "name", tuple(zip(*reasons)), raw_name, order=0)

    # Cells a decoder or a spreadsheet broke are never taken as text (a name "#N/A", mojibake).
    for col in [c for c in frame.columns if c not in ("sheet", "row", "no")]:
        raw = _text(frame, col)
        if raw.null_count == len(raw):
            continue
        unreadable = _np(pc.fill_null(pc.match_substring(raw, "\ufffd"), False))
        problems.add(unreadable, col, msg.REASONS[("cell", "unreadable")], raw, order=10)
        excel_error = _np(pc.fill_null(pc.is_in(pc.utf8_upper(raw), value_set=_EXCEL_ERRORS), False))
        problems.add(excel_error, col, msg.REASONS[("cell", "excel_error")], raw, order=10)

    # Category: distinct texts only.
    raw_cat = _text(frame, "category")
    cat_ids = np.full(n, -1, dtype=np.int64)
    if "category" not in frame.columns:
        problems.add(np.ones(n, dtype=bool), "category", msg.REASONS[("category", "no_column")], None, order=1)
    else:
        cat_blank = _blank(raw_cat)
        problems.add(cat_blank, "category", msg.REASONS[("category", v.MISSING)], raw_cat, order=1)
        enc = pc.dictionary_encode(pc.fill_null(raw_cat, ""))
        codes = _np(enc.indices)
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

    # Numbers.
    raw_price = _text(frame, "price")
    price = _per_unit(v.parse_price, raw_price, "price", sheets, units)
    _add_parsed(problems, "price", price, raw_price, PRICE_MIN, PRICE_MAX, order=2)
    raw_stock = _text(frame, "stock")
    stock = v.parse_count(raw_stock)
    _add_parsed(problems, "stock", stock, raw_stock, 0, STOCK_MAX, order=3)
    raw_weight = _text(frame, "weight")
    weight = _per_unit(v.parse_weight, raw_weight, "weight", sheets, units)
    _add_parsed(problems, "weight", weight, raw_weight, order=4)
    raw_min = _text(frame, "min_order")
    min_order = v.parse_count(raw_min)
    min_blank = min_order.error == v.MISSING  # not given: the marketplace's minimum, 1
    min_order = v.Parsed(np.where(min_blank, 1.0, min_order.value), np.where(min_blank, v.OK, min_order.error))
    _add_parsed(problems, "min_order", min_order, raw_min, MIN_ORDER_MIN, MIN_ORDER_MAX, order=5)

    # Pictures.
    pictures, n_pictures, bad_url = _pictures(frame, problems)
    no_photo_col = not any(c.startswith("photo_") for c in frame.columns)
    problems.add((n_pictures == 0) & ~bad_url, "photo_1" if not no_photo_col else "photo",
                 msg.REASONS[("photo", v.MISSING)], None if no_photo_col else _text(frame, "photo_1"), order=6)
    problems.add(n_pictures > PICTURES_MAX, "photo_1", msg.REASONS[("photo", "too_many")], None,
                 severity="warning", order=6)

    # Condition, P-IRT, description.
    raw_cond = _text(frame, "condition")
    enc = pc.dictionary_encode(pc.fill_null(pc.utf8_lower(raw_cond), ""))
    cond_of = np.array([{"NEW": 0, "USED": 1}.get(_CONDITIONS.get(t), -1) for t in enc.dictionary.to_pylist()], dtype=np.int8)
    condition = cond_of[_np(enc.indices)]  # 0 NEW, 1 USED, -1 unknown
    problems.add(condition < 0, "condition", msg.REASONS[("condition", "unknown")], raw_cond, order=7)
    raw_pirt = _text(frame, "pirt")
    pirt_digits = _np(pc.fill_null(pc.utf8_length(pc.replace_substring_regex(raw_pirt, r"\D", "")), 0))
    pirt_given = ~_blank(raw_pirt)
    problems.add(pirt_given & (pirt_digits < 15), "pirt", msg.REASONS[("pirt", "invalid")], raw_pirt, order=8)
    description = pc.fill_null(clean_description(_text(frame, "description")), "")
    extra = pc.if_else(pa.array(pirt_given), pc.binary_join_element_wise("No. P-IRT: ", raw_pirt, ""), "")
    raw_halal = _text(frame, "halal")
    halal_given = ~_blank(raw_halal)
    if halal_given.any():
        halal = pc.if_else(pa.array(halal_given), pc.binary_join_element_wise("Halal: ", raw_halal, ""), "")
        extra = pc.if_else(pa.array(halal_given & pirt_given), pc.binary_join_element_wise(extra, halal, "\n"),
                           pc.if_else(pa.array(halal_given), halal, extra))
    has_extra = _np(pc.greater(pc.utf8_length(extra), 0))
    if has_extra.any():
        joined = pc.binary_join_element_wise(description, extra, "\n\n")
        alone = pc.equal(pc.utf8_length(description), 0)
        description = pc.if_else(pa.array(has_extra), pc.if_else(alone, extra, joined), description)
    desc_len = _np(pc.utf8_length(description))
    long_idx = np.flatnonzero(desc_len > DESCRIPTION_MAX)
    if len(long_idx):
        reasons = [msg.too_long_description(int(desc_len[i])) for i in long_idx]
        start = pc.utf8_slice_codeunits(_text(frame, "description"), 0, 80)  # the report shows the start
        problems.add(long_idx, "description", tuple(zip(*reasons)),
                     pc.binary_join_element_wise(start, "…", ""), order=8)

    # Identity: the group's own code when given, else the name; duplicates by identity.
    raw_sku = _text(frame, "sku")
    code_given = ~_blank(raw_sku)
    by_code = pc.binary_join_element_wise("kode:", pc.utf8_upper(raw_sku), "")
    by_name = pc.binary_join_element_wise("nama:", pc.utf8_lower(name), "")
    identity = pc.if_else(pa.array(code_given), by_code, pc.if_else(pa.array(name_missing), None, by_name))
    # The same identity always gives the same SKU, so repeated SKUs are a superset of repeated
    # identities: one hash pass over the SKUs finds both duplicates and SKU collisions.
    display = pc.if_else(pa.array(code_given), raw_sku, name)
    skus = pc.if_else(pc.is_valid(identity), make_skus(group_id, identity, display), None)
    same_sku = _repeated(skus)
    same_identity = _duplicates(frame, identity, same_sku, row, problems, raw_name)
    clash = np.setdiff1d(same_sku, same_identity)  # different products, same slug and 32-bit hash
    problems.add(clash, "name", ("Kode SKU bentrok dengan produk lain — ubah nama sedikit",
                                 "SKU collides with another product — change the name slightly"), raw_name, order=9)

    rejects = problems.frame(group_id, file)
    rejected = np.zeros(n, dtype=bool)
    rejected[rejects.loc[rejects["severity"] == "reject", "_idx"].to_numpy(dtype=np.int64)] = True
    keep = np.flatnonzero(~rejected)
    take = pa.array(keep)
    listings = pd.DataFrame({
        "group_id": group_id,
        "sku": pd.arrays.ArrowStringArray(skus.take(take)),
        "name": pd.arrays.ArrowStringArray(name.take(take)),
        "category_id": cat_ids[keep],
        "price": price.value[keep].astype(np.int64),
        "stock": stock.value[keep].astype(np.int64),
        "min_order": min_order.value[keep].astype(np.int64),
        "weight_g": weight.value[keep],
        "condition": pd.Categorical.from_codes(condition[keep], categories=["NEW", "USED"]),
        "description": pd.arrays.ArrowStringArray(description.take(take)),
        "pictures": pd.arrays.ArrowExtensionArray(pictures.take(take)),
        "sheet": pd.Categorical(frame["sheet"].iloc[keep]),
        "row": row[keep],
    })
    result = IntakeResult(group_id=group_id, file=file, rows_in=n, listings=listings,
                          rejects=rejects.drop(columns="_idx"), headers=headers)
    if result.rows_in != len(result.listings) + result.rejected_rows:  # the no-loss invariant
        raise AssertionError(f"{file}: {n} rows in, {len(listings)} listings + {result.rejected_rows} rejected")
    return result
