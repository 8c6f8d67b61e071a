"""The stock the pipeline pushes for a listing, so nothing is oversold.

pushed = recorded − units in non-cancelled orders created after the catalogue was recorded
         − safety buffer, never below 0.

The marketplace decrements stock itself on each sale (and restores it on a cancel), so this
figure agrees with the marketplace's own and never exceeds it.
"""

from __future__ import annotations

from collections.abc import Iterable

from connectors.state import StateStore


def stock_to_push(recorded: int, sold: int, safety_buffer: int) -> int:
    return max(0, int(recorded) - int(sold) - int(safety_buffer))


def desired_stock(store: StateStore, shop_id: int, listings: Iterable, safety_buffer: int) -> dict[str, int]:
    """Stock to push per SKU for ``listings`` of one shop (objects or dicts with ``sku``,
    ``group_id`` and ``recorded_stock``), counting sales since each group's last accepted snapshot."""
    rows = [l if isinstance(l, dict) else {"sku": l.sku, "group_id": l.group_id, "recorded_stock": l.recorded_stock}
            for l in listings]
    recorded_at: dict[str, int] = {}
    for gid in {r["group_id"] for r in rows}:
        snap = store.last_snapshot(gid)
        recorded_at[gid] = int(snap.recorded_at.timestamp()) if snap else 0
    since = {r["sku"]: recorded_at[r["group_id"]] for r in rows}
    sold = store.units_sold(shop_id, since)
    return {r["sku"]: stock_to_push(r["recorded_stock"], sold.get(r["sku"], 0), safety_buffer) for r in rows}
