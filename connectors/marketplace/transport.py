"""The marketplace client's transport: HTTP exchanges, the Bearer token, errors and retries.

Layers, bottom up:
- ``_http``: one HTTP exchange; counts it, logs it (never a header) and feeds the
  ``X-Ratelimit-*`` headers to the item limiter.
- ``_exchange``: adds the Bearer token, refreshes it once on 401, maps statuses to errors.
- ``_send``: ``_exchange`` under tenacity: 429 (after ``Reset-After``), 5xx and lost
  connections are repeated with backoff; 400/403/404 never are.

Every text the server sends (``reason``, ``messages``, ``error_code``, the HTTP reason phrase, a
row's message) passes through the client's :class:`~connectors.scrub.Scrubber` before it reaches
an exception, a log line or a result: it knows the client secret, its Basic form and every token
issued, since a server or proxy may quote the request's ``Authorization`` header back.

:class:`Transport` is a mixin: :class:`~connectors.marketplace.client.MarketplaceClient` sets
the attributes it declares.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from pydantic import BaseModel, SecretStr, ValidationError
from requests.auth import HTTPBasicAuth
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from connectors.marketplace import settings as S
from connectors.marketplace.answers import Envelope, Token, explain
from connectors.pacing import ItemRateLimiter, RateLimitInfo, SharedGate
from connectors.scrub import Scrubber
from schemas.errors import (
    AuthError,
    BadRequestError,
    ChannelError,
    ForbiddenError,
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)

log = logging.getLogger("lapak.marketplace")

_TRANSPORT_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass
class _Reply:
    envelope: Envelope
    info: RateLimitInfo | None
    status: int


@dataclass
class _Counters:
    lock: threading.Lock = field(default_factory=threading.Lock)
    calls: Counter = field(default_factory=Counter)
    items: Counter = field(default_factory=Counter)
    totals: Counter = field(default_factory=Counter)

    def call(self, endpoint: str, items: int) -> None:
        with self.lock:
            self.calls[endpoint] += 1
            self.items[endpoint] += items

    def add(self, name: str, n: int = 1) -> None:
        if n:
            with self.lock:
                self.totals[name] += n

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            out: dict[str, Any] = {"calls": dict(self.calls), "items": dict(self.items)}
            for name in ("http_429", "row_429", "retries", "rows_resent", "lost_responses",
                         "sku_lookups", "edit_readbacks", "token_fetches"):
                out[name] = self.totals[name]
            return out


class Transport:
    """HTTP, token and retry policy of the client (a mixin: the client's ``__init__`` sets these)."""

    api_url: str
    auth_url: str
    fs_id: int
    client_id: str
    timeout: float
    max_attempts: int
    session: requests.Session
    limiter: ItemRateLimiter
    _secret: SecretStr | Callable[[], SecretStr]  # a callable is asked when the first token is fetched
    _clock: Callable[[], float]
    _sleep: Callable[[float], None]
    _token: SecretStr | None
    _token_expiry: float
    _token_gen: int
    _token_lock: threading.Lock
    _counters: _Counters
    _backoff: Callable[[RetryCallState], float]
    _scrub: Scrubber  # every server text passes through it (the secret, its Basic form, tokens)

    def _path(self, template: str) -> str:
        return template.format(fs_id=self.fs_id)

    def share_pacing(self, gate: SharedGate | None) -> None:
        """Let every grant of this client's pacer also pass ``gate``, shared by every process that
        writes for this app: the marketplace limits per app (``fs_id``) and endpoint path, over
        all shops (keys ``marketplace-<fs_id>-<path>``)."""
        self.limiter.share(gate, f"marketplace-{self.fs_id}")

    def _http(self, method: str, url: str, endpoint: str, key: str, items: int,
              **kw: Any) -> tuple[requests.Response, RateLimitInfo | None]:
        self._counters.call(endpoint, items)
        t0 = self._clock()
        try:
            resp = self.session.request(method, url, timeout=self.timeout, **kw)
        except requests.RequestException as err:
            self.limiter.release(key, items)
            log.debug("%s %s items=%d -> %s", method, key, items, type(err).__name__)
            # The text names the kind only: a requests error carries the request, headers and all.
            if isinstance(err, _TRANSPORT_ERRORS):
                what = "no answer within the timeout" if isinstance(err, requests.Timeout) else "connection failed"
                raise TransportError(f"{what} ({type(err).__name__})", endpoint=endpoint) from None
            raise ChannelError(f"request could not be made ({type(err).__name__})", endpoint=endpoint) from None
        info = RateLimitInfo.from_headers(resp.headers)
        self.limiter.release(key, items, info, throttled=resp.status_code == 429)
        if resp.status_code == 429:
            self._counters.add("http_429")
        log.debug("%s %s items=%d -> %d in %.3fs remaining=%s reset_after=%s", method, key, items,
                  resp.status_code, self._clock() - t0, info and info.remaining, info and info.reset_after)
        return resp, info

    def _interpret(self, resp: requests.Response, info: RateLimitInfo | None, endpoint: str) -> _Reply:
        status = resp.status_code
        env: Envelope | None = None
        try:
            body = resp.json()
            if isinstance(body, dict):
                env = Envelope.model_validate(body)
        except (ValueError, ValidationError):
            env = None
        if 200 <= status < 300:
            if env is None:
                raise MalformedResponseError(
                    f"answered HTTP {status} with a body that is not the JSON envelope "
                    f"({self._scrub(resp.headers.get('Content-Type', 'no content type'), 80)}, "
                    f"{len(resp.content)} bytes)", status=status, endpoint=endpoint)
            return _Reply(env, info, status)
        code = (self._scrub(env.header.error_code, 80) or None) if env else None
        text = self._scrub((env.header.text if env else "") or resp.reason) or "error"
        kw = dict(status=status, error_code=code, endpoint=endpoint)
        if status == 429:
            raise RateLimitedError(text, reset_after=info.reset_after if info else None, **kw)
        if status >= 500:
            raise ServerError(text, **kw)
        cls = {400: BadRequestError, 401: AuthError, 403: ForbiddenError, 404: NotFoundError}.get(status, ChannelError)
        raise cls(text, **kw)

    def _exchange(self, method: str, template: str, *, items: int = 1, prepaid: bool = False,
                  params: Mapping[str, Any] | None = None, json: Any = None, files: Any = None) -> _Reply:
        """One call with a Bearer token; a 401 fetches a new token once and repeats the call.

        The body is ``json`` or, for multipart/form-data, ``files`` (as ``requests`` takes them)."""
        path, endpoint = self._path(template), S.ENDPOINT_NAMES[template]
        body = {"json": json} if files is None else {"files": files}
        for refreshed in (False, True):
            if not prepaid:
                self.limiter.acquire(path, items, partial=False)
            prepaid = False
            token, gen = self._bearer()
            resp, info = self._http(method, self.api_url + path, endpoint, path, items, params=params, **body,
                                    headers={"Authorization": f"Bearer {token.get_secret_value()}"})
            if resp.status_code != 401 or refreshed:
                return self._interpret(resp, info, endpoint)
            log.info("%s: token refused (HTTP 401); fetching a new token once", endpoint)
            self._refresh(gen)
        raise AssertionError("unreachable")

    def _retrying(self, retry_lost: bool) -> Retrying:
        def retryable(err: BaseException) -> bool:
            return isinstance(err, RateLimitedError) or (retry_lost and isinstance(err, (ServerError, TransportError)))

        return Retrying(stop=stop_after_attempt(self.max_attempts), wait=self._wait,
                        retry=retry_if_exception(retryable), sleep=self._sleep, reraise=True,
                        before_sleep=self._before_sleep)

    def _wait(self, rs: RetryCallState) -> float:
        err = rs.outcome.exception() if rs.outcome else None
        if isinstance(err, RateLimitedError) and err.reset_after is not None:
            # A little jitter so threads refused together do not come back together.
            return max(0.0, err.reset_after) + random.uniform(0, 0.05)
        return self._backoff(rs)

    def _before_sleep(self, rs: RetryCallState) -> None:
        self._counters.add("retries")
        err = rs.outcome.exception() if rs.outcome else None
        log.warning("%s; trying again in %.2fs (attempt %d of %d)", err, rs.upcoming_sleep,
                    rs.attempt_number + 1, self.max_attempts)

    def _send(self, method: str, template: str, *, items: int = 1, prepaid: bool = False,
              params: Mapping[str, Any] | None = None, json: Any = None, files: Any = None) -> _Reply:
        """``_exchange`` repeated on 429, 5xx and lost connections: only for calls safe to repeat."""
        first = [prepaid]

        def once() -> _Reply:
            paid, first[0] = first[0], False
            return self._exchange(method, template, items=items, prepaid=paid, params=params, json=json, files=files)

        return self._retrying(retry_lost=True)(once)

    # ------------------------------------------------------------------ token

    def _bearer(self) -> tuple[SecretStr, int]:
        with self._token_lock:
            if self._token is None or self._clock() >= self._token_expiry:
                self._fetch_token()
            assert self._token is not None
            return self._token, self._token_gen

    def _refresh(self, gen: int) -> None:
        with self._token_lock:
            if gen == self._token_gen:  # another thread may have refreshed already
                self._fetch_token()

    def _fetch_token(self) -> None:
        """Basic credentials for a Bearer token (caller holds the token lock)."""
        endpoint = S.ENDPOINT_NAMES[S.TOKEN_PATH]
        secret = self._secret() if callable(self._secret) else self._secret
        self._scrub.hide_basic(self.client_id, secret.get_secret_value())
        auth = HTTPBasicAuth(self.client_id, secret.get_secret_value())

        def once() -> Token:
            self.limiter.acquire(S.TOKEN_PATH, 1, partial=False)
            resp, info = self._http("POST", self.auth_url + S.TOKEN_PATH, endpoint, S.TOKEN_PATH, 1,
                                    params={"grant_type": "client_credentials"}, auth=auth)
            if resp.status_code == 401:
                try:
                    code = self._scrub(Envelope.model_validate(resp.json()).header.error_code, 80) or None
                except (ValueError, ValidationError):
                    code = None
                raise AuthError(f"the marketplace refused the client credentials of client_id {self.client_id!r}",
                                status=401, error_code=code, endpoint=endpoint)
            if not 200 <= resp.status_code < 300:
                self._interpret(resp, info, endpoint)  # raises the typed error
            try:
                return Token.model_validate(resp.json())
            except (ValueError, ValidationError):
                # Not the pydantic text: it would quote the body, token and all.
                raise MalformedResponseError("the token endpoint answered without a usable access_token",
                                             status=resp.status_code, endpoint=endpoint) from None

        token = self._retrying(retry_lost=True)(once)
        self._scrub.hide(token.access_token.get_secret_value())
        self._counters.add("token_fetches")
        self._token = token.access_token
        self._token_gen += 1
        life = token.expires_in if token.expires_in and token.expires_in > 0 else 3600.0
        self._token_expiry = self._clock() + max(life - S.TOKEN_EXPIRY_MARGIN_S, life / 2)
        log.debug("token fetched (expires in %.0fs)", life)

    # ------------------------------------------------------------------ answers

    def _data(self, reply: _Reply, model: type[BaseModel], endpoint: str) -> Any:
        """``data`` of the answer as one ``model``; what it lacks is named, never dumped."""
        data = reply.envelope.data
        what = getattr(model, "answer_name", f"{endpoint} answer")
        if data is None:
            raise MalformedResponseError(f"{what} lacks data", status=reply.status, endpoint=endpoint)
        try:
            return model.model_validate(data)
        except ValidationError as err:
            raise MalformedResponseError(self._scrub(explain(err, what)), status=reply.status,
                                         endpoint=endpoint) from None

    def _rows_of(self, reply: _Reply, model: type[BaseModel], endpoint: str) -> list[Any]:
        """``data`` of the answer as a list of ``model`` (no data: an empty list)."""
        data = reply.envelope.data
        what = getattr(model, "answer_name", f"{endpoint} answer")
        if data is None:
            return []
        if not isinstance(data, list):
            raise MalformedResponseError(f"{what}: data is not a list", status=reply.status, endpoint=endpoint)
        rows = []
        for n, item in enumerate(data, start=1):
            try:
                rows.append(model.model_validate(item))
            except ValidationError as err:
                raise MalformedResponseError(f"{self._scrub(explain(err, what))} (item {n} of {len(data)})",
                                             status=reply.status, endpoint=endpoint) from None
        return rows
