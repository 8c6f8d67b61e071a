"""The rate limit at the right depth: worker processes writing different shops of one app at once.

    .venv/bin/python bench/rate_depth.py [--rows 150] [--rate 5] [--workers 2] [--keep DIR]

The marketplace counts its rate limit per app (``fs_id``) and endpoint path, over all shops. This
starts a sandbox marketplace limited to RATE items/s per path (one app, its shops), a temporary
Prefect server (``prefect_test_harness``, isolated PREFECT_HOME, as tests/conftest.py does) and
WORKERS processes at once, each ``python -m flows.cli sync --config cfg-N`` (``lapak sync``: a
Prefect flow run against that server) with one group of ROWS new listings on a shop of its own.
Each worker paces itself, and takes every grant also from the Prefect global concurrency limit of
the app and endpoint (``flows/limits.py``), created by the first worker that needs it.

Reported, from the sandbox's own counters: HTTP 429 answers, rows refused with
ERR_TOO_MANY_REQUEST (a share of the rows written), and the combined throughput on the create
path over the writing span (the sandbox's counters polled every 0.1 s: the items created after
the first poll that saw any, over the time until the poll that saw them all) against the limit;
and the limits the Prefect server holds. Goals: 0 HTTP 429, at most 1 % of rows refused, at least
90 % of the limit. Exit status 1 when one is missed.

tests/test_rate_depth.py runs the same with two workers of 30 rows each at 5 items/s.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1"]
WORDS = ["Keripik", "Singkong", "Pisang", "Pedas", "Manis", "Carica", "Batik", "Tulis", "Kopi", "Anyaman"]
POLL_S = 0.1
GOAL_SHARE = 0.90  # of the limit, combined
GOAL_ROW_429 = 0.01  # of the rows written


# ---- the world: catalogues and configurations ---------------------------------------------------

def write_catalogue(path: Path, worker: int, rows: int) -> None:
    """ROWS valid rows (a `;` CSV with Indonesian headers and a title row, as groups write them)."""
    from schemas.categories import DEFAULT_CATEGORIES

    leaves = [c.name for c in DEFAULT_CATEGORIES if c.is_leaf]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"Katalog Produk Pekerja {worker};;;;;;;\n")
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADER)
        for i in range(rows):
            name = f"{WORDS[i % len(WORDS)]} {WORDS[(3 * i + worker) % len(WORDS)]} P{worker} No {i:04d}"
            w.writerow([i + 1, name, leaves[(i * 7 + worker) % len(leaves)], f"Rp {(i % 40 + 1) * 2500}",
                        10 + i % 50, f"{(i % 20 + 1) * 50} gr", f"Produk pekerja {worker}, dibuat di desa.",
                        f"https://img.lapakdesa.example/p{worker}/{i}.jpg"])


def write_configs(root: Path, market, workers: int, rows: int, rate: float) -> list[Path]:
    """One folder per worker: its lapak.toml (the sandbox's app, RATE items/s, its own state
    store) and one group of ROWS listings on shop N of the sandbox."""
    configs = []
    for n in range(workers):
        work = root / f"worker-{n}"
        write_catalogue(work / "catalogues" / "katalog.csv", n, rows)
        cfg = work / "lapak.toml"
        cfg.write_text("\n".join([
            "[marketplace]", f'api_url = "{market.api_url}"', f'auth_url = "{market.auth_url}"',
            f"fs_id = {market.fs_id}", f'client_id = "{market.client_id}"', f"rate_limit_per_second = {rate:g}", "",
            "[state]", 'url = "sqlite:///var/lapak.db"', "", "[output]", 'dir = "out"', "",
            "[[groups]]", f'id = "pekerja-{n}"', f'name = "Kelompok Pekerja {n}"', f'village = "Desa {n}"',
            'regency = "Wonosobo"', f"shop_id = {market.shops[n]}", 'catalogue = "catalogues/katalog.csv"', ""]),
            encoding="utf-8")
        configs.append(cfg)
    return configs


# ---- running the workers and measuring ----------------------------------------------------------

@dataclass
class Measure:
    """What the sandbox counted while the workers ran."""

    rows: int
    rate: float
    exits: list[int] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)
    http_429: dict[str, int] = field(default_factory=dict)  # path -> answers
    row_429: int = 0
    created: int = 0
    items_per_s: float = 0.0
    span_s: float = 0.0
    wall_s: float = 0.0
    limits: dict[str, tuple[int, float]] = field(default_factory=dict)  # name -> (limit, decay)

    @property
    def row_429_share(self) -> float:
        return self.row_429 / max(1, self.rows)

    @property
    def share(self) -> float:
        return self.items_per_s / self.rate

    def missed(self) -> list[str]:
        out = []
        if any(self.exits):
            out.append(f"a worker failed (exit {self.exits})")
        if self.created != self.rows:
            out.append(f"{self.created} of {self.rows} rows created")
        if self.http_429:
            out.append(f"HTTP 429 answered: {self.http_429}")
        if self.row_429_share > GOAL_ROW_429:
            out.append(f"{self.row_429} rows refused ({self.row_429_share:.1%} > {GOAL_ROW_429:.0%})")
        if self.share < GOAL_SHARE:
            out.append(f"{self.items_per_s:.2f} items/s is {self.share:.0%} of {self.rate:g} (< {GOAL_SHARE:.0%})")
        return out

    def lines(self) -> list[str]:
        return [f"{len(self.exits)} workers, {self.rows} rows, limit {self.rate:g} items/s per path of the app",
                f"HTTP 429: {sum(self.http_429.values())}; rows refused (ERR_TOO_MANY_REQUEST): {self.row_429} "
                f"({self.row_429_share:.2%})",
                f"created {self.created} in {self.span_s:.1f} s of writing: {self.items_per_s:.2f} items/s combined, "
                f"{self.share:.0%} of the limit (wall {self.wall_s:.1f} s)",
                "shared limits: " + ", ".join(f"{n} ({lim}, {d:g}/s)" for n, (lim, d) in sorted(self.limits.items()))]


def worker_env(api_url: str, market, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "LAPAK_"))}
    env.update(PREFECT_API_URL=api_url, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false",
               PREFECT_LOGGING_LEVEL="INFO", LAPAK_CLIENT_SECRET=market.client_secret, PYTHONPATH=str(ROOT),
               PYTHONUNBUFFERED="1")
    return env


def clear_limits(client, prefix: str) -> None:
    """Delete the shared limits of an app (left by earlier runs on the same server)."""
    for lim in client.read_global_concurrency_limits(limit=200):
        if lim.name.startswith(prefix):
            client.delete_global_concurrency_limit_by_name(lim.name)


def run_workers(configs: list[Path], api_url: str, market, rows: int, rate: float,
                timeout: float = 300) -> Measure:
    """Start one ``lapak sync`` per config at once; poll the sandbox until all have ended."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    create = f"/v3/products/fs/{market.fs_id}/create"
    prefix = f"marketplace-{market.fs_id}-"
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        clear_limits(client, prefix)
    m = Measure(rows=rows, rate=rate)
    procs = []
    start = time.monotonic()
    for cfg in configs:
        log = cfg.parent / "worker.log"
        m.logs.append(log)
        with open(log, "wb") as out:
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "flows.cli", "sync", "--config", str(cfg)],
                env=worker_env(api_url, market, cfg.parent / "prefect-home"), cwd=cfg.parent,
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    try:
        while any(p.poll() is None for p in procs):
            if time.monotonic() - start > timeout:
                raise TimeoutError(f"workers still running after {timeout:g} s")
            done = _created(market.admin.stats(), create)
            now = time.monotonic()
            if done and first is None:
                first = (now, done)
            if last is None or done > last[1]:
                last = (now, done)
            time.sleep(POLL_S)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            m.exits.append(p.wait())
    m.wall_s = time.monotonic() - start
    stats = market.admin.stats()
    m.http_429 = {path: c["http_429"] for path, c in stats["paths"].items() if c["http_429"]}
    m.row_429 = sum(c["row_429"] for c in stats["paths"].values())
    m.created = _created(stats, create)
    if first and last and last[0] > first[0]:
        # Poll times: the first batch is left out of the count and of the time alike.
        m.span_s = last[0] - first[0]
        m.items_per_s = (last[1] - first[1]) / m.span_s
    with temporary_settings({PREFECT_API_URL: api_url}), get_client(sync_client=True) as client:
        m.limits = {lim.name: (lim.limit, lim.slot_decay_per_second)
                    for lim in client.read_global_concurrency_limits(limit=200) if lim.name.startswith(prefix)}
    return m


