"""Contract §1 and §4's reference data: tokens, the token's shop, categories, warehouses.

The token endpoints are unsigned GETs carrying the app secret: nothing here logs a URL or a
query string (and the server runs with uvicorn's access log off). Auth codes are
``code-<shop id>``, reusable. A refresh issues a new pair and retires the refresh token it
used (store the returned one, as the contract says); access tokens live to their own expiry.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from connectors.tiktok_sandbox.categories import CATEGORIES
from connectors.tiktok_sandbox.envelope import BAD_REQUEST, ApiError
from connectors.tiktok_sandbox.pipeline import Ctx, TikTokSandbox, sandbox_of
from connectors.tiktok_sandbox.settings import REGION, Shop

BAD_APP = 36004001
BAD_AUTH_CODE = 36004005
BAD_REFRESH_TOKEN = 36004006
SCOPES = ["seller.authorization.info", "seller.product.basic", "seller.order.info", "seller.logistics"]

router = APIRouter()


def _check_app(sb: TikTokSandbox, request: Request, grant_type: str) -> None:
    q = request.query_params
    if q.get("app_key") != sb.settings.app_key or q.get("app_secret") != sb.secret:
        raise ApiError(401, BAD_APP, "app_key or app_secret is wrong")
    if q.get("grant_type") != grant_type:
        raise ApiError(400, BAD_REQUEST, f"grant_type must be {grant_type}")


def _token_data(sb: TikTokSandbox, shop: Shop, now: int) -> dict:
    s = sb.settings
    return {**sb.store.issue_tokens(shop.id, now, s.access_token_ttl, s.refresh_token_ttl),
            "open_id": f"open-{shop.id}", "seller_name": shop.name, "seller_base_region": REGION,
            "user_type": 0, "granted_scopes": SCOPES}


@router.get("/api/v2/token/get")
async def token_get(request: Request) -> JSONResponse:
    sb = sandbox_of(request)

    def work(now: int) -> dict:
        _check_app(sb, request, "authorized_code")
        code = request.query_params.get("auth_code", "")
        shop = next((s for s in sb.shops.values() if s.auth_code == code), None)
        if shop is None:
            raise ApiError(400, BAD_AUTH_CODE, "auth_code is invalid")
        return _token_data(sb, shop, now)

    return await sb.serve_plain(request, work)


@router.get("/api/v2/token/refresh")
async def token_refresh(request: Request) -> JSONResponse:
    sb = sandbox_of(request)

    def work(now: int) -> dict:
        _check_app(sb, request, "refresh_token")
        token = request.query_params.get("refresh_token", "")
        state, shop_id = sb.store.token_state(token, "refresh", now)
        if state != "ok" or shop_id not in sb.shops:
            raise ApiError(401, BAD_REFRESH_TOKEN, "refresh_token is invalid or expired: authorise again")
        data = _token_data(sb, sb.shops[shop_id], now)
        sb.store.expire_token(token, now)
        return data

    return await sb.serve_plain(request, work)


@router.get("/authorization/202309/shops")
async def shops(request: Request) -> Response:
    async def work(ctx: Ctx) -> dict:
        return {"shops": [ctx.shop.answer()]}

    return await sandbox_of(request).serve(request, work, cipher=False)


@router.get("/product/202309/categories")
async def categories(request: Request) -> Response:
    async def work(ctx: Ctx) -> dict:
        return {"categories": [c.answer() for c in CATEGORIES]}

    return await sandbox_of(request).serve(request, work)


@router.get("/logistics/202309/warehouses")
async def warehouses(request: Request) -> Response:
    async def work(ctx: Ctx) -> dict:
        return {"warehouses": [w.answer() for w in ctx.shop.warehouses]}

    return await sandbox_of(request).serve(request, work)
