"""What operators see of a run in the Prefect UI before it starts: parameter types and run names.

The flows' parameters are typed with these pydantic types, so a run started from the UI (or
``prefect deployment run``) is validated before it starts and the form shows a field per
parameter with the description from the flow's docstring (``Args:``). A flow-run name says what
ran and when, in Jakarta time: ``sync · 4 groups · 2026-11-27 10:00``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import StringConstraints

from connectors.config import load_config
from schemas.config import GROUP_ID_PATTERN
from schemas.dates import WIB

GroupId = Annotated[str, StringConstraints(pattern=GROUP_ID_PATTERN)]
"""A group's stable id, as in ``[[groups]] id`` of lapak.toml."""

ShopName = Annotated[str, StringConstraints(pattern=r"^([a-z][a-z0-9_-]*:)?[0-9]+$")]
"""A shop as ``<channel>:<shop id>``: ``tiktok:7494001``, ``marketplace:479573`` (a bare id: the first marketplace)."""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _configured(config_path: Any) -> tuple[int, int] | None:
    """(groups, shops) in the configuration, or None when it can't be read (the run will say why)."""
    try:
        cfg = load_config(str(config_path))
    except Exception:
        return None
    return len(cfg.groups), len({g.shop_id for g in cfg.groups})


def _when(start: datetime | None) -> str:
    start = start or datetime.now(WIB)
    return start.astimezone(WIB).strftime("%Y-%m-%d %H:%M")


def _day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _run() -> tuple[dict, datetime | None]:
    from prefect.runtime import flow_run

    return dict(flow_run.parameters or {}), flow_run.scheduled_start_time


def sync_name(params: dict, start: datetime | None) -> str:
    """``sync · 4 groups · 2026-11-27 10:00``; ``sync (dry run) · …`` when nothing is written,
    ``sync (shrink accepted) · …`` when an operator accepted shrunk catalogues."""
    groups = params.get("groups")
    if groups:
        count = _plural(len(groups), "group")
    else:
        known = _configured(params.get("config_path"))
        count = _plural(known[0], "group") if known else "all groups"
    how = [w for w, on in (("dry run", params.get("dry_run")), ("shrink accepted", params.get("accept_shrink"))) if on]
    label = f"sync ({', '.join(how)})" if how else "sync"
    return f"{label} · {count} · {_when(start)}"


def orders_name(params: dict, start: datetime | None) -> str:
    """``orders · 3 shops · 2026-11-27 10:15``; a pull of chosen shops names them, and says when a
    shop's order notification started it: ``orders (notified) · tiktok:7494001 · 2026-11-27 10:17``."""
    if shops := params.get("shops"):
        label = "orders (notified)" if params.get("notified_at") else "orders"
        return f"{label} · {', '.join(map(str, shops))} · {_when(start)}"
    known = _configured(params.get("config_path"))
    shops = _plural(known[1], "shop") if known else "all shops"
    return f"orders · {shops} · {_when(start)}"


def backfill_name(params: dict, start: datetime | None) -> str:
    """``backfill · 2026-11-01 to 2026-11-07 · 3 shops``."""
    known = _configured(params.get("config_path"))
    shops = _plural(known[1], "shop") if known else "all shops"
    return f"backfill · {_day(params.get('start'))} to {_day(params.get('end'))} · {shops}"


# Prefect calls a flow's ``flow_run_name`` without arguments, inside the run's context.
def sync_run_name() -> str:
    return sync_name(*_run())


def orders_run_name() -> str:
    return orders_name(*_run())


def backfill_run_name() -> str:
    return backfill_name(*_run())
