"""``lapak serve --config F``: the deployments operators run from the Prefect UI, served by this process.

| deployment | what | schedule (Asia/Jakarta) |
|---|---|---|
| ``sync-catalogues/hourly`` | catalogue sync | every hour at :05 |
| ``pull-orders/every-15-minutes`` | order pull | :00, :15, :30, :45 |
| ``backfill-orders/on-demand`` | order backfill (``start``, ``end``) | none: started by hand |

The order pull also runs for one shop when that shop's orders change: ``lapak webhooks`` emits a
``lapak.orders.notified`` Prefect event per shop, and the automation kept with the deployment
(:func:`notified_trigger`) runs ``pull-orders/every-15-minutes`` with ``shops`` set to that shop
at once, one run per burst of notifications (:mod:`flows.engine.notified`). The schedule stays:
it is the safety net for a notification that never came.

Runs execute in subprocesses of this process (Prefect's runner), in its environment (so
``LAPAK_CLIENT_SECRET`` set here reaches them). The configuration file is frozen into each
deployment: the UI shows it read-only, and offers the configured groups as the choices for a
sync's ``groups``.

Prefect's ``serve`` pauses the schedules when it stops; here it does not, and starting it
again resumes any paused schedule, so a restart (or a crash, or a reboot) never leaves them
paused. Scheduled runs that came due while nothing was serving are skipped (cancelled with a
note) instead of replayed one after another: each sync or pull catches up on everything.
"""

from __future__ import annotations

import glob
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flows.engine.notified import NOTIFIED_WINDOW_S
from schemas.errors import LapakError

TIMEZONE = "Asia/Jakarta"
TAGS = ["lapak"]
SYNC = "hourly"
ORDERS = "every-15-minutes"
BACKFILL = "on-demand"
SYNC_CRON = "5 * * * *"        # :05, clear of the :00 order pull
ORDERS_CRON = "*/15 * * * *"
MISSED_GRACE = timedelta(minutes=5)  # a run this late was missed, not merely slow to start
PAGE = 200                           # the most runs the API returns at once
NOTIFIED_EVENT = "lapak.orders.notified"  # what `lapak webhooks` emits per shop (resource lapak.shop.<channel>.<id>)
SKIP_MESSAGE = ("Skipped: due while lapak serve was not running. The next scheduled run catches up on "
                "everything (a sync makes the shops match the catalogues; a pull reads from its cursor).")


# ---- the runner's poll (how soon a run the order-notification automation creates is started) ----
RUNNER_POLL_S = 1
"""Seconds between the runner's queries for runs to start, unless PREFECT_RUNNER_POLL_FREQUENCY is
set. Prefect's default, 10 s, would add up to 10 s to every notified pull; a query a second costs
the server one small read."""


def runner_poll_seconds() -> float:
    """The runner's poll: PREFECT_RUNNER_POLL_FREQUENCY when set (environment, profile), else :data:`RUNNER_POLL_S`."""
    from prefect.settings import get_current_settings

    runner = get_current_settings().runner
    return runner.poll_frequency if "poll_frequency" in runner.model_fields_set else RUNNER_POLL_S
# ---- end of the runner's poll ----


def deployment_names() -> dict[str, str]:
    """``flow/deployment`` names, as ``prefect deployment run`` takes them."""
    return {"sync": f"sync-catalogues/{SYNC}", "orders": f"pull-orders/{ORDERS}",
            "backfill": f"backfill-orders/{BACKFILL}"}


