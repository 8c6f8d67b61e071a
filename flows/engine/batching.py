"""Work in batches: a bulk call's rows, a transaction's orders."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")


def batched(items: Iterable[T], n: int) -> Iterator[list[T]]:
    """``items`` in lists of at most ``n``, lazily (``itertools.batched`` from Python 3.12 on)."""
    it = iter(items)
    while batch := list(islice(it, n)):
        yield batch
