"""The TikTok-shaped channel's tokens, authorisation, errors, retries and pacing against mocked HTTP,
and that no secret or token ever reaches an exception or a log line."""

from __future__ import annotations

import logging
import re

import pytest
import requests
import responses
from pydantic import SecretStr

from connectors.tiktok import TikTokChannel, authorize
from connectors.tiktok import settings as S
from schemas.config import TikTokConfig
from schemas.errors import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
    ShopAuthorisationError,
    TransportError,
)
from tests.test_tiktok_client import (
    ACCESS,
    AGAIN,
    API,
    AUTH,
    CIPHER,
    KEY,
    REFRESH,
    SECRET,
    SHOP,
    T0,
    FakeClock,
    MemoryKeeper,
    add_shops,
    assert_signed,
    calls_to,
    env,
    fake_clock,
    make_channel,
    query,
    shop_tokens,
    url,
)


@pytest.fixture
def clock() -> FakeClock:
    return fake_clock()


@pytest.fixture
def keeper() -> MemoryKeeper:
    return MemoryKeeper(shop_tokens())


@pytest.fixture
def channel(clock, keeper) -> TikTokChannel:
    return make_channel(clock, keeper)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


REFRESH_URL = AUTH + S.TOKEN_REFRESH
GET_URL = AUTH + S.TOKEN_GET
CATEGORIES = url(S.CATEGORIES)
CODE = "auth-code-QQQQ-9999"


def token_answer(access: str = ACCESS[1], refresh: str = REFRESH[1]) -> dict:
    return env({"access_token": access, "access_token_expire_in": T0 + 7 * 86_400, "refresh_token": refresh,
                "refresh_token_expire_in": str(T0 + 60 * 86_400), "open_id": "open-1", "seller_name": "Toko Desa",
                "seller_base_region": "ID"})


def categories_ok() -> dict:
    return env({"categories": [{"id": "1", "parent_id": "0", "local_name": "Makanan", "is_leaf": True}]})


# ---------------------------------------------------------------- tokens


def test_an_access_token_near_its_expiry_is_refreshed_first_and_the_new_refresh_token_kept(clock, rsps):
    keeper = MemoryKeeper(shop_tokens(access_expires=T0 + 200))  # within five minutes
    channel = make_channel(clock, keeper)
    rsps.get(REFRESH_URL, json=token_answer())
    add_shops(rsps)
    rsps.get(CATEGORIES, json=categories_ok())

    assert [c.id for c in channel.categories(SHOP)] == [1]

    refresh = calls_to(rsps, REFRESH_URL)[0]
    assert query(refresh) == {"app_key": KEY, "app_secret": SECRET, "refresh_token": REFRESH[0],
                              "grant_type": "refresh_token"}
    saved = keeper.load("tiktok", str(SHOP))
    assert (saved.access_token, saved.refresh_token, saved.refresh_expires) == (ACCESS[1], REFRESH[1], T0 + 60 * 86_400)
    assert keeper.locks == [str(SHOP)] and channel.counters["token_refreshes"] == 1
    assert_signed(calls_to(rsps, CATEGORIES)[0], access=ACCESS[1])


def test_a_token_expired_early_is_refreshed_once_and_the_call_repeated(channel, keeper, rsps):
    add_shops(rsps)
    rsps.get(CATEGORIES, status=401, json=env(code=105002, message="access token expired"))
    rsps.get(REFRESH_URL, json=token_answer())
    rsps.get(CATEGORIES, json=categories_ok())

    channel.categories(SHOP)

    first, second = calls_to(rsps, CATEGORIES)
    assert_signed(first, access=ACCESS[0])
    assert_signed(second, access=ACCESS[1])
    assert keeper.load("tiktok", str(SHOP)).refresh_token == REFRESH[1]


def test_a_refreshed_token_refused_again_is_not_a_loop(channel, rsps):
    add_shops(rsps)
    rsps.get(CATEGORIES, status=401, json=env(code=105002, message="access token expired"))
    rsps.get(REFRESH_URL, json=token_answer())

    with pytest.raises(ShopAuthorisationError, match=str(SHOP)):
        channel.categories(SHOP)
    assert len(calls_to(rsps, CATEGORIES)) == 2 and len(calls_to(rsps, REFRESH_URL)) == 1


