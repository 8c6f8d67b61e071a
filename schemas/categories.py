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


def category_key(text: str) -> str:
    """Compare category names ignoring case, spacing, punctuation and accents."""
    import re
    import unicodedata

    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", "", folded)


class CategoryIndex:
    """Matches catalogue text to a leaf category: by name, by configured alias, or by leaf id.

    Matching works per distinct text (a catalogue has few), so whole columns map quickly.
    """

    def __init__(self, categories: list[Category], aliases: dict[str, int] | None = None):
        self.categories = {c.id: c for c in categories}
        self.leaves = {c.id: c for c in categories if c.is_leaf}
        self._by_key: dict[str, int] = {category_key(c.name): c.id for c in categories}
        self._by_key.update({category_key(str(c.id)): c.id for c in self.leaves.values()})
        for text, cid in (aliases or {}).items():
            self._by_key[category_key(text)] = cid
        self._choices = {category_key(c.name): c.name for c in self.leaves.values()}

    def lookup(self, text: str) -> tuple[int | None, str | None, list[str]]:
        """``(leaf_id, None, [])`` on a match, else ``(None, code, names to suggest)``.

        Codes: ``unknown`` (nothing close: suggestions are the closest leaves),
        ``not_leaf`` (a parent: suggestions are its leaves).
        """
        import difflib

        key = category_key(text)
        cid = self._by_key.get(key)
        if cid is not None and cid in self.leaves:
            return cid, None, []
        if cid is not None and cid in self.categories:
            children = [c.name for c in self.leaves.values() if c.parent_id == cid]
            return None, "not_leaf", children
        # A leaf named inside the text first ("keripik pisang"), then the most alike.
        close = [k for k in self._choices if k in key or key in k][:3]
        for cutoff in (0.5, 0.0):
            close += [k for k in difflib.get_close_matches(key, list(self._choices), n=3, cutoff=cutoff)
                      if k not in close]
            if close:
                break
        close = close[:3]
        return None, "unknown", [self._choices[k] for k in close]
