"""Catalogue intake: read a group's catalogue, normalise it, report its rejects.

``intake_catalogue`` is the plain function (used by ``lapak check`` and the benchmark);
``intake_group`` is the Prefect task the sync flow calls once per group, and
``intake_flow`` runs it for every configured group.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.cache_policies import NO_CACHE

from connectors.catalogue import CatalogueError, RawCatalogue, read_catalogue
from flows.params import WIB
from schemas.catalogue import IntakeResult, normalise
from schemas.categories import DEFAULT_CATEGORIES, Category, CategoryIndex
from connectors.config import load_config
from schemas.config import GroupConfig, LapakConfig
from schemas.dates import spoken
from schemas.messages import rupiah

log = logging.getLogger("lapak.intake")

CATEGORY_CACHE_SECONDS = 24 * 3600


@dataclass
class GroupIntake:
    """One group's intake: the result and where its rejects report was written."""

    group: GroupConfig
    result: IntakeResult
    raw: RawCatalogue
    report_xlsx: Path | None = None
    report_csv: Path | None = None

    def fingerprint(self) -> str:
        """What the catalogue became and the date it states for its stock: equal means nothing to redo."""
        digest = self.result.content_hash()
        if self.raw.recorded_on is None:
            return digest
        return hashlib.sha256(f"{digest}|{self.raw.recorded_on.on.isoformat()}".encode()).hexdigest()

    def summary(self) -> dict:
        r = self.result
        return {
            "group": self.group.id, "name": self.group.name, "file": r.file, "rows_in": r.rows_in,
            "listings": len(r.listings), "rejected": r.rejected_rows, "warnings": r.warnings,
            "report": str(self.report_xlsx) if self.report_xlsx else "",
        }


def load_categories(config: LapakConfig | None, *, offline_ok: bool = False, client=None) -> CategoryIndex:
    """The category tree: the configured marketplace's (cached for a day), else the default list.

    When the marketplace can't be reached: the cached list, else (``offline_ok``, for
    ``lapak check``) the default list with a warning, else the error.
    """
    if config is None:
        return CategoryIndex(DEFAULT_CATEGORIES)
    cache = config.output_dir / ".cache" / "categories.json"
    cached = None
    if cache.exists():
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if time.time() - cached.get("fetched_at", 0) < CATEGORY_CACHE_SECONDS:
            return CategoryIndex([Category(**c) for c in cached["categories"]], config.categories)
    from connectors.marketplace import MarketplaceClient

    try:
        if client is not None:
            fetched = client.categories()
        else:
            with MarketplaceClient.from_config(config.marketplace) as own:
                fetched = own.categories()
    except Exception as err:
        if cached is not None:
            log.warning("categories: using the cached list, the marketplace did not answer (%s)", err)
            return CategoryIndex([Category(**c) for c in cached["categories"]], config.categories)
        if not offline_ok:
            raise
        print(f"warning: the marketplace's categories could not be read ({type(err).__name__}); "
              "checking against the default category list", file=sys.stderr)
        return CategoryIndex(DEFAULT_CATEGORIES, config.categories)
    categories = [Category.model_validate(c, from_attributes=True) for c in fetched]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"fetched_at": time.time(),
                                 "categories": [c.model_dump() for c in categories]}), encoding="utf-8")
    return CategoryIndex(categories, config.categories)


def intake_catalogue(source: str | Path, group_id: str, categories: CategoryIndex) -> tuple[RawCatalogue, IntakeResult]:
    """Read and normalise one catalogue file or URL. Raises CatalogueError when the file can't be used."""
    raw = read_catalogue(source)
    result = normalise(raw.frame, group_id=group_id, file=raw.file, categories=categories,
                       headers=raw.headers, units=raw.units)
    if raw.recorded_on is not None:
        _check_stated_date(raw, result)
    return raw, result


def saved_at(source: str | Path) -> datetime | None:
    """When a local catalogue file was last saved; None for a URL (or a file that is gone)."""
    if isinstance(source, str) and "://" in source:
        return None
    try:
        return datetime.fromtimestamp(Path(source).stat().st_mtime, timezone.utc)
    except OSError:
        return None


