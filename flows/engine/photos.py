"""Photos as groups have them: found and prepared at the intake, uploaded once per shop at planning.

- :func:`resolve_photos` (intake, no channel): every file name and Drive link the photo cells
  name is found (:class:`connectors.photos.PhotoFinder`, :func:`connectors.photos.fetch_drive`)
  and prepared (upright, no metadata, JPEG ≤ 2,048 px, ≤ 5 MB); the prepared JPEG is kept in the
  output folder's cache under its source's sha256, so an unchanged photo is prepared once. What
  each reference became (``photo:<sha256>``, or its problem for the rejects report) goes to the
  normaliser.
- :func:`upload_pictures` (planning, per shop): each ``photo:<sha256>`` of the shop's listings
  becomes the channel's file path — remembered in the state store per (channel, shop, sha256,
  processing version), else uploaded now (not in a dry run).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pandas as pd
import requests

from connectors.files import private_dir
from connectors.photos import (
    PROCESSING_VERSION,
    PhotoError,
    PhotoFinder,
    SourcePhoto,
    drive_session,
    fetch_drive,
    is_drive_link,
)
from connectors.photos import prepare as prepare_photo
from flows.engine.runtime import Runtime
from schemas.channel import ShopRef
from schemas.errors import CatalogueError
from schemas.listing import Listing
from schemas.pictures import PHOTO, PhotoResolution, photo_references

log = logging.getLogger("lapak.photos")

DRIVE_TTL_S = 24 * 3600  # a Drive link is fetched again after a day (its file may have changed)
PREPARE_WORKERS = max(1, min(4, os.cpu_count() or 1))  # Pillow decodes, resizes and encodes outside the GIL


def cached_photo(cache_dir: Path, sha: str) -> Path:
    """Where the prepared JPEG of the photo whose source has ``sha`` is kept."""
    return cache_dir / f"{sha}-v{PROCESSING_VERSION}.jpg"


class _DriveCache:
    """Drive file id → the sha256 of what it held when last fetched (for a day)."""

    def __init__(self, cache_dir: Path) -> None:
        self.path = cache_dir / "drive.json"
        self.known: dict[str, dict] = json.loads(self.path.read_text()) if self.path.exists() else {}

    def get(self, file_id: str, *, stale_ok: bool = False) -> str | None:
        hit = self.known.get(file_id)
        fresh = hit is not None and (stale_ok or time.time() - hit["fetched_at"] < DRIVE_TTL_S)
        return hit["sha256"] if fresh and hit is not None else None

    def put(self, file_id: str, sha: str) -> None:
        self.known[file_id] = {"sha256": sha, "fetched_at": time.time()}
        fd, partial = tempfile.mkstemp(dir=self.path.parent, prefix=".drive-", suffix=".part")
        with os.fdopen(fd, "w") as out:
            json.dump(self.known, out)
        os.replace(partial, self.path)  # another run writing too: one whole file wins, never a torn one


def _prepared(source: SourcePhoto, cache_dir: Path) -> str:
    """The photo prepared and cached (once per source content); its ``photo:<sha256>``."""
    target = cached_photo(cache_dir, source.sha256)
    if not target.exists():
        prepared = prepare_photo(source)
        # A temporary file of this writer's own: two runs preparing one photo at once both succeed.
        fd, partial = tempfile.mkstemp(dir=cache_dir, prefix=f".{source.sha256[:16]}-", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            out.write(prepared.jpeg)
        os.replace(partial, target)
    return PHOTO + source.sha256


def resolve_photos(frame: pd.DataFrame, catalogue_dir: Path, photos: Path | None, cache_dir: Path) -> PhotoResolution:
    """Every photo reference of a catalogue's raw frame → ``photo:<sha256>`` or (alasan, reason).

    Files are found one after another; new ones are prepared on every core, a few at a time (so
    memory stays bounded). A Drive link that does not answer now (a passing fault) uses what it
    held last time; with nothing from last time the whole catalogue waits for the next run (a
    :class:`CatalogueError`) rather than rejecting rows whose products would then be deactivated."""
    refs = photo_references(frame)
    if not refs:
        return {}
    private_dir(cache_dir)
    drive = _DriveCache(cache_dir)
    finder, session = PhotoFinder(catalogue_dir, photos), drive_session()
    out: dict[str, str | tuple[str, str]] = {}
    pending: dict[str, Future[str]] = {}
    try:
        with ThreadPoolExecutor(max_workers=PREPARE_WORKERS, thread_name_prefix="lapak-photo") as pool:
            for ref in sorted(refs):
                try:
                    found = _find_one(ref, finder, drive, session, cache_dir)
                except PhotoError as err:
                    out[ref] = _problem(ref, err)
                    continue
                if isinstance(found, str):
                    out[ref] = found
                    continue
                pending[ref] = pool.submit(_prepared, found, cache_dir)
                if len(pending) >= 2 * PREPARE_WORKERS:
                    _collect(pending, out, keep=PREPARE_WORKERS)
            _collect(pending, out, keep=0)
    finally:
        finder.close()
        session.close()
    log.info("photos: %d referenced, %d ready, %d with a problem", len(refs),
             sum(isinstance(v, str) for v in out.values()), sum(not isinstance(v, str) for v in out.values()))
    return out


def _problem(ref: str, err: PhotoError) -> tuple[str, str]:
    """The reject line's reason; a passing fault stops the catalogue for this run instead."""
    if err.transient:
        raise CatalogueError(ref, f"Foto belum bisa diambil ({err.reason_id}); dicoba lagi nanti",
                             f"the photo could not be fetched now ({err.reason_en}); retried on the next run")
    return err.reason_id, err.reason_en


