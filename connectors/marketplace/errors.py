"""The errors the marketplace client raises: the channel errors of :mod:`schemas.errors`.

Their texts name the endpoint, the HTTP status, the marketplace's ``error_code`` and message —
never a secret, a token or a header."""

from schemas.errors import (
    AuthError,
    BadRequestError,
    ChannelError,
    ForbiddenError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)

MarketplaceError = ChannelError
"""The base of every error the marketplace client raises."""

__all__ = [
    "AuthError", "BadRequestError", "ChannelError", "ForbiddenError", "MalformedResponseError",
    "MarketplaceError", "NotFoundError", "RateLimitedError", "ServerError", "TransportError",
]
