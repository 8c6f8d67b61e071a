"""Every project logger (``lapak.*``) reaches the Prefect run page operators read.

The engine and the connectors log with plain module loggers (``lapak.orders``, ``lapak.locks``,
``lapak.marketplace`` …) and know nothing of Prefect. :func:`route_to_run_pages` gives the
``lapak`` logger Prefect's API handler, so a record logged inside a flow or task run — from any
thread that carries the run's context — is stored with that run; records logged outside a run go
to the console only (no warning about a missing run). It is what
``PREFECT_LOGGING_EXTRA_LOGGERS=lapak`` does, applied by the flows themselves so it holds in every
process that runs them (``lapak serve``, a worker, a test), whatever its environment.
"""

from __future__ import annotations

import logging

from prefect.logging.handlers import APILogHandler

PROJECT_LOGGER = "lapak"


class RunPageHandler(APILogHandler):
    """Prefect's API log handler, for records logged inside a flow or task run only."""

    def emit(self, record: logging.LogRecord) -> None:
        from prefect.context import FlowRunContext, TaskRunContext

        if FlowRunContext.get() is None and TaskRunContext.get() is None:
            return
        super().emit(record)


def route_to_run_pages() -> None:
    """Attach :class:`RunPageHandler` to the ``lapak`` logger once; its level follows Prefect's
    ``PREFECT_LOGGING_LEVEL`` unless someone set one."""
    from prefect.settings import PREFECT_LOGGING_LEVEL

    logger = logging.getLogger(PROJECT_LOGGER)
    if not any(isinstance(h, RunPageHandler) for h in logger.handlers):
        logger.addHandler(RunPageHandler())
    if logger.level == logging.NOTSET:
        logger.setLevel(PREFECT_LOGGING_LEVEL.value())
