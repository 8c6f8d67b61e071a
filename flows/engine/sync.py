"""The catalogue sync: extract → validate → normalise → plan → apply, and what it did.

:func:`run_sync` reads every chosen group's catalogue (a step per group), plans every shop (a
step per shop, under the shop's lease), writes the orders the plans pulled to their sheets, and
applies each plan kind by kind (a step per kind). A group whose catalogue can't be read, or a
shop the channel fails on, does not stop the others: the :class:`SyncReport` names them and
:meth:`SyncReport.raise_for_problems` turns them into one operator's message.
"""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from flows.engine.apply import Applied, apply_writes
from flows.engine.intake import GroupCatalogue, load_categories, read_group
from flows.engine.locks import lock_owner, shop_locks
from flows.engine.order_sheets import write_pending_sheets
from flows.engine.planning import ShopWork, SyncOptions, plan_shop_work
from flows.engine.runtime import Runtime
from flows.engine.steps import Steps, settle
from schemas.config import GroupConfig
from schemas.dates import as_wib
from schemas.errors import AuthError, CatalogueError, LapakError, NeedsOperator
from schemas.plan import KINDS, WriteKind
from schemas.skus import sku_prefix

log = logging.getLogger("lapak.sync")


def reason(err: BaseException) -> str:
    """One line an operator can act on."""
    if isinstance(err, AuthError):
        return (f"the marketplace refused the credentials ({err}); check LAPAK_CLIENT_SECRET or "
                "[marketplace] client_secret_block")
    if isinstance(err, LapakError):
        return str(err)
    return f"{type(err).__name__}: {err}"


@dataclass
class SyncReport:
    """What a sync read, planned and wrote, per group and shop, and what needs an operator."""

    options: SyncOptions
    catalogues: dict[str, GroupCatalogue | Exception] = field(default_factory=dict)
    works: dict[int, ShopWork] = field(default_factory=dict)
    applied: dict[tuple[int, WriteKind], Applied] = field(default_factory=dict)
    shop_errors: dict[int, str] = field(default_factory=dict)
    client: dict[str, Any] = field(default_factory=dict)

    @property
    def problems(self) -> list[str]:
        out = [f"{gid}: {reason(err)}" for gid, err in self.catalogues.items() if isinstance(err, Exception)]
        out += [why for w in self.works.values() for why in w.held_groups.values()]
        return out + [f"shop {shop}: {why}" for shop, why in self.shop_errors.items()]

    def group_rows(self) -> list[dict]:
        """One summary row per group: rows in, listings, rejects, the writes made (or planned), errors."""
        return [_group_row(self, gid, cat) for gid, cat in self.catalogues.items()]

    def summary(self) -> dict:
        """What the run did, as plain JSON (the state store's run record, the flow's result)."""
        writes = {k.value: sum(a.applied for (_, kind), a in self.applied.items() if kind == k) for k in KINDS}
        summary = {"groups": self.group_rows(), "writes": writes, "dry_run": self.options.dry_run,
                   "photos_uploaded": sum(n for w in self.works.values() for n in w.uploads.values()),
                   "planned_writes": sum(w.plan.writes for w in self.works.values()), "problems": self.problems,
                   "plans": {str(w.shop_id): w.plan.to_markdown() for w in self.works.values()},
                   "client": self.client}
        return json.loads(json.dumps(summary, default=str))

    def raise_for_problems(self) -> None:
        if problems := self.problems:
            raise NeedsOperator("; ".join(problems), summary=self.summary())


_NO_WRITES = {"created": 0, "edited": 0, "price_updates": 0, "stock_updates": 0, "deactivated": 0, "reactivated": 0,
              "held": 0}
_COLUMN_OF = {"creates": "created", "edits": "edited", "prices": "price_updates", "stocks": "stock_updates",
              "deactivate": "deactivated", "reactivate": "reactivated", "held": "held"}


def _group_row(report: SyncReport, gid: str, cat: GroupCatalogue | Exception) -> dict:
    if isinstance(cat, Exception):
        return {"group": gid, "stock_as_of": "", "note": "", "rows_in": 0, "listings": 0, "rejected": 0,
                **_NO_WRITES, "photos_uploaded": 0, "errors": 1, "error": reason(cat)}
    work = next((w for w in report.works.values() if gid in w.groups), None)
    counts = dict(_NO_WRITES)  # in this order: the columns operators read
    if work:
        counts.update({_COLUMN_OF[k]: n for k, n in work.plan.counts(gid).items()})
    prefix = sku_prefix(gid) + "-"
    failed = [f for (shop, _), a in report.applied.items() if work and shop == work.shop_id
              for f in a.failed if f[0].startswith(prefix)]
    snap = work.snapshots.get(gid) if work else None
    errors = [f"{sku}: {why}" for sku, why in failed[:5]]
    if cat.group.shop_id in report.shop_errors:
        errors.insert(0, f"shop {cat.group.shop_id}: {report.shop_errors[cat.group.shop_id]}")
    return {"group": gid, "stock_as_of": as_wib(snap.recorded_at) if snap else "",
            "note": work.notes.get(gid, "") if work else "", "rows_in": cat.rows_in, "listings": len(cat.listings),
            "rejected": cat.rejected, **counts, "photos_uploaded": work.uploads.get(gid, 0) if work else 0,
            "errors": len(failed) + (cat.group.shop_id in report.shop_errors), "error": "; ".join(errors)}


