"""The marketplace client: one ``requests.Session`` speaking ../shared/marketplace-api.md.

Layers, bottom up:
- ``_http``: one HTTP exchange; counts it, logs it (never a header) and feeds the
  ``X-Ratelimit-*`` headers to the item limiter.
- ``_exchange``: adds the Bearer token, refreshes it once on 401, maps statuses to errors.
- ``_send``: ``_exchange`` under tenacity: 429 (after ``Reset-After``), 5xx and lost
  connections are repeated with backoff; 400/403/404 never are.
- bulk operations: split rows into batches no larger than the contract allows *and* the
  limiter grants, read the per-row results, send rate-limited rows again later. Creation has
  no idempotency key, so a lost answer is followed by SKU look-ups, never by a blind repeat.
"""

from __future__ import annotations

import logging
import math
import random
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import requests
from pydantic import BaseModel, SecretStr, ValidationError
from requests.auth import HTTPBasicAuth
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

from connectors.config import client_secret as resolve_client_secret
from connectors.marketplace import settings as S
from schemas.errors import (
    AuthError,
    BadRequestError,
    ForbiddenError,
    MalformedResponseError,
    ChannelError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
)
from connectors.marketplace.models import (
    ActiveRowsResult,
    BatchResult,
    Category,
    Envelope,
    InventoryRowsResult,
    NewProduct,
    Order,
    PriceUpdate,
    ProductEdit,
    ProductInfo,
    ProductRowsResult,
    RowResult,
    StockUpdate,
    Token,
)
from connectors.marketplace.pacing import ItemRateLimiter, RateLimitInfo



if TYPE_CHECKING:
    from schemas.config import MarketplaceConfig

log = logging.getLogger("lapak.marketplace")

_TRANSPORT_ERRORS = (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError)
_USED_SKU = re.compile(r"field \[sku\][^\[]*already used|^\W*sku\b.*already used", re.I)

# A row's fate after one answer: applied, failed for good, refused by the rate limit (send
# again), unknown (settled by sending it alone, or for a create by looking its SKU up), SKU
# already used (look it up), not created after all (send again).
State = Literal["ok", "fail", "throttle", "unknown", "used", "resend"]


@dataclass
class _Outcome:
    state: State
    product_id: int | None = None
    reason: str | None = None


@dataclass(eq=False)
class _Row:
    key: str
    payload: dict[str, Any]
    sku: str | None = None
    product_id: int | None = None
    name: str | None = None
    attempts: int = 0
    solo: bool = False


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
                         "sku_lookups", "token_fetches"):
                out[name] = self.totals[name]
            return out


def _norm(text: str | None) -> str:
    return " ".join((text or "").split()).casefold()


def _fail_or_throttle(reason: str, product_id: int | None = None) -> _Outcome:
    if S.ERR_TOO_MANY_REQUEST in reason.upper():
        return _Outcome("throttle", product_id, reason)
    return _Outcome("fail", product_id, reason)


def _find(chunk: list[_Row], out: list[_Outcome | None], *, sku: str | None = None,
          product_id: int | None = None, name: str | None = None) -> int | None:
    """The first still-unsettled row the marketplace's entry names (SKU, else id, else name)."""
    for test in (
        (lambda r: sku is not None and r.sku == sku),
        (lambda r: product_id is not None and r.product_id == product_id),
        (lambda r: name is not None and r.name is not None and _norm(r.name) == _norm(name)),
    ):
        for i, row in enumerate(chunk):
            if out[i] is None and test(row):
                return i
    return None