def recorded_at(raw: RawCatalogue, saved: datetime | None) -> tuple[datetime, str]:
    """When the catalogue's stock was counted, and how that is known (for summaries and logs).

    The date the catalogue states, from the start of that day in WIB (sales later that day are
    counted as after it: stock is never overstated); else the file's last save; else now (a URL).
    """
    if raw.recorded_on is not None:
        day = datetime.combine(raw.recorded_on.on, datetime.min.time(), WIB)
        return day.astimezone(timezone.utc), f"stated in {raw.recorded_on.where()}"
    if saved is not None:
        return saved, "file saved"
    return datetime.now(timezone.utc), "read now"


def stock_as_of_text(raw: RawCatalogue, *, url: bool = False) -> str:
    """For people: from when the catalogue's stock counts (Indonesian, English beside it)."""
    stated = raw.recorded_on
    if stated is not None:
        return f"{spoken(stated.on)}, pukul 00.00 WIB (tertulis di / stated in {stated.where()})"
    when_id, when_en = (("saat isi lembar ini pertama kali terbaca", "when this content was first read") if url
                        else ("waktu berkas terakhir disimpan", "when the file was last saved"))
    return (f"{when_id} (atau tulis tanggalnya di atas tabel, misalnya \"Stok per 20 November 2026\") / "
            f"{when_en} (or write the date above the table)")


def _check_stated_date(raw: RawCatalogue, result: IntakeResult) -> None:
    """A stated date still to come cannot be when stock was counted: not used, and a warning says so."""
    stated = raw.recorded_on
    if stated.on <= datetime.now(WIB).date():
        return
    raw.recorded_on = None
    said = spoken(stated.on)
    reason = (f"Tanggal stok {said} belum tiba, jadi tidak dipakai (dipakai waktu berkas disimpan); perbaiki tanggalnya",
              f"The stock date {said} has not come yet, so it is not used (the file's save time is); fix the date")
    warning = pd.DataFrame([dict(
        group_id=result.group_id, file=result.file, sheet=stated.sheet, row=stated.row, column=stated.column,
        value=stated.text, reason_id=reason[0], reason_en=reason[1], severity="warning",
    )]).astype(result.rejects.dtypes.to_dict())
    result.rejects = pd.concat([result.rejects, warning], ignore_index=True)


def write_report(out_dir: Path, intake: GroupIntake) -> GroupIntake:
    """Write ``rejects/<group>.xlsx`` and ``.csv`` (also when nothing was rejected).

    Skipped when the catalogue came out exactly as when the report was last written (a
    fingerprint is kept beside it): a scheduled sync does not rewrite 20 unchanged reports."""
    from connectors.sheets import write_rejects_report

    folder = out_dir / "rejects"
    xlsx, csv, mark = (folder / f"{intake.group.id}{ext}" for ext in (".xlsx", ".csv", ".fingerprint"))
    fingerprint = intake.fingerprint()
    if xlsx.exists() and csv.exists() and mark.exists() and mark.read_text() == fingerprint:
        intake.report_xlsx, intake.report_csv = xlsx, csv
        return intake
    intake.report_xlsx, intake.report_csv = write_rejects_report(
        out_dir, intake.group.id, intake.result.rejects, intake.raw.grids, intake.raw.header_rows,
        stock_as_of=stock_as_of_text(intake.raw, url=intake.group.catalogue_is_url))
    mark.write_text(fingerprint)
    return intake


def _group_for_file(path: Path, config: LapakConfig | None) -> GroupConfig:
    """The configured group whose catalogue is this file, else an ad-hoc one named after the file."""
    if config is not None:
        for g in config.groups:
            if not g.catalogue_is_url and config.path(g.catalogue).resolve() == path.resolve():
                return g
    import re

    gid = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-")[:40] or "catalogue"
    return GroupConfig(id=gid, name=path.stem, shop_id=0, catalogue=str(path))


