"""Paths, codes and limits of the TikTok-shaped contract (../shared/tiktok-shop-api.md).

Paths are templates on ``api_url`` (the token paths on ``auth_url``); ``{id}`` is a product id.
The limiter keys on the template, because the contract limits per path template.
"""

from __future__ import annotations

from typing import Final

from schemas.channel import ChannelLimits
from schemas.errors import (
    AuthError,
    BadRequestError,
    ChannelError,
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    ShopAuthorisationError,
)

CHANNEL: Final = "tiktok"

TOKEN_GET: Final = "/api/v2/token/get"
TOKEN_REFRESH: Final = "/api/v2/token/refresh"

SHOPS: Final = "/authorization/202309/shops"
CATEGORIES: Final = "/product/202309/categories"
WAREHOUSES: Final = "/logistics/202309/warehouses"
IMAGE_UPLOAD: Final = "/product/202309/images/upload"
PRODUCTS: Final = "/product/202309/products"
PRODUCT: Final = "/product/202309/products/{id}"
PRODUCT_SEARCH: Final = "/product/202309/products/search"
PARTIAL_EDIT: Final = "/product/202309/products/{id}/partial_edit"
INVENTORY_UPDATE: Final = "/product/202309/products/{id}/inventory/update"
PRICES_UPDATE: Final = "/product/202309/products/{id}/prices/update"
ACTIVATE: Final = "/product/202309/products/activate"
DEACTIVATE: Final = "/product/202309/products/deactivate"
ORDER_SEARCH: Final = "/order/202309/orders/search"
ORDERS: Final = "/order/202309/orders"

LIMITS: Final = ChannelLimits(create_batch=10, edit_batch=10, toggle_batch=20, price_batch=50, stock_batch=50,
                              stock_max=99_999, prices_need_active=True, orders_by_update=True)
PAGE_SIZE: Final = 100        # product and order search pages
SKUS_PER_SEARCH: Final = 100  # seller_skus of one search
IDS_PER_TOGGLE: Final = 20    # product_ids of one activate/deactivate
STOCK_MAX: Final = 99_999
CURRENCY: Final = "IDR"
REFRESH_MARGIN_S: Final = 300  # refresh an access token this close to its expiry
MESSAGE_LIMIT: Final = 500     # a server's message (scrubbed) in an error or a row's outcome

# Codes of section 3 of the contract.
OK: Final = 0
SKU_EXISTS: Final = 12052002
NOT_ACTIVE: Final = 12052004
TOKEN_EXPIRED: Final = 105002
CIPHER_REFUSED: Final = 106013

AUTHORISE_AGAIN: Final = "authorise again (lapak authorize tiktok --shop {shop} --code CODE)"

# code -> (error kind, what the operator should know; ``{shop}`` is filled in).
ERRORS: Final[dict[int, tuple[type[ChannelError], str]]] = {
    36009004: (BadRequestError, ""),
    12052001: (BadRequestError, ""),
    12052002: (BadRequestError, ""),
    12052003: (BadRequestError, "image refused"),
    12052004: (BadRequestError, "inactive: activate first"),
    36004005: (BadRequestError, "the auth code is wrong or used: ask the seller of shop {shop} for a new one"),
    36004001: (AuthError, "the channel refused the app key or secret: check [tiktok] app_key and "
                          "LAPAK_TIKTOK_APP_SECRET"),
    106001: (AuthError, "the channel refused the request signature or app key: check [tiktok] app_key and "
                        "LAPAK_TIKTOK_APP_SECRET"),
    106002: (AuthError, "the channel says this machine's clock is off by more than 300 s: fix the clock (NTP)"),
    105001: (ShopAuthorisationError, "shop {shop}: the channel does not know its access token; " + AUTHORISE_AGAIN),
    36004006: (ShopAuthorisationError, "shop {shop}: the refresh token is wrong or expired; " + AUTHORISE_AGAIN),
    105002: (AuthError, "shop {shop}: access token expired"),
    106013: (ForbiddenError, "shop {shop}: the channel refused its shop_cipher (not this token's shop?)"),
    12052260: (NotFoundError, ""),
    36009002: (RateLimitedError, ""),
    36009003: (ServerError, ""),
}

# Errors of codes the table lacks, by HTTP status.
BY_STATUS: Final[dict[int, type[ChannelError]]] = {
    400: BadRequestError, 401: AuthError, 403: ForbiddenError, 404: NotFoundError, 429: RateLimitedError,
}

# What the channel calls a product's state, in the project's words.
STATUS_NAMES: Final = {"ACTIVATE": "ACTIVE", "SELLER_DEACTIVATED": "INACTIVE"}