def _collect(pending: dict[str, Future[str]], out: dict, *, keep: int) -> None:
    """Wait for the oldest preparations until at most ``keep`` are still running."""
    while len(pending) > keep:
        ref = next(iter(pending))
        try:
            out[ref] = pending.pop(ref).result()
        except PhotoError as err:
            out[ref] = _problem(ref, err)


def _find_one(ref: str, finder: PhotoFinder, drive: _DriveCache, session: requests.Session,
              cache_dir: Path) -> str | SourcePhoto:
    """The photo's source to prepare, or ``photo:<sha256>`` when it is prepared already."""
    file_id = is_drive_link(ref)
    if file_id is None:
        found = finder.find(ref)
    else:
        sha = drive.get(file_id)
        if sha is not None and cached_photo(cache_dir, sha).exists():
            return PHOTO + sha
        try:
            found = fetch_drive(file_id, session=session, ref=ref)
        except PhotoError as err:
            last = drive.get(file_id, stale_ok=True)
            if err.transient and last is not None and cached_photo(cache_dir, last).exists():
                log.warning("photo %s: Google Drive did not answer (%s); using what it held last time", ref, err)
                return PHOTO + last
            raise
        drive.put(file_id, found.sha256)
    return PHOTO + found.sha256 if cached_photo(cache_dir, found.sha256).exists() else found


def photos_of(listings: Iterable[Listing]) -> dict[str, str]:
    """sha256 → the group of the first listing showing that prepared photo."""
    out: dict[str, str] = {}
    for listing in listings:
        for p in listing.pictures:
            if p.startswith(PHOTO):
                out.setdefault(p[len(PHOTO):], listing.group_id)
    return out


def upload_pictures(rt: Runtime, shop: ShopRef | int, listings: list[Listing], *, upload: bool
                    ) -> tuple[list[Listing], dict[str, int]]:
    """``listings`` with each ``photo:<sha256>`` made the channel's file path (uploaded now when
    not yet, unless ``upload`` is off: a dry run keeps the placeholder), and uploads per group."""
    wanted = photos_of(listings)
    if not wanted:
        return listings, {}
    shop = ShopRef.of(shop)
    shop_id, channel, store = shop.shop_id, rt.channel_of(shop), rt.store
    paths = store.uploaded(channel.name, shop_id, wanted, PROCESSING_VERSION)
    uploaded: dict[str, int] = {}
    for sha in sorted(set(wanted) - set(paths)) if upload else ():
        jpeg = cached_photo(rt.config.output_dir / ".cache" / "photos", sha).read_bytes()
        paths[sha] = channel.upload_picture(shop_id, jpeg, f"{sha[:16]}.jpg")
        store.record_upload(channel.name, shop_id, sha, PROCESSING_VERSION, paths[sha])
        uploaded[wanted[sha]] = uploaded.get(wanted[sha], 0) + 1
    if uploaded:
        log.info("shop %s: %d photos uploaded", shop, sum(uploaded.values()))

    def final(listing: Listing) -> Listing:
        pictures = tuple(paths.get(p[len(PHOTO):], p) if p.startswith(PHOTO) else p for p in listing.pictures)
        return listing if pictures == listing.pictures else replace(listing, pictures=pictures)

    return [final(x) for x in listings], uploaded