def test_a_token_another_worker_refreshed_meanwhile_is_used_as_is(clock, rsps):
    keeper = MemoryKeeper(shop_tokens(access_expires=T0 + 60))
    keeper.meanwhile = shop_tokens(access=ACCESS[1], refresh=REFRESH[1])
    channel = make_channel(clock, keeper)
    add_shops(rsps)
    rsps.get(CATEGORIES, json=categories_ok())

    channel.categories(SHOP)

    assert not calls_to(rsps, REFRESH_URL)
    assert_signed(calls_to(rsps, CATEGORIES)[0], access=ACCESS[1])


def test_an_expired_authorisation_names_the_shop_and_says_authorise_again(clock, rsps):
    keeper = MemoryKeeper(shop_tokens(access_expires=T0 - 10, refresh_expires=T0 - 5))
    channel = make_channel(clock, keeper)

    with pytest.raises(ShopAuthorisationError) as info:
        channel.categories(SHOP)
    assert AGAIN in str(info.value) and not rsps.calls


@pytest.mark.parametrize("code", [36004006, 105001])
def test_a_refused_refresh_or_unknown_token_is_a_shop_authorisation_error(clock, rsps, code):
    keeper = MemoryKeeper(shop_tokens(access_expires=T0 + 1 if code == 36004006 else T0 + 86_400))
    channel = make_channel(clock, keeper)
    if code == 36004006:
        rsps.get(REFRESH_URL, status=401, json=env(code=code, message="refresh token invalid"))
    else:
        rsps.get(url(S.SHOPS), status=401, json=env(code=code, message="invalid access token"))

    with pytest.raises(ShopAuthorisationError) as info:
        channel.categories(SHOP)
    assert AGAIN in str(info.value) and info.value.error_code == str(code)


def test_a_shop_never_authorised_fails_alone(channel):
    with pytest.raises(ShopAuthorisationError) as info:
        list(channel.products(7999))
    assert "shop 7999" in str(info.value) and "--shop 7999" in str(info.value)


@pytest.mark.parametrize("code, words", [(106001, "signature or app key"), (36004001, "app key or secret"),
                                         (106002, "clock")])
def test_a_refused_app_or_clock_is_a_plain_auth_error(channel, rsps, code, words):
    rsps.get(url(S.SHOPS), status=401, json=env(code=code, message="refused"))

    with pytest.raises(AuthError) as info:
        channel.categories(SHOP)
    assert not isinstance(info.value, ShopAuthorisationError) and words in str(info.value)
    assert len(rsps.calls) == 1


def test_a_refused_cipher_names_the_shop_and_is_read_again_next_time(channel, rsps):
    add_shops(rsps)
    rsps.get(CATEGORIES, status=403, json=env(code=106013, message="shop_cipher invalid"))
    add_shops(rsps)
    rsps.get(CATEGORIES, json=categories_ok())

    with pytest.raises(ForbiddenError, match=f"shop {SHOP}"):
        channel.categories(SHOP)
    channel.categories(SHOP)
    assert len(calls_to(rsps, url(S.SHOPS))) == 2


# ---------------------------------------------------------------- authorize


def test_authorize_trades_the_code_checks_the_shop_and_keeps_the_tokens(clock, rsps):
    keeper = MemoryKeeper()
    cfg = TikTokConfig(api_url=API + "/", auth_url=AUTH, app_key=KEY)
    rsps.get(GET_URL, json=token_answer(ACCESS[0], REFRESH[0]))
    add_shops(rsps)

    tokens = authorize(cfg, keeper, str(SHOP), CODE, secret=SecretStr(SECRET), clock=clock, sleep=clock.sleep)

    assert query(calls_to(rsps, GET_URL)[0]) == {"app_key": KEY, "app_secret": SECRET, "auth_code": CODE,
                                                 "grant_type": "authorized_code"}
    assert_signed(calls_to(rsps, url(S.SHOPS))[0], cipher=False)
    assert keeper.load("tiktok", str(SHOP)) == tokens
    assert (tokens.shop_id, tokens.seller_name, tokens.access_expires) == (str(SHOP), "Toko Desa", T0 + 7 * 86_400)
    assert ACCESS[0] not in repr(tokens)


