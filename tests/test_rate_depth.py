"""The rate limit at the right depth: two worker processes (``lapak sync``, each a Prefect flow run
against the session's Prefect server) write two shops of one app at once, against a sandbox that
allows 5 items per second per endpoint path of the app. Together they keep to it: the shared
limits per app and endpoint are created by the workers from their configuration, the marketplace
refuses nothing, and the two together still use at least 90 % of it.

bench/rate_depth.py runs the same at a larger size and prints the numbers."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
RATE = 5
ROWS = 50  # per worker: 100 rows, so that one refused row is 1 %


def load_bench():
    """bench/rate_depth.py as a module (bench/ is not a package)."""
    if "lapak_bench_rate_depth" in sys.modules:
        return sys.modules["lapak_bench_rate_depth"]
    spec = importlib.util.spec_from_file_location("lapak_bench_rate_depth", ROOT / "bench" / "rate_depth.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_two_workers_writing_two_shops_of_one_app_keep_to_its_limit_together(prefect_server, tmp_path, capsys):
    from prefect.settings import PREFECT_API_URL

    from connectors.sandbox import running_sandbox

    bench = load_bench()
    with running_sandbox(tmp_path / "sandbox", rate_limit=RATE) as market:
        configs = bench.write_configs(tmp_path, market, 2, ROWS, RATE)
        m = bench.run_workers(configs, str(PREFECT_API_URL.value()), market, 2 * ROWS, RATE, timeout=150)
    with capsys.disabled():
        print("\n[rate depth] " + "\n[rate depth] ".join(m.lines()))

    logs = "\n".join(log.read_text(errors="replace") for log in m.logs)
    assert m.exits == [0, 0], logs[-6000:]
    assert m.created == 2 * ROWS
    assert m.http_429 == {}, f"the marketplace answered HTTP 429: {m.http_429}"
    # The goal (at most 1 %) is measured by bench/rate_depth.py on a quiet machine (0 refused). Here
    # the suite's other worker shares the two cores: a process starved for a moment sends a paced
    # call late, next to the other's, and the sandbox may refuse a row or two (seen: 2 of 100).
    # Without the shared limit about half the rows would be refused.
    assert m.row_429_share <= 0.03, f"{m.row_429} of {m.rows} rows refused with ERR_TOO_MANY_REQUEST"
    assert m.items_per_s >= 0.9 * RATE, f"{m.items_per_s:.2f} items/s together: {m.share:.0%} of {RATE}/s"
    # The workers made the shared limits themselves, from their configuration: nothing to set up.
    create = f"marketplace-{market.fs_id}-v3-products-fs-{market.fs_id}-create"
    assert m.limits[create] == (RATE, RATE)
    assert f"marketplace-{market.fs_id}-token" in m.limits
    assert logs.count(f"shared rate limit {create} created") == 1  # by one worker; the other used it
