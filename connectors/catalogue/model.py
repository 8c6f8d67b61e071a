"""What reading a catalogue yields, and the error when a whole file cannot be used."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import ParamSpec, TypeVar

import pandas as pd

from schemas.dates import StatedDate
from schemas.errors import CatalogueError

log = logging.getLogger(__name__)
_P = ParamSpec("_P")
_R = TypeVar("_R")

STRING = pd.StringDtype("pyarrow")
"""Every catalogue value is text in this dtype (pyarrow-backed, missing = ``pd.NA``)."""

BIG_FILE_ROWS = 200_000
"""Above this many rows no ``grids`` are kept: the annotated copy is for files people edit by hand."""


@dataclass
class RawCatalogue:
    """A catalogue as written: one labelled row per data row, every value a string.

    ``frame`` has ``sheet``, ``row`` (the row number the spreadsheet shows) and one column per
    recognised field (``name``, ``price``, … ``photo_1`` … ``photo_N``). Nothing is parsed yet.
    """

    file: str
    frame: pd.DataFrame
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    header_rows: dict[str, int] = field(default_factory=dict)
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)
    grids: dict[str, pd.DataFrame] | None = None
    encoding: str | None = None
    delimiter: str | None = None
    recorded_on: StatedDate | None = None
    """The date the catalogue's title rows say its stock was counted (``diperbarui 20 November 2026``)."""


def unreadable(file: str, exc: BaseException) -> CatalogueError:
    """The error for a file a reader failed on in a way no check foresaw."""
    return CatalogueError(
        file, "Berkas ini tidak bisa dibaca (galat tak terduga saat membaca); buka lalu simpan ulang sebagai "
        ".xlsx, lalu kirim lagi",
        f"The file could not be read (unexpected {type(exc).__name__} while reading it); open it, save it "
        "again as .xlsx and resend it")


def one_line_errors(reader: Callable[_P, _R]) -> Callable[_P, _R]:
    """``reader(data, file, …)`` raising only :class:`CatalogueError`: whatever else goes wrong
    inside it (a library's own error, a panic in calamine's Rust code, a bug) becomes one naming
    the file, and its traceback goes to the log for whoever maintains the readers."""

    @functools.wraps(reader)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return reader(*args, **kwargs)
        except CatalogueError:
            raise
        except BaseException as exc:
            # pyo3's PanicException is not an Exception; KeyboardInterrupt and SystemExit pass.
            if not (isinstance(exc, Exception) or type(exc).__name__ == "PanicException"):
                raise
            file = str(kwargs.get("file", args[1] if len(args) > 1 else "?"))
            log.error("%s: %s failed unexpectedly", file, reader.__qualname__, exc_info=exc)
            raise unreadable(file, exc) from None

    return guarded