def read_catalogues(rt: Runtime, steps: Steps, groups: list[GroupConfig]) -> dict[str, GroupCatalogue | Exception]:
    """Every group's catalogue read (a step each); one that can't be read is kept as its error."""
    categories = load_categories(rt.config, channel=rt.channel)
    read = settle({g.id: steps.submit(read_group, g, categories) for g in groups})
    for n, (gid, cat) in enumerate(read.items(), start=1):
        if isinstance(cat, CatalogueError):
            log.error("%s: catalogue could not be read: %s", gid, cat)
        elif isinstance(cat, Exception):
            log.error("%s: catalogue intake failed: %s", gid, reason(cat))
        rt.progress.read(n, len(read))
    return read


def plan_shops(rt: Runtime, steps: Steps, report: SyncReport) -> None:
    """Every shop with a readable catalogue planned (a step each); a shop that fails is noted."""
    by_shop: dict[int, list[GroupCatalogue]] = {}
    for cat in report.catalogues.values():
        if not isinstance(cat, Exception):
            by_shop.setdefault(cat.group.shop_id, []).append(cat)
    planned = settle({shop: steps.submit(plan_shop_work, shop, cats, report.options) for shop, cats in by_shop.items()})
    for shop, work in planned.items():
        if isinstance(work, Exception):
            report.shop_errors[shop] = reason(work)
            log.error("shop %s: planning failed: %s", shop, report.shop_errors[shop])
        else:
            report.works[shop] = work


def apply_shop(rt: Runtime, steps: Steps, work: ShopWork, report: SyncReport) -> None:
    """One shop's snapshots recorded, its plan applied kind by kind, catalogue-side facts stored."""
    store = rt.store
    for gid, snap in work.snapshots.items():
        held = gid in work.held_groups
        if snap.stored is None:
            store.add_snapshot(**snap.fields(), accepted=not held)
        elif not snap.stored[1] and not held:
            store.accept_snapshot(snap.stored[0])  # an operator accepted the shrink
    for kind in KINDS:
        if rows := work.plan.entries[kind]:
            report.applied[(work.shop_id, kind)] = steps.submit(apply_writes, work.shop_id, kind, rows).result()
    # Catalogue-side facts that need no channel write, where they changed.
    known = {k.sku: k for k in work.known}
    store.update_listings(work.shop_id, {d.sku: {"recorded_stock": d.stock, "in_catalogue": True}
                                         for d in work.desired if d.sku in known
                                         and (known[d.sku].recorded_stock != d.stock or not known[d.sku].in_catalogue)})


def _plan_and_apply(rt: Runtime, steps: Steps, report: SyncReport) -> None:
    shops = {c.group.shop_id for c in report.catalogues.values() if not isinstance(c, Exception)}
    dry = report.options.dry_run
    # One run at a time per shop, from planning to the last write (a dry run writes nothing).
    with shop_locks(rt.store, shops, owner=lock_owner("sync-catalogues", rt.label)) if shops and not dry \
            else nullcontext():
        plan_shops(rt, steps, report)
        rt.progress.planned(0 if dry else sum(w.plan.writes for w in report.works.values()))
        if dry:
            return
        write_pending_sheets(rt)  # orders the plans pulled reach their sheets
        for work in report.works.values():
            try:
                apply_shop(rt, steps, work, report)
            except Exception as err:
                report.shop_errors[work.shop_id] = reason(err)
                log.error("shop %s: writes stopped: %s", work.shop_id, report.shop_errors[work.shop_id])


def run_sync(rt: Runtime, options: SyncOptions, steps: Steps) -> SyncReport:
    """Sync the configured groups (or ``options.groups``); a dry run plans and writes nothing.

    Records the run in the state store (not a dry run). Raises only what stops the whole run;
    an :class:`AuthError` becomes a :class:`NeedsOperator` saying what to check."""
    store = rt.store
    run_id = None if options.dry_run else store.start_run("sync")
    report = SyncReport(options)
    try:
        chosen = rt.groups(list(options.groups) if options.groups else None)
        if not options.dry_run:
            store.upsert_groups(rt.config.groups)
        report.catalogues = read_catalogues(rt, steps, chosen)
        _plan_and_apply(rt, steps, report)
        report.client = rt.channel.counters
        rt.progress.finish()
    except Exception as err:
        if run_id is not None:
            store.finish_run(run_id, "FAILED", {"error": f"{type(err).__name__}: {err}"})
        if isinstance(err, AuthError):  # said so on the run page, with what to check
            raise NeedsOperator(reason(err)) from err
        raise
    if run_id is not None:
        store.finish_run(run_id, "FAILED" if report.problems else "COMPLETED", report.summary())
    return report
