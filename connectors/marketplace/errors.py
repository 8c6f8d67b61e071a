"""Errors the marketplace client raises. Their texts name the endpoint, the HTTP status, the
marketplace's ``error_code`` and message — never a secret, a token or a header."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from connectors.marketplace.models import BatchResult


class MarketplaceError(Exception):
    """A call to the marketplace failed. ``partial`` holds the rows a bulk call settled first."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        error_code: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.error_code = error_code
        self.endpoint = endpoint
        self.partial: BatchResult | None = None

    def __str__(self) -> str:
        parts = [self.endpoint or "marketplace"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.error_code:
            parts.append(self.error_code)
        return f"{' '.join(parts)}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class AuthError(MarketplaceError):
    """The marketplace refused the credentials or the token (HTTP 401)."""


class BadRequestError(MarketplaceError):
    """HTTP 400: malformed request or limit exceeded; repeating it cannot help."""


class ForbiddenError(MarketplaceError):
    """HTTP 403: e.g. the shop is not linked to this ``fs_id`` (``RBAC_MDLW_001``)."""


class NotFoundError(MarketplaceError):
    """HTTP 404: unknown product, order or upload."""


class RateLimitedError(MarketplaceError):
    """HTTP 429 (raised only once the retries are spent)."""

    def __init__(self, message: str, *, reset_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.reset_after = reset_after


class ServerError(MarketplaceError):
    """HTTP 5xx: the change may or may not have been applied."""


class TransportError(MarketplaceError):
    """No answer: connection refused or reset, or a timeout. The change may have been applied."""


class MalformedResponseError(MarketplaceError):
    """The marketplace answered something that is not the contract's JSON envelope."""
