"""The sandbox marketplace's HTTP app: every endpoint of ../shared/marketplace-api.md.

Each contract call goes through :meth:`Sandbox.serve`, which applies, in order: injected
latency, injected 429 / 5xx-before, authentication (and an injected token expiry), the
endpoint's own checks (403, 400), the per-path item rate limit, the change itself, and an
injected 5xx-after. Handlers are ``async`` and touch SQLite synchronously, so calls are
served one at a time on the event loop (only an injected latency lets others in): the rate
limiter needs no lock and no two calls interleave their checks and writes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from connectors.sandbox.admin import router as admin_router
from connectors.sandbox.envelope import ApiError, envelope
from connectors.sandbox.faults import FaultBook
from connectors.sandbox.ratelimit import RateLimiter
from connectors.sandbox.settings import TOKEN_TTL_SECONDS, SandboxSettings
from connectors.sandbox.store import Store
from schemas.categories import DEFAULT_CATEGORIES

ERR_TOO_MANY_REQUEST = "ERR_TOO_MANY_REQUEST"
ORDER_WINDOW_MAX = 259_200  # to_date - from_date must be less than this
CREATE_MAX = EDIT_MAX = STATUS_MAX = 25
PRICE_STOCK_MAX = 100
PRODUCTS_PER_PAGE_MAX = 50
ORDERS_PER_PAGE_MAX = 100


@dataclass
class Call:
    """What one contract call used: counted per path once it is answered."""

    path: str
    started: float
    items: int = 0
    row_429: int = 0
    faults: int = 0


class Sandbox:
    """One sandbox marketplace: settings, state, rate limits and faults."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.store = Store(settings.db_path)
        self.limiter = RateLimiter(settings.rate_limit)
        self.faults = FaultBook()
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


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        raise ApiError(400, "INVALID_REQUEST", "Request body is not valid JSON") from None


def _batch(body: Any, key: str | None, limit: int) -> list[Any]:
    rows = body.get(key) if key and isinstance(body, dict) else body
    where = f"field [{key}]" if key else "the request body"
    if not isinstance(rows, list):
        raise ApiError(400, "INVALID_REQUEST", f"{where} must be a list")
    if not rows:
        raise ApiError(400, "INVALID_REQUEST", f"{where} must not be empty")
    if len(rows) > limit:
        raise ApiError(400, "LIMIT_EXCEEDED", f"{where} holds {len(rows)} items; at most {limit} per call")
    return rows


def _get(row: Any, key: str) -> Any:
    return row.get(key) if isinstance(row, dict) else None


def _limited_products(rows: Sequence[Any], with_id: bool) -> list[dict]:
    return [{**({"product_id": _get(r, "id")} if with_id else {}), "product_name": _get(r, "name"),
             "sku": _get(r, "sku"), "error": [ERR_TOO_MANY_REQUEST], "message": ERR_TOO_MANY_REQUEST}
            for r in rows]


