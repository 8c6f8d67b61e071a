"""What every flow does first: its logs to the run page, its resources opened (and closed after)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flows.artifacts import needs_operator_markdown
from flows.engine.runtime import Runtime, open_run, resources
from flows.limits import shared_pacing
from flows.logs import route_to_run_pages
from schemas.errors import AuthError, NeedsOperator
from schemas.operator import CONFIG_MISMATCH, Problem, every_shop, operator_failure

SERVED_CONFIG = "LAPAK_SERVED_CONFIG"
"""Set by ``lapak serve`` for its runs (and on a work pool's deployments): the one configuration
file they may read."""


def check_served_config(config_path: str) -> None:
    """Refuse a run that asks for another configuration than the one its runner serves.

    The deployments freeze ``config_path``, but the Prefect API lets anyone who reaches it start a
    run with other parameters when schema checks are off; another file could send the secrets in
    this runner's environment to another ``auth_url``. Nothing of it is read."""
    served = os.environ.get(SERVED_CONFIG)
    if not served:
        return  # a run from a shell (lapak sync) reads the file it was given
    try:
        same = Path(str(config_path)).resolve() == Path(served).resolve()
    except (OSError, ValueError):
        same = False
    if not same:
        problem = Problem(CONFIG_MISMATCH, str(config_path)[:300], f"this runner serves {served}")
        raise operator_failure([problem], summary={"problem_details": [problem.as_dict()]})


def flow_run_label() -> str:
    """``flow run <name> <id>`` of the current Prefect flow run ("" outside one)."""
    from prefect.runtime import flow_run

    return f"flow run {flow_run.name} {flow_run.id}" if flow_run.id else ""


def tag_run(kind: str) -> None:
    """The current flow run carries the ``lapak`` tag and its kind (``sync``, ``orders``,
    ``backfill``), however it was started: a deployment's runs have them already; one started
    from a shell (``lapak sync`` from cron, a script) gets them here, so the operators'
    automations (tag ``lapak``) see it fail."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    want = ["lapak", kind]
    have = list(flow_run.tags or [])
    if not flow_run.id or all(t in have for t in want):
        return
    with get_client(sync_client=True) as client:
        client.update_flow_run(flow_run.id, tags=list(dict.fromkeys(have + want)))


@contextmanager
def prefect_run(config_path: str, kind: str) -> Iterator[Runtime]:
    """The run's resources for a flow body: each channel's pacing shared with every worker through
    Prefect limits per app and endpoint, project logs on the run page, leases naming this flow run."""
    route_to_run_pages()
    tag_run(kind)
    check_served_config(config_path)
    with open_run(config_path, channel=shared_pacing) as rt:
        rt.label = flow_run_label()
        if kind != "intake":  # it writes nothing anywhere: no credentials needed
            credentials_accepted(rt)
        yield rt


def credentials_accepted(rt: Runtime) -> None:
    """A refused secret stops the run at once, with one line saying what to check."""
    try:
        rt.check_credentials()
    except AuthError as err:
        raise operator_failure([every_shop(err)]) from None


def task_resources(config_path: str) -> Runtime:
    """A task's resources: its flow's (same process), else opened for this process as a flow
    opens them (a task runner that runs tasks elsewhere)."""
    route_to_run_pages()
    check_served_config(config_path)
    return resources(config_path, channel=shared_pacing)


def ended(summary: dict, failure: NeedsOperator | None) -> Any:
    """A flow's end. The ``needs-operator`` artifact is written either way ("nothing needs you"
    after a good run). When something needs an operator: a Failed state without a traceback, its
    message one line per cause (group or shop, cause, action), the same text as the run's last
    ERROR log line. The failure is the state's data: a caller in this process (the ``lapak``
    command) gets it raised, summary and all. Unexpected errors are not handled here: they keep
    their traceback."""
    from prefect import get_run_logger
    from prefect.artifacts import create_markdown_artifact
    from prefect.states import Failed

    lines = failure.lines if failure is not None else []
    details = (failure.summary or {}).get("problem_details") if failure is not None else None
    create_markdown_artifact(key="needs-operator", markdown=needs_operator_markdown(lines, details),
                             description=lines[0] if lines else "Nothing needs an operator.")
    if failure is None:
        return summary
    get_run_logger().error("%s", failure)
    return Failed(message=str(failure), data=failure)
