"""The sandbox's category tree: Indonesian, three levels, ids decimal strings, ``"0"`` above the roots.

Its 23 leaves are the first marketplace's (``schemas.categories``) under other parents, with
exactly three names differing: ``Keripik & Kerupuk`` (710101, there ``Keripik``),
``Kopi`` (710301, there ``Kopi Bubuk``) and ``Masker Kain & Scuba`` (740101, there
``Masker Kain``). Ids read as ``7RMMLL``: root R, middle level MM, leaf LL.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOT_ID = "0"

_TREE: dict[str, dict[str, list[str]]] = {
    "Kuliner": {
        "Camilan": ["Keripik & Kerupuk", "Manisan", "Kue Kering", "Makanan Ringan"],
        "Bumbu & Bahan Masakan": ["Sambal", "Bumbu Dapur"],
        "Minuman & Kopi": ["Kopi", "Minuman"],
    },
    "Pakaian & Kain": {
        "Kain Tradisional": ["Batik Tulis", "Batik Cap", "Kain Tenun", "Sarung", "Selendang"],
        "Busana": ["Pakaian Wanita", "Pakaian Pria"],
        "Aksesoris Fashion": ["Tas", "Aksesoris"],
    },
    "Rumah & Kerajinan": {
        "Kerajinan": ["Anyaman", "Dekorasi Rumah"],
        "Dapur": ["Peralatan Dapur"],
    },
    "Kesehatan & Keselamatan": {
        "Masker": ["Masker Kain & Scuba", "Masker Medis"],
        "Perlengkapan Keselamatan": ["Alat Pelindung Diri"],
    },
}
"""Root → middle level → leaves."""


@dataclass(frozen=True)
class TikTokCategory:
    id: str
    parent_id: str
    local_name: str
    is_leaf: bool

    def answer(self) -> dict:
        return {"id": self.id, "parent_id": self.parent_id, "local_name": self.local_name,
                "is_leaf": self.is_leaf, "permission_statuses": ["AVAILABLE"]}


def _build() -> list[TikTokCategory]:
    out: list[TikTokCategory] = []
    for r, (root, middles) in enumerate(_TREE.items(), start=1):
        rid = str(700000 + r * 10000)
        out.append(TikTokCategory(rid, ROOT_ID, root, False))
        for m, (middle, leaves) in enumerate(middles.items(), start=1):
            mid = str(int(rid) + m * 100)
            out.append(TikTokCategory(mid, rid, middle, False))
            out += [TikTokCategory(str(int(mid) + i), mid, name, True) for i, name in enumerate(leaves, start=1)]
    return out


CATEGORIES: list[TikTokCategory] = _build()
BY_ID: dict[str, TikTokCategory] = {c.id: c for c in CATEGORIES}
LEAVES: frozenset[str] = frozenset(c.id for c in CATEGORIES if c.is_leaf)
RENAMED: dict[str, str] = {"Keripik": "Keripik & Kerupuk", "Kopi Bubuk": "Kopi", "Masker Kain": "Masker Kain & Scuba"}
"""First marketplace's leaf name → this tree's."""


def chain(category_id: str) -> list[dict]:
    """The category and its ancestors, root first (a product detail's ``category_chains``)."""
    out: list[dict] = []
    cur = BY_ID.get(category_id)
    while cur is not None:
        out.insert(0, cur.answer())
        cur = BY_ID.get(cur.parent_id)
    return out
