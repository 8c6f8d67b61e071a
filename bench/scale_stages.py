"""Where bench/scale.py's time goes: the project's functions it times, by stage (bench/stages.py)."""

from __future__ import annotations

from stages import Stages


def instrument(stages: Stages) -> None:
    import flows.engine.apply as apply
    import flows.engine.intake as intake
    import flows.engine.intake_cache as intake_cache
    import flows.engine.order_runs as order_runs
    import flows.engine.order_sheets as order_sheets
    import flows.engine.orders as orders
    import flows.engine.planning as planning
    import flows.engine.stock as stock
    import flows.engine.sync as sync
    import flows.orders as orders_flow
    import flows.sync as sync_flow
    import flows.tasks as tasks
    from connectors.state import StateStore
    from flows.engine.runtime import Runtime

    stages.wrap(intake_cache, "lookup", "intake: cache look-up (hash, load, check)")
    stages.wrap(intake, "_intake", "intake: read + normalise (cache miss)")
    stages.wrap(intake, "write_report", "intake: rejects report (cache miss)")
    stages.wrap(intake_cache, "remember", "intake: cache write (cache miss)")
    stages.wrap(sync, "load_categories", "categories (cache / GET)")
    stages.wrap(planning, "snapshot_of", "plan: snapshot fingerprint")
    stages.wrap(planning, "reconcile_known", "plan: read products back from marketplace")
    stages.wrap(planning, "upload_pictures", "plan: pictures")
    stages.wrap(planning, "_names", "plan: unique names")
    stages.wrap(planning, "plan_shop", "plan: plan_shop (diff)")
    # The sync's steps are keyed to their tasks by function: register the originals first; the
    # task then imports the timed one from its module when it runs.
    tasks._sync_steps()
    stages.wrap(apply, "apply_writes", "apply: channel writes + state")
    stages.wrap(sync, "write_pending_sheets", "sync: pending order sheets")
    stages.wrap(sync_flow, "publish", "prefect: sync artifacts")
    stages.wrap(orders_flow, "publish", "prefect: orders artifacts")
    stages.wrap(orders, "store_orders", "orders: store (upsert chunks)")
    stages.wrap(order_runs, "correct_stock", "orders: stock correction")
    stages.wrap(stock, "channel_stock", "stock: read channel stock")
    stages.wrap(order_sheets, "write_pending_sheets", "orders: sheet step (rendering excluded)")
    stages.wrap(Runtime, "open", "runtime: load config, open store and channel")
    stages.wrap(StateStore, "__init__", "state: open + alembic migrate")
    for m in ("listings", "last_snapshot", "last_snapshots", "units_sold", "update_listings", "save_listings",
              "add_snapshot", "upsert_groups", "start_run", "finish_run", "upsert_orders_states", "order_states",
              "open_order_ids", "uploaded"):
        stages.wrap(StateStore, m, f"state: {m}")
