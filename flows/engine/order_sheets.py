"""Order sheets rewritten from the state store: ``<output>/orders/<group>/<YYYY-MM>.xlsx`` and ``.csv``.

One line per order item, with the channel it came from; an item's group is that of the shop's
listing with its SKU; items of
unknown SKUs go to ``orders/_unassigned/`` (with a warning). Every stored order reaches its
sheet: a run killed between storing orders and writing their sheets leaves them pending, and
the next run writes them (:func:`write_pending_sheets`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import pandas as pd

from connectors.sheets import replace_atomically, write_csv, write_xlsx
from connectors.sheets.orders import SHEET_NAME, order_lines, order_sheet
from flows.engine.orders import ShopIndex
from flows.engine.runtime import Runtime
from schemas.dates import WIB, month_bounds, month_of
from schemas.orders import UNASSIGNED

log = logging.getLogger("lapak.orders")

ORDERS_DIR = "orders"
SHEETS_CURSOR = "order-sheets"
"""UNIX time up to which every stored order change is in the order sheets."""


def _lines(rt: Runtime, months: Iterable[str] | None) -> pd.DataFrame:
    """Every stored order line of ``months`` (all months: None), with its group and month."""
    bounds = [month_bounds(m) for m in sorted(months)] if months is not None else [(None, None)]
    frames = []
    for shop in sorted(rt.shops()):
        index = ShopIndex.of(rt.store.listings(shop_id=shop.shop_id, channel=shop.channel))
        for lo, hi in bounds:
            orders = rt.store.orders_for(shop.shop_id, created_from=lo, created_to=hi, channel=shop.channel)
            frame = order_lines(orders, index.group)
            if len(frame):
                frames.append(frame)
    return pd.concat(frames, ignore_index=True) if frames else order_lines([], ShopIndex({}, {}).group)


def write_order_sheets(rt: Runtime, months: set[str] | None = None) -> list[Path]:
    """Rewrite the order sheets of ``months`` (``YYYY-MM`` of ``create_time`` in Asia/Jakarta;
    ``None``: every month with orders). A group's existing file for one of the months is
    rewritten even when it no longer has lines. Returns the paths written."""
    lines = _lines(rt, months)
    root = rt.config.output_dir / ORDERS_DIR
    targets = set(zip(lines["group"], lines["month"]))
    for month in set(lines["month"]) if months is None else months:
        targets |= {(p.parent.name, month) for p in root.glob(f"*/{month}.xlsx")}
    written: list[Path] = []
    for group, month in sorted(targets):
        part = lines[(lines["group"] == group) & (lines["month"] == month)]
        sheet = order_sheet(part, with_shop=group == UNASSIGNED)
        if group == UNASSIGNED and len(part):
            log.warning("%d order lines of %s have a SKU no listing of their shop has (%s): written to %s",
                        len(part), month, ", ".join(sorted(set(part["sku"].astype(str)))[:10]),
                        root / UNASSIGNED / f"{month}.xlsx")
        base = root / group / month
        written.append(replace_atomically(base.with_suffix(".xlsx"),
                                          lambda p, sheet=sheet: write_xlsx(p, {SHEET_NAME: sheet})))
        written.append(replace_atomically(base.with_suffix(".csv"), lambda p, sheet=sheet: write_csv(p, sheet)))
    return written


def write_pending_sheets(rt: Runtime, months: Iterable[str] = ()) -> list[Path]:
    """Rewrite the sheets of ``months`` and of every month holding an order stored or changed
    since the sheets were last completely written."""
    mark = datetime.now(WIB)  # changes from now on are the next run's
    since = datetime.fromtimestamp(rt.store.cursor(SHEETS_CURSOR) or 0, WIB)
    months = set(months) | {month_of(t) for *_, t in rt.store.order_times_changed_since(since)}
    paths = write_order_sheets(rt, months) if months else []
    rt.store.set_cursor(SHEETS_CURSOR, int(mark.timestamp()))
    return paths
