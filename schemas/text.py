"""Text kernels for the catalogue intake: whole pyarrow string columns in, whole columns out.

Every function here works on a column at once (pyarrow compute, C++), never cell by cell, and
repairs only the cells that need it: most catalogue cells are already clean.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_EMOJI = r"[\x{1F000}-\x{1FAFF}\x{2600}-\x{27BF}\x{2B00}-\x{2BFF}\x{FE00}-\x{FE0F}\x{200B}-\x{200D}\x{2060}]"
_INVISIBLE = r"\p{Cf}"  # format characters: bidi overrides (U+202E), zero-width spaces and joiners, BOM

# What a spreadsheet shows in place of a value it could not compute; never a product's text.
EXCEL_ERRORS = pa.array(["#N/A", "#N/A N/A", "#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#SPILL!",
                         "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"])


def text_column(frame: pd.DataFrame, col: str) -> pa.Array:
    """A column as a trimmed pyarrow string array; all-null when the column is absent."""
    if col not in frame.columns:
        return pa.nulls(len(frame), pa.string())
    arr = pa.array(frame[col], type=pa.string(), from_pandas=True)
    if isinstance(arr, pa.ChunkedArray):  # a big CSV arrives in chunks; the kernels want one array
        arr = arr.combine_chunks()
    return pc.utf8_trim_whitespace(arr)


def to_numpy(arr: pa.Array) -> np.ndarray:
    """``arr`` as a numpy array (copied only when Arrow's layout requires it)."""
    return arr.to_numpy(zero_copy_only=False)


def blank(arr: pa.Array) -> np.ndarray:
    """A boolean mask: True where the value is null or the empty string."""
    return to_numpy(pc.fill_null(pc.equal(pc.utf8_length(arr), 0), True))


def _where_needed(arr: pa.Array, needs: str, fix) -> pa.Array:
    """``arr`` with ``fix`` applied only to the values matching the regex ``needs``: most cells are
    already clean, so the costly repair runs on few."""
    mask = pc.fill_null(pc.match_substring_regex(arr, needs), False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fix(arr.filter(mask)))


def clean_name(arr: pa.Array) -> pa.Array:
    """Names on one line, without emoji or control characters, spaces folded; ALL CAPS as Title Case."""
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
    """Descriptions with line breaks kept (as \\n), other control characters dropped, runs of spaces folded."""
    def fix(a: pa.Array) -> pa.Array:
        a = pc.replace_substring_regex(a, r"\r\n?", "\n")
        a = pc.replace_substring_regex(a, r"\t", " ")
        a = pc.replace_substring_regex(a, r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "")
        a = pc.replace_substring_regex(a, _INVISIBLE, "")
        a = pc.replace_substring_regex(a, r" {2,}", " ")
        return pc.replace_substring_regex(a, r" *\n *", "\n")

    return pc.utf8_trim_whitespace(_where_needed(arr, r"[\x00-\x1f\x7f-\x9f]|\p{Cf}|  ", fix))
