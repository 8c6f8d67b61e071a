"""Buyers' details kept only as long as needed: the step of every order pull and backfill that
empties them ``[orders] keep_buyer_details_days`` after an order is final (finished or cancelled).

It runs once every shop's orders are stored and before the order sheets are rewritten, so a
month's sheets are rewritten without the details they lost (the months it names are rewritten
with the months the pull touched); an old order a backfill just stored loses them in the same
run, before any sheet shows them. The state store keeps them out afterwards: a backfill or a
late change read again never brings them back (:mod:`connectors.state.retention`).
"""

from __future__ import annotations

import logging

from flows.engine.runtime import Runtime

log = logging.getLogger("lapak.orders")

DAY = 86_400


def remove_old_buyer_details(rt: Runtime, now: int) -> dict:
    """Empty the buyer details of orders final for more than ``keep_buyer_details_days`` at ``now``
    (UNIX s). Returns ``removed`` (orders), ``months`` (``YYYY-MM`` whose sheets to rewrite),
    ``keep_days`` and ``final_before`` (UNIX s)."""
    days = rt.config.orders.keep_buyer_details_days
    final_before = int(now) - days * DAY
    done = rt.store.remove_buyer_details(final_before)
    if done.orders:
        log.info("buyer details removed from %d orders finished or cancelled over %d days ago (data pembeli "
                 "dihapus); order sheets of %s rewritten without them", done.orders, days,
                 ", ".join(sorted(done.months)))
    return {"removed": done.orders, "months": sorted(done.months), "keep_days": days, "final_before": final_before}
