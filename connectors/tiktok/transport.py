"""The TikTok-shaped client's transport: signed exchanges, the envelope, errors, retries, pacing.

Layers, bottom up:
- ``_http``: one paced HTTP exchange; counts it, logs it (the path template only, never a URL,
  header or body: token URLs carry the app secret) and feeds ``X-RateLimit-*`` to the limiter.
- ``_interpret``: the envelope's ``code`` decides (HTTP status only when there is no envelope);
  codes of the contract's table become the errors of :mod:`schemas.errors`.
- ``_signed_once``: one signed call (section 2) with a given shop's token and cipher.
- ``_retrying``: tenacity: 429 (after ``Retry-After``), 5xx and lost connections are repeated
  with backoff, never a 4xx; a create repeats only 429s (it looks before creating again).

Every server text that reaches an exception, a log line or a row's outcome (a message, an HTTP
content type, a field named in a refusal) passes through the channel's
:class:`~connectors.scrub.Scrubber`, told the app secret and every access and refresh token (and
auth code) as the channel learns them: a server or proxy may quote the request back, token URL
(``app_secret=...``) and ``x-tts-access-token`` header included.
:class:`Transport` is a mixin: :class:`~connectors.tiktok.channel.TikTokChannel` sets its attributes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from pydantic import BaseModel, SecretStr, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.marketplace.answers import explain
from connectors.pacing import ItemRateLimiter, RateLimitInfo, SharedGate, name_part
from connectors.scrub import Scrubber
from connectors.tiktok import settings as S
from connectors.tiktok.answers import Envelope
from connectors.tiktok.signing import sign
from schemas.errors import (
    ChannelError,
    MalformedResponseError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from schemas.tokens import ShopTokens

log = logging.getLogger("lapak.tiktok")

_LOST = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
_SECRET_QUERY = re.compile(r"((?:app_secret|access_token|refresh_token|auth_code)=)[^&\s\"']+")


class _RedactSecrets(logging.Filter):
    """urllib3 logs request lines at DEBUG, query and all: a token URL would show the app secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if _SECRET_QUERY.search(text):
            record.msg, record.args = _SECRET_QUERY.sub(r"\1***", text), ()
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_RedactSecrets())


@dataclass(frozen=True)
class Reply:
    data: Any
    status: int
    request_id: str


@dataclass(frozen=True)
class Call:
    """One API call as the channel asks it: ``path`` is ``template`` with its ids filled in."""

    method: str
    template: str
    path: str
    params: Mapping[str, Any] | None = None
    body: bytes | None = None  # JSON, serialised once: these exact bytes are signed and sent
    form: Mapping[str, str] | None = None
    files: Mapping[str, Any] | None = None
    cipher: bool = True
    items: int = 1

    @property
    def endpoint(self) -> str:
        return f"tiktok {self.method} {self.template}"


def make_call(method: str, template: str, *, ids: Mapping[str, Any] | None = None, json_body: Any = None,
              **kw: Any) -> Call:
    body = None if json_body is None else json.dumps(json_body, ensure_ascii=False, separators=(",", ":")).encode()
    return Call(method, template, template.format(**ids) if ids else template, body=body, **kw)


@dataclass
class Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: Counter = field(default_factory=Counter)
    items: Counter = field(default_factory=Counter)
    totals: Counter = field(default_factory=Counter)

    NAMES = ("http_429", "retries", "token_refreshes", "lost_responses", "sku_lookups", "cipher_fetches")

    def call(self, endpoint: str, items: int) -> None:
        with self.lock:
            self.calls[endpoint] += 1
            self.items[endpoint] += items

    def add(self, name: str, n: int = 1) -> None:
        with self.lock:
            self.totals[name] += n

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {"calls": dict(self.calls), "items": dict(self.items)}
            out.update({name: self.totals[name] for name in self.NAMES})
            return out


