"""Buyers' details kept only as long as needed (``[orders] keep_buyer_details_days``).

An order final (finished or cancelled: :data:`schemas.orders.FINISHED`) for longer than that
loses, in the ``orders`` table, its buyer's name and its recipient's name, phone and address
(street, district, city, province, postal code); the order, its lines, amounts and status stay.
``buyer_details_removed_at`` records when. No column says when an order became final: its
``update_time`` stands for it (the channel's time of its last change, which grows on every
change), so a change after it became final only keeps the details longer, never shorter.

Removed stays removed: every upsert of such an order (a backfill, a late change read again)
empties them again in its own transaction, so they never come back from the channel.

Read back (:meth:`Orders.orders_for`), such an order names :data:`REMOVED` as its buyer,
recipient and address, so a sheet reads "(dihapus / removed)" rather than a blank that looks
like missing data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from connectors.state.models import Order as OrderRow
from connectors.state.models import utcnow
from schemas.dates import month_of
from schemas.orders import FINISHED, Recipient

REMOVED = "(dihapus / removed)"
"""What a sheet shows for a buyer, recipient and address removed by the retention rule."""
REMOVED_RECIPIENT = Recipient(name=REMOVED, address=REMOVED)
PURGE_CHUNK = 500  # orders per UPDATE (a bound parameter each: far below any driver's limit)

BLANK: dict[str, str] = dict.fromkeys((
    "buyer_name", "recipient_name", "recipient_phone", "recipient_address", "recipient_district",
    "recipient_city", "recipient_province", "recipient_postal_code"), "")
"""Every personal column of ``orders``, emptied (``order_items`` hold products only)."""


@dataclass(frozen=True, slots=True)
class RemovedDetails:
    """What one purge did: how many orders lost their buyer details, and the months (``YYYY-MM``,
    WIB, of their ``create_time``) whose order sheets still show them."""

    orders: int = 0
    months: frozenset[str] = frozenset()


def _due(final_before: int) -> tuple[Any, ...]:
    # ``buyer_details_removed_at IS NULL`` as the partial index ``ix_orders_buyer_retention`` states it.
    return (OrderRow.buyer_details_removed_at.is_(None), OrderRow.update_time < int(final_before),
            OrderRow.status.in_(FINISHED))


class BuyerRetention:
    """The purge of old buyer details and the guard that keeps them out (mixed into the state store)."""

    def remove_buyer_details(self, final_before: int, *, chunk: int = PURGE_CHUNK) -> RemovedDetails:
        """Empty the buyer details of every order final (finished or cancelled) whose last change
        (``update_time``, UNIX s) is before ``final_before``, ``chunk`` orders per transaction
        (one SELECT and one UPDATE by primary key each). Idempotent: orders already emptied are
        not read again."""
        removed, months = 0, set()
        with self.session() as s:
            channels = list(s.scalars(select(OrderRow.channel).where(*_due(final_before)).distinct()))
        for channel in channels:
            while True:
                with self.session() as s:
                    keys = s.execute(select(OrderRow.order_id, OrderRow.create_time)
                                     .where(OrderRow.channel == channel, *_due(final_before)).limit(chunk)).all()
                    if not keys:
                        break
                    now = utcnow()  # ``updated_at`` too: a run stopped before its sheets finds their months due
                    # By primary key alone (the keys were just read due): a condition the partial
                    # index also states may lead a planner without statistics to scan that index.
                    done = s.execute(update(OrderRow).where(
                        OrderRow.channel == channel, OrderRow.order_id.in_([oid for oid, _ in keys])).values(
                            **BLANK, buyer_details_removed_at=now, updated_at=now))
                    removed += done.rowcount
                    months |= {month_of(t) for _, t in keys}
                if len(keys) < chunk:
                    break
        return RemovedDetails(removed, frozenset(months))

    def _keep_removed(self, s: Any, channel: str, order_ids: Sequence[int]) -> None:
        """Empty again the details an upsert (in session ``s``) just wrote over removed ones."""
        for i in range(0, len(order_ids), PURGE_CHUNK):
            s.execute(update(OrderRow).where(
                OrderRow.channel == channel, OrderRow.order_id.in_(order_ids[i:i + PURGE_CHUNK]),
                OrderRow.buyer_details_removed_at.is_not(None)).values(**BLANK))

    def buyer_details_removed(self) -> int:
        """How many stored orders have had their buyer details removed."""
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(OrderRow).where(
                OrderRow.buyer_details_removed_at.is_not(None))) or 0)
