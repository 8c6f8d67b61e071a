"""What every contract call of the sandbox goes through: :class:`Sandbox` and its :meth:`~Sandbox.serve`.

``serve`` applies, in order: injected latency, injected 429 / 5xx-before, authentication (and an
injected token expiry), the endpoint's own checks (403, 400), the per-path item rate limit, the
change itself, and an injected 5xx-after. Handlers are ``async`` and touch SQLite synchronously,
so calls are served one at a time on the event loop (only an injected latency lets others in):
the rate limiter needs no lock and no two calls interleave their checks and writes.

One :class:`Sandbox` per app, on ``app.state.sandbox`` (:func:`sandbox_of` reads it back).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from connectors.sandbox.envelope import ApiError, envelope
from connectors.sandbox.faults import FaultBook
from connectors.sandbox.ratelimit import RateLimiter
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.store import Store
from connectors.sandbox.webhooks import WebhookSender
from schemas.categories import DEFAULT_CATEGORIES

ERR_TOO_MANY_REQUEST = "ERR_TOO_MANY_REQUEST"


@dataclass
class Call:
    """What one contract call used: counted per path once it is answered."""

    path: str
    started: float
    items: int = 0
    row_429: int = 0
    faults: int = 0


class Sandbox:
    """One sandbox marketplace: settings, state, rate limits, faults and order notifications."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.db_path)
        self.limiter = RateLimiter(settings.rate_limit)
        self.faults = FaultBook()
        self.webhooks = WebhookSender(settings.data_dir, settings.client_secret.get_secret_value())
        self.categories = [c.model_dump() for c in DEFAULT_CATEGORIES]
        self.known = frozenset(c.id for c in DEFAULT_CATEGORIES)
        self.leaves = frozenset(c.id for c in DEFAULT_CATEGORIES if c.is_leaf)

    # --- the pipeline every contract call goes through ---------------------------------------

    async def serve(self, request: Request, work: Callable[[Call], Awaitable[Any]], *,
                    auth: bool = True) -> JSONResponse:
        call = Call(path=request.url.path, started=time.perf_counter())
        headers: dict[str, str] = {}
        try:
            for fault in self.faults.fire_all("latency", call.path):
                self._fired(call, "latency")
                await asyncio.sleep(fault.spec.seconds)
            if fault := self.faults.fire("http_429", call.path):
                self._fired(call, "http_429")
                raise ApiError(429, ERR_TOO_MANY_REQUEST, "Too many requests (injected)", headers={
                    "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset-After": f"{fault.spec.reset_after:.3f}"})
            if fault := self.faults.fire("error_5xx_before", call.path):
                self._fired(call, "error_5xx_before")
                raise ApiError(fault.spec.status, "INTERNAL_SERVER_ERROR", "Internal server error (injected)")
            if auth:
                self._authenticate(request, call)
            result = await work(call)
            if fault := self.faults.fire("error_5xx_after", call.path):
                self._fired(call, "error_5xx_after")
                raise ApiError(fault.spec.status, "INTERNAL_SERVER_ERROR",
                               "Internal server error (injected after the change was applied)")
            response = result if isinstance(result, JSONResponse) else envelope(result, call.started)
        except ApiError as err:
            headers = err.headers
            response = envelope(None, call.started, status=err.status, messages=err.messages,
                                reason=err.reason, error_code=err.error_code)
        response.headers.update({**self.limiter.headers(call.path), **headers})
        self.store.bump(call.path, calls=1, items=call.items, row_429=call.row_429, faults=call.faults,
                        http_429=int(response.status_code == 429))
        return response

    def _fired(self, call: Call, kind: str) -> None:
        call.faults += 1
        self.store.fault_fired(kind)

    def _authenticate(self, request: Request, call: Call) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "AUTH_INVALID_TOKEN", "Missing bearer token")
        token = token.strip()
        state = self.store.token_state(token)
        if state == "invalid":
            raise ApiError(401, "AUTH_INVALID_TOKEN", "Invalid access token")
        if state == "expired":
            raise ApiError(401, "AUTH_TOKEN_EXPIRED", "Access token expired")
        if self.faults.fire("token_expiry", call.path):
            self._fired(call, "token_expiry")
            self.store.revoke_token(token)
            raise ApiError(401, "AUTH_TOKEN_EXPIRED", "Access token expired")

    def check_shop(self, fs_id: int, shop_id: int | None, *, required: bool = True) -> None:
        """403 unless ``fs_id`` is ours and ``shop_id`` is linked to it."""
        if fs_id != self.settings.fs_id:
            raise ApiError(403, "RBAC_MDLW_001", f"fs_id {fs_id} is not authorised for this app")
        if shop_id is None:
            if required:
                raise ApiError(400, "INVALID_PARAMETER", "Query parameter shop_id is required")
            return
        if shop_id not in self.settings.shops:
            raise ApiError(403, "RBAC_MDLW_001", f"Shop {shop_id} is not linked to fs_id {fs_id}")

    def admit(self, call: Call, n: int) -> int:
        """Take ``n`` items from the path's bucket; 429 when not even the first fits."""
        call.items += n
        granted = self.limiter.take(call.path, n)
        if granted == 0 and n > 0:
            raise ApiError(429, ERR_TOO_MANY_REQUEST, "Too many requests")
        call.row_429 += n - granted
        return granted


def sandbox_of(request: Request) -> Sandbox:
    """The :class:`Sandbox` of the app serving ``request`` (``create_app`` puts it on ``app.state``)."""
    return request.app.state.sandbox
