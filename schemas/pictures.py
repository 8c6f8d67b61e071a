"""A catalogue's photo cells → each row's pictures (the marketplace takes 1 to 5).

Every ``photo_N`` column may hold one or several links (separated by spaces, commas or
semicolons); a row keeps its first five, in column order. A link that is not ``https://`` is a
reject naming its cell; a row without a photo is a reject; a sixth photo is a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import messages as msg
from schemas import values as v
from schemas.listing import PICTURES_MAX
from schemas.rejects import Problems
from schemas.text import text_column, to_numpy

_URL = r"^https://[A-Za-z0-9][^\s]*\.[^\s]+$"


def picture_lists(frame: pd.DataFrame, problems: Problems) -> pa.ListArray:
    """Returns each row's list of up to five photo URLs; reports bad URLs, rows without a photo
    and (as a warning) rows with more than five."""
    pictures, n_pictures, bad_url = _urls(frame, problems)
    no_photo_col = not any(c.startswith("photo_") for c in frame.columns)
    problems.add((n_pictures == 0) & ~bad_url, "photo_1" if not no_photo_col else "photo",
                 msg.REASONS[("photo", v.MISSING)], None if no_photo_col else text_column(frame, "photo_1"), order=6)
    problems.add(n_pictures > PICTURES_MAX, "photo_1", msg.REASONS[("photo", "too_many")], None,
                 severity="warning", order=6)
    return pictures


def _urls(frame: pd.DataFrame, problems: Problems) -> tuple[pa.ListArray, np.ndarray, np.ndarray]:
    """All photo columns → a list of up to five https URLs per row, each row's count, and
    which rows had a URL that is not one."""
    n = len(frame)
    cols = sorted((c for c in frame.columns if c.startswith("photo_")), key=lambda c: int(c.split("_")[1]))
    parents, urls = [], []
    any_bad = np.zeros(n, dtype=bool)
    for col in cols:
        raw = text_column(frame, col)
        parts = pc.split_pattern_regex(pc.fill_null(raw, ""), r"[\s,;]+")
        flat = pc.list_flatten(parts)
        parent = to_numpy(pc.list_parent_indices(parts))
        keep = to_numpy(pc.greater(pc.utf8_length(flat), 0))
        flat, parent = flat.filter(pa.array(keep)), parent[keep]
        good = to_numpy(pc.match_substring_regex(flat, _URL))
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
