"""Where a catalogue's bytes come from (a path, an http(s) CSV export) and which reader takes them.

The file's content decides, not its name: a Google Sheet exported as XLSX but saved as ``.csv``
is still a workbook, and a web page saved as ``.xls`` gets a message saying so.
"""

from __future__ import annotations

import codecs
import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from schemas.errors import CatalogueError

from .delimited import no_header, read_delimited, utf16_without_bom
from .download import download
from .model import BIG_FILE_ROWS, STRING, RawCatalogue, one_line_errors
from .table import SheetData, label_sheet, ordered_columns, stated_date
from .workbook import OLE_MAGIC, read_workbook

log = logging.getLogger(__name__)

ZIP_MAGIC = b"PK\x03\x04"
MAX_FILE_BYTES = 256_000_000
"""Larger files are refused with a message: reading one takes ~15 bytes of memory per byte."""
URL_SHEET = "CSV"
"""Sheet name given to rows of a CSV fetched from a URL (a local CSV takes its file's stem)."""

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_NON_SPACE = re.compile(rb"\S")
_MARKUP = ("<!doctype", "<html", "<?xml", "<head", "<body", "<table", "<meta", "<!--")
# Transient failures of a published sheet are retried; 4xx are not.
RETRY = Retry(total=3, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504),
              allowed_methods=frozenset({"GET"}), raise_on_status=False)


def public_name(url: str) -> str:
    """A URL fit for logs and messages: no query string, fragment or user info."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _session() -> requests.Session:
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=RETRY)
    s.mount("https://", adapter)
    s.mount("http://", adapter)
    return s


def fetch(url: str, *, session: requests.Session | None = None, timeout: float = 30,
          allow_private: bool = False) -> bytes:
    """Download a catalogue export (:mod:`.download`: https only, public addresses unless
    ``allow_private``, every redirect hop checked, one deadline); any failure is a
    :class:`CatalogueError` naming the URL without its query."""
    name = public_name(url)
    own = session is None
    s = session or _session()
    try:
        return download(s, url, name, timeout=timeout, max_bytes=MAX_FILE_BYTES, too_big=too_big,
                        allow_private=allow_private)
    except requests.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else "?"
        raise CatalogueError(name, f"Gagal mengunduh katalog (HTTP {code}); periksa alamatnya",
                             f"Download failed (HTTP {code}); check the URL") from None
    except requests.RequestException as exc:
        # The exception text holds the full URL; only its kind is reported.
        raise CatalogueError(name, "Tidak bisa mengunduh katalog dari alamat ini",
                             f"Could not download the catalogue ({type(exc).__name__})") from None
    finally:
        if own:
            s.close()


def _looks_like_markup(data: bytes) -> bool:
    head = data[:1024].lstrip(codecs.BOM_UTF8).lstrip().lower()
    return head.startswith(tuple(m.encode() for m in _MARKUP))


def _controls(head: bytes) -> tuple[int, int]:
    """NUL bytes, and other control bytes text never holds (tab, LF and CR excepted), in ``head``."""
    return head.count(0), sum(head.count(bytes([b])) for b in range(1, 32) if b not in (9, 10, 13))


def _looks_binary(data: bytes) -> bool:
    head = data[:8192]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or utf16_without_bom(data):
        return False
    nuls, others = _controls(head)
    return nuls > 0 or nuls + others > 0.05 * len(head)


def _stray_nul_line(data: bytes) -> int | None:
    """Text with a few NUL bytes (a damaged export), not a binary file: the line of the first."""
    head = data[:8192]
    nuls, others = _controls(head)
    if 0 < nuls <= 0.01 * len(head) and others <= 0.01 * len(head):
        return data[: data.index(0)].count(b"\n") + 1
    return None


def too_big(file: str, size: int) -> CatalogueError:
    return CatalogueError(
        file, f"Berkas terlalu besar ({size / 1e6:.0f} MB, paling besar {MAX_FILE_BYTES / 1e6:.0f} MB); bagi katalog "
        "menjadi beberapa berkas",
        f"The file is too large ({size / 1e6:.0f} MB, at most {MAX_FILE_BYTES / 1e6:.0f} MB); split the catalogue")


def _assemble(file: str, sheets: list[SheetData], encoding: str | None = None,
              delimiter: str | None = None) -> RawCatalogue:
    if not sheets:
        raise no_header(file)
    total = sum(len(s.top) + s.table.num_rows for s in sheets)
    keep_grids = total <= BIG_FILE_ROWS
    labelled = {s.name: label_sheet(s, file, keep_grids) for s in sheets}
    names = ordered_columns({c for lab in labelled.values() for c in lab.frame.columns[2:]})
    frames = []
    for lab in labelled.values():
        frame = lab.frame
        missing = [n for n in names if n not in frame.columns]
        if missing:
            frame = frame.assign(**{n: pd.Series(pd.NA, index=frame.index, dtype=STRING) for n in missing})
        frames.append(frame[["sheet", "row", *names]])
    frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    log.info("%s: %d row(s) read from %s", file, len(frame),
             ", ".join(f"sheet {s.name} (header on row {s.header_row})" for s in sheets))
    # Sheets that state different dates: the earliest, so no sale since then is missed.
    stated = min((d for s in sheets if (d := stated_date(s)) is not None), key=lambda d: d.on, default=None)
    return RawCatalogue(
        file=file,
        frame=frame,
        headers={n: lab.headers for n, lab in labelled.items()},
        header_rows={s.name: s.header_row for s in sheets},
        units={n: lab.units for n, lab in labelled.items()},
        unknown_columns={n: lab.unknown for n, lab in labelled.items()},
        grids={n: lab.grid for n, lab in labelled.items()} if keep_grids else None,
        encoding=encoding,
        delimiter=delimiter,
        recorded_on=stated,
    )


@one_line_errors
def read_bytes(data: bytes, file: str, *, csv_sheet: str = URL_SHEET, from_url: bool = False) -> RawCatalogue:
    """Read a catalogue from its bytes; ``file`` names it in messages, ``csv_sheet`` names a CSV's one sheet."""
    if not _NON_SPACE.search(data[3:] if data.startswith(codecs.BOM_UTF8) else data):
        raise CatalogueError(file, "Berkas kosong", "The file is empty")
    if data.startswith((ZIP_MAGIC, OLE_MAGIC)):
        return _assemble(file, read_workbook(data, file))
    if _looks_like_markup(data):
        if from_url:
            raise CatalogueError(
                file,
                "Alamat ini memberi halaman web, bukan CSV: terbitkan Google Sheet ke web sebagai CSV "
                "(File > Bagikan > Publikasikan ke web) dan pakai tautan CSV-nya",
                "The URL returned a web page, not CSV: publish the Google Sheet to the web as CSV "
                "(File > Share > Publish to web) and use its CSV link")
        raise CatalogueError(
            file, "Berkas ini halaman web (HTML/XML), bukan lembar kerja; buka di Excel lalu simpan sebagai .xlsx",
            "This is a web page (HTML/XML), not a spreadsheet; open it in Excel and save it as .xlsx")
    if len(data) > MAX_FILE_BYTES:
        raise too_big(file, len(data))
    if _looks_binary(data):
        if (line := _stray_nul_line(data)) is not None:
            raise CatalogueError(
                file, f"Berkas rusak: ada karakter NUL di baris {line}; buka di Excel lalu simpan ulang sebagai CSV",
                f"The file is damaged: a NUL byte on line {line}; open it in Excel and save it again as CSV")
        raise CatalogueError(file, "Berkas ini bukan CSV maupun Excel",
                             "This file is neither a CSV nor an Excel workbook")
    sheet, encoding, delimiter = read_delimited(data, file, csv_sheet)
    return _assemble(file, [sheet], encoding, delimiter)


