"""The project's default category tree.

The sandbox marketplace serves exactly this list from ``GET /v1/categories``, and
``lapak check`` without ``--config`` validates against it. A real marketplace serves its
own list; nothing else in the code relies on these ids.
"""

from __future__ import annotations

from pydantic import BaseModel


class Category(BaseModel):
    """One node of the marketplace category tree (the contract's ``/v1/categories`` row)."""

    id: int
    name: str
    parent_id: int | None = None
    is_leaf: bool


def _tree() -> list[Category]:
    parents = {
        1: "Makanan & Minuman",
        2: "Tekstil & Fashion",
        3: "Kerajinan Tangan",
        4: "Kesehatan",
    }
    leaves = {
        1: ["Keripik", "Manisan", "Kue Kering", "Sambal", "Kopi Bubuk", "Minuman",
            "Makanan Ringan", "Bumbu Dapur"],
        2: ["Batik Tulis", "Batik Cap", "Sarung", "Selendang", "Pakaian Wanita",
            "Pakaian Pria", "Kain Tenun"],
        3: ["Anyaman", "Tas", "Dekorasi Rumah", "Aksesoris", "Peralatan Dapur"],
        4: ["Masker Kain", "Masker Medis", "Alat Pelindung Diri"],
    }
    tree = [Category(id=pid, name=name, parent_id=None, is_leaf=False) for pid, name in parents.items()]
    for pid, names in leaves.items():
        tree += [Category(id=pid * 100 + i, name=n, parent_id=pid, is_leaf=True)
                 for i, n in enumerate(names, start=1)]
    return tree


DEFAULT_CATEGORIES: list[Category] = _tree()
