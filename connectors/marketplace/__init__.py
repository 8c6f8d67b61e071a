"""The marketplace connector: a paced, retrying client for the seller API
(../shared/marketplace-api.md). Everything that calls the marketplace goes through
:class:`MarketplaceClient`."""

from connectors.marketplace.client import MarketplaceClient
from connectors.marketplace.errors import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    MarketplaceError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
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
from connectors.marketplace.pacing import ItemRateLimiter, RateLimitInfo
from connectors.marketplace.reads import order_windows

__all__ = [
    "AuthError",
    "BadRequestError",
    "BatchResult",
    "Category",
    "ForbiddenError",
    "ItemRateLimiter",
    "MalformedResponseError",
    "MarketplaceClient",
    "MarketplaceError",
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