def test_authorize_refuses_a_code_of_another_shop(clock, rsps):
    keeper = MemoryKeeper()
    channel = make_channel(clock, keeper)
    rsps.get(GET_URL, json=token_answer())
    add_shops(rsps, (7002, "other-cipher"))

    with pytest.raises(ShopAuthorisationError, match=re.escape("shop(s) 7002, not shop 7001")):
        channel.authorize(str(SHOP), CODE)
    assert keeper.saved == {}


# ---------------------------------------------------------------- envelope, retries, pacing


def test_429_waits_retry_after_then_repeats(channel, clock, rsps):
    add_shops(rsps)
    rsps.get(CATEGORIES, status=429, headers={"Retry-After": "2"}, json=env(code=36009002, message="slow down"))
    rsps.get(CATEGORIES, status=429, headers={"Retry-After": "0"}, json=env(code=36009002, message="slow down"))
    rsps.get(CATEGORIES, json=categories_ok())

    channel.categories(SHOP)

    assert clock.slept == [2.0, 1.0]  # Retry-After, at least one second
    c = channel.counters
    assert c["http_429"] == 2 and c["retries"] == 2 and c["calls"][f"tiktok GET {S.CATEGORIES}"] == 3


def test_server_errors_and_lost_connections_are_retried_a_bounded_number_of_times(clock, keeper, rsps):
    channel = make_channel(clock, keeper, max_retries=2)
    add_shops(rsps)
    rsps.get(CATEGORIES, body=requests.ConnectionError("reset"))
    rsps.get(CATEGORIES, status=503, body="<html>down</html>")
    rsps.get(CATEGORIES, status=500, json=env(code=36009003, message="internal"))

    with pytest.raises(ServerError):
        channel.categories(SHOP)
    assert len(calls_to(rsps, CATEGORIES)) == 3 and channel.counters["retries"] == 2


def test_code_decides_not_the_http_status_and_4xx_are_never_retried(channel, rsps):
    add_shops(rsps)
    rsps.get(CATEGORIES, status=200, json=env(code=36009004, message="bad parameter"))

    with pytest.raises(BadRequestError, match="bad parameter"):
        channel.categories(SHOP)
    assert len(calls_to(rsps, CATEGORIES)) == 1


@pytest.mark.parametrize("answer", [{"body": "<html>gateway</html>", "content_type": "text/html"},
                                    {"json": {"message": "no code", "data": {}}},
                                    {"json": ["not", "an", "envelope"]}])
def test_a_missing_or_garbled_envelope_is_malformed(channel, rsps, answer):
    add_shops(rsps)
    rsps.get(CATEGORIES, **answer)

    with pytest.raises(MalformedResponseError):
        channel.categories(SHOP)
    assert len(calls_to(rsps, CATEGORIES)) == 1


def test_rate_limit_headers_make_the_pacing_more_careful(clock, keeper, rsps):
    channel = make_channel(clock, keeper, rate_limit_per_second=50)
    add_shops(rsps)
    rsps.get(CATEGORIES, json=categories_ok(), headers={"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"})
    rsps.get(CATEGORIES, json=categories_ok())

    channel.categories(SHOP)
    assert not clock.slept
    channel.categories(SHOP)
    assert sum(clock.slept) == pytest.approx(0.1, abs=0.01)  # one request at the server's 10/s


def test_rate_limited_spent_is_a_rate_limited_error(clock, keeper, rsps):
    channel = make_channel(clock, keeper, max_retries=1)
    add_shops(rsps)
    rsps.get(CATEGORIES, status=429, headers={"Retry-After": "3"}, json=env(code=36009002))

    with pytest.raises(RateLimitedError) as info:
        channel.categories(SHOP)
    assert info.value.reset_after == 3.0


# ---------------------------------------------------------------- secrets


def _refresh_due(clock) -> tuple:
    keeper = MemoryKeeper(shop_tokens(access_expires=T0 + 1))
    return keeper, make_channel(clock, keeper, max_retries=1)


