"""Time named stages of a run: functions and methods wrapped in place, summed over threads."""

from __future__ import annotations

import functools
import sys
import threading
import time
from collections import defaultdict


class Stages:
    """Wall time and calls per named stage, summed over threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)

    def reset(self) -> None:
        with self.lock:
            self.seconds.clear()
            self.calls.clear()

    def wrap(self, owner, attr: str, label: str) -> None:
        """Time every call of ``owner.attr`` under ``label``."""
        fn = getattr(owner, attr, None)
        if fn is None:  # the code moved on; the breakdown just lacks that line
            print(f"(no {getattr(owner, '__name__', owner)}.{attr} to time)", file=sys.stderr)
            return

        @functools.wraps(fn)
        def timed(*a, **kw):
            t0 = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                with self.lock:
                    self.seconds[label] += time.perf_counter() - t0
                    self.calls[label] += 1

        setattr(owner, attr, timed)

    def show(self) -> None:
        for name, s in sorted(self.seconds.items(), key=lambda kv: -kv[1]):
            print(f"     {s:8.2f} s  {name} ({self.calls[name]} calls)")
