"""Order pulls and backfills as Prefect flows: a thin shell over :mod:`flows.engine.order_runs`.

A task per shop, then one rewriting the order sheets and sales pictures of the months touched;
the run page shows ``orders-summary`` / ``orders-backfill-summary`` (per group),
``orders-changes`` / ``orders-backfill-changes`` (the new and changed orders) and
``orders-reports`` / ``orders-backfill-reports`` (each sales picture and its month's totals). A
run in which any shop failed ends FAILED (:class:`~flows.engine.order_runs.OrdersRunError`),
after the other shops were done.
"""

from __future__ import annotations

from datetime import date, datetime

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.artifacts import orders_changes_table, reports_markdown
from flows.engine.order_runs import needs_operator, run_backfill, run_order_pull
from flows.engine.order_sheets import sales_reports
from flows.params import ShopName, backfill_run_name, orders_run_name
from flows.run import ended, prefect_run
from flows.tasks import PrefectSteps, notify_groups_task
from schemas.errors import NeedsOperator


def publish(summary: dict, key: str, reports: list[dict]) -> None:
    """The per-group table, the new/changed orders and the sales pictures of a pull or backfill."""
    flow_name = summary["flow"]
    create_table_artifact(key=key, table=summary["groups"],
                          description=f"{flow_name}: orders new/changed and stock corrections per group.")
    changes, total = orders_changes_table(summary)
    more = f" (the first {len(changes)} of {total}; all are in the order sheets)" if total > len(changes) else ""
    create_table_artifact(key=key.replace("-summary", "-changes"), table=changes,
                          description=f"{flow_name}: {total} new and changed orders{more}. "
                          f"Sheets: {summary['sheets_dir']}")
    create_markdown_artifact(key=key.replace("-summary", "-reports"), markdown=reports_markdown(reports),
                             description=f"{flow_name}: the month's sales picture of each group whose sheets "
                             "were rewritten, with its totals.")


@flow(name="pull-orders", flow_run_name=orders_run_name,
      description="Pull new and changed orders per shop, correct stock, write order sheets.")
def pull_orders(config_path: str, shops: list[ShopName] | None = None, notified_at: datetime | None = None) -> dict:
    """Pull every configured shop's orders (a task per shop), correct stock, rewrite the order
    sheets and sales pictures of the months touched; records a run summary and the
    ``orders-summary``, ``orders-changes`` and ``orders-reports`` artifacts. Ends FAILED when any
    shop failed. With ``shops``, only those shops' orders are pulled, and the stock of every
    shop sharing a group with them is corrected (what a shop's order notification starts).

    Args:
        config_path: The lapak.toml this run reads (set by `lapak serve --config`).
        shops: Only these shops, as channel:shop id (e.g. tiktok:7494001, marketplace:479573); empty for every shop.
        notified_at: Set by the order-notification automation: when the notification came. A shop
            already pulled since is not pulled again.
    """
    try:
        with prefect_run(config_path, "orders") as rt:
            summary = run_order_pull(rt, PrefectSteps(config_path), shops=shops or None,
                                     notified_at=notified_at.timestamp() if notified_at else None)
            if summary.get("skipped"):
                return summary  # a later pull covered the notification: nothing to tell or publish
            summary["notices"] = notify_groups_task(config_path, summary["now"])  # the groups' new-order messages
            reports = sales_reports(rt, summary["sheets"])
    except NeedsOperator as stopped:  # nothing could be done: the configuration refused
        return ended(stopped.summary or {}, stopped)
    publish(summary, "orders-summary", reports)
    return ended(summary, needs_operator(summary))


@flow(name="backfill-orders", flow_run_name=backfill_run_name,
      description="Store every order created in a date range (WIB), idempotently.")
def backfill_orders(config_path: str, start: date, end: date, channel: str | None = None) -> dict:
    """Backfill orders created from ``start`` 00:00 to ``end`` 24:00 (inclusive days, Asia/Jakarta)
    for every configured shop of ``channel`` (default: every channel); the incremental cursors
    stay. Artifacts ``orders-backfill-summary``, ``orders-backfill-changes`` and ``orders-backfill-reports``.

    Args:
        config_path: The lapak.toml this run reads (set by `lapak serve --config`).
        start: First day of the orders to store (date the order was made, Asia/Jakarta), inclusive.
        end: Last day (Asia/Jakarta), inclusive; on or after start.
        channel: "marketplace" or "tiktok"; empty for every configured channel.
    """
    try:
        with prefect_run(config_path, "backfill") as rt:
            summary = run_backfill(rt, PrefectSteps(config_path), start, end, channel or None)
            reports = sales_reports(rt, summary["sheets"])
    except NeedsOperator as stopped:
        return ended(stopped.summary or {}, stopped)
    publish(summary, "orders-backfill-summary", reports)
    return ended(summary, needs_operator(summary))
