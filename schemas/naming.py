"""Names within a shop: unique (case-insensitive), within the length rule, stable across runs.

Several groups may share one shop and sell products of the same name; the marketplace refuses a
second product with a name already in use. A shared name gets `` - <label>`` (the group's village,
else its name) appended, the same every run.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from dataclasses import replace

from schemas.listing import NAME_MAX, KnownListing, Listing


def _suffixed(name: str, suffix: str) -> str:
    base = textwrap.shorten(name, NAME_MAX - len(suffix), placeholder="") or name[: NAME_MAX - len(suffix)]
    return base + suffix


def taken_names(others: Iterable[KnownListing], labels: Mapping[str, str]) -> dict[str, str]:
    """Casefolded names (→ SKU) held by shop products that are not being planned now.

    A product of another group that got `` - <label>`` also blocks its name as written, so a
    sync of one group of a shared shop keeps the suffix a full sync gave (no renaming back and
    forth between the two).
    """
    taken: dict[str, str] = {}
    for k in others:
        taken[k.name.casefold()] = k.sku
        label = labels.get(k.group_id, "")
        if label:
            base = re.sub(rf" - {re.escape(label)}(?: \d+)?$", "", k.name)
            if base != k.name:
                taken.setdefault(base.casefold(), k.sku)
    return taken


def unique_names(desired: list[Listing], labels: Mapping[str, str], taken: Mapping[str, str]) -> list[Listing]:
    """``desired`` with names unique within the shop (case-insensitive), stable across runs.

    ``desired`` are listings of several groups sharing a shop; ``labels`` group id → what tells
    the groups apart (the village, else the group's name); ``taken`` casefolded name → SKU of
    products already in the shop that are not desired (another tool's, a deactivated one), and
    names the marketplace will not let go (a product with an order keeps its name).
    A name used by more than one product gets `` - <label>`` appended, shortened at a word
    boundary to fit 70 characters. When that name is itself in use (a deactivated product
    kept it, two groups share a label, another row is called that) it is numbered:
    `` - <label> 2``, `` - <label> 3`` … in the rows' order.
    """
    users: dict[str, set[str]] = {}
    for d in desired:
        users.setdefault(d.name.casefold(), set()).add(d.sku)
    for name, sku in taken.items():
        users.setdefault(name, set()).add(sku)
    shared = [len(users[d.name.casefold()]) > 1 for d in desired]
    # Names kept as written are unique and free; suffixed ones must also avoid each other.
    assigned = {d.name.casefold() for d, s in zip(desired, shared) if not s}
    out = []
    for d, is_shared in zip(desired, shared):
        if is_shared:
            label = labels[d.group_id]
            name, n = _suffixed(d.name, f" - {label}"), 1
            while name.casefold() in assigned or taken.get(name.casefold(), d.sku) != d.sku:
                n += 1
                name = _suffixed(d.name, f" - {label} {n}")
            assigned.add(name.casefold())
            d = replace(d, name=name)
        out.append(d)
    return out