def read_catalogue(source: str | os.PathLike, *, session: requests.Session | None = None,
                   timeout: float = 30, allow_private: bool = False) -> RawCatalogue:
    """Read a catalogue (CSV, XLSX/XLSM/XLS/ODS path, or an https:// CSV export URL) into labelled rows.

    Raises :class:`CatalogueError` when the file as a whole cannot be used. ``session``,
    ``timeout`` and ``allow_private`` (private, loopback and link-local addresses, and plain
    http:// to loopback) apply to URLs only (by default a session retrying 429/5xx is used).
    """
    if isinstance(source, str) and _URL.match(source):
        name = public_name(source)
        if urlsplit(source).scheme.lower() not in ("http", "https"):
            raise CatalogueError(name, "Alamat katalog harus diawali https://",
                                 "A catalogue URL must start with https://")
        data = fetch(source, session=session, timeout=timeout, allow_private=allow_private)
        return read_bytes(data, name, csv_sheet=URL_SHEET, from_url=True)
    path = Path(source)
    try:
        if path.is_file() and (size := path.stat().st_size) > MAX_FILE_BYTES:
            raise too_big(path.name, size)  # before reading it into memory
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogueError(path.name, "Berkas tidak ditemukan", "File not found") from None
    except IsADirectoryError:
        raise CatalogueError(path.name, "Ini folder, bukan berkas", "This is a folder, not a file") from None
    except OSError as exc:
        raise CatalogueError(path.name, "Berkas tidak bisa dibuka",
                             f"The file cannot be opened ({type(exc).__name__})") from None
    return read_bytes(data, path.name, csv_sheet=path.stem or path.name)
