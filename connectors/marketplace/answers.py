"""What the client reads back from the seller API: lenient answers, in the contract's shape and the
real marketplace's (../shared/real-api-examples/, copied to tests/fixtures/real-api-examples/).

Every answer model keeps unknown fields (``model_extra``) and never fails on one: another
marketplace following the contract may add fields. Where the real API names a field the contract
needs otherwise, the model takes it under the contract's name (``other.sku`` → ``sku``,
``extraAttribute.minOrder`` → ``min_order``, ``basic.shortDesc`` → ``description``,
``basic.childCategoryID`` → ``basic.categoryID``) and leaves the raw value where it was; the
real codes (status, condition, weight unit) are read by properties in the project's words.
A field the contract truly needs and the answer lacks is a :class:`pydantic.ValidationError`,
which the client turns into one line naming the field (:func:`explain`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

__all__ = [
    "ActiveRowsResult", "Envelope", "Header", "InventoryRowsResult", "ProductInfo", "ProductPicture",
    "ProductRowsResult", "Text", "Token", "UploadedPicture", "explain",
]

# Real product codes (../shared/decisions.md, "Real answers of the first marketplace"); the
# contract's own words ("ACTIVE", "NEW", "GR") are read as they are.
STATUS_NAMES: dict[int, str] = {1: "ACTIVE", 2: "ACTIVE", 3: "INACTIVE", -1: "PENDING", -2: "BANNED", 0: "DELETED"}
CONDITION_NAMES: dict[int, str] = {1: "NEW", 2: "USED"}
GRAMS_PER_UNIT: dict[int, float] = {1: 1.0, 2: 1000.0}
_UNIT_CODES: dict[str, int] = {"GR": 1, "G": 1, "GRAM": 1, "KG": 2, "KILOGRAM": 2}


def _as_text(v: Any) -> Any:
    """SKUs and names that arrive as numbers are text."""
    return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v


Text = Annotated[str | None, BeforeValidator(_as_text)]


def _code(v: Any) -> int | str | None:
    """A code as an integer when it is one (``1``, ``"1"``), else its upper-case text."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return int(v)
    text = str(v).strip()
    try:
        return int(text)
    except ValueError:
        return text.upper() or None


def _unit(v: Any) -> int | None:
    """A weight unit as 1 (gram) or 2 (kilogram); ``None`` if it is neither."""
    code = _code(v)
    if isinstance(code, str):
        return _UNIT_CODES.get(code)
    return code if code in GRAMS_PER_UNIT else None


# Union members pydantic adds to an error's location ("status.str"): not field names.
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict", "none", "is-instance"})


def explain(err: ValidationError, what: str, rename: Mapping[str, str] | None = None) -> str:
    """One line on what an answer lacks or holds unreadably, naming the fields, never the values."""
    found: dict[str, str] = {}  # field → what is wrong with it (the first error of each field)
    for e in err.errors(include_url=False):
        names = [str(x) for x in e["loc"] if not (isinstance(x, str) and ("[" in x or x in _TYPE_TAGS))]
        loc = ".".join(names) or "data"
        for old, new in (rename or {}).items():
            if loc == old or loc.startswith(old + "."):
                loc = new + loc[len(old):]
        if e["type"] == "missing" or e.get("input", "") is None:
            found.setdefault(loc, f"lacks {loc}")
        else:
            found.setdefault(loc, f"has an unreadable {loc} ({e['msg'].removeprefix('Value error, ')})")
    parts = list(found.values())
    more = f" (+{len(parts) - 3} more)" if len(parts) > 3 else ""
    return f"{what} {'; '.join(parts[:3])}{more}"


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


# ---------------------------------------------------------------- bulk answers


class ProductSuccessRow(_Lenient):
    product_id: int | None = None
    sku: Text = None


class ProductFailedRow(_Lenient):
    product_id: int | None = None
    product_name: Text = None
    sku: Text = None
    error: list[str] | str | None = None

    @property
    def errors(self) -> list[str]:
        if self.error is None:
            return []
        return [self.error] if isinstance(self.error, str) else [str(e) for e in self.error]


