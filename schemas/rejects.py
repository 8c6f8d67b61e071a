"""Reject lines and what a catalogue became.

:class:`Problems` collects the normaliser's reject and warning lines a whole column at a time;
:class:`IntakeResult` holds a catalogue's listings frame and its reject lines, with the counts
and fingerprint the flows report. A row with several problems has several lines and counts
once as rejected; a ``warning`` line is a note on a row that was still listed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from schemas import messages as msg
from schemas.listing import Reject
from schemas.text import to_numpy

REJECT_COLUMNS = ["group_id", "file", "sheet", "row", "column", "value", "reason_id", "reason_en", "severity"]


class Problems:
    """Collects reject/warning lines, whole columns at a time."""

    def __init__(self, frame: pd.DataFrame, headers: dict[str, dict[str, str]]):
        self.sheet = frame["sheet"].astype(object).to_numpy()
        self.row = frame["row"].to_numpy()
        self.headers = headers
        self.sheets = list(pd.unique(self.sheet))
        self.parts: list[pd.DataFrame] = []

    def header(self, column: str, idx: np.ndarray) -> np.ndarray:
        """The header of ``column`` as each row's sheet wrote it (else its label), for rows ``idx``."""
        base = column.split("_")[0] if column.startswith("photo_") else column
        label = msg.LABELS.get(base, column)
        by_sheet = {s: self.headers.get(s, {}).get(column, label) for s in self.sheets}
        return pd.Series(self.sheet[idx]).map(by_sheet).to_numpy(dtype=object)

    def add(self, rows: np.ndarray, column: str, reason: tuple, raw: pa.Array | None,
            severity: str = "reject", order: int = 0) -> None:
        """Report ``rows`` (a boolean mask or row positions); ``reason`` is one (id, en) pair
        or a pair of per-row sequences."""
        idx = np.flatnonzero(rows) if rows.dtype == bool else np.asarray(rows, dtype=np.int64)
        if len(idx) == 0:
            return
        value = to_numpy(pc.fill_null(raw.take(pa.array(idx)), "")) if raw is not None else ""
        rid, ren = reason
        self.parts.append(pd.DataFrame({
            "_idx": idx, "_order": order, "sheet": self.sheet[idx], "row": self.row[idx],
            "column": self.header(column, idx), "value": value,
            "reason_id": rid, "reason_en": ren, "severity": severity,
        }))

    def frame(self, group_id: str, file: str) -> pd.DataFrame:
        """Every line, by row position then ``order``: :data:`REJECT_COLUMNS` plus ``_idx``, the row position."""
        if not self.parts:
            return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("row", "_idx") else "str")
                                 for c in REJECT_COLUMNS + ["_idx"]})
        out = pd.concat(self.parts, ignore_index=True).sort_values(["_idx", "_order"], kind="stable")
        out.insert(0, "file", file)
        out.insert(0, "group_id", group_id)
        return out[REJECT_COLUMNS + ["_idx"]].reset_index(drop=True)


@dataclass
class IntakeResult:
    """What one catalogue became: listings (a frame, one row each) and reject lines."""

    group_id: str
    file: str
    rows_in: int
    listings: pd.DataFrame
    rejects: pd.DataFrame
    headers: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def rejected_rows(self) -> int:
        r = self.rejects[self.rejects["severity"] == "reject"]
        return int(r[["sheet", "row"]].drop_duplicates().shape[0])

    @property
    def warnings(self) -> int:
        return int((self.rejects["severity"] == "warning").sum())

    def summary_line(self) -> str:
        return f"{self.rows_in} rows: {len(self.listings)} listings, {self.rejected_rows} rejected"

    def content_hash(self) -> str:
        """A fingerprint of what the catalogue became (listings and rejects): equal means nothing to redo."""
        h = hashlib.sha256()
        content = self.listings.drop(columns=["pictures", "active", "category_text"], errors="ignore")
        for frame in (content, self.rejects):
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        h.update("\x1f".join("\n".join(p) for p in self.listings["pictures"]).encode())
        # Rows kept inactive, only when there are any: a catalogue without them hashes as it always
        # did (a stored snapshot's fingerprint must not change under a catalogue nobody changed).
        if "active" in self.listings and not self.listings["active"].all():
            h.update(b"inactive:" + np.flatnonzero(~self.listings["active"].to_numpy(bool)).tobytes())
        return h.hexdigest()

    def reject_models(self) -> list[Reject]:
        return [Reject(**r) for r in self.rejects.to_dict("records")]
