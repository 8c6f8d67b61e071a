"""An order as the pipeline keeps it, whatever channel it came from, and what its status means.

A channel connector turns its API's order into an :class:`Order`; the state store keeps it; the
order sheets show its lines. Status codes are the first marketplace's (../shared/marketplace-api.md,
section 4): a channel with other codes maps them onto these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

# Statuses that give an order's units back (the seller's next absolute stock update does).
CANCELLED = frozenset({0, 3, 5, 6, 10, 15})
# Statuses after which an order no longer changes.
FINISHED = frozenset({700}) | CANCELLED
# Paid and not yet shipped: what a group still has to pack and send (both channels' codes).
TO_SHIP = frozenset({220, 221, 400, 450})

# The TikTok-shaped channel's statuses (../shared/tiktok-shop-api.md, section 6) on these codes.
# UNPAID and ON_HOLD orders hold their units (../shared/decisions.md): they are not cancelled.
TIKTOK_STATUS: dict[str, int] = {
    "UNPAID": 100, "ON_HOLD": 200, "AWAITING_SHIPMENT": 400, "PARTIALLY_SHIPPING": 450,
    "AWAITING_COLLECTION": 450, "IN_TRANSIT": 500, "DELIVERED": 600, "COMPLETED": 700, "CANCELLED": 15,
}

# What a group reads in the "Status" column.
STATUS_LABELS: dict[int, str] = {
    100: "Belum dibayar",
    200: "Ditahan",
    0: "Dibatalkan penjual",
    **dict.fromkeys((3, 5, 6, 10, 15), "Dibatalkan"),
    220: "Pembayaran terverifikasi",
    221: "Menunggu persetujuan mitra",
    400: "Diterima penjual",
    450: "Menunggu pickup",
    500: "Dikirim",
    **dict.fromkeys((501, 520, 530), "Kendala pengiriman"),
    540: "Di titik ambil",
    550: "Dikembalikan ke penjual",
    600: "Sampai",
    601: "Komplain pembeli",
    690: "Ditinjau (dugaan penipuan)",
    700: "Selesai",
}

UNASSIGNED = "_unassigned"
"""The group of an order line whose SKU no listing of its shop has."""


def status_label(code: int) -> str:
    return STATUS_LABELS.get(int(code), f"Status {code}")


@dataclass(frozen=True, slots=True)
class OrderLine:
    """One product of an order: its quantity and Rupiah amounts (whole rupiah)."""

    line: int
    product_id: int | None
    sku: str
    name: str
    quantity: int
    price: int
    total_price: int


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who receives the parcel, and where (personal data: only in the state store and order sheets)."""

    name: str = ""
    phone: str = ""
    address: str = ""
    district: str = ""
    city: str = ""
    province: str = ""
    postal_code: str = ""

    def full_address(self) -> str:
        return ", ".join(p for p in (self.address, self.district, self.city, self.province, self.postal_code) if p)


@dataclass(frozen=True, slots=True)
class Order:
    """An order with its current status; times are UNIX seconds."""

    order_id: int
    shop_id: int
    invoice: str
    status: int
    create_time: int
    update_time: int
    lines: tuple[OrderLine, ...] = ()
    buyer_name: str = ""
    recipient: Recipient = Recipient()
    shipping_cost: int = 0
    total_amount: int = 0
    channel: str = "marketplace"  # an order's identity is (channel, order_id)

    @property
    def cancelled(self) -> bool:
        return self.status in CANCELLED

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def to_ship(self) -> bool:
        """Paid and not yet shipped."""
        return self.status in TO_SHIP

    def with_skus(self, sku_of_product: Mapping[int, str]) -> Order:
        """The order with each line lacking a SKU given the SKU of the listing with its product id."""
        if all(line.sku for line in self.lines):
            return self
        lines = tuple(line if line.sku or line.product_id is None
                      else replace(line, sku=sku_of_product.get(line.product_id, ""))
                      for line in self.lines)
        return replace(self, lines=lines)
