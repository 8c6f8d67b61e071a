"""The first marketplace as a :class:`schemas.channel.Channel`: the project's words in, the API's out.

:class:`MarketplaceChannel` wraps a :class:`MarketplaceClient` (which speaks the wire format of
../shared/marketplace-api.md) and translates: listings and edits into payload models, answers
keyed by product id back to SKUs, product reads and orders into the project's types.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from connectors.marketplace import settings as S
from connectors.marketplace.client import MarketplaceClient
from connectors.marketplace.models import BatchResult, NewProduct, Picture, ProductEdit, ProductInfo
from connectors.marketplace.models import Order as WireOrder
from schemas.categories import Category
from schemas.channel import (
    ChannelLimits,
    ChannelProduct,
    ListingEdit,
    NewListing,
    ProductRef,
    RowOutcome,
    SetNumber,
    WriteResult,
)
from schemas.config import MarketplaceConfig
from schemas.errors import ChannelError
from schemas.orders import Order, OrderLine, Recipient

LIMITS = ChannelLimits(create_batch=S.CREATE_BATCH, edit_batch=S.EDIT_BATCH, toggle_batch=S.ACTIVE_BATCH,
                       price_batch=S.PRICE_BATCH, stock_batch=S.STOCK_BATCH)


def _edit_payload(edit: ListingEdit) -> ProductEdit:
    """Project field names → the edit payload's (weight in grams; pictures by path)."""
    fields = dict(edit.fields)
    if "weight_g" in fields:
        fields["weight"] = fields.pop("weight_g")
    if "pictures" in fields:
        fields["pictures"] = [Picture(file_path=u) for u in fields["pictures"]]
    return ProductEdit(id=edit.product_id, **fields)


def _money(v: float | None) -> int:
    return round(v) if v is not None else 0


def _outcomes(result: BatchResult, sku_of: Mapping[str, str] | None = None) -> WriteResult:
    """The client's answer (keyed by SKU, or by product id for id-keyed calls) keyed by SKU."""
    def sku(key: str) -> str:
        return sku_of.get(key, key) if sku_of is not None else key

    return WriteResult(
        applied=[RowOutcome(sku(r.key), True, r.product_id) for r in result.applied],
        failed=[RowOutcome(sku(r.key), False, r.product_id, r.error or "failed") for r in result.failed])


def _keyed(call: Callable[[], BatchResult], sku_of: Mapping[str, str] | None = None) -> WriteResult:
    """Run one client write; a call that stops part-way keeps its settled rows, keyed by SKU."""
    try:
        return _outcomes(call(), sku_of)
    except ChannelError as err:
        if isinstance(err.partial, BatchResult):
            err.partial = _outcomes(err.partial, sku_of)
        raise


def product_of(p: ProductInfo) -> ChannelProduct:
    """A ``product/info`` row in the project's words: the contract's (``"ACTIVE"``, ``"NEW"``, grams)
    and the real marketplace's (status and condition codes, ``weight.unit`` 1 gram / 2 kilogram,
    pictures by ``filePath`` or ``OriginalURL``) alike."""
    return ChannelProduct(
        product_id=p.product_id, sku=p.sku, name=p.name or "", category_id=p.basic.categoryID or 0,
        price=int(p.price.value or 0), stock=int(p.stock.value) if p.stock.value is not None else None,
        min_order=p.min_order or 1, weight_g=p.weight_grams, condition=p.condition_name,
        description=p.description or "", pictures=p.picture_refs, status=p.status_name, shop_id=p.basic.shopID)


