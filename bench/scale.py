"""Scale benchmark: 1,000 groups × 100 products (100,000 listings) on 10 shops, PostgreSQL state.

    .venv/bin/python bench/scale.py [--groups 1000] [--rows 100] [--shops 10] [--changes 1000]
                                    [--orders 20000] [--state-url URL] [--render-sample 20]
                                    [--no-workers] [--profile] [--keep DIR] [--only orders]

Generates GROUPS catalogues of ROWS valid rows (UTF-8 `;` CSVs, as bench/sync.py) spread over
SHOPS shops of the sandbox marketplace (no rate limit); the state store is a fresh PostgreSQL
database ``lapak_scale_<pid>`` created on the server of --state-url (default
$LAPAK_TEST_POSTGRES_URL, else postgresql://postgres@127.0.0.1:5432/test) and dropped at the end;
Prefect is a real ``prefect server start`` with its own home (analytics off). The flows run in
this process, as a runner runs them:

1. First sync: every listing created.
2. Unchanged re-sync. Goals: 0 writes; ≤ 60 s; peak memory ≤ 1.5 GiB.
3. 1%-changed re-sync: CHANGES prices changed, spread over every group. Goal: writes = changes.
4. Unchanged re-sync again (converged: 0 writes).
5. Unless --no-workers: the same runs from deployments on a process work pool (``lapak serve
   --work-pool``), with one ``prefect worker start`` and then two (bench/scale_workers.py); their
   pulls' orders are on 20 groups (a pull rewrites the sheets of every group with orders in the
   months it touched, so this runs before the big pull).
6. Order pull of ORDERS orders (placed through the sandbox's bulk admin route, created within
   the last 5 minutes): every order stored once, stock corrected. Goal: ≥ 500 orders/s, measured
   without rendering the order sheets and pictures (issue 14's decision: the pull's sheet step
   records what it would render and renders nothing); the rendering is then measured on its own
   for RENDER_SAMPLE changed group-months (the seconds per group-month, and what all of them
   would take).

Each in-process phase reports wall time, peak memory of this process (VmHWM, reset per phase),
state-store statements (a ``before_cursor_execute`` listener on every state store's engine),
writes per kind (the flow's summary and the sandbox's own counters) and where the time went
(wall time of the main stages, summed over threads). --profile adds a cProfile of an unchanged
re-sync run by the engine alone in one thread (no Prefect). Exit status 1 when a correctness goal
fails (writes = changes, orders stored); time and memory goals are reported only.
"""

from __future__ import annotations

import os
import sys
import tempfile

from scale_world import free_port  # bench/ is this script's folder

# Before anything imports Prefect: an isolated home, no analytics, this bench's own server.
_POSTGRES = os.environ.get("LAPAK_TEST_POSTGRES_URL") or "postgresql://postgres@127.0.0.1:5432/test"
_PREFECT_HOME = tempfile.mkdtemp(prefix="lapak-scale-prefect-home-")
_PORT = free_port()
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_API_URL"] = f"http://127.0.0.1:{_PORT}/api"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
for _k in [k for k in os.environ if k.startswith("LAPAK_")]:  # a developer's overrides would skew the run
    del os.environ[_k]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from pathlib import Path  # noqa: E402

from scale_stages import instrument  # noqa: E402
from scale_world import (  # noqa: E402
    KINDS,
    GiB,
    PeakMemory,
    Queries,
    World,
    cpu_seconds,
    fmt_writes,
    fresh_database,
    gib,
    make_world,
    place_orders,
    prefect_server,
    sandbox_writes,
)
from stages import Stages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

UNCHANGED_GOAL_S = 60.0
MEMORY_GOAL = int(1.5 * GiB)
ORDERS_GOAL = 500.0  # orders per second, without sheet rendering


@dataclass
class Phase:
    """One measured run."""

    label: str
    wall: float = 0.0
    peak: int = 0
    queries: str = ""
    summary: dict = field(default_factory=dict)
    sandbox: dict = field(default_factory=dict)
    deltas: dict = field(default_factory=dict)
    verdict: str = ""
    load: str = ""  # the machine's load average at the end (other work skews the figures)
    cpu: str = ""  # CPU seconds used by this process (the flow) and by the sandbox during the run


