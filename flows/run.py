"""What every flow does first: its logs to the run page, its resources opened (and closed after)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flows.engine.runtime import Runtime, open_run, resources
from flows.limits import shared_pacing
from flows.logs import route_to_run_pages


def flow_run_label() -> str:
    """``flow run <name> <id>`` of the current Prefect flow run ("" outside one)."""
    from prefect.runtime import flow_run

    return f"flow run {flow_run.name} {flow_run.id}" if flow_run.id else ""


@contextmanager
def prefect_run(config_path: str) -> Iterator[Runtime]:
    """The run's resources for a flow body: each channel's pacing shared with every worker through
    Prefect limits per app and endpoint, project logs on the run page, leases naming this flow run."""
    route_to_run_pages()
    with open_run(config_path, channel=shared_pacing) as rt:
        rt.label = flow_run_label()
        yield rt


def task_resources(config_path: str) -> Runtime:
    """A task's resources: its flow's (same process), else opened for this process as a flow
    opens them (a task runner that runs tasks elsewhere)."""
    route_to_run_pages()
    return resources(config_path, channel=shared_pacing)
