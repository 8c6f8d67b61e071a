"""The engine's steps as Prefect tasks: one task run per unit of real work, never per row.

Each task takes plain, serialisable parameters — the config path first, then ids and typed
values — and finds the run's resources with :func:`flows.run.task_resources`.
:class:`PrefectSteps` is the :class:`flows.engine.steps.Steps` a flow hands the engine: it
submits a step as its task.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.utilities.annotations import quote

from flows.engine.notices import notify_groups
from flows.engine.order_runs import backfill_shop, correct_shop_stock, pull_shop, write_sheets
from flows.engine.retention import remove_old_buyer_details
from flows.notify import publish_notices, send_notice
from flows.run import task_resources
from schemas.channel import ShopRef
from schemas.errors import is_transient

# The catalogue sync's steps (intake, planning, writes: pandas, pyarrow, openpyxl, the catalogue
# readers) are imported when a sync first submits one (:func:`_sync_steps`), not with this module:
# an order pull's run process starts without paying for them.
if TYPE_CHECKING:
    from flows.engine.apply import Applied
    from flows.engine.intake import GroupCatalogue, IntakeBatch
    from flows.engine.planning import ShopWork, SyncOptions
    from schemas.categories import CategoryIndex
    from schemas.channel_rules import CategoryMap
    from schemas.config import GroupConfig
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
def intake_group(config_path: str, group: GroupConfig, categories: CategoryIndex,
                 channel_maps: dict[str, CategoryMap | Exception] | None = None) -> GroupCatalogue:
    from flows.engine.intake import read_group

    return read_group(task_resources(config_path), group, categories, channel_maps)


@task(name="intake-groups", task_run_name="intake · {batch}", cache_policy=NO_CACHE,
      description="Read, validate and normalise a batch of groups' catalogues (an unchanged one is not read "
      "again); write their rejects reports. A group that fails does not stop the others.")
def intake_groups(config_path: str, batch: IntakeBatch, categories: CategoryIndex,
                  channel_maps: dict[str, CategoryMap | Exception] | None = None,
                  inputs: str | None = None) -> dict[str, GroupCatalogue | Exception]:
    from flows.engine.intake import read_groups

    return read_groups(task_resources(config_path), batch, categories, channel_maps, inputs)


@task(name="pull-before-planning", task_run_name="orders first · shop {shop}", **TRANSIENT,
      description="Store one shop's new orders before any shop is planned (one stock across channels).")
def pull_before_plan(config_path: str, shop: ShopRef) -> dict:
    from flows.engine.planning import pull_before_planning

    return pull_before_planning(task_resources(config_path), shop)


@task(name="plan-shop", task_run_name="plan · shop {shop}", **TRANSIENT,
      description="Plan one shop's writes from its groups' catalogues (its orders already pulled).")
def plan_shop(config_path: str, shop: ShopRef, catalogues: list[GroupCatalogue], options: SyncOptions,
              pull: bool = True) -> ShopWork:
    from flows.engine.planning import plan_shop_work

    return plan_shop_work(task_resources(config_path), shop, catalogues, options, pull=pull)


@task(name="apply-writes", task_run_name="apply · {kind} · shop {shop}", **TRANSIENT,
      description="Send one kind of write to the shop in batches, recording each.")
def apply_kind(config_path: str, shop: ShopRef, kind: WriteKind, rows: list[Entry]) -> Applied:
    from flows.engine.apply import apply_writes

    return apply_writes(task_resources(config_path), shop, kind, rows)


@task(name="pull-shop-orders", task_run_name="orders · shop {shop}", **TRANSIENT,
      description="Pull one shop's new and changed orders and refresh its open ones.")
def pull_shop_orders(config_path: str, shop: ShopRef, now: int) -> dict:
    return pull_shop(task_resources(config_path), shop, now)


@task(name="backfill-shop-orders", task_run_name="backfill · shop {shop}", **TRANSIENT,
      description="Store every order of one shop created in a range.")
def backfill_shop_orders(config_path: str, shop: ShopRef, start: int, end: int) -> dict:
    return backfill_shop(task_resources(config_path), shop, start, end)


@task(name="correct-shop-stock", task_run_name="stock · shop {shop}", **TRANSIENT,
      description="Push the stock rule (sales on every channel) where the shop shows more.")
def correct_stock_task(config_path: str, shop: ShopRef) -> dict:
    return correct_shop_stock(task_resources(config_path), shop)


@task(name="write-order-sheets", cache_policy=NO_CACHE,
      description="Rewrite the order sheets of the months touched, per group.")
def write_order_sheets(config_path: str, months: list[str]) -> list[str]:
    return write_sheets(task_resources(config_path), months)


@task(name="remove-buyer-details", cache_policy=NO_CACHE,
      description="Empty the buyer details of orders final for over [orders] keep_buyer_details_days.")
def remove_buyer_details(config_path: str, now: int) -> dict:
    return remove_old_buyer_details(task_resources(config_path), now)


@task(name="notify-groups", cache_policy=NO_CACHE,
      description="Tell each group with notify, in one message, of its new paid orders to pack.")
def notify_groups_task(config_path: str, now: int) -> dict:
    """Never fails for a group's block: the result (and the ``orders-notices`` artifact) says which failed and why."""
    notices = notify_groups(task_resources(config_path), send_notice, now)
    publish_notices(notices)
    return notices


TASKS: dict[Callable[..., Any], Any] = {  # each engine step's task; the sync's join on first use
    pull_shop: pull_shop_orders,
    backfill_shop: backfill_shop_orders,
    correct_shop_stock: correct_stock_task,
    write_sheets: write_order_sheets,
    remove_old_buyer_details: remove_buyer_details,
}


def _sync_steps() -> None:
    """Add the catalogue sync's steps to :data:`TASKS` (an entry already there stays)."""
    from flows.engine.apply import apply_writes
    from flows.engine.intake import read_group, read_groups
    from flows.engine.planning import plan_shop_work, pull_before_planning

    for step, step_task in ((read_group, intake_group), (read_groups, intake_groups),
                            (pull_before_planning, pull_before_plan), (plan_shop_work, plan_shop),
                            (apply_writes, apply_kind)):
        TASKS.setdefault(step, step_task)


class PrefectSteps:
    """Submits each engine step as its Prefect task, for the run of ``config_path``."""

    def __init__(self, config_path: str) -> None:
        self.config_path = config_path

    def submit(self, step: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        # Collections are passed as they are: Prefect would otherwise visit every listing in
        # them looking for futures (there are none: steps hand on finished values).
        args = tuple(quote(a) if isinstance(a, (list, tuple, dict)) else a for a in args)
        if step not in TASKS:
            _sync_steps()
        return TASKS[step].submit(self.config_path, *args, **kwargs)

