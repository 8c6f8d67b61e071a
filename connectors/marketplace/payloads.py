"""What the client sends the seller API: strict payloads, so a bad row fails here rather than at
the marketplace (../shared/marketplace-api.md, "Products")."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.listing import (
    DESCRIPTION_MAX,
    MIN_ORDER_MAX,
    MIN_ORDER_MIN,
    NAME_MAX,
    PICTURES_MAX,
    PICTURES_MIN,
    PRICE_MAX,
    PRICE_MIN,
    SKU_MAX,
    STOCK_MAX,
    STOCK_MIN,
    Listing,
)

__all__ = ["NewProduct", "Picture", "PriceUpdate", "ProductEdit", "StockUpdate"]


class Picture(BaseModel):
    """A picture as the create and edit payloads carry it."""

    file_path: str


class NewProduct(BaseModel):
    """One product for ``create`` (all fields the contract lists)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=NAME_MAX)
    sku: str = Field(min_length=1, max_length=SKU_MAX)
    category_id: int
    price: int = Field(ge=PRICE_MIN, le=PRICE_MAX)
    price_currency: Literal["IDR"] = "IDR"
    stock: int = Field(ge=STOCK_MIN, le=STOCK_MAX)
    min_order: int = Field(default=1, ge=MIN_ORDER_MIN, le=MIN_ORDER_MAX)
    weight: float = Field(gt=0)
    weight_unit: Literal["GR"] = "GR"
    condition: Literal["NEW", "USED"] = "NEW"
    description: str = Field(default="", max_length=DESCRIPTION_MAX)
    pictures: list[Picture] = Field(min_length=PICTURES_MIN, max_length=PICTURES_MAX)
    status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE"

    @classmethod
    def from_listing(cls, listing: Listing, *, status: Literal["ACTIVE", "INACTIVE"] = "ACTIVE") -> NewProduct:
        """The create payload for a normalised :class:`~schemas.listing.Listing`."""
        return cls(
            name=listing.name, sku=listing.sku, category_id=listing.category_id, price=listing.price,
            stock=listing.stock, min_order=listing.min_order, weight=listing.weight_g,
            condition=listing.condition, description=listing.description,
            pictures=[Picture(file_path=str(u)) for u in listing.pictures], status=status,
        )


class ProductEdit(BaseModel):
    """One ``edit`` row: the product id and only the fields that change (unset ones are not sent)."""

    model_config = ConfigDict(extra="forbid")

    id: int
    name: str | None = Field(default=None, min_length=1, max_length=NAME_MAX)
    sku: str | None = Field(default=None, min_length=1, max_length=SKU_MAX)
    category_id: int | None = None
    price: int | None = Field(default=None, ge=PRICE_MIN, le=PRICE_MAX)
    stock: int | None = Field(default=None, ge=STOCK_MIN, le=STOCK_MAX)
    min_order: int | None = Field(default=None, ge=MIN_ORDER_MIN, le=MIN_ORDER_MAX)
    weight: float | None = Field(default=None, gt=0)
    weight_unit: Literal["GR"] | None = None
    condition: Literal["NEW", "USED"] | None = None
    description: str | None = Field(default=None, max_length=DESCRIPTION_MAX)
    pictures: list[Picture] | None = Field(default=None, min_length=PICTURES_MIN, max_length=PICTURES_MAX)
    status: Literal["ACTIVE", "INACTIVE"] | None = None

    def payload(self) -> dict[str, Any]:
        out = self.model_dump(exclude_none=True)
        if "weight" in out:
            out.setdefault("weight_unit", "GR")
        return out


class _InventoryRow(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str | None = Field(default=None, min_length=1, max_length=SKU_MAX)
    product_id: int | None = None

    @model_validator(mode="after")
    def _named(self) -> _InventoryRow:
        if self.sku is None and self.product_id is None:
            raise ValueError("a row needs sku or product_id")
        return self

    @property
    def key(self) -> str:
        """The row's name in results: the SKU (which wins at the marketplace), else the id."""
        return self.sku if self.sku is not None else str(self.product_id)

    def payload(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class PriceUpdate(_InventoryRow):
    new_price: int = Field(ge=PRICE_MIN, le=PRICE_MAX)


class StockUpdate(_InventoryRow):
    new_stock: int = Field(ge=STOCK_MIN, le=STOCK_MAX)
