"""A catalogue row, the listing it becomes, and the reject it becomes instead.

The intake works on whole columns (pandas); these models are the shapes at the edges:
what a row is, what leaves the pipeline for the marketplace, and what goes back to a group.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

# The marketplace's field rules (../shared/marketplace-api.md, "Products").
NAME_MAX = 70
SKU_MAX = 50
DESCRIPTION_MAX = 2000
PRICE_MIN, PRICE_MAX = 100, 100_000_000
STOCK_MIN, STOCK_MAX = 0, 999_999
MIN_ORDER_MIN, MIN_ORDER_MAX = 1, 9_999
PICTURES_MIN, PICTURES_MAX = 1, 5

# Canonical catalogue columns. Photos may come from several columns (Foto 1 … Foto 5).
FIELDS = (
    "name", "category", "price", "stock", "weight", "description", "photo",
    "sku", "min_order", "condition", "variant", "pirt", "halal", "expiry", "unit", "no",
)


class RawRow(BaseModel):
    """One catalogue row as written, keyed by canonical field, before any parsing."""

    model_config = ConfigDict(extra="allow")

    file: str
    sheet: str
    row: int = Field(description="Row number as the spreadsheet shows it (1-based).")
    name: str | None = None
    category: str | None = None
    price: str | None = None
    stock: str | None = None
    weight: str | None = None
    description: str | None = None
    photos: list[str] = Field(default_factory=list)


class Listing(BaseModel):
    """A normalised listing, within every marketplace field rule."""

    model_config = ConfigDict(frozen=True)

    group_id: str
    sku: str = Field(min_length=1, max_length=SKU_MAX)
    name: str = Field(min_length=1, max_length=NAME_MAX)
    category_id: int
    price: int = Field(ge=PRICE_MIN, le=PRICE_MAX)
    stock: int = Field(ge=STOCK_MIN, le=STOCK_MAX)
    min_order: int = Field(default=1, ge=MIN_ORDER_MIN, le=MIN_ORDER_MAX)
    weight_g: float = Field(gt=0)
    condition: Literal["NEW", "USED"] = "NEW"
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    pictures: tuple[HttpUrl, ...] = Field(min_length=PICTURES_MIN, max_length=PICTURES_MAX)
    sheet: str = ""
    row: int = 0


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
