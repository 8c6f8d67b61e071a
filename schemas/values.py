"""Vectorised parsers for the values people write in catalogues: Rupiah, weights, counts.

Each parser takes a whole column of text and returns a :class:`Parsed` pair of columns:
the parsed number (NaN where none) and an error code (None where fine). They run on
``pyarrow.compute`` kernels, never per row in Python, so a million rows take well
under a second each. The error codes are explained to people in :mod:`schemas.messages`.

Indonesian conventions (../shared/catalogue-formats.md): ``.`` groups thousands, ``,``
is the decimal mark; ``1 ons`` = 100 g, ``1 pon`` = 500 g. ``15,000`` could be fifteen or
fifteen thousand, so a price written that way is an error, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas.text import blank, to_numpy

# Error codes (explained in schemas.messages). Kept as int8 so a million rows compare fast.
OK = 0
MISSING = 1
NOT_NUMBER = 2
AMBIGUOUS = 3
NOT_WHOLE = 4
NEGATIVE = 5
NOT_POSITIVE = 6
CODE_NAMES = {MISSING: "missing", NOT_NUMBER: "not_number", AMBIGUOUS: "ambiguous",
              NOT_WHOLE: "not_whole", NEGATIVE: "negative", NOT_POSITIVE: "not_positive"}

# Number grammar, tried in this order. Group 1 of each is the digits to keep.
_INT = r"^\d+$"
_ID_THOUSANDS = r"^[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?$"  # 15.000   1.500.000   15.000,00
_DEC_COMMA = r"^\d+,\d+$"                               # 0,5   15000,00   (but see _COMMA_3)
_COMMA_3 = r"^[1-9]\d{0,2},\d{3}$"                      # 15,000: fifteen or fifteen thousand?
_EN_THOUSANDS = r"^[1-9]\d{0,2}(?:,\d{3}){2,}(?:\.\d+)?$"  # 1,500,000: unambiguous grouping
_DEC_POINT = r"^\d+\.\d+$"                              # 15000.0 (a number cell), 1.5 (jt)
_FRACTION = r"^(\d+)/([1-9]\d*)$"                       # 1/2 (kg)

WEIGHT_UNITS_G = {
    "g": 1.0, "gr": 1.0, "grm": 1.0, "gram": 1.0, "grams": 1.0, "gramm": 1.0,
    "kg": 1000.0, "kilo": 1000.0, "kilogram": 1000.0,
    "ons": 100.0, "on": 100.0, "pon": 500.0,
}
PRICE_MULTIPLIERS = {"rp": 1.0, "rb": 1e3, "ribu": 1e3, "k": 1e3, "jt": 1e6, "juta": 1e6}
COUNT_UNITS = (
    "pcs", "pc", "buah", "bh", "biji", "pack", "pak", "bungkus", "bks", "botol", "btl", "lembar",
    "lbr", "helai", "unit", "toples", "box", "kotak", "potong", "pasang", "set", "lusin", "kodi",
)
# A count written as a word meaning "none left".
_ZERO_WORDS = r"^(?:habis|kosong|-|stok\s+habis|sold\s+out|tidak\s+ada)$"


@dataclass(frozen=True)
class Parsed:
    """A parsed column: ``value`` (float64, NaN where none) and ``error`` (int8 codes, OK = 0)."""

    value: np.ndarray
    error: np.ndarray

    def ok(self) -> np.ndarray:
        return self.error == OK


def _arrow(raw: pd.Series | pa.Array) -> pa.Array:
    """The column as a pyarrow string array, lower-cased, whitespace folded, trimmed."""
    arr = raw if isinstance(raw, pa.Array) else pa.array(raw, type=pa.string(), from_pandas=True)
    return pc.utf8_lower(pc.utf8_trim_whitespace(arr))  # the grammars below allow any spacing


def _match(arr: pa.Array, pattern: str) -> np.ndarray:
    return to_numpy(pc.fill_null(pc.match_substring_regex(arr, pattern), False))


def _lookup(words: pa.Array, table: dict[str, float], default: float) -> np.ndarray:
    """Map a column of (few distinct) words through ``table``; '' → default, unknown → NaN."""
    enc = pc.dictionary_encode(pc.fill_null(words, ""))
    factors = np.array([default if w == "" else table.get(w, np.nan) for w in enc.dictionary.to_pylist()] + [np.nan])
    return factors[to_numpy(enc.indices)]


def parse_number(num: pa.Array, *, comma_thousands_ambiguous: bool) -> tuple[np.ndarray, np.ndarray]:
    """Parse bare numbers written the Indonesian way (or from a number cell).

    Returns float64 values (NaN where not a number) and int8 codes (OK, NOT_NUMBER,
    AMBIGUOUS). ``comma_thousands_ambiguous``: treat ``15,000`` as ambiguous (prices)
    rather than as the decimal ``15,000`` = 15 (weights like ``1,250 kg``).
    """
    num = pc.fill_null(num, "")
    code = np.full(len(num), NOT_NUMBER, dtype=np.int8)
    # Each form rewrites to plain "1234.5"; the first form that matches a row wins.
    digits = pa.nulls(len(num), pa.string())
    forms = [
        (_INT, None),
        (_ID_THOUSANDS, lambda a: pc.replace_substring(pc.replace_substring(a, ".", ""), ",", ".")),
        (_DEC_COMMA, lambda a: pc.replace_substring(a, ",", ".")),
        (_EN_THOUSANDS, lambda a: pc.replace_substring(a, ",", "")),
        (_DEC_POINT, None),
    ]
    taken = np.zeros(len(num), dtype=bool)
    if comma_thousands_ambiguous:
        comma3 = _match(num, _COMMA_3)
        code[comma3] = AMBIGUOUS
        taken |= comma3
    for pattern, rewrite in forms:
        mask = _match(num, pattern) & ~taken
        if mask.any():
            digits = pc.if_else(pa.array(mask), rewrite(num) if rewrite else num, digits)
            taken |= mask
            code[mask] = OK
    value = to_numpy(pc.cast(pc.fill_null(digits, "nan"), pa.float64())).copy()  # writable
    frac = _match(num, _FRACTION) & ~taken
    if frac.any():
        parts = pc.extract_regex(num.filter(pa.array(frac)), r"^(?P<a>\d+)/(?P<b>[1-9]\d*)$")
        a = to_numpy(pc.cast(parts.field("a"), pa.float64()))
        b = to_numpy(pc.cast(parts.field("b"), pa.float64()))
        value[frac] = a / b
        code[frac] = OK
    return value, code


def _finish(value: np.ndarray, code: np.ndarray, empty: np.ndarray) -> Parsed:
    code[empty] = MISSING
    value = np.where(code == OK, value, np.nan)
    return Parsed(value=value, error=code)


_PRICE = (
    r"^(?:(?:rp|idr)\.?\s*)?(?P<num>\d[\d.,/]*?)\s*(?:,-+|\.-+|,00)?\s*"
    r"(?P<mult>rb|ribu|k|jt|juta)?\.?\s*(?:,-+)?$"
)


def parse_price(raw: pd.Series | pa.Array, unit: str | None = None) -> Parsed:
    """Whole rupiah from ``Rp 15.000``, ``Rp15.000,-``, ``15.000,00``, ``15rb``, ``1,5 jt``, ``15000.0``…

    ``unit`` from the header (``Harga (ribu)`` → ``"rb"``) multiplies bare numbers.
    Text (``nego``, ``hubungi kami``, ``-``) is NOT_NUMBER, never zero.
    """
    arr = _arrow(raw)
    empty = blank(arr)
    parts = pc.extract_regex(arr, _PRICE)
    num = parts.field("num")
    value, code = parse_number(num, comma_thousands_ambiguous=True)
    base = PRICE_MULTIPLIERS.get((unit or "").lower(), 1.0)
    mult_words = parts.field("mult")
    mult = _lookup(mult_words, PRICE_MULTIPLIERS, base)
    # "1,5 jt" and "7,5rb" use the comma as a decimal mark: no ambiguity with a multiplier.
    # (an unmatched optional group comes back as "", not null)
    redo = to_numpy(pc.fill_null(pc.greater(pc.utf8_length(mult_words), 0), False)) & (code == AMBIGUOUS)
    if redo.any():
        value[redo] = to_numpy(pc.cast(pc.replace_substring(num.filter(pa.array(redo)), ",", "."), pa.float64()))
        code[redo] = OK
    value = value * mult
    rounded = np.round(value)
    code[(code == OK) & (np.abs(value - rounded) > 1e-6)] = NOT_WHOLE
    return _finish(rounded, code, empty)


_WEIGHT = r"^(?P<num>\d[\d.,/]*)\s*(?P<unit>[a-z]+)?\.?$"


def parse_weight(raw: pd.Series | pa.Array, unit: str | None = None) -> Parsed:
    """Grams from ``250 gr``, ``250g``, ``0,5 kg``, ``1/2 kg``, ``2 ons``, ``1 pon``.

    A bare number takes the header's ``unit`` (``Berat (kg)``), else grams.
    An unknown unit word is NOT_NUMBER.
    """
    arr = _arrow(raw)
    empty = blank(arr)
    parts = pc.extract_regex(arr, _WEIGHT)
    value, code = parse_number(parts.field("num"), comma_thousands_ambiguous=False)
    factor = _lookup(parts.field("unit"), WEIGHT_UNITS_G, WEIGHT_UNITS_G.get((unit or "g").lower(), 1.0))
    code[(code == OK) & np.isnan(factor)] = NOT_NUMBER
    value = value * factor
    code[(code == OK) & (value <= 0)] = NOT_POSITIVE
    return _finish(value, code, empty)


_COUNT = r"^(?P<num>-?\s*\d[\d.,]*)\s*(?P<unit>" + "|".join(COUNT_UNITS) + r")?\.?$"


def parse_count(raw: pd.Series | pa.Array) -> Parsed:
    """Whole units from ``40``, ``40 pcs``, ``1.000 buah``; ``habis`` / ``kosong`` / ``-`` are 0.

    Negative counts are NEGATIVE, fractions NOT_WHOLE, other text NOT_NUMBER.
    """
    arr = _arrow(raw)
    empty = blank(arr)
    parts = pc.extract_regex(arr, _COUNT)
    num = pc.replace_substring(parts.field("num"), " ", "")
    negative = to_numpy(pc.fill_null(pc.starts_with(num, "-"), False))
    value, code = parse_number(pc.utf8_ltrim(num, characters="-"), comma_thousands_ambiguous=False)
    code[(code == OK) & negative] = NEGATIVE
    code[(code == OK) & (np.abs(value - np.round(value)) > 1e-9)] = NOT_WHOLE
    zero = _match(arr, _ZERO_WORDS)
    value[zero] = 0.0
    code[zero] = OK
    return _finish(value, code, empty)
