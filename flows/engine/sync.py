"""The catalogue sync: extract → validate → normalise → plan → apply, and what it did.

:func:`run_sync` reads every chosen group's catalogue (a step per batch of groups, fitted to
every channel the group sells on; an unchanged catalogue is not read again), pulls every shop's
new orders on every channel (a step per shop: one stock across channels), plans every shop (a
step per shop, under the shop's lease), writes the orders pulled to their sheets, and applies
each plan kind by kind (a step per kind). A group whose catalogue can't be read, or a shop a
channel fails on, does not stop the others: the :class:`SyncReport` names them and
:meth:`SyncReport.raise_for_problems` turns them into one operator's message. A shop is a
:class:`~schemas.channel.ShopRef`.
"""

from __future__ import annotations

import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any

from flows.engine.apply import Applied, apply_writes
from flows.engine.channels import channel_category_maps
from flows.engine.intake import GroupCatalogue, intake_batches, load_categories, read_groups
from flows.engine.intake_cache import intake_inputs
from flows.engine.locks import lock_owner, shop_locks
from flows.engine.order_runs import correct_shop_stock
from flows.engine.order_sheets import write_pending_sheets
from flows.engine.planning import ShopWork, SyncOptions, plan_shop_work, pull_before_planning
from flows.engine.runtime import Runtime, authorisation_warnings
from flows.engine.steps import Steps, settle
from schemas.channel import ShopRef
from schemas.config import GroupConfig
from schemas.dates import as_wib
from schemas.errors import (
    AuthError,
    CatalogueError,
    LapakError,
    NeedsOperator,
    ShopAuthorisationError,
)
from schemas.operator import SHRINK, Problem, cause_of, detail, every_shop, operator_failure, operator_lines
from schemas.plan import KINDS, WriteKind
from schemas.skus import sku_prefix

log = logging.getLogger("lapak.sync")


def reason(err: BaseException) -> str:
    """One line an operator can act on."""
    if isinstance(err, ShopAuthorisationError):
        return str(err)  # names the shop and says to authorise it again
    if isinstance(err, AuthError) and (err.endpoint or "").startswith("tiktok"):
        return f"TikTok refused the app's credentials ({err}); check LAPAK_TIKTOK_APP_SECRET"
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
    works: dict[ShopRef, ShopWork] = field(default_factory=dict)
    applied: dict[tuple[ShopRef, WriteKind], Applied] = field(default_factory=dict)
    shop_failures: dict[ShopRef, tuple[str, BaseException]] = field(default_factory=dict)  # what it was doing, why
    client: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. an authorisation ending soon

    @property
    def problem_list(self) -> list[Problem]:
        """Every group or shop that needs an operator, with its cause."""
        out = [Problem(cause_of(err), gid, detail(err)) for gid, err in self.catalogues.items()
               if isinstance(err, Exception)]
        out += [Problem(SHRINK, gid, why) for w in self.works.values() for gid, why in w.held_groups.items()]
        return out + [Problem(cause_of(err), f"shop {shop}", detail(err))
                      for shop, (_, err) in self.shop_failures.items()]

    @property
    def shop_errors(self) -> dict[ShopRef, str]:
        """Each failed shop's reason, as its groups' summary rows say it."""
        return {shop: (f"{doing}: " if doing else "") + reason(err)
                for shop, (doing, err) in self.shop_failures.items()}

    @property
    def problems(self) -> list[str]:
        """What the operator is told: one line per cause, naming the groups or shops and the action."""
        return operator_lines(self.problem_list)

    def shop_failed(self, shop: ShopRef, err: BaseException, doing: str = "") -> None:
        """A shop's step failed (after its retries): noted for its groups' rows and the operator."""
        self.shop_failures[shop] = (doing, err)
        log.error("shop %s: %s", shop, self.shop_errors[shop])

    def group_rows(self) -> list[dict]:
        """One summary row per group: rows in, listings, rejects, the writes made (or planned), errors."""
        shop_errors = self.shop_errors
        return [_group_row(self, gid, cat, shop_errors) for gid, cat in self.catalogues.items()]

    def summary(self) -> dict:
        """What the run did, as plain JSON (the state store's run record, the flow's result)."""
        writes = {k.value: sum(a.applied for (_, kind), a in self.applied.items() if kind == k) for k in KINDS}
        by_channel: dict[str, int] = {}
        for (shop, _), a in self.applied.items():
            by_channel[shop.channel] = by_channel.get(shop.channel, 0) + a.applied
        uploads: dict[str, int] = {}
        for shop, w in self.works.items():
            uploads[shop.channel] = uploads.get(shop.channel, 0) + sum(w.uploads.values())
        summary = {"groups": self.group_rows(), "writes": writes, "writes_by_channel": by_channel,
                   "photos_by_channel": uploads, "dry_run": self.options.dry_run,
                   "photos_uploaded": sum(n for w in self.works.values() for n in w.uploads.values()),
                   "planned_writes": sum(w.plan.writes for w in self.works.values()), "problems": self.problems,
                   "problem_details": [p.as_dict() for p in self.problem_list],
                   "plans": {str(shop): w.plan.to_markdown() for shop, w in self.works.items()},
                   "client": self.client, "warnings": self.warnings}
        return json.loads(json.dumps(summary, default=str))

    def needs_operator(self) -> NeedsOperator | None:
        """The run's failure when something needs an operator: one line per cause."""
        problems = self.problem_list
        return operator_failure(problems, summary=self.summary()) if problems else None

    def raise_for_problems(self) -> None:
        if (err := self.needs_operator()) is not None:
            raise err