def build_deployments(config_path: str | Path, group_ids: Iterable[str]) -> list[Any]:
    """The three deployments for one configuration file (absolute path)."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.schedules import Cron
    from prefect.types.entrypoint import EntrypointType
    from prefect.utilities.annotations import freeze

    from flows.orders import backfill_orders, pull_orders
    from flows.sync import sync_catalogues

    cfg = str(Path(config_path).resolve())

    def common() -> dict:  # fresh each time: Prefect unwraps the frozen value in place
        return dict(
            parameters={"config_path": freeze(cfg)},   # read-only in the UI: runs use this file only
            paused=False,                              # applied at every start: a restart resumes the schedules
            # One run of each at a time; a run started while one is going waits for it.
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=ConcurrencyLimitStrategy.ENQUEUE),
            # The runner imports the flows as modules (the package is installed), wherever it runs from.
            entrypoint_type=EntrypointType.MODULE_PATH,
        )

    sync = sync_catalogues.to_deployment(
        SYNC, schedules=[Cron(SYNC_CRON, timezone=TIMEZONE)], tags=[*TAGS, "sync"], **common(),
        description=(f"Catalogue sync of {cfg}, every hour at :05 (Asia/Jakarta): read each group's catalogue, "
                     "reject what can't be listed (reports under the output folder's rejects/), and make the "
                     "marketplace hold exactly the listings. Run it by hand with `dry_run` to see the plan "
                     "first, or `accept_shrink` to let a catalogue that lost many rows deactivate them. "
                     "Artifacts: sync-summary, sync-rejects, sync-plan (dry runs), sync-progress."))
    _offer_groups(sync, list(group_ids))
    orders = pull_orders.to_deployment(
        ORDERS, schedules=[Cron(ORDERS_CRON, timezone=TIMEZONE)], tags=[*TAGS, "orders"], **common(),
        triggers=[notified_trigger(cfg)],
        description=(f"Order pull of {cfg}, every 15 minutes (Asia/Jakarta): new and changed orders of every "
                     "shop, stock corrected, per-group order sheets rewritten under the output folder's "
                     "orders/. Also run for one shop (`shops`) within seconds of its order notification "
                     f"(automation {automation_name(cfg)}). Artifacts: orders-summary, orders-changes."))
    backfill = backfill_orders.to_deployment(
        BACKFILL, tags=[*TAGS, "orders", "backfill"], **common(),
        description=(f"Order backfill of {cfg}, started by hand: every order created from `start` to `end` "
                     "(days in Asia/Jakarta, inclusive) is stored, idempotently; the incremental pull's "
                     "cursor is not moved. Artifacts: orders-backfill-summary, orders-backfill-changes."))
    return [sync, orders, backfill]


def config_digest(config_path: str | Path) -> str:
    """10 hex digits naming one configuration file (its absolute path) in Prefect objects' names."""
    return hashlib.sha256(str(Path(config_path).resolve()).encode()).hexdigest()[:10]


def automation_name(config_path: str | Path) -> str:
    """The order-notification automation's name: stable for one configuration file, another's for another."""
    return f"lapak-orders-on-notification-{config_digest(config_path)}"


def notified_trigger(cfg: str) -> Any:
    """The automation that runs the order pull of a shop whose orders changed, created with the
    deployment (Prefect replaces it on every ``lapak serve`` start and deletes it with the deployment).

    On ``lapak.orders.notified`` from this configuration (``lapak.config``: two configurations'
    notifications never start each other's runs), per shop (``for_each`` the event's resource):
    Reactive with threshold 1 fires on a shop's first notification at once, and Prefect then drops
    that shop's further notifications for ``within`` seconds; the run's cut-off waits out that
    window, so they are covered (:mod:`flows.engine.notified`). Runs of the deployment go one at a
    time (its concurrency limit), so a pull started mid-run waits for the running one.
    """
    from prefect.events import DeploymentEventTrigger
    from prefect.events.schemas.automations import Posture

    return DeploymentEventTrigger(
        name=automation_name(cfg),
        description=f"Order pull of one shop of {cfg} when its orders change (lapak webhooks).",
        expect={NOTIFIED_EVENT},
        match={"prefect.resource.id": "lapak.shop.*", "lapak.config": glob.escape(cfg)},
        for_each={"prefect.resource.id"},
        posture=Posture.Reactive, threshold=1, within=timedelta(seconds=NOTIFIED_WINDOW_S),
        parameters={
            "config_path": cfg,
            "shops": ["{{ event.resource['lapak.channel'] }}:{{ event.resource['lapak.shop_id'] }}"],
            "notified_at": "{{ event.occurred.isoformat() }}",
        },
    )


