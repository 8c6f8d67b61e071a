"""Order sheets rewritten from the state store: ``<output>/orders/<group>/<YYYY-MM>.xlsx`` and
``.csv``, and the month's sales picture ``<output>/reports/<group>/<YYYY-MM>.png``.

The workbook (:mod:`connectors.sheets.order_book`) holds the orders to ship, one line per order
item with the channel it came from, and the month per product with a chart; the CSV the lines
alone; the picture (:mod:`connectors.reports.sales`) the month's sales for a phone. An item's
group is that of the shop's listing with its SKU; items of unknown SKUs go to
``orders/_unassigned/`` (with a warning; no picture). Every stored order reaches its sheet: a
run killed between storing orders and writing their sheets leaves them pending, and the next run
writes them (:func:`write_pending_sheets`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flows.engine.orders import ShopIndex
from flows.engine.runtime import Runtime
from schemas.dates import WIB, month_bounds, month_of
from schemas.orders import UNASSIGNED

# pandas, openpyxl and the sheet writers are imported where a sheet is written, after the pull
# and the stock correction: a notified pull corrects stock without waiting for those imports.
if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger("lapak.orders")

ORDERS_DIR = "orders"
REPORTS_DIR = "reports"
SHEETS_CURSOR = "order-sheets"
"""UNIX time up to which every stored order change is in the order sheets."""


def _lines(rt: Runtime, months: Iterable[str] | None) -> pd.DataFrame:
    """Every stored order line of ``months`` (all months: None), with its group and month."""
    import pandas as pd

    from connectors.sheets.orders import order_lines

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
    """Rewrite the order sheets and sales pictures of ``months`` (``YYYY-MM`` of ``create_time``
    in Asia/Jakarta; ``None``: every month with orders). A group's existing file for one of the
    months is rewritten even when it no longer has lines. Returns the paths written (workbook,
    CSV and, but for the unassigned lines, picture of each group-month)."""
    lines = _lines(rt, months)
    root = rt.config.output_dir / ORDERS_DIR
    targets = set(zip(lines["group"], lines["month"]))
    for month in set(lines["month"]) if months is None else months:
        targets |= {(p.parent.name, month) for p in root.glob(f"*/{month}.xlsx")}
    now = datetime.now(WIB)  # the to-ship sheet's days waiting are counted to this moment
    written: list[Path] = []
    for group, month in sorted(targets):
        part = lines[(lines["group"] == group) & (lines["month"] == month)]
        if group == UNASSIGNED and len(part):
            log.warning("%d order lines of %s have a SKU no listing of their shop has (%s): written to %s",
                        len(part), month, ", ".join(sorted(set(part["sku"].astype(str)))[:10]),
                        root / UNASSIGNED / f"{month}.xlsx")
        written += _write_month(rt, group, month, part, now)
    return written


def _write_month(rt: Runtime, group: str, month: str, part: pd.DataFrame, now: datetime) -> list[Path]:
    """One group-month's workbook, CSV and (not for the unassigned lines) sales picture, each replaced whole."""
    from connectors.sheets import replace_atomically, write_csv
    from connectors.sheets.order_book import write_order_book
    from connectors.sheets.orders import order_sheet

    unassigned = group == UNASSIGNED
    base = rt.config.output_dir / ORDERS_DIR / group / month
    sheet = order_sheet(part, with_shop=unassigned)
    paths = [
        replace_atomically(base.with_suffix(".xlsx"), lambda p: write_order_book(
            p, part, month=month, now=now, with_shop=unassigned)),
        replace_atomically(base.with_suffix(".csv"), lambda p: write_csv(p, sheet)),
    ]
    if not unassigned:
        # matplotlib takes a second or two to import: only a run that draws a picture pays for it.
        from connectors.reports.sales import write_sales_png

        picture = picture_path(rt, group, month)
        paths.append(replace_atomically(picture, lambda p: write_sales_png(
            p, part, group_name=_group_name(rt, group), month=month)))
    return paths


def picture_path(rt: Runtime, group: str, month: str) -> Path:
    """Where a group-month's sales picture is: ``<output>/reports/<group>/<YYYY-MM>.png``."""
    return rt.config.output_dir / REPORTS_DIR / group / f"{month}.png"


def _group_name(rt: Runtime, group: str) -> str:
    # A group no longer configured keeps its sheets (and pictures) under its id.
    return next((g.name for g in rt.config.groups if g.id == group), group)


def sales_reports(rt: Runtime, paths: Iterable[str | Path]) -> list[dict]:
    """Each sales picture among ``paths`` (what a write returned) with its group-month's totals,
    cancelled orders excluded: group, name, month, picture, orders, units, rupiah."""
    from connectors.sheets.orders import month_totals

    pictures = sorted({Path(p) for p in paths if Path(p).suffix == ".png"})
    if not pictures:
        return []
    lines = _lines(rt, {p.stem for p in pictures})
    rows = []
    for picture in pictures:
        group, month = picture.parent.name, picture.stem
        totals = month_totals(lines[(lines["group"] == group) & (lines["month"] == month)])
        rows.append({"group": group, "name": _group_name(rt, group), "month": month, "picture": str(picture),
                     "orders": totals["orders"], "units": totals["units"], "rupiah": totals["rupiah"]})
    return rows


def write_pending_sheets(rt: Runtime, months: Iterable[str] = ()) -> list[Path]:
    """Rewrite the sheets of ``months`` and of every month holding an order stored or changed
    since the sheets were last completely written."""
    mark = datetime.now(WIB)  # changes from now on are the next run's
    since = datetime.fromtimestamp(rt.store.cursor(SHEETS_CURSOR) or 0, WIB)
    months = set(months) | {month_of(t) for *_, t in rt.store.order_times_changed_since(since)}
    paths = write_order_sheets(rt, months) if months else []
    rt.store.set_cursor(SHEETS_CURSOR, int(mark.timestamp()))
    return paths
