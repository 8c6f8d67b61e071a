"""The marketplace's own bulk-upload workbook ("Tambah Produk Sekaligus"): which sheets are not products.

Groups trained by the marketplace fill its template. Its product sheet (``ISI Template Impor
Produk``, in older copies ``products``) is found by its headers like any other sheet: the header
on row 2 under group titles, the marketplace's instructions on row 3 (skipped as a template's
instruction row), products from row 4. The same workbook carries lists — ``Daftar Kategori``,
``Daftar Etalase``, ``Daftar Kurir Pengiriman`` — and a filled example sheet, whose rows are the
marketplace's examples, not the group's products: none of them is ever read for products.
"""

from __future__ import annotations

import re
import unicodedata

from .table import SheetData

LIST_SHEETS = ("Daftar Kategori", "Daftar Etalase", "Daftar Kurir Pengiriman", "Daftar Kurir")
"""The marketplace workbook's list sheets, by name (case, spacing and punctuation ignored)."""
EXAMPLE_WORDS = frozenset({"contoh", "example", "sample", "sampel"})
"""A sheet whose name has one of these words is an example sheet (``Contoh Pengisian``)."""


def _words(name: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", name.casefold())
    return re.sub(r"[^0-9a-z]+", " ", "".join(c for c in folded if not unicodedata.combining(c))).split()


_LISTS = frozenset("".join(_words(n)) for n in LIST_SHEETS)


def is_list_sheet(name: str) -> bool:
    """``Daftar Kategori`` and the other lists of the marketplace's workbook."""
    return "".join(_words(name)) in _LISTS


def is_example_sheet(name: str) -> bool:
    return not EXAMPLE_WORDS.isdisjoint(_words(name))


def without_examples(sheets: list[SheetData]) -> tuple[list[SheetData], list[str]]:
    """The sheets to read, and the example sheets left out.

    An example sheet is left out whenever another sheet has a product header (the marketplace's
    workbook always has its product sheet); a workbook whose only product sheet is named
    ``Contoh …`` is the group's own and is read.
    """
    examples = [s.name for s in sheets if is_example_sheet(s.name)]
    if not examples or len(examples) == len(sheets):
        return sheets, []
    return [s for s in sheets if s.name not in examples], examples
