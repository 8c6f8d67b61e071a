"""A group's intake remembered: an unchanged catalogue is not read and normalised again.

What :func:`flows.engine.intake.read_group` hands on (a :class:`GroupCatalogue`) is kept in the
output folder's ``.cache/intake/<group>.pickle`` under a key made of everything it depends on:

- the catalogue file's bytes (sha256) and path;
- the group's configuration, where its photos are looked for, the output folder;
- the category lists and aliases of every channel (:func:`intake_inputs`);
- the code that reads, normalises and fits a catalogue (a hash of its source files, so a new
  release or a changed rule reads every catalogue again once) and :data:`CACHE_FORMAT`.

A remembered intake is used only while, besides the key:

- the photo files its cells name are as they were (each path relative to the catalogue's folder,
  and the photos folder's names, sizes and times, or its ZIP's size and time);
- every prepared photo its listings show is still in the photo cache, and its rejects report
  (both files and the fingerprint beside them) is still in place;
- it has not expired: a catalogue stating a stock date still to come is read again the next day
  (when that date may have come), one with Drive links after a day (as the Drive cache).

A URL catalogue is read every time (its bytes are only known by fetching them). A missing,
unreadable or foreign cache file is a miss, never an error. The file is trusted as the state
database is: it lives in the operator's output folder (pickle: only the pipeline writes there).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import operator
import os
import pickle
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import connectors.catalogue
import connectors.photos
import schemas
from connectors.files import private_dir
from connectors.photos import is_drive_link
from connectors.photos.finder import photos_beside, relative_parts
from schemas.categories import CategoryIndex
from schemas.channel_rules import CategoryMap
from schemas.config import GroupConfig, LapakConfig
from schemas.dates import WIB
from schemas.listing import Listing
from schemas.pictures import PHOTO

log = logging.getLogger("lapak.intake")

CACHE_FORMAT = 1
"""Bumped when what is remembered changes shape (the code hash covers the rules themselves)."""
CACHE_DIR = "intake"
DRIVE_TTL_S = 24 * 3600  # as flows.engine.photos: a Drive link is fetched again after a day

_ENGINE_FILES = ("intake.py", "intake_cache.py", "channels.py", "photos.py")


@functools.cache
def code_version() -> str:
    """A hash of the source of everything that turns a catalogue into listings and rejects."""
    h = hashlib.sha256(f"lapak intake cache {CACHE_FORMAT}".encode())
    roots = [Path(m.__file__).parent for m in (schemas, connectors.catalogue, connectors.photos)]
    here = Path(__file__).parent
    for f in [f for root in roots for f in sorted(root.rglob("*.py"))] + [here / n for n in _ENGINE_FILES]:
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def intake_inputs(config: LapakConfig, categories: CategoryIndex, maps: Mapping[str, CategoryMap | Exception]) -> str:
    """A fingerprint of the category lists and aliases an intake matches against (every channel's)."""
    def tree(index: CategoryIndex) -> list:
        return [c.model_dump(mode="json") for _, c in sorted(index.categories.items())]

    parts: dict[str, Any] = {"marketplace": tree(categories), "aliases": dict(config.categories)}
    for name, cmap in sorted(maps.items()):
        # A channel whose categories could not be read is fitted to nothing: remembered as such.
        parts[name] = f"unavailable: {type(cmap).__name__}" if isinstance(cmap, Exception) else tree(cmap.index)
    if config.tiktok is not None:
        parts["tiktok_aliases"] = dict(config.tiktok.categories)
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


# ---- the photo files a catalogue's cells name -----------------------------------------------------

def _stat(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except (OSError, ValueError):
        return None
    return (st.st_size, st.st_mtime_ns) if path.is_file() else (-1, 0)


def _listing(where: Path | None) -> Any:
    """A photos folder's files (relative name, size, time), or a ZIP's size and time."""
    if where is None or not where.is_dir():
        return None if where is None else _stat(where)
    out = []
    for folder, _, files in os.walk(where):
        for name in files:
            p = Path(folder) / name
            out.append((str(p.relative_to(where)), _stat(p)))
    return sorted(out)


def file_references(refs: Iterable[str]) -> tuple[str, ...]:
    """The photo references that name files (not Drive links)."""
    return tuple(sorted(r for r in refs if is_drive_link(r) is None))


def photo_state(refs: tuple[str, ...], catalogue_dir: Path, photos: Path | None) -> Any:
    """What the photo files ``refs`` name look like now: what finding them depends on."""
    if not refs:
        return ()
    out: list[Any] = []
    for ref in refs:
        parts = relative_parts(ref.strip())
        if parts is not None:
            out.append((ref, _stat(catalogue_dir.joinpath(*parts))))
    where = photos if photos is not None else photos_beside(catalogue_dir)
    out.append(("photos", str(where), _listing(where)))
    return tuple(out)


# ---- the cache ------------------------------------------------------------------------------------

_LISTING = operator.attrgetter(*(f.name for f in fields(Listing)))


@dataclass(frozen=True)
class Remembered:
    """One group's remembered intake (pickled): its listings as plain tuples (fast to load)."""

    key: str
    catalogue: Any  # GroupCatalogue without its listings and ``saved`` (the file's save time is read each run)
    listings: list[tuple]
    channel_listings: dict[str, list[tuple]]
    refs: tuple[str, ...]  # the photo file references, to compare their files
    photos: Any  # photo_state() when it was read
    valid_on: date | None = None  # only on this day (Asia/Jakarta): a stated stock date still to come
    expires_at: float | None = None  # UNIX time: Drive links are fetched again after a day

    @classmethod
    def of(cls, key: str, catalogue: Any, **facts: Any) -> Remembered:
        return cls(key=key, catalogue=replace(catalogue, listings=(), channel_listings={}, saved=None),
                   listings=[_LISTING(x) for x in catalogue.listings],
                   channel_listings={ch: [_LISTING(x) for x in xs] for ch, xs in catalogue.channel_listings.items()},
                   **facts)

    def restored(self) -> Any:
        """The GroupCatalogue remembered (``saved`` still to be set)."""
        return replace(self.catalogue, listings=tuple(Listing(*v) for v in self.listings),
                       channel_listings={ch: tuple(Listing(*v) for v in vs)
                                         for ch, vs in self.channel_listings.items()})


@dataclass
class Lookup:
    """A group's cache slot for this run: the remembered intake when it still holds, else where to keep the new one."""

    path: Path | None
    key: str | None
    hit: Any = None


def cache_path(out_dir: Path, group_id: str) -> Path:
    return out_dir / ".cache" / CACHE_DIR / f"{group_id}.pickle"


def catalogue_key(config: LapakConfig, group: GroupConfig, source: Path, data: bytes, places: Any,
                  inputs: str) -> str:
    parts = {"code": code_version(), "group": group.model_dump(mode="json"), "file": str(source),
             "sha256": hashlib.sha256(data).hexdigest(), "inputs": inputs, "out": str(config.output_dir),
             "catalogue_dir": str(places.catalogue_dir), "photos": str(places.photos)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def lookup(config: LapakConfig, group: GroupConfig, source: str | Path, places: Any, inputs: str,
           still_valid: Callable[[Any], bool]) -> Lookup:
    """The remembered intake of ``group`` if everything it depends on is as it was.

    ``still_valid(catalogue)`` checks what lives beside the cache (its report, its prepared photos)."""
    if group.catalogue_is_url:
        return Lookup(None, None)
    try:
        data = Path(source).read_bytes()
    except OSError:
        return Lookup(None, None)  # read as usual: the reader says why the file can't be used
    found = Lookup(cache_path(config.output_dir, group.id),
                   catalogue_key(config, group, Path(source), data, places, inputs))
    entry = _load(found.path, group.id)
    if entry is not None and _holds(entry, found.key, places):
        catalogue = entry.restored()
        if still_valid(catalogue):
            found.hit = catalogue
    return found


def _load(path: Path, group_id: str) -> Remembered | None:
    try:
        with path.open("rb") as fh:
            entry = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception as err:  # a torn, foreign or outdated file: the catalogue is read again
        log.info("%s: intake cache not used (%s)", group_id, type(err).__name__)
        return None
    return entry if isinstance(entry, Remembered) else None


def _holds(entry: Remembered, key: str, places: Any) -> bool:
    """Same key, not expired, and the photo files it named as they were."""
    return (entry.key == key
            and (entry.valid_on is None or entry.valid_on == datetime.now(WIB).date())
            and (entry.expires_at is None or time.time() < entry.expires_at)
            and (not entry.refs or photo_state(entry.refs, places.catalogue_dir, places.photos) == entry.photos))


def remember(found: Lookup, catalogue: Any, places: Any, refs: Iterable[str], *, stated_ahead: bool) -> None:
    """Keep ``catalogue`` in the group's slot (atomically: a reader sees the old file or the new)."""
    if found.path is None or found.key is None:
        return
    refs = list(refs)
    files = file_references(refs)
    entry = Remembered.of(found.key, catalogue, refs=files,
                          photos=photo_state(files, places.catalogue_dir, places.photos),
                          valid_on=datetime.now(WIB).date() if stated_ahead else None,
                          expires_at=time.time() + DRIVE_TTL_S if len(files) < len(refs) else None)
    try:
        private_dir(found.path.parent)
        fd, partial = tempfile.mkstemp(dir=found.path.parent, prefix=f".{found.path.stem}-", suffix=".part")
        with os.fdopen(fd, "wb") as out:
            pickle.dump(entry, out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, found.path)
    except OSError as err:  # a full disk costs the next run a read, nothing more
        log.warning("intake cache of %s not written: %s", found.path.stem, err)


def prepared_photos(catalogue: Any) -> set[str]:
    """The sha256 of every prepared photo the catalogue's listings (on every channel) show."""
    listings = [*catalogue.listings, *(x for xs in catalogue.channel_listings.values() for x in xs)]
    return {p[len(PHOTO):] for x in listings for p in x.pictures if p.startswith(PHOTO)}
