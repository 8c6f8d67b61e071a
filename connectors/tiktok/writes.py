"""Writes of the TikTok-shaped API, one product per call (the contract has no bulk writes but
(de)activation): create, partial edit, prices, stock, (de)activate, image upload.

A row's own failure (a 400 or 404: a rule broken, an image refused, a product not active) fails
that row and the others go on. Anything else (authorisation, retries spent) stops the call with a
:class:`~schemas.errors.ChannelError` whose ``partial`` holds the rows settled before it.

A create carries an ``idempotency_key`` and, after a 5xx or a lost answer, searches by
``seller_sku`` before creating again: never a second product for a SKU.
"""

from __future__ import annotations

import logging
import mimetypes
from collections.abc import Callable, Sequence
from typing import TypeVar

from connectors.tiktok import settings as S
from connectors.tiktok.answers import Created, Toggled, Uploaded
from connectors.tiktok.payloads import chunked, create_body, edit_body, inventory, price
from connectors.tiktok.reads import Reads
from connectors.tiktok.transport import Call, make_call
from schemas.channel import ListingEdit, NewListing, ProductRef, RowOutcome, SetNumber, WriteResult
from schemas.errors import (
    BadRequestError,
    ChannelError,
    MalformedResponseError,
    NotFoundError,
    ServerError,
    TransportError,
)

log = logging.getLogger("lapak.tiktok")

Row = TypeVar("Row", NewListing, ListingEdit, SetNumber)
_ROW_ERRORS = (BadRequestError, NotFoundError)
_LOST = (ServerError, TransportError, MalformedResponseError)  # the create may have been applied


def reason(err: ChannelError) -> str:
    return f"{err.message} ({err.error_code})" if err.error_code else err.message


def _failed(sku: str, err: ChannelError, product_id: int | None = None) -> RowOutcome:
    return RowOutcome(sku, False, product_id, reason(err))


