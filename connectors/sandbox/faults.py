"""Injected faults: what goes wrong, on which paths, how often.

A fault matches a contract call whose path contains ``path`` (``""`` matches every call,
the token endpoint included). It fires ``count`` times, or on each matching call with
``probability`` (drawn from its own ``random.Random(seed)``, so a run repeats), or both:
``probability`` per call, at most ``count`` times. Neither given means once.
Faults live in memory: a restart clears them.
"""

from __future__ import annotations

import itertools
import random
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["http_429", "error_5xx_before", "error_5xx_after", "latency", "token_expiry"]


class FaultSpec(BaseModel):
    """One fault to inject (the body of ``POST /admin/faults``)."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    path: str = Field(default="", description="Substring of the request path; '' matches all.")
    count: int | None = Field(default=None, ge=1, description="Fire at most this many times.")
    probability: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    seconds: float = Field(default=1.0, ge=0, le=600, description="latency: delay before answering.")
    status: int = Field(default=500, ge=500, le=599, description="error_5xx_*: the status answered.")
    reset_after: float = Field(default=0.2, ge=0, description="http_429: X-Ratelimit-Reset-After sent.")


class Fault:
    """A live fault: its spec, its random stream and how often it has fired."""

    def __init__(self, fid: int, spec: FaultSpec) -> None:
        self.id = fid
        self.spec = spec
        self.rng = random.Random(spec.seed)
        self.fired = 0
        self.remaining = spec.count if spec.count is not None else (None if spec.probability is not None else 1)

    def roll(self, path: str) -> bool:
        """Does it fire on this call? Counts the firing when it does."""
        if self.remaining == 0 or self.spec.path not in path:
            return False
        if self.spec.probability is not None and self.rng.random() >= self.spec.probability:
            return False
        self.fired += 1
        if self.remaining is not None:
            self.remaining -= 1
        return True

    def as_dict(self) -> dict:
        return {"id": self.id, **self.spec.model_dump(), "fired": self.fired, "remaining": self.remaining}


class FaultBook:
    """The faults in force, checked in the order they were added."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._ids = itertools.count(1)

    def add(self, spec: FaultSpec) -> Fault:
        fault = Fault(next(self._ids), spec)
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[dict]:
        return [f.as_dict() for f in self._faults]

    def fire(self, kind: str, path: str) -> Fault | None:
        """The first fault of ``kind`` that fires on ``path`` now, if any."""
        for f in self._faults:
            if f.spec.kind == kind and f.roll(path):
                return f
        return None

    def fire_all(self, kind: str, path: str) -> list[Fault]:
        """Every fault of ``kind`` that fires on ``path`` now (latencies add up)."""
        return [f for f in self._faults if f.spec.kind == kind and f.roll(path)]
