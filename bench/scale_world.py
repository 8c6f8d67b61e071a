"""What bench/scale.py runs against and measures with: the catalogues, a fresh PostgreSQL database,
a real ``prefect server start``, and the counters (peak memory, state-store queries, writes).

Imported by bench/scale.py after it has set Prefect's environment; nothing here imports Prefect.
"""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import requests

from schemas.dates import WIB

HEADER = ["No", "Nama Produk", "Kategori", "Harga", "Stok", "Berat", "Deskripsi", "Foto 1", "Foto 2"]
REGENCIES = ["Wonosobo", "Banyuwangi", "Jember", "Indramayu", "Cilacap", "Kendal", "Blitar", "Tulungagung",
             "Ponorogo", "Lombok Timur"]
WORDS = ["Keripik", "Singkong", "Pisang", "Pedas", "Manis", "Carica", "Batik", "Tulis", "Motif", "Kopi", "Tas",
         "Anyaman", "Pandan", "Masker", "Kain", "Sambal", "Bawang", "Kue", "Nastar", "Sarung", "Gurih", "Renyah"]
WRITE_PATHS = {"/create": "creates", "/edit": "edits", "/price/update": "prices", "/stock/update": "stocks",
               "/active": "reactivate", "/inactive": "deactivate"}
KINDS = ("creates", "edits", "reactivate", "prices", "stocks", "deactivate")
GiB = 1024 ** 3


# ---- catalogues and config (as bench/sync.py makes them, for more groups and shops) ---------------

def rupiah(n: int) -> str:
    return "Rp " + f"{n:,}".replace(",", ".")


def price_of(cell: str) -> int:
    return int(cell[3:].replace(".", ""))


def group_rows(g: int, rows: int, shared: int, leaves: list[str], rng: np.random.Generator) -> list[list[str]]:
    """One group's valid rows; the first ``shared`` names are every group's (a shop's groups collide on them)."""
    out = []
    for i in range(rows):
        if i < shared:
            name = f"Produk Bersama {WORDS[i % len(WORDS)]} {i:02d}"
        else:
            name = f"{WORDS[(g + i) % len(WORDS)]} {WORDS[(3 * i + g) % len(WORDS)]} G{g:04d} No {i:04d}"
        out.append([str(i + 1), name, leaves[int(rng.integers(0, len(leaves)))],
                    rupiah(int(rng.integers(10, 2000)) * 500), str(int(rng.integers(20, 300))),
                    f"{int(rng.integers(1, 40)) * 50} gr",
                    f"Produk kelompok {g:04d}, dibuat tangan di desa. Isi {int(rng.integers(1, 20)) * 50} gr.",
                    f"https://img.lapakdesa.example/g{g:04d}/{i}.jpg",
                    f"https://img.lapakdesa.example/g{g:04d}/{i}-b.jpg" if i % 3 == 0 else ""])
    return out


STOCK_DAY = datetime.now(WIB).date()


