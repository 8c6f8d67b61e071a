"""A listing: what a catalogue row becomes, and what a shop is known to hold.

The intake works on whole columns (an Arrow-backed frame); a group's listings leave it as
:class:`Listing` values. :class:`KnownListing` is a product on a channel as the pipeline last
confirmed it (the state store's row). Both are plain frozen dataclasses: thousands are built per
sync, so validation happens where data enters (the normaliser) and leaves (the channel payload
models), not on every object.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

if TYPE_CHECKING:  # annotations only: importing this module does not load pandas
    import pandas as pd

# The marketplace's field rules (../shared/marketplace-api.md, "Products").
NAME_MAX = 70
SKU_MAX = 50
DESCRIPTION_MAX = 2000
PRICE_MIN, PRICE_MAX = 100, 100_000_000
STOCK_MIN, STOCK_MAX = 0, 999_999
MIN_ORDER_MIN, MIN_ORDER_MAX = 1, 9_999
PICTURES_MIN, PICTURES_MAX = 1, 5

Condition = Literal["NEW", "USED"]
Status = Literal["ACTIVE", "INACTIVE"]


@dataclass(frozen=True, slots=True)
class Listing:
    """One catalogue row made a listing, within every field rule; ``stock`` as the catalogue records it."""

    group_id: str
    sku: str
    name: str
    category_id: int
    price: int
    stock: int
    min_order: int
    weight_g: float
    condition: Condition
    description: str
    pictures: tuple[str, ...]
    active: bool = True  # False: listed, but kept inactive (the catalogue says Nonaktif)
    sheet: str = ""
    row: int = 0
    category_text: str = ""


def listings_of(frame: pd.DataFrame) -> list[Listing]:
    """The normaliser's listings frame as :class:`Listing` values (column by column, no per-row pandas)."""
    cols = {c: frame[c].tolist() for c in ("group_id", "sku", "name", "category_id", "price", "stock",
                                           "min_order", "weight_g", "condition", "description", "pictures",
                                           "sheet", "row")}
    cols["active"] = frame["active"].tolist() if "active" in frame else [True] * len(frame)
    cols["category_text"] = frame["category_text"].tolist() if "category_text" in frame else [""] * len(frame)
    rows: Iterator[tuple] = zip(*cols.values())
    return [Listing(group_id=g, sku=s, name=n, category_id=int(c), price=int(p), stock=int(k), min_order=int(m),
                    weight_g=float(w), condition=str(cond), description=d, pictures=tuple(pics), active=bool(a),
                    sheet=str(sh), row=int(r), category_text=str(ct or ""))
            for g, s, n, c, p, k, m, w, cond, d, pics, sh, r, a, ct in rows]


@dataclass(frozen=True, slots=True)
class KnownListing:
    """A product on a shop as the pipeline last confirmed it (one per shop and SKU).

    ``stock`` is what was last pushed and confirmed (``STOCK_UNKNOWN`` once the channel changed it
    by itself, see :mod:`schemas.stock`); ``recorded_stock`` is what the catalogue said.
    """

    shop_id: int
    sku: str
    group_id: str
    product_id: int | None
    name: str
    category_id: int
    price: int
    stock: int
    recorded_stock: int
    min_order: int
    weight_g: float
    condition: str
    description: str
    pictures: tuple[str, ...]
    status: str = "ACTIVE"
    in_catalogue: bool = True
    has_orders: bool = False
    channel: str = "marketplace"

    @classmethod
    def created(cls, shop_id: int, listing: Listing, product_id: int | None, stock: int,
                channel: str = "marketplace") -> KnownListing:
        """What a confirmed create of ``listing`` (with ``stock`` pushed) leaves on the shop."""
        return cls(shop_id=shop_id, sku=listing.sku, group_id=listing.group_id, product_id=product_id,
                   name=listing.name, category_id=listing.category_id, price=listing.price, stock=stock,
                   recorded_stock=listing.stock, min_order=listing.min_order, weight_g=listing.weight_g,
                   condition=listing.condition, description=listing.description, pictures=listing.pictures,
                   status="ACTIVE" if listing.active else "INACTIVE", channel=channel)

    @property
    def active(self) -> bool:
        return self.status == "ACTIVE"


class Reject(BaseModel):
    """One problem with one catalogue row, in Indonesian for the facilitator and English beside it.

    A row with several problems has several ``Reject`` lines; it counts once as rejected.
    ``severity="warning"`` marks a note on a row that was still listed (e.g. extra photos dropped).
    """

    group_id: str
    file: str
    sheet: str
    row: int
    column: str = Field(description="The column header as the group wrote it.")
    value: str = Field(description="The value as written.")
    reason_id: str = Field(description="Alasan, in Indonesian.")
    reason_en: str
    severity: Literal["reject", "warning"] = "reject"
