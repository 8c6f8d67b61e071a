"""How a run starts its steps: each one now, in this thread (:class:`Inline`), or as a Prefect task.

A step is a plain function whose first parameter is the :class:`~flows.engine.runtime.Runtime`;
the rest are plain, picklable values. The orchestration in :mod:`flows.engine.sync` and
:mod:`flows.engine.order_runs` submits steps through a :class:`Steps` and collects their results
(or their exceptions: one group or shop failing never stops the others). :mod:`flows.tasks`
submits them as Prefect tasks; tests and benchmarks use :class:`Inline`.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar

from flows.engine.runtime import Runtime

T = TypeVar("T")


class Outcome(Protocol[T]):
    """A submitted step: ``result()`` returns its value or raises its exception."""

    def result(self) -> T: ...


class Steps(Protocol):
    def submit(self, step: Callable[..., T], *args: Any, **kwargs: Any) -> Outcome[T]:
        """Start ``step(runtime, *args, **kwargs)``."""
        ...


class Inline:
    """Run each step at once in the caller's thread, with the run's runtime."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt

    def submit(self, step: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        done: Future[T] = Future()
        try:
            done.set_result(step(self.rt, *args, **kwargs))
        except Exception as err:  # as a task's future does: raised by .result()
            done.set_exception(err)
        return done


def settle(outcomes: dict[Any, Outcome[T]]) -> dict[Any, T | Exception]:
    """Every step's value, or the exception that stopped it (never raised here)."""
    out: dict[Any, T | Exception] = {}
    for key, outcome in outcomes.items():
        try:
            out[key] = outcome.result()
        except Exception as err:
            out[key] = err
    return out
