"""The sync plan: what to write to one shop so it holds exactly the desired listings.

Pure: desired listings (from the catalogues) against known listings (from the state store, or
read back from the channel) → creates, edits of only the fields that changed, price and stock
updates, deactivations and reactivations. An unchanged catalogue plans zero writes. The plan is
a value: print it (``lapak sync --dry-run``), apply it (one writer per :class:`WriteKind`), test it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from schemas.listing import KnownListing, Listing
from schemas.markdown import code, md
from schemas.messages import rupiah

# Fields changed through ``edit``; price and stock have their own absolute, idempotent calls.
EDIT_FIELDS = ("name", "category_id", "min_order", "weight_g", "condition", "description", "pictures")


class WriteKind(StrEnum):
    """A kind of write, in the order a plan is applied: renames first, so a name one product gives
    up is free for a product created in the same run (deactivated products keep their names)."""

    EDITS = "edits"
    CREATES = "creates"
    REACTIVATE = "reactivate"
    PRICES = "prices"
    STOCKS = "stocks"
    DEACTIVATE = "deactivate"


KINDS: tuple[WriteKind, ...] = tuple(WriteKind)


@dataclass(frozen=True, slots=True)
class Create:
    """A product the shop does not hold yet, with the stock to push."""

    listing: Listing
    stock: int

    @property
    def sku(self) -> str:
        return self.listing.sku

    @property
    def group_id(self) -> str:
        return self.listing.group_id


@dataclass(frozen=True, slots=True)
class Edit:
    """Fields of a known product that changed: field → (old, new)."""

    sku: str
    group_id: str
    product_id: int
    changes: Mapping[str, tuple[Any, Any]]


@dataclass(frozen=True, slots=True)
class Change:
    """A new absolute price or stock for a known product."""

    sku: str
    group_id: str
    product_id: int
    old: int | None
    new: int


@dataclass(frozen=True, slots=True)
class Toggle:
    """A known product to activate or deactivate; a deactivated one still ``in_catalogue`` is one
    its catalogue marks Nonaktif (not one that left it)."""

    sku: str
    group_id: str
    product_id: int
    name: str
    in_catalogue: bool = False


Entry = Create | Edit | Change | Toggle


def _no_writes() -> dict[WriteKind, list]:
    return {kind: [] for kind in WriteKind}


@dataclass
class Plan:
    """Writes for one shop, by kind; ``held`` are deactivations the shrink guard keeps back."""

    shop_id: int
    entries: dict[WriteKind, list] = field(default_factory=_no_writes)
    held: list[Toggle] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def creates(self) -> list[Create]:
        return self.entries[WriteKind.CREATES]

    @property
    def edits(self) -> list[Edit]:
        return self.entries[WriteKind.EDITS]

    @property
    def prices(self) -> list[Change]:
        return self.entries[WriteKind.PRICES]

    @property
    def stocks(self) -> list[Change]:
        return self.entries[WriteKind.STOCKS]

    @property
    def reactivate(self) -> list[Toggle]:
        return self.entries[WriteKind.REACTIVATE]

    @property
    def deactivate(self) -> list[Toggle]:
        return self.entries[WriteKind.DEACTIVATE]

    @property
    def writes(self) -> int:
        """Item writes the plan makes (each counts against the channel's rate limit)."""
        return sum(len(rows) for rows in self.entries.values())

    def counts(self, group_id: str | None = None) -> dict[str, int]:
        """Writes per kind (and ``held``), for one group or the whole shop."""
        def n(rows: list) -> int:
            return len(rows) if group_id is None else sum(r.group_id == group_id for r in rows)

        return {**{kind.value: n(rows) for kind, rows in self.entries.items()}, "held": n(self.held)}

    def to_markdown(self, limit: int = 50) -> str:
        """The plan as operators read it (the dry-run output and the Prefect artifact)."""
        lines = [f"### Shop {md(self.shop_id)}: {self.writes} writes"]
        if not self.writes and not self.held:
            lines.append("Nothing to change: the marketplace already matches the catalogues.")
        for title, rows, fmt in self._sections():
            if rows:
                lines.append(f"\n**{title}** ({len(rows)})")
                lines.extend(f"- {fmt(r)}" for r in rows[:limit])
                if len(rows) > limit:
                    lines.append(f"- … and {len(rows) - limit} more")
        if self.notes:
            lines.append("\n**Notes**")
            lines.extend(f"- {md(n, 400)}" for n in self.notes)
        return "\n".join(lines)

    def _sections(self) -> list[tuple[str, list, Callable[[Any], str]]]:
        return [
            ("Create", self.creates, lambda c: f"{code(c.sku)} {md(c.listing.name, 200)} — {rupiah(c.listing.price)}, "
                                               f"stock {c.stock}" + ("" if c.listing.active else " (inactive)")),
            ("Edit", self.edits, lambda e: f"{code(e.sku)} " + ", ".join(
                f"{f}: {md(_short(o))} → {md(_short(n))}" for f, (o, n) in e.changes.items())),
            ("Reactivate", self.reactivate, lambda t: f"{code(t.sku)} {md(t.name, 200)}"),
            ("Price", self.prices, lambda c: f"{code(c.sku)} {rupiah(c.old or 0)} → {rupiah(c.new)}"),
            ("Stock", self.stocks, lambda c: f"{code(c.sku)} {c.old} → {c.new}"),
            ("Deactivate", self.deactivate,
             lambda t: f"{code(t.sku)} {md(t.name, 200)}" + (" (Nonaktif in its catalogue)" if t.in_catalogue else "")),
            ("Held by the shrink guard (not deactivated)", self.held, lambda t: f"{code(t.sku)} {md(t.name, 200)}"),
        ]


def _short(v: Any, n: int = 40) -> str:
    s = str(list(v)) if isinstance(v, tuple) else str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


def _same(field_name: str, a: Any, b: Any) -> bool:
    if field_name == "weight_g":
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    if field_name == "pictures":
        return tuple(a or ()) == tuple(b or ())
    return a == b


def _plan_known(plan: Plan, d: Listing, k: KnownListing, stock: int) -> None:
    """The writes that bring the known product ``k`` to the desired listing ``d``."""
    assert k.product_id is not None
    sku, gid, pid = d.sku, d.group_id, k.product_id
    changes = {f: (getattr(k, f), getattr(d, f)) for f in EDIT_FIELDS if not _same(f, getattr(k, f), getattr(d, f))}
    if "name" in changes and k.has_orders:
        plan.notes.append(f"{sku}: the name stays \"{k.name}\" — it cannot change once the product "
                          f"has an order (catalogue says \"{d.name}\")")
        del changes["name"]
    if changes:
        plan.edits.append(Edit(sku, gid, pid, changes))
    if d.active and not k.active:
        plan.reactivate.append(Toggle(sku, gid, pid, d.name))
    elif k.active and not d.active:  # the catalogue marks it Nonaktif: listed, kept inactive
        plan.deactivate.append(Toggle(sku, gid, pid, k.name, in_catalogue=True))
    if k.price != d.price:
        plan.prices.append(Change(sku, gid, pid, k.price, d.price))
    if k.stock != stock:
        plan.stocks.append(Change(sku, gid, pid, k.stock, stock))


def plan_shop(
    shop_id: int,
    desired: Iterable[Listing],
    known: Iterable[KnownListing],
    stock: Mapping[str, int],
    *,
    managed_groups: set[str],
    hold_deactivation: set[str] = frozenset(),
) -> Plan:
    """Plan one shop.

    ``desired``: listings from the catalogues. ``known``: what the shop holds as last confirmed.
    ``stock``: the stock to push per desired SKU. Known listings of ``managed_groups`` that are
    no longer desired are deactivated, unless their group is in ``hold_deactivation``.
    """
    plan = Plan(shop_id=shop_id)
    known = list(known)
    known_by_sku = {k.sku: k for k in known}
    desired_skus = set()
    for d in desired:
        desired_skus.add(d.sku)
        k = known_by_sku.get(d.sku)
        if k is None or k.product_id is None:
            plan.creates.append(Create(d, stock[d.sku]))
        else:
            _plan_known(plan, d, k, stock[d.sku])
    for k in known:
        if k.sku in desired_skus or k.group_id not in managed_groups or not k.active or k.product_id is None:
            continue
        toggle = Toggle(k.sku, k.group_id, k.product_id, k.name)
        (plan.held if k.group_id in hold_deactivation else plan.deactivate).append(toggle)
    return plan
