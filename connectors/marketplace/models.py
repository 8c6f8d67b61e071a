"""Typed payloads of the seller API: what the client sends and what it reads back.

Responses are parsed leniently (unknown fields kept or ignored, ``error_code`` as a string,
an integer ``0`` or missing): another marketplace following the contract may add fields.
Requests are strict, so a bad row fails here rather than at the marketplace.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from schemas.categories import Category
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
    "ProductRowsResult",
    "RowResult",
    "StockUpdate",
    "Token",
    "UploadedPicture",
]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# ---------------------------------------------------------------- envelope


class Header(_Lenient):
    process_time: float | None = None
    messages: str | list[str] | None = None
    reason: str | None = None
    error_code: str | None = None

    @field_validator("error_code", mode="before")
    @classmethod
    def _code(cls, v: Any) -> str | None:
        # "no error" arrives as 0, "0", "" or not at all.
        if v is None or v == 0 or v == "" or v == "0":
            return None
        return str(v)

    @property
    def text(self) -> str:
        """The human part: ``reason`` else ``messages``."""
        msg = self.messages if not isinstance(self.messages, list) else "; ".join(map(str, self.messages))
        return self.reason or msg or ""


class Envelope(_Lenient):
    header: Header = Field(default_factory=Header)
    data: Any = None


class Token(BaseModel):
    model_config = ConfigDict(extra="ignore")

    access_token: SecretStr
    expires_in: float | None = None
    token_type: str = "Bearer"


# ---------------------------------------------------------------- requests


class Picture(BaseModel):
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


# ---------------------------------------------------------------- bulk responses


class ProductSuccessRow(_Lenient):
    product_id: int | None = None
    sku: str | None = None


class ProductFailedRow(_Lenient):
    product_id: int | None = None
    product_name: str | None = None
    sku: str | None = None
    error: list[str] | str | None = None

    @property
    def errors(self) -> list[str]:
        if self.error is None:
            return []
        return [self.error] if isinstance(self.error, str) else [str(e) for e in self.error]


class ProductRowsResult(_Lenient):
    """``data`` of create and edit."""

    total_data: int | None = None
    success_data: int | None = None
    fail_data: int | None = None
    success_rows_data: list[ProductSuccessRow] | None = None
    failed_rows_data: list[ProductFailedRow] | None = None


class InventoryFailedRow(_Lenient):
    product_id: int | None = None
    sku: str | None = None
    new_price: int | None = None
    new_stock: int | None = None
    message: str | None = None
    error: str | list[str] | None = None

    @property
    def reason(self) -> str:
        if self.message:
            return self.message
        if isinstance(self.error, list):
            return "; ".join(map(str, self.error))
        return self.error or "failed"


class InventoryRowsResult(_Lenient):
    """``data`` of price/update and stock/update."""

    succeed_rows: int | None = None
    failed_rows: int | None = None
    failed_rows_data: list[InventoryFailedRow] | None = None


class ActiveRowsResult(_Lenient):
    """``data`` of active and inactive: failures are bare strings."""

    total_data: int | None = None
    succeed_rows: int | None = None
    failed_rows: int | None = None
    failed_rows_data: list[Any] | None = None


# ---------------------------------------------------------------- reads


class _Value(_Lenient):
    value: Any = None


class _Weight(_Lenient):
    value: float | None = None
    unit: str | None = None


class ProductBasic(_Lenient):
    productID: int
    name: str | None = None
    status: str | int | None = None
    categoryID: int | None = None
    condition: str | int | None = None
    shopID: int | None = None


class ProductInfo(_Lenient):
    """A ``product/info`` row."""

    basic: ProductBasic
    price: _Value = Field(default_factory=_Value)
    stock: _Value = Field(default_factory=_Value)
    weight: _Weight = Field(default_factory=_Weight)
    sku: str | None = None
    description: str | None = None
    pictures: list[Picture] | None = None
    min_order: int | None = None

    @property
    def product_id(self) -> int:
        return self.basic.productID

    @property
    def name(self) -> str | None:
        return self.basic.name


class OrderProduct(_Lenient):
    id: int | None = None
    Name: str | None = None
    sku: str | None = None
    quantity: int = 0
    price: float | None = None
    total_price: float | None = None
    currency: str | None = None


class Buyer(_Lenient):
    id: int | None = None
    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Address(_Lenient):
    address_full: str | None = None
    district: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None


class Recipient(_Lenient):
    name: str | None = None
    phone: str | None = None
    address: Address = Field(default_factory=Address)


class Amount(_Lenient):
    ttl_product_price: float | None = None
    shipping_cost: float | None = None
    ttl_amount: float | None = None


class Order(_Lenient):
    """The order object of the contract, section 4 (current status)."""

    order_id: int
    invoice_ref_num: str | None = None
    shop_id: int | None = None
    order_status: int
    create_time: int
    update_time: int | None = None
    products: list[OrderProduct] = Field(default_factory=list)
    buyer: Buyer = Field(default_factory=Buyer)
    recipient: Recipient = Field(default_factory=Recipient)
    amt: Amount = Field(default_factory=Amount)


# ---------------------------------------------------------------- pictures


class UploadedPicture(_Lenient):
    """``data`` of a picture upload: ``file_path`` goes into a product's ``pictures``."""

    file_path: str
    width: int | None = None
    height: int | None = None
    sha256: str | None = None


# ---------------------------------------------------------------- what the caller gets


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
