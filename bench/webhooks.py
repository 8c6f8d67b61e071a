"""Webhook latency: an order placed on the TikTok sandbox → its stock lowered on the marketplace.

    .venv/bin/python bench/webhooks.py [--orders 50] [--gap 2 5] [--seed 1] [--slot-wait 2] [--keep DIR]

What runs, all real and on this machine (nothing in process but the buyers and the clock):

- ``prefect server start`` with its own PREFECT_HOME and SQLite (analytics off; its scheduler off,
  so no 15-minute run lands in the measurement: the schedule's figure is computed, see below);
- both sandboxes (``connectors.sandbox``, ``connectors.tiktok_sandbox``); the samples' four groups,
  Wonosobo's also on TikTok (shop 7494001, authorised with ``lapak authorize``); one catalogue sync;
- ``lapak serve --config F`` (deployments and the order-notification automation);
- ``lapak webhooks --config F`` (when ``flows/cli/webhooks.py`` exists; otherwise a small
  receiver in this process emits the same Prefect event, and the output says so); both
  sandboxes' webhook targets point at it.

Then ``--orders`` buyers, one at a time, each ``--gap`` seconds (uniform, seeded) after the
previous order's stock was lowered: a buyer orders 1 unit on TikTok of a product both channels
list; the clock runs from just before the order until the marketplace sandbox's own product row
shows that product's stock one lower (read every 0.1 s): sandbox webhook → receiver (its
debounce) → Prefect event → automation → flow run → runner → pull of the TikTok shop → stock
corrected on the marketplace. Printed: p50, p95, max, and where the time goes per stage (from
each covering run's state history: event, run created, picked up by the runner, its process
Running, stock shown lowered).

Poll intervals: ``lapak serve``'s runner polls as it does when deployed (``flows.serve.runner_poll_seconds``;
``--runner-poll N`` sets ``PREFECT_RUNNER_POLL_FREQUENCY=N`` for it instead, as earlier versions of
this bench did with 2); on the server ``PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS``
(``--slot-wait``, default here 2 s; Prefect's default 30 s): how soon a pull started while
another one runs asks again for its turn.

Bytecode: every process this bench starts caches its bytecode under the working folder
(``PYTHONPYCACHEPREFIX``; a ``PYTHONDONTWRITEBYTECODE`` of the caller's is dropped), as an
installed package has its modules compiled: otherwise each flow run's fresh process would compile
the project's modules again, which no deployment does.

The schedule-only figure: without notifications an order waits for the next quarter hour, a
wait uniform in [0, 15 min): p50 7.5 min, p95 14.25 min; plus the scheduled pull's own time until
the marketplace shows the stock lowered, measured here once (a full ``pull-orders`` run, every
shop, started from the deployment with notifications off).

Exit status 1 when an order's stock was never lowered (within 120 s).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "flows" / "samples"
MARKET_SHOP, TIKTOK_SHOP = 479573, 7494001
GOAL_P95_S = 10.0
TIMEOUT_S = 120.0
POLL_S = 0.1
SCHEDULE_S = 15 * 60
ORDERS_DEPLOYMENT = "pull-orders/every-15-minutes"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: Path, n: int = 2000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


def wait_for(what: str, check, timeout: float, every: float = 0.5, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(every)
    raise SystemExit(f"{what}: not within {timeout:g} s. {tail(log) if log else ''}")


def stop(proc: subprocess.Popen, wait_s: float = 30) -> None:
    """Ctrl-C, then what is left of its process group killed."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(wait_s)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