def _offer_groups(deployment: Any, group_ids: list[str]) -> None:
    """The UI's Custom run form shows ``groups`` as a pick-list of the configured groups (several
    may be ticked; none ticked means every group), and the server refuses any other id.

    The flow's signature (``list[GroupId] | None``) would give the form a "list | None" toggle:
    the schema is made a plain array of the configured ids, empty by default."""
    # RunnerDeployment keeps the schema it sends in a private attribute; Prefect itself edits it
    # the same way for frozen parameters.
    props = deployment._parameter_openapi_schema.properties
    prop = props.get("groups")
    if prop is None or not group_ids:
        return
    props["groups"] = {key: prop[key] for key in ("title", "description", "position") if key in prop} | {
        "type": "array", "items": {"type": "string", "enum": list(group_ids)}, "uniqueItems": True, "default": []}


def missed_runs(runs: Iterable[Any], now: datetime, grace: timedelta = MISSED_GRACE) -> list[Any]:
    """Scheduled runs the scheduler made (not ones an operator started) that are more than ``grace`` late."""
    return [r for r in runs if r.auto_scheduled and r.state is not None and r.state.is_scheduled()
            and r.expected_start_time is not None and r.expected_start_time < now - grace]


def skip_missed_runs(names: Iterable[str]) -> int:
    """Cancel, with a note, the missed scheduled runs of the named deployments; returns how many."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterDeploymentId,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.exceptions import ObjectNotFound
    from prefect.states import Cancelled

    skipped = 0
    with get_client(sync_client=True) as client:
        ids = []
        for name in names:
            try:
                ids.append(client.read_deployment_by_name(name).id)
            except ObjectNotFound:
                continue  # first start: nothing was scheduled yet
        if not ids:
            return 0
        now = datetime.now(UTC)
        late = FlowRunFilter(deployment_id=FlowRunFilterDeploymentId(any_=ids),
                             state=FlowRunFilterState(type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])),
                             expected_start_time=FlowRunFilterExpectedStartTime(before_=now - MISSED_GRACE))
        while True:  # cancelled runs leave the filter, so the first page is always the next one
            page = client.read_flow_runs(flow_run_filter=late, limit=PAGE)
            missed = missed_runs(page, now)
            for run in missed:
                client.set_flow_run_state(run.id, Cancelled(message=SKIP_MESSAGE), force=True)
            skipped += len(missed)
            if len(page) < PAGE or not missed:
                break
    return skipped


def register_on_pool(deployments: list[Any], work_pool: str) -> list[Any]:
    """Scale-out: put the deployments on a process work pool (workers run them) instead of serving them here."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(work_pool)
        except ObjectNotFound:
            raise LapakError(f"no work pool {work_pool!r}: create it with "
                               f"`prefect work-pool create {work_pool} --type process`") from None
    return [d.apply(work_pool_name=work_pool) for d in deployments]


def check_server() -> str:
    """The Prefect API URL; a clear error when none is set or it does not answer."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    if not url:
        raise LapakError("no Prefect server configured: start one with `prefect server start` and set "
                           "PREFECT_API_URL (e.g. `prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api`)")
    with get_client(sync_client=True) as client:
        failure = client.api_healthcheck()
        if failure is not None:
            raise LapakError(f"the Prefect server at {url} does not answer ({type(failure).__name__}); "
                               "is `prefect server start` running?")
        refused = _refused(client)
    if refused:
        raise LapakError(f"the Prefect server at {url} refused this client ({refused}): set "
                           "PREFECT_API_AUTH_STRING to the server's PREFECT_SERVER_API_AUTH_STRING "
                           "(`prefect config set PREFECT_API_AUTH_STRING=…`)")
    return url


def _refused(client: Any) -> str:
    """Why an authenticated call fails ("HTTP 401"), or "" when it is accepted. The health check
    is open to anyone on an authenticated server: this asks for something that is not."""
    import httpx

    try:
        client.hello()
    except httpx.HTTPStatusError as err:
        if err.response.status_code in (401, 403):
            return f"HTTP {err.response.status_code}"
        raise
    return ""
