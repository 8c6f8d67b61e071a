"""A server that quotes the request back never makes the client print a secret or a token.

Against a real local server (tests/echo_server.py) whose errors, reason phrases, error codes and
row messages quote the ``Authorization`` / ``x-tts-access-token`` headers and the query string
(TikTok's token URLs carry the app secret), on the token endpoints and on the APIs: neither the
secret, its Basic form nor a token issued shows in the exception (str, repr, chained causes and
contexts, the traceback), in a row's result or in any log record at DEBUG (urllib3 included).
"""

from __future__ import annotations

import base64
import logging
import traceback

import pytest
from pydantic import SecretStr

from connectors.marketplace import MarketplaceClient
from connectors.tiktok import TikTokChannel
from connectors.tiktok import settings as S
from schemas.channel import ProductRef
from schemas.errors import ChannelError
from tests.echo_server import EchoServer, Request, envelope_error, tiktok_error
from tests.test_tiktok_client import CIPHER, SHOP, T0, MemoryKeeper, shop_tokens

CLIENT_ID = "cid-echo-7"
SECRET = "mp-Secret-Echo-4711"
BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
APP_SECRET = "tts-Secret-Echo-0815"
TOKENS = ("mp-tok-AAAA-1111", "mp-tok-BBBB-2222")
ACCESS, REFRESH = "tts-acc-Echo-1111", "tts-ref-Echo-2222"
AUTH_CODE = "code-echo-123"
FS = 15001
NEVER = (SECRET, BASIC, BASIC.rstrip("="), APP_SECRET, *TOKENS, ACCESS, REFRESH, AUTH_CODE)


def error_texts(err: BaseException) -> list[str]:
    """Everything an error says: str and repr of it and every cause and context, and its traceback."""
    out, seen, todo = ["".join(traceback.format_exception(err))], set(), [err]
    while todo:
        e = todo.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        out += [str(e), repr(e)]
        todo += [e.__cause__, e.__context__]
    return out


def log_texts(caplog) -> list[str]:
    return [caplog.text] + [r.getMessage() for r in caplog.records]


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in NEVER:
            assert secret not in text, f"{secret!r} leaked in: {text[:400]}"


@pytest.fixture(autouse=True)
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)  # the root: lapak's loggers, urllib3's and requests' alike


# ---------------------------------------------------------------- the marketplace


def token(value: str):
    return lambda req: (200, {"access_token": value, "expires_in": 3600, "token_type": "Bearer"}, {})


@pytest.fixture
def market():
    with EchoServer() as server:
        client = MarketplaceClient(server.url, server.url, FS, CLIENT_ID, SecretStr(SECRET), max_attempts=2,
                                   rate_limit_per_second=1000, sleep=lambda s: None)
        yield server, client
        client.close()


@pytest.mark.parametrize("status", [400, 401, 403, 500])
def test_the_token_endpoint_quoting_the_basic_credentials_back(market, caplog, status):
    server, client = market
    tries = 4 if status == 500 else 1  # a 5xx: two token fetches of two tries each
    server.rule("POST", "/token", lambda req: envelope_error(req, status), times=tries)
    with pytest.raises(ChannelError) as caught:
        client.categories()
    assert [r.headers["authorization"] for r in server.seen] == [f"Basic {BASIC}"] * tries
    assert caught.value.status == status
    if status != 401:  # a 401 is said in the client's own words
        assert "proxy debug" in str(caught.value) and "***" in str(caught.value)
    assert_clean(error_texts(caught.value) + log_texts(caplog))


def test_the_api_quoting_the_bearer_token_back_in_errors_retries_and_reason_phrases(market, caplog):
    server, client = market
    server.rule("POST", "/token", lambda req: envelope_error(req, 503))  # retried: a warning
    server.rule("POST", "/token", token(TOKENS[0]))
    server.rule("GET", "/v1/categories", lambda req: envelope_error(req, 401))  # a new token, once
    server.rule("POST", "/token", token(TOKENS[1]))
    server.rule("GET", "/v1/categories", lambda req: (502, b"<html>upstream</html>", {"phrase": req.echo,
                                                                                      "Content-Type": "text/html"}))
    server.rule("GET", "/v1/categories", lambda req: envelope_error(req, 403))
    with pytest.raises(ChannelError) as caught:
        client.categories()
    api = [r.headers["authorization"] for r in server.seen if r.path == "/v1/categories"]
    assert api == [f"Bearer {TOKENS[0]}", f"Bearer {TOKENS[1]}", f"Bearer {TOKENS[1]}"]
    assert caught.value.status == 403 and "proxy debug" in str(caught.value)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("proxy debug" in w for w in warnings)  # the quoted texts, scrubbed
    assert_clean(error_texts(caught.value) + log_texts(caplog))


def test_an_answer_that_is_no_envelope_quoting_the_token_in_its_content_type(market, caplog):
    server, client = market
    server.rule("POST", "/token", token(TOKENS[0]))
    server.rule("GET", "/v1/categories", lambda req: (200, b"<html/>", {"Content-Type": f"text/html; {req.echo}"}))
    with pytest.raises(ChannelError) as caught:
        client.categories()
    assert "not the JSON envelope" in str(caught.value)
    assert_clean(error_texts(caught.value) + log_texts(caplog))