class Bench:
    """The runs, their measurements and the goals they met."""

    def __init__(self, args, sb, world: World) -> None:
        self.args, self.sb, self.world = args, sb, world
        self.stages, self.memory, self.queries = Stages(), PeakMemory(), Queries()
        self.queries.attach()
        instrument(self.stages)
        self.phases: list[Phase] = []
        self.failures: list[str] = []

    def measure(self, label: str, run) -> Phase:
        """Run ``run()`` (a flow call), measured."""
        self.stages.reset()
        self.queries.reset()
        before = self.sb.admin.stats()
        self.memory.reset()
        sandbox = self.sb._proc.pid if self.sb._proc else None
        cpu0, sb0 = cpu_seconds(), cpu_seconds(sandbox)
        t0 = time.perf_counter()
        try:
            summary = run()
        except Exception as err:  # a failed run is a finding, not the end of the bench
            summary = getattr(err, "summary", None) or {}
            self.failures.append(f"{label}: the run failed: {type(err).__name__}: {str(err)[:300]}")
        phase = Phase(label, wall=time.perf_counter() - t0, peak=self.memory.peak(), queries=self.queries.line(),
                      summary=summary or {}, load="/".join(f"{x:.1f}" for x in os.getloadavg()),
                      cpu=f"{cpu_seconds() - cpu0:.0f}+{cpu_seconds(sandbox) - sb0:.0f}")
        phase.sandbox, phase.deltas = sandbox_writes(before, self.sb.admin.stats())
        self.phases.append(phase)
        print(f"\n== {label}: {phase.wall:.2f} s, peak {gib(phase.peak)}, state-store statements {phase.queries}; "
              f"CPU s flow+sandbox {phase.cpu}; load average (1/5/15 min) {phase.load}")
        if "writes" in phase.summary:
            print(f"   flow summary writes: {fmt_writes(phase.summary['writes'])}; "
                  f"planned {phase.summary.get('planned_writes')}")
        print("   sandbox per path (calls/items): " + (", ".join(
            f"{p} {d['calls']}/{d['items']}" for p, d in sorted(phase.deltas.items())) or "nothing"))
        print("   where the time went (wall s, summed over threads; calls):")
        for name, s in sorted(self.stages.seconds.items(), key=lambda kv: -kv[1]):
            if s >= 0.01:
                print(f"     {s:8.3f}  {name} ({self.stages.calls[name]})")
        return phase

    # ---- syncs -----------------------------------------------------------------------------------

    def sync(self, label: str) -> Phase:
        import flows.sync as fs

        return self.measure(label, lambda: fs.sync_catalogues(config_path=str(self.world.config)))

    def check_listed(self, phase: Phase) -> bool:
        rows = phase.summary.get("groups", [])
        listed = sum(r["listings"] for r in rows)
        bad = sum(r["rejected"] + r["errors"] for r in rows)
        if listed != self.world.total or bad or phase.summary.get("problems"):
            self.failures.append(f"{phase.label}: listed {listed}/{self.world.total}, rejected or errors {bad}, "
                                 f"problems {phase.summary.get('problems', [])[:3]}")
            return False
        return True

    def expect_writes(self, phase: Phase, expected: dict[str, int]) -> bool:
        want = {k: expected.get(k, 0) for k in KINDS}
        ok = phase.summary.get("writes") == want and phase.sandbox == want
        if not ok:
            self.failures.append(f"{phase.label}: expected writes {fmt_writes(want)}; summary "
                                 f"{phase.summary.get('writes')}, sandbox {phase.sandbox}")
        return ok

    def first_sync(self) -> None:
        total = self.world.total
        first = self.sync(f"first sync ({total:,} creates)")
        ok = self.check_listed(first) & self.expect_writes(first, {"creates": total})
        first.verdict = f"{total / first.wall:,.0f} listings/s; writes = {total:,} creates — {'OK' if ok else 'FAIL'}"

    def run_syncs(self) -> None:
        total = self.world.total
        self.first_sync()
        same = self.sync("unchanged re-sync")
        ok = self.check_listed(same) & self.expect_writes(same, {})
        same.verdict = (f"writes 0 — {'OK' if ok else 'FAIL'}; goal ≤ {UNCHANGED_GOAL_S:g} s "
                        f"{'met' if same.wall <= UNCHANGED_GOAL_S else 'NOT met'}; "
                        f"≤ {gib(MEMORY_GOAL)} {'met' if same.peak <= MEMORY_GOAL else 'NOT met'}")

        changed = self.world.change_prices(self.args.changes)
        n = len(changed)
        ch = self.sync(f"{n / total:.0%}-changed re-sync ({n:,} prices)")
        ok = self.check_listed(ch) & self.expect_writes(ch, {"prices": n})
        held = {}
        for shop in self.sb.shops:
            for p in self.sb.admin.products(shop):
                held[p["name"]] = p["price"]
        wrong = [(k, v) for k, v in changed.items() if held.get(k[1]) != v]  # changed names are the group's own
        if wrong:
            self.failures.append(f"{ch.label}: {len(wrong)} products without their new price, e.g. {wrong[:3]}")
        ch.verdict = f"writes = {n:,} price writes — " + ("OK" if ok and not wrong else "FAIL")

        again = self.sync("unchanged re-sync (converged)")
        ok = self.expect_writes(again, {})
        again.verdict = "writes 0 — " + ("OK" if ok else "FAIL")

    # ---- the order pull --------------------------------------------------------------------------

    def order_pull(self) -> None:
        import flows.engine.order_sheets as order_sheets
        from flows.orders import pull_orders

        t0 = time.perf_counter()
        placed = place_orders(self.sb, self.args.orders)
        print(f"\n{placed:,} orders placed through the sandbox's bulk admin route in {time.perf_counter() - t0:.1f} s")
        months: set[str] = set()
        real = order_sheets.write_order_sheets

        def not_rendered(rt, wanted=None):  # the pull's sheet step without its rendering (issue 14)
            months.update(wanted or ())
            return []

        order_sheets.write_order_sheets = not_rendered
        try:
            phase = self.measure(f"order pull ({placed:,} orders, sheets not rendered)",
                                 lambda: pull_orders(config_path=str(self.world.config)))
        finally:
            order_sheets.write_order_sheets = real
        totals = phase.summary.get("totals", {})
        stored = totals.get("orders_new", 0)
        rate = stored / phase.wall if phase.wall else 0
        ok = stored == placed and not phase.summary.get("errors")
        if not ok:
            self.failures.append(f"{phase.label}: {stored} new orders stored of {placed}; errors "
                                 f"{phase.summary.get('errors')}")
        met = "met" if rate >= ORDERS_GOAL else "NOT met"
        phase.verdict = (f"{rate:,.0f} orders/s (goal ≥ {ORDERS_GOAL:g}: {met}); "
                         f"stored {stored:,}/{placed:,} — {'OK' if ok else 'FAIL'}; stock pushed "
                         f"{totals.get('stock_pushed', 0)}")
        self.render(sorted(months))

    def render(self, months: list[str]) -> None:
        """The sheets the pull did not render, measured on their own for a sample of group-months."""
        import pandas as pd

        from flows.engine import order_sheets
        from flows.engine.runtime import open_run
        from schemas.dates import WIB

        with open_run(str(self.world.config)) as rt:
            t0 = time.perf_counter()
            lines = order_sheets._lines(rt, months)
            read_s = time.perf_counter() - t0
            targets = sorted(set(zip(lines["group"], lines["month"], strict=True)))
            sample = targets[:: max(1, len(targets) // self.args.render_sample)][: self.args.render_sample]
            now = pd.Timestamp.now(tz=WIB).to_pydatetime()
            t0 = time.perf_counter()
            for group, month in sample:
                part = lines[(lines["group"] == group) & (lines["month"] == month)]
                order_sheets._write_month(rt, group, month, part, now)
            each = (time.perf_counter() - t0) / max(1, len(sample))
        per = each + read_s / max(1, len(targets))
        self.phases.append(Phase(
            f"sheet rendering ({len(sample)} of {len(targets):,} changed group-months)", wall=per * len(sample),
            verdict=f"{per:.3f} s per group-month (workbook + CSV + picture; reading every line: {read_s:.1f} s "
                    f"once); all {len(targets):,} would take ~{per * len(targets):,.0f} s"))
        print(f"\n== rendering: {self.phases[-1].verdict}")

    # ---- a profile of the engine alone -------------------------------------------------------------

    def profile(self) -> None:
        from flows.engine.planning import SyncOptions
        from flows.engine.runtime import open_run
        from flows.engine.steps import Inline
        from flows.engine.sync import run_sync

        prof = cProfile.Profile()
        with open_run(str(self.world.config)) as rt:
            t0 = time.perf_counter()
            prof.runcall(run_sync, rt, SyncOptions(), Inline(rt))
            wall = time.perf_counter() - t0
        out = io.StringIO()
        st = pstats.Stats(prof, stream=out)
        st.sort_stats("cumulative").print_stats(r"/work/main/(flows|connectors|schemas)/", 40)
        out.write("\n--- by own time (tottime) ---\n")
        st.sort_stats("tottime").print_stats(25)
        print(f"\n== unchanged re-sync by the engine alone, one thread, no Prefect, under cProfile: {wall:.2f} s")
        print(out.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=1000)
    ap.add_argument("--rows", type=int, default=100, help="valid rows per group")
    ap.add_argument("--shops", type=int, default=10)
    ap.add_argument("--changes", type=int, default=None, help="prices changed for the 1%% re-sync (default 1%%)")
    ap.add_argument("--shared-names", type=int, default=10, help="names per group also used by every other group")
    ap.add_argument("--orders", type=int, default=20_000)
    ap.add_argument("--render-sample", type=int, default=20, help="group-months rendered to time the sheets")
    ap.add_argument("--state-url", default=_POSTGRES, help="PostgreSQL server (a fresh database is made on it)")
    ap.add_argument("--no-workers", action="store_true", help="skip the work-pool runs")
    ap.add_argument("--worker-orders", type=int, default=2_000, help="orders per pull in the work-pool runs")
    ap.add_argument("--profile", action="store_true", help="profile an unchanged re-sync (engine alone)")
    ap.add_argument("--keep", type=Path, help="keep the catalogues, config and outputs here")
    ap.add_argument("--only", choices=("orders",),
                    help="orders: only the first sync (the listings ordered) and the order pull")
    args = ap.parse_args(argv)
    args.changes = args.changes if args.changes is not None else max(1, args.groups * args.rows // 100)
    sys.stdout.reconfigure(line_buffering=True)
    logging.basicConfig(level=logging.WARNING, format="  [%(levelname)s %(name)s] %(message)s")

    from connectors.sandbox import running_sandbox

    tmp = Path(tempfile.mkdtemp(prefix="lapak-bench-scale-"))
    shops = tuple(900_001 + i for i in range(args.shops))
    bench = None
    try:
        with fresh_database(args.state_url) as db, prefect_server(tmp / "prefect-server", _PORT) as api, \
                running_sandbox(tmp / "sandbox", rate_limit=None, shops=shops) as sb:
            os.environ["LAPAK_CLIENT_SECRET"] = sb.client_secret  # env only: never in the file
            t0 = time.perf_counter()
            world = make_world(tmp, sb, db.render_as_string(hide_password=False), args.groups, args.rows,
                               args.shared_names)
            print(f"{world.total:,} listings: {args.groups} groups × {args.rows} rows on {args.shops} shops "
                  f"({args.groups // args.shops} groups each), generated in {time.perf_counter() - t0:.1f} s; "
                  f"state {db.render_as_string(hide_password=True)}; sandbox {sb.url} (no rate limit); "
                  f"Prefect server {api} (PREFECT_HOME {_PREFECT_HOME})")
            bench = Bench(args, sb, world)
            if args.only == "orders":  # the world the pull needs (every listing created), then the pull
                bench.first_sync()
            else:
                bench.run_syncs()
                if args.profile:
                    bench.profile()
                if not args.no_workers:  # before the big pull: its orders would put every group's sheets in runs
                    from scale_workers import run_on_pool

                    run_on_pool(bench, api, tmp)
            bench.order_pull()
    finally:
        os.environ.pop("LAPAK_CLIENT_SECRET", None)
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(_PREFECT_HOME, ignore_errors=True)
    return report(bench, args)


def report(bench: Bench | None, args) -> int:
    if bench is None:
        return 1
    print("\n" + "=" * 110)
    print(f"Scale benchmark: {bench.world.total:,} listings ({args.groups} groups × {args.rows}) on {args.shops} "
          f"shops; PostgreSQL state; sandbox without rate limit; a real Prefect server. Memory: {bench.memory.how}.")
    width = max(len(p.label) for p in bench.phases)
    print(f"CPU: seconds used during the run by this process (the flow and its tasks) + the sandbox process. "
          f"Load: the machine's load average (1/5/15 min) at the end of the run ({os.cpu_count()} cores).")
    print(f"{'phase':<{width}}  {'wall':>8}  {'peak':>9}  {'CPU':>9}  {'load':>14}  state-store statements / verdict")
    for p in bench.phases:
        peak = gib(p.peak) if p.peak else ""
        print(f"{p.label:<{width}}  {p.wall:7.1f}s  {peak:>9}  {p.cpu:>9}  {p.load:>14}  {p.queries}")
        if p.verdict:
            print(f"{'':<{width}}  {'':>8}  {'':>9}  {'':>9}  {'':>14}  {p.verdict}")
    for line in getattr(bench, "pool_lines", []):
        print(line)
    if bench.failures:
        print("\nCORRECTNESS GOALS FAILED:")
        for f in bench.failures:
            print(f"  - {f}")
        return 1
    print("\nCorrectness goals met (0 writes unchanged; writes = changes; every order stored once).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
