"""bench/scale.py's last part: the deployments on a process work pool, run by one worker, then two.

``lapak serve --config F --work-pool POOL`` registers the deployments; ``prefect worker start
--pool POOL --type process`` (each worker with its own PREFECT_HOME, polling every 2 s) runs them,
each flow run in a subprocess of its worker. With one worker and then two, the bench runs from
the deployments: an unchanged sync, a sync of CHANGES prices changed, an order pull of
WORKER_ORDERS new orders, and a sync and a pull started together; the changes and orders are on
20 groups (so 20 catalogues are read again and 20 groups' sheets rendered: the in-process runs
measured the 1,000-group costs). It reports, per run, the wait until a worker started it and its
run time (the server's timestamps), and for the pair the time until both were done.

What to expect: a process worker starts every run it is given, without a limit of its own, so
one worker already runs a sync and a pull at once; and both lease the same shops, so they run one
after the other where they overlap. A second worker on the same machine adds no CPU: what it buys
is a second place to run from (a worker on another machine, or one that keeps going when the
other stops).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from scale_world import KINDS, fmt_writes, place_orders, prefect_env, sandbox_writes, stop, tail

POOL = "lapak-scale"
POLL_S = "2"  # PREFECT_WORKER_QUERY_SECONDS: how often a worker asks for runs (default 10)


def _say(lines: list[str], line: str) -> None:
    """A line of the report, printed as it comes too (the runs take minutes)."""
    lines.append(line)
    print(line)


def _client(api: str):
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    class Client:
        def __enter__(self):
            self._settings = temporary_settings({PREFECT_API_URL: api})
            self._settings.__enter__()
            self._client = get_client(sync_client=True)
            return self._client.__enter__()

        def __exit__(self, *exc):
            self._client.__exit__(*exc)
            self._settings.__exit__(*exc)

    return Client()


def _register(bench, api: str, tmp: Path) -> None:
    from prefect.client.schemas.actions import WorkPoolCreate

    with _client(api) as client:
        client.create_work_pool(WorkPoolCreate(name=POOL, type="process"))
    lapak = Path(sys.executable).parent / "lapak"
    env = prefect_env(tmp / "serve-home", api)
    done = subprocess.run([str(lapak), "serve", "--config", str(bench.world.config), "--work-pool", POOL], env=env,
                          capture_output=True, text=True, timeout=300, cwd=tmp)
    if done.returncode != 0:
        raise RuntimeError(f"lapak serve --work-pool failed: {done.stderr[-2000:]}")
    print(f"\n{done.stdout.strip()}")


def _workers(n: int, api: str, tmp: Path, secret: str) -> list[tuple[subprocess.Popen, Path]]:
    out = []
    for i in range(n):
        home = tmp / f"worker-{n}-{i}"
        home.mkdir(parents=True, exist_ok=True)
        env = prefect_env(home, api, LAPAK_CLIENT_SECRET=secret, PREFECT_WORKER_QUERY_SECONDS=POLL_S,
                          PREFECT_LOGGING_LEVEL="INFO")
        log = home / "worker.log"
        with open(log, "wb") as fh:
            proc = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", POOL, "--type",
                                     "process", "--name", f"scale-{n}w-{i + 1}"], env=env, stdout=fh,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=home,
                                    start_new_session=True)
        out.append((proc, log))
    deadline = time.monotonic() + 120
    with _client(api) as client:
        while True:
            # This round's workers by name (the last round's may still show ONLINE for a while).
            online = [w for w in client.read_workers_for_work_pool(POOL)
                      if w.name.startswith(f"scale-{n}w-") and str(w.status).endswith("ONLINE")]
            if len(online) >= n:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{n} workers not online within 120 s: {tail(out[0][1])}")
            time.sleep(1)
    return out


def _start(api: str, deployment: str):
    with _client(api) as client:
        dep = client.read_deployment_by_name(deployment)
        return client.create_flow_run_from_deployment(dep.id).id


def _wait(api: str, ids: list, timeout: float = 1800) -> list:
    deadline = time.monotonic() + timeout
    with _client(api) as client:
        while True:
            runs = [client.read_flow_run(i) for i in ids]
            if all(r.state is not None and r.state.is_final() for r in runs):
                return runs
            if time.monotonic() > deadline:
                raise RuntimeError(f"runs not finished within {timeout:g} s: {[r.state_name for r in runs]}")
            time.sleep(1)


def _timing(run) -> tuple[float, float, float]:
    """Seconds from creation to a worker starting it, its run time, creation to the end."""
    created, start, end = run.created, run.start_time or run.end_time, run.end_time
    return ((start - created).total_seconds(), (end - start).total_seconds(), (end - created).total_seconds())


def _one(bench, api: str, lines: list[str], n_workers: int, label: str, deployment: str,
         expect: dict | None) -> None:
    """Run one deployment and wait for it; its timing and writes become a line of the report."""
    sb = bench.sb
    before = sb.admin.stats()
    (run,) = _wait(api, [_start(api, deployment)])
    writes, _ = sandbox_writes(before, sb.admin.stats())
    q, r, t = _timing(run)
    ok = run.state.is_completed() and (expect is None or all(writes[k] == v for k, v in expect.items()))
    if not ok:
        bench.failures.append(f"{n_workers} worker(s), {label}: {run.state_name} "
                              f"({(run.state.message or '')[:200]}); sandbox {writes}")
    _say(lines, f"  {n_workers} worker(s)  {label:<34} {q:6.1f} s | {r:6.1f} s | {t:6.1f} s   "
                 f"{run.state_name}; writes {fmt_writes(writes)}")


def _together(bench, api: str, lines: list[str], n_workers: int, names: dict[str, str]) -> None:
    """A sync and a pull started at once: each one's timing, and when both were done."""
    sb, n = bench.sb, bench.args.changes
    before = sb.admin.stats()
    t0 = time.perf_counter()
    runs = _wait(api, [_start(api, names["sync"]), _start(api, names["orders"])])
    both = time.perf_counter() - t0
    writes, _ = sandbox_writes(before, sb.admin.stats())
    for label, run in zip(("  sync (with a pull)", "  pull (with a sync)"), runs, strict=True):
        q, r, t = _timing(run)
        _say(lines, f"  {n_workers} worker(s)  {label:<34} {q:6.1f} s | {r:6.1f} s | {t:6.1f} s   {run.state_name}")
        if not run.state.is_completed():
            bench.failures.append(f"{n_workers} worker(s), {label.strip()}: {run.state_name} "
                                  f"({(run.state.message or '')[:200]})")
    _say(lines, f"  {n_workers} worker(s)  {'sync + pull started together':<34} both done in {both:.1f} s; "
                 f"writes {fmt_writes(writes)}")
    if writes != {**dict.fromkeys(KINDS, 0), "prices": n}:
        bench.failures.append(f"{n_workers} worker(s), sync + pull: writes {writes}, expected {n} prices only")


