"""An order sheet's rows: one line per order item, as a group reads them.

Indonesian headers with English beside them, real dates (Jakarta wall time) and numbers; the
writers in :mod:`connectors.sheets.safe` make every text cell inert.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pandas as pd

from schemas.channel import channel_label
from schemas.dates import WIB
from schemas.orders import Order, status_label

SHEET_NAME = "Pesanan (Orders)"

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