def _settle_rest(out: list[_Outcome | None], unmatched: list[str], extra: int, *, implicit: bool) -> list[_Outcome]:
    """Rows no entry named. With ``implicit`` success they were applied unless failures are
    left over; failures that are all ``ERR_TOO_MANY_REQUEST`` are the last rows (the contract:
    items past the limit); anything else is unknown and settled by sending rows one by one."""
    open_idx = [i for i, o in enumerate(out) if o is None]
    left = len(unmatched) + extra
    if not open_idx:
        return out  # type: ignore[return-value]
    all_throttled = bool(unmatched) and extra == 0 and all(S.ERR_TOO_MANY_REQUEST in u.upper() for u in unmatched)
    if implicit and left == 0:
        for i in open_idx:
            out[i] = _Outcome("ok")
    elif all_throttled:
        cut = max(0, len(open_idx) - left) if implicit else 0
        for i in open_idx[:cut]:
            out[i] = _Outcome("ok")
        for i in open_idx[cut:]:
            out[i] = _Outcome("throttle", reason=S.ERR_TOO_MANY_REQUEST)
    else:
        reason = "; ".join(unmatched) or "the marketplace gave no result for this row"
        for i in open_idx:
            out[i] = _Outcome("unknown", reason=reason)
    return out  # type: ignore[return-value]


def _resolve_inventory(chunk: list[_Row], data: InventoryRowsResult) -> list[_Outcome]:
    out: list[_Outcome | None] = [None] * len(chunk)
    unmatched = []
    entries = data.failed_rows_data or []
    for e in entries:
        i = _find(chunk, out, sku=e.sku, product_id=e.product_id)
        if i is None:
            unmatched.append(e.reason)
        else:
            out[i] = _fail_or_throttle(e.reason)
    extra = max(0, (data.failed_rows or 0) - len(entries))
    return _settle_rest(out, unmatched, extra, implicit=True)


def _resolve_active(chunk: list[_Row], data: ActiveRowsResult) -> list[_Outcome]:
    out: list[_Outcome | None] = [None] * len(chunk)
    unmatched = []
    entries = [str(e) for e in (data.failed_rows_data or [])]
    for text in entries:
        # The first number that is one of the call's ids names the row ("22: not found in shop 7").
        i = None
        for number in re.findall(r"\d+", text):
            if (i := _find(chunk, out, product_id=int(number))) is not None:
                break
        if i is None:
            unmatched.append(text)
        else:
            out[i] = _fail_or_throttle(text)
    extra = max(0, (data.failed_rows or 0) - len(entries))
    return _settle_rest(out, unmatched, extra, implicit=True)


def _resolve_products(chunk: list[_Row], data: ProductRowsResult, *, create: bool) -> list[_Outcome]:
    out: list[_Outcome | None] = [None] * len(chunk)
    for s in data.success_rows_data or []:
        i = _find(chunk, out, sku=s.sku if create else None, product_id=s.product_id)
        if i is not None:
            out[i] = _Outcome("ok", s.product_id)
    unmatched = []
    for e in data.failed_rows_data or []:
        reason = "; ".join(e.errors) or "failed"
        i = _find(chunk, out, sku=e.sku, product_id=e.product_id, name=e.product_name)
        if i is None:
            unmatched.append(reason)
        elif create and any(_USED_SKU.search(x) for x in e.errors):
            out[i] = _Outcome("used", reason=reason)
        else:
            out[i] = _fail_or_throttle(reason)
    if data.success_rows_data is None and not create:
        extra = max(0, (data.fail_data or 0) - len(data.failed_rows_data or []))
        return _settle_rest(out, unmatched, extra, implicit=True)
    return _settle_rest(out, unmatched, 0, implicit=False)


def _unix(t: datetime | int | float) -> int:
    """UNIX seconds; a bound ``t`` covers create times ``>= t`` so fractions round up."""
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("naive datetime: give a timezone (orders are in UNIX time)")
        return math.ceil(t.timestamp())
    return math.ceil(t)


def order_windows(start: datetime | int, end: datetime | int,
                  width: int = S.ORDER_WINDOW_SECONDS) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into ``[from, to)`` windows narrower than the contract's 3 days."""
    lo, hi = _unix(start), _unix(end)
    return [(a, min(a + width, hi)) for a in range(lo, hi, width)]