def order_of(o: WireOrder, shop_id: int) -> Order:
    """An order (the contract's shape or the real single-order answer, read alike by the wire model)
    in the project's words; amounts in whole rupiah. Without ``update_time`` (the real order list
    lacks it) the order counts as last changed when it was created: its status still tells."""
    a = o.recipient.address
    lines = tuple(OrderLine(line=n, product_id=p.id, sku=p.sku or "", name=p.Name or "", quantity=int(p.quantity),
                            price=_money(p.price),
                            total_price=_money(p.total_price) if p.total_price is not None
                            else _money(p.price) * int(p.quantity))
                  for n, p in enumerate(o.products, start=1))
    recipient = Recipient(name=o.recipient.name or "", phone=o.recipient.phone or "", address=a.address_full or "",
                          district=a.district or "", city=a.city or "", province=a.province or "",
                          postal_code=a.postal_code or "")
    return Order(order_id=o.order_id, shop_id=o.shop_id or shop_id, invoice=o.invoice_ref_num or "",
                 status=int(o.order_status), create_time=int(o.create_time),
                 update_time=int(o.update_time if o.update_time is not None else o.create_time), lines=lines,
                 buyer_name=o.buyer.name or "", recipient=recipient, shipping_cost=_money(o.amt.shipping_cost),
                 total_amount=_money(o.amt.ttl_amount))


class MarketplaceChannel:
    """The first marketplace behind the channel protocol (one app: ``fs_id`` + client credentials)."""

    name = "marketplace"
    limits = LIMITS

    def __init__(self, client: MarketplaceClient) -> None:
        self.client = client

    @classmethod
    def from_config(cls, cfg: MarketplaceConfig, **client_options: Any) -> MarketplaceChannel:
        return cls(MarketplaceClient.from_config(cfg, **client_options))

    def __repr__(self) -> str:
        return f"MarketplaceChannel({self.client!r})"

    def check_credentials(self, shop_ids: Sequence[int] = ()) -> None:
        """Fetch a token now: a refused client id or secret raises :class:`AuthError` before any work."""
        self.client._bearer()

    def categories(self) -> list[Category]:
        return [Category.model_validate(c, from_attributes=True) for c in self.client.categories()]

    def create(self, shop_id: int, rows: Sequence[NewListing]) -> WriteResult:
        products = [NewProduct(
            name=r.listing.name, sku=r.sku, category_id=r.listing.category_id, price=r.listing.price, stock=r.stock,
            min_order=r.listing.min_order, weight=r.listing.weight_g, condition=r.listing.condition,
            description=r.listing.description, pictures=[Picture(file_path=u) for u in r.listing.pictures],
            status="ACTIVE" if r.listing.active else "INACTIVE")
            for r in rows]
        return _keyed(lambda: self.client.create_products(shop_id, products))

    def edit(self, shop_id: int, rows: Sequence[ListingEdit]) -> WriteResult:
        edits = [_edit_payload(r) for r in rows]
        return _keyed(lambda: self.client.edit_products(shop_id, edits, skus={r.product_id: r.sku for r in rows}),
                      {str(r.product_id): r.sku for r in rows})

    def set_prices(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        return _keyed(lambda: self.client.update_prices(shop_id, [{"sku": r.sku, "new_price": r.value} for r in rows]))

    def set_stock(self, shop_id: int, rows: Sequence[SetNumber]) -> WriteResult:
        return _keyed(lambda: self.client.update_stock(shop_id, [{"sku": r.sku, "new_stock": r.value} for r in rows]))

    def set_active(self, shop_id: int, rows: Sequence[ProductRef], active: bool) -> WriteResult:
        return _keyed(lambda: self.client.set_active(shop_id, [r.product_id for r in rows], active),
                      {str(r.product_id): r.sku for r in rows})

    def products(self, shop_id: int) -> Iterator[ChannelProduct]:
        return (product_of(p) for p in self.client.iter_products(shop_id))

    def product(self, shop_id: int, sku: str) -> ChannelProduct | None:
        found = self.client.product_by_sku(shop_id, sku)
        return product_of(found) if found is not None else None

    def orders(self, shop_id: int, start: int, end: int) -> Iterator[Order]:
        return (order_of(o, shop_id) for o in self.client.iter_orders(shop_id, start, end))

    def order(self, shop_id: int, order_id: int) -> Order:
        return order_of(self.client.get_order(order_id), shop_id)

    def upload_picture(self, shop_id: int, data: bytes, filename: str) -> str:
        return self.client.upload_picture(shop_id, data, filename).file_path

    @property
    def counters(self) -> dict[str, Any]:
        return self.client.counters

    def close(self) -> None:
        self.client.close()
