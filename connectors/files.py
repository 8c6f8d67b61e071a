"""Files that hold personal data or secrets: created readable by their owner only, whatever the umask.

Folders 0700, files 0600. SQLite gives its ``-wal`` and ``-shm`` files the database file's own
mode, so creating the database file first with 0600 covers them too.
"""

from __future__ import annotations

import os
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """``path`` and any missing parents created; ``path`` itself made 0700."""
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, DIR_MODE)
    return path


def private_file(path: Path) -> Path:
    """An existing or new (empty) file at ``path`` made 0600, in a 0700 folder."""
    private_dir(path.parent)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, FILE_MODE)
    os.close(fd)
    os.chmod(path, FILE_MODE)
    return path
