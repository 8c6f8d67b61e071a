"""Sync benchmark: 10,000 listings across 20 groups against the sandbox (no rate limit).

    .venv/bin/python bench/sync.py [--groups 20] [--rows 500] [--changes 100] [--shared-names 10]
                                   [--profile] [--keep DIR]

Generates GROUPS catalogues of ROWS valid rows each (UTF-8 `;` CSVs, Indonesian headers) spread
over the sandbox's three shops (several groups per shop; SHARED_NAMES names per group are also
used by the other groups, so shared shops exercise the unique-name rule), then runs the
`sync-catalogues` flow in this process on a temporary Prefect server (`prefect_test_harness`,
isolated PREFECT_HOME, as tests/conftest.py does):

1. Prefect start-up: the harness's server, then a trivial flow run (cold) and another (warm).
2. First sync: everything is created. Wall time and writes.
3. Unchanged re-sync. Goals: 0 writes (flow summary AND the sandbox's own counters), and at most
   5 s beyond Prefect's own start-up (the re-sync minus the cold trivial flow run; the figure
   minus the warm trivial run is shown too).
4. 1 %-changed re-sync: the price of CHANGES rows, spread over every group, changed in the CSVs.
   Goal: writes = changes exactly (CHANGES price writes, nothing else), in the summary and in the
   sandbox's counters per path; the sandbox then holds the new prices.
5. A final unchanged re-sync (converged: 0 writes). When the time goal was missed or --profile is
   given: the same with the tasks on one worker thread (so stage times are CPU, not GIL waits on a
   2-core machine), then that run under cProfile (the flow's thread and the worker thread, merged).

Each sync also prints where its time went (wall time of the main stages, summed over threads).
Exit status 1 when a correctness goal fails (time goals are reported only).
"""

from __future__ import annotations

import os
import sys
import tempfile

# Before anything imports Prefect: an isolated home, no analytics, quiet logs (tests/conftest.py).
_PREFECT_HOME = tempfile.mkdtemp(prefix="lapak-bench-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)
for _k in [k for k in os.environ if k.startswith("LAPAK_")]:  # a developer's overrides would skew the run
    del os.environ[_k]

import argparse  # noqa: E402
import cProfile  # noqa: E402
import csv  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import logging  # noqa: E402
import pstats  # noqa: E402
import shutil  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scale_world import KINDS, fmt_writes, sandbox_writes  # noqa: E402  (bench/ is this script's folder)
from stages import Stages  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIME_GOAL_S = 5.0
HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1", "Foto 2"]
REGENCIES = ["Wonosobo", "Banyuwangi", "Jember", "Indramayu", "Cilacap", "Kendal", "Blitar", "Tulungagung",
             "Ponorogo", "Lombok Timur"]
WORDS = ["Keripik", "Singkong", "Pisang", "Pedas", "Manis", "Carica", "Batik", "Tulis", "Motif", "Kopi", "Tas",
         "Anyaman", "Pandan", "Masker", "Kain", "Sambal", "Bawang", "Kue", "Nastar", "Sarung", "Gurih", "Renyah"]


# ---- catalogues and config -----------------------------------------------------------------------

def _rupiah(n: int) -> str:
    return "Rp " + f"{n:,}".replace(",", ".")


def make_group_rows(g: int, rows: int, shared: int, leaves: list[str], rng: np.random.Generator) -> list[list[str]]:
    """One group's valid rows: unique names within the group; the first ``shared`` names are the
    same in every group (``Produk Bersama NN``), so groups on one shop collide on them."""
    out = []
    for i in range(rows):
        if i < shared:
            name = f"Produk Bersama {WORDS[i % len(WORDS)]} {i:02d}"
        else:
            name = f"{WORDS[(g + i) % len(WORDS)]} {WORDS[(3 * i + g) % len(WORDS)]} G{g:02d} No {i:04d}"
        price = int(rng.integers(10, 2000)) * 500
        out.append([str(i + 1), name, leaves[int(rng.integers(0, len(leaves)))], _rupiah(price),
                    str(int(rng.integers(0, 300))), f"{int(rng.integers(1, 40)) * 50} gr",
                    f"Produk kelompok {g:02d}, dibuat tangan di desa. Isi {int(rng.integers(1, 20)) * 50} gr.",
                    f"https://img.lapakdesa.example/g{g:02d}/{i}.jpg",
                    f"https://img.lapakdesa.example/g{g:02d}/{i}-b.jpg" if i % 3 == 0 else ""])
    return out


def write_csv(path: Path, rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"Katalog Produk {path.stem};;;;;;;;\n")  # a title row, as groups write them
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADER)
        w.writerows(rows)


