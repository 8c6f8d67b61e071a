"""A catalogue's photo cells → each row's pictures (the marketplace takes 1 to 5).

A ``photo_N`` cell may hold one or several entries, separated by commas, semicolons or line
breaks (spaces too, between links and between file names): an image-host link (``https://…``),
a Google Drive share link, or a photo's file name or relative path (``carica.jpg``,
``foto/carica.jpg``). Links pass through as they are. Drive links and file names are
*references*: the intake finds and prepares those files (:mod:`connectors.photos`) and hands
the normaliser what each became — ``photo:<sha256>`` of its source bytes, or the problem with it
— so this module stays pure. A row keeps its first five pictures, in column order; an entry
that is none of these, or a photo with a problem, is a reject naming its cell; a row without a
photo is a reject; a sixth photo is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import messages as msg
from schemas import values as v
from schemas.listing import PICTURES_MAX
from schemas.rejects import Problems
from schemas.text import text_column, to_numpy

PHOTO = "photo:"
"""A picture that is a prepared photo: ``photo:<sha256 of the source file's bytes>``."""

PhotoResolution = Mapping[str, str | tuple[str, str]]
"""What each photo reference became: ``photo:<sha256>``, or (alasan, reason) of its problem."""

_IMAGE = r"\.(?:jpe?g|png|webp|gif|bmp|tiff?|heic|heif)"
_LINK = r"^https://[A-Za-z0-9][^\s]*\.[^\s]+$"
_FILE = rf"(?i)^[^\s:*?\"<>|][^:*?\"<>|]*{_IMAGE}$"
_ENDS_AS_IMAGE = re.compile(rf"{_IMAGE}$", re.IGNORECASE)
_SEPARATORS = re.compile(r"[,;\r\n]+")


def _split_spaced(text: str) -> list[str]:
    """An entry with spaces: a space before a link, or after a file name's image ending,
    separates two entries; other spaces belong to a file name (``foto carica.jpg``)."""
    out: list[str] = []
    for word in text.split():
        if out and not word.lower().startswith(("http://", "https://")) and not _ENDS_AS_IMAGE.search(out[-1]) \
                and "://" not in out[-1]:
            out[-1] = f"{out[-1]} {word}"
        else:
            out.append(word)
    return out


