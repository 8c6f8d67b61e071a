"""A photo shared as a Google Drive link, downloaded.

A share link (``…/file/d/<id>/view?usp=sharing``) is a web page; the file itself is
``https://drive.google.com/uc?export=download&id=<id>``. A file that is not shared with "anyone
with the link" answers with a sign-in page (HTML, status 200), a deleted one with 404: both are the
same reject. The download is bounded in size and in time, so a hostile link cannot exhaust memory
or hold a worker; 5xx answers and connection failures are retried (urllib3 ``Retry``), others not.
"""

from __future__ import annotations

import codecs
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .links import DRIVE_ID
from .model import MAX_SOURCE_BYTES, PhotoError, SourcePhoto, too_big_file

DOWNLOAD_URL = "https://drive.google.com/uc"
MAX_DOWNLOAD_BYTES = MAX_SOURCE_BYTES
RETRY = Retry(total=3, connect=3, read=2, status=3, backoff_factor=0.5,
              status_forcelist=(500, 502, 503, 504), allowed_methods=frozenset({"GET"}), raise_on_status=False)
_MARKUP = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<!--", b"<meta", b"<script")


def drive_session() -> requests.Session:
    """A session retrying 5xx answers and connection failures; share one across many downloads."""
    s = requests.Session()
    s.mount("https://", HTTPAdapter(max_retries=RETRY))
    return s


def not_shared(ref: str, *, transient: bool = False) -> PhotoError:
    return PhotoError(
        f"Tautan Google Drive tidak bisa dibuka (belum dibagikan?): {ref} — di Google Drive pilih Bagikan > "
        "Akses umum > Siapa saja yang memiliki link",
        f"The Google Drive link cannot be opened (not shared?): {ref} — in Google Drive choose Share > "
        "General access > Anyone with the link", transient=transient)


def _unreachable(ref: str, what: str) -> PhotoError:
    return PhotoError(f"Google Drive tidak bisa dihubungi untuk {ref}; akan dicoba lagi",
                      f"Google Drive could not be reached for {ref} ({what}); will be tried again", transient=True)


def _is_markup(data: bytes) -> bool:
    return data[:512].lstrip(codecs.BOM_UTF8).lstrip().lower().startswith(_MARKUP)


def _body(resp: requests.Response, ref: str, deadline: float) -> bytes:
    declared = resp.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_DOWNLOAD_BYTES:
        raise too_big_file(ref, int(declared))
    data = bytearray()
    for chunk in resp.iter_content(1 << 16):
        data += chunk
        if len(data) > MAX_DOWNLOAD_BYTES:
            raise too_big_file(ref, len(data))
        if time.monotonic() > deadline:
            raise _unreachable(ref, "download too slow")
    return bytes(data)


def fetch_drive(file_id: str, *, session: requests.Session | None = None, timeout: float = 30,
                ref: str | None = None) -> SourcePhoto:
    """Download a photo shared on Google Drive (``file_id`` as :func:`is_drive_link` gives it).

    ``ref`` is the link as written in the cell (default: the file's share link); ``session``
    defaults to a new :func:`drive_session` (pass one to reuse its connections); ``timeout``
    applies to each connect and read, and five times it to the whole download. Raises
    :class:`PhotoError`: not shared, deleted or any other non-200 or HTML answer; too large; the
    network (``transient``)."""
    if not DRIVE_ID.fullmatch(file_id):
        raise ValueError(f"not a Google Drive file id: {file_id!r}")
    ref = ref or f"https://drive.google.com/file/d/{file_id}/view"
    own = session is None
    s = session or drive_session()
    try:
        with s.get(DOWNLOAD_URL, params={"export": "download", "id": file_id}, timeout=timeout,
                   stream=True) as resp:
            if resp.status_code != 200:
                raise not_shared(ref, transient=resp.status_code >= 500 or resp.status_code == 429)
            if "html" in resp.headers.get("Content-Type", "").lower():
                raise not_shared(ref)
            data = _body(resp, ref, time.monotonic() + 5 * timeout)
    except requests.RequestException as exc:
        # The exception text may hold the full URL; only its kind is reported.
        raise _unreachable(ref, type(exc).__name__) from None
    finally:
        if own:
            s.close()
    if not data or _is_markup(data):
        raise not_shared(ref)
    return SourcePhoto.of(ref, f"Google Drive {file_id}", data)