_NO_WRITES = {"created": 0, "edited": 0, "price_updates": 0, "stock_updates": 0, "deactivated": 0, "reactivated": 0,
              "held": 0}
_COLUMN_OF = {"creates": "created", "edits": "edited", "prices": "price_updates", "stocks": "stock_updates",
              "deactivate": "deactivated", "reactivate": "reactivated", "held": "held"}


def _group_row(report: SyncReport, gid: str, cat: GroupCatalogue | Exception, shop_errors: dict[ShopRef, str]) -> dict:
    if isinstance(cat, Exception):
        return {"group": gid, "stock_as_of": "", "note": "", "rows_in": 0, "listings": 0, "rejected": 0,
                **_NO_WRITES, "photos_uploaded": 0, "errors": 1, "error": reason(cat)}
    works = [w for w in report.works.values() if gid in w.groups]  # one per channel the group sells on
    counts = dict(_NO_WRITES)  # in this order: the columns operators read
    for work in works:
        for k, n in work.plan.counts(gid).items():
            counts[_COLUMN_OF[k]] += n
    prefix = sku_prefix(gid) + "-"
    shops = {w.shop for w in works}
    failed = [f for (shop, _), a in report.applied.items() if shop in shops
              for f in a.failed if f[0].startswith(prefix)]
    snap = next((w.snapshots[gid] for w in works if gid in w.snapshots), None)
    errors = [f"{sku}: {why}" for sku, why in failed[:5]]
    broken = [f"shop {shop}: {why}" for shop, why in shop_errors.items()
              if cat.group.shop_on(shop.channel) == shop.shop_id]
    return {"group": gid, "stock_as_of": as_wib(snap.recorded_at) if snap else "",
            "note": next((w.notes[gid] for w in works if gid in w.notes), ""), "rows_in": cat.rows_in,
            "listings": len(cat.listings), "rejected": cat.rejected, **counts,
            "photos_uploaded": sum(w.uploads.get(gid, 0) for w in works),
            "not_listed_on": ", ".join(f"{ch}: {n}" for ch, n in cat.channel_left_off.items() if n),
            "errors": len(failed) + len(broken), "error": "; ".join(broken + errors)}


def read_catalogues(rt: Runtime, steps: Steps, groups: list[GroupConfig]) -> dict[str, GroupCatalogue | Exception]:
    """Every group's catalogue read (a step per batch of groups); one that can't be read is kept as its error."""
    categories = load_categories(rt.config, channel=rt.channel)
    maps = channel_category_maps(rt)
    inputs = intake_inputs(rt.config, categories, maps)
    batches = intake_batches(groups)
    done = settle({n: steps.submit(read_groups, batch, categories, maps, inputs) for n, batch in enumerate(batches)})
    read: dict[str, GroupCatalogue | Exception] = {}
    for n, batch in enumerate(batches):
        for g in batch.groups:  # a batch's step that failed as a whole fails each of its groups
            read[g.id] = done[n] if isinstance(done[n], Exception) else done[n][g.id]
    for n, (gid, cat) in enumerate(read.items(), start=1):
        if isinstance(cat, CatalogueError):
            log.error("%s: catalogue could not be read: %s", gid, cat)
        elif isinstance(cat, Exception):
            log.error("%s: catalogue intake failed: %s", gid, reason(cat))
        rt.progress.read(n, len(read))
    return read


