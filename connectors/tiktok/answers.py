"""What the TikTok-shaped API answers, read leniently (../shared/tiktok-shop-api.md).

Every model ignores fields it does not know, takes numbers written as text (``"15000"``,
``"15000.00"``) and tolerates a missing optional field. IDs of products, SKUs-on-the-channel,
categories and orders are read as ``int`` (the wire's decimal strings); warehouse ids stay text,
sent back as they came. A field the client truly needs and the answer lacks is a
:class:`pydantic.ValidationError`, turned into one line naming the field by
:func:`connectors.marketplace.answers.explain`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr


def _text(v: Any) -> Any:
    if v is None:
        return ""
    return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


def _int(v: Any) -> Any:
    return v.strip() if isinstance(v, str) else v


def _money(v: Any) -> Any:
    """Whole rupiah from ``15000``, ``"15000"`` or ``"15000.00"``; a blank is None."""
    if v is None or (isinstance(v, str) and not v.strip()):
        return None
    try:
        return int(Decimal(str(v).strip()).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    except (InvalidOperation, ValueError):
        raise ValueError("not an amount") from None


Text = Annotated[str, BeforeValidator(_text)]
Id = Annotated[int, BeforeValidator(_int)]
Money = Annotated[int | None, BeforeValidator(_money)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Envelope(_Lenient):
    code: Id
    message: Text = ""
    request_id: Text = ""
    data: Any = None


# ---------------------------------------------------------------- authorisation


class TokenData(_Lenient):
    answer_name: ClassVar[str] = "the token answer"

    access_token: SecretStr
    access_token_expire_in: Id
    refresh_token: SecretStr | None = None
    refresh_token_expire_in: Id | None = None
    open_id: Text = ""
    seller_name: Text = ""
    seller_base_region: Text = ""


class Shop(_Lenient):
    id: Text
    name: Text = ""
    region: Text = ""
    cipher: Text


class Shops(_Lenient):
    answer_name: ClassVar[str] = "the authorised shops"

    shops: list[Shop] = Field(default_factory=list)


# ---------------------------------------------------------------- shop set-up


class Warehouse(_Lenient):
    id: Text
    name: Text = ""
    is_default: bool = False


class Warehouses(_Lenient):
    answer_name: ClassVar[str] = "the warehouses"

    warehouses: list[Warehouse] = Field(default_factory=list)


class CategoryRow(_Lenient):
    id: Id
    parent_id: Text = ""
    local_name: Text = ""
    is_leaf: bool = False


class Categories(_Lenient):
    answer_name: ClassVar[str] = "the categories"

    categories: list[CategoryRow] = Field(default_factory=list)


class Uploaded(_Lenient):
    answer_name: ClassVar[str] = "the image upload answer"

    uri: Text
    url: Text = ""


# ---------------------------------------------------------------- products


class Price(_Lenient):
    currency: Text = ""
    sale_price: Money = None
    amount: Money = None  # the write's name for it, in case a server echoes it

    @property
    def value(self) -> int | None:
        return self.sale_price if self.sale_price is not None else self.amount


class Stock(_Lenient):
    warehouse_id: Text = ""
    quantity: Id = 0


class Sku(_Lenient):
    id: Id
    seller_sku: Text = ""
    price: Price | None = None
    inventory: list[Stock] | None = None


class Created(_Lenient):
    answer_name: ClassVar[str] = "the create answer"

    product_id: Id
    skus: list[Sku] = Field(default_factory=list)


class Found(_Lenient):
    """A product of a search page."""

    id: Id
    title: Text = ""
    status: Text = ""
    skus: list[Sku] = Field(default_factory=list)


class SearchPage(_Lenient):
    answer_name: ClassVar[str] = "the product search page"

    products: list[Found] = Field(default_factory=list)
    next_page_token: Text = ""
    total_count: Id | None = None


class Image(_Lenient):
    uri: Text = ""


class Chain(_Lenient):
    id: Id
    local_name: Text = ""


class Weight(_Lenient):
    value: Text = ""
    unit: Text = "KILOGRAM"

    @property
    def grams(self) -> float:
        try:
            value = Decimal(self.value.strip() or "0")
        except InvalidOperation:
            return 0.0
        per_unit = {"GRAM": 1, "G": 1, "POUND": Decimal("453.59237")}.get(self.unit.upper(), 1000)
        return float(value * per_unit)


class Detail(Found):
    answer_name: ClassVar[str] = "the product"

    description: Text = ""
    category_chains: list[Chain] = Field(default_factory=list)
    main_images: list[Image] = Field(default_factory=list)
    package_weight: Weight | None = None


class ToggleErrorDetail(_Lenient):
    product_id: Id | None = None


class ToggleError(_Lenient):
    code: Text = ""
    message: Text = ""
    detail: ToggleErrorDetail = Field(default_factory=ToggleErrorDetail)


class Toggled(_Lenient):
    answer_name: ClassVar[str] = "the (de)activate answer"

    errors: list[ToggleError] | None = None