ECHO = f"echo {SECRET} {ACCESS[0]} {REFRESH[0]} {GET_URL}?app_secret={SECRET}"
SCENARIOS = {
    "refresh 5xx": (REFRESH_URL, {"status": 500, "json": env(code=36009003, message=ECHO)}, ServerError),
    "refresh lost": (REFRESH_URL, {"body": requests.ConnectionError(f"{REFRESH_URL}?app_secret={SECRET}")},
                     TransportError),
    "refresh bad JSON": (REFRESH_URL, {"body": f"oops {SECRET}", "content_type": "text/plain"},
                         MalformedResponseError),
    "refresh incomplete": (REFRESH_URL, {"json": env({"access_token": ACCESS[1], "refresh_token": REFRESH[1]})},
                           MalformedResponseError),
    "signed 5xx": (CATEGORIES, {"status": 502, "json": env(code=36009003, message=ECHO)}, ServerError),
    "signed lost": (CATEGORIES, {"body": requests.ReadTimeout(f"{CATEGORIES} {ACCESS[0]}")}, TransportError),
    "signed bad JSON": (CATEGORIES, {"body": f"<html>{ACCESS[0]}", "content_type": "text/html"},
                        MalformedResponseError),
    "signed refused": (CATEGORIES, {"status": 401, "json": env(code=105001, message=ECHO)}, ShopAuthorisationError),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_no_secret_or_token_reaches_an_exception_or_a_log_line(clock, rsps, caplog, name):
    caplog.set_level(logging.DEBUG)
    target, answer, kind = SCENARIOS[name]
    keeper = MemoryKeeper()
    channel = make_channel(clock, keeper, max_retries=1)
    if target == REFRESH_URL:
        keeper, channel = _refresh_due(clock)
    else:
        keeper.save("tiktok", shop_tokens())
        add_shops(rsps)
    for _ in range(2 if kind in (ServerError, TransportError) else 1):
        rsps.get(target, **answer)

    with pytest.raises(kind) as info:
        channel.categories(SHOP)

    texts = [caplog.text, repr(channel), repr(keeper.saved)]
    err: BaseException | None = info.value
    while err is not None:
        texts += [str(err), repr(err)]
        err = err.__cause__ or err.__context__
    for text in texts:
        for secret in (SECRET, ACCESS[0], ACCESS[1], REFRESH[0], REFRESH[1]):
            assert secret not in text, (name, secret)


def test_a_refused_auth_code_shows_neither_the_code_nor_the_secret(clock, rsps, caplog):
    caplog.set_level(logging.DEBUG)
    channel = make_channel(clock, MemoryKeeper())
    rsps.get(GET_URL, status=400, json=env(code=36004005, message=f"auth_code {CODE} invalid for {SECRET}"))

    with pytest.raises(BadRequestError) as info:
        channel.authorize(str(SHOP), CODE)
    assert "new one" in str(info.value)
    for text in (str(info.value), caplog.text):
        assert CODE not in text and SECRET not in text
    assert CIPHER  # the cipher is no secret, only shop-bound


def test_a_failing_refresh_is_repeated_a_bounded_number_of_times(clock, rsps):
    keeper, channel = _refresh_due(clock)  # max_retries=1
    rsps.get(REFRESH_URL, status=503, json=env(code=36009003, message="down"))

    with pytest.raises(ServerError):
        channel.categories(SHOP)
    assert len(calls_to(rsps, REFRESH_URL)) == 2 and keeper.load("tiktok", str(SHOP)).access_token == ACCESS[0]


def test_urllib3_request_lines_are_redacted(caplog):
    caplog.set_level(logging.DEBUG, logger="urllib3.connectionpool")
    logging.getLogger("urllib3.connectionpool").debug(
        '%s://%s:%s "%s %s %s" %s', "http", "auth.tts.test", 80, "GET",
        f"/api/v2/token/refresh?app_key={KEY}&app_secret={SECRET}&refresh_token={REFRESH[0]}", "HTTP/1.1", 200)

    assert SECRET not in caplog.text and REFRESH[0] not in caplog.text and KEY in caplog.text


def test_from_config_resolves_the_secret_from_the_configuration(clock, keeper, rsps):
    cfg = TikTokConfig(api_url=API, auth_url=AUTH, app_key=KEY, app_secret=SecretStr(SECRET), rate_limit_per_second=7)
    channel = TikTokChannel.from_config(cfg, keeper, clock=clock, sleep=clock.sleep)
    add_shops(rsps)
    rsps.get(CATEGORIES, json=categories_ok())

    assert channel.limiter.rate == 7
    channel.categories(SHOP)
    assert_signed(rsps.calls[1])  # signed with the configured secret
    assert SECRET not in repr(channel)