def write_catalogue(path: Path, rows: list[list[str]]) -> None:
    """The catalogue with a title row stating when its stock was counted (today): a price changed
    and saved again is not a recount, so orders since then still count as sold."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(f"Katalog Produk {path.stem};Stok per {STOCK_DAY:%d/%m/%Y};;;;;;;\n")
        w = csv.writer(fh, delimiter=";")
        w.writerow(HEADER)
        w.writerows(rows)


@dataclass
class World:
    """The generated groups, their rows, and the config file."""

    root: Path
    groups: list[dict]
    rows: dict[str, list[list[str]]]
    config: Path
    next_row: dict[str, int] = field(default_factory=dict)  # per group: the row whose price changes next

    @property
    def total(self) -> int:
        return sum(len(r) for r in self.rows.values())

    def change_prices(self, n: int, groups: list[str] | None = None) -> dict[tuple[str, str], int]:
        """Raise the price of ``n`` distinct rows spread over every group (or over ``groups``; each
        group's rows in turn, from its last) and write their catalogues; (group, name) → the new price."""
        changed: dict[tuple[str, str], int] = {}
        gids = list(groups or self.rows)
        if n > sum(len(self.rows[g]) for g in gids):
            raise ValueError(f"{n} changes but only {sum(len(self.rows[g]) for g in gids)} rows")
        for j in range(n):
            gid = gids[j % len(gids)]
            rows = self.rows[gid]
            k = self.next_row.get(gid, len(rows) - 1)
            self.next_row[gid] = (k - 1) % len(rows)
            rows[k][3] = rupiah(price_of(rows[k][3]) + 1_000)
            changed[(gid, rows[k][1])] = price_of(rows[k][3])
        for gid in {g for g, _ in changed}:
            write_catalogue(self.root / "catalogues" / f"{gid}.csv", self.rows[gid])
        return changed


def make_world(root: Path, sb, state_url: str, n_groups: int, n_rows: int, shared: int) -> World:
    from schemas.categories import DEFAULT_CATEGORIES

    leaves = [c.name for c in DEFAULT_CATEGORIES if c.is_leaf]
    rng = np.random.default_rng(11)
    groups, rows = [], {}
    for g in range(n_groups):
        regency = REGENCIES[g % len(REGENCIES)]
        gid = f"g{g:04d}-{regency.lower().replace(' ', '-')}"  # its SKU prefix (16 characters) is its own
        groups.append(dict(id=gid, name=f"Kelompok Skala {g:04d}", village=f"Desa Skala {g:04d}", regency=regency,
                           shop_id=sb.shops[g % len(sb.shops)], catalogue=f"catalogues/{gid}.csv"))
        rows[gid] = group_rows(g, n_rows, shared, leaves, rng)
        write_catalogue(root / "catalogues" / f"{gid}.csv", rows[gid])
    lines = ["[marketplace]", f'api_url = "{sb.api_url}"', f'auth_url = "{sb.auth_url}"', f"fs_id = {sb.fs_id}",
             f'client_id = "{sb.client_id}"', "rate_limit_per_second = 100000", "",
             "[state]", f'url = "{state_url}"', "", "[output]", 'dir = "out"', ""]
    for g in groups:
        lines += ["[[groups]]", f'id = "{g["id"]}"', f'name = "{g["name"]}"', f'village = "{g["village"]}"',
                  f'regency = "{g["regency"]}"', f"shop_id = {g['shop_id']}", f'catalogue = "{g["catalogue"]}"', ""]
    config = root / "lapak.toml"
    config.write_text("\n".join(lines), encoding="utf-8")
    return World(root, groups, rows, config)


def place_orders(sb, n: int, *, groups: list[str] | None = None, seed: int = 5, spread_s: int = 300) -> int:
    """``n`` paid orders of one or two units, created within the last ``spread_s`` seconds, on the
    products of ``groups`` (default: every product), through the sandbox's bulk admin route."""
    from schemas.skus import sku_prefix

    rng = np.random.default_rng(seed)
    prefixes = tuple(sku_prefix(g) + "-" for g in groups) if groups else None
    stock: dict[tuple[int, str], int] = {}
    for shop in sb.shops:
        for p in sb.admin.products(shop):
            if p["status"] == "ACTIVE" and p["stock"] > 2 and (prefixes is None or p["sku"].startswith(prefixes)):
                stock[(shop, p["sku"])] = p["stock"]
    keys = list(stock)
    if not keys:
        raise RuntimeError("no active product with stock to order: did the first sync create them?")
    now, orders, placed = int(time.time()), [], 0
    while placed + len(orders) < n:
        shop, sku = keys[int(rng.integers(0, len(keys)))]
        items = [{"sku": sku, "quantity": 1}]
        if rng.random() < 0.3:  # some orders have a second product of the same shop
            other = keys[int(rng.integers(0, len(keys)))]
            if other[0] == shop and other[1] != sku and stock[other] > 1:
                items.append({"sku": other[1], "quantity": 1})
                stock[other] -= 1
        stock[(shop, sku)] -= 1
        keys = keys if stock[(shop, sku)] > 1 else [k for k in keys if k != (shop, sku)]
        orders.append({"shop_id": shop, "items": items, "create_time": now - int(rng.integers(0, spread_s))})
        if len(orders) == 2_000:
            placed += len(sb.admin.place_orders(orders))
            orders = []
    if orders:
        placed += len(sb.admin.place_orders(orders))
    return placed


# ---- PostgreSQL: a database of its own per run ----------------------------------------------------

@contextmanager
def fresh_database(url: str):
    """A new database ``lapak_scale_<pid>`` on the server of ``url`` (dropped on the way out); its URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    server = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
    name = f"lapak_scale_{os.getpid()}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql", database=name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- a real Prefect server ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prefect_env(home: Path, api_url: str, **extra: str) -> dict[str, str]:
    """The environment without the developer's Prefect settings: its own home, no analytics."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update({"PREFECT_HOME": str(home), "PREFECT_API_URL": api_url, "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_LOGGING_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1", **extra})
    return env


@contextmanager
def prefect_server(home: Path, port: int):
    """``prefect server start`` on ``port`` with its own home (no scheduler: nothing starts by itself)."""
    home.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{port}/api"
    log = home / "server.log"
    env = prefect_env(home, url, PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false")
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=home, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"prefect server exited ({proc.returncode}): {tail(log)}")
            with suppress(requests.RequestException):
                if requests.get(f"{url}/health", timeout=2).ok:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"prefect server did not answer within 180 s: {tail(log)}")
            time.sleep(0.5)
        yield url
    finally:
        stop(proc, signal.SIGTERM)


