"""The contract's response envelope ``{"code", "message", "request_id", "data"}`` (§3), the error
that becomes one, and the dropped connection an injected fault answers with."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

from fastapi.responses import JSONResponse, Response

BAD_REQUEST = 36009004
PRODUCT_RULE = 12052001
DUPLICATE_SKU = 12052002
IMAGE_REFUSED = 12052003
NOT_ACTIVE = 12052004
UNKNOWN_PRODUCT = 12052260
RATE_LIMITED = 36009002
INTERNAL = 36009003
OK_MESSAGE = "Success"


class ApiError(Exception):
    """An error answer: HTTP status, the contract's ``code`` and a message."""

    def __init__(self, status: int, code: int, message: str, *, data: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.data = status, code, message, data
        self.headers = headers or {}


def request_id() -> str:
    return time.strftime("%Y%m%d%H%M%S", time.gmtime()) + secrets.token_hex(10).upper()


def envelope(data: Any, *, code: int = 0, message: str = OK_MESSAGE, status: int = 200,
             headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "request_id": request_id(), "data": data},
                        status_code=status, headers=headers)


class DropConnection(Exception):
    """Close the connection without an answer (an injected ``drop_after``)."""

    def response(self) -> Response:
        return _DropResponse()


class _DropResponse(Response):
    """Aborts the client's TCP connection instead of answering.

    uvicorn's ``receive`` is a bound method of the request cycle, which holds the transport; when
    that is not so (another server), the status line goes out and the body never does.
    """

    def __init__(self) -> None:
        super().__init__(status_code=500)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        transport = getattr(getattr(receive, "__self__", None), "transport", None)
        if transport is not None:
            transport.abort()
            await asyncio.sleep(0.01)  # let the server see the connection gone before the app returns
            return
        await send({"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"100")]})
        raise ConnectionAbortedError("connection dropped (injected)")
