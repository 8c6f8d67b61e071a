"""Catalogue intake: read a group's catalogue, normalise it, report its rejects.

:func:`intake_catalogue` reads and normalises one file (``lapak check``, the benchmark);
:func:`read_group` is the sync's work per group: it writes the group's rejects report and hands
on a :class:`GroupCatalogue` — the listings and the facts planning needs, as plain values —,
remembered until the catalogue or anything it depends on changes (:mod:`flows.engine.intake_cache`).
:func:`read_groups` is the sync's step: a batch of groups (one group is little work), each
group's failure kept as its result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path

import pandas as pd

from connectors.catalogue import RawCatalogue, read_catalogue
from connectors.files import private_dir
from connectors.sheets import write_rejects_report
from flows.engine import intake_cache
from flows.engine.channels import fit_for_channels
from flows.engine.photos import cached_photo, resolve_photos
from flows.engine.runtime import Runtime, open_channel
from schemas.categories import DEFAULT_CATEGORIES, Category, CategoryIndex
from schemas.channel import MARKETPLACE, Channel
from schemas.channel_rules import CategoryMap
from schemas.config import GroupConfig, LapakConfig
from schemas.dates import WIB, StatedDate, spoken
from schemas.errors import LapakError
from schemas.listing import Listing, Reject, listings_of
from schemas.normalise import normalise
from schemas.pictures import photo_references
from schemas.rejects import IntakeResult

log = logging.getLogger("lapak.intake")

CATEGORY_CACHE_SECONDS = 24 * 3600
FIRST_REJECTS = 10  # reject lines a group's summary carries to the run page; its report has them all
BATCH_MAX = 50  # groups per intake step: a remembered group takes milliseconds, a task run ~10 ms
BATCHES_MIN = 8  # but at least this many steps (when there are as many groups), to read in parallel


@dataclass
class GroupIntake:
    """One group's intake in full: the normalised result, the catalogue as read, the report written."""

    group: GroupConfig
    result: IntakeResult
    raw: RawCatalogue
    report_xlsx: Path | None = None
    report_csv: Path | None = None

    @cached_property
    def fingerprint(self) -> str:
        """What the catalogue became and the date it states for its stock: equal means nothing to redo."""
        digest = self.result.content_hash()
        if self.raw.recorded_on is None:
            return digest
        return hashlib.sha256(f"{digest}|{self.raw.recorded_on.on.isoformat()}".encode()).hexdigest()


@dataclass(frozen=True)
class GroupCatalogue:
    """What one group's intake hands on to planning and to the run's summary: plain values."""

    group: GroupConfig
    file: str
    listings: tuple[Listing, ...]
    rows_in: int
    rejected: int
    warnings: int
    fingerprint: str
    stated: StatedDate | None
    saved: datetime | None
    report_xlsx: str | None
    report_csv: str | None
    reject_lines: int = 0  # problem lines in the group's report (rejects and warnings)
    first_rejects: tuple[Reject, ...] = ()
    channel_listings: dict[str, tuple[Listing, ...]] = field(default_factory=dict)  # other channels' copies
    channel_left_off: dict[str, int] = field(default_factory=dict)  # rows not listable on another channel

    @classmethod
    def of(cls, intake: GroupIntake, saved: datetime | None, listings: list[Listing] | None = None,
           channel_listings: dict[str, tuple[Listing, ...]] | None = None,
           channel_left_off: dict[str, int] | None = None) -> GroupCatalogue:
        r = intake.result
        first = tuple(Reject(**row) for row in r.rejects.head(FIRST_REJECTS).to_dict("records"))
        return cls(group=intake.group, file=r.file, listings=tuple(listings if listings is not None
                                                                   else listings_of(r.listings)),
                   rows_in=r.rows_in, rejected=r.rejected_rows, warnings=r.warnings, fingerprint=intake.fingerprint,
                   stated=intake.raw.recorded_on, saved=saved, reject_lines=len(r.rejects), first_rejects=first,
                   report_xlsx=str(intake.report_xlsx) if intake.report_xlsx else None,
                   report_csv=str(intake.report_csv) if intake.report_csv else None,
                   channel_listings=channel_listings or {}, channel_left_off=channel_left_off or {})

    def listings_on(self, channel: str) -> tuple[Listing, ...]:
        """The group's listings as ``channel`` takes them."""
        if channel == MARKETPLACE:
            return self.listings
        if channel not in self.channel_listings:
            raise LapakError(f"{self.group.id}: the catalogue could not be fitted to {channel} (its categories "
                             "could not be read); nothing was changed there")
        return self.channel_listings[channel]

    def summary(self) -> dict:
        return {"group": self.group.id, "name": self.group.name, "file": self.file, "rows_in": self.rows_in,
                "listings": len(self.listings), "rejected": self.rejected, "warnings": self.warnings,
                "report": self.report_xlsx or ""}