class Writes(Reads):
    """Create, edit, prices, stock, (de)activation and upload (a mixin of the channel)."""

    def _each(self, op: str, shop: str, rows: Sequence[Row], write: Callable[[Row], RowOutcome]) -> WriteResult:
        """``write`` each row; a row's 400/404 fails it, anything else stops with ``partial``."""
        result = WriteResult()
        for row in rows:
            sku = row.sku
            try:
                outcome = write(row)
            except _ROW_ERRORS as err:
                outcome = _failed(sku, err, getattr(row, "product_id", None))
            except ChannelError as err:
                err.partial = result
                log.error("%s shop=%s stopped at %s: %s (applied=%d failed=%d, %d rows not sent)", op, shop, sku,
                          err, len(result.applied), len(result.failed), len(rows) - len(result))
                raise
            (result.applied if outcome.ok else result.failed).append(outcome)
        log.info("%s shop=%s: applied=%d failed=%d", op, shop, len(result.applied), len(result.failed))
        return result

    # ------------------------------------------------------------------ create

    def create(self, shop_id: int, rows: Sequence[NewListing]) -> WriteResult:
        """Create each listing as one product; an inactive listing is deactivated right after."""
        shop = str(shop_id)
        return self._each("create", shop, rows, lambda row: self._create_one(shop, row))

    def _create_one(self, shop: str, row: NewListing) -> RowOutcome:
        body = create_body(row.listing, row.stock, self._warehouse(shop), shop)
        outcome = self._create_or_find(shop, row.sku, make_call("POST", S.PRODUCTS, json_body=body))
        if not outcome.ok or row.listing.active or outcome.product_id is None:
            return outcome
        refused = self._toggle(shop, [outcome.product_id], active=False)
        if outcome.product_id in refused:
            return RowOutcome(row.sku, False, outcome.product_id,
                              f"created, but not deactivated: {refused[outcome.product_id]}")
        return outcome

    def _create_or_find(self, shop: str, sku: str, call: Call) -> RowOutcome:
        """Create; after a lost answer look for the SKU, and create again (same key) only if absent."""
        lost: ChannelError | None = None
        attempts = self.max_retries + 1
        for attempt in range(attempts):
            try:
                return self._create_once(shop, sku, call)
            except _LOST as err:
                lost = err
                self._counters.add("lost_responses")
                log.warning("%s: create answered %s; looking for it before creating again", sku, err)
            found = self.lookup(shop, [sku], fresh=True).get(sku)
            if found is not None:
                log.info("%s: the lost create was applied (product %s)", sku, found[0])
                return RowOutcome(sku, True, found[0])
            if attempt + 1 < attempts:
                self._counters.add("retries")
                self._sleep(min(30.0, 0.5 * 2 ** attempt))
        assert lost is not None
        raise lost

    def _create_once(self, shop: str, sku: str, call: Call) -> RowOutcome:
        try:
            created: Created = self._model(self.call(call, shop, retry_lost=False), Created, call)
        except BadRequestError as err:
            if err.error_code != str(S.SKU_EXISTS):
                return _failed(sku, err)
            found = self.lookup(shop, [sku], fresh=True).get(sku)
            if found is None:
                return _failed(sku, err)
            log.info("%s: already on shop %s as product %s; adopted", sku, shop, found[0])
            return RowOutcome(sku, True, found[0])
        sku_id = next((s.id for s in created.skus if s.seller_sku in ("", sku)), None)
        if sku_id is not None:
            with self._state_lock:
                self._known[(shop, sku)] = (created.product_id, sku_id)
        return RowOutcome(sku, True, created.product_id)

    # ------------------------------------------------------------------ edit, prices, stock

    def edit(self, shop_id: int, rows: Sequence[ListingEdit]) -> WriteResult:
        """Partial edits; fields without a counterpart (``min_order``, ``condition``) are left out,
        and an edit of only those applies without a call."""
        shop = str(shop_id)

        def write(row: ListingEdit) -> RowOutcome:
            body = edit_body(row.fields)
            if body:
                self.call(make_call("POST", S.PARTIAL_EDIT, ids={"id": row.product_id}, json_body=body), shop)
            return RowOutcome(row.sku, True, row.product_id)

        return self._each("edit", shop, rows, write)

    def set_prices(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        """Absolute prices (refused on an inactive product: "inactive: activate first")."""
        return self._numbers("prices", str(shop_id), rows)

    def set_stock(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        """Absolute stock in the shop's default warehouse (at most 99,999)."""
        return self._numbers("stock", str(shop_id), rows)

    def _numbers(self, kind: str, shop: str, rows: Sequence[SetNumber]) -> WriteResult:
        last = list({r.sku: r for r in rows}.values())  # absolute: only a SKU's last figure matters
        try:
            ids = self.lookup(shop, [r.sku for r in last])
        except ChannelError as err:
            err.partial = WriteResult()
            raise

        def write(row: SetNumber) -> RowOutcome:
            hit = ids.get(row.sku)
            if hit is None:
                return RowOutcome(row.sku, False, None, "no product with this SKU on the shop")
            product_id, sku_id = hit
            if kind == "prices":
                template, sku_body = S.PRICES_UPDATE, {"id": str(sku_id), "price": price(row.value)}
            else:
                template = S.INVENTORY_UPDATE
                sku_body = {"id": str(sku_id), "inventory": inventory(self._warehouse(shop), row.value, row.sku)}
            try:
                self.call(make_call("POST", template, ids={"id": product_id}, json_body={"skus": [sku_body]}), shop)
            except NotFoundError as err:
                self.forget(shop, row.sku)  # the next write searches again
                return _failed(row.sku, err, product_id)
            except BadRequestError as err:
                return _failed(row.sku, err, product_id)
            return RowOutcome(row.sku, True, product_id)

        return self._each(kind, shop, last, write)

    # ------------------------------------------------------------------ (de)activation

    def set_active(self, shop_id: int, rows: Sequence[ProductRef], active: bool) -> WriteResult:
        """(De)activate in calls of ≤ 20 products; the ids an answer lists in ``errors`` fail."""
        shop, result = str(shop_id), WriteResult()
        skus: dict[int, list[str]] = {}
        for r in rows:
            skus.setdefault(r.product_id, []).append(r.sku)
        for chunk in chunked(list(skus), S.IDS_PER_TOGGLE):
            try:
                refused = self._toggle(shop, list(chunk), active)
            except _ROW_ERRORS as err:
                refused = dict.fromkeys(chunk, reason(err))
            except ChannelError as err:
                err.partial = result
                raise
            for pid in chunk:
                for sku in skus[pid]:
                    if pid in refused:
                        result.failed.append(RowOutcome(sku, False, pid, refused[pid]))
                    else:
                        result.applied.append(RowOutcome(sku, True, pid))
        return result

    def _toggle(self, shop: str, product_ids: list[int], active: bool) -> dict[int, str]:
        """Product id → why it was refused, for the ids the answer lists in ``data.errors``."""
        call = make_call("POST", S.ACTIVATE if active else S.DEACTIVATE, items=len(product_ids),
                         json_body={"product_ids": [str(i) for i in product_ids]})
        toggled: Toggled = self._model(self.call(call, shop), Toggled, call, empty_ok=True)
        return {e.detail.product_id: self._scrub(e.message or e.code or "refused", S.MESSAGE_LIMIT)
                for e in toggled.errors or [] if e.detail.product_id is not None}

    # ------------------------------------------------------------------ images

    def upload_picture(self, shop_id: int, data: bytes, filename: str) -> str:
        """Upload an image as a main image of ``shop_id``'s products; its ``uri`` (for ``pictures``)."""
        kind = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        call = Call("POST", S.IMAGE_UPLOAD, S.IMAGE_UPLOAD, form={"use_case": "MAIN_IMAGE"},
                    files={"data": (filename, data, kind)}, cipher=False)
        return self._model(self.call(call, str(shop_id)), Uploaded, call).uri