def write_config(tmp: Path, sb, groups: list[dict]) -> Path:
    lines = ["[marketplace]", f'api_url = "{sb.api_url}"', f'auth_url = "{sb.auth_url}"', f"fs_id = {sb.fs_id}",
             f'client_id = "{sb.client_id}"', "rate_limit_per_second = 100000", "",
             "[state]", 'url = "sqlite:///state/lapak.db"', "", "[output]", 'dir = "out"', ""]
    for g in groups:
        lines += ["[[groups]]", f'id = "{g["id"]}"', f'name = "{g["name"]}"', f'village = "{g["village"]}"',
                  f'regency = "{g["regency"]}"', f"shop_id = {g['shop_id']}", f'catalogue = "{g["catalogue"]}"', ""]
    path = tmp / "lapak.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# ---- measuring -----------------------------------------------------------------------------------

def instrument(stages: Stages) -> None:
    import flows.engine.intake as intake
    import flows.engine.planning as planning
    import flows.engine.sync as sync
    import flows.sync as flow
    import flows.tasks as tasks
    from connectors.state import StateStore
    from flows.engine.runtime import Runtime

    stages.wrap(intake, "intake_catalogue", "intake: read + normalise (per group)")
    stages.wrap(intake, "write_report", "intake: rejects report xlsx+csv (per group)")
    stages.wrap(intake, "listings_of", "intake: listings frame -> Listing values")
    stages.wrap(sync, "load_categories", "categories (cache / GET)")
    stages.wrap(planning, "snapshot_of", "plan: snapshot fingerprint")
    stages.wrap(planning, "reconcile_known", "plan: read products back from marketplace")
    stages.wrap(planning, "unique_names", "plan: unique_names")
    stages.wrap(planning, "plan_shop", "plan: plan_shop (diff)")
    stages.wrap(tasks, "apply_writes", "apply: marketplace writes + state")
    stages.wrap(flow, "create_table_artifact", "prefect: summary artifact")
    stages.wrap(Runtime, "open", "runtime: load config, open store and channel")
    stages.wrap(StateStore, "__init__", "state: open + alembic migrate")
    for m in ("listings", "last_snapshot", "units_sold", "update_listings", "save_listings", "add_snapshot",
              "upsert_groups", "start_run", "finish_run"):
        stages.wrap(StateStore, m, f"state: {m}")


