"""The first marketplace (../shared/marketplace-api.md): :class:`MarketplaceChannel`, the channel
protocol over :class:`MarketplaceClient`, a paced, retrying client of the seller API. The errors
it raises are the channel errors of :mod:`schemas.errors`, re-exported here."""

from connectors.marketplace.client import MarketplaceClient
from connectors.marketplace.models import (
    BatchResult,
    Category,
    NewProduct,
    Order,
    Picture,
    PriceUpdate,
    ProductEdit,
    ProductInfo,
    RowResult,
    StockUpdate,
    UploadedPicture,
)
from connectors.marketplace.reads import order_windows
from connectors.pacing import ItemRateLimiter, RateLimitInfo
from schemas.errors import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)

__all__ = [
    "AuthError",
    "BadRequestError",
    "BatchResult",
    "Category",
    "ForbiddenError",
    "ItemRateLimiter",
    "MalformedResponseError",
    "MarketplaceClient",
    "NewProduct",
    "NotFoundError",
    "Order",
    "Picture",
    "PriceUpdate",
    "ProductEdit",
    "ProductInfo",
    "RateLimitInfo",
    "RateLimitedError",
    "RowResult",
    "ServerError",
    "StockUpdate",
    "TransportError",
    "UploadedPicture",
    "order_windows",
]
