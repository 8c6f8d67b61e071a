"""The marketplace client's reads: products, orders and categories, paged until a short page.

Every read is safe to repeat, so each call goes through ``_send`` (retried on 429, 5xx and lost
connections). :func:`order_windows` splits a time range into the contract's order windows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime

from pydantic import ValidationError

from connectors.marketplace import settings as S
from connectors.marketplace.answers import ProductInfo, explain
from connectors.marketplace.models import Category
from connectors.marketplace.order_answers import Order, is_detail
from connectors.marketplace.transport import Transport
from schemas.errors import MalformedResponseError, NotFoundError


def _unix(t: datetime | int | float) -> int:
    """UNIX seconds; a bound ``t`` covers create times ``>= t`` so fractions round up."""
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError("naive datetime: give a timezone (orders are in UNIX time)")
        return math.ceil(t.timestamp())
    return math.ceil(t)


def order_windows(start: datetime | int, end: datetime | int,
                  width: int = S.ORDER_WINDOW_SECONDS) -> list[tuple[int, int]]:
    """Split ``[start, end)`` into ``[from, to)`` windows narrower than the contract's 3 days."""
    lo, hi = _unix(start), _unix(end)
    return [(a, min(a + width, hi)) for a in range(lo, hi, width)]


class Reads(Transport):
    """Product, order and category reads (a mixin of the client)."""

    def iter_products(self, shop_id: int, per_page: int = S.PRODUCTS_PER_PAGE_MAX) -> Iterator[ProductInfo]:
        """Every product of the shop, page by page, until a page comes back short."""
        if not 1 <= per_page <= S.PRODUCTS_PER_PAGE_MAX:
            raise ValueError(f"per_page must be 1..{S.PRODUCTS_PER_PAGE_MAX}")
        page = 1
        while True:
            reply = self._send("GET", S.PRODUCT_INFO_PATH,
                               params={"shop_id": shop_id, "page": page, "per_page": per_page})
            rows = self._rows_of(reply, ProductInfo, "product_info")
            yield from rows
            if len(rows) < per_page:
                return
            page += 1

    def product_by_sku(self, shop_id: int, sku: str) -> ProductInfo | None:
        """The shop's product with this SKU, or ``None``."""
        reply = self._send("GET", S.PRODUCT_INFO_PATH, params={"shop_id": shop_id, "sku": sku})
        for row in self._rows_of(reply, ProductInfo, "product_info"):
            if (row.sku is None or row.sku == sku) and row.basic.shopID in (None, shop_id):
                return row
        return None

    def iter_orders(self, shop_id: int, start: datetime | int, end: datetime | int,
                    per_page: int = S.ORDERS_PER_PAGE_MAX) -> Iterator[Order]:
        """Orders created in ``[start, end)`` (UNIX seconds or aware datetimes), with their
        current status; asked for in windows under 3 days, each paged until a short page."""
        if not 1 <= per_page <= S.ORDERS_PER_PAGE_MAX:
            raise ValueError(f"per_page must be 1..{S.ORDERS_PER_PAGE_MAX}")
        for lo, hi in order_windows(start, end):
            seen: set[int] = set()
            page = 1
            while True:
                reply = self._send("GET", S.ORDER_LIST_PATH, params={
                    "fs_id": self.fs_id, "shop_id": shop_id, "from_date": lo, "to_date": hi,
                    "page": page, "per_page": per_page})
                rows = self._rows_of(reply, Order, "orders")
                for order in rows:
                    if order.order_id not in seen:  # an order landing mid-paging can shift a page
                        seen.add(order.order_id)
                        yield order
                if len(rows) < per_page:
                    break
                page += 1

    def get_order(self, order_id: int) -> Order:
        """One order with its current status (the contract's shape or the real single-order answer);
        :class:`NotFoundError` if unknown, :class:`MalformedResponseError` naming what it lacks."""
        reply = self._send("GET", S.ORDER_PATH, params={"order_id": order_id})
        data = reply.envelope.data
        if isinstance(data, list):
            data = data[0] if data else None
        if data is None:
            raise NotFoundError(f"order {order_id} not found", status=reply.status, endpoint="order")
        detail = is_detail(data)
        try:
            order = Order.model_validate(data)
        except ValidationError as err:
            why = self._scrub(explain(err, Order.answer_name,
                                      {"products": "order_info.order_detail"} if detail else None))
            raise MalformedResponseError(why, status=reply.status, endpoint="order") from None
        if not order.invoice_ref_num:  # one order is read to be shown: its invoice is needed
            field = "invoice_number" if detail else "invoice_ref_num"
            raise MalformedResponseError(f"{Order.answer_name} lacks {field}", status=reply.status, endpoint="order")
        return order

    def categories(self) -> list[Category]:
        """The marketplace's category tree (leaves have ``is_leaf``)."""
        return self._rows_of(self._send("GET", S.CATEGORIES_PATH), Category, "categories")
