"""The marketplace client: one ``requests.Session`` speaking ../shared/marketplace-api.md.

:class:`MarketplaceClient` is composed of one mixin per concern:
- :mod:`~connectors.marketplace.transport` (``Transport``): HTTP exchange, Bearer token,
  status → typed error, the retry policy;
- :mod:`~connectors.marketplace.bulk` (``Writes``): bulk writes in paced batches, create
  recovery after a lost answer, picture upload — rows settled by the pure functions of
  :mod:`~connectors.marketplace.outcomes`;
- :mod:`~connectors.marketplace.reads` (``Reads``): products, orders, categories.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import requests
from pydantic import SecretStr
from tenacity import wait_exponential_jitter

from connectors.config import client_secret as resolve_client_secret
from connectors.marketplace.bulk import Writes
from connectors.marketplace.reads import Reads, order_windows
from connectors.marketplace.transport import Transport, _Counters
from connectors.pacing import ItemRateLimiter
from connectors.scrub import Scrubber

if TYPE_CHECKING:
    from schemas.config import MarketplaceConfig

__all__ = ["MarketplaceClient", "order_windows"]


class MarketplaceClient(Writes, Reads, Transport):
    """Client for a seller API following the contract, paced and retried.

    ``rate_limit_per_second`` caps items per second per endpoint path; the server's
    ``X-Ratelimit-*`` headers can only slow it down further. ``max_attempts`` bounds the
    tries of one HTTP call and the re-sends of one row. ``clock``/``sleep`` are for tests.
    """

    def __init__(  # noqa: PLR0913 — the app's five credentials, then keyword-only tuning and test seams
        self,
        api_url: str,
        auth_url: str,
        fs_id: int,
        client_id: str,
        client_secret: SecretStr | Callable[[], SecretStr],
        *,
        rate_limit_per_second: float = 5,
        timeout: float = 30,
        session: requests.Session | None = None,
        max_attempts: int = 6,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(client_secret, SecretStr) and not callable(client_secret):
            client_secret = SecretStr(str(client_secret))
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.fs_id = int(fs_id)
        self.client_id = client_id
        self._secret = client_secret
        self._scrub = Scrubber()  # told the secret now (or when it is resolved) and every token issued
        if isinstance(client_secret, SecretStr):
            self._scrub.hide_basic(client_id, client_secret.get_secret_value())
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep
        self.limiter = ItemRateLimiter(rate_limit_per_second, clock=clock, sleep=sleep)
        self._token: SecretStr | None = None
        self._token_expiry = 0.0
        self._token_gen = 0
        self._token_lock = threading.Lock()
        self._counters = _Counters()
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=30, jitter=0.5)

    @classmethod
    def from_config(cls, cfg: MarketplaceConfig, **kwargs: Any) -> MarketplaceClient:
        """A client for ``[marketplace]`` of ``lapak.toml`` (a ``MarketplaceConfig``). The secret is
        resolved when the first token is needed: a run that never calls the marketplace needs none."""
        return cls(cfg.api_url, cfg.auth_url, cfg.fs_id, cfg.client_id, lambda: resolve_client_secret(cfg),
                   rate_limit_per_second=cfg.rate_limit_per_second, **kwargs)

    def __repr__(self) -> str:
        return (f"MarketplaceClient(api_url={self.api_url!r}, auth_url={self.auth_url!r}, "
                f"fs_id={self.fs_id}, client_id={self.client_id!r})")

    def __enter__(self) -> MarketplaceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    @property
    def counters(self) -> dict[str, Any]:
        """Calls and items per endpoint, HTTP and row-level 429s, retries, look-ups (a copy)."""
        return self._counters.as_dict()
