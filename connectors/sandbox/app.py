"""The sandbox marketplace's HTTP app: every endpoint of ../shared/marketplace-api.md, and ``/admin``.

:func:`create_app` builds it: one :class:`~connectors.sandbox.pipeline.Sandbox` (settings, state,
rate limits, faults) on ``app.state.sandbox``, the contract's routers
(:mod:`connectors.sandbox.routes`), the admin router (:mod:`connectors.sandbox.admin`), and
exception handlers that answer errors raised outside the call pipeline in the contract's envelope
too. What every contract call goes through is described in :mod:`connectors.sandbox.pipeline`.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from connectors.sandbox.admin import router as admin_router
from connectors.sandbox.envelope import ApiError, envelope
from connectors.sandbox.pipeline import ERR_TOO_MANY_REQUEST, Call, Sandbox, sandbox_of
from connectors.sandbox.routes import (
    CONTRACT_ROUTERS,
    CREATE_MAX,
    EDIT_MAX,
    ORDER_WINDOW_MAX,
    ORDERS_PER_PAGE_MAX,
    PRICE_STOCK_MAX,
    PRODUCTS_PER_PAGE_MAX,
    STATUS_MAX,
)
from connectors.sandbox.settings import ALLOWED_HOSTS, SandboxSettings

__all__ = [
    "CREATE_MAX",
    "EDIT_MAX",
    "ERR_TOO_MANY_REQUEST",
    "ORDERS_PER_PAGE_MAX",
    "ORDER_WINDOW_MAX",
    "PRICE_STOCK_MAX",
    "PRODUCTS_PER_PAGE_MAX",
    "STATUS_MAX",
    "Call",
    "Sandbox",
    "create_app",
]


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.sandbox.store.close()


# --- errors outside serve(): the envelope too, with the rate-limit headers -----------------------


def _outside(request: Request, status: int, code: str, message: str) -> JSONResponse:
    path = request.url.path
    resp = envelope(None, time.perf_counter(), status=status, messages=message, error_code=code)
    if not path.startswith("/admin"):
        sb = sandbox_of(request)
        resp.headers.update(sb.limiter.headers(path))
        sb.store.bump(path, calls=1, http_429=int(status == 429))
    return resp


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    parts = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return _outside(request, 400, "INVALID_PARAMETER", "; ".join(parts) or "Invalid request")


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
    return _outside(request, exc.status_code, code, str(exc.detail))


async def _api(request: Request, exc: ApiError) -> JSONResponse:
    return _outside(request, exc.status, exc.error_code, exc.messages)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    return _outside(request, 500, "INTERNAL_SERVER_ERROR", f"Unexpected {type(exc).__name__}")


_EXCEPTION_HANDLERS = (
    (RequestValidationError, _invalid),
    (StarletteHTTPException, _http),
    (ApiError, _api),
    (Exception, _bug),
)


def create_app(settings: SandboxSettings) -> FastAPI:
    """The whole sandbox (contract endpoints and ``/admin``) as a FastAPI app."""
    sb = Sandbox(settings)
    app = FastAPI(title="Lapak sandbox marketplace", lifespan=_lifespan, docs_url="/admin/docs",
                  openapi_url="/admin/openapi.json", redoc_url=None)
    app.state.sandbox = sb
    for exc_class, handler in _EXCEPTION_HANDLERS:
        app.add_exception_handler(exc_class, handler)
    for router in CONTRACT_ROUTERS:
        app.include_router(router)
    app.include_router(admin_router)
    # Only requests addressed to the loopback name it listens on: a web page that rebinds its own
    # domain to 127.0.0.1 (DNS rebinding) sends its own Host and is refused (400).
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(ALLOWED_HOSTS))
    return app
