"""The TikTok sandbox's HTTP app: every endpoint of ../shared/tiktok-shop-api.md and ``/admin``.

:func:`create_app` builds it: one :class:`~connectors.tiktok_sandbox.pipeline.TikTokSandbox` on
``app.state.sandbox``, the contract's routers, the admin router, and exception handlers that
answer errors raised outside the call pipeline (unknown paths, admin bodies) in the envelope too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from connectors.sandbox.settings import ALLOWED_HOSTS
from connectors.tiktok_sandbox import routes_auth, routes_images, routes_orders, routes_product_writes, routes_products
from connectors.tiktok_sandbox.admin import router as admin_router
from connectors.tiktok_sandbox.envelope import BAD_REQUEST, INTERNAL, ApiError, envelope
from connectors.tiktok_sandbox.pipeline import TikTokSandbox
from connectors.tiktok_sandbox.settings import TikTokSandboxSettings

CONTRACT_ROUTERS = (routes_auth.router, routes_images.router, routes_products.router,
                    routes_product_writes.router, routes_orders.router)


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    app.state.sandbox.close()


async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    parts = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return envelope(None, code=BAD_REQUEST, message="; ".join(parts) or "invalid request", status=400)


async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return envelope(None, code=BAD_REQUEST, message=f"{request.method} {request.url.path}: {exc.detail}",
                    status=exc.status_code)


async def _api(request: Request, exc: ApiError) -> JSONResponse:
    return envelope(exc.data, code=exc.code, message=exc.message, status=exc.status, headers=exc.headers)


async def _bug(request: Request, exc: Exception) -> JSONResponse:
    return envelope(None, code=INTERNAL, message=f"internal error ({type(exc).__name__})", status=500)


def create_app(settings: TikTokSandboxSettings) -> FastAPI:
    """The whole sandbox (contract endpoints and ``/admin``) as a FastAPI app."""
    app = FastAPI(title="Lapak sandbox TikTok Shop", lifespan=_lifespan, docs_url="/admin/docs",
                  openapi_url="/admin/openapi.json", redoc_url=None)
    app.state.sandbox = TikTokSandbox(settings)
    for exc_class, handler in ((RequestValidationError, _invalid), (StarletteHTTPException, _http),
                               (ApiError, _api), (Exception, _bug)):
        app.add_exception_handler(exc_class, handler)  # type: ignore[arg-type]
    for router in (*CONTRACT_ROUTERS, admin_router):
        app.include_router(router)
    # Only requests addressed to the loopback name it listens on (DNS rebinding: 400).
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(ALLOWED_HOSTS))
    return app