def shops_of(rt: Runtime, report: SyncReport) -> dict[ShopRef, list[GroupCatalogue]]:
    """The readable catalogues by shop, on every channel their groups sell on."""
    by_shop: dict[ShopRef, list[GroupCatalogue]] = {}
    for cat in report.catalogues.values():
        if isinstance(cat, Exception):
            continue
        for channel in rt.config.channels:
            if (shop_id := cat.group.shop_on(channel)) is not None:
                by_shop.setdefault(ShopRef(channel, shop_id), []).append(cat)
    return by_shop


def _pull_and_correct(steps: Steps, report: SyncReport, shops: list[ShopRef]) -> None:
    """Every shop's new orders stored, then every shop's stock settled to the rule (lowered where
    it shows more, the channel's own figure recorded where it shows less): sales on one channel
    reach the others before anything is planned."""
    pulled = settle({shop: steps.submit(pull_before_planning, shop) for shop in shops})
    corrected = settle({shop: steps.submit(correct_shop_stock, shop) for shop, res in pulled.items()
                        if not isinstance(res, Exception)})
    for shop, res in {**pulled, **corrected}.items():
        if isinstance(res, Exception) and shop not in report.shop_failures:
            report.shop_failed(shop, res, "orders could not be pulled first")


def plan_shops(rt: Runtime, steps: Steps, report: SyncReport) -> None:
    """Every shop's new orders pulled first (a step each: the stock rule counts sales on every
    channel), then every shop with a readable catalogue planned (a step each); a shop that fails
    is noted."""
    by_shop = shops_of(rt, report)
    if not report.options.dry_run:
        _pull_and_correct(steps, report, list(by_shop))
        by_shop = {shop: cats for shop, cats in by_shop.items() if shop not in report.shop_failures}
    planned = settle({shop: steps.submit(plan_shop_work, shop, cats, report.options, pull=False)
                      for shop, cats in by_shop.items()})
    for shop, work in planned.items():
        if isinstance(work, Exception):
            report.shop_failed(shop, work, "planning failed")
        else:
            report.works[shop] = work


def apply_shop(rt: Runtime, steps: Steps, work: ShopWork, report: SyncReport, recorded: set[str]) -> None:
    """One shop's snapshots recorded (once per group, whatever its channels), its plan applied
    kind by kind, catalogue-side facts stored."""
    store = rt.store
    for gid, snap in work.snapshots.items():
        held = gid in work.held_groups
        if gid in recorded:
            continue
        recorded.add(gid)
        if snap.stored is None:
            store.add_snapshot(**snap.fields(), accepted=not held)
        elif not snap.stored[1] and not held:
            store.accept_snapshot(snap.stored[0])  # an operator accepted the shrink
    for kind in KINDS:
        if rows := work.plan.entries[kind]:
            report.applied[(work.shop, kind)] = steps.submit(apply_writes, work.shop, kind, rows).result()
    # Catalogue-side facts that need no channel write, where they changed.
    known = {k.sku: k for k in work.known}
    store.update_listings(work.shop_id, {d.sku: {"recorded_stock": d.stock, "in_catalogue": True}
                                         for d in work.desired if d.sku in known
                                         and (known[d.sku].recorded_stock != d.stock or not known[d.sku].in_catalogue)},
                          channel=work.channel)


def _plan_and_apply(rt: Runtime, steps: Steps, report: SyncReport) -> None:
    shops = set(shops_of(rt, report))
    dry = report.options.dry_run
    # One run at a time per shop, from planning to the last write (a dry run writes nothing).
    with shop_locks(rt.store, shops, owner=lock_owner("sync-catalogues", rt.label)) if shops and not dry \
            else nullcontext():
        plan_shops(rt, steps, report)
        rt.progress.planned(0 if dry else sum(w.plan.writes for w in report.works.values()))
        if dry:
            return
        write_pending_sheets(rt)  # orders the plans pulled reach their sheets
        recorded: set[str] = set()
        for shop, work in report.works.items():
            try:
                apply_shop(rt, steps, work, report, recorded)
            except Exception as err:
                report.shop_failed(shop, err, "writes stopped")


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
        report.client = {name: ch.counters for name, ch in rt.channels.items()} if len(rt.channels) > 1 \
            else rt.channel.counters
        report.warnings = authorisation_warnings(rt)
        for warning in report.warnings:
            log.warning("%s", warning)
        rt.progress.finish()
    except Exception as err:
        if run_id is not None:
            store.finish_run(run_id, "FAILED", {"error": f"{type(err).__name__}: {err}"})
        if isinstance(err, AuthError):  # said so on the run page, with what to check
            raise operator_failure([every_shop(err)]) from err
        raise
    if run_id is not None:
        store.finish_run(run_id, "FAILED" if report.problems else "COMPLETED", report.summary())
    return report