class Transport:
    """Signed HTTP, envelope and retry policy (a mixin: the channel's ``__init__`` sets these)."""

    api_url: str
    auth_url: str
    app_key: str
    timeout: float
    max_retries: int
    session: requests.Session
    limiter: ItemRateLimiter
    _secret_source: Callable[[], SecretStr]
    _secret_value: SecretStr | None
    _scrub: Scrubber  # every server text passes through it (the app secret, tokens as they are learned)
    _clock: Callable[[], float]
    _sleep: Callable[[float], None]
    _counters: Counters
    _backoff: Callable[[RetryCallState], float]

    def share_pacing(self, gate: SharedGate | None) -> None:
        """Let every call's grant also pass ``gate``, shared by every process calling for this app:
        the contract limits per app key and path template (keys ``tiktok-<app key>-<template>``;
        an app key that is not short and plain is hashed)."""
        self.limiter.share(gate, f"tiktok-{name_part(self.app_key)}")

    # ------------------------------------------------------------------ secrets

    def _secret(self) -> str:
        if self._secret_value is None:
            self._secret_value = self._secret_source()
            self._scrub.hide(self._secret_value.get_secret_value())
        return self._secret_value.get_secret_value()

    # ------------------------------------------------------------------ one exchange

    def _http(self, method: str, url: str, call: Call, **kw: Any) -> tuple[requests.Response, RateLimitInfo | None]:
        endpoint, key = call.endpoint, call.template
        self.limiter.acquire(key, 1, partial=False)
        self._counters.call(endpoint, call.items)
        lost: tuple[bool, str] | None = None
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kw)
        except requests.RequestException as err:
            # Only the kind: a requests error quotes the URL, and a token URL carries the secret.
            lost = (isinstance(err, _LOST), type(err).__name__)
        if lost is not None:  # raised outside the except block, so the original is not chained
            self.limiter.release(key, 1)
            log.debug("%s -> %s", endpoint, lost[1])
            if lost[0]:
                raise TransportError(f"no answer: connection failed or timed out ({lost[1]})", endpoint=endpoint)
            raise ChannelError(f"request could not be made ({lost[1]})", endpoint=endpoint)
        info = RateLimitInfo.from_headers(resp.headers)
        self.limiter.release(key, 1, info, throttled=resp.status_code == 429)
        if resp.status_code == 429:
            self._counters.add("http_429")
        log.debug("%s -> HTTP %d remaining=%s", endpoint, resp.status_code, info and info.remaining)
        return resp, info

    def _interpret(self, resp: requests.Response, call: Call, shop: str | None) -> Reply:
        """The envelope's ``code`` decides; without an envelope, the HTTP status does."""
        status = resp.status_code
        env: Envelope | None = None
        try:
            body = resp.json()
            env = Envelope.model_validate(body) if isinstance(body, dict) else None
        except (ValueError, ValidationError):
            env = None
        if env is not None and env.code == S.OK:
            return Reply(env.data, status, env.request_id)
        retry_after = _retry_after(resp.headers.get("Retry-After"))
        if env is None:
            if status == 429:
                raise RateLimitedError("rate limited", reset_after=retry_after, status=status, endpoint=call.endpoint)
            if status >= 500:
                raise ServerError("server error, no envelope", status=status, endpoint=call.endpoint)
            raise MalformedResponseError(
                f"answered HTTP {status} with a body that is not the JSON envelope "
                f"({self._scrub(resp.headers.get('Content-Type', 'no content type'), 80)}, "
                f"{len(resp.content)} bytes)", status=status, endpoint=call.endpoint)
        raise self._error(env, status, retry_after, call, shop)

    def _error(self, env: Envelope, status: int, retry_after: float | None, call: Call,
               shop: str | None) -> ChannelError:
        kind, hint = S.ERRORS.get(env.code, (None, ""))
        if kind is None:
            kind = ServerError if status >= 500 else S.BY_STATUS.get(status, ChannelError)
        said = self._scrub(env.message, S.MESSAGE_LIMIT) or "error"
        hint = hint.format(shop=shop if shop is not None else "?")
        text = f"{hint} ({said})" if hint else said
        kw: dict[str, Any] = {"status": status, "error_code": str(env.code), "endpoint": call.endpoint}
        if kind is RateLimitedError:
            return RateLimitedError(text, reset_after=retry_after, **kw)
        return kind(text, **kw)

    def _signed_once(self, call: Call, tokens: ShopTokens, cipher: str | None) -> Reply:
        """One signed call (contract section 2) acting for ``tokens.shop_id``."""
        query = {"app_key": self.app_key, "timestamp": str(int(self._clock()))}
        query.update({k: str(v) for k, v in (call.params or {}).items()})
        if cipher is not None:
            query["shop_cipher"] = cipher
        url = self.api_url + call.path
        query["sign"] = sign(self._secret(), urlsplit(url).path, query, call.body or b"")
        headers = {"x-tts-access-token": tokens.access_token}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        data = call.body if call.files is None else call.form
        resp, _ = self._http(call.method, url, call, params=query, data=data, files=call.files, headers=headers)
        return self._interpret(resp, call, tokens.shop_id)

    # ------------------------------------------------------------------ retries

    def _retrying(self, retry_lost: bool = True) -> Retrying:
        def retryable(err: BaseException) -> bool:
            return isinstance(err, RateLimitedError) or (retry_lost and isinstance(err, ServerError | TransportError))

        return Retrying(stop=stop_after_attempt(self.max_retries + 1), wait=self._wait,
                        retry=retry_if_exception(retryable), sleep=self._sleep, reraise=True,
                        before_sleep=self._before_sleep)

    def _wait(self, rs: RetryCallState) -> float:
        err = rs.outcome.exception() if rs.outcome else None
        if isinstance(err, RateLimitedError) and err.reset_after is not None:
            return err.reset_after
        return self._backoff(rs)

    def _before_sleep(self, rs: RetryCallState) -> None:
        self._counters.add("retries")
        err = rs.outcome.exception() if rs.outcome else None
        log.warning("%s; trying again in %.2fs (attempt %d of %d)", err, rs.upcoming_sleep,
                    rs.attempt_number + 1, self.max_retries + 1)

    # ------------------------------------------------------------------ answers

    def _model(self, reply: Reply, model: type[BaseModel], call: Call, *, empty_ok: bool = False) -> Any:
        """``data`` of the answer as one ``model``; what it lacks is named, never dumped. With
        ``empty_ok`` an answer without data reads as ``{}``."""
        what = getattr(model, "answer_name", f"{call.endpoint} answer")
        if reply.data is None and empty_ok:
            return model.model_validate({})
        if not isinstance(reply.data, dict):
            raise MalformedResponseError(f"{what} lacks data", status=reply.status, endpoint=call.endpoint)
        try:
            return model.model_validate(reply.data)
        except ValidationError as err:
            why = self._scrub(explain(err, what))  # names fields, not values: an answer may hold tokens
        # Raised outside the except block: the pydantic error (which quotes the input) is not chained.
        raise MalformedResponseError(why, status=reply.status, endpoint=call.endpoint)


def _retry_after(value: str | None) -> float | None:
    """``Retry-After`` in whole seconds, at least 1 (a date or garbage: None, the backoff decides)."""
    try:
        return max(1.0, float(value)) if value is not None else None
    except ValueError:
        return None
