"""The stock rule: what a shop should show for a listing, so nothing is oversold.

pushed = recorded − units in non-cancelled orders created after the catalogue was recorded
         − safety buffer, never below 0.

The marketplace decrements stock itself on each sale, so this figure agrees with the
marketplace's own and never exceeds it; a cancel gives units back only through our next push.
"""

from __future__ import annotations

STOCK_UNKNOWN = -1
"""A known listing's ``stock`` once the channel changed it without the pipeline (a cancel)."""


def stock_to_push(recorded: int, sold: int, safety_buffer: int) -> int:
    return max(0, int(recorded) - int(sold) - int(safety_buffer))
