"""The project's default category tree.

The sandbox marketplace serves exactly this list from ``GET /v1/categories``, and
``lapak check`` without ``--config`` validates against it. A real marketplace serves its
own list; nothing else in the code relies on these ids.
"""

from __future__ import annotations

import re
import unicodedata

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
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return re.sub(r"[^a-z0-9]+", "", folded)


def _words(text: str) -> set[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()
    return {w for w in re.split(r"[^a-z0-9]+", folded) if len(w) >= 3}


PATH_SEPARATORS = re.compile(r"[>/»›]")
"""What separates the levels of a category written as a path (``Makanan & Minuman > Keripik``)."""
_SUGGESTIONS = 3
_WORD_CUTOFF = 0.8   # "kripik" ~ "keripik"; "kemudi" is not "medis"
_PART_CUTOFF = 0.6

Found = tuple[int | None, str | None, list[str]]


class CategoryIndex:
    """Matches catalogue text to a leaf category: by name, by configured alias, by leaf id (the
    marketplace workbook's ``Kode Kategori``), or by the last level(s) of a path.

    Matching works per distinct text (a catalogue has few), so whole columns map quickly.
    """

    def __init__(self, categories: list[Category], aliases: dict[str, int] | None = None):
        self.categories = {c.id: c for c in categories}
        self.leaves = {c.id: c for c in categories if c.is_leaf}
        self._by_key: dict[str, int] = {category_key(c.name): c.id for c in categories}
        # Codes: a leaf's is a match, a parent's is "too general" like its name.
        self._by_key.update({category_key(str(c.id)): c.id for c in categories})
        for text, cid in (aliases or {}).items():
            self._by_key[category_key(text)] = cid
        self._choices = {category_key(c.name): c.name for c in self.leaves.values()}

    def lookup(self, text: str) -> Found:
        """``(leaf_id, None, [])`` on a match, else ``(None, code, names to suggest)``.

        Codes: ``unknown`` (suggestions are the closest leaves, possibly none), ``not_leaf`` (a
        parent: suggestions are its leaves). A path (``Makanan & Minuman > Makanan Ringan >
        Keripik``, levels split by ``>`` ``/`` ``»`` ``›``) matches on its last level, else its
        last two joined, and so on; when none does, suggestions come from the levels not
        understood, never from the whole string. A code that is no category's suggests nothing.
        """
        key = category_key(text)
        found = self._exact(key)
        if found is not None:
            return found
        parts = [p for p in PATH_SEPARATORS.split(text) if category_key(p)]
        if len(parts) > 1:
            return self._path(parts)
        if key.isdigit():
            return None, "unknown", []
        return None, "unknown", self._closest(key)

    def _exact(self, key: str) -> Found | None:
        cid = self._by_key.get(key)
        if cid is not None and cid in self.leaves:
            return cid, None, []
        if cid is not None and cid in self.categories:
            return None, "not_leaf", self._children(cid)
        return None

    def _children(self, cid: int) -> list[str]:
        return [c.name for c in self.leaves.values() if c.parent_id == cid]

    def _closest(self, key: str) -> list[str]:
        """A leaf named inside the text first ("keripik pisang"), then the most alike (always some)."""
        import difflib

        close = [k for k in self._choices if k in key or key in k][:_SUGGESTIONS]
        for cutoff in (0.5, 0.0):
            close += [k for k in difflib.get_close_matches(key, list(self._choices), n=3, cutoff=cutoff)
                      if k not in close]
            if close:
                break
        return [self._choices[k] for k in close[:_SUGGESTIONS]]

    def _path(self, parts: list[str]) -> Found:
        keys = [category_key(p) for p in parts]
        for n in range(1, len(keys) + 1):
            found = self._exact("".join(keys[-n:]))
            if found is not None:
                return found
        known = [self._by_key[k] for k in keys if k in self._by_key]
        parents = [cid for cid in known if cid in self.categories and cid not in self.leaves]
        pool = [c for c in self.leaves.values() if not parents or c.parent_id == parents[-1]]
        suggestions: list[str] = []
        for part in reversed([p for p, k in zip(parts, keys) if k not in self._by_key]):
            suggestions += [n for n in _near(part, pool) if n not in suggestions]
        suggestions += [self.leaves[cid].name for cid in known if cid in self.leaves
                        and self.leaves[cid].name not in suggestions]
        if not suggestions and parents:
            return None, "not_leaf", self._children(parents[-1])
        return None, "unknown", suggestions[:_SUGGESTIONS]


def _near(text: str, leaves: list[Category]) -> list[str]:
    """Leaves close to ``text``: named inside it or it inside them, alike as a whole, or sharing
    a word (allowing a typo: "Kripik" ~ "Keripik"). Nothing when nothing is close."""
    import difflib

    key, words = category_key(text), _words(text)
    out = []
    for leaf in leaves:
        lkey = category_key(leaf.name)
        if ((len(lkey) >= 3 and lkey in key) or (len(key) >= 4 and key in lkey)
                or difflib.SequenceMatcher(None, key, lkey).ratio() >= _PART_CUTOFF
                or any(difflib.SequenceMatcher(None, w, lw).ratio() >= _WORD_CUTOFF
                       for w in words for lw in _words(leaf.name))):
            out.append(leaf.name)
    return out