def create_app(settings: SandboxSettings) -> FastAPI:
    """The whole sandbox (contract endpoints and ``/admin``) as a FastAPI app."""
    sb = Sandbox(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        sb.store.close()

    app = FastAPI(title="Lapak sandbox marketplace", lifespan=lifespan, docs_url="/admin/docs",
                  openapi_url="/admin/openapi.json", redoc_url=None)
    app.state.sandbox = sb

    # --- errors outside serve(): the envelope too, with the rate-limit headers ---------------

    def _outside(request: Request, status: int, code: str, message: str) -> JSONResponse:
        path = request.url.path
        resp = envelope(None, time.perf_counter(), status=status, messages=message, error_code=code)
        if not path.startswith("/admin"):
            resp.headers.update(sb.limiter.headers(path))
            sb.store.bump(path, calls=1, http_429=int(status == 429))
        return resp

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()]
        return _outside(request, 400, "INVALID_PARAMETER", "; ".join(parts) or "Invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return _outside(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return _outside(request, exc.status, exc.error_code, exc.messages)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        return _outside(request, 500, "INTERNAL_SERVER_ERROR", f"Unexpected {type(exc).__name__}")

    # --- 1. authentication --------------------------------------------------------------------

    @app.post("/token")
    async def token(request: Request, grant_type: str | None = None) -> JSONResponse:
        async def work(call: Call) -> JSONResponse:
            if grant_type != "client_credentials":
                raise ApiError(400, "INVALID_GRANT_TYPE", "grant_type must be client_credentials")
            scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
            try:
                cid, _, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                cid = secret = ""
            # Both compared in constant time, and both always compared.
            id_ok = secrets.compare_digest(cid.encode(), settings.client_id.encode())
            secret_ok = secrets.compare_digest(secret.encode(), settings.client_secret.get_secret_value().encode())
            good = scheme.lower() == "basic" and id_ok and secret_ok
            if not good:
                raise ApiError(401, "AUTH_INVALID_CLIENT", "Invalid client credentials")
            sb.admit(call, 1)
            body = {"access_token": sb.store.issue_token(cid, TOKEN_TTL_SECONDS),
                    "expires_in": TOKEN_TTL_SECONDS, "token_type": "Bearer"}
            # The flat OAuth fields are the contract; the envelope is there for lenient readers.
            return envelope(body, call.started, extra=body)

        return await sb.serve(request, work, auth=False)

    # --- categories ---------------------------------------------------------------------------

    @app.get("/v1/categories")
    async def categories(request: Request) -> JSONResponse:
        async def work(call: Call) -> Any:
            sb.admit(call, 1)
            return sb.categories

        return await sb.serve(request, work)

    # --- 3. products --------------------------------------------------------------------------

    @app.post("/v3/products/fs/{fs_id}/create")
    async def create(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
        async def work(call: Call) -> Any:
            sb.check_shop(fs_id, shop_id)
            rows = _batch(await _json(request), "products", CREATE_MAX)
            k = sb.admit(call, len(rows))
            ok, failed = sb.store.create_products(shop_id, rows[:k], leaves=sb.leaves, known=sb.known)
            failed += _limited_products(rows[k:], with_id=False)
            return {"total_data": len(rows), "success_data": len(ok), "fail_data": len(failed),
                    "success_rows_data": ok, "failed_rows_data": failed}

        return await sb.serve(request, work)

    @app.patch("/v3/products/fs/{fs_id}/edit")
    async def edit(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
        async def work(call: Call) -> Any:
            sb.check_shop(fs_id, shop_id)
            rows = _batch(await _json(request), "products", EDIT_MAX)
            k = sb.admit(call, len(rows))
            ok, failed = sb.store.edit_products(shop_id, rows[:k], leaves=sb.leaves, known=sb.known)
            failed += _limited_products(rows[k:], with_id=True)
            return {"total_data": len(rows), "success_data": len(ok), "fail_data": len(failed),
                    "success_rows_data": ok, "failed_rows_data": failed}

        return await sb.serve(request, work)

    def _absolute(field: str):
        key = f"new_{field}"

        async def route(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
            async def work(call: Call) -> Any:
                sb.check_shop(fs_id, shop_id)
                rows = _batch(await _json(request), None, PRICE_STOCK_MAX)
                k = sb.admit(call, len(rows))
                succeeded, failed = sb.store.update_field(shop_id, rows[:k], field)
                failed += [{"product_id": _get(r, "product_id"), "sku": _get(r, "sku"), key: _get(r, key),
                            "message": ERR_TOO_MANY_REQUEST, "error": ERR_TOO_MANY_REQUEST} for r in rows[k:]]
                return {"total_data": len(rows), "succeed_rows": succeeded, "failed_rows": len(failed),
                        "failed_rows_data": failed}

            return await sb.serve(request, work)

        return route

    app.post("/inventory/v1/fs/{fs_id}/price/update")(_absolute("price"))
    app.post("/inventory/v1/fs/{fs_id}/stock/update")(_absolute("stock"))

    def _status(status: str):
        async def route(request: Request, fs_id: int, shop_id: int | None = None) -> JSONResponse:
            async def work(call: Call) -> Any:
                sb.check_shop(fs_id, shop_id)
                ids = _batch(await _json(request), "product_id", STATUS_MAX)
                k = sb.admit(call, len(ids))
                succeeded, failed = sb.store.set_status(shop_id, ids[:k], status)
                failed += [f"{i}: {ERR_TOO_MANY_REQUEST}" for i in ids[k:]]
                return {"total_data": len(ids), "succeed_rows": succeeded, "failed_rows": len(failed),
                        "failed_rows_data": failed or None}

            return await sb.serve(request, work)

        return route

    app.post("/v1/products/fs/{fs_id}/active")(_status("ACTIVE"))
    app.post("/v1/products/fs/{fs_id}/inactive")(_status("INACTIVE"))

    @app.get("/inventory/v1/fs/{fs_id}/product/info")
    async def product_info(request: Request, fs_id: int, shop_id: int | None = None, page: int = 1,
                           per_page: int = PRODUCTS_PER_PAGE_MAX, sku: str | None = None,
                           product_id: int | None = None) -> JSONResponse:
        async def work(call: Call) -> Any:
            one = sku is not None or product_id is not None
            sb.check_shop(fs_id, shop_id, required=not one)
            if not one and not (page >= 1 and 1 <= per_page <= PRODUCTS_PER_PAGE_MAX):
                raise ApiError(400, "INVALID_PARAMETER",
                               f"page must be >= 1 and per_page 1 to {PRODUCTS_PER_PAGE_MAX}")
            sb.admit(call, 1)
            if one:
                shops = [shop_id] if shop_id is not None else list(sb.settings.shops)
                return sb.store.products_where(shops, sku=sku, product_id=product_id)
            return sb.store.product_page(shop_id, page, per_page)

        return await sb.serve(request, work)

    # --- 4. orders ----------------------------------------------------------------------------

    @app.get("/v2/order/list")
    async def order_list(request: Request, fs_id: int, from_date: int, to_date: int,
                         shop_id: int | None = None, page: int = 1,
                         per_page: int = ORDERS_PER_PAGE_MAX) -> JSONResponse:
        async def work(call: Call) -> Any:
            sb.check_shop(fs_id, shop_id, required=False)
            if to_date - from_date >= ORDER_WINDOW_MAX:
                raise ApiError(400, "ORD_DLV_013", "Date Range must be less than 3 days")
            if to_date < from_date:
                raise ApiError(400, "INVALID_PARAMETER", "to_date must not be before from_date")
            if not (page >= 1 and 1 <= per_page <= ORDERS_PER_PAGE_MAX):
                raise ApiError(400, "INVALID_PARAMETER", f"page must be >= 1 and per_page 1 to {ORDERS_PER_PAGE_MAX}")
            sb.admit(call, 1)
            shops = [shop_id] if shop_id is not None else list(sb.settings.shops)
            return sb.store.orders_window(shops, from_date, to_date, page, per_page)

        return await sb.serve(request, work)

    @app.get("/v2/fs/{fs_id}/order")
    async def order(request: Request, fs_id: int, order_id: int) -> JSONResponse:
        async def work(call: Call) -> Any:
            sb.check_shop(fs_id, None, required=False)
            sb.admit(call, 1)
            found = sb.store.order(order_id)
            if found is None:
                raise ApiError(404, "ORDER_NOT_FOUND", f"Order {order_id} not found")
            sb.check_shop(fs_id, found["shop_id"])
            return found

        return await sb.serve(request, work)

    app.include_router(admin_router)
    return app
