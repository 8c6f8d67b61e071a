"""The second channel as a :class:`schemas.channel.Channel`: :class:`TikTokChannel`.

Composed of one mixin per concern:
- :mod:`~connectors.tiktok.transport`: signed exchanges, envelope, errors, retries, pacing;
- :mod:`~connectors.tiktok.auth`: per-shop tokens (refresh), shop ciphers, ``authorize``;
- :mod:`~connectors.tiktok.reads`: categories, warehouses, product search and details;
- :mod:`~connectors.tiktok.writes`: create, edit, prices, stock, (de)activation, upload;
- :mod:`~connectors.tiktok.orders`: order search and look-up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import requests
from pydantic import SecretStr
from tenacity import wait_exponential_jitter

from connectors.config import app_secret as resolve_app_secret
from connectors.pacing import ItemRateLimiter
from connectors.scrub import Scrubber
from connectors.tiktok import settings as S
from connectors.tiktok.orders import OrderReads
from connectors.tiktok.transport import Counters, make_call
from connectors.tiktok.writes import Writes
from schemas.config import TikTokConfig
from schemas.errors import ShopAuthorisationError
from schemas.tokens import ShopTokens, TokenKeeper


class TikTokChannel(Writes, OrderReads):
    """One TikTok-shaped app (``app_key`` + secret) for every shop authorised to it.

    Shop, product and category ids are ``int`` here and decimal strings on the wire. Calls are
    paced per path template at ``rate_limit_per_second`` (the server's ``X-RateLimit-*`` can only
    slow them down); 429s, 5xx and lost answers are repeated at most ``max_retries`` times.
    ``category_shop`` is the shop whose token reads the category tree. ``clock``/``sleep`` are for tests.
    """

    name = S.CHANNEL
    limits = S.LIMITS

    def __init__(  # noqa: PLR0913 — the app's credentials and keeper, then keyword-only tuning and test seams
        self,
        api_url: str,
        auth_url: str,
        app_key: str,
        secret: SecretStr | Callable[[], SecretStr],
        tokens: TokenKeeper,
        *,
        rate_limit_per_second: float = 50,
        category_shop: str | int | None = None,
        timeout: float = 30,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 5,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.app_key = app_key
        self._secret_source = secret if callable(secret) else (lambda: secret)
        self._secret_value = None
        self._scrub = Scrubber()  # told the secret when it is resolved, each token as it is learned
        if isinstance(secret, SecretStr):
            self._scrub.hide(secret.get_secret_value())
        self.tokens = tokens
        self.category_shop = str(category_shop) if category_shop is not None else None
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep
        self.limiter = ItemRateLimiter(rate_limit_per_second, burst=rate_limit_per_second, clock=clock, sleep=sleep)
        self._counters = Counters()
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=30, jitter=0.5)
        self._state_lock = threading.Lock()
        self._shop_locks = {}
        self._held = {}
        self._ciphers = {}
        self._warehouses = {}
        self._known = {}

    @classmethod
    def from_config(
        cls,
        cfg: TikTokConfig,
        tokens: TokenKeeper,
        *,
        secret: SecretStr | None = None,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        max_retries: int = 5,
        **options: Any,
    ) -> TikTokChannel:
        """A channel for ``[tiktok]`` of ``lapak.toml``. Without ``secret`` the app secret is resolved
        (env, else the Prefect Secret block) when the first call needs it. ``options`` are the
        constructor's others (``category_shop``, ``timeout``, ``rate_limit_per_second``)."""
        source: SecretStr | Callable[[], SecretStr] = secret if secret is not None else (
            lambda: resolve_app_secret(cfg))
        options.setdefault("rate_limit_per_second", cfg.rate_limit_per_second)
        return cls(cfg.api_url, cfg.auth_url, cfg.app_key, source, tokens, session=session, clock=clock,
                   sleep=sleep, max_retries=max_retries, **options)

    def __repr__(self) -> str:
        return f"TikTokChannel(api_url={self.api_url!r}, auth_url={self.auth_url!r}, app_key={self.app_key!r})"

    def check_credentials(self, shop_ids: Sequence[int | str] = ()) -> None:
        """One signed call for the first of ``shop_ids`` that is authorised: a refused app key or
        secret raises :class:`AuthError` before any work. A shop whose own authorisation is missing
        or ended is not the app's fault: it is left for the run to report (that shop fails)."""
        for shop in map(str, shop_ids):
            try:
                self.call(make_call("GET", S.SHOPS, cipher=False), shop)
            except ShopAuthorisationError:
                continue
            return

    def __enter__(self) -> TikTokChannel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def counters(self) -> dict[str, Any]:
        """Calls and items per endpoint, 429s, retries, token refreshes, lost answers, look-ups (a copy)."""
        return self._counters.as_dict()

    def close(self) -> None:
        self.session.close()


def authorize(cfg: TikTokConfig, tokens: TokenKeeper, shop_id: str | int, code: str, **options: Any) -> ShopTokens:
    """``lapak authorize tiktok --shop ID --code CODE``: trade the seller's auth code for the shop's
    tokens, check they act for exactly that shop, keep them in ``tokens``; return them.
    ``options`` are :meth:`TikTokChannel.from_config`'s (``secret``, ``session``, ``clock``...)."""
    with TikTokChannel.from_config(cfg, tokens, **options) as channel:
        return channel.authorize(str(shop_id), code)
