"""The channel seam: what every sales channel can do, in the project's own typed words.

Sync and orders speak only :class:`Channel`; each connector (``connectors/<channel>/``) translates
these words into its API and back. What differs between channels is data
(:class:`ChannelLimits`), not branches. Every write answers a :class:`WriteResult` keyed by SKU;
a failed call raises a :class:`schemas.errors.ChannelError` whose ``partial`` holds the rows
settled before it stopped.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from schemas.categories import Category
from schemas.listing import Listing
from schemas.orders import Order

MARKETPLACE = "marketplace"
"""The first channel's name; a shop id alone means a shop there."""


CHANNEL_LABELS = {MARKETPLACE: "Marketplace", "tiktok": "TikTok Shop"}
"""What people read for a channel (order sheets, run pages)."""


def channel_label(name: str) -> str:
    return CHANNEL_LABELS.get(name, name)


@dataclass(frozen=True, slots=True, order=True)
class ShopRef:
    """A shop on a channel: shop ids are the channel's own, so a shop is known by both."""

    channel: str
    shop_id: int

    def __str__(self) -> str:
        return str(self.shop_id) if self.channel == MARKETPLACE else f"{self.channel}:{self.shop_id}"

    @classmethod
    def of(cls, shop: ShopRef | int) -> ShopRef:
        """A shop as given: a ShopRef, or a shop id of the first channel."""
        return shop if isinstance(shop, ShopRef) else cls(MARKETPLACE, int(shop))


@dataclass(frozen=True, slots=True)
class ChannelLimits:
    """A channel's batch sizes (how many rows one call of each kind may carry), and what else
    differs between channels as data rather than branches."""

    create_batch: int
    edit_batch: int
    toggle_batch: int
    price_batch: int
    stock_batch: int
    stock_max: int = 999_999          # a larger figure is sent as this (and a warning)
    prices_need_active: bool = False  # a price update is refused on an inactive product
    orders_by_update: bool = False    # ``orders(..., by_update=True)`` filters on update time


# ---- what a channel is asked to do -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class NewListing:
    """Create ``listing`` on a shop with ``stock`` (the stock rule's figure, not the catalogue's)."""

    listing: Listing
    stock: int

    @property
    def sku(self) -> str:
        return self.listing.sku


@dataclass(frozen=True, slots=True)
class ListingEdit:
    """Change only ``fields`` (project names: ``name``, ``category_id``, ``min_order``, ``weight_g``,
    ``condition``, ``description``, ``pictures``) of the product ``product_id`` known as ``sku``."""

    sku: str
    product_id: int
    fields: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class SetNumber:
    """An absolute price or stock for the product known as ``sku``."""

    sku: str
    value: int


@dataclass(frozen=True, slots=True)
class ProductRef:
    """A product on a shop: its SKU and the channel's id for it."""

    sku: str
    product_id: int


# ---- what a channel answers --------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RowOutcome:
    """One row's fate: applied (with the channel's product id where it gives one) or failed, why."""

    sku: str
    ok: bool
    product_id: int | None = None
    error: str | None = None


@dataclass
class WriteResult:
    """Every row of one write, applied or failed."""

    applied: list[RowOutcome] = field(default_factory=list)
    failed: list[RowOutcome] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.applied) + len(self.failed)

    def settled(self) -> set[str]:
        return {r.sku for r in (*self.applied, *self.failed)}


@dataclass(frozen=True, slots=True)
class ChannelProduct:
    """A product as the channel holds it now (a read)."""

    product_id: int
    sku: str | None
    name: str
    category_id: int
    price: int
    stock: int | None
    min_order: int
    weight_g: float
    condition: str
    description: str
    pictures: tuple[str, ...]
    status: str
    shop_id: int | None = None


@runtime_checkable
class Channel(Protocol):
    """A sales channel: one app's connection to it, for every shop it serves."""

    name: str
    limits: ChannelLimits

    def categories(self) -> list[Category]:
        """The channel's category tree (leaves carry ``is_leaf``)."""
        ...

    def create(self, shop_id: int, rows: Sequence[NewListing]) -> WriteResult:
        """Create products; never a second one for a SKU, even after a lost answer."""
        ...

    def edit(self, shop_id: int, rows: Sequence[ListingEdit]) -> WriteResult:
        """Change only the given fields of existing products."""
        ...

    def set_prices(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        """Absolute prices (safe to repeat)."""
        ...

    def set_stock(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        """Absolute stock (safe to repeat)."""
        ...

    def set_active(self, shop_id: int, rows: Sequence[ProductRef], active: bool) -> WriteResult:
        """Activate or deactivate products (never deleted)."""
        ...

    def products(self, shop_id: int) -> Iterator[ChannelProduct]:
        """Every product of the shop."""
        ...

    def product(self, shop_id: int, sku: str) -> ChannelProduct | None:
        """The shop's product with this SKU, or None."""
        ...

    def orders(self, shop_id: int, start: int, end: int, *, by_update: bool = False) -> Iterator[Order]:
        """Orders created (``by_update``: last changed, where ``limits.orders_by_update``) in
        ``[start, end)`` (UNIX seconds), with their current status."""
        ...

    def order(self, shop_id: int, order_id: int) -> Order:
        """One order with its current status (:class:`schemas.errors.NotFoundError` if unknown)."""
        ...

    def upload_picture(self, shop_id: int, data: bytes, filename: str) -> str:
        """Upload an image; the reference to use in a listing's ``pictures``."""
        ...

    @property
    def counters(self) -> dict[str, Any]:
        """Calls, items, retries and rate-limit refusals so far (for run summaries)."""
        ...

    def close(self) -> None: ...
