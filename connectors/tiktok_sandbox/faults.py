"""Injected faults of the TikTok sandbox: the kinds, and the spec ``POST /admin/faults`` takes.

Matching and firing (path substring, ``count``, ``probability`` with its own seeded random
stream) are :class:`connectors.sandbox.faults.FaultBook`'s, shared with the first sandbox.

=====================  ===================================================================
kind                   effect on a matching call
=====================  ===================================================================
``http_429``           429 ``36009002`` with ``Retry-After``, nothing applied
``error_5xx_before``   ``status`` (500) ``36009003`` before anything is applied
``error_5xx_after``    the call is applied, then answered ``status`` ``36009003``
``drop_after``         the call is applied, then the connection is closed with no answer
``latency``            waits ``seconds`` before serving
``token_expiry``       the access token expires now: 401 ``105002``
=====================  ===================================================================
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["http_429", "error_5xx_before", "error_5xx_after", "drop_after", "latency", "token_expiry"]
FAULT_KINDS: tuple[str, ...] = FaultKind.__args__  # type: ignore[attr-defined]


class FaultSpec(BaseModel):
    """One fault to inject. Neither ``count`` nor ``probability`` means once."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    path: str = Field(default="", description="Substring of the request path; '' matches all.")
    count: int | None = Field(default=None, ge=1)
    probability: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    seconds: float = Field(default=1.0, ge=0, le=600)
    status: int = Field(default=500, ge=500, le=599)
    retry_after: int = Field(default=1, ge=1, le=3600, description="http_429: the Retry-After sent.")
