"""Endpoint paths and limits of the seller API (../shared/marketplace-api.md).

Paths are templates on ``api_url`` (the token path on ``auth_url``); ``{fs_id}`` is filled once
per client. The limiter keys on the filled path, because the marketplace limits per path.
"""

from __future__ import annotations

from typing import Final

TOKEN_PATH: Final = "/token"

CATEGORIES_PATH: Final = "/v1/categories"
CREATE_PATH: Final = "/v3/products/fs/{fs_id}/create"
EDIT_PATH: Final = "/v3/products/fs/{fs_id}/edit"
PRICE_PATH: Final = "/inventory/v1/fs/{fs_id}/price/update"
STOCK_PATH: Final = "/inventory/v1/fs/{fs_id}/stock/update"
ACTIVE_PATH: Final = "/v1/products/fs/{fs_id}/active"
INACTIVE_PATH: Final = "/v1/products/fs/{fs_id}/inactive"
PRODUCT_INFO_PATH: Final = "/inventory/v1/fs/{fs_id}/product/info"
ORDER_LIST_PATH: Final = "/v2/order/list"
ORDER_PATH: Final = "/v2/fs/{fs_id}/order"
PICTURE_UPLOAD_PATH: Final = "/v1/pictures/fs/{fs_id}/upload"

# Short names for counters and log lines, keyed by path template.
ENDPOINT_NAMES: Final = {
    TOKEN_PATH: "token",
    CATEGORIES_PATH: "categories",
    CREATE_PATH: "create",
    EDIT_PATH: "edit",
    PRICE_PATH: "price",
    STOCK_PATH: "stock",
    ACTIVE_PATH: "active",
    INACTIVE_PATH: "inactive",
    PRODUCT_INFO_PATH: "product_info",
    ORDER_LIST_PATH: "orders",
    ORDER_PATH: "order",
    PICTURE_UPLOAD_PATH: "picture_upload",
}

# Items per bulk call.
CREATE_BATCH: Final = 25
EDIT_BATCH: Final = 25
ACTIVE_BATCH: Final = 25
PRICE_BATCH: Final = 100
STOCK_BATCH: Final = 100
PICTURE_UPLOAD_BATCH: Final = 1  # one picture a call, one item against the limit

PRODUCTS_PER_PAGE_MAX: Final = 50
ORDERS_PER_PAGE_MAX: Final = 100

# to_date - from_date must be < 3 days; a window is [from, to) so one second less is the widest.
ORDER_WINDOW_SECONDS: Final = 3 * 24 * 3600 - 1

# Row-level messages the contract names.
ERR_TOO_MANY_REQUEST: Final = "ERR_TOO_MANY_REQUEST"
ERR_TOKEN_EXPIRED: Final = "AUTH_TOKEN_EXPIRED"

# An edit answered with only ``upload_id`` is processed later: read the products back this many
# times, pausing EDIT_CONFIRM_WAIT_S × the read's number before each read after the first.
EDIT_CONFIRM_READS: Final = 3
EDIT_CONFIRM_WAIT_S: Final = 2.0

# Refresh a token this long before the marketplace says it expires.
TOKEN_EXPIRY_MARGIN_S: Final = 60.0

# A row's reason (the marketplace's message, scrubbed) is cut to this many characters.
ROW_REASON_LIMIT: Final = 500
