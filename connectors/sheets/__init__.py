"""Spreadsheets written back to people: order sheets, rejects reports and the blank template.

Groups open these files in Excel. Text Excel could run as a formula (CWE-1236: ``=``, ``+``,
``-``, ``@``, tab, CR first) is made inert. In XLSX every text is a string cell, and a risky one
also carries Excel's "quote prefix" style (what typing a leading ``'`` does): it shows exactly
as written (a phone ``+62…`` reads ``+62…``) and stays text when someone edits the cell. A CSV
has no types or styles, so there :func:`safe_frame` writes the apostrophe itself. Numbers stay
numbers. Headers people read are Indonesian with English beside them.

- :mod:`.safe` — neutralising, the generic XLSX/CSV writers, atomic file replacement, shared styles;
- :mod:`.rejects` — the rejects report (the group's sheets annotated, a summary, a problem list);
- :mod:`.template` — the blank catalogue template;
- :mod:`.orders` — an order sheet's rows (one line per order item).
"""

from .orders import SHEET_COLUMNS, SHEET_NAME, order_lines, order_sheet
from .rejects import (
    NO_REJECTS,
    PROBLEM_HEADERS,
    PROBLEMS_SHEET,
    REASON_HEADER,
    SUMMARY_SHEET,
    rejects_frame,
    write_rejects_report,
)
from .safe import FORMULA_PREFIXES, replace_atomically, safe_frame, safe_text, write_csv, write_xlsx
from .template import CATEGORY_SHEET, INSTRUCTIONS_SHEET, PRODUCT_SHEET, TEMPLATE_HEADERS, write_template

__all__ = [
    "CATEGORY_SHEET", "FORMULA_PREFIXES", "INSTRUCTIONS_SHEET", "NO_REJECTS", "PROBLEMS_SHEET", "PROBLEM_HEADERS",
    "PRODUCT_SHEET", "REASON_HEADER", "SHEET_COLUMNS", "SHEET_NAME", "SUMMARY_SHEET", "TEMPLATE_HEADERS",
    "order_lines", "order_sheet", "rejects_frame", "replace_atomically", "safe_frame", "safe_text", "write_csv",
    "write_rejects_report", "write_template", "write_xlsx",
]