def load_categories(config: LapakConfig | None, *, channel: Channel | None = None,
                    offline_ok: bool = False) -> CategoryIndex:
    """The category tree: the configured marketplace's (cached for a day), else the default list.

    When the marketplace can't be reached: the cached list, else (``offline_ok``, for
    ``lapak check``) the default list with a warning, else the error.
    """
    if config is None:
        return CategoryIndex(DEFAULT_CATEGORIES)
    cache = config.output_dir / ".cache" / "categories.json"
    cached = json.loads(cache.read_text(encoding="utf-8")) if cache.exists() else None
    if cached is not None and time.time() - cached.get("fetched_at", 0) < CATEGORY_CACHE_SECONDS:
        return CategoryIndex([Category(**c) for c in cached["categories"]], config.categories)
    try:
        fetched = _fetch_categories(config, channel)
    except Exception as err:
        if cached is not None:
            log.warning("categories: using the cached list, the marketplace did not answer (%s)", err)
            return CategoryIndex([Category(**c) for c in cached["categories"]], config.categories)
        if not offline_ok:
            raise
        log.warning("the marketplace's categories could not be read (%s); checking against the default "
                    "category list", type(err).__name__)
        return CategoryIndex(DEFAULT_CATEGORIES, config.categories)
    private_dir(cache.parent)  # the output folder: made the owner's only when this makes it
    cache.write_text(json.dumps({"fetched_at": time.time(), "categories": [c.model_dump() for c in fetched]}),
                     encoding="utf-8")
    return CategoryIndex(fetched, config.categories)


def _fetch_categories(config: LapakConfig, channel: Channel | None) -> list[Category]:
    if channel is not None:
        return channel.categories()
    own = open_channel(config)
    try:
        return own.categories()
    finally:
        own.close()


@dataclass(frozen=True)
class PhotoPlaces:
    """Where a catalogue's photo file names are looked for, and where prepared photos are kept."""

    catalogue_dir: Path
    photos: Path | None
    cache_dir: Path


def photo_places(config: LapakConfig | None, group: GroupConfig, source: str | Path, out_dir: Path) -> PhotoPlaces:
    """The catalogue's own folder (a URL catalogue: the config's), the group's ``photos`` folder or
    ZIP when configured, and the output folder's photo cache."""
    base = config.base_dir if config is not None else Path(".")
    folder = base if group.catalogue_is_url else Path(source).parent
    photos = (config.path(group.photos) if config is not None else Path(group.photos)) if group.photos else None
    return PhotoPlaces(folder, photos, out_dir / ".cache" / "photos")


def intake_catalogue(source: str | Path, group_id: str, categories: CategoryIndex,
                     photos: PhotoPlaces | None = None, *,
                     allow_private: bool = False) -> tuple[RawCatalogue, IntakeResult]:
    """Read and normalise one catalogue file or URL; with ``photos``, the photo files its cells name
    are found and prepared first (without, such a cell is a reject: no file can be found). A URL
    may point at a private or loopback address only with ``allow_private`` (``[sync]
    allow_private_catalogue_urls``). Raises CatalogueError when the file can't be used."""
    raw, result, _ = _intake(source, group_id, categories, photos, allow_private=allow_private)
    return raw, result


def _intake(source: str | Path, group_id: str, categories: CategoryIndex,
            photos: PhotoPlaces | None, *, allow_private: bool = False) -> tuple[RawCatalogue, IntakeResult, bool]:
    """:func:`intake_catalogue`, and whether the catalogue states a stock date still to come."""
    raw = read_catalogue(source, allow_private=allow_private)
    resolution = (resolve_photos(raw.frame, photos.catalogue_dir, photos.photos, photos.cache_dir)
                  if photos is not None else None)
    result = normalise(raw.frame, group_id=group_id, file=raw.file, categories=categories,
                       headers=raw.headers, units=raw.units, photos=resolution)
    ahead = raw.recorded_on is not None and _check_stated_date(raw, result)
    return raw, result, ahead


