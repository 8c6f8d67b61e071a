"""The sync plan: what to write to one shop so it holds exactly the desired listings.

Pure functions on plain values: desired listings (from the catalogues) against known listings
(from the state store, or read back from the marketplace) → creates, edits of only the fields
that changed, price and stock updates, deactivations and reactivations. An unchanged catalogue
plans zero writes. The plan is a value: print it (``lapak sync --dry-run``), apply it, test it.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from typing import Any

from schemas.listing import NAME_MAX
from schemas.messages import rupiah

# Fields changed through ``edit``; price and stock have their own absolute, idempotent calls.
EDIT_FIELDS = ("name", "category_id", "min_order", "weight_g", "condition", "description", "pictures")
# The order writes are applied in: renames first, so a name one product gives up is free for a
# product created in the same run (deactivated products keep their names: they free none).
KINDS = ("edits", "creates", "reactivate", "prices", "stocks", "deactivate")


def _same(field_name: str, a: Any, b: Any) -> bool:
    if field_name == "weight_g":
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)
    if field_name == "pictures":
        return list(a or []) == list(b or [])
    return a == b


@dataclass
class Plan:
    """Writes for one shop. Each entry is a dict naming ``sku``, ``group_id`` and what changes."""

    shop_id: int
    creates: list[dict] = field(default_factory=list)
    edits: list[dict] = field(default_factory=list)  # {sku, group_id, product_id, changes: {f: (old, new)}}
    prices: list[dict] = field(default_factory=list)  # {sku, group_id, product_id, old, new}
    stocks: list[dict] = field(default_factory=list)  # {sku, group_id, product_id, old, new}
    deactivate: list[dict] = field(default_factory=list)  # {sku, group_id, product_id, name}
    reactivate: list[dict] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)  # deactivations held by the shrink guard
    notes: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        """Item writes the plan makes (each counts against the marketplace's rate limit)."""
        return sum(len(getattr(self, k)) for k in KINDS)

    def counts(self, group_id: str | None = None) -> dict[str, int]:
        pick = (lambda rows: rows) if group_id is None else (lambda rows: [r for r in rows if r["group_id"] == group_id])
        return {k: len(pick(getattr(self, k))) for k in (*KINDS, "held")}

    def to_markdown(self, limit: int = 50) -> str:
        """The plan as operators read it (the dry-run output and the Prefect artifact)."""
        lines = [f"### Shop {self.shop_id}: {self.writes} writes"]
        if not self.writes and not self.held:
            lines.append("Nothing to change: the marketplace already matches the catalogues.")

        def section(title: str, rows: list[dict], fmt) -> None:
            if not rows:
                return
            lines.append(f"\n**{title}** ({len(rows)})")
            lines.extend(f"- {fmt(r)}" for r in rows[:limit])
            if len(rows) > limit:
                lines.append(f"- … and {len(rows) - limit} more")

        section("Create", self.creates, lambda r: f"`{r['sku']}` {r['name']} — {rupiah(r['price'])}, stock {r['stock']}")
        section("Edit", self.edits, lambda r: f"`{r['sku']}` " + ", ".join(
            f"{f}: {_short(o)} → {_short(n)}" for f, (o, n) in r["changes"].items()))
        section("Reactivate", self.reactivate, lambda r: f"`{r['sku']}` {r.get('name', '')}")
        section("Price", self.prices, lambda r: f"`{r['sku']}` {rupiah(r['old'])} → {rupiah(r['new'])}")
        section("Stock", self.stocks, lambda r: f"`{r['sku']}` {r['old']} → {r['new']}")
        section("Deactivate", self.deactivate, lambda r: f"`{r['sku']}` {r['name']}")
        section("Held by the shrink guard (not deactivated)", self.held, lambda r: f"`{r['sku']}` {r['name']}")
        if self.notes:
            lines.append("\n**Notes**")
            lines.extend(f"- {n}" for n in self.notes)
        return "\n".join(lines)


def _short(v: Any, n: int = 40) -> str:
    s = str(v)
    return s if len(s) <= n else s[: n - 1] + "…"


def _suffixed(name: str, suffix: str) -> str:
    base = textwrap.shorten(name, NAME_MAX - len(suffix), placeholder="") or name[: NAME_MAX - len(suffix)]
    return base + suffix


def taken_names(others: list[dict], labels: dict[str, str]) -> dict[str, str]:
    """Casefolded names (→ SKU) held by shop products that are not being planned now.

    A product of another group that got `` - <label>`` also blocks its name as written, so a
    sync of one group of a shared shop keeps the suffix a full sync gave (no renaming back and
    forth between the two).
    """
    taken: dict[str, str] = {}
    for k in others:
        taken[k["name"].casefold()] = k["sku"]
        label = labels.get(k.get("group_id", ""))
        if label:
            base = re.sub(rf" - {re.escape(label)}(?: \d+)?$", "", k["name"])
            if base != k["name"]:
                taken.setdefault(base.casefold(), k["sku"])
    return taken


def unique_names(desired: list[dict], labels: dict[str, str], taken: dict[str, str]) -> list[dict]:
    """Names unique within the shop (case-insensitive), stable across runs.

    ``desired`` rows of several groups sharing a shop; ``labels`` group id → what tells the
    groups apart (the village, else the group's name); ``taken`` casefolded name → SKU of
    products already in the shop that are not desired (another tool's, a deactivated one), and
    names the marketplace will not let go (a product with an order keeps its name).
    A name used by more than one product gets `` - <label>`` appended, shortened at a word
    boundary to fit 70 characters. When that name is itself in use (a deactivated product
    kept it, two groups share a label, another row is called that) it is numbered:
    `` - <label> 2``, `` - <label> 3`` … in the rows' order.
    """
    users: dict[str, set[str]] = {}
    for d in desired:
        users.setdefault(d["name"].casefold(), set()).add(d["sku"])
    for name, sku in taken.items():
        users.setdefault(name, set()).add(sku)
    shared = [len(users[d["name"].casefold()]) > 1 for d in desired]
    # Names kept as written are unique and free; suffixed ones must also avoid each other.
    assigned = {d["name"].casefold() for d, s in zip(desired, shared) if not s}
    out = []
    for d, is_shared in zip(desired, shared):
        if is_shared:
            label = labels[d["group_id"]]
            name, n = _suffixed(d["name"], f" - {label}"), 1
            while name.casefold() in assigned or taken.get(name.casefold(), d["sku"]) != d["sku"]:
                n += 1
                name = _suffixed(d["name"], f" - {label} {n}")
            assigned.add(name.casefold())
            d = dict(d, name=name)
        out.append(d)
    return out


def plan_shop(
    shop_id: int,
    desired: list[dict],
    known: list[dict],
    stock: dict[str, int],
    *,
    managed_groups: set[str],
    hold_deactivation: set[str] = frozenset(),
) -> Plan:
    """Plan one shop.

    ``desired``: listings from the catalogues (sku, group_id, name, category_id, price,
    min_order, weight_g, condition, description, pictures). ``known``: what the marketplace
    holds as last confirmed (the same fields plus product_id, stock, status, has_orders).
    ``stock``: the stock to push per desired SKU. Known listings of ``managed_groups`` that
    are no longer desired are deactivated, unless their group is in ``hold_deactivation``.
    """
    plan = Plan(shop_id=shop_id)
    known_by_sku = {k["sku"]: k for k in known}
    desired_skus = set()
    for d in desired:
        sku = d["sku"]
        desired_skus.add(sku)
        k = known_by_sku.get(sku)
        if k is None or k.get("product_id") is None:
            plan.creates.append(dict(d, stock=stock[sku]))
            continue
        base = {"sku": sku, "group_id": d["group_id"], "product_id": k["product_id"]}
        changes = {f: (k.get(f), d[f]) for f in EDIT_FIELDS if not _same(f, k.get(f), d[f])}
        if "name" in changes and k.get("has_orders"):
            plan.notes.append(f"{sku}: the name stays \"{k['name']}\" — it cannot change once the product "
                              f"has an order (catalogue says \"{d['name']}\")")
            del changes["name"]
        if changes:
            plan.edits.append(dict(base, changes=changes))
        if k.get("status") == "INACTIVE":
            plan.reactivate.append(dict(base, name=d["name"]))
        if k.get("price") != d["price"]:
            plan.prices.append(dict(base, old=k.get("price"), new=d["price"]))
        if k.get("stock") != stock[sku]:
            plan.stocks.append(dict(base, old=k.get("stock"), new=stock[sku]))
    for k in known:
        if k["sku"] in desired_skus or k["group_id"] not in managed_groups:
            continue
        if k.get("status") == "ACTIVE" and k.get("product_id") is not None:
            row = {"sku": k["sku"], "group_id": k["group_id"], "product_id": k["product_id"], "name": k["name"]}
            (plan.held if k["group_id"] in hold_deactivation else plan.deactivate).append(row)
    return plan
