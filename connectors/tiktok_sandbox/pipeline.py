"""What every contract call of the TikTok sandbox goes through: :meth:`TikTokSandbox.serve`.

In order: injected latency, injected 429 / 5xx-before, the signature (``app_key`` 106001,
``timestamp`` ±300 s 106002, ``sign`` 106001), the rate limit (429 ``36009002`` with
``Retry-After``, nothing applied), the access token (105001 unknown, 105002 expired, or an
injected expiry), ``shop_cipher`` (106013), the endpoint's own work, then an injected
5xx-after or dropped connection. Signed answers carry ``X-RateLimit-Limit``/``-Remaining``.
Handlers are ``async`` and touch SQLite synchronously, so calls are served one at a time on
the event loop: no two interleave their checks and writes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from connectors.sandbox.faults import FaultBook
from connectors.tiktok.signing import signature_ok
from connectors.tiktok_sandbox.envelope import (
    BAD_REQUEST,
    INTERNAL,
    RATE_LIMITED,
    ApiError,
    DropConnection,
    envelope,
)
from connectors.tiktok_sandbox.limits import RateLimiter, Stats, retry_after
from connectors.tiktok_sandbox.settings import Shop, TikTokSandboxSettings
from connectors.tiktok_sandbox.store import Store
from connectors.tiktok_sandbox.webhooks import WebhookSender, notification

TIMESTAMP_WINDOW = 300
WEBHOOK_KEY = "webhook_url"


@dataclass
class Ctx:
    """What a contract endpoint's work gets: the token's shop, the exact body, the request, now."""

    shop: Shop
    body: bytes
    request: Request
    now: int

    def json(self) -> dict[str, Any]:
        """The body as a JSON object (empty body: ``{}``); 400 ``36009004`` otherwise."""
        if not self.body.strip():
            return {}
        try:
            obj = json.loads(self.body)
        except ValueError:
            raise ApiError(400, BAD_REQUEST, "request body is not valid JSON") from None
        if not isinstance(obj, dict):
            raise ApiError(400, BAD_REQUEST, "request body must be a JSON object")
        return obj

    def query(self, name: str) -> str | None:
        return self.request.query_params.get(name)


def template_of(request: Request) -> str:
    """The route's path template (``/product/202309/products/{product_id}``), else the path."""
    route = request.scope.get("route")
    return getattr(route, "path", None) or request.url.path


class TikTokSandbox:
    """One sandbox: settings, shops, state, rate limit, faults, counters and webhooks."""

    def __init__(self, settings: TikTokSandboxSettings) -> None:
        self.settings = settings
        self.secret = settings.app_secret.get_secret_value()
        self.shops = {s.id: s for s in settings.shop_list()}
        self.store = Store(settings.db_path, settings.images_dir)
        self.limiter = RateLimiter(settings.rate_limit)
        self.faults = FaultBook()
        self.stats = Stats()
        self.clock_offset = 0.0
        self.webhooks = WebhookSender(settings.app_key, self.secret, self.stats, timeout=settings.webhook_timeout,
                                      retries=settings.webhook_retries, backoff=settings.webhook_backoff)

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def close(self) -> None:
        self.webhooks.stop()
        self.store.close()

    def notify(self, shop_id: str, order: dict[str, Any]) -> None:
        """Queue an ORDER_STATUS_CHANGE notification when a webhook target is set."""
        url = self.store.get_setting(WEBHOOK_KEY)
        if url:
            self.webhooks.send(url, notification(shop_id, order, self.now()))

    def _fire(self, kind: str, path: str) -> Any:
        fault = self.faults.fire(kind, path)
        if fault is not None:
            self.stats.fault(kind)
        return fault

    async def _before(self, path: str) -> None:
        for fault in self.faults.fire_all("latency", path):
            self.stats.fault("latency")
            await asyncio.sleep(fault.spec.seconds)
        if fault := self._fire("http_429", path):
            raise ApiError(429, RATE_LIMITED, "Too many requests (injected)",
                           headers={"Retry-After": str(fault.spec.retry_after)})
        if fault := self._fire("error_5xx_before", path):
            raise ApiError(fault.spec.status, INTERNAL, "Internal error (injected)")

    def _after(self, path: str) -> None:
        if fault := self._fire("error_5xx_after", path):
            raise ApiError(fault.spec.status, INTERNAL, "Internal error (injected after the change was applied)")
        if self._fire("drop_after", path):
            raise DropConnection()

    async def serve(self, request: Request, work: Callable[[Ctx], Awaitable[Any]], *,
                    cipher: bool = True, sign_body: bool = True) -> Response:
        """Answer one signed contract call; ``work`` returns the envelope's ``data``."""
        template, path = template_of(request), request.url.path
        try:
            await self._before(path)
            body = await request.body()
            self._verify(request, body if sign_body else b"")
            if wait := self.limiter.take(template):
                raise ApiError(429, RATE_LIMITED, "Too many requests", headers={"Retry-After": retry_after(wait)})
            shop = self._shop(request, path, cipher)
            data = await work(Ctx(shop, body, request, self.now()))
            self._after(path)
            response: Response = envelope(data)
        except ApiError as err:
            response = envelope(err.data, code=err.code, message=err.message, status=err.status, headers=err.headers)
        except DropConnection as drop:
            response = drop.response()
        response.headers.update(self.limiter.headers(template))
        self.stats.call(template, response.status_code)
        return response

    async def serve_plain(self, request: Request, work: Callable[[int], Any]) -> JSONResponse:
        """An unsigned call (the token endpoints): faults apply, no signature, no rate limit."""
        path = request.url.path
        try:
            await self._before(path)
            data = work(self.now())
            self._after(path)
            response = envelope(data)
        except ApiError as err:
            response = envelope(None, code=err.code, message=err.message, status=err.status, headers=err.headers)
        except DropConnection as drop:
            response = drop.response()
        self.stats.call(template_of(request), response.status_code)
        return response

    def _verify(self, request: Request, body: bytes) -> None:
        q = request.query_params
        if q.get("app_key") != self.settings.app_key:
            raise ApiError(401, 106001, "app_key is missing or unknown")
        ts = q.get("timestamp", "")
        if not ts.isdigit() or abs(int(ts) - self.now()) > TIMESTAMP_WINDOW:
            raise ApiError(401, 106002, f"timestamp is missing or more than {TIMESTAMP_WINDOW} s off")
        raw = request.scope.get("raw_path")
        path = raw.decode("latin-1") if raw else request.url.path
        if not signature_ok(self.secret, path, dict(q), body, q.get("sign", "")):
            raise ApiError(401, 106001, "sign does not match")

    def _shop(self, request: Request, path: str, cipher_required: bool) -> Shop:
        token = request.headers.get("x-tts-access-token", "")
        state, shop_id = self.store.token_state(token, "access", self.now())
        if state == "unknown" or shop_id not in self.shops:
            raise ApiError(401, 105001, "access token is unknown")
        if state == "expired":
            raise ApiError(401, 105002, "access token expired")
        if self._fire("token_expiry", path):
            self.store.expire_token(token, self.now())
            raise ApiError(401, 105002, "access token expired")
        shop = self.shops[shop_id]
        given = request.query_params.get("shop_cipher")
        if (cipher_required or given is not None) and given != shop.cipher:
            raise ApiError(403, 106013, "shop_cipher is missing or not this token's shop")
        return shop


def sandbox_of(request: Request) -> TikTokSandbox:
    return request.app.state.sandbox