class ThreadProfiles:
    """cProfile of the flow's thread plus one profile per task call in worker threads, merged
    (meaningful with one worker thread: with several, waits for the GIL count as time)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.profiles: list[cProfile.Profile] = []
        self.active = False

    def wrap_task(self, task) -> None:
        fn = task.fn

        @functools.wraps(fn)
        def profiled(*a, **kw):
            # One profiler per thread: the main thread's profile already sees tasks run inline.
            if not self.active or threading.current_thread() is threading.main_thread():
                return fn(*a, **kw)
            p = cProfile.Profile()
            try:
                return p.runcall(fn, *a, **kw)
            finally:
                with self.lock:
                    self.profiles.append(p)

        task.fn = profiled

    def report(self, main: cProfile.Profile, top: int = 30) -> str:
        out = io.StringIO()
        st = pstats.Stats(main, stream=out)
        for p in self.profiles:
            st.add(p)
        st.sort_stats("cumulative").print_stats(top)
        out.write("\n--- project code only (cumulative) ---\n")
        st.sort_stats("cumulative").print_stats(r"/work/main/(flows|connectors|schemas)/", top)
        out.write("\n--- by own time (tottime) ---\n")
        st.sort_stats("tottime").print_stats(20)
        return out.getvalue()


# ---- the run -------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--groups", type=int, default=20)
    ap.add_argument("--rows", type=int, default=500, help="valid rows per group")
    ap.add_argument("--changes", type=int, default=100, help="prices changed for the 1%% re-sync")
    ap.add_argument("--shared-names", type=int, default=10, help="names per group also used by every other group")
    ap.add_argument("--profile", action="store_true", help="profile the final unchanged re-sync in any case")
    ap.add_argument("--keep", type=Path, help="keep the catalogues, config, state and sandbox data here")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="  [%(levelname)s %(name)s] %(message)s")

    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    import flows.sync as fs
    import flows.tasks as tasks
    from connectors.sandbox import running_sandbox
    from schemas.categories import DEFAULT_CATEGORIES
    from schemas.skus import sku_prefix

    stages = Stages()
    instrument(stages)
    profiles = ThreadProfiles()
    for t in (tasks.intake_group, tasks.plan_shop, tasks.apply_kind):
        profiles.wrap_task(t)

    @flow(name="bench-trivial")
    def trivial() -> int:
        return 1

    tmp = Path(tempfile.mkdtemp(prefix="lapak-bench-sync-"))
    failures: list[str] = []
    figures: list[tuple[str, str, str]] = []  # (what, figure, goal / verdict)
    try:
        with running_sandbox(tmp / "sandbox", rate_limit=None) as sb:
            os.environ["LAPAK_CLIENT_SECRET"] = sb.client_secret  # env only: never in the file
            leaves = [c.name for c in DEFAULT_CATEGORIES if c.is_leaf]
            rng = np.random.default_rng(11)
            groups, rows_by_group = [], {}
            for g in range(args.groups):
                regency = REGENCIES[g % len(REGENCIES)]
                gid = f"bench-{regency.lower().replace(' ', '-')}-{g:02d}"
                groups.append(dict(id=gid, name=f"Kelompok Bench {g:02d}", village=f"Desa Bench {g:02d}",
                                   regency=regency, shop_id=sb.shops[g % len(sb.shops)],
                                   catalogue=f"catalogues/{gid}.csv"))
                rows_by_group[gid] = make_group_rows(g, args.rows, args.shared_names, leaves, rng)
                write_csv(tmp / "catalogues" / f"{gid}.csv", rows_by_group[gid])
            cfg = str(write_config(tmp, sb, groups))
            total = args.groups * args.rows
            per_shop = {s: sum(1 for g in groups if g["shop_id"] == s) for s in sb.shops}
            print(f"{total:,} listings: {args.groups} groups x {args.rows} rows, shops "
                  + ", ".join(f"{s}: {n} groups" for s, n in per_shop.items())
                  + f"; {args.shared_names} names per group shared by all groups; sandbox {sb.url} (no rate limit)")
            print(f"Prefect: temporary server via prefect.testing.utilities.prefect_test_harness, "
                  f"PREFECT_HOME={_PREFECT_HOME}")

            t0 = time.perf_counter()
            with prefect_test_harness(server_startup_timeout=60):
                harness_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                trivial()
                cold_s = time.perf_counter() - t0
                t0 = time.perf_counter()
                trivial()
                warm_s = time.perf_counter() - t0
                figures += [("Prefect: temporary server start", f"{harness_s:.2f} s", ""),
                            ("Prefect: trivial flow run, first (cold)", f"{cold_s:.2f} s", ""),
                            ("Prefect: trivial flow run, second (warm)", f"{warm_s:.2f} s", "")]

                def run_sync(label: str, *, flow_fn=None, profile: bool = False) -> tuple[float, dict, dict, dict]:
                    stages.reset()
                    before = sb.admin.stats()
                    main_prof = cProfile.Profile() if profile else None
                    profiles.profiles.clear()
                    profiles.active = profile
                    t0 = time.perf_counter()
                    if main_prof:
                        main_prof.enable()
                    try:
                        summary = (flow_fn or fs.sync_catalogues)(config_path=cfg)
                    finally:
                        if main_prof:
                            main_prof.disable()
                        profiles.active = False
                    wall = time.perf_counter() - t0
                    sb_writes, deltas = sandbox_writes(before, sb.admin.stats())
                    print(f"\n== {label}: {wall:.2f} s")
                    print(f"   flow summary writes: {fmt_writes(summary['writes'])}; "
                          f"planned {summary['planned_writes']}")
                    print("   sandbox per path (calls/items): " + (", ".join(
                        f"{p} {d['calls']}/{d['items']}" for p, d in sorted(deltas.items())) or "nothing"))
                    print("   where the time went (wall s, summed over threads; calls):")
                    for name, s in sorted(stages.seconds.items(), key=lambda kv: -kv[1]):
                        if s >= 0.005:
                            print(f"     {s:7.3f}  {name} ({stages.calls[name]})")
                    if main_prof:
                        print(f"\n   cProfile of {label} (flow thread + task threads, merged):")
                        print(profiles.report(main_prof))
                    return wall, summary, sb_writes, deltas

                def listed_ok(summary: dict, label: str) -> None:
                    listed = sum(r["listings"] for r in summary["groups"])
                    rejected = sum(r["rejected"] for r in summary["groups"])
                    errors = sum(r["errors"] for r in summary["groups"])
                    if listed != total or rejected or errors or summary["problems"]:
                        failures.append(f"{label}: intake listed {listed}/{total}, rejected {rejected}, "
                                        f"row errors {errors}, problems {summary['problems'][:3]}")

                # 2. first sync
                first_s, s1, w1, _ = run_sync("first sync")
                listed_ok(s1, "first sync")
                expect1 = {k: (total if k == "creates" else 0) for k in KINDS}
                ok1 = s1["writes"] == expect1 and w1 == expect1
                if not ok1:
                    failures.append(f"first sync: expected {total} creates only; summary {s1['writes']}, "
                                    f"sandbox {w1}")
                held = {s: sb.admin.products(s) for s in sb.shops}
                n_held = sum(len(v) for v in held.values())
                dup_names = sum(len(v) - len({p["name"].casefold() for p in v}) for v in held.values())
                renamed = sum(1 for v in held.values() for p in v if " - Desa Bench " in p["name"])
                if n_held != total or dup_names:
                    failures.append(f"first sync: sandbox holds {n_held} products (expected {total}), "
                                    f"{dup_names} duplicate names")
                figures.append((f"First sync ({total:,} creates)",
                                f"{first_s:.2f} s, {total / first_s:,.0f} listings/s",
                                f"writes {fmt_writes(s1['writes'])}; sandbox {fmt_writes(w1)}; "
                                f"{renamed} shared names suffixed with the village — "
                                + ("OK" if ok1 and n_held == total and not dup_names else "FAIL")))

                # 3. unchanged re-sync
                re_s, s2, w2, d2 = run_sync("unchanged re-sync")
                listed_ok(s2, "unchanged re-sync")
                zero2 = sum(s2["writes"].values()) == 0 and s2["planned_writes"] == 0 and sum(w2.values()) == 0
                if not zero2:
                    failures.append(f"unchanged re-sync: expected 0 writes; summary {s2['writes']} "
                                    f"(planned {s2['planned_writes']}), sandbox {w2}")
                beyond_cold, beyond_warm = re_s - cold_s, re_s - warm_s
                time_ok = beyond_cold <= TIME_GOAL_S
                figures += [
                    ("Unchanged re-sync: writes", f"summary {sum(s2['writes'].values())}, sandbox {sum(w2.values())}",
                     "goal 0 — " + ("OK" if zero2 else "FAIL")),
                    ("Unchanged re-sync: wall time (raw)", f"{re_s:.2f} s", ""),
                    ("  minus cold trivial flow run", f"{beyond_cold:.2f} s",
                     f"goal <= {TIME_GOAL_S:g} s — " + ("met" if time_ok else "NOT met")),
                    ("  minus warm trivial flow run", f"{beyond_warm:.2f} s",
                     "(stricter) " + ("<= 5 s" if beyond_warm <= TIME_GOAL_S else "> 5 s")),
                    ("  sandbox reads", ", ".join(f"{p} {d['calls']}" for p, d in sorted(d2.items())) or "none", ""),
                ]

                # 4. 1 %-changed re-sync: CHANGES prices, spread evenly over groups and rows
                changed: dict[str, int] = {}  # sku-less key: (group, name) -> new price
                gids = list(rows_by_group)
                for j in range(args.changes):
                    gid = gids[j % len(gids)]
                    rows = rows_by_group[gid]
                    k = args.shared_names + (j // len(gids)) * 37 % (len(rows) - args.shared_names)
                    row = rows[k]
                    new = int(row[3][3:].replace(".", "")) + 1_000
                    row[3] = _rupiah(new)
                    changed[(gid, row[1])] = new
                for gid in {g for g, _ in changed}:
                    write_csv(tmp / "catalogues" / f"{gid}.csv", rows_by_group[gid])
                n_changes = len(changed)
                ch_s, s3, w3, d3 = run_sync(f"{n_changes / total:.0%}-changed re-sync ({n_changes} prices)")
                listed_ok(s3, "changed re-sync")
                expect3 = {k: (n_changes if k == "prices" else 0) for k in KINDS}
                ok3 = s3["writes"] == expect3 and w3 == expect3 and s3["planned_writes"] == n_changes
                if not ok3:
                    failures.append(f"changed re-sync: expected exactly {n_changes} price writes; summary "
                                    f"{s3['writes']} (planned {s3['planned_writes']}), sandbox {w3}")
                # The sandbox holds the new prices (names may carry a village suffix: match by prefix).
                by_group_name = {}
                for g in groups:
                    for p in sb.admin.products(g["shop_id"]):
                        by_group_name[p["sku"]] = p
                new_prices = {}
                for p in by_group_name.values():
                    for gid, name in changed:
                        if p["sku"].startswith(sku_prefix(gid) + "-") and (
                                p["name"] == name or p["name"].startswith(name + " - ")):
                            new_prices[(gid, name)] = p["price"]
                wrong = {k: (new_prices.get(k), v) for k, v in changed.items() if new_prices.get(k) != v}
                if wrong:
                    failures.append(f"changed re-sync: {len(wrong)} products without the new price, e.g. "
                                    f"{list(wrong.items())[:3]}")
                figures += [
                    (f"{n_changes / total:.0%}-changed re-sync", f"{ch_s:.2f} s",
                     f"summary {fmt_writes(s3['writes'])}; sandbox {fmt_writes(w3)}; goal writes = {n_changes} "
                     f"price writes exactly — " + ("OK" if ok3 and not wrong else "FAIL")),
                    ("  sandbox calls/items per path", ", ".join(
                        f"{p} {d['calls']}/{d['items']}" for p, d in sorted(d3.items())) or "none", ""),
                ]

                # 5. converged: another unchanged run, then (time goal missed or --profile) where its time goes
                fin_s, s4, w4, _ = run_sync("final unchanged re-sync")
                zero4 = sum(s4["writes"].values()) == 0 and sum(w4.values()) == 0
                if not zero4:
                    failures.append(f"final re-sync after the change: expected 0 writes; summary {s4['writes']}, "
                                    f"sandbox {w4}")
                figures.append(("Final unchanged re-sync (converged)", f"{fin_s:.2f} s",
                                f"writes summary {sum(s4['writes'].values())}, sandbox {sum(w4.values())} — "
                                + ("OK" if zero4 else "FAIL") + f"; minus cold trivial run {fin_s - cold_s:.2f} s"))
                if args.profile or not time_ok:
                    # Tasks on one worker thread: per-stage times and the profile are then CPU, not
                    # threads waiting for the GIL on 2 cores.
                    from prefect.task_runners import ThreadPoolTaskRunner

                    serial = fs.sync_catalogues.with_options(task_runner=ThreadPoolTaskRunner(max_workers=1))
                    ser_s, s5, w5, _ = run_sync("unchanged re-sync, tasks on 1 worker thread", flow_fn=serial)
                    prof_s, s6, w6, _ = run_sync("unchanged re-sync, 1 worker thread, under cProfile",
                                                 flow_fn=serial, profile=True)
                    if sum(s5["writes"].values()) + sum(w5.values()) + sum(s6["writes"].values()) + sum(w6.values()):
                        failures.append("serial/profiled unchanged re-syncs wrote something")
                    figures += [("Unchanged re-sync, tasks on 1 worker thread", f"{ser_s:.2f} s", ""),
                                ("  the same under cProfile", f"{prof_s:.2f} s", "(profile printed above)")]
    finally:
        os.environ.pop("LAPAK_CLIENT_SECRET", None)
        if args.keep:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(_PREFECT_HOME, ignore_errors=True)

    print("\n" + "=" * 100)
    print(f"Sync benchmark: {total:,} listings, {args.groups} groups, {len(per_shop)} shops, sandbox without rate "
          "limit; Prefect: prefect_test_harness (temporary server, isolated PREFECT_HOME)")
    width = max(len(f[0]) for f in figures)
    for what, fig, verdict in figures:
        print(f"{what:<{width}}  {fig:<22} {verdict}")
    if args.keep:
        print(f"Files kept in {args.keep}")
    if failures:
        print("\nCORRECTNESS GOALS FAILED:")
        for f in failures:
            print(f"  - {f}")
        return 1
    print("\nCorrectness goals met (0 writes unchanged; writes = changes).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
