"""The marketplace client's writes: bulk operations and picture upload.

Bulk operations split rows into batches no larger than the contract allows *and* the limiter
grants, read the per-row results (:mod:`connectors.marketplace.outcomes`), and send
rate-limited rows again later. Creation has no idempotency key, so a lost answer is followed by
SKU look-ups, never by a blind repeat. A picture upload is content-addressed, so it is repeated
like any idempotent call.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from connectors.marketplace import settings as S
from connectors.marketplace.models import (
    ActiveRowsResult,
    BatchResult,
    InventoryRowsResult,
    NewProduct,
    PriceUpdate,
    ProductEdit,
    ProductInfo,
    ProductRowsResult,
    RowResult,
    StockUpdate,
    UploadedPicture,
)
from connectors.marketplace.outcomes import (
    _norm,
    _Outcome,
    _resolve_active,
    _resolve_inventory,
    _resolve_products,
    _Row,
    edit_differences,
)
from connectors.marketplace.transport import Transport, _Reply
from schemas.errors import ChannelError, ServerError, TransportError

log = logging.getLogger("lapak.marketplace")

# settle(chunk, shop_id, done) -> one outcome per row of chunk; ``done`` collects rows settled
# before an error stops the call.
Settle = Callable[[list[_Row], int, dict[int, _Outcome]], list[_Outcome]]


class Writes(Transport):
    """Bulk writes and picture upload (a mixin of the client; look-ups use the client's reads)."""

    product_by_sku: Callable[[int, str], ProductInfo | None]  # from Reads, on the composed client
    iter_products: Callable[[int], Iterator[ProductInfo]]  # from Reads

    # ------------------------------------------------------------------ bulk machinery

    @staticmethod
    def _rows(items: Iterable[Any], model: type[BaseModel],
              make: Callable[[Any], _Row]) -> tuple[list[_Row], list[RowResult]]:
        """Validate the caller's rows; an invalid one is reported as failed and never sent."""
        rows, invalid = [], []
        for n, item in enumerate(items):
            try:
                obj = item if isinstance(item, model) else model.model_validate(item)
            except ValidationError as err:
                key = next((str(item[k]) for k in ("sku", "id", "product_id")
                            if isinstance(item, Mapping) and item.get(k) is not None), f"#{n}")
                why = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'row'}: {e['msg']}" for e in err.errors())
                invalid.append(RowResult(key=key, ok=False, error=f"invalid row: {why}"))
                continue
            rows.append(make(obj))
        return rows, invalid

    @staticmethod
    def _last_wins(rows: list[_Row]) -> list[_Row]:
        """Absolute updates of one key: only the last matters, and two in one call could race."""
        by_key: dict[str, _Row] = {}
        for r in rows:
            by_key.pop(r.key, None)
            by_key[r.key] = r
        return list(by_key.values())

    def _note_throttled(self, path: str, reply: _Reply, outcomes: list[_Outcome]) -> None:
        n = sum(o.state == "throttle" for o in outcomes)
        if n:
            self._counters.add("row_429", n)
            if reply.info is None or reply.info.remaining is None:
                self.limiter.release(path, 0, reply.info, throttled=True)

    def _bulk(self, op: str, template: str, shop_id: int, rows: list[_Row], invalid: list[RowResult],
              batch: int, settle: Settle) -> BatchResult:
        """Send ``rows`` in calls of at most ``batch`` items and at most what the limiter grants."""
        path = self._path(template)
        result = BatchResult(failed=list(invalid))
        queue = deque(rows)
        calls = resent = 0
        while queue:
            want = 1
            if not queue[0].solo:
                want = next((i for i, r in enumerate(queue) if r.solo or i >= batch), min(batch, len(queue)))
            n = self.limiter.acquire(path, max(1, want))
            chunk = [queue.popleft() for _ in range(n)]
            done: dict[int, _Outcome] = {}
            calls += 1
            try:
                outcomes = settle(chunk, shop_id, done)
            except ChannelError as err:
                self._record(chunk, done, result)
                err.partial = result
                log.error("%s shop=%s stopped: %s (applied=%d failed=%d, %d rows not sent)", op, shop_id, err,
                          len(result.applied), len(result.failed), len(chunk) - len(done) + len(queue))
                raise
            again = self._record(chunk, dict(enumerate(outcomes)), result)
            queue.extendleft(reversed(again))
            resent += len(again)
            self._counters.add("rows_resent", len(again))
            log.info("%s shop=%s batch: items=%d applied=%d failed=%d retried=%d", op, shop_id, len(chunk),
                     sum(o.state == "ok" for o in outcomes), sum(o.state == "fail" for o in outcomes), len(again))
        log.info("%s shop=%s done: rows=%d applied=%d failed=%d calls=%d rows_resent=%d", op, shop_id,
                 len(result), len(result.applied), len(result.failed), calls, resent)
        return result

    def _record(self, chunk: list[_Row], outcomes: dict[int, _Outcome], result: BatchResult) -> list[_Row]:
        """File settled rows into ``result``; return the rows to send again, in their order. A row's
        reason quotes the marketplace's message: it is scrubbed here, where it becomes a result."""
        again = []
        for i, row in enumerate(chunk):
            o = outcomes.get(i)
            if o is None:
                continue
            if o.reason is not None:
                o.reason = self._scrub(o.reason, S.ROW_REASON_LIMIT)
            if o.state == "ok":
                result.applied.append(RowResult(key=row.key, ok=True, product_id=o.product_id or row.product_id))
            elif o.state == "fail" or (o.state == "unknown" and len(chunk) == 1):
                result.failed.append(RowResult(key=row.key, ok=False, product_id=row.product_id, error=o.reason))
            else:
                row.attempts += 1
                if row.attempts >= self.max_attempts:
                    result.failed.append(RowResult(key=row.key, ok=False, product_id=row.product_id,
                                                   error=f"{o.reason} (not applied after {row.attempts} attempts)"))
                else:
                    row.solo = o.state == "unknown"
                    again.append(row)
        return again

    def _idempotent(self, template: str, model: type[BaseModel],
                    resolve: Callable[[list[_Row], Any], list[_Outcome]],
                    body: Callable[[list[_Row]], Any], method: str = "POST") -> Settle:
        """A settle step for calls safe to repeat: 5xx and lost answers are simply sent again."""
        path, endpoint = self._path(template), S.ENDPOINT_NAMES[template]

        def settle(chunk: list[_Row], shop_id: int, done: dict[int, _Outcome]) -> list[_Outcome]:
            reply = self._send(method, template, items=len(chunk), prepaid=True,
                               params={"shop_id": shop_id}, json=body(chunk))
            outcomes = resolve(chunk, self._data(reply, model, endpoint))
            self._note_throttled(path, reply, outcomes)
            return outcomes

        return settle

    def _settle_create(self, chunk: list[_Row], shop_id: int, done: dict[int, _Outcome]) -> list[_Outcome]:
        """Create ``chunk``; when an answer is lost, look every SKU up before sending again."""
        path = self._path(S.CREATE_PATH)
        pending = list(range(len(chunk)))
        first = [True]

        def once() -> tuple[list[int], _Reply | None]:
            idx = list(pending)
            paid, first[0] = first[0], False
            try:
                return idx, self._exchange("POST", S.CREATE_PATH, items=len(idx), prepaid=paid,
                                           params={"shop_id": shop_id},
                                           json={"products": [chunk[i].payload for i in idx]})
            except (ServerError, TransportError) as err:
                self._counters.add("lost_responses")
                log.warning("create shop=%s: %s; looking up %d SKUs before sending again", shop_id, err, len(idx))
                try:
                    for i in idx:
                        found = self._lookup_created(shop_id, chunk[i], None)
                        if found is not None:
                            done[i] = found
                except ChannelError as lookup_err:
                    # Not knowing what exists, sending again could make a second listing: stop.
                    raise ChannelError(f"answer lost ({err}) and the SKU look-up failed ({lookup_err}); "
                                       "not sending again", endpoint="create") from None
                pending[:] = [i for i in idx if i not in done]
                if not pending:
                    return [], None
                raise

        idx, reply = self._retrying(retry_lost=True)(once)
        if reply is not None:
            outcomes = _resolve_products([chunk[i] for i in idx], self._data(reply, ProductRowsResult, "create"),
                                         create=True)
            for i, o in zip(idx, outcomes):
                if o.state in ("used", "unknown"):
                    o = self._lookup_created(shop_id, chunk[i], o) or o
                done[i] = o
            self._note_throttled(path, reply, outcomes)
        return [done[i] for i in range(len(chunk))]

    def _lookup_created(self, shop_id: int, row: _Row, prior: _Outcome | None) -> _Outcome | None:
        """Whether ``row`` already exists: ``None`` if not (after a lost answer: send it again)."""
        self._counters.add("sku_lookups")
        info = self.product_by_sku(shop_id, row.sku or row.key)
        if info is None:
            if prior is None:
                return None
            if prior.state == "used":
                return _Outcome("fail", reason=prior.reason)
            return _Outcome("resend", reason=prior.reason)
        if row.name is None or info.name is None or _norm(info.name) == _norm(row.name):
            return _Outcome("ok", info.product_id)
        return _Outcome("fail", reason=f"SKU {row.sku!r} is already used by product {info.product_id} "
                                       f"named {info.name!r}")

    # ------------------------------------------------------------------ writes

    def create_products(self, shop_id: int, products: Iterable[NewProduct | Mapping[str, Any]]) -> BatchResult:
        """Create listings (25 a call); results keyed by SKU, with the new product ids.

        A lost answer never leads to a second listing: the SKUs are looked up first and only
        the missing ones are sent again. A row refused because its SKU is taken by a product
        of the same name (an earlier try that did land) counts as created.
        """
        rows, invalid = self._rows(products, NewProduct, lambda p: _Row(
            key=p.sku, payload=p.model_dump(mode="json"), sku=p.sku, name=p.name))
        return self._bulk("create", S.CREATE_PATH, shop_id, rows, invalid, S.CREATE_BATCH, self._settle_create)

    def edit_products(self, shop_id: int, rows: Iterable[ProductEdit | Mapping[str, Any]],
                      skus: Mapping[int, str] | None = None) -> BatchResult:
        """Change listings (25 a call); each row has ``id`` and only the fields that change. Keys: the id.

        An edit answered with only ``upload_id`` (the real marketplace processes it later) is
        confirmed by reading the products back — by SKU where the row or ``skus`` (id → SKU) names
        one, else from the product list: a row whose edited fields show is applied, any other
        failed saying what the marketplace still shows.
        """
        known = dict(skus or {})
        built, invalid = self._rows(rows, ProductEdit, lambda e: _Row(
            key=str(e.id), payload=e.payload(), sku=e.sku or known.get(e.id), product_id=e.id, name=e.name))
        send = self._idempotent(S.EDIT_PATH, ProductRowsResult,
                                lambda c, d: _resolve_products(c, d, create=False),
                                lambda c: {"products": [r.payload for r in c]}, method="PATCH")

        def settle(chunk: list[_Row], shop_id: int, done: dict[int, _Outcome]) -> list[_Outcome]:
            outcomes = send(chunk, shop_id, done)
            pending = [i for i, o in enumerate(outcomes) if o.state == "pending"]
            if pending:
                confirmed = self._confirm_edits(shop_id, [chunk[i] for i in pending], outcomes[pending[0]].reason)
                for i, o in zip(pending, confirmed):
                    outcomes[i] = o
            return outcomes

        return self._bulk("edit", S.EDIT_PATH, shop_id, built, invalid, S.EDIT_BATCH, settle)

    def _confirm_edits(self, shop_id: int, rows: list[_Row], accepted: str | None) -> list[_Outcome]:
        """Read back edits accepted to be processed later, a few times with a pause between reads."""
        settled: dict[int, _Outcome] = {}
        shows: dict[int, list[str]] = {}
        for attempt in range(S.EDIT_CONFIRM_READS):
            if attempt:
                self._sleep(S.EDIT_CONFIRM_WAIT_S * attempt)
            open_rows = [i for i in range(len(rows)) if i not in settled]
            self._counters.add("edit_readbacks", len(open_rows))
            try:
                found = self._read_back(shop_id, [rows[i] for i in open_rows])
            except ChannelError as err:
                for i in open_rows:
                    settled[i] = _Outcome("fail", reason=f"edit {accepted}; reading it back failed ({err})")
                break
            for i in open_rows:
                info = found.get(rows[i].product_id)
                shows[i] = ["no product with this id"] if info is None else edit_differences(rows[i].payload, info)
                if not shows[i]:
                    settled[i] = _Outcome("ok", rows[i].product_id)
            if len(settled) == len(rows):
                break
        log.info("edit shop=%s: %s; read back: %d of %d rows show the edit", shop_id, self._scrub(accepted),
                 sum(o.state == "ok" for o in settled.values()), len(rows))
        return [settled.get(i) or _Outcome("fail", reason=(
            f"edit {accepted}, but product {rows[i].product_id} read back {S.EDIT_CONFIRM_READS} times shows "
            f"{'; '.join(shows[i])}")) for i in range(len(rows))]

    def _read_back(self, shop_id: int, rows: list[_Row]) -> dict[int, ProductInfo]:
        """The rows' products as the marketplace shows them now (by product id): read by SKU where
        the row names one, else (or when the SKU finds another product) found in the product list."""
        found: dict[int, ProductInfo] = {}
        for r in rows:
            info = self.product_by_sku(shop_id, r.sku) if r.sku else None
            if info is not None and info.product_id == r.product_id:
                found[info.product_id] = info
        want = {r.product_id for r in rows if r.product_id not in found}
        if want:
            for info in self.iter_products(shop_id):
                if info.product_id in want:
                    found[info.product_id] = info
                    want.discard(info.product_id)
                    if not want:
                        break
        return found

    def _inventory(self, op: str, template: str, shop_id: int, rows: Iterable[Any],
                   model: type[BaseModel]) -> BatchResult:
        built, invalid = self._rows(rows, model, lambda u: _Row(
            key=u.key, payload=u.payload(), sku=u.sku, product_id=u.product_id))
        settle = self._idempotent(template, InventoryRowsResult, _resolve_inventory, lambda c: [r.payload for r in c])
        return self._bulk(op, template, shop_id, self._last_wins(built), invalid, S.STOCK_BATCH
                          if template == S.STOCK_PATH else S.PRICE_BATCH, settle)

    def update_prices(self, shop_id: int, rows: Iterable[PriceUpdate | Mapping[str, Any]]) -> BatchResult:
        """Set absolute prices (100 a call): rows ``{"sku"|"product_id", "new_price"}``; last row per key wins."""
        return self._inventory("price", S.PRICE_PATH, shop_id, rows, PriceUpdate)

    def update_stock(self, shop_id: int, rows: Iterable[StockUpdate | Mapping[str, Any]]) -> BatchResult:
        """Set absolute stock (100 a call): rows ``{"sku"|"product_id", "new_stock"}``; last row per key wins."""
        return self._inventory("stock", S.STOCK_PATH, shop_id, rows, StockUpdate)

    def set_active(self, shop_id: int, product_ids: Iterable[int], active: bool) -> BatchResult:
        """Activate or deactivate listings (25 a call). Keys: the product ids as strings."""
        template = S.ACTIVE_PATH if active else S.INACTIVE_PATH
        ids = list(dict.fromkeys(int(p) for p in product_ids))
        rows = [_Row(key=str(p), payload={}, product_id=p) for p in ids]
        settle = self._idempotent(template, ActiveRowsResult, _resolve_active,
                                  lambda c: {"product_id": [r.product_id for r in c]})
        return self._bulk("active" if active else "inactive", template, shop_id, rows, [], S.ACTIVE_BATCH, settle)

    def upload_picture(self, shop_id: int, data: bytes, filename: str = "picture.jpg") -> UploadedPicture:
        """Upload one picture (JPEG or PNG bytes) for the shop; its ``file_path`` can go in ``pictures``.

        One item against the path's rate limit. Uploads are content-addressed, so 429, 5xx and lost
        connections are repeated; a 400 (``PIC_FORMAT``, ``PIC_DIMENSION``, ``PIC_FILE_SIZE``,
        ``PIC_REQUEST``) raises :class:`~schemas.errors.BadRequestError` at once.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be the picture's bytes, not {type(data).__name__}")
        data = bytes(data)
        template = S.PICTURE_UPLOAD_PATH
        reply = self._send("POST", template, items=S.PICTURE_UPLOAD_BATCH, params={"shop_id": shop_id},
                           files={"file": (filename, data)})
        picture = self._data(reply, UploadedPicture, S.ENDPOINT_NAMES[template])
        log.info("picture_upload shop=%s: %d bytes -> %s", shop_id, len(data), picture.file_path)
        return picture
