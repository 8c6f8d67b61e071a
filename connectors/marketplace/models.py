"""Typed payloads of the seller API, in one place: what the client sends (:mod:`.payloads`, strict),
what it reads back (:mod:`.answers` and :mod:`.order_answers`, lenient: unknown fields kept, the
real marketplace's names taken where they differ), and what a bulk call gives its caller (here).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from connectors.marketplace.answers import (
    ActiveRowsResult,
    Envelope,
    Header,
    InventoryRowsResult,
    ProductInfo,
    ProductPicture,
    ProductRowsResult,
    Token,
    UploadedPicture,
)
from connectors.marketplace.order_answers import Order
from connectors.marketplace.payloads import NewProduct, Picture, PriceUpdate, ProductEdit, StockUpdate
from schemas.categories import Category

__all__ = [
    "ActiveRowsResult",
    "BatchResult",
    "Category",
    "Envelope",
    "Header",
    "InventoryRowsResult",
    "NewProduct",
    "Order",
    "Picture",
    "PriceUpdate",
    "ProductEdit",
    "ProductInfo",
    "ProductPicture",
    "ProductRowsResult",
    "RowResult",
    "StockUpdate",
    "Token",
    "UploadedPicture",
]


class RowResult(BaseModel):
    """One row's outcome: ``key`` is the SKU (or product id) the caller sent."""

    model_config = ConfigDict(frozen=True)

    key: str
    ok: bool
    product_id: int | None = None
    error: str | None = None


class BatchResult(BaseModel):
    """All rows of one bulk operation, split into applied and failed (with the marketplace's reason)."""

    applied: list[RowResult] = Field(default_factory=list)
    failed: list[RowResult] = Field(default_factory=list)

    def __len__(self) -> int:
        return len(self.applied) + len(self.failed)

    @property
    def ok(self) -> bool:
        return not self.failed

    def product_ids(self) -> dict[str, int]:
        """Key → product id for the applied rows that carry one."""
        return {r.key: r.product_id for r in self.applied if r.product_id is not None}