def spawn(args: list[str], env: dict[str, str], log: Path, cwd: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                cwd=cwd, start_new_session=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any Prefect setting of the developer's, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1", **extra)
    return env


# ---- the world ---------------------------------------------------------------------------------

def poll_env(args: argparse.Namespace) -> dict[str, str]:
    """``lapak serve``'s environment for ``--runner-poll`` (none: its own poll)."""
    return {} if args.runner_poll is None else {"PREFECT_RUNNER_POLL_FREQUENCY": f"{args.runner_poll:g}"}


def runner_poll(args: argparse.Namespace) -> str:
    """The runner's poll, as the report names it."""
    if args.runner_poll is not None:
        return f"PREFECT_RUNNER_POLL_FREQUENCY={args.runner_poll:g} s"
    try:
        from flows.serve import RUNNER_POLL_S
    except ImportError:  # a version whose lapak serve has no poll of its own
        return "Prefect's default (PREFECT_RUNNER_POLL_FREQUENCY unset)"
    return f"lapak serve's own, {RUNNER_POLL_S:g} s"


def make_config(work: Path, market, tiktok) -> Path:
    """The samples (four groups; Wonosobo's also on TikTok) pointed at both sandboxes."""
    from flows.cli.demo import with_tiktok

    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "*.md", "*.json", "out", "var",
                                                                   "__pycache__"))
    cfg = work / "lapak.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
    text = text.replace('client_id = "lapak-demo"', 'client_id = "lapak-demo"\nrate_limit_per_second = 1000')
    cfg.write_text(with_tiktok(text, tiktok.url, TIKTOK_SHOP), encoding="utf-8")
    return cfg


def authorise(cfg: Path) -> None:
    from flows.cli import main as lapak

    with contextlib.redirect_stdout(io.StringIO()) as said:
        status = lapak(["authorize", "tiktok", "--config", str(cfg), "--shop", str(TIKTOK_SHOP),
                        "--code", f"code-{TIKTOK_SHOP}"])
    if status != 0 or "authorised until" not in said.getvalue():
        raise SystemExit(f"lapak authorize tiktok failed ({status}): {said.getvalue().strip()}")


def start_server(home: Path, slot_wait: float) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = clean_env(PREFECT_HOME=str(home), PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
                    PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS=f"{slot_wait:g}",
                    PREFECT_LOGGING_LEVEL="WARNING", PREFECT_API_URL=url)
    log = home / "server.log"
    proc = spawn([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                 env, log, home)

    def healthy() -> bool:
        import requests

        if proc.poll() is not None:
            raise SystemExit(f"prefect server exited ({proc.returncode}): {tail(log)}")
        try:
            return requests.get(f"{url}/health", timeout=2).ok
        except requests.RequestException:
            return False

    wait_for("prefect server start", healthy, timeout=180, log=log)
    return proc, url


class InBenchReceiver:
    """Stands in for ``lapak webhooks`` while that command does not exist: every POST from a sandbox
    (signature not checked) → after a 1 s debounce per shop, the event ``lapak webhooks`` emits."""

    def __init__(self, cfg: Path) -> None:
        self.cfg = str(cfg.resolve())
        self.timers: dict[tuple[str, str], threading.Timer] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                import json

                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                channel = self.path.rstrip("/").rsplit("/", 1)[-1]
                shop = str(body.get("shop_id") or body.get("data", {}).get("shop_id") or "")
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if shop:
                    outer.notified(channel, shop)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def notified(self, channel: str, shop: str) -> None:
        if (channel, shop) in self.timers:
            return
        timer = threading.Timer(1.0, self.emit, args=(channel, shop))
        self.timers[(channel, shop)] = timer
        timer.start()

    def emit(self, channel: str, shop: str) -> None:
        from prefect.events import emit_event

        self.timers.pop((channel, shop), None)
        emit_event(event="lapak.orders.notified", payload={"notifications": 1},
                   resource={"prefect.resource.id": f"lapak.shop.{channel}.{shop}", "lapak.channel": channel,
                             "lapak.shop_id": shop, "lapak.config": self.cfg})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ---- measuring ---------------------------------------------------------------------------------

def market_stock(market, sku: str) -> int:
    return next(int(p["stock"]) for p in market.admin.products(MARKET_SHOP) if p["sku"] == sku)


def on_both(market, tiktok) -> list[str]:
    first = {p["sku"] for p in market.admin.products(MARKET_SHOP) if p.get("status") == "ACTIVE"}
    second = {p["seller_sku"] for p in tiktok.admin.products(TIKTOK_SHOP) if p.get("status") == "ACTIVATE"}
    return sorted(first & second)


def lowered_after(market, sku: str, before: int, started: float) -> float | None:
    """Seconds from ``started`` until the marketplace shows ``sku`` below ``before`` (None: never)."""
    while time.monotonic() - started < TIMEOUT_S:
        if market_stock(market, sku) < before:
            return time.monotonic() - started
        time.sleep(POLL_S)
    return None


def pull_runs(client, deployment_id) -> list:
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    return client.read_flow_runs(deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id])),
                                 limit=200)


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1), linear between the nearest ranks."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def measure(market, tiktok, n: int, gap: tuple[float, float], rng: random.Random) -> list[dict]:
    """``n`` buyers, one at a time; per order: when it was placed (UTC) and the seconds until lowered."""
    skus = on_both(market, tiktok)
    if not skus:
        raise SystemExit("no product is listed on both channels")
    out = []
    for i in range(n):
        shown = {sku: market_stock(market, sku) for sku in skus}
        sku = max(skus, key=lambda s: shown[s])
        if shown[sku] < 1:
            raise SystemExit(f"out of stock after {i} orders")
        placed_at, started = datetime.now(UTC), time.monotonic()
        tiktok.admin.place_order(TIKTOK_SHOP, [{"seller_sku": sku, "quantity": 1}])
        took = lowered_after(market, sku, shown[sku], started)
        out.append({"sku": sku, "placed_at": placed_at, "seconds": took})
        print(f"   order {i + 1:2}: {sku:28} {'never' if took is None else f'{took:5.1f} s'}", flush=True)
        time.sleep(rng.uniform(*gap))
    return out