class ProductRowsResult(_Lenient):
    """``data`` of create and edit. A real edit may answer only ``upload_id`` (processed later)."""

    total_data: int | None = None
    success_data: int | None = None
    fail_data: int | None = None
    success_rows_data: list[ProductSuccessRow] | None = None
    failed_rows_data: list[ProductFailedRow] | None = None
    upload_id: int | str | None = None

    @property
    def pending_upload(self) -> int | str | None:
        """The upload id when the answer is only "accepted, processed later" (no rows, no counts)."""
        if self.upload_id is None or self.success_rows_data or self.failed_rows_data:
            return None
        return self.upload_id if not (self.success_data or self.fail_data) else None


class InventoryFailedRow(_Lenient):
    product_id: int | None = None
    sku: Text = None
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


# ---------------------------------------------------------------- product reads


class _Value(_Lenient):
    value: Any = None


class _Weight(_Lenient):
    value: float | None = None
    unit: int | str | None = None  # the contract's "GR"; the real API's 1 (gram) or 2 (kilogram)

    @field_validator("unit")
    @classmethod
    def _known(cls, v: int | str | None) -> int | str | None:
        if v is not None and _unit(v) is None:
            raise ValueError(f"{v!r} is neither 1 or GR (gram) nor 2 or KG (kilogram)")
        return v

    @property
    def grams(self) -> float | None:
        if self.value is None:
            return None
        return self.value * GRAMS_PER_UNIT[_unit(self.unit) or 1]


class ProductBasic(_Lenient):
    productID: int
    name: Text = None
    status: str | int | None = None
    categoryID: int | None = None
    condition: str | int | None = None
    shopID: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _real_names(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("categoryID") is None and data.get("childCategoryID") is not None:
            data = {**data, "categoryID": data["childCategoryID"]}
        return data


class ProductPicture(_Lenient):
    """A picture of a product read: the contract's ``file_path``, or the real ``filePath``
    (often a folder) and ``OriginalURL``."""

    file_path: str | None = None
    filePath: str | None = None
    OriginalURL: str | None = None

    @property
    def ref(self) -> str | None:
        """``file_path``, else ``filePath`` when it is a URL, else ``OriginalURL``, else the folder."""
        if self.file_path:
            return self.file_path
        if self.filePath and "://" in self.filePath:
            return self.filePath
        return self.OriginalURL or self.filePath or None


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    v = data.get(key)
    return v if isinstance(v, Mapping) else {}


class ProductInfo(_Lenient):
    """A ``product/info`` row."""

    answer_name: ClassVar[str] = "product answer"

    basic: ProductBasic
    price: _Value = Field(default_factory=_Value)
    stock: _Value = Field(default_factory=_Value)
    weight: _Weight = Field(default_factory=_Weight)
    sku: Text = None
    description: str | None = None
    pictures: list[ProductPicture] | None = None
    min_order: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _real_names(cls, data: Any) -> Any:
        """The real API's names for what the contract calls ``sku``, ``min_order``, ``description``."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        found = {"sku": _sub(data, "other").get("sku"), "min_order": _sub(data, "extraAttribute").get("minOrder"),
                 "description": _sub(data, "basic").get("shortDesc")}
        for name, value in found.items():
            if data.get(name) is None and value is not None:
                data[name] = value
        return data

    @property
    def product_id(self) -> int:
        return self.basic.productID

    @property
    def name(self) -> str | None:
        return self.basic.name

    @property
    def status_name(self) -> str:
        """``ACTIVE``, ``INACTIVE``, ``PENDING``, ``BANNED``, ``DELETED`` (or ``UNKNOWN``)."""
        code = _code(self.basic.status)
        if code is None:
            return "ACTIVE"
        if isinstance(code, int):
            return STATUS_NAMES.get(code, "UNKNOWN")
        return code

    @property
    def condition_name(self) -> str:
        """``NEW`` or ``USED``."""
        code = _code(self.basic.condition)
        if code is None:
            return "NEW"
        return CONDITION_NAMES.get(code, str(code)) if isinstance(code, int) else code

    @property
    def weight_grams(self) -> float:
        return self.weight.grams or 0.0

    @property
    def picture_refs(self) -> tuple[str, ...]:
        return tuple(r for p in self.pictures or [] if (r := p.ref))


# ---------------------------------------------------------------- pictures


class UploadedPicture(_Lenient):
    """``data`` of a picture upload: ``file_path`` goes into a product's ``pictures``."""

    file_path: str
    width: int | None = None
    height: int | None = None
    sha256: str | None = None
