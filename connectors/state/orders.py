"""Orders and their lines, stored once each (upsert by channel and ``order_id``), typed in and out."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, any_, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from connectors.state.models import Listing as ListingRow
from connectors.state.models import Order as OrderRow
from connectors.state.models import OrderItem as ItemRow
from connectors.state.models import utcnow
from connectors.state.retention import REMOVED, REMOVED_RECIPIENT, BuyerRetention
from schemas.orders import CANCELLED, FINISHED, Order, OrderLine, Recipient
from schemas.stock import STOCK_UNKNOWN

SKUS_PER_QUERY = 5_000


def _pg(s: Any) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def _one_of(s: Any, column: Any, values: list[Any], kind: Any) -> Any:
    """``column IN values``; on PostgreSQL as one array parameter (``= ANY``) of ``kind``: a query naming
    thousands of SKUs stays short to send and to parse."""
    if _pg(s):
        return column == any_(literal(values, ARRAY(kind)))
    return column.in_(values)


def _among(s: Any, column: Any, values: list[Any], kind: Any) -> Any:
    """``column IN values`` (distinct values); on PostgreSQL a join with the values as one array
    parameter (``unnest``; ``FROM``/``USING`` in an UPDATE/DELETE): short to send and to parse,
    and a hash or index join whatever the tables' statistics say, where ``= ANY`` under a cached
    plan compares every row of the shop or channel with every value."""
    if _pg(s):
        given = func.unnest(literal(values, ARRAY(kind))).table_valued("value").render_derived()
        return column == given.c.value
    return column.in_(values)


def _per_query(s: Any) -> int:
    """Values named per statement: one array parameter on PostgreSQL, else far below any driver's
    bound-parameter limit."""
    return SKUS_PER_QUERY if _pg(s) else 500


def _mark_listings(s: Any, lines: set[tuple[str, int, str]], unknown: set[tuple[str, int, str]]) -> None:
    """The listings ``(channel, shop_id, sku)`` of ``lines`` get ``has_orders``, and those of ``unknown``
    (a subset) ``stock = STOCK_UNKNOWN`` too, each only where not already so: per shop, one UPDATE
    of those to mark unknown and one of the rest (per chunk of SKUs), writing each listing at most once."""
    by_shop: dict[tuple[str, int], tuple[list[str], list[str]]] = {}
    for key in lines:
        channel, shop_id, sku = key
        if sku:  # a line of no known SKU has no listing
            by_shop.setdefault((channel, shop_id), ([], []))[key in unknown].append(sku)
    n = _per_query(s)
    for (channel, shop_id), (rest, stale) in by_shop.items():
        for skus, due, values in (
                (rest, ListingRow.has_orders.is_(False), {"has_orders": True}),
                (stale, ListingRow.has_orders.is_(False) | (ListingRow.stock != STOCK_UNKNOWN),
                 {"has_orders": True, "stock": STOCK_UNKNOWN})):
            skus.sort()
            for i in range(0, len(skus), n):
                s.execute(update(ListingRow).where(
                    ListingRow.channel == channel, ListingRow.shop_id == shop_id,
                    _among(s, ListingRow.sku, skus[i:i + n], String), due)
                    .values(**values).execution_options(synchronize_session=False))


def _to_write(s: Any, channel: str, orders: Sequence[Order], known: dict[int, Any]) -> list[Order]:
    """The orders new or changed since stored, and those stored with a line lacking its SKU (its
    listing was not known then: the lines are written again with what is known now)."""
    same = {o.order_id for o in orders if o.order_id in known
            and (known[o.order_id].status, known[o.order_id].update_time) == (int(o.status), int(o.update_time))}
    if same:
        same -= set(s.scalars(select(ItemRow.order_id).distinct().where(
            ItemRow.channel == channel, _among(s, ItemRow.order_id, sorted(same), BigInteger), ItemRow.sku == "")))
    return [o for o in orders if o.order_id not in same]


def _clip(text: str | None, n: int) -> str:
    return (text or "")[:n]


def order_row(o: Order) -> dict[str, Any]:
    """The ``orders`` row of an order (texts cut to their columns)."""
    r = o.recipient
    return dict(
        channel=o.channel, order_id=o.order_id, shop_id=o.shop_id, invoice_ref_num=_clip(o.invoice, 100),
        status=int(o.status),
        create_time=int(o.create_time), update_time=int(o.update_time), buyer_name=_clip(o.buyer_name, 200),
        recipient_name=_clip(r.name, 200), recipient_phone=_clip(r.phone, 50),
        recipient_address=" ".join(r.address.split()), recipient_district=_clip(r.district, 200),
        recipient_city=_clip(r.city, 200), recipient_province=_clip(r.province, 200),
        recipient_postal_code=_clip(r.postal_code, 20), shipping_cost=o.shipping_cost, total_amount=o.total_amount)


def item_rows(o: Order) -> list[dict[str, Any]]:
    return [dict(channel=o.channel, order_id=o.order_id, line=x.line, product_id=x.product_id, sku=_clip(x.sku, 50),
                 name=_clip(x.name, 200), quantity=x.quantity, price=x.price, total_price=x.total_price)
            for x in o.lines]


def _order(row: OrderRow, items: Sequence[ItemRow]) -> Order:
    recipient = Recipient(name=row.recipient_name, phone=row.recipient_phone, address=row.recipient_address,
                          district=row.recipient_district, city=row.recipient_city,
                          province=row.recipient_province, postal_code=row.recipient_postal_code)
    buyer = row.buyer_name
    if row.buyer_details_removed_at is not None:  # by the retention rule: say so, rather than look blank
        buyer, recipient = REMOVED, REMOVED_RECIPIENT
    lines = tuple(OrderLine(line=i.line, product_id=i.product_id, sku=i.sku, name=i.name, quantity=i.quantity,
                            price=i.price, total_price=i.total_price) for i in items)
    return Order(order_id=row.order_id, shop_id=row.shop_id, invoice=row.invoice_ref_num, status=row.status,
                 create_time=row.create_time, update_time=row.update_time, lines=lines, buyer_name=buyer,
                 recipient=recipient, shipping_cost=row.shipping_cost, total_amount=row.total_amount,
                 channel=row.channel)


class Orders(BuyerRetention):
    """The ``orders`` and ``order_items`` tables."""

    def upsert_orders(self, orders: Sequence[Order]) -> tuple[int, int]:
        """Store orders by (channel, ``order_id``) (lines replaced with the order). Returns (new, changed).

        An order stored as live that is now cancelled may have given its units back on its channel,
        and a new live order took its units there: its listings' ``stock`` on that channel becomes
        ``STOCK_UNKNOWN`` in the same transaction, so the next stock correction reads the channel's
        figure again (also after a crash). All orders of one call
        come from one channel. An order read again as it is stored (same status and update time,
        no line stored without its SKU) is not written again: a pull's look-back re-reads many."""
        before = self.upsert_orders_states(orders)
        new = sum(1 for o in orders if o.order_id not in before)
        changed = sum(1 for o in orders if o.order_id in before and before[o.order_id][1] != o.update_time)
        return new, changed

    def upsert_orders_states(self, orders: Sequence[Order]) -> dict[int, tuple[int, int]]:
        """:meth:`upsert_orders`, returning ``(status, update_time)`` of the orders as they were
        stored before (read in the same transaction; new orders are absent)."""
        if not orders:
            return {}
        channel = orders[0].channel
        if any(o.channel != channel for o in orders):
            raise ValueError("upsert_orders takes the orders of one channel at a time")
        ids = list(dict.fromkeys(o.order_id for o in orders))
        with self.session() as s:
            known, n = {}, _per_query(s)
            for i in range(0, len(ids), n):
                known.update({r.order_id: r for r in s.execute(
                    select(OrderRow.order_id, OrderRow.update_time, OrderRow.status, OrderRow.updated_at)
                    .where(OrderRow.channel == channel, _among(s, OrderRow.order_id, ids[i:i + n], BigInteger)))})
            fresh = _to_write(s, channel, orders, known)
            if fresh:
                self._write_orders(s, channel, fresh, known)
        return {oid: (int(r.status), int(r.update_time)) for oid, r in known.items()}

    def _write_orders(self, s: Any, channel: str, orders: Sequence[Order], known: dict[int, Any]) -> None:
        """Upsert ``orders`` and replace their lines, in session ``s``."""
        rows, ids = [order_row(o) for o in orders], [o.order_id for o in orders]
        now = utcnow()
        for row in rows:
            # ``updated_at`` is when the stored order last changed, not when it was last read again.
            k = known.get(row["order_id"])
            same = k is not None and (k.status, k.update_time) == (row["status"], row["update_time"])
            row["updated_at"] = k.updated_at if same else now
        self._upsert(s, OrderRow, rows, ["channel", "order_id"])
        # Only an order stored before can have removed buyer details or lines (a line names its order).
        stored, n = [oid for oid in ids if oid in known], _per_query(s)
        self._keep_removed(s, channel, stored)  # buyer details removed by the retention rule stay removed
        for i in range(0, len(stored), n):  # the lines are replaced
            s.execute(delete(ItemRow).where(ItemRow.channel == channel,
                                            _among(s, ItemRow.order_id, stored[i:i + n], BigInteger))
                      .execution_options(synchronize_session=False))
        items = [i for o in orders for i in item_rows(o)]
        if items:
            s.execute(ItemRow.__table__.insert(), items)
        # A product with an order keeps its name (the marketplace refuses a rename).
        # The channel changed these listings' stock by itself: a cancel of a live order (it may give
        # the units back) and a new live order (it took them). What was last pushed no longer says
        # what the channel shows; the next correction reads its figure. Without the second, a sale
        # on one channel offset by a cancel on another in the same pull leaves the first short.
        gave_back = {(o.channel, o.shop_id, x.sku) for o in orders if o.order_id in known and o.cancelled
                     and known[o.order_id].status not in CANCELLED for x in o.lines}
        took = {(o.channel, o.shop_id, x.sku) for o in orders if o.order_id not in known and not o.cancelled
                for x in o.lines}
        _mark_listings(s, {(o.channel, o.shop_id, x.sku) for o in orders for x in o.lines}, gave_back | took)

    def order_states(self, order_ids: Iterable[int], channel: str = "marketplace") -> dict[int, tuple[int, int]]:
        """``(status, update_time)`` of the channel's stored orders among ``order_ids`` (unknown ids are absent)."""
        ids = list(dict.fromkeys(int(i) for i in order_ids))
        out: dict[int, tuple[int, int]] = {}
        with self.session() as s:
            n = _per_query(s)
            for i in range(0, len(ids), n):
                q = select(OrderRow.order_id, OrderRow.status, OrderRow.update_time).where(
                    OrderRow.channel == channel, _among(s, OrderRow.order_id, ids[i:i + n], BigInteger))
                out.update({oid: (status, updated) for oid, status, updated in s.execute(q)})
        return out

    def open_order_ids(self, shop_id: int, channel: str = "marketplace") -> list[int]:
        """Orders that can still change status (not finished, not cancelled)."""
        with self.session() as s:
            q = select(OrderRow.order_id).where(OrderRow.channel == channel, OrderRow.shop_id == shop_id,
                                                OrderRow.status.not_in(FINISHED))
            return list(s.scalars(q))

    def units_sold(self, since: dict[str, int]) -> dict[str, int]:
        """Units in non-cancelled orders per SKU on ANY channel and shop (one stock: a SKU is its
        group's wherever it sells), counting orders created at or after ``since[sku]`` (UNIX s).

        An order's ``create_time`` has whole seconds: one created in the same second as the count
        may have come after it, so it counts as sold (the stock pushed errs low, never high)."""
        if not since:
            return {}
        skus, sold = list(since), {}
        with self.session() as s:
            for i in range(0, len(skus), SKUS_PER_QUERY):  # a shop's SKUs at once, below any parameter limit
                chunk = skus[i:i + SKUS_PER_QUERY]
                q = (select(ItemRow.sku, OrderRow.create_time, func.sum(ItemRow.quantity))
                     .join(OrderRow, (OrderRow.channel == ItemRow.channel) & (OrderRow.order_id == ItemRow.order_id))
                     .where(OrderRow.status.not_in(CANCELLED), _one_of(s, ItemRow.sku, chunk, String),
                            OrderRow.create_time >= min(since[sku] for sku in chunk))
                     .group_by(ItemRow.sku, OrderRow.create_time))
                for sku, created, qty in s.execute(q):
                    if created >= since[sku]:
                        sold[sku] = sold.get(sku, 0) + int(qty)
        return sold

    def orders_for(self, shop_id: int | None = None, created_from: int | None = None,
                   created_to: int | None = None, *, channel: str | None = "marketplace") -> list[Order]:
        """Stored orders (of a channel — every channel's when None —; of a shop; created in
        ``[created_from, created_to)``), oldest first."""
        with self.session() as s:
            q = select(OrderRow)
            if channel is not None:
                q = q.where(OrderRow.channel == channel)
            if shop_id is not None:
                q = q.where(OrderRow.shop_id == shop_id)
            if created_from is not None:
                q = q.where(OrderRow.create_time >= created_from)
            if created_to is not None:
                q = q.where(OrderRow.create_time < created_to)
            rows = list(s.scalars(q.order_by(OrderRow.create_time, OrderRow.channel, OrderRow.order_id)))
            items: dict[tuple[str, int], list[ItemRow]] = {}
            for channel_of in {o.channel for o in rows}:
                ids = [o.order_id for o in rows if o.channel == channel_of]
                for i in range(0, len(ids), 500):
                    for it in s.scalars(select(ItemRow).where(ItemRow.channel == channel_of,
                                                              ItemRow.order_id.in_(ids[i:i + 500]))
                                        .order_by(ItemRow.order_id, ItemRow.line)):
                        items.setdefault((it.channel, it.order_id), []).append(it)
            return [_order(o, items.get((o.channel, o.order_id), [])) for o in rows]

    def order_times_changed_since(self, since: datetime) -> list[tuple[str, int, int]]:
        """``(channel, shop_id, create_time)`` of every order stored or changed at or after ``since``
        (e.g. to find the order-sheet months a crashed run left unwritten)."""
        with self.session() as s:
            q = select(OrderRow.channel, OrderRow.shop_id, OrderRow.create_time).where(OrderRow.updated_at >= since)
            return [(str(ch), int(shop), int(t)) for ch, shop, t in s.execute(q)]

    def count_orders(self) -> int:
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(OrderRow)) or 0)
