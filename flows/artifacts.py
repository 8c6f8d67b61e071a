"""The Prefect artifacts operators read on a run's page (stable keys, so the UI also keeps their history).

Sync runs: ``sync-summary`` (table, per group), ``sync-rejects`` (markdown: the first rejected
lines of each group and where its full report is), ``sync-plan`` (markdown, dry runs) and
``sync-progress`` (a progress bar while the run writes). Order runs: ``orders-summary`` /
``orders-backfill-summary`` (table, per group), ``orders-changes`` /
``orders-backfill-changes`` (table: the new and changed orders) and ``orders-reports`` /
``orders-backfill-reports`` (markdown: each sales picture rewritten, with its month's totals).

Catalogue values are written by people, so every value shown in markdown is escaped
(:func:`schemas.markdown.md`, the one helper every markdown artifact uses): a cell can't break
the table, inject a link or HTML.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from schemas.markdown import code, md

REJECT_LINES = 10      # per group, on the run page; the report has them all
ORDER_ROWS = 200       # new/changed orders listed per run (the counts are always complete)
SYNC_PROGRESS_KEY = "sync-progress"

# ---- sync -------------------------------------------------------------------------------------

def rejects_markdown(catalogues: Mapping[str, Any], limit: int = REJECT_LINES) -> str:
    """Per group: how many rows were rejected, the first ``limit`` problem lines, where the full report is.

    ``catalogues`` maps a group id to its :class:`flows.engine.intake.GroupCatalogue`, or to the
    exception that stopped its catalogue from being read.
    """
    out = ["# Baris ditolak / Rejected rows", ""]
    for gid, cat in catalogues.items():
        if isinstance(cat, BaseException):
            out += [f"## {md(gid)}", "",
                    f"**Katalog tidak bisa dibaca / The catalogue could not be read:** {md(cat, 400)}", ""]
            continue
        out += [f"## {md(gid)} · {md(cat.group.name)}", "",
                f"{cat.rejected} of {cat.rows_in} rows rejected, {cat.warnings} warnings. "
                f"Full report for the group (Indonesian + English, their own sheet with a reason column): "
                f"{code(cat.report_xlsx) if cat.report_xlsx else 'not written'}"
                + (f" and {code(cat.report_csv)}" if cat.report_csv else ""), ""]
        if not cat.reject_lines:
            continue
        out += ["| sheet | row | column | value | alasan | reason |", "|---|---:|---|---|---|---|"]
        for r in cat.first_rejects[:limit]:
            mark = "" if r.severity == "reject" else " (warning)"
            out.append(f"| {md(r.sheet, 30)} | {int(r.row)} | {md(r.column, 30)} | {md(r.value, 40)} | "
                       f"{md(r.reason_id, 120)} | {md(r.reason_en, 120)}{mark} |")
        if cat.reject_lines > limit:
            out.append(f"\n… {cat.reject_lines - limit} more lines in the report.")
        out.append("")
    return "\n".join(out)


class SyncProgress:
    """The ``sync-progress`` artifact: catalogues read (0–20 %), shops planned (20–35 %), then the
    share of planned marketplace writes done (35–100 %). Updates are at most one every
    ``every_s`` seconds, so a 10,000-listing sync does not make 400 API calls for a progress bar."""

    INTAKE, PLAN = 20.0, 35.0

    def __init__(self, every_s: float = 2.0) -> None:
        from prefect.artifacts import create_progress_artifact

        self._every = every_s
        self._lock = threading.Lock()
        self._last = 0.0
        self._shown = 0.0
        self._total = 0
        self._done = 0
        self.id = create_progress_artifact(
            0.0, key=SYNC_PROGRESS_KEY,
            description="Catalogues read, shops planned, then marketplace writes done.")

    def _set(self, pct: float, force: bool = False) -> None:
        from prefect.artifacts import update_progress_artifact

        with self._lock:
            pct = max(self._shown, min(100.0, pct))
            now = time.monotonic()
            if not force and (pct - self._shown < 1.0 or now - self._last < self._every):
                return
            self._shown, self._last = pct, now
        update_progress_artifact(self.id, pct)

    def read(self, done: int, total: int) -> None:
        self._set(self.INTAKE * done / max(total, 1), force=done == total)

    def planned(self, writes: int) -> None:
        self._total, self._done = writes, 0
        self._set(self.PLAN if writes else 100.0, force=True)

    def wrote(self, items: int) -> None:
        self._done += items
        self._set(self.PLAN + (100.0 - self.PLAN) * self._done / max(self._total, 1))

    def finish(self) -> None:
        self._set(100.0, force=True)


# ---- orders -----------------------------------------------------------------------------------

def orders_changes_table(summary: Mapping[str, Any], limit: int = ORDER_ROWS) -> tuple[list[dict], int]:
    """The new and changed orders of a pull or backfill (first ``limit``) and how many there were."""
    rows = [r for shop in summary.get("shops", {}).values() for r in shop.get("orders", [])]
    total = sum(shop.get("new", 0) + shop.get("changed", 0) for shop in summary.get("shops", {}).values())
    return rows[:limit], total


def reports_markdown(reports: list[Mapping[str, Any]]) -> str:
    """The sales pictures a run rewrote (rows of :func:`flows.engine.order_sheets.sales_reports`):
    group, month, orders, units, Rupiah, where the picture is."""
    out = ["# Gambar penjualan / Sales pictures", ""]
    if not reports:
        return "\n".join(out + ["Tidak ada gambar yang ditulis ulang / No picture rewritten in this run."])
    out += ["Pesanan batal tidak dihitung / Cancelled orders excluded.", "",
            "| kelompok / group | bulan / month | pesanan / orders | unit / units | Rupiah | gambar / picture |",
            "|---|---|---:|---:|---:|---|"]
    for r in reports:
        amount = "Rp " + f"{int(r['rupiah']):,}".replace(",", ".")
        out.append(f"| {md(r['name'], 60)} ({md(r['group'], 40)}) | {md(r['month'], 10)} | {int(r['orders'])} | "
                   f"{int(r['units'])} | {amount} | {code(r['picture'])} |")
    return "\n".join(out)


# ---- a run that needs an operator -------------------------------------------------------------

def needs_operator_markdown(lines: list[str], problem_details: list[dict] | None = None) -> str:
    """The ``needs-operator`` artifact, written on every run so the latest is never stale: "nothing
    needs you" after a good run; else the first cause's line (with its action) and "+k more", then
    every cause, and every group or shop concerned with its own detail."""
    if not lines:
        return "## Nothing needs you / Tidak ada yang perlu ditangani\n\nThis run needed no operator."
    more = f" (+{len(lines) - 1} more)" if len(lines) > 1 else ""
    out = [f"## Needs an operator / Perlu operator{more}", "", f"**{md(lines[0], limit=400)}**", ""]
    out += [f"- {md(line, limit=400)}" for line in lines]
    if problem_details:
        out += ["", "| cause | group or shop | detail |", "|---|---|---|"]
        out += [f"| {md(d.get('cause', ''))} | {md(d.get('subject', ''))} | {md(d.get('detail', ''), limit=200)} |"
                for d in problem_details]
    out += ["", "What each cause means and what to do: the README's operating guide, section *When a run fails*."]
    return "\n".join(out)
