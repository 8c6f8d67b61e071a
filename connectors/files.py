"""Files that hold personal data or secrets: created readable by their owner only, whatever the umask.

Files 0600; the folders Lapak creates for them 0700. A folder that already exists (the operator's
working directory, the project folder holding ``lapak-state.db``, an output folder someone made)
is left exactly as it is: a file that is 0600 cannot be read through its folder. SQLite gives its
``-wal`` and ``-shm`` files the database file's own mode, so creating the database file first
with 0600 covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def private_dir(path: Path) -> Path:
    """``path`` with every missing folder on the way created 0700; folders that exist are left alone."""
    path = Path(path)
    missing: list[Path] = []
    here = path
    while not here.exists():
        missing.append(here)
        if here.parent == here:
            break
        here = here.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, DIR_MODE)
        except FileExistsError:  # made meanwhile by another run: not ours to change
            continue
        os.chmod(folder, DIR_MODE)  # the umask may have taken bits off; never adds any
    if not path.is_dir():
        raise NotADirectoryError(path)
    return path


def private_file(path: Path) -> Path:
    """An existing or new (empty) file at ``path`` made 0600; its missing folders created 0700."""
    path = Path(path)
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | _NOFOLLOW, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)  # also an existing file written earlier with a wider mode
    finally:
        os.close(fd)
    return path


def private_sqlite(path: Path) -> Path:
    """A SQLite database file made 0600 before SQLite opens it (its ``-wal``/``-shm``/``-journal``
    files take its mode; any left from an earlier run are made 0600 too)."""
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        companion = path.with_name(path.name + suffix)
        if companion.is_file():
            os.chmod(companion, FILE_MODE)
    return path
