"""An order sheet's rows, as a group reads them: one line per order item, the orders still to
ship, and the month per product.

Indonesian headers with English beside them, real dates (Jakarta wall time) and numbers; the
writers in :mod:`connectors.sheets.safe` and :mod:`connectors.sheets.order_book` make every text
cell inert. Pure frames: the workbook, the CSV and the sales picture are drawn from them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

import pandas as pd

from schemas.channel import MARKETPLACE, channel_label
from schemas.dates import WIB
from schemas.orders import CANCELLED, TO_SHIP, Order, status_label

SHEET_NAME = "Pesanan (Orders)"
TO_SHIP_SHEET = "Perlu Dikirim (To ship)"
MONTH_SUMMARY_SHEET = "Ringkasan (Summary)"
NOTHING_TO_SHIP = "Tidak ada pesanan yang perlu dikirim / Nothing to ship"
NO_COURIER = "—"
"""Shown while orders carry no courier."""

# Sheet columns: internal name -> header people read.
SHEET_COLUMNS: dict[str, str] = {
    "created": "Tanggal Pesanan (WIB) / Order date (WIB)",
    "invoice": "No. Invoice / Invoice no.",
    "order_id": "No. Pesanan / Order ID",
    "channel": "Kanal / Channel",
    "status": "Status",
    "status_code": "Kode Status / Status code",
    "product": "Produk / Product",
    "sku": "SKU",
    "qty": "Jumlah / Qty",
    "unit_price": "Harga Satuan / Unit price",
    "total": "Total",
    "buyer": "Pembeli / Buyer",
    "recipient": "Penerima / Recipient",
    "phone": "Telepon / Phone",
    "address": "Alamat / Address",
    "city": "Kota / City",
}
SHOP_COLUMN = ("shop_id", "ID Toko / Shop ID")  # only in the unassigned sheets, for the operator
_INTEGERS = ("order_id", "status_code", "qty", "unit_price", "total", "shop_id", "line")


def order_lines(orders: Iterable[Order], group_of: Callable[[str], str]) -> pd.DataFrame:
    """One row per order line, with its group (``group_of(sku)``) and month (``YYYY-MM``, WIB)."""
    rows = [{
        "created": o.create_time, "invoice": o.invoice, "order_id": o.order_id,
        "channel": channel_label(o.channel), "status": status_label(o.status),
        "status_code": o.status, "product": x.name, "sku": x.sku, "qty": x.quantity, "unit_price": x.price,
        "total": x.total_price, "buyer": o.buyer_name, "recipient": o.recipient.name, "phone": o.recipient.phone,
        "address": o.recipient.full_address(), "city": o.recipient.city, "shop_id": o.shop_id,
        "group": group_of(x.sku), "line": x.line,
    } for o in orders for x in o.lines]
    df = pd.DataFrame(rows, columns=[*SHEET_COLUMNS, "shop_id", "group", "line"])
    created = pd.to_datetime(df["created"].astype("int64"), unit="s", utc=True).dt.tz_convert(WIB)
    # Excel has no time zones: the wall time in Jakarta, as the header says.
    df["month"] = created.dt.strftime("%Y-%m")
    df["created"] = created.dt.tz_localize(None)
    for col in _INTEGERS:
        df[col] = df[col].astype("int64")
    return df


def order_sheet(lines: pd.DataFrame, *, with_shop: bool = False) -> pd.DataFrame:
    """The lines as a group reads them: sorted, bilingual headers, numbers as numbers."""
    cols = dict(SHEET_COLUMNS)
    if with_shop:
        cols[SHOP_COLUMN[0]] = SHOP_COLUMN[1]
    df = lines.sort_values(["created", "channel", "order_id", "line"], kind="stable")
    return df[list(cols)].rename(columns=cols).reset_index(drop=True)


# The to-ship sheet's columns: internal name -> header; product, SKU and quantity on every row of
# an order's block, the rest on its first row only.
TO_SHIP_COLUMNS: dict[str, str] = {
    "invoice": SHEET_COLUMNS["invoice"],
    "created": SHEET_COLUMNS["created"],
    "waiting": "Menunggu (hari) / Days waiting",
    "channel": SHEET_COLUMNS["channel"],
    "product": SHEET_COLUMNS["product"],
    "sku": "SKU",
    "qty": SHEET_COLUMNS["qty"],
    "recipient": SHEET_COLUMNS["recipient"],
    "phone": SHEET_COLUMNS["phone"],
    "address": SHEET_COLUMNS["address"],
    "courier": "Kurir / Courier",
}
PER_PRODUCT = ("product", "sku", "qty")

# The month summary's columns: internal name -> header.
PRODUCT_COLUMNS: dict[str, str] = {
    "product": SHEET_COLUMNS["product"],
    "sku": "SKU",
    "orders": "Pesanan / Orders",
    "qty": "Unit / Units",
    "total": "Rupiah",
}


def rupiah(amount: float) -> str:
    """``Rp 85.000``: whole rupiah, Indonesian thousands dots."""
    return "Rp " + f"{round(amount):,}".replace(",", ".")


def live_lines(lines: pd.DataFrame) -> pd.DataFrame:
    """The lines of orders not cancelled (what the month sold)."""
    return lines[~lines["status_code"].isin(CANCELLED)]


def _order_keys(lines: pd.DataFrame) -> pd.Series:
    # An order is known by its channel and id: ids of two channels may meet.
    return lines["channel"].astype(str) + ":" + lines["order_id"].astype(str)


def to_ship(lines: pd.DataFrame, now: datetime) -> pd.DataFrame:
    """The lines of orders paid and not yet shipped, oldest order first, one row per product, with
    the whole days each order has waited at ``now`` and ``first`` marking each order's first row."""
    df = lines[lines["status_code"].isin(TO_SHIP)].sort_values(
        ["created", "channel", "order_id", "line"], kind="stable").copy()
    wall = pd.Timestamp(now.astimezone(WIB).replace(tzinfo=None))
    waited = (wall - df["created"]) // pd.Timedelta(days=1)
    df["waiting"] = waited.clip(lower=0).astype("int64")
    df["courier"] = NO_COURIER
    df["first"] = ~df.duplicated(["channel", "order_id"])
    return df[[*TO_SHIP_COLUMNS, "first"]].reset_index(drop=True)


