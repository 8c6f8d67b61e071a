"""The contract's response envelope and the error that becomes one."""

from __future__ import annotations

import time
from typing import Any

from fastapi.responses import JSONResponse

OK_MESSAGE = "Your request has been processed successfully"


class ApiError(Exception):
    """An error answer: HTTP status, ``error_code`` and message, in the envelope."""

    def __init__(self, status: int, error_code: str, messages: str, reason: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(messages)
        self.status, self.error_code, self.messages, self.reason = status, error_code, messages, reason
        self.headers = headers or {}


def envelope(data: Any, started: float, *, status: int = 200, messages: str = OK_MESSAGE,
             reason: str = "", error_code: str | int = 0, headers: dict[str, str] | None = None,
             extra: dict[str, Any] | None = None) -> JSONResponse:
    """The contract's ``{"header": …, "data": …}`` response."""
    header = {"process_time": round(time.perf_counter() - started, 6), "messages": messages,
              "reason": reason, "error_code": error_code}
    return JSONResponse({**(extra or {}), "header": header, "data": data}, status_code=status, headers=headers)
