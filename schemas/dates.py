"""Dates as village catalogues write them, the date a catalogue says its stock was counted, and
calendar math in Jakarta time (WIB), where the groups live and their months begin.

Day first, always: ``17 Agustus 2026``, ``5 Okt 2026``, ``Senin, 5 Okt 2026``, ``03/04/2026``
(3 April), ``3-4-26``, ``2026-04-03`` (ISO, as a spreadsheet's own date cell reads), English
month names too. Scalar on purpose: a catalogue states its date once or twice, in its title rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

WIB = ZoneInfo("Asia/Jakarta")

MONTHS = {
    "januari": 1, "jan": 1, "january": 1,
    "februari": 2, "feb": 2, "pebruari": 2, "peb": 2, "february": 2,
    "maret": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mei": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "agustus": 8, "agu": 8, "agt": 8, "agus": 8, "ags": 8, "aug": 8, "august": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "oct": 10, "october": 10,
    "november": 11, "nov": 11, "nopember": 11, "nop": 11,
    "desember": 12, "des": 12, "dec": 12, "december": 12,
}
MONTH_NAMES = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
               "November", "Desember")
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
# One separator class between the parts (never two quantifiers side by side over the same
# characters), so a cell of a million spaces costs linear time, not quadratic.
_WORDS = re.compile(rf"\b(\d{{1,2}})[\s.\-]+({_MONTH})\b[\s.\-]+(\d{{4}}|\d{{2}})\b", re.I)
_NUMERIC = re.compile(r"(?<![\d/.-])(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?![\d/.-])")
_ISO = re.compile(r"(?<![\d/.-])(\d{4})-(\d{1,2})-(\d{1,2})(?![\d/.-]|-\d)")


def spoken(day: date) -> str:
    """A date as Indonesians write it: ``20 November 2026``."""
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def _make(year: int, month: int, day: int) -> date | None:
    if year < 100:
        year += 2000
    try:
        return date(year, month, day)
    except ValueError:
        return None


MAX_DATE_TEXT = 200
"""Only the start of a cell is looked at: a date beside its label is near it."""


def find_date(text: str) -> tuple[date, str] | None:
    """The first date written in ``text`` (day first) and the text that wrote it; None when there is none."""
    text = text[:MAX_DATE_TEXT]
    found = []
    for m in _WORDS.finditer(text):
        if (d := _make(int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))) is not None:
            found.append((m.start(), d, m.group(0)))
    for m in _ISO.finditer(text):
        if (d := _make(int(m.group(1)), int(m.group(2)), int(m.group(3)))) is not None:
            found.append((m.start(), d, m.group(0)))
    for m in _NUMERIC.finditer(text):
        if (d := _make(int(m.group(4)), int(m.group(3)), int(m.group(1)))) is not None:
            found.append((m.start(), d, m.group(0)))
    if not found:
        return None
    _, d, written = min(found, key=lambda f: f[0])
    return d, written


# What people write before the date their stock was counted or the list was brought up to date.
# Not a bare "tanggal": expiry dates (Tanggal Kedaluwarsa) and order dates are other things.
RECORDED_LABEL = re.compile(
    r"\b(?:stok\s+(?:per|tanggal|tgl)|per\s+(?:tanggal|tgl)|(?:tanggal|tgl\.?)\s*(?:stok|catat|pencatatan|hitung|"
    r"update|pembaruan|data|perbarui)|dicatat|dihitung|diperbarui|diperbaharui|diupdate|update|pembaruan|"
    r"data\s+per|keadaan\s+per|posisi\s+per|as\s+of|stock\s+(?:as\s+of|date|counted|on)|recorded|updated|"
    r"last\s+update)\b", re.I)


@dataclass(frozen=True)
class StatedDate:
    """A date the catalogue states for its stock, and where it says so."""

    on: date
    sheet: str
    row: int        # 1-based, as the spreadsheet shows it
    column: str     # the column's letter
    text: str       # the cell as written

    def where(self) -> str:
        return f"{self.sheet}!{self.column}{self.row}"


# ---- Jakarta time ---------------------------------------------------------------------------

_YEAR_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def as_wib(moment: datetime) -> str:
    """A moment as Jakarta wall time: ``2026-11-20 00:00 WIB``."""
    return moment.astimezone(WIB).strftime("%Y-%m-%d %H:%M WIB")


def month_of(unix: int) -> str:
    """``YYYY-MM`` of a UNIX time, in Asia/Jakarta."""
    return datetime.fromtimestamp(int(unix), WIB).strftime("%Y-%m")


def month_bounds(month: str) -> tuple[int, int]:
    """``[start, end)`` in UNIX seconds of a ``YYYY-MM`` month in Asia/Jakarta."""
    if not _YEAR_MONTH.match(month):
        raise ValueError(f"month {month!r} is not YYYY-MM")
    y, m = int(month[:4]), int(month[5:])
    lo = datetime(y, m, 1, tzinfo=WIB)
    hi = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=WIB)
    return int(lo.timestamp()), int(hi.timestamp())


def day_bounds(start: date, end: date) -> tuple[int, int]:
    """Inclusive calendar days in Asia/Jakarta as ``[start 00:00 WIB, end+1 00:00 WIB)`` UNIX seconds."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    lo = datetime.combine(start, datetime.min.time(), tzinfo=WIB)
    hi = datetime.combine(end + timedelta(days=1), datetime.min.time(), tzinfo=WIB)
    return int(lo.timestamp()), int(hi.timestamp())
