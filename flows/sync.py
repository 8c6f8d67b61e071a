"""Catalogue sync: extract → validate → normalise → plan → apply, as a Prefect flow.

A task per group (intake), per shop (plan) and per kind of write (apply, in batches at the
contract's limits). Every row the marketplace confirms is recorded in the state store before
the next batch is sent, so a crash at any point followed by a re-run converges: creates are
looked up by SKU before they are repeated (the connector does it), the other writes are
absolute and safe to repeat.
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from connectors.catalogue import CatalogueError
from connectors.marketplace import AuthError
from connectors.marketplace.models import NewProduct, Picture, ProductEdit
from connectors.state.models import Snapshot
from flows.artifacts import SyncProgress, rejects_markdown
from flows.intake import GroupIntake, intake_group, load_categories, recorded_at, saved_at
from flows.limits import PacedWrites
from flows.locks import lock_owner, shop_locks
from flows.orders import retry_transient
from flows.params import GroupId, as_wib, sync_run_name
from flows.runtime import Runtime
from flows.stock import stock_to_push
from schemas.catalogue import sku_prefix
from schemas.config import GroupConfig
from schemas.plan import KINDS, Plan, plan_shop, taken_names, unique_names

CREATE_BATCH, EDIT_BATCH, ACTIVE_BATCH, INVENTORY_BATCH = 25, 25, 25, 100


class NeedsOperator(RuntimeError):
    """The run did what it safely could; something needs an operator (the message says what)."""


# The client already retries each call; a task retry outlasts a longer outage (5xx, 429, lost
# connections only: a refusal is not repeated). Plans and writes are safe to repeat: writes are
# absolute, and a create the marketplace already holds is found by its SKU.
_TRANSIENT_RETRIES = dict(retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=retry_transient)


def reason(err: BaseException) -> str:
    """One line an operator can act on."""
    if isinstance(err, AuthError):
        return (f"the marketplace refused the credentials ({err}); check LAPAK_CLIENT_SECRET or "
                "[marketplace] client_secret_block")
    if isinstance(err, (CatalogueError, NeedsOperator)):
        return str(err)
    return f"{type(err).__name__}: {err}"


@dataclass
class ShopWork:
    """One shop's plan and what it was made from."""

    shop_id: int
    plan: Plan
    groups: list[str]
    held_groups: dict[str, str] = field(default_factory=dict)  # group → why the shrink guard held it
    # group → (snapshot fields, the stored snapshot with the same content or None when new)
    snapshots: dict[str, tuple[dict, Snapshot | None]] = field(default_factory=dict)
    desired: list[dict] = field(default_factory=list)
    known: list[dict] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)  # group → what an operator should know


# ---- from frames and state rows to plain plan inputs ---------------------------------------------

def desired_rows(intake: GroupIntake) -> list[dict]:
    frame = intake.result.listings
    rows = frame.drop(columns=["pictures", "sheet", "row", "stock"]).to_dict("records")
    for r, pics, stock in zip(rows, frame["pictures"].tolist(), frame["stock"].tolist()):
        r["pictures"] = list(pics)
        r["recorded_stock"] = int(stock)
        r["condition"] = str(r["condition"])
    return rows


def snapshot_of(intake: GroupIntake, catalogue_path: Path | None) -> tuple[dict, str]:
    """The catalogue's snapshot (when its stock was recorded, its fingerprint) and how that time is known.

    Recorded = the date the catalogue states (``diperbarui 20 November 2026``: from 00:00 WIB that
    day), else the file's modification time, else (a URL) now."""
    frame = intake.result.listings
    recorded, how = recorded_at(intake.raw, saved_at(catalogue_path) if catalogue_path is not None else None)
    return dict(group_id=intake.group.id, recorded_at=recorded, content_hash=intake.fingerprint(),
                rows_in=intake.result.rows_in, listings=len(frame), rejected=intake.result.rejected_rows), how