class MarketplaceClient:
    """Client for a seller API following the contract, paced and retried.

    ``rate_limit_per_second`` caps items per second per endpoint path; the server's
    ``X-Ratelimit-*`` headers can only slow it down further. ``max_attempts`` bounds the
    tries of one HTTP call and the re-sends of one row. ``clock``/``sleep`` are for tests.
    """

    def __init__(
        self,
        api_url: str,
        auth_url: str,
        fs_id: int,
        client_id: str,
        client_secret: SecretStr,
        *,
        rate_limit_per_second: float = 5,
        timeout: float = 30,
        session: requests.Session | None = None,
        max_attempts: int = 6,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not isinstance(client_secret, SecretStr):
            client_secret = SecretStr(str(client_secret))
        self.api_url = api_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.fs_id = int(fs_id)
        self.client_id = client_id
        self._secret = client_secret
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.session = session or requests.Session()
        self._clock = clock
        self._sleep = sleep
        self.limiter = ItemRateLimiter(rate_limit_per_second, clock=clock, sleep=sleep)
        self._token: SecretStr | None = None
        self._token_expiry = 0.0
        self._token_gen = 0
        self._token_lock = threading.Lock()
        self._counters = _Counters()
        self._backoff = wait_exponential_jitter(multiplier=0.5, max=30, jitter=0.5)

    @classmethod
    def from_config(cls, cfg: MarketplaceConfig, **kwargs: Any) -> MarketplaceClient:
        """A client for ``[marketplace]`` of ``lapak.toml`` (a ``MarketplaceConfig``)."""
        return cls(cfg.api_url, cfg.auth_url, cfg.fs_id, cfg.client_id, resolve_client_secret(cfg),
                   rate_limit_per_second=cfg.rate_limit_per_second, **kwargs)

    def __repr__(self) -> str:
        return (f"MarketplaceClient(api_url={self.api_url!r}, auth_url={self.auth_url!r}, "
                f"fs_id={self.fs_id}, client_id={self.client_id!r})")

    def __enter__(self) -> MarketplaceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.session.close()

    @property
    def counters(self) -> dict[str, Any]:
        """Calls and items per endpoint, HTTP and row-level 429s, retries, look-ups (a copy)."""
        return self._counters.as_dict()

    # ------------------------------------------------------------------ HTTP

    def _path(self, template: str) -> str:
        return template.format(fs_id=self.fs_id)

    def _http(self, method: str, url: str, endpoint: str, key: str, items: int, **kw: Any) -> tuple[requests.Response, RateLimitInfo | None]:
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
                    f"({resp.headers.get('Content-Type', 'no content type')}, {len(resp.content)} bytes)",
                    status=status, endpoint=endpoint)
            return _Reply(env, info, status)
        code = env.header.error_code if env else None
        text = (env.header.text if env else "") or resp.reason or "error"
        kw = dict(status=status, error_code=code, endpoint=endpoint)
        if status == 429:
            raise RateLimitedError(text, reset_after=info.reset_after if info else None, **kw)
        if status >= 500:
            raise ServerError(text, **kw)
        cls = {400: BadRequestError, 401: AuthError, 403: ForbiddenError, 404: NotFoundError}.get(status, ChannelError)
        raise cls(text, **kw)

    def _exchange(self, method: str, template: str, *, items: int = 1, prepaid: bool = False,
                  params: Mapping[str, Any] | None = None, json: Any = None) -> _Reply:
        """One call with a Bearer token; a 401 fetches a new token once and repeats the call."""
        path, endpoint = self._path(template), S.ENDPOINT_NAMES[template]
        for refreshed in (False, True):
            if not prepaid:
                self.limiter.acquire(path, items, partial=False)
            prepaid = False
            token, gen = self._bearer()
            resp, info = self._http(method, self.api_url + path, endpoint, path, items, params=params, json=json,
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
              params: Mapping[str, Any] | None = None, json: Any = None) -> _Reply:
        """``_exchange`` repeated on 429, 5xx and lost connections: only for calls safe to repeat."""
        first = [prepaid]

        def once() -> _Reply:
            paid, first[0] = first[0], False
            return self._exchange(method, template, items=items, prepaid=paid, params=params, json=json)

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
        auth = HTTPBasicAuth(self.client_id, self._secret.get_secret_value())

        def once() -> Token:
            self.limiter.acquire(S.TOKEN_PATH, 1, partial=False)
            resp, info = self._http("POST", self.auth_url + S.TOKEN_PATH, endpoint, S.TOKEN_PATH, 1,
                                    params={"grant_type": "client_credentials"}, auth=auth)
            if resp.status_code == 401:
                try:
                    code = Envelope.model_validate(resp.json()).header.error_code
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
        self._counters.add("token_fetches")
        self._token = token.access_token
        self._token_gen += 1
        life = token.expires_in if token.expires_in and token.expires_in > 0 else 3600.0
        self._token_expiry = self._clock() + max(life - S.TOKEN_EXPIRY_MARGIN_S, life / 2)
        log.debug("token fetched (expires in %.0fs)", life)

    # ------------------------------------------------------------------ bulk machinery

    @staticmethod
    def _rows(items: Iterable[Any], model: type[BaseModel], make: Callable[[Any], _Row]) -> tuple[list[_Row], list[RowResult]]:
        """Validate the caller's rows; an invalid one is reported as failed and never sent."""
        rows, invalid = [], []
        for n, item in enumerate(items):
            try:
                obj = item if isinstance(item, model) else model.model_validate(item)
            except ValidationError as err:
                key = next((str(item[k]) for k in ("sku", "id", "product_id")
                            if isinstance(item, Mapping) and item.get(k) is not None), f"#{n}")
                why = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in err.errors())
                invalid.append(RowResult(key=key, ok=False, error=f"invalid row: {why}"))
                continue
            rows.append(make(obj))
        return rows, invalid

    @staticmethod
    def _last_wins(rows: list[_Row]) -> list[_Row]:
        """Absolute updates of one key: only the last matters, and two in one call could race."""
        by_key: dict[str, _Row] = {}
        for r in rows:
            by_key.pop(r.key, None)
            by_key[r.key] = r
        return list(by_key.values())

    def _data(self, reply: _Reply, model: type[BaseModel], endpoint: str) -> Any:
        data = reply.envelope.data
        try:
            if data is None:
                raise ValueError
            return model.model_validate(data)
        except (ValueError, ValidationError):
            raise MalformedResponseError(f"answer data is not the contract's {model.__name__}",
                                         status=reply.status, endpoint=endpoint) from None

    def _note_throttled(self, path: str, reply: _Reply, outcomes: list[_Outcome]) -> None:
        n = sum(o.state == "throttle" for o in outcomes)
        if n:
            self._counters.add("row_429", n)
            if reply.info is None or reply.info.remaining is None:
                self.limiter.release(path, 0, reply.info, throttled=True)

    def _bulk(self, op: str, template: str, shop_id: int, rows: list[_Row], invalid: list[RowResult],
              batch: int, settle: Callable[[list[_Row], int, dict[int, _Outcome]], list[_Outcome]]) -> BatchResult:
        """Send ``rows`` in calls of at most ``batch`` items and at most what the limiter grants."""
        path = self._path(template)
        result = BatchResult(failed=list(invalid))
        queue = deque(rows)
        calls = resent = 0
        while queue:
            want = 1
            if not queue[0].solo:
                want = next((i for i, r in enumerate(queue) if r.solo or i >= batch), min(batch, len(queue)))
            n = self.limiter.acquire(path, max(1, want))
            chunk = [queue.popleft() for _ in range(n)]
            done: dict[int, _Outcome] = {}
            calls += 1
            try:
                outcomes = settle(chunk, shop_id, done)
            except ChannelError as err:
                self._record(chunk, done, result)
                err.partial = result
                log.error("%s shop=%s stopped: %s (applied=%d failed=%d, %d rows not sent)", op, shop_id, err,
                          len(result.applied), len(result.failed), len(chunk) - len(done) + len(queue))
                raise
            again = self._record(chunk, dict(enumerate(outcomes)), result)
            queue.extendleft(reversed(again))
            resent += len(again)
            self._counters.add("rows_resent", len(again))
            log.info("%s shop=%s batch: items=%d applied=%d failed=%d retried=%d", op, shop_id, len(chunk),
                     sum(o.state == "ok" for o in outcomes), sum(o.state == "fail" for o in outcomes), len(again))
        log.info("%s shop=%s done: rows=%d applied=%d failed=%d calls=%d rows_resent=%d", op, shop_id,
                 len(result), len(result.applied), len(result.failed), calls, resent)
        return result

    def _record(self, chunk: list[_Row], outcomes: dict[int, _Outcome], result: BatchResult) -> list[_Row]:
        """File settled rows into ``result``; return the rows to send again, in their order."""
        again = []
        for i, row in enumerate(chunk):
            o = outcomes.get(i)
            if o is None:
                continue
            if o.state == "ok":
                result.applied.append(RowResult(key=row.key, ok=True, product_id=o.product_id or row.product_id))
            elif o.state == "fail" or (o.state == "unknown" and len(chunk) == 1):
                result.failed.append(RowResult(key=row.key, ok=False, product_id=row.product_id, error=o.reason))
            else:
                row.attempts += 1
                if row.attempts >= self.max_attempts:
                    result.failed.append(RowResult(key=row.key, ok=False, product_id=row.product_id,
                                                   error=f"{o.reason} (not applied after {row.attempts} attempts)"))
                else:
                    row.solo = o.state == "unknown"
                    again.append(row)
        return again

    def _idempotent(self, template: str, model: type[BaseModel],
                    resolve: Callable[[list[_Row], Any], list[_Outcome]],
                    body: Callable[[list[_Row]], Any], method: str = "POST",
                    ) -> Callable[[list[_Row], int, dict[int, _Outcome]], list[_Outcome]]:
        """A settle step for calls safe to repeat: 5xx and lost answers are simply sent again."""
        path, endpoint = self._path(template), S.ENDPOINT_NAMES[template]

        def settle(chunk: list[_Row], shop_id: int, done: dict[int, _Outcome]) -> list[_Outcome]:
            reply = self._send(method, template, items=len(chunk), prepaid=True,
                               params={"shop_id": shop_id}, json=body(chunk))
            outcomes = resolve(chunk, self._data(reply, model, endpoint))
            self._note_throttled(path, reply, outcomes)
            return outcomes

        return settle

    def _settle_create(self, chunk: list[_Row], shop_id: int, done: dict[int, _Outcome]) -> list[_Outcome]:
        """Create ``chunk``; when an answer is lost, look every SKU up before sending again."""
        path = self._path(S.CREATE_PATH)
        pending = list(range(len(chunk)))
        first = [True]

        def once() -> tuple[list[int], _Reply | None]:
            idx = list(pending)
            paid, first[0] = first[0], False
            try:
                return idx, self._exchange("POST", S.CREATE_PATH, items=len(idx), prepaid=paid,
                                           params={"shop_id": shop_id},
                                           json={"products": [chunk[i].payload for i in idx]})
            except (ServerError, TransportError) as err:
                self._counters.add("lost_responses")
                log.warning("create shop=%s: %s; looking up %d SKUs before sending again", shop_id, err, len(idx))
                try:
                    for i in idx:
                        found = self._lookup_created(shop_id, chunk[i], None)
                        if found is not None:
                            done[i] = found
                except ChannelError as lookup_err:
                    # Not knowing what exists, sending again could make a second listing: stop.
                    raise ChannelError(f"answer lost ({err}) and the SKU look-up failed ({lookup_err}); "
                                           "not sending again", endpoint="create") from None
                pending[:] = [i for i in idx if i not in done]
                if not pending:
                    return [], None
                raise

        idx, reply = self._retrying(retry_lost=True)(once)
        if reply is not None:
            outcomes = _resolve_products([chunk[i] for i in idx], self._data(reply, ProductRowsResult, "create"),
                                         create=True)
            for i, o in zip(idx, outcomes):
                if o.state in ("used", "unknown"):
                    o = self._lookup_created(shop_id, chunk[i], o) or o
                done[i] = o
            self._note_throttled(path, reply, outcomes)
        return [done[i] for i in range(len(chunk))]

    def _lookup_created(self, shop_id: int, row: _Row, prior: _Outcome | None) -> _Outcome | None:
        """Whether ``row`` already exists: ``None`` if not (after a lost answer: send it again)."""
        self._counters.add("sku_lookups")
        info = self.product_by_sku(shop_id, row.sku or row.key)
        if info is None:
            if prior is None:
                return None
            if prior.state == "used":
                return _Outcome("fail", reason=prior.reason)
            return _Outcome("resend", reason=prior.reason)
        if row.name is None or info.name is None or _norm(info.name) == _norm(row.name):
            return _Outcome("ok", info.product_id)
        return _Outcome("fail", reason=f"SKU {row.sku!r} is already used by product {info.product_id} "
                                       f"named {info.name!r}")

    # ------------------------------------------------------------------ writes

    def create_products(self, shop_id: int, products: Iterable[NewProduct | Mapping[str, Any]]) -> BatchResult:
        """Create listings (25 a call); results keyed by SKU, with the new product ids.

        A lost answer never leads to a second listing: the SKUs are looked up first and only
        the missing ones are sent again. A row refused because its SKU is taken by a product
        of the same name (an earlier try that did land) counts as created.
        """
        rows, invalid = self._rows(products, NewProduct, lambda p: _Row(
            key=p.sku, payload=p.model_dump(mode="json"), sku=p.sku, name=p.name))
        return self._bulk("create", S.CREATE_PATH, shop_id, rows, invalid, S.CREATE_BATCH, self._settle_create)

    def edit_products(self, shop_id: int, rows: Iterable[ProductEdit | Mapping[str, Any]]) -> BatchResult:
        """Change listings (25 a call); each row has ``id`` and only the fields that change. Keys: the id."""
        built, invalid = self._rows(rows, ProductEdit, lambda e: _Row(
            key=str(e.id), payload=e.payload(), sku=e.sku, product_id=e.id, name=e.name))
        settle = self._idempotent(S.EDIT_PATH, ProductRowsResult,
                                  lambda c, d: _resolve_products(c, d, create=False),
                                  lambda c: {"products": [r.payload for r in c]}, method="PATCH")
        return self._bulk("edit", S.EDIT_PATH, shop_id, built, invalid, S.EDIT_BATCH, settle)

    def _inventory(self, op: str, template: str, shop_id: int, rows: Iterable[Any], model: type[BaseModel]) -> BatchResult:
        built, invalid = self._rows(rows, model, lambda u: _Row(
            key=u.key, payload=u.payload(), sku=u.sku, product_id=u.product_id))
        settle = self._idempotent(template, InventoryRowsResult, _resolve_inventory, lambda c: [r.payload for r in c])
        return self._bulk(op, template, shop_id, self._last_wins(built), invalid, S.STOCK_BATCH
                          if template == S.STOCK_PATH else S.PRICE_BATCH, settle)

    def update_prices(self, shop_id: int, rows: Iterable[PriceUpdate | Mapping[str, Any]]) -> BatchResult:
        """Set absolute prices (100 a call): rows ``{"sku"|"product_id", "new_price"}``; last row per key wins."""
        return self._inventory("price", S.PRICE_PATH, shop_id, rows, PriceUpdate)

    def update_stock(self, shop_id: int, rows: Iterable[StockUpdate | Mapping[str, Any]]) -> BatchResult:
        """Set absolute stock (100 a call): rows ``{"sku"|"product_id", "new_stock"}``; last row per key wins."""
        return self._inventory("stock", S.STOCK_PATH, shop_id, rows, StockUpdate)

    def set_active(self, shop_id: int, product_ids: Iterable[int], active: bool) -> BatchResult:
        """Activate or deactivate listings (25 a call). Keys: the product ids as strings."""
        template = S.ACTIVE_PATH if active else S.INACTIVE_PATH
        ids = list(dict.fromkeys(int(p) for p in product_ids))
        rows = [_Row(key=str(p), payload={}, product_id=p) for p in ids]
        settle = self._idempotent(template, ActiveRowsResult, _resolve_active,
                                  lambda c: {"product_id": [r.product_id for r in c]})
        return self._bulk("active" if active else "inactive", template, shop_id, rows, [], S.ACTIVE_BATCH, settle)

    # ------------------------------------------------------------------ reads

    def _rows_of(self, reply: _Reply, model: type[BaseModel], endpoint: str) -> list[Any]:
        data = reply.envelope.data
        if data is None:
            return []
        try:
            if not isinstance(data, list):
                raise ValueError
            return [model.model_validate(x) for x in data]
        except (ValueError, ValidationError):
            raise MalformedResponseError(f"answer data is not a list of {model.__name__}",
                                         status=reply.status, endpoint=endpoint) from None

    def iter_products(self, shop_id: int, per_page: int = S.PRODUCTS_PER_PAGE_MAX) -> Iterator[ProductInfo]:
        """Every product of the shop, page by page, until a page comes back short."""
        if not 1 <= per_page <= S.PRODUCTS_PER_PAGE_MAX:
            raise ValueError(f"per_page must be 1..{S.PRODUCTS_PER_PAGE_MAX}")
        page = 1
        while True:
            reply = self._send("GET", S.PRODUCT_INFO_PATH,
                               params={"shop_id": shop_id, "page": page, "per_page": per_page})
            rows = self._rows_of(reply, ProductInfo, "product_info")
            yield from rows
            if len(rows) < per_page:
                return
            page += 1

    def product_by_sku(self, shop_id: int, sku: str) -> ProductInfo | None:
        """The shop's product with this SKU, or ``None``."""
        reply = self._send("GET", S.PRODUCT_INFO_PATH, params={"shop_id": shop_id, "sku": sku})
        for row in self._rows_of(reply, ProductInfo, "product_info"):
            if (row.sku is None or row.sku == sku) and row.basic.shopID in (None, shop_id):
                return row
        return None

    def iter_orders(self, shop_id: int, start: datetime | int, end: datetime | int,
                    per_page: int = S.ORDERS_PER_PAGE_MAX) -> Iterator[Order]:
        """Orders created in ``[start, end)`` (UNIX seconds or aware datetimes), with their
        current status; asked for in windows under 3 days, each paged until a short page."""
        if not 1 <= per_page <= S.ORDERS_PER_PAGE_MAX:
            raise ValueError(f"per_page must be 1..{S.ORDERS_PER_PAGE_MAX}")
        for lo, hi in order_windows(start, end):
            seen: set[int] = set()
            page = 1
            while True:
                reply = self._send("GET", S.ORDER_LIST_PATH, params={
                    "fs_id": self.fs_id, "shop_id": shop_id, "from_date": lo, "to_date": hi,
                    "page": page, "per_page": per_page})
                rows = self._rows_of(reply, Order, "orders")
                for order in rows:
                    if order.order_id not in seen:  # an order landing mid-paging can shift a page
                        seen.add(order.order_id)
                        yield order
                if len(rows) < per_page:
                    break
                page += 1

    def get_order(self, order_id: int) -> Order:
        """One order with its current status; :class:`NotFoundError` if unknown."""
        reply = self._send("GET", S.ORDER_PATH, params={"order_id": order_id})
        data = reply.envelope.data
        if isinstance(data, list):
            data = data[0] if data else None
        if data is None:
            raise NotFoundError(f"order {order_id} not found", status=reply.status, endpoint="order")
        try:
            return Order.model_validate(data)
        except ValidationError:
            raise MalformedResponseError("answer data is not an order", status=reply.status, endpoint="order") from None

    def categories(self) -> list[Category]:
        """The marketplace's category tree (leaves have ``is_leaf``)."""
        return self._rows_of(self._send("GET", S.CATEGORIES_PATH), Category, "categories")
