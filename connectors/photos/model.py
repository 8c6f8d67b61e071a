"""What the photo library hands on: a photo's source bytes, found; a photo prepared for upload; and
the one error a photo reference can have, worded for a reject line (Indonesian, English beside)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

PROCESSING_VERSION: int = 1
"""Bump when the processing changes (size, quality, format): uploads are remembered per (channel,
shop, sha256 of the source bytes, this version), so a bump re-uploads every photo once. A Pillow
upgrade is not meant to change it: Pillow is pinned (requirements.lock)."""

MAX_SOURCE_BYTES = 30_000_000
"""A photo's file at most (phone photos are 3–12 MB); larger ones are refused before they are read."""


class PhotoError(Exception):
    """One problem with one photo reference. ``reason_id`` says, in Indonesian, what is wrong and
    what to do; ``reason_en`` is the English beside it. ``transient`` marks a failure that may
    pass by itself (the network, Google Drive's servers): the caller may keep what it had and try
    again on the next run instead of rejecting the row."""

    def __init__(self, reason_id: str, reason_en: str, *, transient: bool = False) -> None:
        super().__init__(reason_en)
        self.reason_id = reason_id
        self.reason_en = reason_en
        self.transient = transient

    def __repr__(self) -> str:
        return f"PhotoError({self.reason_id!r}, {self.reason_en!r}, transient={self.transient})"


@dataclass(frozen=True)
class SourcePhoto:
    """A photo's source bytes, found. ``ref`` is the reference as written in the cell,
    ``where`` where it was found, for people (a path, ``photos.zip:carica.jpg``, ``Google Drive <id>``)."""

    ref: str
    where: str
    data: bytes = field(repr=False)
    sha256: str

    @classmethod
    def of(cls, ref: str, where: str, data: bytes) -> SourcePhoto:
        return cls(ref=ref, where=where, data=data, sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class PreparedPhoto:
    """What gets uploaded: upright, no metadata, JPEG, longest side ≤ 2048 px, at most 5 MB."""

    source_sha256: str
    version: int
    jpeg: bytes = field(repr=False)
    width: int
    height: int


def mb(size: int) -> str:
    """Megabytes with at most one decimal, for messages: ``12``, ``5.2`` (the Indonesian text writes ``5,2``)."""
    return f"{size / 1e6:.1f}".rstrip("0").rstrip(".")


def not_found(ref: str) -> PhotoError:
    return PhotoError(
        f"Berkas foto tidak ditemukan: {ref} — periksa nama berkasnya (huruf besar/kecil, .jpg/.jpeg) dan "
        "kirim fotonya di folder atau ZIP foto",
        f"Photo file not found: {ref} — check the file name (case, .jpg/.jpeg) and send the photo in the "
        "photos folder or ZIP")


def too_big_file(where: str, size: int) -> PhotoError:
    limit = mb(MAX_SOURCE_BYTES)
    return PhotoError(
        f"Berkas foto terlalu besar: {where} ({mb(size).replace('.', ',')} MB, paling besar {limit} MB); "
        "kirim foto yang lebih kecil",
        f"Photo file too large: {where} ({mb(size)} MB, at most {limit} MB); send a smaller photo")


def unreadable(where: str, what: str) -> PhotoError:
    return PhotoError(f"Berkas foto tidak bisa dibuka: {where}; kirim ulang fotonya",
                      f"The photo file cannot be opened: {where} ({what}); send the photo again")
