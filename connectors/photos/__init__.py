"""Photos as groups have them, found and prepared for upload (no marketplace, no state store, no Prefect).

A photo cell holds file names or paths (``carica.jpg``, ``foto/carica.jpg``; several separated by
``,`` ``;`` or line breaks: :mod:`schemas.pictures` splits the cells), Google Drive share links (:func:`is_drive_link`,
:func:`fetch_drive`) or ``https://`` image-host links (passed through as they are, not by this
package). :class:`PhotoFinder` finds a file by the rules of issue 8 in the catalogue's folder and
the group's ``photos`` folder or ZIP; :func:`prepare` makes what is uploaded: upright, no metadata
(no GPS), JPEG, longest side ≤ 2,048 px, ≤ 5 MB, at least 300×300. Every problem is a
:class:`PhotoError` with its reason in Indonesian and English, for the row's reject line.

An upload is remembered per (channel, shop, :attr:`SourcePhoto.sha256`, :data:`PROCESSING_VERSION`).
"""

from .drive import drive_session, fetch_drive
from .finder import PhotoFinder
from .links import is_drive_link
from .model import MAX_SOURCE_BYTES, PROCESSING_VERSION, PhotoError, PreparedPhoto, SourcePhoto
from .process import FORMATS, prepare

__all__ = ["FORMATS", "MAX_SOURCE_BYTES", "PROCESSING_VERSION", "PhotoError", "PhotoFinder", "PreparedPhoto",
           "SourcePhoto", "drive_session", "fetch_drive", "is_drive_link", "prepare"]
