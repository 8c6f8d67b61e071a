"""New-order messages to a group: what to pack, composed from the group's own order lines (pure).

A group with ``notify`` is told, in one message per order pull, of its new paid orders: per order
the invoice, the channel, the products and quantities that are the group's, and the destination
city. Never the buyer's name, phone or street address: a :class:`ToPack` has no field for them
(they stay in the state store and the order sheets). Indonesian first, English beside it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Sequence
from dataclasses import dataclass

from schemas.channel import channel_label
from schemas.orders import Order

MAX_ORDERS = 30
"""Orders named in one message; the rest are told in the next pull's (a chat message stays short)."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


@dataclass(frozen=True, slots=True)
class PackLine:
    """A product to pack: its name and how many."""

    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class ToPack:
    """An order as a group's message may show it: no buyer, no phone, no street address."""

    channel: str
    order_id: int
    invoice: str
    city: str
    create_time: int
    lines: tuple[PackLine, ...]

    @classmethod
    def of(cls, order: Order, skus: Container[str]) -> ToPack | None:
        """The order's lines whose SKU is among ``skus`` (a group's), or None when none is."""
        lines = tuple(PackLine(_one_line(x.name) or x.sku, x.quantity) for x in order.lines if x.sku in skus)
        if not lines:
            return None
        city = _one_line(order.recipient.city or order.recipient.province)
        return cls(channel=order.channel, order_id=order.order_id, invoice=_one_line(order.invoice) or
                   str(order.order_id), city=city, create_time=order.create_time, lines=lines)


@dataclass(frozen=True, slots=True)
class Message:
    """A message to one group and the orders it names (the ones to record as told once it is sent)."""

    subject: str
    body: str
    told: tuple[ToPack, ...]


def _order_block(n: int, order: ToPack) -> list[str]:
    where = f"kirim ke {order.city}" if order.city else "kota belum diketahui / city unknown"
    head = f"{n}. {order.invoice} · {channel_label(order.channel)} · {where}"
    return [head, *(f"   - {line.quantity} × {line.name}" for line in order.lines)]


def compose(group_name: str, orders: Sequence[ToPack], max_orders: int = MAX_ORDERS) -> Message:
    """The message telling ``group_name`` what to pack for ``orders`` (oldest first; at most
    ``max_orders`` named, the others said to follow in the next message)."""
    if not orders:
        raise ValueError("a message needs at least one order")
    told = tuple(orders[:max_orders])
    units = sum(line.quantity for o in told for line in o.lines)
    name = _one_line(group_name)
    body = [f"Halo {name}, ada {len(told)} pesanan baru yang sudah dibayar. Mohon dikemas ({units} barang):",
            f"(New paid orders to pack: {len(told)}, {units} items.)", ""]
    for n, order in enumerate(told, 1):
        body += _order_block(n, order)
    if rest := len(orders) - len(told):
        body += ["", f"… dan {rest} pesanan lain menyusul di pesan berikutnya / {rest} more in the next message."]
    body += ["", "Nama, alamat dan nomor pembeli ada di lembar pesanan. / Buyer details are in the order sheet."]
    subject = f"Pesanan baru / New orders: {len(told)} — {name}"
    return Message(subject=subject, body="\n".join(body), told=told)


_URL = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)(?:[^\s/@'\"<>]*@)?([^\s/?#'\"<>]*)[^\s'\"<>]*")


def failure_reason(err: BaseException, limit: int = 300) -> str:
    """Why a message was not sent, for summaries and run pages: the error's kind and first line,
    every URL cut to its scheme and host (webhook URLs carry tokens in their paths and queries)."""
    text = str(err) or str(getattr(err, "log", "") or "")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    first = _URL.sub(lambda m: f"{m[1]}{m[2]}/…", first)
    reason = f"{type(err).__name__}: {first}" if first else type(err).__name__
    return reason if len(reason) <= limit else reason[:limit - 1] + "…"