def saved_at(source: str | Path) -> datetime | None:
    """When a local catalogue file was last saved; None for a URL (or a file that is gone)."""
    if isinstance(source, str) and "://" in source:
        return None
    try:
        return datetime.fromtimestamp(Path(source).stat().st_mtime, UTC)
    except OSError:
        return None


def recorded_at(stated: StatedDate | None, saved: datetime | None) -> tuple[datetime, str]:
    """When the catalogue's stock was counted, and how that is known (for summaries and logs).

    The date the catalogue states, from the start of that day in WIB (sales later that day are
    counted as after it: stock is never overstated); else the file's last save; else now (a URL).
    """
    if stated is not None:
        day = datetime.combine(stated.on, datetime.min.time(), WIB)
        return day.astimezone(UTC), f"stated in {stated.where()}"
    if saved is not None:
        return saved, "file saved"
    return datetime.now(UTC), "read now"


def stock_as_of_text(stated: StatedDate | None, *, url: bool = False) -> str:
    """For people: from when the catalogue's stock counts (Indonesian, English beside it)."""
    if stated is not None:
        return f"{spoken(stated.on)}, pukul 00.00 WIB (tertulis di / stated in {stated.where()})"
    when_id, when_en = (("saat isi lembar ini pertama kali terbaca", "when this content was first read") if url
                        else ("waktu berkas terakhir disimpan", "when the file was last saved"))
    return (f"{when_id} (atau tulis tanggalnya di atas tabel, misalnya \"Stok per 20 November 2026\") / "
            f"{when_en} (or write the date above the table)")


def _check_stated_date(raw: RawCatalogue, result: IntakeResult) -> bool:
    """A stated date still to come cannot be when stock was counted: not used, and a warning says
    so (True: the outcome depends on today's date)."""
    stated = raw.recorded_on
    if stated.on <= datetime.now(WIB).date():
        return False
    raw.recorded_on = None
    said = spoken(stated.on)
    reason = (f"Tanggal stok {said} belum tiba, jadi tidak dipakai (dipakai waktu berkas disimpan); "
              "perbaiki tanggalnya",
              f"The stock date {said} has not come yet, so it is not used (the file's save time is); fix the date")
    warning = pd.DataFrame([dict(
        group_id=result.group_id, file=result.file, sheet=stated.sheet, row=stated.row, column=stated.column,
        value=stated.text, reason_id=reason[0], reason_en=reason[1], severity="warning",
    )]).astype(result.rejects.dtypes.to_dict())
    result.rejects = pd.concat([result.rejects, warning], ignore_index=True)
    return True


def report_paths(out_dir: Path, group_id: str) -> tuple[Path, Path, Path]:
    """A group's rejects report (XLSX, CSV) and the fingerprint of the catalogue it was written for."""
    folder = out_dir / "rejects"
    return folder / f"{group_id}.xlsx", folder / f"{group_id}.csv", folder / f"{group_id}.fingerprint"


def write_report(out_dir: Path, intake: GroupIntake) -> GroupIntake:
    """Write ``rejects/<group>.xlsx`` and ``.csv`` (also when nothing was rejected).

    Skipped when the catalogue came out exactly as when the report was last written (a
    fingerprint is kept beside it): a scheduled sync does not rewrite 20 unchanged reports."""
    xlsx, csv, mark = report_paths(out_dir, intake.group.id)
    fingerprint = intake.fingerprint
    if xlsx.exists() and csv.exists() and mark.exists() and mark.read_text() == fingerprint:
        intake.report_xlsx, intake.report_csv = xlsx, csv
        return intake
    intake.report_xlsx, intake.report_csv = write_rejects_report(
        out_dir, intake.group.id, intake.result.rejects, intake.raw.grids, intake.raw.header_rows,
        stock_as_of=stock_as_of_text(intake.raw.recorded_on, url=intake.group.catalogue_is_url))
    mark.write_text(fingerprint)
    return intake


def catalogue_source(config: LapakConfig, group: GroupConfig) -> str | Path:
    """Where a group's catalogue is read from: its URL, or its path resolved against the config."""
    return group.catalogue if group.catalogue_is_url else config.path(group.catalogue)


