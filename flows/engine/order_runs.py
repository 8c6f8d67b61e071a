"""Order pulls and backfills for every configured shop, and what they did per group.

A step per shop (one failed shop doesn't stop the others, but the run then fails), then one
step rewriting the order sheets of the months touched. The run is recorded in the state store.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from flows.engine.locks import lock_owner, shop_locks
from flows.engine.order_sheets import ORDERS_DIR, write_pending_sheets
from flows.engine.orders import backfill_for_shop, pull_orders_for_shop
from flows.engine.runtime import Runtime
from flows.engine.steps import Steps, settle
from schemas.dates import day_bounds
from schemas.errors import NeedsOperator
from schemas.orders import UNASSIGNED


class OrdersRunError(NeedsOperator):
    """Some shops failed; ``summary`` holds what the others did."""

    def __init__(self, message: str, summary: dict) -> None:
        super().__init__(message, summary=summary)


def write_sheets(rt: Runtime, months: list[str]) -> list[str]:
    """The step that rewrites the order sheets of ``months`` (and any left pending)."""
    return [str(p) for p in write_pending_sheets(rt, set(months))]


def group_rows(rt: Runtime, summary: dict) -> list[dict]:
    """One row per configured group (and per shop's unassigned lines): orders new/changed, stock."""
    rows = []
    for shop, groups in sorted(rt.shops().items()):
        res = summary["shops"].get(str(shop)) or {}
        error = summary["errors"].get(str(shop), "")
        per_group, stock = res.get("groups", {}), res.get("stock", {})
        names = [(g.id, g.name) for g in groups]
        if UNASSIGNED in per_group:
            names.append((UNASSIGNED, "SKU tidak dikenal / unknown SKU"))
        for gid, name in names:
            counts = per_group.get(gid, {})
            rows.append({
                "group": gid, "name": name, "shop_id": shop,
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
    }


def _run_shops(rt: Runtime, steps: Steps, flow: str, step: Any, args: tuple, info: dict) -> dict:
    """``step(shop, *args)`` for every shop, the sheets of the months touched, the summary; every
    shop's lease held throughout (one run per shop at a time)."""
    with shop_locks(rt.store, rt.shops(), owner=lock_owner(flow, rt.label)):
        run_id = rt.store.start_run(flow)
        summary: dict[str, Any] = {"flow": flow, **info, "shops": {}, "errors": {}}
        try:
            _collect(rt, steps, summary, step, args)
        except BaseException as err:
            summary["errors"]["run"] = f"{type(err).__name__}: {err}"
            rt.store.finish_run(run_id, "FAILED", summary)
            raise
    rt.store.finish_run(run_id, "FAILED" if summary["errors"] else "COMPLETED", summary)
    return summary


def _collect(rt: Runtime, steps: Steps, summary: dict, step: Any, args: tuple) -> None:
    done = settle({shop: steps.submit(step, shop, *args) for shop in sorted(rt.shops())})
    for shop, res in done.items():
        if isinstance(res, Exception):
            summary["errors"][str(shop)] = f"{type(res).__name__}: {res}"
        else:
            summary["shops"][str(shop)] = res
    summary["months"] = sorted({m for r in summary["shops"].values() for m in r["months"]})
    summary["sheets"] = steps.submit(write_sheets, summary["months"]).result()
    summary["sheets_dir"] = str(rt.config.output_dir / ORDERS_DIR)
    summary["groups"] = group_rows(rt, summary)
    summary["totals"] = totals(summary)


def pull_shop(rt: Runtime, shop_id: int, now: int) -> dict:
    """The step per shop of an order pull: its new and changed orders, its stock corrected."""
    return pull_orders_for_shop(rt, shop_id, now=now, lookback_s=int(rt.config.orders.lookback_hours * 3600),
                                first_run_s=int(rt.config.orders.first_run_days * 86400))


def run_order_pull(rt: Runtime, steps: Steps, now: int | None = None) -> dict:
    """Pull every shop's new and changed orders (one cut-off for all), correct stock, write sheets."""
    now = int(time.time()) if now is None else int(now)
    return _run_shops(rt, steps, "pull-orders", pull_shop, (now,), {"now": now})


def run_backfill(rt: Runtime, steps: Steps, start: date, end: date) -> dict:
    """Store every order created from ``start`` 00:00 to ``end`` 24:00 (WIB, inclusive days)."""
    lo, hi = day_bounds(start, end)
    return _run_shops(rt, steps, "backfill-orders", backfill_for_shop, (lo, hi),
                      {"start": start.isoformat(), "end": end.isoformat(), "window": [lo, hi]})


def raise_for_errors(summary: dict) -> None:
    """The run fails, naming each failed shop, when any shop failed."""
    if summary["errors"]:
        reasons = "; ".join(f"shop {s}: {e}" for s, e in summary["errors"].items())
        raise OrdersRunError(f"{len(summary['errors'])} of {len(summary['errors']) + len(summary['shops'])} "
                             f"shops failed: {reasons}", summary)
