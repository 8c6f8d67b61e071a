"""The files a group's photo cells name, found by the rules of issue 8 (first hit wins):

1. a path relative to the catalogue's folder (``foto/carica.jpg``);
2. the same relative path inside the group's ``photos`` folder or ZIP;
3. the file name alone inside ``photos``, in any of its folders, case-insensitively; several
   files of that name are a reject naming them.

A reference leaving its folder (``../``, ``/etc/…``, ``C:\\Users\\…``) skips rules 1 and 2: only its
file name is looked up (rule 3), so a path copied from someone's computer still finds the photo
sent in the ZIP, and no cell can reach a file outside the catalogue's or the photos' folder.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from .model import PhotoError, SourcePhoto, not_found
from .stores import Entry, FolderStore, Store, ZipStore, read_file

log = logging.getLogger(__name__)

BESIDE = ("foto", "photos", "gambar")
"""Folders (then ``.zip`` files) of these names beside the catalogue hold its photos, when the
group's configuration names none; the first present wins."""
_DRIVE_LETTER = re.compile(r"^[A-Za-z]:")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def photos_beside(catalogue_dir: Path) -> Path | None:
    """The folder or ZIP beside a catalogue holding its photos (names compared case-insensitively)."""
    try:
        present = {p.name.casefold(): p for p in catalogue_dir.iterdir()}
    except OSError:
        return None
    for name in BESIDE:
        if (p := present.get(name)) is not None and p.is_dir():
            return p
    for name in BESIDE:
        if (p := present.get(f"{name}.zip")) is not None and p.is_file():
            return p
    return None


def relative_parts(ref: str) -> list[str] | None:
    """The parts of a reference that stays inside its folder; None for an absolute or escaping one."""
    text = ref.replace("\\", "/")
    if text.startswith("/") or _DRIVE_LETTER.match(text):
        return None
    parts = [p for p in text.split("/") if p not in ("", ".")]
    return None if not parts or ".." in parts else parts


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except (OSError, ValueError):  # a name too long, a NUL byte
        return False


def _ambiguous(name: str, wheres: list[str]) -> PhotoError:
    shown = ", ".join(wheres[:5]) + (f" (+{len(wheres) - 5})" if len(wheres) > 5 else "")
    return PhotoError(
        f"Ada {len(wheres)} berkas foto bernama {name}: {shown}; tulis juga foldernya (misalnya foto/{name}) "
        "atau ganti nama salah satunya",
        f"{len(wheres)} photo files are named {name}: {shown}; write the folder too (e.g. foto/{name}) "
        "or rename one of them")


class PhotoFinder:
    """Finds the files a group's photo cells name (rules 1–3 above).

    ``photos`` is the group's configured folder or ``.zip``; when None, a folder or ZIP beside the
    catalogue named ``foto``, ``photos`` or ``gambar`` is used if present. The folder is indexed,
    or the ZIP opened, on the first reference that needs it; a missing or damaged one is a
    :class:`PhotoError` for each such reference (rule 1 still works). Use as a context manager, or
    call :meth:`close` (an open ZIP).
    """

    def __init__(self, catalogue_dir: Path, photos: Path | None = None) -> None:
        self.catalogue_dir = Path(catalogue_dir)
        self.photos = Path(photos) if photos is not None else photos_beside(self.catalogue_dir)
        self._store: Store | None = None
        self._store_error: PhotoError | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> PhotoFinder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Closes an open ZIP."""
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    def find(self, ref: str) -> SourcePhoto:
        """The source bytes of the photo a cell names; :class:`PhotoError` when none or several match."""
        text = ref.strip()
        if not text:
            raise PhotoError("Nama berkas foto kosong", "The photo file name is empty")
        if _SCHEME.match(text):
            raise PhotoError(f"Bukan nama berkas foto: {text}; tulis nama berkasnya, atau tautan yang diawali https://",
                             f"Not a photo file name: {text}; write the file name, or a link starting with https://")
        parts = relative_parts(text)
        if parts is not None:
            path = self.catalogue_dir.joinpath(*parts)
            if _is_file(path):  # rule 1
                return SourcePhoto.of(text, str(path), read_file(path, self.catalogue_dir.resolve(), str(path)))
        store = self._photos()
        if store is not None:
            if parts is not None:  # rule 2
                hit = self._one(store, store.by_path("/".join(parts)), parts[-1])
                if hit is not None:
                    return SourcePhoto.of(text, store.where(hit), store.read(hit))
            name = parts[-1] if parts else text.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
            hit = self._one(store, store.by_name(name), name)  # rule 3
            if hit is not None:
                return SourcePhoto.of(text, store.where(hit), store.read(hit))
        raise not_found(text)

    @staticmethod
    def _one(store: Store, entries: list[Entry], name: str) -> Entry | None:
        if len(entries) > 1:
            raise _ambiguous(name, [store.where(e) for e in entries])
        return entries[0] if entries else None

    def _photos(self) -> Store | None:
        """The photos folder's or ZIP's index, made once; its error, raised for each reference needing it."""
        if self.photos is None:
            return None
        with self._lock:
            if self._store is None and self._store_error is None:
                try:
                    is_zip = self.photos.suffix.casefold() == ".zip" and not self.photos.is_dir()
                    self._store = ZipStore(self.photos) if is_zip else FolderStore(self.photos)
                except PhotoError as exc:
                    log.warning("photos %s: %s", self.photos, exc.reason_en)
                    self._store_error = exc
            if (err := self._store_error) is not None:
                raise PhotoError(err.reason_id, err.reason_en)
            return self._store
