"""The errors that cross layers: what went wrong, said so an operator or a facilitator can act.

Every message names what it is about (the file, the key, the endpoint, the shop) and never a
secret, a token or a header. The ``lapak`` command prints any of them as one line.

- :class:`LapakError` and its kinds are the project's own: configuration, catalogue files, a run
  that needs an operator.
- :class:`ChannelError` and its kinds are what any sales channel (marketplace connector) raises,
  in the channel protocol's own words (:mod:`schemas.channel`): sync and orders decide what to do
  from the kind, never from a connector's details.
"""

from __future__ import annotations

from typing import Any


class LapakError(Exception):
    """A failure an operator can act on; its text is the whole story, in one line."""


class ConfigError(LapakError, ValueError):
    """The configuration cannot be used; the message names the file and the key."""


class NeedsOperator(LapakError, RuntimeError):
    """The run did what it safely could; something needs an operator (the message says what).

    ``summary`` is what the run did meanwhile (printed by the ``lapak`` command)."""

    def __init__(self, message: str, *, summary: dict | None = None, lines: list[str] | None = None) -> None:
        super().__init__(message)
        self.summary = summary
        self.lines = lines or [message]  # one per cause: what the run page, its log and artifact say


class CatalogueError(LapakError):
    """The whole catalogue file cannot be used (missing, damaged, not a spreadsheet, no header row).

    ``message_id`` is for the group's facilitator (Indonesian), ``message_en`` for operators.
    """

    def __init__(self, file: str, message_id: str, message_en: str):
        self.file = file
        self.message_id = message_id
        self.message_en = message_en
        super().__init__(f"{file}: {message_en} ({message_id})")


# ---- sales channels ---------------------------------------------------------------------------

class ChannelError(Exception):
    """A call to a sales channel failed. ``partial`` holds the rows a bulk call settled first."""

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
        self.partial: Any = None  # a schemas.channel.WriteResult when a bulk call stopped part-way

    def __str__(self) -> str:
        parts = [self.endpoint or "marketplace"]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.error_code:
            parts.append(self.error_code)
        return f"{' '.join(parts)}: {self.message}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class AuthError(ChannelError):
    """The channel refused the credentials or the token (HTTP 401)."""


class ShopAuthorisationError(AuthError):
    """One shop's authorisation is missing, expired or revoked: that shop fails ("authorise
    again"), the other shops go on. A refused app key or secret is a plain :class:`AuthError`."""


class BadRequestError(ChannelError):
    """HTTP 400: malformed request or limit exceeded; repeating it cannot help."""


class ForbiddenError(ChannelError):
    """HTTP 403: e.g. the shop is not linked to this app (``RBAC_MDLW_001``)."""


class NotFoundError(ChannelError):
    """HTTP 404: unknown product, order or upload."""


class RateLimitedError(ChannelError):
    """HTTP 429 (raised only once the retries are spent)."""

    def __init__(self, message: str, *, reset_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.reset_after = reset_after


class ServerError(ChannelError):
    """HTTP 5xx: the change may or may not have been applied."""


class TransportError(ChannelError):
    """No answer: connection refused or reset, or a timeout. The change may have been applied."""


class MalformedResponseError(ChannelError):
    """The channel answered something that is not its contract's shape."""


def is_transient(err: BaseException) -> bool:
    """Worth another try later: rate limits, 5xx and lost connections, never a 4xx."""
    return isinstance(err, (RateLimitedError, ServerError, TransportError))