def _entries(raw: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """A column's cells → their entries (flat) and each entry's row. Most cells hold one link and
    many none: only the filled cells are looked at, and only cells with a separator are split."""
    filled = np.flatnonzero(to_numpy(pc.fill_null(pc.greater(pc.utf8_length(raw), 0), False)))
    cells = raw.take(pa.array(filled))
    several = to_numpy(pc.match_substring_regex(cells, r"[,;\r\n]|\s"))
    if not several.any():
        return cells, filled
    # The few cells with separators are split in Python; their entries follow the single ones
    # (each row's entries stay in order; rows are put in order where it matters).
    which = np.flatnonzero(several)
    pairs = [(p, r) for t, r in zip(cells.take(pa.array(which)).to_pylist(), filled[which].tolist())
             for p in _split_cell(t)]
    single = np.flatnonzero(~several)
    entries = pa.concat_arrays([cells.take(pa.array(single)), pa.array([p for p, _ in pairs], pa.string())])
    return entries, np.concatenate([filled[single], np.array([r for _, r in pairs], dtype=np.int64)])


def _split_cell(text: str) -> list[str]:
    """One cell with separators (the few): its entries, in order, none empty."""
    entries = (e.strip() for e in _SEPARATORS.split(text))
    return [part for entry in entries if entry for part in (_split_spaced(entry) if " " in entry or "\t" in entry
                                                           else [entry])]


def _is_reference(entries: pa.Array) -> np.ndarray:
    """Entries the intake must find: Drive share links and file names (links are the rest)."""
    drive = np.array(to_numpy(pc.or_(pc.starts_with(entries, "https://drive.google.com/"),
                                     pc.starts_with(entries, "https://docs.google.com/"))), dtype=bool)
    no_scheme = np.flatnonzero(~to_numpy(pc.match_substring(entries, "://")))
    if len(no_scheme):  # names are few beside links: the file-name pattern runs on them only
        named = to_numpy(pc.fill_null(pc.match_substring_regex(entries.take(pa.array(no_scheme)), _FILE), False))
        drive[no_scheme[named]] = True
    return drive


def photo_columns(frame: pd.DataFrame) -> list[str]:
    return sorted((c for c in frame.columns if c.startswith("photo_")), key=lambda c: int(c.split("_")[1]))


def photo_references(frame: pd.DataFrame) -> set[str]:
    """The distinct references (file names, Drive links) in the photo columns, to be resolved."""
    found: set[str] = set()
    for col in photo_columns(frame):
        entries, _ = _entries(text_column(frame, col))
        found.update(entries.filter(pa.array(_is_reference(entries))).to_pylist())
    return found


def picture_lists(frame: pd.DataFrame, problems: Problems, resolved: PhotoResolution | None = None) -> pa.ListArray:
    """Returns each row's list of up to five pictures (links, and ``photo:<sha256>`` for the
    references ``resolved`` maps); reports bad entries and photos with a problem, rows without a
    photo and (as a warning) rows with more than five."""
    pictures, n_pictures, bad = _pictures(frame, problems, resolved or {})
    no_photo_col = not photo_columns(frame)
    problems.add((n_pictures == 0) & ~bad, "photo_1" if not no_photo_col else "photo",
                 msg.REASONS[("photo", v.MISSING)], None if no_photo_col else text_column(frame, "photo_1"), order=6)
    problems.add(n_pictures > PICTURES_MAX, "photo_1", msg.REASONS[("photo", "too_many")], None,
                 severity="warning", order=6)
    return pictures


def _resolve(entries: pa.Array, resolved: PhotoResolution
             ) -> tuple[pa.Array, np.ndarray, np.ndarray, tuple[list[str], list[str]]]:
    """Each entry as its picture; which entries are good; which are photos with a problem, and
    their reasons (in entry order)."""
    is_ref = _is_reference(entries)
    good = to_numpy(pc.fill_null(pc.match_substring_regex(entries, _LINK), False)) & ~is_ref
    failed = np.zeros(len(entries), dtype=bool)
    if not is_ref.any():
        return entries, good, failed, ([], [])
    texts = entries.to_pylist()
    reason_id, reason_en = [], []
    for i in np.flatnonzero(is_ref):
        outcome = resolved.get(texts[i], msg.photo_not_found(texts[i]))
        if isinstance(outcome, str):
            texts[i], good[i] = outcome, True
        else:
            failed[i] = True
            reason_id.append(outcome[0])
            reason_en.append(outcome[1])
    return pa.array(texts, pa.string()), good, failed, (reason_id, reason_en)


def _pictures(frame: pd.DataFrame, problems: Problems, resolved: PhotoResolution
              ) -> tuple[pa.ListArray, np.ndarray, np.ndarray]:
    """All photo columns → up to five pictures per row, each row's count, and which rows had a bad entry."""
    n = len(frame)
    parents, pictures = [], []
    any_bad = np.zeros(n, dtype=bool)
    for col in photo_columns(frame):
        raw = text_column(frame, col)
        entries, parent = _entries(raw)
        entries, good, failed, reasons = _resolve(entries, resolved)
        bad_rows = np.zeros(n, dtype=bool)
        bad_rows[parent[~good]] = True
        unusable = np.zeros(n, dtype=bool)
        unusable[parent[~good & ~failed]] = True  # a photo with a problem says what, below
        problems.add(unusable, col, msg.REASONS[("photo", "bad_url")], raw, order=6)
        problems.add(parent[failed], col, reasons, raw, order=6)
        any_bad |= bad_rows
        parents.append(parent[good])
        pictures.append(entries.filter(pa.array(good)))
    return _first_five(n, parents, pictures) + (any_bad,)


def _first_five(n: int, parents: list[np.ndarray], pictures: list[pa.Array]) -> tuple[pa.ListArray, np.ndarray]:
    parent = np.concatenate(parents) if parents else np.zeros(0, dtype=np.int64)
    flat = pa.concat_arrays(pictures) if pictures else pa.array([], pa.string())
    order = np.argsort(parent, kind="stable")  # rows in order, columns in order within a row
    parent, flat = parent[order], flat.take(pa.array(order))
    counts = np.bincount(parent, minlength=n)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(parent)) - starts[parent]
    keep = rank < PICTURES_MAX
    kept = np.minimum(counts, PICTURES_MAX)
    offsets = np.concatenate([[0], np.cumsum(kept)]).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), flat.filter(pa.array(keep))), counts