def _stock_changed_under_the_same_date(intake: GroupIntake, rows: list[dict], known: list[dict]) -> str:
    """A recount whose stated date was not brought forward: every sale since that date comes off
    the new figures again. Not wrong in itself (stock added for new production), so a note."""
    before = {k["sku"]: k["recorded_stock"] for k in known}
    changed = sum(1 for r in rows if r["sku"] in before and before[r["sku"]] != r["recorded_stock"])
    if not changed:
        return ""
    stated = intake.raw.recorded_on
    return (f"stock changed for {changed} product(s) but the catalogue still states {stated.on.isoformat()} "
            f"({stated.where()}): every sale since then is taken off the new figures; if the stock was "
            "counted again, update that date")


def reconcile_known(rt: Runtime, shop_id: int, groups: list[GroupConfig], *, save: bool) -> list[dict]:
    """Read the shop's products back from the marketplace: the listings of our groups (by SKU prefix)."""
    prefixes = sorted(((sku_prefix(g.id) + "-", g.id) for g in groups), key=lambda p: -len(p[0]))
    rows = []
    for p in rt.client.iter_products(shop_id):
        owner = next((gid for prefix, gid in prefixes if (p.sku or "").startswith(prefix)), None)
        if owner is None:
            continue  # not ours: another tool's product in a shared shop is left alone
        rows.append(dict(
            shop_id=shop_id, sku=p.sku, group_id=owner, product_id=p.product_id, name=p.name or "",
            category_id=p.basic.categoryID or 0, price=int(p.price.value or 0), stock=int(p.stock.value or 0),
            recorded_stock=int(p.stock.value or 0), min_order=p.min_order or 1, weight_g=float(p.weight.value or 0),
            condition=str(p.basic.condition or "NEW"), description=p.description or "",
            pictures=[x.file_path for x in (p.pictures or [])], status=str(p.basic.status or "ACTIVE"),
            in_catalogue=True, has_orders=False))
    if save and rows:
        rt.store.save_listings(rows)
    return rows


# ---- tasks ---------------------------------------------------------------------------------------

@task(name="plan-shop", task_run_name="plan · shop {shop_id}", cache_policy=NO_CACHE, **_TRANSIENT_RETRIES,
      description="Pull the shop's new orders, then plan its writes from its groups' catalogues.")
def plan_shop_task(rt: Runtime, shop_id: int, intakes: list[GroupIntake], *, accept_shrink: bool,
                   reconcile: bool, dry_run: bool) -> ShopWork:
    """Desired listings of the shop's groups against what the marketplace holds → a plan."""
    log = get_run_logger()
    store, cfg = rt.store, rt.config
    groups = [i.group for i in intakes]
    group_ids = {g.id for g in groups}
    if not dry_run:
        # Know every sale up to now before computing stock (a push must not undo one not pulled
        # yet), and settle stored stock to what the marketplace already shows for them.
        from flows.orders import pull_orders_for_shop

        pull_orders_for_shop(rt, shop_id, correct=True, lookback_s=int(cfg.orders.lookback_hours * 3600),
                             first_run_s=int(cfg.orders.first_run_days * 86400))

    known = store.listing_rows(shop_id)
    if reconcile or not any(k["group_id"] in group_ids for k in known):
        log.info("shop %s: reading the marketplace's products back (state %s)", shop_id,
                 "reconcile requested" if reconcile else "has none for these groups")
        from_market = {r["sku"]: r for r in reconcile_known(rt, shop_id, groups, save=not dry_run)}
        known = [k for k in known if k["sku"] not in from_market] + list(from_market.values())

    work = ShopWork(shop_id=shop_id, plan=Plan(shop_id), groups=sorted(group_ids))
    desired: list[dict] = []
    for intake in intakes:
        gid = intake.group.id
        snap, how = snapshot_of(intake, None if intake.group.catalogue_is_url else cfg.path(intake.group.catalogue))
        last = store.last_snapshot(gid, accepted_only=False)
        same = last if last is not None and last.content_hash == snap["content_hash"] else None
        if same is not None:
            snap["recorded_at"] = same.recorded_at  # same content: stock was counted back then
            if intake.raw.recorded_on is None:
                how = "content unchanged since first seen"
        log.info("%s: stock as of %s (%s)", gid, as_wib(snap["recorded_at"]), how)
        accepted = store.last_snapshot(gid)
        threshold = cfg.sync.shrink_threshold
        if (accepted is not None and accepted.listings > 0 and not accept_shrink
                and snap["listings"] < accepted.listings * (1 - threshold)):
            work.held_groups[gid] = (f"{gid}: the catalogue went from {accepted.listings} to {snap['listings']} "
                                     f"listings (more than {threshold:.0%} lost); deactivations held until an "
                                     "operator accepts it (--accept-shrink)")
        work.snapshots[gid] = (snap, same)
        rows = desired_rows(intake)
        if (same is None and last is not None and intake.raw.recorded_on is not None
                and int(last.recorded_at.timestamp()) == int(snap["recorded_at"].timestamp())):
            if note := _stock_changed_under_the_same_date(intake, rows, known):
                log.warning("%s: %s", gid, note)
                work.notes[gid] = note
        since = int(snap["recorded_at"].timestamp())
        sold = store.units_sold(shop_id, {r["sku"]: since for r in rows})
        for r in rows:
            r["stock_to_push"] = stock_to_push(r["recorded_stock"], sold.get(r["sku"], 0), cfg.stock.safety_buffer)
        desired += rows

    labels = {g.id: g.village or g.name for g in rt.config.groups}
    desired_skus = {d["sku"] for d in desired}
    taken = taken_names([k for k in known if k["sku"] not in desired_skus], labels)
    # A product with an order keeps its name on the marketplace (a rename is refused): that name
    # stays in use, so no other product may be given it (it would be refused on every run).
    wanted = {d["sku"]: d["name"] for d in desired}
    taken.update({k["name"].casefold(): k["sku"] for k in known
                  if k["sku"] in wanted and k.get("has_orders") and k["name"] != wanted[k["sku"]]})
    desired = unique_names(desired, labels, taken)
    work.plan = plan_shop(shop_id, desired, known, {d["sku"]: d["stock_to_push"] for d in desired},
                          managed_groups=group_ids, hold_deactivation=set(work.held_groups))
    work.desired, work.known = desired, known
    log.info("shop %s: plan %s", shop_id, work.plan.counts())
    return work


