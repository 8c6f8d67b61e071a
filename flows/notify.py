"""New-order messages through the groups' Prefect notification blocks (a group's ``notify`` names
one as ``<block type>/<block name>``, e.g. ``custom-webhook/wa-sekar-carica``), and what the run
page shows of them. Which orders and what the message says: :mod:`flows.engine.notices`.
"""

from __future__ import annotations

import prefect.blocks.notifications  # noqa: F401  (registers the notification block types Block.load finds)
from prefect.artifacts import create_table_artifact
from prefect.blocks.abstract import NotificationBlock
from prefect.blocks.core import Block

from schemas.errors import ConfigError


def send_notice(block_ref: str, subject: str, body: str) -> None:
    """Send ``body`` through the notification block saved as ``block_ref``; raises when it is not
    one, or when it could not deliver (a block would otherwise only log the failure)."""
    block = Block.load(block_ref, _sync=True)
    if not isinstance(block, NotificationBlock):
        raise ConfigError(f"{block_ref} is a {type(block).__name__} block, not a notification block")
    with block.raise_on_failure():
        block.notify(body, subject=subject, _sync=True)


def publish_notices(notices: dict[str, dict]) -> None:
    """The ``orders-notices`` table: per group told (or failing) its block, orders and why not."""
    if not notices:
        return
    rows = [{"group": gid, "block": r.get("block", ""), "sent": r["sent"], "orders": ", ".join(r["orders"]),
             "error": r["error"]} for gid, r in sorted(notices.items())]
    failed = sum(bool(r["error"]) for r in rows)
    create_table_artifact(key="orders-notices", table=rows,
                          description=f"New-order messages / Pesan pesanan baru: {len(rows) - failed} sent, "
                          f"{failed} failed (their orders are told on the next pull).")