# ---- Prefect -------------------------------------------------------------------------------

@task(name="intake-group", task_run_name="intake · {group.id}", cache_policy=NO_CACHE,
      description="Read, validate and normalise one group's catalogue; write its rejects report.")
def intake_group(group: GroupConfig, config: LapakConfig, categories: CategoryIndex) -> GroupIntake:
    """Read, normalise and report one group's catalogue (raises CatalogueError when unreadable)."""
    source = group.catalogue if group.catalogue_is_url else config.path(group.catalogue)
    raw, result = intake_catalogue(source, group.id, categories)
    intake = write_report(config.output_dir, GroupIntake(group=group, result=result, raw=raw))
    get_run_logger().info("%s: %s (rejects report: %s)", group.id, result.summary_line(), intake.report_xlsx)
    return intake


@flow(name="intake", description="Catalogue intake for every configured group; writes nothing to the marketplace.")
def intake_flow(config_path: str, groups: list[str] | None = None) -> list[dict]:
    """Run each group's intake; a group whose file can't be read is reported and the others go on."""
    config = load_config(config_path)
    categories = load_categories(config)
    chosen = [g for g in config.groups if not groups or g.id in groups]
    futures = {g.id: intake_group.submit(g, config, categories) for g in chosen}
    rows = []
    for g in chosen:
        try:
            rows.append(futures[g.id].result().summary())
        except Exception as err:  # one group's failure never stops the others
            rows.append({"group": g.id, "name": g.name, "file": g.catalogue, "rows_in": 0, "listings": 0,
                         "rejected": 0, "warnings": 0, "report": "", "error": str(err)})
    create_table_artifact(key="intake-summary", table=rows,
                          description="Per-group catalogue intake: rows in, listings, rejects.")
    return rows


# ---- lapak check -----------------------------------------------------------------------------

def check_file(path: Path, config_path: str | None = None, out_dir: str | None = None,
               max_lines: int = 300) -> int:
    """``lapak check``: validate one file offline, print its rows, write the annotated copy.

    The last line printed is ``N rows: L listings, R rejected``.
    """
    config = load_config(config_path) if config_path else None
    categories = load_categories(config, offline_ok=True)
    group = _group_for_file(path, config)
    try:
        raw, result = intake_catalogue(path, group.id, categories)
    except CatalogueError as err:
        raise SystemExit(_fail(str(err)))
    out = Path(out_dir) if out_dir else (config.output_dir if config else Path("out"))
    intake = write_report(out, GroupIntake(group=group, result=result, raw=raw))

    print(f"{result.file} — {group.id}")
    problems = result.rejects.groupby(["sheet", "row"], sort=False)
    lines = 0
    for (sheet, row), p in problems:
        if lines >= max_lines:
            print(f"… {problems.ngroups - lines} more rows with problems: see {intake.report_xlsx}")
            break
        mark = "✗" if (p["severity"] == "reject").any() else "!"
        print(f"{mark} {sheet} baris/row {row}:")
        for col, val, rid, ren in p[["column", "value", "reason_id", "reason_en"]].itertuples(index=False):
            shown = (val[:60] + "…") if len(val) > 60 else val
            print(f"    {col} = {shown!r}: {rid} / {ren}")
        lines += 1
    listed = result.listings.head(max_lines)
    for r in listed.itertuples(index=False):
        print(f"✓ {r.sheet} baris/row {r.row}: {r.name} — {rupiah(r.price)}, stok {r.stock}, "
              f"{r.weight_g:g} g, {len(r.pictures)} foto → {r.sku}")
    if len(result.listings) > len(listed):
        print(f"… and {len(result.listings) - len(listed)} more listings")
    print(f"Stok dihitung per / Stock counted as of: {stock_as_of_text(raw)}")
    print(f"Rejects report / laporan baris ditolak: {intake.report_xlsx} (+ .csv)")
    print(result.summary_line())
    return 0


def _fail(message: str) -> int:
    print(f"lapak check: {message}", file=sys.stderr)
    return 1