STAGES = {  # stage: what ends it (each stage starts where the one before ended; the first at the order)
    "notified": "the receiver's event (the run's notified_at): sandbox webhook + the receiver's debounce",
    "run created": "the automation's flow run exists",
    "picked up": "the runner proposed Pending (its poll; waits for the deployment's slot included)",
    "process up": "the run is Running: subprocess spawned, flow module imported, engine ready",
    "stock lowered": "the marketplace shows it: the flow (cut-off wait, pull, stock push) + bench's 0.1 s read",
}


def covering_run(order: dict, runs: list):
    """The first notified pull run created after ``order`` was placed (None: none)."""
    after = sorted((r for r in runs if r.created and r.created >= order["placed_at"]
                    and (r.parameters or {}).get("notified_at")), key=lambda r: r.created)
    return after[0] if after else None


def stages(orders: list[dict], runs: list, states_of) -> tuple[dict[str, list[float]], int]:
    """Per stage of :data:`STAGES`, its seconds for each order that was lowered (from the covering
    run's parameters and state history, ``states_of(run_id)``); and how many of those runs were
    put to wait for the deployment's concurrency slot."""
    out: dict[str, list[float]] = {name: [] for name in STAGES}
    slot_waits = 0
    for o in orders:
        run = covering_run(o, runs)
        if run is None or o["seconds"] is None:
            continue
        history = sorted(states_of(run.id), key=lambda s: s.timestamp)
        pending = next((s.timestamp for s in history if s.type.value == "PENDING"), None)
        running = next((s.timestamp for s in history if s.type.value == "RUNNING"), None)
        if pending is None or running is None:
            continue
        slot_waits += any(s.name == "AwaitingConcurrencySlot" for s in history)
        notified = datetime.fromisoformat(str(run.parameters["notified_at"]))
        lowered = o["placed_at"] + timedelta(seconds=o["seconds"])
        marks = [o["placed_at"], notified, run.created, pending, running, lowered]
        for name, (a, b) in zip(STAGES, pairwise(marks), strict=True):
            out[name].append((b - a).total_seconds())
    return out, slot_waits


