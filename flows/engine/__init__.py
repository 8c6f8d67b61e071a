"""The work itself, as plain functions that know nothing of Prefect.

The Prefect flows in :mod:`flows` are a thin shell over these; tests and benchmarks call them
directly (with :class:`flows.engine.steps.Inline` running each step at once).

- :mod:`~flows.engine.runtime` — what a run holds: config, state store, channel; opened, closed.
- :mod:`~flows.engine.intake` — one group's catalogue read, normalised and reported.
- :mod:`~flows.engine.planning` — one shop's plan: desired listings against what it holds.
- :mod:`~flows.engine.apply` — a plan's writes, batch by batch, each confirmed row recorded.
- :mod:`~flows.engine.sync` — the catalogue sync: intake → plan → apply, and its summary.
- :mod:`~flows.engine.orders` / :mod:`~flows.engine.stock` / :mod:`~flows.engine.order_sheets` —
  orders pulled and stored once, stock corrected, order sheets written; :mod:`~flows.engine.order_runs`
  runs them for every shop.
- :mod:`~flows.engine.locks` — one run per shop at a time.
"""