@dataclass(frozen=True)
class IntakeBatch:
    """Groups whose catalogues one step reads (its name on the run page: ``str()``)."""

    groups: tuple[GroupConfig, ...]

    def __str__(self) -> str:
        ids = [g.id for g in self.groups]
        return ids[0] if len(ids) == 1 else f"{len(ids)} groups: {ids[0]} … {ids[-1]}"


def intake_batches(groups: list[GroupConfig], most: int = BATCH_MAX, least: int = BATCHES_MIN) -> list[IntakeBatch]:
    """The groups in batches of at most ``most``, in at least ``least`` batches when there are as many groups."""
    size = max(1, min(most, -(-len(groups) // least)))
    return [IntakeBatch(tuple(groups[i:i + size])) for i in range(0, len(groups), size)]


def read_groups(rt: Runtime, batch: IntakeBatch, categories: CategoryIndex,
                channel_maps: dict[str, CategoryMap | Exception] | None = None,
                inputs: str | None = None) -> dict[str, GroupCatalogue | Exception]:
    """:func:`read_group` for each group of the batch; a group that fails keeps its exception as its result."""
    inputs = inputs or intake_cache.intake_inputs(rt.config, categories, channel_maps or {})
    out: dict[str, GroupCatalogue | Exception] = {}
    for group in batch.groups:
        try:
            out[group.id] = read_group(rt, group, categories, channel_maps, inputs)
        except Exception as err:
            out[group.id] = err
    return out


def _still_valid(out_dir: Path, places: PhotoPlaces) -> Callable[[GroupCatalogue], bool]:
    """Whether what a remembered intake left beside it is still there: its report, its prepared photos."""
    def check(cat: GroupCatalogue) -> bool:
        xlsx, csv, mark = report_paths(out_dir, cat.group.id)
        try:
            if not (xlsx.exists() and csv.exists() and mark.read_text() == cat.fingerprint):
                return False
        except OSError:
            return False
        return all(cached_photo(places.cache_dir, sha).exists() for sha in intake_cache.prepared_photos(cat))

    return check


def read_group(rt: Runtime, group: GroupConfig, categories: CategoryIndex,
               channel_maps: dict[str, CategoryMap | Exception] | None = None,
               inputs: str | None = None) -> GroupCatalogue:
    """Read, normalise and report one group's catalogue, fitted to every other channel it sells on
    (``channel_maps``: their category maps); raises CatalogueError when unreadable. An unchanged
    catalogue (``inputs``: :func:`~flows.engine.intake_cache.intake_inputs`, computed when not
    given) is not read again: what it became last time is handed on."""
    out_dir = rt.config.output_dir
    source = catalogue_source(rt.config, group)
    places = photo_places(rt.config, group, source, out_dir)
    inputs = inputs or intake_cache.intake_inputs(rt.config, categories, channel_maps or {})
    slot = intake_cache.lookup(rt.config, group, source, places, inputs, _still_valid(out_dir, places))
    if slot.hit is not None:
        log.info("%s: catalogue unchanged since it was last read (%d listings, %d rejected)", group.id,
                 len(slot.hit.listings), slot.hit.rejected)
        return replace(slot.hit, group=group, saved=saved_at(source))
    raw, result, ahead = _intake(source, group.id, categories, places,
                                 allow_private=rt.config.sync.allow_private_catalogue_urls)
    listings = listings_of(result.listings)
    fitted, lines, left_off = fit_for_channels(group, listings, channel_maps or {}, categories, result.file,
                                               result.headers)
    if len(lines):
        result.rejects = pd.concat([result.rejects, lines.astype(result.rejects.dtypes.to_dict())],
                                   ignore_index=True)
    intake = write_report(rt.config.output_dir, GroupIntake(group=group, result=result, raw=raw))
    log.info("%s: %s%s (rejects report: %s)", group.id, result.summary_line(),
             "".join(f"; not on {ch}: {n}" for ch, n in left_off.items() if n), intake.report_xlsx)
    cat = GroupCatalogue.of(intake, saved_at(source), listings, fitted, left_off)
    intake_cache.remember(slot, cat, places, photo_references(raw.frame), stated_ahead=ahead)
    return cat
