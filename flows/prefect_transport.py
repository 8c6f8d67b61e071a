"""The transport of the shared rate limits' Prefect client (:mod:`flows.limits`): Prefect's own,
with requests a Prefect server on SQLite refuses for a moment repeated at once."""

from __future__ import annotations

import ssl
import time

import certifi
import httpx


class QuickRetry(httpx.BaseTransport):
    """Repeats at once, a few times a few milliseconds apart, a request answered 503.

    A Prefect server on SQLite answers 503 when another write got in between the read and the
    write of an increment (SQLITE_BUSY_SNAPSHOT), on a busy server often; Prefect's client would
    try again after ~2 s, then ~4 s: seconds of the shared rate lost each time. What is still
    refused after these goes back to that client, which retries as it always does.
    """

    DELAYS = (0.005, 0.01, 0.02, 0.04, 0.08)

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for delay in self.DELAYS:
            response = self.inner.handle_request(request)
            if response.status_code != 503:
                return response
            response.read()
            response.close()
            time.sleep(delay)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def quick_retry_transport() -> QuickRetry:
    """The transport Prefect's client makes for its API (TLS as its settings say, HTTP/2 when
    enabled, its pool limits, 3 connection retries), behind :class:`QuickRetry`."""
    from prefect.settings import (
        PREFECT_API_ENABLE_HTTP2,
        PREFECT_API_SSL_CERT_FILE,
        PREFECT_API_TLS_INSECURE_SKIP_VERIFY,
    )

    if PREFECT_API_TLS_INSECURE_SKIP_VERIFY.value():
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    else:
        ctx = ssl.create_default_context(cafile=PREFECT_API_SSL_CERT_FILE.value() or certifi.where())
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=8, keepalive_expiry=25)
    http2 = bool(PREFECT_API_ENABLE_HTTP2.value())
    return QuickRetry(httpx.HTTPTransport(verify=ctx, http2=http2, limits=limits, retries=3))