def product_summary(lines: pd.DataFrame) -> pd.DataFrame:
    """Per SKU, cancelled orders excluded: its latest name (the first marketplace's where it sold
    there: another channel's title may be completed), the orders holding it, units and Rupiah;
    the best-selling (in Rupiah) first."""
    live = live_lines(lines)
    live = live.assign(_first=live["channel"] == channel_label(MARKETPLACE)).sort_values(
        ["_first", "created"], kind="stable")
    if live.empty:
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("orders", "qty", "total") else object)
                             for c in PRODUCT_COLUMNS})
    per = live.assign(key=_order_keys(live)).groupby("sku", sort=False).agg(
        product=("product", "last"), orders=("key", "nunique"), qty=("qty", "sum"), total=("total", "sum"))
    per = per.reset_index().sort_values(["total", "sku"], ascending=[False, True], kind="stable")
    per = per[list(PRODUCT_COLUMNS)].astype({"orders": "int64", "qty": "int64", "total": "int64"})
    return per.reset_index(drop=True)


def month_totals(lines: pd.DataFrame) -> dict[str, int]:
    """The month's orders, units and Rupiah (cancelled orders excluded) and its cancelled lines."""
    live = live_lines(lines)
    return {"orders": int(_order_keys(live).nunique()), "units": int(live["qty"].sum()),
            "rupiah": int(live["total"].sum()), "cancelled_lines": len(lines) - len(live)}
