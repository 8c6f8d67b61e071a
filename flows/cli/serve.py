"""``lapak serve``: the deployments operators run from the Prefect UI, served by this process."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from prefect import serve as prefect_serve
from prefect.settings import PREFECT_UI_URL

from connectors.config import load_config
from flows.operators import keep_failure_automation
from flows.run import SERVED_CONFIG
from flows.serve import (
    NOTIFIED_EVENT,
    TIMEZONE,
    automation_name,
    build_deployments,
    check_server,
    deployment_names,
    register_on_pool,
    runner_poll_seconds,
    skip_missed_runs,
)
from schemas.errors import AuthError, LapakError
from schemas.operator import every_shop, operator_lines


def check_credentials(cfg: Path) -> None:
    """The marketplaces accept this configuration's secrets: a token is fetched now."""
    from flows.engine.runtime import Runtime

    rt = Runtime.open(cfg)
    try:
        rt.check_credentials()
    except AuthError as err:
        raise LapakError(operator_lines([every_shop(err)])[0]) from None
    finally:
        rt.close()


def serve_command(args: argparse.Namespace) -> int:
    """``lapak serve --config F``: publish the three deployments (and the order-notification
    automation, :func:`flows.serve.notified_trigger`) and run what they schedule, until stopped.

    With ``--work-pool POOL`` the deployments are registered on that process work pool instead, for
    workers on other machines, and the command returns at once.
    """
    config_path, work_pool = args.config, args.work_pool
    config = load_config(config_path)  # a broken file fails here, naming the key, not in every run
    cfg = Path(config_path).resolve()
    url = check_server()
    check_credentials(cfg)  # a refused secret stops here, not in every run
    kept = keep_failure_automation(cfg, config.operators.notify)
    names = deployment_names()
    deployments = build_deployments(cfg, [g.id for g in config.groups])
    # The runs read this file and no other, whatever parameters they are started with.
    os.environ[SERVED_CONFIG] = str(cfg)
    if work_pool:
        for d in deployments:
            d.job_variables = {**(d.job_variables or {}), "env": {SERVED_CONFIG: str(cfg)}}
        register_on_pool(deployments, work_pool)
        print(f"lapak serve: {', '.join(names.values())} registered on work pool {work_pool!r} ({cfg}).")
        print(f"Start workers where the package, {cfg.name} and its catalogues are (same paths): "
              f"prefect worker start --pool {work_pool}")
        return 0
    skipped = skip_missed_runs([names["sync"], names["orders"]])

    ui = PREFECT_UI_URL.value() or url.removesuffix("/api")
    print(f"lapak serve: {cfg} on {url}", flush=True)
    print(f"  {names['sync']:32} catalogue sync, every hour at :05 ({TIMEZONE})")
    print(f"  {names['orders']:32} order pull, every 15 minutes ({TIMEZONE}); and for one shop within seconds "
          f"of its order notification ({NOTIFIED_EVENT} from lapak webhooks: automation {automation_name(cfg)})")
    print(f"  {names['backfill']:32} order backfill, by hand: parameters start, end (YYYY-MM-DD)")
    if kept:
        print(f"  every failed or crashed run is told to {config.operators.notify} (automation {kept})")
    if skipped:
        print(f"  {skipped} scheduled runs missed while nothing was serving were skipped; the next ones catch up.")
    print(f"Runs, artifacts and schedules: {ui}/deployments · stop with Ctrl-C (the schedules stay on)", flush=True)
    prefect_serve(*deployments, pause_on_shutdown=False, query_seconds=runner_poll_seconds())
    return 0