def _chunks(rows: list, n: int):
    for i in range(0, len(rows), n):
        yield rows[i:i + n]


def _edit_payload(entry: dict) -> ProductEdit:
    fields = {}
    for f, (_, new) in entry["changes"].items():
        if f == "weight_g":
            fields["weight"] = new
        elif f == "pictures":
            fields["pictures"] = [Picture(file_path=u) for u in new]
        else:
            fields[f] = new
    return ProductEdit(id=entry["product_id"], **fields)


@task(name="apply-writes", task_run_name="apply · {kind} · shop {shop_id}", cache_policy=NO_CACHE,
      **_TRANSIENT_RETRIES, description="Send one kind of write to the shop in batches, recording each.")
def apply_kind(rt: Runtime, shop_id: int, kind: str, rows: list[dict], progress: SyncProgress | None = None) -> dict:
    """Send one kind of write in batches; record each confirmed row before the next batch."""
    # Each batch first takes the shop's slots of its Prefect global concurrency limit, if one exists.
    client, store = PacedWrites(rt.client, progress.wrote if progress else None), rt.store
    applied, failed = 0, []
    if kind == "creates":
        for chunk in _chunks(rows, CREATE_BATCH):
            res = client.create_products(shop_id, [NewProduct(
                name=r["name"], sku=r["sku"], category_id=r["category_id"], price=r["price"], stock=r["stock"],
                min_order=r["min_order"], weight=r["weight_g"], condition=r["condition"],
                description=r["description"], pictures=[Picture(file_path=u) for u in r["pictures"]]) for r in chunk])
            by_sku = {r["sku"]: r for r in chunk}
            store.save_listings([dict(
                shop_id=shop_id, sku=a.key, group_id=by_sku[a.key]["group_id"], product_id=a.product_id,
                name=by_sku[a.key]["name"], category_id=by_sku[a.key]["category_id"], price=by_sku[a.key]["price"],
                stock=by_sku[a.key]["stock"], recorded_stock=by_sku[a.key]["recorded_stock"],
                min_order=by_sku[a.key]["min_order"], weight_g=by_sku[a.key]["weight_g"],
                condition=by_sku[a.key]["condition"], description=by_sku[a.key]["description"],
                pictures=by_sku[a.key]["pictures"], status="ACTIVE", in_catalogue=True, has_orders=False)
                for a in res.applied])
            applied += len(res.applied)
            failed += [(f.key, f.error) for f in res.failed]
        return {"applied": applied, "failed": failed}

    for chunk in _chunks(rows, INVENTORY_BATCH if kind in ("prices", "stocks") else EDIT_BATCH):
        if kind == "edits":
            res = client.edit_products(shop_id, [_edit_payload(r) for r in chunk])
            key = {str(r["product_id"]): r for r in chunk}
            confirmed = [dict(shop_id=shop_id, sku=key[a.key]["sku"],
                              **{f: new for f, (_, new) in key[a.key]["changes"].items()}) for a in res.applied]
        elif kind in ("prices", "stocks"):
            call, field = (client.update_prices, "new_price") if kind == "prices" else (client.update_stock, "new_stock")
            res = call(shop_id, [{"sku": r["sku"], field: r["new"]} for r in chunk])
            key = {r["sku"]: r for r in chunk}
            column = "price" if kind == "prices" else "stock"
            confirmed = [dict(shop_id=shop_id, sku=a.key, **{column: key[a.key]["new"]}) for a in res.applied]
        else:  # activate / deactivate
            active = kind == "reactivate"
            res = client.set_active(shop_id, [r["product_id"] for r in chunk], active)
            key = {str(r["product_id"]): r for r in chunk}
            confirmed = [dict(shop_id=shop_id, sku=key[a.key]["sku"], status="ACTIVE" if active else "INACTIVE",
                              in_catalogue=active) for a in res.applied]
        store.update_listings(confirmed)
        applied += len(res.applied)
        failed += [(key[f.key]["sku"] if f.key in key else f.key, f.error) for f in res.failed]
    return {"applied": applied, "failed": failed}


