"""Catalogue intake for every configured group as a Prefect flow (writes nothing to a channel)."""

from __future__ import annotations

from prefect import flow
from prefect.artifacts import create_table_artifact

from flows.engine.sync import read_catalogues
from flows.run import prefect_run
from flows.tasks import PrefectSteps


@flow(name="intake", description="Catalogue intake for every configured group; writes nothing to the marketplace.")
def intake_flow(config_path: str, groups: list[str] | None = None) -> list[dict]:
    """Run each group's intake; a group whose file can't be read is reported and the others go on."""
    with prefect_run(config_path, "intake") as rt:
        read = read_catalogues(rt, PrefectSteps(config_path), rt.groups(groups))
        rows = []
        for g in rt.groups(groups):
            cat = read[g.id]
            if isinstance(cat, Exception):
                rows.append({"group": g.id, "name": g.name, "file": g.catalogue, "rows_in": 0, "listings": 0,
                             "rejected": 0, "warnings": 0, "report": "", "error": str(cat)})
            else:
                rows.append(cat.summary())
    create_table_artifact(key="intake-summary", table=rows,
                          description="Per-group catalogue intake: rows in, listings, rejects.")
    return rows
