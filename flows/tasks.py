"""The engine's steps as Prefect tasks: one task run per unit of real work, never per row.

Each task takes plain, serialisable parameters — the config path first, then ids and typed
values — and finds the run's resources with :func:`flows.run.task_resources`.
:class:`PrefectSteps` is the :class:`flows.engine.steps.Steps` a flow hands the engine: it
submits a step as its task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.engine.apply import Applied, apply_writes
from flows.engine.intake import GroupCatalogue, read_group
from flows.engine.order_runs import pull_shop, write_sheets
from flows.engine.orders import backfill_for_shop
from flows.engine.planning import ShopWork, SyncOptions, plan_shop_work
from flows.run import task_resources
from schemas.categories import CategoryIndex
from schemas.config import GroupConfig
from schemas.errors import is_transient
from schemas.plan import Entry, WriteKind


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect ``retry_condition_fn``: retry a failed step only for a transient channel error."""
    try:
        state.result()
    except Exception as err:
        return is_transient(err)
    return False


# The client already retries each call; a task retry outlasts a longer outage (5xx, 429, lost
# connections only: a refusal is not repeated). Plans and writes are safe to repeat: writes are
# absolute, and a create the channel already holds is found by its SKU.
TRANSIENT = dict(retries=2, retry_delay_seconds=[30, 120], retry_condition_fn=retry_transient, cache_policy=NO_CACHE)


@task(name="intake-group", task_run_name="intake · {group.id}", cache_policy=NO_CACHE,
      description="Read, validate and normalise one group's catalogue; write its rejects report.")
def intake_group(config_path: str, group: GroupConfig, categories: CategoryIndex) -> GroupCatalogue:
    return read_group(task_resources(config_path), group, categories)


@task(name="plan-shop", task_run_name="plan · shop {shop_id}", **TRANSIENT,
      description="Pull the shop's new orders, then plan its writes from its groups' catalogues.")
def plan_shop(config_path: str, shop_id: int, catalogues: list[GroupCatalogue], options: SyncOptions) -> ShopWork:
    return plan_shop_work(task_resources(config_path), shop_id, catalogues, options)


@task(name="apply-writes", task_run_name="apply · {kind} · shop {shop_id}", **TRANSIENT,
      description="Send one kind of write to the shop in batches, recording each.")
def apply_kind(config_path: str, shop_id: int, kind: WriteKind, rows: list[Entry]) -> Applied:
    return apply_writes(task_resources(config_path), shop_id, kind, rows)


@task(name="pull-shop-orders", task_run_name="orders · shop {shop_id}", **TRANSIENT,
      description="Pull one shop's new and changed orders, refresh its open ones, correct its stock.")
def pull_shop_orders(config_path: str, shop_id: int, now: int) -> dict:
    return pull_shop(task_resources(config_path), shop_id, now)


@task(name="backfill-shop-orders", task_run_name="backfill · shop {shop_id}", **TRANSIENT,
      description="Store every order of one shop created in a range; correct its stock.")
def backfill_shop_orders(config_path: str, shop_id: int, start: int, end: int) -> dict:
    return backfill_for_shop(task_resources(config_path), shop_id, start, end)


@task(name="write-order-sheets", cache_policy=NO_CACHE,
      description="Rewrite the order sheets of the months touched, per group.")
def write_order_sheets(config_path: str, months: list[str]) -> list[str]:
    return write_sheets(task_resources(config_path), months)


TASKS: dict[Callable[..., Any], Any] = {
    read_group: intake_group,
    plan_shop_work: plan_shop,
    apply_writes: apply_kind,
    pull_shop: pull_shop_orders,
    backfill_for_shop: backfill_shop_orders,
    write_sheets: write_order_sheets,
}


class PrefectSteps:
    """Submits each engine step as its Prefect task, for the run of ``config_path``."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path

    def submit(self, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # Collections are passed as they are: Prefect would otherwise visit every listing in
        # them looking for futures (there are none: steps hand on finished values).
        args = tuple(quote(a) if isinstance(a, (list, tuple, dict)) else a for a in args)
        return TASKS[step].submit(self.config_path, *args, **kwargs)

