"""How fast ``lapak webhooks`` answers: acknowledgement latency under load, and with its state store
busy (another run holding SQLite's write lock).

    .venv/bin/python bench/webhook_ack.py [--notifications 2000] [--clients 32] [--shops 10] [--state-url URL]

The receiver runs in a subprocess of its own (this script with ``--serve``): the real app (verify,
parse, dedupe in the state store, per-shop debounce) behind uvicorn, exactly as ``lapak webhooks``
builds it, with a sink that counts bursts instead of sending Prefect events (the events worker only
queues them; the answer never waits for it). The clients are threads of this process, each with a
keep-alive session, signing each marketplace notification (one in three is a TikTok-shaped one).

Phases:
1. ``load``: N new notifications from C concurrent clients over S shops (both channels);
2. ``redelivery``: the same N again (every one must be answered as a duplicate);
3. ``store busy``: 200 new notifications while another connection holds the SQLite write lock for
   3 s (SQLite state only): each must still be answered within ``DEDUPE_WAIT_S`` + a little.

Goal: every answer well within the contracts' 5 s (p95 and max printed per phase); exit 1 when any
answer took 5 s or more, was not 200, or a redelivery was not recognised.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

FS_ID, SECRET, APP_KEY, APP_SECRET = 15001, "bench-client-secret", "bench-app-key", "bench-app-secret"
BASE_SHOP, BASE_TT_SHOP = 500000, 7600000


def write_config(folder: Path, shops: int, state_url: str) -> Path:
    text = (f'[marketplace]\napi_url = "http://127.0.0.1:9"\nauth_url = "http://127.0.0.1:9"\nfs_id = {FS_ID}\n'
            f'client_id = "bench"\n\n[state]\nurl = "{state_url}"\n\n'
            f'[tiktok]\napi_url = "http://127.0.0.1:9"\nauth_url = "http://127.0.0.1:9"\napp_key = "{APP_KEY}"\n\n')
    for i in range(shops):
        text += (f'[[groups]]\nid = "g{i}"\nname = "Group {i}"\nshop_id = {BASE_SHOP + i}\n'
                 f'tiktok_shop_id = "{BASE_TT_SHOP + i}"\ncatalogue = "g{i}.csv"\n\n')
    path = folder / "lapak.toml"
    path.write_text(text, encoding="utf-8")
    return path


def serve(config: str) -> int:
    """``--serve``: the receiver with a counting sink; prints its URL, and the bursts when stopped."""
    from connectors.webhooks import bind
    from connectors.webhooks import serve as serve_app
    from flows.webhooks import open_webhooks

    bursts = {"bursts": 0, "notifications": 0}
    lock = threading.Lock()

    def count(burst) -> None:
        with lock:
            bursts["bursts"] += 1
            bursts["notifications"] += burst.notifications

    hooks = open_webhooks(config, sink=count)
    sock = bind("127.0.0.1", 0)
    print(f"URL http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    try:
        serve_app(hooks.app, sock)
    finally:
        hooks.close()
        sock.close()
    print("BURSTS " + json.dumps(bursts), flush=True)
    return 0


def request(http: requests.Session, base: str, i: int, shops: int, event: str) -> tuple[float, int, dict]:
    from connectors.webhooks.signatures import marketplace_signature, tiktok_signature

    if i % 3:
        raw = json.dumps({"event_id": event, "fs_id": FS_ID, "shop_id": BASE_SHOP + i % shops, "order_id": i,
                          "order_status": 220, "update_time": int(time.time())}).encode()
        stamp = str(int(time.time()))
        url, headers = f"{base}/webhooks/marketplace", {"X-Mp-Timestamp": stamp,
                                                        "X-Mp-Signature": marketplace_signature(SECRET, stamp, raw)}
    else:
        data = {"order_id": str(i), "order_status": "AWAITING_SHIPMENT", "is_on_hold_order": False, "update_time": 1}
        raw = json.dumps({"type": 1, "tts_notification_id": event, "shop_id": str(BASE_TT_SHOP + i % shops),
                          "timestamp": int(time.time()), "data": data}).encode()
        url, headers = f"{base}/webhooks/tiktok", {"Authorization": tiktok_signature(APP_KEY, APP_SECRET, raw)}
    started = time.perf_counter()
    r = http.post(url, data=raw, headers={"Content-Type": "application/json", **headers}, timeout=30)
    return time.perf_counter() - started, r.status_code, r.json()


def fire(base: str, events: list[str], clients: int, shops: int) -> tuple[list[tuple[float, int, dict]], float]:
    local = threading.local()

    def one(i: int) -> tuple[float, int, dict]:
        if not hasattr(local, "http"):
            local.http = requests.Session()
            local.http.trust_env = False
        return request(local.http, base, i, shops, events[i])

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        answers = list(pool.map(one, range(len(events))))
    return answers, time.perf_counter() - started


def report(name: str, answers: list[tuple[float, int, dict]], wall: float) -> dict:
    took = sorted(a[0] for a in answers)
    row = {"phase": name, "n": len(took), "req/s": len(took) / wall, "p50 ms": 1000 * statistics.median(took),
           "p95 ms": 1000 * took[int(0.95 * (len(took) - 1))], "max ms": 1000 * took[-1],
           "non-200": sum(a[1] != 200 for a in answers),
           "duplicates": sum(bool(a[2].get("duplicate")) for a in answers)}
    print(f"{name:12} {row['n']:6d} {row['req/s']:9.0f} {row['p50 ms']:9.1f} {row['p95 ms']:9.1f} {row['max ms']:9.1f}"
          f" {row['non-200']:8d} {row['duplicates']:11d}", flush=True)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--notifications", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--shops", type=int, default=10)
    ap.add_argument("--state-url", default=None, help="default: SQLite in a temporary folder")
    ap.add_argument("--serve", metavar="CONFIG", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        return serve(args.serve)

    folder = Path(tempfile.mkdtemp(prefix="lapak-bench-ack-"))
    state_url = args.state_url or f"sqlite:///{folder / 'lapak.db'}"
    config = write_config(folder, args.shops, state_url)
    env = {**os.environ, "LAPAK_CLIENT_SECRET": SECRET, "LAPAK_TIKTOK_APP_SECRET": APP_SECRET,
           "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(config)], stdout=subprocess.PIPE, text=True,
                            env=env)
    try:
        base = proc.stdout.readline().split()[1]
        print(f"receiver {base}, state {state_url.split('@')[-1]}, {args.clients} clients, {args.shops} shops "
              f"per channel, {os.cpu_count()} CPUs")
        print(f"{'phase':12} {'n':>6} {'req/s':>9} {'p50 ms':>9} {'p95 ms':>9} {'max ms':>9} {'non-200':>8} "
              f"{'duplicates':>11}")
        events = [uuid.uuid4().hex[:19] for _ in range(args.notifications)]
        rows = [report("load", *fire(base, events, args.clients, args.shops)),
                report("redelivery", *fire(base, events, args.clients, args.shops))]
        if state_url.startswith("sqlite:///"):
            lock = sqlite3.connect(state_url[len("sqlite:///"):], isolation_level=None, check_same_thread=False)
            lock.execute("BEGIN IMMEDIATE")
            threading.Timer(3.0, lambda: (lock.execute("ROLLBACK"), lock.close())).start()
            busy = [uuid.uuid4().hex[:19] for _ in range(200)]
            rows.append(report("store busy", *fire(base, busy, args.clients, args.shops)))
        time.sleep(2)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    bursts = json.loads(out.split("BURSTS ", 1)[1]) if "BURSTS " in out else {}
    sent = args.notifications + (200 if len(rows) == 3 else 0)
    print(f"bursts handed on: {bursts.get('bursts')} holding {bursts.get('notifications')} notifications "
          f"(sent {sent} new ones; a burst per shop per 1 s window)")
    failed = (any(r["max ms"] >= 5000 or r["non-200"] for r in rows) or rows[1]["duplicates"] != args.notifications
              or bursts.get("notifications") != sent)
    print("FAIL" if failed else "OK: every answer well within 5 s, every redelivery recognised")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