# ---- the flow ------------------------------------------------------------------------------------

def _summary_rows(intakes: dict[str, GroupIntake | Exception], works: dict[int, ShopWork],
                  applied: dict[tuple[int, str], dict], shop_errors: dict[int, str] | None = None) -> list[dict]:
    rows = []
    shop_errors = shop_errors or {}
    for gid, intake in intakes.items():
        if isinstance(intake, Exception):
            rows.append({"group": gid, "stock_as_of": "", "note": "", "rows_in": 0, "listings": 0, "rejected": 0,
                         "created": 0, "edited": 0, "price_updates": 0, "stock_updates": 0, "deactivated": 0,
                         "reactivated": 0, "held": 0, "errors": 1, "error": reason(intake)})
            continue
        work = next((w for w in works.values() if gid in w.groups), None)
        counts = work.plan.counts(gid) if work else {k: 0 for k in (*KINDS, "held")}
        failed = [f for (shop, kind), a in applied.items() if work and shop == work.shop_id
                  for f in a["failed"] if f[0].startswith(sku_prefix(gid) + "-")]
        snap = work.snapshots.get(gid) if work else None
        rows.append({"group": gid, "stock_as_of": as_wib(snap[0]["recorded_at"]) if snap else "",
                     "note": work.notes.get(gid, "") if work else "",
                     "rows_in": intake.result.rows_in, "listings": len(intake.result.listings),
                     "rejected": intake.result.rejected_rows, "created": counts["creates"], "edited": counts["edits"],
                     "price_updates": counts["prices"], "stock_updates": counts["stocks"],
                     "deactivated": counts["deactivate"], "reactivated": counts["reactivate"], "held": counts["held"],
                     "errors": len(failed), "error": "; ".join(f"{sku}: {why}" for sku, why in failed[:5])})
        if intake.group.shop_id in shop_errors:
            row = rows[-1]
            row["errors"] += 1
            row["error"] = "; ".join(x for x in (f"shop {intake.group.shop_id}: {shop_errors[intake.group.shop_id]}",
                                                 row["error"]) if x)
    return rows


@flow(name="sync-catalogues", flow_run_name=sync_run_name,
      description="Catalogue sync: read each group's catalogue, validate it, and make the "
      "marketplace hold exactly its listings (create, edit what changed, price, stock, deactivate what left).")
