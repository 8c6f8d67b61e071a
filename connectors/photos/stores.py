"""A group's ``photos`` folder or ZIP, indexed once by relative path and by file name (both compared
case-insensitively: the photos were named on phones and Windows, where case does not matter).

A ZIP is never extracted to disk: a member is read into memory when a cell names it, after its
declared size and packing ratio are checked (a zip bomb, an absurd member), and the bytes actually
read are bounded by the declared size (``zipfile`` stops there and checks the CRC).
"""

from __future__ import annotations

import os
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .model import MAX_SOURCE_BYTES, PhotoError, mb, too_big_file, unreadable

MAX_ENTRIES = 20_000
"""Files in a photos folder or ZIP at most (a group has tens to hundreds of photos)."""
MAX_RATIO = 100
"""A ZIP member over 1 MB unpacking to more than this many times its packed size is a bomb:
photos hardly compress at all (a JPEG packs to ~98 %, a screenshot PNG to ~95 %)."""
_IGNORED_DIRS = {"__macosx", ".git", "@eadir"}  # macOS resource forks, Synology thumbnails
_IGNORED_FILES = {"thumbs.db", "desktop.ini", ".ds_store"}


def ignored(name: str) -> bool:
    """Files a photos folder or ZIP holds besides photos: macOS ``._`` forks, Windows thumbnails."""
    low = name.casefold()
    return low.startswith(".") or low in _IGNORED_FILES


def normalise(path: str) -> str:
    """A relative path as the index keys it: ``/`` separators, no ``.`` parts, case folded."""
    return "/".join(p for p in path.replace("\\", "/").split("/") if p not in ("", ".")).casefold()


@dataclass(frozen=True)
class Entry:
    path: str  # relative, ``/``-separated, as stored (case kept)
    key: object  # the member's ZipInfo, or None for a folder


class Store:
    """The index both kinds share; ``read`` and ``where`` are each kind's own."""

    label: str

    def __init__(self, entries: list[Entry]) -> None:
        self._paths: dict[str, list[Entry]] = {}
        self._names: dict[str, list[Entry]] = {}
        for e in entries:
            self._paths.setdefault(normalise(e.path), []).append(e)
            self._names.setdefault(PurePosixPath(e.path).name.casefold(), []).append(e)

    def by_path(self, rel: str) -> list[Entry]:
        """Entries at this relative path: the exact spelling if present, else every case variant."""
        found = self._paths.get(normalise(rel), [])
        exact = [e for e in found if e.path == rel]
        return exact or found

    def by_name(self, name: str) -> list[Entry]:
        return self._names.get(name.casefold(), [])

    def read(self, entry: Entry) -> bytes:
        raise NotImplementedError

    def where(self, entry: Entry) -> str:
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to close for a folder."""


def too_many(label: str) -> PhotoError:
    n = f"{MAX_ENTRIES:,}"
    return PhotoError(
        f"Folder atau ZIP foto berisi lebih dari {n.replace(',', '.')} berkas: {label}; kirim hanya foto produk",
        f"The photos folder or ZIP holds more than {n} files: {label}; send only the product photos")


def missing(label: str) -> PhotoError:
    return PhotoError(f"Folder atau ZIP foto tidak ditemukan: {label}; periksa lokasi foto di konfigurasi",
                      f"The photos folder or ZIP was not found: {label}; check the photos path in the configuration")


class FolderStore(Store):
    def __init__(self, root: Path) -> None:
        self.root = root
        self.label = str(root)
        if not root.is_dir():
            raise missing(self.label)
        self._real = root.resolve()
        entries: list[Entry] = []
        for top, dirs, files in os.walk(root):  # symlinked folders are not followed
            dirs[:] = sorted(d for d in dirs if d.casefold() not in _IGNORED_DIRS and not d.startswith("."))
            rel_top = Path(top).relative_to(root)
            for f in sorted(files):
                if ignored(f):
                    continue
                entries.append(Entry((rel_top / f).as_posix(), None))
                if len(entries) > MAX_ENTRIES:
                    raise too_many(self.label)
        super().__init__(entries)

    def where(self, entry: Entry) -> str:
        return str(self.root / entry.path)

    def read(self, entry: Entry) -> bytes:
        return read_file(self.root / entry.path, self._real, self.where(entry))


def read_file(path: Path, inside: Path, where: str) -> bytes:
    """A photo file's bytes, if it is a file within ``inside`` (a symlink out of it is not followed)
    and not over MAX_SOURCE_BYTES."""
    try:
        real = path.resolve()
        if not real.is_relative_to(inside) or not real.is_file():
            raise unreadable(where, "not a file inside the photos' folder")
        if (size := real.stat().st_size) > MAX_SOURCE_BYTES:
            raise too_big_file(where, size)
        with real.open("rb") as f:
            data = f.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise unreadable(where, type(exc).__name__) from None
    if len(data) > MAX_SOURCE_BYTES:  # grew since stat
        raise too_big_file(where, len(data))
    return data


class ZipStore(Store):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = path.name
        if not path.is_file():
            raise missing(str(path))
        try:
            self._zip = zipfile.ZipFile(path)
            infos = self._zip.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError):
            raise self._damaged(self.label) from None
        if len(infos) > MAX_ENTRIES:
            self._zip.close()
            raise too_many(self.label)
        entries = []
        for info in infos:
            parts = [p for p in info.filename.replace("\\", "/").split("/") if p not in ("", ".")]
            if info.is_dir() or not parts or ignored(parts[-1]) or any(
                    p.casefold() in _IGNORED_DIRS or p.startswith(".") for p in parts[:-1]):
                continue
            entries.append(Entry("/".join(parts), info))
        super().__init__(entries)

    @staticmethod
    def _damaged(where: str) -> PhotoError:
        return PhotoError(f"Berkas ZIP foto rusak: {where}; buat ulang ZIP-nya lalu kirim lagi",
                          f"The photos ZIP is damaged: {where}; make the ZIP again and send it")

    def where(self, entry: Entry) -> str:
        return f"{self.label}:{entry.path}"

    def read(self, entry: Entry) -> bytes:
        info = entry.key
        assert isinstance(info, zipfile.ZipInfo)
        where = self.where(entry)
        if info.flag_bits & 0x1:
            raise PhotoError(f"Foto di dalam ZIP dikunci kata sandi: {where}; buat ZIP tanpa kata sandi",
                             f"The photo in the ZIP is password-protected: {where}; make the ZIP without a password")
        if info.file_size > MAX_SOURCE_BYTES:
            raise too_big_file(where, info.file_size)
        if info.file_size > 1_000_000 and info.file_size > MAX_RATIO * max(1, info.compress_size):
            packed, size = mb(info.compress_size), mb(info.file_size)
            raise PhotoError(
                f"Isi ZIP tidak wajar: {where} mengembang dari {packed} MB menjadi {size} MB; kirim fotonya saja",
                f"Suspicious ZIP member: {where} grows from {packed} MB to {size} MB when unpacked; "
                "send the photos themselves")
        try:
            with self._zip.open(info) as member:
                data = member.read(MAX_SOURCE_BYTES + 1)  # zipfile stops at the declared size
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError, ValueError):
            raise self._damaged(where) from None
        if len(data) != info.file_size:
            raise self._damaged(where)
        return data

    def close(self) -> None:
        self._zip.close()