def test_bulk_row_messages_quoting_the_request_back(market, caplog):
    server, client = market
    server.rule("POST", "/token", token(TOKENS[0]))
    create = f"/v3/products/fs/{FS}/create"
    server.rule("POST", create, lambda req: (200, {"header": {}, "data": {
        "total_data": 1, "success_data": 0, "fail_data": 1, "success_rows_data": [],
        "failed_rows_data": [{"sku": "SKU-1", "error": [req.echo]}]}}, {}))
    server.rule("POST", f"/inventory/v1/fs/{FS}/stock/update", lambda req: (200, {"header": {}, "data": {
        "succeed_rows": 0, "failed_rows": 1, "failed_rows_data": [{"sku": "SKU-1", "message": req.echo}]}}, {}))
    server.rule("POST", f"/v1/products/fs/{FS}/inactive", lambda req: (200, {"header": {}, "data": {
        "total_data": 1, "succeed_rows": 0, "failed_rows": 1, "failed_rows_data": [f"22: {req.echo}"]}}, {}))
    server.rule("POST", create, lambda req: envelope_error(req, 400))  # the whole call refused
    product = {"sku": "SKU-1", "name": "Keripik", "category_id": 101, "price": 15000, "stock": 5,
               "min_order": 1, "weight": 250, "weight_unit": "GR", "condition": "NEW", "description": "Enak",
               "pictures": [{"file_path": "https://img.test/1.jpg"}]}
    results = [client.create_products(1, [product]), client.update_stock(1, [{"sku": "SKU-1", "new_stock": 3}]),
               client.set_active(1, [22], active=False)]
    errors = [r.error for res in results for r in res.failed]
    assert len(errors) == 3 and all("proxy debug" in e and "***" in e for e in errors)
    with pytest.raises(ChannelError) as caught:
        client.create_products(1, [product])
    assert_clean(errors + [repr(res) for res in results] + error_texts(caught.value) + log_texts(caplog))


# ---------------------------------------------------------------- TikTok


def shops(req: Request):
    return 200, {"code": 0, "message": "Success", "request_id": "r", "data": {"shops": [
        {"id": str(SHOP), "name": "Toko Desa", "region": "ID", "cipher": CIPHER}]}}, {}


@pytest.fixture
def tiktok():
    with EchoServer() as server:
        keeper = MemoryKeeper(shop_tokens(access=ACCESS, refresh=REFRESH))
        channel = TikTokChannel(server.url, server.url, "app-key-7", SecretStr(APP_SECRET), keeper,
                                rate_limit_per_second=1000, clock=lambda: T0, sleep=lambda s: None,
                                max_retries=1)
        yield server, channel, keeper
        channel.close()


def test_tiktok_token_endpoints_quoting_their_url_app_secret_and_tokens_included(tiktok, caplog):
    server, channel, keeper = tiktok
    server.rule("GET", S.TOKEN_GET, lambda req: tiktok_error(req, 36004005))
    with pytest.raises(ChannelError) as refused_code:
        channel.authorize(str(SHOP), AUTH_CODE)
    keeper.save("tiktok", shop_tokens(access=ACCESS, refresh=REFRESH, access_expires=0))  # due a refresh
    server.rule("GET", S.TOKEN_REFRESH, lambda req: tiktok_error(req, 36009003, status=503), times=2)
    with pytest.raises(ChannelError) as refused_refresh:
        channel.upload_picture(SHOP, b"\x89PNG", "a.png")
    queries = [r.query for r in server.seen]
    assert f"app_secret={APP_SECRET}" in queries[0] and f"refresh_token={REFRESH}" in queries[1]
    for caught in (refused_code, refused_refresh):
        assert "proxy debug" in str(caught.value) and "***" in str(caught.value)
    assert any("proxy debug" in w.getMessage() for w in caplog.records if w.levelno == logging.WARNING)
    assert_clean(error_texts(refused_code.value) + error_texts(refused_refresh.value) + log_texts(caplog))


def test_tiktok_api_quoting_the_access_token_in_errors_and_row_outcomes(tiktok, caplog):
    server, channel, _ = tiktok
    server.rule("GET", S.SHOPS, shops)
    server.rule("POST", S.DEACTIVATE, lambda req: (200, {"code": 0, "message": "Success", "request_id": "r", "data": {
        "errors": [{"code": req.echo, "message": req.echo, "detail": {"product_id": "22"}}]}}, {}))
    server.rule("POST", S.DEACTIVATE, lambda req: tiktok_error(req, 12052260, status=404))
    server.rule("POST", S.IMAGE_UPLOAD, lambda req: tiktok_error(req, 36009003, status=500))
    server.rule("POST", S.IMAGE_UPLOAD, lambda req: (200, b"oops", {"Content-Type": f"text/plain; {req.echo}"}))
    first = channel.set_active(SHOP, [ProductRef("SKU-1", 22)], active=False)
    second = channel.set_active(SHOP, [ProductRef("SKU-2", 23)], active=False)
    with pytest.raises(ChannelError) as caught:
        channel.upload_picture(SHOP, b"\x89PNG", "a.png")
    assert [r.headers.get("x-tts-access-token") for r in server.seen][1:] == [ACCESS] * 4
    reasons = [r.error or "" for r in first.failed + second.failed]
    assert len(reasons) == 2 and all("proxy debug" in r and "***" in r for r in reasons)
    assert_clean(reasons + [repr(first), repr(second)] + error_texts(caught.value) + log_texts(caplog))