def sync_catalogues(config_path: str, groups: list[GroupId] | None = None, dry_run: bool = False,
                    accept_shrink: bool = False, reconcile: bool = False) -> dict:
    """Sync the configured groups (or the named ones). Dry run: plan and report, write nothing.

    A group whose catalogue can't be read, or a shop the marketplace fails on, does not stop the
    others; the run then ends FAILED naming what needs an operator.

    Args:
        config_path: The lapak.toml this run reads (set by `lapak serve --config`).
        groups: Ids of the groups to sync; leave empty to sync every group in the configuration.
            Kelompok yang disinkronkan; kosong berarti semua.
        dry_run: Only plan: show what would change (artifact `sync-plan`) and write nothing to
            the marketplace.
        accept_shrink: Accept catalogues that lost more than the shrink threshold of their
            listings: their missing listings are then deactivated (otherwise held).
        reconcile: Read each shop's products back from the marketplace before planning (after
            changes made outside Lapak Desa).
    """
    log = get_run_logger()
    rt = Runtime.open(config_path)
    store = rt.store
    run_id = None if dry_run else store.start_run("sync")
    try:
        chosen = rt.groups(groups)
        progress = SyncProgress()
        if not dry_run:
            store.upsert_groups(rt.config.groups)
        categories = load_categories(rt.config, client=rt.client)
        futures = {g.id: intake_group.submit(g, rt.config, categories) for g in chosen}
        intakes: dict[str, GroupIntake | Exception] = {}
        for gid, fut in futures.items():
            try:
                intakes[gid] = fut.result()
            except CatalogueError as err:
                log.error("%s: catalogue could not be read: %s", gid, err)
                intakes[gid] = err
            except Exception as err:  # one group's failure never stops the others
                log.exception("%s: catalogue intake failed", gid)
                intakes[gid] = err
            progress.read(len(intakes), len(futures))

        by_shop: dict[int, list[GroupIntake]] = {}
        for intake in intakes.values():
            if not isinstance(intake, Exception):
                by_shop.setdefault(intake.group.shop_id, []).append(intake)
        # One run at a time per shop, from planning to the last write (a dry run writes nothing).
        locks = shop_locks(store, set(by_shop), owner=lock_owner("sync-catalogues")) if not dry_run and by_shop \
            else nullcontext()
        with locks:
            plan_futures = {shop: plan_shop_task.submit(rt, shop, its, accept_shrink=accept_shrink,
                                                        reconcile=reconcile, dry_run=dry_run)
                            for shop, its in by_shop.items()}
            works: dict[int, ShopWork] = {}
            shop_errors: dict[int, str] = {}  # a shop that failed (after its retries) doesn't stop the others
            for shop, f in plan_futures.items():
                try:
                    works[shop] = f.result()
                except Exception as err:
                    shop_errors[shop] = reason(err)
                    log.error("shop %s: planning failed: %s", shop, shop_errors[shop])
            progress.planned(0 if dry_run else sum(w.plan.writes for w in works.values()))
            if not dry_run:  # orders the plans pulled reach their sheets (once, not per shop thread)
                from flows.orders import write_pending_sheets

                write_pending_sheets(rt)

            applied: dict[tuple[int, str], dict] = {}
            if dry_run:
                create_markdown_artifact(key="sync-plan", markdown="\n\n".join(w.plan.to_markdown() for w in works.values()),
                                         description="The plan of a dry run: nothing was written.")
            else:
                for w in works.values():
                    try:
                        for gid, (snap, same) in w.snapshots.items():
                            if same is None:
                                store.add_snapshot(**snap, accepted=gid not in w.held_groups)
                            elif not same.accepted and gid not in w.held_groups:
                                store.accept_snapshot(same.id)  # an operator accepted the shrink
                        for kind in KINDS:
                            rows = getattr(w.plan, kind)
                            if rows:
                                applied[(w.shop_id, kind)] = apply_kind(rt, w.shop_id, kind, rows, progress=progress)
                        # Catalogue-side facts that need no marketplace write, where they changed.
                        known = {k["sku"]: k for k in w.known}
                        store.update_listings([dict(shop_id=w.shop_id, sku=d["sku"], recorded_stock=d["recorded_stock"],
                                                    in_catalogue=True) for d in w.desired
                                               if d["sku"] in known and (known[d["sku"]]["recorded_stock"] != d["recorded_stock"]
                                                                         or not known[d["sku"]]["in_catalogue"])])
                    except Exception as err:
                        shop_errors[w.shop_id] = reason(err)
                        log.error("shop %s: writes stopped: %s", w.shop_id, shop_errors[w.shop_id])

        summary_rows = _summary_rows(intakes, works, applied, shop_errors)
        problems = [f"{gid}: {reason(err)}" for gid, err in intakes.items() if isinstance(err, Exception)]
        problems += [why for w in works.values() for why in w.held_groups.values()]
        problems += [f"shop {shop}: {why}" for shop, why in shop_errors.items()]
        writes = {kind: sum(a["applied"] for (s, k), a in applied.items() if k == kind) for kind in KINDS}
        summary = {"groups": summary_rows, "writes": writes, "planned_writes": sum(w.plan.writes for w in works.values()),
                   "dry_run": dry_run, "problems": problems,
                   "plans": {str(w.shop_id): w.plan.to_markdown() for w in works.values()},
                   "client": rt.client.counters if rt._client is not None else {}}
        create_table_artifact(key="sync-summary", table=summary_rows,
                              description="Per group: rows in, listings, rejects and the writes "
                              + ("planned (dry run: nothing written)." if dry_run else "made."))
        create_markdown_artifact(key="sync-rejects", markdown=rejects_markdown(intakes),
                                 description="Rejected catalogue rows: the first lines per group, and each group's report.")
        progress.finish()
        if run_id is not None:
            store.finish_run(run_id, "FAILED" if problems else "COMPLETED", _jsonable(summary))
        if problems:
            raise NeedsOperator("; ".join(problems))
        return summary
    except NeedsOperator:
        raise
    except Exception as err:
        if run_id is not None:
            store.finish_run(run_id, "FAILED", {"error": f"{type(err).__name__}: {err}"})
        if isinstance(err, AuthError):  # said so on the run page, with what to check
            raise NeedsOperator(reason(err)) from err
        raise
    finally:
        rt.close()


