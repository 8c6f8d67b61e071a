"""SKUs: ``<GROUP>-<SLUG>-<hash8>``, made from a product's identity, and finding repeated values.

The SKU is what ties a catalogue row to the product on the marketplace across runs, so it must
never change while the product's identity (the group's own code, else its name) stays the same:
the hash is a published one (blake2b from hashlib), independent of any library's version.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from schemas.text import to_numpy

_HEX = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def sku_prefix(group_id: str) -> str:
    """The group part of a SKU: the group id in capitals, at most 16 characters, no trailing dash."""
    return group_id.upper()[:16].rstrip("-")


def _hash8(group_id: str, identity: pa.Array) -> pa.Array:
    """8 hex digits of blake2b(group id, identity) per value: a published hash from hashlib, so SKUs
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


def repeated(values: pa.Array) -> np.ndarray:
    """Positions of the non-null values that occur more than once (an exact C++ hash table)."""
    enc = pc.dictionary_encode(values)
    codes = to_numpy(pc.fill_null(enc.indices, -1))
    counts = np.append(np.bincount(codes[codes >= 0], minlength=len(enc.dictionary)), 0)
    return np.flatnonzero(counts[codes] > 1)  # code -1 (null) reads the appended 0