def scheduled_pull(client, market, tiktok, deployment_id) -> float:
    """Seconds from a full pull-orders run's creation (as the scheduler creates it, due now) until
    the marketplace shows a TikTok sale; the notifications are switched off for it."""
    tiktok.admin.set_webhook(None)
    sku = on_both(market, tiktok)[0]
    before = market_stock(market, sku)
    tiktok.admin.place_order(TIKTOK_SHOP, [{"seller_sku": sku, "quantity": 1}])
    started = time.monotonic()
    client.create_flow_run_from_deployment(deployment_id, parameters={})
    took = lowered_after(market, sku, before, started)
    if took is None:
        raise SystemExit("the full pull did not lower the marketplace's stock")
    return took


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--orders", type=int, default=50)
    ap.add_argument("--gap", type=float, nargs=2, default=(2.0, 5.0), metavar=("MIN", "MAX"),
                    help="seconds between one order's stock lowered and the next order (uniform)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--slot-wait", type=float, default=2.0,
                    help="the server's PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS (Prefect: 30)")
    ap.add_argument("--runner-poll", type=float, default=None, metavar="N",
                    help="PREFECT_RUNNER_POLL_FREQUENCY for lapak serve (default: unset, lapak serve's own poll)")
    ap.add_argument("--keep", help="a folder to keep everything in (logs, config, databases)")
    args = ap.parse_args()

    root = Path(args.keep).resolve() if args.keep else Path(tempfile.mkdtemp(prefix="lapak-bench-webhooks-"))
    for sub in ("server-home", "client-home", "serve-home", "webhooks-home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    print(f"webhook latency bench: {args.orders} orders; working folder {root}", flush=True)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # see the module's docstring: "Bytecode"
    os.environ["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
    server, api = start_server(root / "server-home", args.slot_wait)
    # This process's own flows (the first sync) and client talk to that server, from an isolated home.
    os.environ.update(PREFECT_HOME=str(root / "client-home"), PREFECT_API_URL=api,
                      PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_LOGGING_LEVEL="WARNING")
    os.environ.pop("PREFECT_API_AUTH_STRING", None)
    procs: list[subprocess.Popen] = []
    try:
        return run(args, root, api, procs)
    finally:
        for proc in reversed(procs):
            stop(proc)
        stop(server)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)  # --keep DIR keeps the logs and databases


def run(args: argparse.Namespace, root: Path, api: str, procs: list[subprocess.Popen]) -> int:
    from connectors.sandbox import running_sandbox
    from connectors.tiktok_sandbox import running_tiktok_sandbox

    with running_sandbox(root / "market", rate_limit=None) as market, \
            running_tiktok_sandbox(root / "tiktok") as tiktok:
        secrets_env = dict(LAPAK_CLIENT_SECRET=market.client_secret, LAPAK_TIKTOK_APP_SECRET=tiktok.app_secret,
                           LAPAK_SECRET_KEY=secrets.token_urlsafe(32))
        os.environ.update(secrets_env)
        cfg = make_config(root / "w", market, tiktok)
        authorise(cfg)
        from prefect.client.orchestration import get_client

        from flows.serve import automation_name
        from flows.sync import sync_catalogues

        t = time.monotonic()
        sync_catalogues(config_path=str(cfg))
        print(f"first sync: {time.monotonic() - t:.1f} s; {len(on_both(market, tiktok))} products on both channels",
              flush=True)

        serve_log = root / "serve-home" / "serve.log"
        procs.append(spawn([sys.executable, "-m", "flows.cli", "serve", "--config", str(cfg)],
                           clean_env(PREFECT_API_URL=api, PREFECT_HOME=str(root / "serve-home"),
                                     PREFECT_LOGGING_LEVEL="INFO", **poll_env(args), **secrets_env),
                           serve_log, root / "serve-home"))
        with get_client(sync_client=True) as client:
            def served() -> bool:
                if procs[-1].poll() is not None:
                    raise SystemExit(f"lapak serve exited: {tail(serve_log)}")
                return bool(client.read_automations_by_name(automation_name(cfg))) and \
                    "being served" in tail(serve_log, 100_000)

            wait_for("lapak serve", served, timeout=180, log=serve_log)
            deployment_id = client.read_deployment_by_name(ORDERS_DEPLOYMENT).id

            receiver, how = None, ""
            if (ROOT / "flows" / "cli" / "webhooks.py").exists():
                port = free_port()
                hooks_log = root / "webhooks-home" / "webhooks.log"
                procs.append(spawn([sys.executable, "-m", "flows.cli", "webhooks", "--config", str(cfg),
                                    "--port", str(port)],
                                   clean_env(PREFECT_API_URL=api, PREFECT_HOME=str(root / "webhooks-home"),
                                             **secrets_env), hooks_log, root / "webhooks-home"))
                wait_for("lapak webhooks", lambda: "POST" in tail(hooks_log) or procs[-1].poll() is not None,
                         timeout=120, log=hooks_log)
                if procs[-1].poll() is not None:
                    raise SystemExit(f"lapak webhooks exited: {tail(hooks_log)}")
                base, how = f"http://127.0.0.1:{port}", "lapak webhooks (subprocess)"
            else:
                receiver = InBenchReceiver(cfg)
                base = receiver.url
                how = "an in-bench receiver (flows/cli/webhooks.py does not exist yet)"
            market.admin.set_webhook(f"{base}/webhooks/marketplace")
            tiktok.admin.set_webhook(f"{base}/webhooks/tiktok")
            print(f"notifications: both sandboxes → {how}; lapak serve's runner poll {runner_poll(args)}; "
                  f"server slot wait {args.slot_wait:g} s", flush=True)
            time.sleep(3)  # the triggers service has loaded the automation

            orders = measure(market, tiktok, args.orders, tuple(args.gap), random.Random(args.seed))
            wait_for("the last pulls to finish", lambda: all(
                r.state and r.state.is_final() for r in pull_runs(client, deployment_id)), timeout=120)
            runs = pull_runs(client, deployment_id)
            history = {r.id: client.read_flow_run_states(r.id) for r in runs
                       if (r.parameters or {}).get("notified_at")}
            full = scheduled_pull(client, market, tiktok, deployment_id)
            if receiver is not None:
                receiver.close()
    return report(orders, runs, history, full, args, tail(serve_log, 100_000_000))


def report(orders: list[dict], runs: list, history: dict, full: float, args: argparse.Namespace,
           served: str) -> int:
    done = [o["seconds"] for o in orders if o["seconds"] is not None]
    missed = len(orders) - len(done)
    notified = [r for r in runs if (r.parameters or {}).get("shops")]
    states: dict[str, int] = {}
    for r in notified:
        states[r.state.name if r.state else "?"] = states.get(r.state.name if r.state else "?", 0) + 1
    spent, slot_waits = stages(orders, runs, lambda run_id: history.get(run_id, []))
    print()
    print(f"Order placed on TikTok → stock lowered on the marketplace, {len(orders)} orders "
          f"(gap {args.gap[0]:g}–{args.gap[1]:g} s, seed {args.seed}):")
    if done:
        print(f"   p50 {pct(done, 0.5):5.1f} s   p95 {pct(done, 0.95):5.1f} s   max {max(done):5.1f} s   "
              f"mean {statistics.fmean(done):5.1f} s   (goal p95 ≤ {GOAL_P95_S:g} s: "
              f"{'met' if pct(done, 0.95) <= GOAL_P95_S else 'NOT met'})")
    if spent["notified"]:
        print(f"   where the time goes, per stage (from the covering run's states; {len(spent['notified'])} orders):")
        for name, what in STAGES.items():
            print(f"      {name:14} p50 {pct(spent[name], 0.5):5.2f} s   p95 {pct(spent[name], 0.95):5.2f} s   "
                  f"max {max(spent[name]):5.2f} s   until {what}")
        print(f"      runs that waited for the deployment's slot (another pull still running): {slot_waits}")
    print(f"   notified pull runs: {len(notified)} for {len(orders)} orders "
          f"({', '.join(f'{n} {s}' for s, n in sorted(states.items()))})")
    waits = [float(w) for w in re.findall(r"waiting ([0-9.]+) s for the end of the notification", served)]
    print(f"   runs that started before the notification's window ended and waited for it: {len(waits)}"
          + (f" (mean {statistics.fmean(waits):.1f} s)" if waits else ""))
    if missed:
        print(f"   {missed} orders NEVER lowered within {TIMEOUT_S:g} s")
    print(f"Schedule only (every 15 min): wait uniform in [0, 15 min) + a full pull's {full:.1f} s until the "
          f"stock shows (measured once): p50 {SCHEDULE_S * 0.5 + full:.0f} s ({(SCHEDULE_S * 0.5 + full) / 60:.1f} "
          f"min), p95 {SCHEDULE_S * 0.95 + full:.0f} s ({(SCHEDULE_S * 0.95 + full) / 60:.1f} min), "
          f"max {SCHEDULE_S + full:.0f} s")
    print(f"Poll intervals: lapak serve's runner {runner_poll(args)} (Prefect's default 10 s); server "
          f"PREFECT_SERVER_DEPLOYMENTS_CONCURRENCY_SLOT_WAIT_SECONDS={args.slot_wait:g} (default 30).")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