def _jsonable(summary: dict) -> dict:
    import json

    return json.loads(json.dumps(summary, default=str))


# ---- lapak sync --------------------------------------------------------------------------------

def print_summary(summary: dict) -> None:
    """What a sync did, per group, in a terminal."""
    head = ("group", "rows", "listed", "rejected", "created", "edited", "price", "stock", "deact.", "held", "errors")
    keys = ("rows_in", "listings", "rejected", "created", "edited", "price_updates", "stock_updates", "deactivated",
            "held", "errors")
    print(f"{head[0]:30}" + "".join(f"{h:>9}" for h in head[1:]))
    for r in summary["groups"]:
        print(f"{r['group']:30}" + "".join(f"{r.get(k, 0):>9}" for k in keys))
        if r.get("error"):
            print(f"    {r['error']}")
        if r.get("note"):
            print(f"    note: {r['note']}")
    verb = "planned (dry run: nothing written)" if summary["dry_run"] else "made"
    total = summary["planned_writes"] if summary["dry_run"] else sum(summary["writes"].values())
    print(f"{total} marketplace writes {verb}.")


def sync_command(args) -> int:
    """``lapak sync``: run the flow, print the plan (dry run) or the summary; non-zero when it failed."""
    state = sync_catalogues(config_path=args.config, groups=args.group or None, dry_run=args.dry_run,
                            accept_shrink=args.accept_shrink, reconcile=args.reconcile, return_state=True)
    if state.is_completed():
        summary = state.result()
    else:
        runs = Runtime.open(args.config).store.runs("sync")
        summary = runs[-1].summary if runs and "groups" in (runs[-1].summary or {}) else None
    if summary:
        if args.dry_run:
            for text in summary["plans"].values():
                print(text, end="\n\n")
        print_summary(summary)
    if not state.is_completed():
        try:
            state.result()
        except Exception as err:  # the reason, as one line, for the operator
            from flows.cli import CommandError

            raise CommandError(str(err)) from None
    return 0
