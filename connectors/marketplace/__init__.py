"""The marketplace connector: a paced, retrying client for the seller API
(../shared/marketplace-api.md). Everything that calls the marketplace goes through
:class:`MarketplaceClient`."""

from connectors.marketplace.client import MarketplaceClient, order_windows
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
)
from connectors.marketplace.pacing import ItemRateLimiter, RateLimitInfo

__all__ = [
    "MarketplaceClient", "order_windows", "ItemRateLimiter", "RateLimitInfo",
    "BatchResult", "RowResult", "NewProduct", "ProductEdit", "PriceUpdate", "StockUpdate",
    "Picture", "ProductInfo", "Order", "Category",
    "MarketplaceError", "AuthError", "BadRequestError", "ForbiddenError", "NotFoundError",
    "RateLimitedError", "ServerError", "TransportError", "MalformedResponseError",
]
