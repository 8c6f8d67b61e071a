"""The catalogue sync as a Prefect flow: a thin shell over :func:`flows.engine.sync.run_sync`.

A task per batch of groups (intake: up to 50; an unchanged catalogue is not read again), per shop
(plan) and per kind of write (apply); the run page shows ``sync-summary``, ``sync-rejects``,
``sync-plan`` (dry runs) and ``sync-progress``.
"""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from flows.artifacts import SyncProgress, rejects_markdown
from flows.engine.planning import SyncOptions
from flows.engine.sync import SyncReport, run_sync
from flows.params import GroupId, sync_run_name
from flows.run import ended, prefect_run
from flows.tasks import PrefectSteps
from schemas.errors import NeedsOperator


def publish(report: SyncReport) -> None:
    """The run page's artifacts (stable keys, so the UI keeps their history)."""
    dry = report.options.dry_run
    if dry:
        create_markdown_artifact(key="sync-plan", markdown="\n\n".join(w.plan.to_markdown()
                                                                       for w in report.works.values()),
                                 description="The plan of a dry run: nothing was written.")
    create_table_artifact(key="sync-summary", table=report.group_rows(),
                          description="Per group: rows in, listings, rejects and the writes "
                          + ("planned (dry run: nothing written)." if dry else "made."))
    create_markdown_artifact(key="sync-rejects", markdown=rejects_markdown(report.catalogues),
                             description="Rejected catalogue rows: the first lines per group, and each group's report.")


@flow(name="sync-catalogues", flow_run_name=sync_run_name,
      description="Catalogue sync: read each group's catalogue, validate it, and make the "
      "marketplace hold exactly its listings (create, edit what changed, price, stock, deactivate what left).")
def sync_catalogues(config_path: str, groups: list[GroupId] | None = None, dry_run: bool = False,
                    accept_shrink: bool = False, reconcile: bool = False) -> dict:
    """Sync the configured groups (or the named ones). Dry run: plan and report, write nothing.

    A group whose catalogue can't be read, or a shop the marketplace fails on, does not stop the
    others; the run then ends FAILED naming what needs an operator.

    Args:
        config_path: The lapak.toml this run reads (set by `lapak serve --config`).
        groups: Ids of the groups to sync; leave empty to sync every group in the configuration.
            Kelompok yang disinkronkan; kosong berarti semua.
        dry_run: Only plan: show what would change (artifact `sync-plan`) and write nothing to
            the marketplace.
        accept_shrink: Accept catalogues that lost more than the shrink threshold of their
            listings: their missing listings are then deactivated (otherwise held).
        reconcile: Read each shop's products back from the marketplace before planning (after
            changes made outside Lapak Desa).
    """
    options = SyncOptions(groups=tuple(groups) if groups else None, dry_run=dry_run, accept_shrink=accept_shrink,
                          reconcile=reconcile)
    try:
        with prefect_run(config_path, "sync") as rt:
            rt.progress = SyncProgress()
            report = run_sync(rt, options, PrefectSteps(config_path))
            publish(report)
    except NeedsOperator as stopped:  # nothing could be done: the configuration or credentials refused
        return ended(stopped.summary or {}, stopped)
    return ended(report.summary(), report.needs_operator())