def tail(path: Path, n: int = 2000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT, wait_s: float = 30) -> None:
    """Ask a process (its own session) to stop; kill what is left of it and its children."""
    if proc.poll() is None:
        with suppress(ProcessLookupError):
            proc.send_signal(sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(wait_s)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with suppress(subprocess.TimeoutExpired):
        proc.wait(10)


# ---- counters -----------------------------------------------------------------------------------

class PeakMemory:
    """Peak resident memory of this process (the flow and its tasks run here): the kernel's high-water
    mark (VmHWM), reset per phase by writing 5 to /proc/self/clear_refs (Linux ≥ 4.0)."""

    def __init__(self) -> None:
        self.resettable = True

    def reset(self) -> None:
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            self.resettable = False  # then the figure is the process's peak so far

    @staticmethod
    def peak() -> int:
        try:
            status = Path("/proc/self/status").read_text()
            return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) * 1024
        except (OSError, AttributeError):
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    @property
    def how(self) -> str:
        return ("peak RSS of the bench process (VmHWM, reset per phase via /proc/self/clear_refs)"
                if self.resettable else "peak RSS of the bench process since it started (getrusage)")


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds a process (this one by default) has used so far."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class Queries:
    """State-store statements sent, by verb: a ``before_cursor_execute`` listener on every state
    store's engine opened in this process (an executemany counts once)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def attach(self) -> None:
        from sqlalchemy import event

        from connectors.state import StateStore

        original = StateStore.__init__
        count = self._count

        def init(store, *a, **kw):
            original(store, *a, **kw)
            event.listen(store.engine, "before_cursor_execute", count)

        StateStore.__init__ = init

    def _count(self, conn, cursor, statement, parameters, context, executemany) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
        with self.lock:
            self.counts[verb] += 1

    def reset(self) -> None:
        with self.lock:
            self.counts.clear()

    def line(self) -> str:
        total = sum(self.counts.values())
        parts = ", ".join(f"{v.lower()} {n}" for v, n in self.counts.most_common())
        return f"{total} ({parts})" if total else "0"


def sandbox_writes(before: dict, after: dict) -> tuple[dict[str, int], dict[str, dict]]:
    """Items written per kind, and every path's call/item delta, from two admin.stats() answers."""
    deltas: dict[str, dict] = {}
    for path, c in after["paths"].items():
        b = before["paths"].get(path, {})
        d = {k: c[k] - b.get(k, 0) for k in ("calls", "items", "http_429", "row_429")}
        if any(d.values()):
            deltas[path] = d
    writes = dict.fromkeys(KINDS, 0)
    for path, d in deltas.items():
        for suffix, kind in WRITE_PATHS.items():
            if path.endswith(suffix):
                writes[kind] += d["items"]
    return writes, deltas


def fmt_writes(w: dict[str, int]) -> str:
    nz = {k: v for k, v in w.items() if v}
    return (", ".join(f"{k} {v}" for k, v in nz.items()) or "none") + f" (total {sum(w.values())})"


def gib(n: int) -> str:
    return f"{n / GiB:.2f} GiB"
