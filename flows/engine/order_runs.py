"""Order pulls and backfills for every configured shop on every channel, and what they did per group.

A step per shop pulls its orders (one failed shop doesn't stop the others, but the run then
fails); once every shop's orders are in, a step per shop corrects its stock (one stock across
channels: a sale on one channel lowers every other); then one step empties the buyer details
kept past ``[orders] keep_buyer_details_days`` (:mod:`flows.engine.retention`) and one rewrites the
order sheets of the months touched or emptied. The run is recorded in the state store.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime
from typing import Any

from flows.engine.locks import lock_owner, shop_locks
from flows.engine.notified import already_pulled, chosen_shops, sharing_a_group, shop_name, wait_for_cutoff
from flows.engine.order_sheets import ORDERS_DIR, write_pending_sheets
from flows.engine.orders import backfill_for_shop, pull_orders_for_shop
from flows.engine.retention import remove_old_buyer_details
from flows.engine.runtime import Runtime, authorisation_warnings
from flows.engine.steps import Steps, settle
from flows.engine.stock import correct_stock
from schemas.channel import ShopRef
from schemas.dates import day_bounds
from schemas.errors import NeedsOperator
from schemas.operator import OTHER, Problem, cause_of, detail, operator_failure, operator_lines
from schemas.orders import UNASSIGNED

log = logging.getLogger("lapak.orders")


class OrdersRunError(NeedsOperator):
    """Some shops failed; ``summary`` holds what the others did."""

    def __init__(self, message: str, summary: dict, lines: list[str] | None = None) -> None:
        super().__init__(message, summary=summary, lines=lines)


def write_sheets(rt: Runtime, months: list[str]) -> list[str]:
    """The step that rewrites the order sheets of ``months`` (and any left pending)."""
    return [str(p) for p in write_pending_sheets(rt, set(months))]


def group_rows(rt: Runtime, summary: dict) -> list[dict]:
    """One row per configured group (and per shop's unassigned lines) of the shops the run read or
    corrected: orders new/changed, stock."""
    rows = []
    for shop, groups in sorted(rt.shops().items()):
        if str(shop) not in summary["shops"] and str(shop) not in summary["errors"]:
            continue  # not this run's (a pull of chosen shops)
        res = summary["shops"].get(str(shop)) or {}
        error = summary["errors"].get(str(shop), "")
        per_group, stock = res.get("groups", {}), res.get("stock", {})
        names = [(g.id, g.name) for g in groups]
        if UNASSIGNED in per_group:
            names.append((UNASSIGNED, "SKU tidak dikenal / unknown SKU"))
        for gid, name in names:
            counts = per_group.get(gid, {})
            rows.append({
                "group": gid, "name": name, "channel": shop.channel, "shop_id": shop.shop_id,
                "orders_new": counts.get("new", 0), "orders_changed": counts.get("changed", 0),
                "stock_pushed": sum(p["group"] == gid for p in stock.get("pushed", [])),
                "stock_failed": sum(f["group"] == gid for f in stock.get("failed", [])),
                "error": error.splitlines()[0] if error else "",
            })
    return rows


def totals(summary: dict) -> dict:
    shops = summary["shops"].values()
    return {
        "shops_ok": len(summary["shops"]), "shops_failed": len(summary["errors"]),
        "orders_listed": sum(r["pulled"] for r in shops), "orders_refreshed": sum(r["refreshed"] for r in shops),
        "orders_new": sum(r["new"] for r in shops), "orders_changed": sum(r["changed"] for r in shops),
        "stock_pushed": sum(len(r.get("stock", {}).get("pushed", [])) for r in shops),
        "stock_failed": sum(len(r.get("stock", {}).get("failed", [])) for r in shops),
        "sheets": len(summary.get("sheets", [])),
        "buyer_details_removed": summary.get("buyer_details_removed", 0),
    }


def _run_shops(rt: Runtime, steps: Steps, flow: str, step: Any, args: tuple, info: dict,
               pull: list[ShopRef] | None = None, correct: list[ShopRef] | None = None) -> dict:
    """``step(shop, *args)`` for each shop of ``pull``, then the stock of each shop of ``correct``
    corrected (both default: every configured shop), the sheets of the months touched, the summary;
    every shop's lease held throughout (one run per shop at a time)."""
    pull = sorted(rt.shops()) if pull is None else pull
    correct = sorted(rt.shops()) if correct is None else correct
    with shop_locks(rt.store, rt.shops(), owner=lock_owner(flow, rt.label)):
        run_id = rt.store.start_run(flow)
        summary: dict[str, Any] = {"flow": flow, **info, "shops": {}, "errors": {}, "problem_details": []}
        try:
            _collect(rt, steps, summary, step, args, pull, correct)
        except BaseException as err:
            summary["errors"]["run"] = f"{type(err).__name__}: {err}"
            rt.store.finish_run(run_id, "FAILED", summary)
            raise
    rt.store.finish_run(run_id, "FAILED" if summary["errors"] else "COMPLETED", summary)
    return summary


def _collect(rt: Runtime, steps: Steps, summary: dict, step: Any, args: tuple, pull: list[ShopRef],
             correct: list[ShopRef]) -> None:
    done = settle({shop: steps.submit(step, shop, *args) for shop in pull})
    for shop, res in done.items():
        if isinstance(res, Exception):
            summary["errors"][str(shop)] = f"{type(res).__name__}: {res}"
            summary["problem_details"].append(Problem(cause_of(res), f"shop {shop}", detail(res)).as_dict())
        else:
            summary["shops"][str(shop)] = res
    # Every channel's orders are in: now each shop's stock (of every channel) is corrected.
    pulled = [shop for shop in correct if str(shop) not in summary["errors"]]
    corrected = settle({shop: steps.submit(correct_shop_stock, shop) for shop in pulled})
    for shop, res in corrected.items():
        if isinstance(res, Exception):
            summary["errors"][str(shop)] = f"stock not corrected: {type(res).__name__}: {res}"
            summary["problem_details"].append(
                Problem(cause_of(res), f"shop {shop}", f"stock not corrected: {detail(res)}").as_dict())
        else:
            summary["shops"].setdefault(str(shop), _untouched(shop))["stock"] = res
    retention = steps.submit(remove_old_buyer_details, summary.get("now") or int(time.time())).result()
    summary["retention"], summary["buyer_details_removed"] = retention, retention["removed"]
    summary["months"] = sorted({m for r in summary["shops"].values() for m in r["months"]})
    summary["sheets"] = steps.submit(write_sheets, sorted({*summary["months"], *retention["months"]})).result()
    summary["sheets_dir"] = str(rt.config.output_dir / ORDERS_DIR)
    summary["groups"] = group_rows(rt, summary)
    summary["totals"] = totals(summary)
    summary["warnings"] = authorisation_warnings(rt)
    for warning in summary["warnings"]:
        log.warning("%s", warning)


def _untouched(shop: ShopRef) -> dict:
    """The result of a shop whose orders were not read in this run (a backfill of another channel)."""
    return {"shop_id": shop.shop_id, "channel": shop.channel, "new": 0, "changed": 0, "pulled": 0, "refreshed": 0,
            "skus": [], "months": [], "groups": {}, "orders": []}


def pull_shop(rt: Runtime, shop: ShopRef, now: int) -> dict:
    """The step per shop of an order pull: its new and changed orders (stock is corrected after every shop's)."""
    return pull_orders_for_shop(rt, shop, now=now, lookback_s=int(rt.config.orders.lookback_hours * 3600),
                                first_run_s=int(rt.config.orders.first_run_days * 86400), correct=False)


def backfill_shop(rt: Runtime, shop: ShopRef, start: int, end: int) -> dict:
    """The step per shop of a backfill (stock is corrected after every shop's)."""
    return backfill_for_shop(rt, shop, start, end, correct=False)


def correct_shop_stock(rt: Runtime, shop: ShopRef) -> dict:
    """The step per shop that pushes the stock rule where the shop shows more (or was never told)."""
    return correct_stock(rt, shop)


def run_order_pull(rt: Runtime, steps: Steps, now: int | None = None, shops: list[str] | None = None,
                   notified_at: float | None = None) -> dict:
    """Pull every shop's new and changed orders on every channel (one cut-off for all), then
    correct every shop's stock, write sheets.

    ``shops`` (``["tiktok:7494001"]``; see :mod:`flows.engine.notified`): only those shops' orders,
    and the stock of every shop (on every channel) sharing a group with them. ``notified_at``: the
    UNIX time of the notification that started this pull; the cut-off is not earlier than its
    :func:`~flows.engine.notified.cutoff` (waited for when ``now`` is not given), and when the
    shops were already pulled up to there the run does nothing and says so (``skipped``)."""
    chosen = chosen_shops(rt, shops) if shops else None
    if notified_at is not None and chosen and already_pulled(rt, chosen, notified_at):
        names = ", ".join(shop_name(s) for s in chosen)
        log.info("orders: %s already pulled after the notification of %s UTC; nothing to do", names,
                 datetime.fromtimestamp(notified_at, UTC).strftime("%H:%M:%S"))
        return {"flow": "pull-orders", "now": now, "skipped": f"{names} already pulled after this notification",
                "shops": {}, "errors": {}, "months": [], "sheets": [], "groups": []}
    if now is None:
        now = wait_for_cutoff(notified_at) if notified_at is not None else int(time.time())
    now = int(now)
    info = {"now": now, **({"chosen": [shop_name(s) for s in chosen]} if chosen else {})}
    return _run_shops(rt, steps, "pull-orders", pull_shop, (now,), info, chosen,
                      sharing_a_group(rt, chosen) if chosen else None)


def run_backfill(rt: Runtime, steps: Steps, start: date, end: date, channel: str | None = None) -> dict:
    """Store every order created from ``start`` 00:00 to ``end`` 24:00 (WIB, inclusive days) on
    ``channel`` (default: every configured channel)."""
    if channel is not None and channel not in rt.config.channels:
        raise ValueError(f"channel {channel!r} is not configured (configured: {', '.join(rt.config.channels)})")
    lo, hi = day_bounds(start, end)
    return _run_shops(rt, steps, "backfill-orders", backfill_shop, (lo, hi),
                      {"start": start.isoformat(), "end": end.isoformat(), "window": [lo, hi],
                       "channel": channel or "all"}, sorted(rt.shops(channel)))


def needs_operator(summary: dict) -> OrdersRunError | None:
    """The run's failure when any shop failed: one line per cause, naming the shops and the action."""
    if not summary["errors"]:
        return None
    problems = [Problem.from_dict(d) for d in summary.get("problem_details") or []]
    problems += [Problem(OTHER, f"shop {s}", e) for s, e in summary["errors"].items()
                 if f"shop {s}" not in {p.subject for p in problems}]
    summary["problems"] = operator_lines(problems)
    return operator_failure(problems, summary=summary, kind=OrdersRunError)


def raise_for_errors(summary: dict) -> None:
    """The run fails, naming each failed shop, when any shop failed."""
    if (err := needs_operator(summary)) is not None:
        raise err
