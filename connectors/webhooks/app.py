"""The receiver's ASGI app (Starlette): ``POST /webhooks/marketplace``, ``POST /webhooks/tiktok``,
``GET /healthz``.

A request is answered as soon as it is verified, read and deduped: the pull it asks for happens
elsewhere (the debouncer hands each shop's burst on from its own thread). Signature checks and
parsing run on the event loop (microseconds); the state store's dedupe runs in a worker thread and
is waited for :data:`~connectors.webhooks.receiver.DEDUPE_WAIT_S` at most (``Receiver.dedupe_wait``).
"""

from __future__ import annotations

import asyncio
import logging
import time

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from connectors.webhooks.notifications import CHANNELS, Notification
from connectors.webhooks.receiver import BODY_MAX, Answer, Receiver

log = logging.getLogger("lapak.webhooks")


async def _body(request: Request, limit: int) -> bytes | None:
    """The raw body, or None when it is longer than ``limit`` bytes (read no further)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            return None
    return bytes(raw)


class _Throttled:
    """A warning logged at most once per ``every`` seconds, saying how many it stands for (a store
    that is down would otherwise log one line per notification)."""

    def __init__(self, every: float = 30.0) -> None:
        self.every, self._last, self._held = every, -every, 0

    def __call__(self, level: int, message: str, *args: object) -> None:
        self._held += 1
        now = time.monotonic()
        if now - self._last >= self.every:
            more = f" (and {self._held - 1} more since the last such line)" if self._held > 1 else ""
            log.log(level, message + more, *args)
            self._last, self._held = now, 0


async def _dedupe(receiver: Receiver, n: Notification, warn: _Throttled) -> bool | None:
    """Whether ``n`` is new, per the state store; None when the store did not answer in time or failed."""
    try:
        return await asyncio.wait_for(asyncio.shield(run_in_threadpool(receiver.first_seen, n)), receiver.dedupe_wait)
    except TimeoutError:
        warn(logging.WARNING, "the state store took over %g s to dedupe a notification: passed on as new",
             receiver.dedupe_wait)
    except Exception as err:  # the store is down: a pull too many beats a notification lost
        warn(logging.ERROR, "could not dedupe a notification (%s): passed on as new", type(err).__name__)
    return None


def create_app(receiver: Receiver, body_max: int = BODY_MAX) -> Starlette:
    """The receiver as an ASGI app."""
    warn = _Throttled()

    async def notify(request: Request) -> JSONResponse:
        channel = request.path_params["channel"]
        client = request.client.host if request.client else "?"
        if channel not in CHANNELS:
            return JSONResponse({"error": f"no channel {channel}"}, status_code=404)
        raw = await _body(request, body_max)
        if raw is None:
            log.warning("refused a %s notification from %s: body over %d bytes (413)", channel, client, body_max)
            return JSONResponse({"error": f"body over {body_max} bytes"}, status_code=413)
        checked = receiver.check(channel, raw, request.headers, client)
        if isinstance(checked, Answer):
            return JSONResponse(checked.body, status_code=checked.status)
        answer = receiver.forward(checked, await _dedupe(receiver, checked, warn))
        return JSONResponse(answer.body, status_code=answer.status)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"ok": True, "channels": sorted(receiver.keys)})

    return Starlette(routes=[Route("/webhooks/{channel}", notify, methods=["POST"]),
                             Route("/healthz", health, methods=["GET"])])