def _created(stats: dict, path: str) -> int:
    c = stats["paths"].get(path, {})
    return c.get("items", 0) - c.get("row_429", 0)


# ---- the benchmark ------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=150, help="new listings per worker (default 150)")
    ap.add_argument("--rate", type=float, default=5, help="items/s per path, sandbox and configuration (default 5)")
    ap.add_argument("--workers", type=int, default=2, help="worker processes, one shop each (default 2, at most 3)")
    ap.add_argument("--keep", type=Path, help="keep the working folder here (configs, logs, sandbox)")
    args = ap.parse_args(argv)

    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="lapak-bench-prefect-home-")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    os.environ.pop("PREFECT_API_URL", None)
    sys.path.insert(0, str(ROOT))
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    from connectors.sandbox import running_sandbox

    root = args.keep or Path(tempfile.mkdtemp(prefix="lapak-bench-rate-depth-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        with prefect_test_harness(server_startup_timeout=60), \
                running_sandbox(root / "sandbox", rate_limit=args.rate) as market:
            configs = write_configs(root, market, args.workers, args.rows, args.rate)
            m = run_workers(configs, str(PREFECT_API_URL.value()), market, args.rows * args.workers, args.rate,
                            timeout=max(300.0, 3 * args.rows * args.workers / args.rate))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print("\n".join(m.lines()))
    missed = m.missed()
    for line in missed:
        print("MISSED:", line)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
