"""Listings as the pipeline last confirmed them on each channel's shops (typed in, typed out)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Any

from sqlalchemy import select, update

from connectors.state.models import Listing as ListingRow
from connectors.state.models import utcnow
from schemas.listing import KnownListing

_COLUMNS = [ListingRow.__table__.c[name] for name in KnownListing.__dataclass_fields__]
_PICTURES = list(KnownListing.__dataclass_fields__).index("pictures")


def _known(row: Any) -> KnownListing:
    """A row of :data:`_COLUMNS` as its listing (positionally: a shop reads 10,000 at a time)."""
    return KnownListing(*row[:_PICTURES], tuple(row[_PICTURES] or ()), *row[_PICTURES + 1:])


class Listings:
    """The ``listings`` table: one row per channel, shop and SKU."""

    def listings(self, *, shop_id: int | None = None, group_id: str | None = None,
                 channel: str | None = "marketplace") -> list[KnownListing]:
        """Known listings (of a channel — every channel's when ``channel`` is None —, of a shop,
        of a group), by channel, shop and SKU."""
        q = select(*_COLUMNS)
        if channel is not None:
            q = q.where(ListingRow.channel == channel)
        if shop_id is not None:
            q = q.where(ListingRow.shop_id == shop_id)
        if group_id is not None:
            q = q.where(ListingRow.group_id == group_id)
        with self.session() as s:
            return [_known(r) for r in s.execute(q.order_by(ListingRow.channel, ListingRow.shop_id, ListingRow.sku))]

    def listing_index(self, shop_id: int, channel: str = "marketplace") -> list[tuple[str, str, int | None]]:
        """``(sku, group_id, product_id)`` of a shop's listings on ``channel``: which group an order
        line is (without reading whole listings)."""
        q = select(ListingRow.sku, ListingRow.group_id, ListingRow.product_id).where(
            ListingRow.channel == channel, ListingRow.shop_id == shop_id)
        with self.session() as s:
            return [(sku, gid, pid) for sku, gid, pid in s.execute(q)]

    def save_listings(self, rows: Iterable[KnownListing]) -> None:
        """Insert or replace whole listings (``channel`` + ``shop_id`` + ``sku`` is the key)."""
        now = utcnow()
        values = [dict(asdict(r), pictures=list(r.pictures), updated_at=now) for r in rows]
        with self.session() as s:
            for i in range(0, len(values), 500):
                self._upsert(s, ListingRow, values[i:i + 500], ["channel", "shop_id", "sku"])

    def update_listings(self, shop_id: int, changes: Mapping[str, Mapping[str, Any]], *,
                        channel: str = "marketplace") -> None:
        """Record what a channel confirmed for existing listings of ``shop_id`` on ``channel``: SKU
        → the confirmed fields only (one bulk UPDATE by primary key)."""
        if not changes:
            return
        now = utcnow()
        rows = [dict(fields, channel=channel, shop_id=shop_id, sku=sku, updated_at=now)
                for sku, fields in changes.items()]
        for r in rows:
            if "pictures" in r:
                r["pictures"] = list(r["pictures"])
        with self.session() as s:
            s.execute(update(ListingRow), rows)