def run_on_pool(bench, api: str, tmp: Path) -> None:
    """Register the deployments on a process pool; run them with one worker, then two; report."""
    from flows.serve import deployment_names

    names = deployment_names()
    _register(bench, api, tmp)
    world, sb, n, k = bench.world, bench.sb, bench.args.changes, bench.args.worker_orders
    # The runs' changes and orders are on 20 groups: those catalogues are read again, their sheets
    # rendered (the in-process phases measured the 1,000-group costs).
    hot = [g["id"] for g in world.groups[:20]]
    lines: list[str] = []
    _say(lines, f"\nWork pool {POOL!r} (process), flow runs in subprocesses of the workers (polling every {POLL_S} s); "
         "times from the server's timestamps: queued → started by a worker | run | total:")
    for n_workers in (1, 2):
        workers = _workers(n_workers, api, tmp, sb.client_secret)
        try:
            _one(bench, api, lines, n_workers, "unchanged sync", names["sync"], dict.fromkeys(KINDS, 0))
            world.change_prices(n, hot)
            _one(bench, api, lines, n_workers, f"{n:,}-price changed sync", names["sync"],
                 {**dict.fromkeys(KINDS, 0), "prices": n})
            place_orders(sb, k, groups=hot, seed=100 + n_workers)
            _one(bench, api, lines, n_workers, f"order pull ({k:,} orders)", names["orders"], dict.fromkeys(KINDS, 0))
            world.change_prices(n, hot)
            place_orders(sb, k, groups=hot, seed=200 + n_workers)
            _together(bench, api, lines, n_workers, names)
        finally:
            for proc, _ in workers:
                stop(proc)
    bench.pool_lines = lines
