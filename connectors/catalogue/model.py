"""What reading a catalogue yields, and the error when a whole file cannot be used."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from schemas.dates import StatedDate

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
