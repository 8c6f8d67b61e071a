"""What happens when, as Prefect flows: a thin shell over :mod:`flows.engine` (the work, as plain
functions), with the ``lapak`` command (:mod:`flows.cli`) on top.

- :mod:`flows.sync` — ``sync-catalogues``; :mod:`flows.orders` — ``pull-orders``, ``backfill-orders``;
  :mod:`flows.intake` — ``intake``; :mod:`flows.serve` — their deployments.
- :mod:`flows.tasks` — the engine's steps as tasks; :mod:`flows.run` — what every flow does first.
- :mod:`flows.artifacts`, :mod:`flows.params`, :mod:`flows.logs`, :mod:`flows.limits` — what
  operators see in the UI, and the rate limits every worker shares (per app and endpoint).
"""
