"""What keeps a notified order pull quick to start (issue 14's goal: stock corrected within 10 s at p95).

Every pull runs in a fresh Python process that imports the order flow before it begins, and
``lapak serve``'s runner picks a run up only when it polls: both are checked here, each in a
process of its own (what a run or ``lapak serve`` really starts from).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "numpy", "pyarrow", "openpyxl", "python_calamine", "PIL", "matplotlib")


def run_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_RUNNER_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                          env={**clean, "PYTHONPATH": str(ROOT), **env})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_the_order_flow_imports_without_the_sheet_and_catalogue_libraries():
    # The run process imports flows.orders (the deployment's entrypoint) before the pull begins;
    # the sheets are written after the stock is corrected, and load these then.
    loaded = json.loads(run_python(
        "import json, sys; import flows.orders; "
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"))
    assert loaded == [], f"importing flows.orders loads {loaded}"


def test_the_sync_tasks_still_map_every_sync_step_to_its_task():
    # The sync's steps join flows.tasks.TASKS on first use; a step never submitted is not there.
    mapped = json.loads(run_python(
        "import json; import flows.tasks as t; before = len(t.TASKS); t._sync_steps(); "
        "from flows.engine.intake import read_group, read_groups; "
        "from flows.engine.planning import plan_shop_work, pull_before_planning; "
        "from flows.engine.apply import apply_writes; "
        "print(json.dumps([before, len(t.TASKS), t.TASKS[read_group].name, t.TASKS[read_groups].name, "
        "t.TASKS[pull_before_planning].name, t.TASKS[plan_shop_work].name, t.TASKS[apply_writes].name]))"))
    assert mapped == [5, 10, "intake-group", "intake-groups", "pull-before-planning", "plan-shop", "apply-writes"]


def test_lapak_serve_polls_every_second_unless_the_operator_set_a_poll():
    code = "from flows.serve import runner_poll_seconds; print(runner_poll_seconds())"
    assert float(run_python(code)) == 1  # Prefect's default would be 10 s
    assert float(run_python(code, PREFECT_RUNNER_POLL_FREQUENCY="4")) == 4
