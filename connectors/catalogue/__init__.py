"""Catalogue sources: read a group's CSV/XLSX (path or https:// CSV export) into labelled rows.

``read_catalogue`` finds the header row by its content, names the columns (``name``, ``price``,
``photo_1`` …), keeps every value as written (as text) with the row number the spreadsheet
shows, and leaves parsing to the normaliser. A file that cannot be used at all raises
``CatalogueError`` with a message in Indonesian and English.
"""

from schemas.errors import CatalogueError

from .headers import ERROR_COLUMN, SYNONYMS, UNUSED, HeaderMatch, match_header
from .model import RawCatalogue
from .sources import public_name, read_catalogue

__all__ = ["ERROR_COLUMN", "SYNONYMS", "UNUSED", "CatalogueError", "HeaderMatch", "RawCatalogue", "match_header",
           "public_name", "read_catalogue"]
