"""The chaos suite's runs (bench/chaos.py): the flows' engine without a Prefect API, on both channels,
in this process or in a process of its own that is killed part-way.

- :func:`run_op`: one sync, order pull or backfill, each step inline (``flows.engine.steps.Inline``);
  it raises what the flow would end FAILED with, and its result names the rows whose stock could not be
  written (``FAILED_ROWS``: the stock invariant excuses those, the run said so).
- Both clients are quick: a 1 s timeout (a 1.5 s latency fault is a lost answer) and the backoff
  scaled down with the same shape (the marketplace's 0.02 s base instead of 0.5 s; TikTok's sleeps,
  ``Retry-After`` included, at 1/25: its 429s say "1 s", whole seconds being the contract's floor).
- Leases are short: shop locks and the TikTok token-refresh lease last 1 s, so a killed run's shops
  and refreshes are free a second later instead of 90 s / 60 s.
- :func:`killed_run`: ``os._exit`` at the Nth channel call (either channel's; before it is sent or
  after its answer came) or state-store transaction, leaving a note of where (``KILL_NOTE``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KILL_STATUS = 37
CLIENT_TIMEOUT_S = 1.0
LOCK_LEASE_S = 1.0
TIKTOK_SLEEP_SCALE = 0.04
FAILED_ROWS = "chaos_failed_rows"  # [[channel, sku], ...]: rows a completed run reported it could not write
KILL_NOTE = "kill-point.txt"       # beside the config: where a killed run died

_patch_lock = threading.Lock()
_patch_users: dict[str, tuple[int, list]] = {}
_failures = threading.local()


@contextlib.contextmanager
def _shared_patch(key: str, apply) -> Iterator[None]:
    """Module patches shared by threads: applied by the first user, undone by the last."""
    with _patch_lock:
        users, saved = _patch_users.get(key, (0, []))
        if users == 0:
            saved = apply()
        _patch_users[key] = (users + 1, saved)
    try:
        yield
    finally:
        with _patch_lock:
            users, saved = _patch_users[key]
            _patch_users[key] = (users - 1, saved)
            if users == 1:
                for mod, name, obj in reversed(saved):
                    setattr(mod, name, obj)


def quick_client():
    """Both channels' clients with a short timeout and a scaled-down backoff (same shape)."""
    return _shared_patch("client", _quick_clients)


def _quick_clients() -> list:
    from tenacity import wait_exponential_jitter

    from connectors.marketplace import MarketplaceClient
    from connectors.tiktok.channel import TikTokChannel

    original = MarketplaceClient.__init__
    original_tiktok = TikTokChannel.__init__

    def init(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", CLIENT_TIMEOUT_S)
        original(self, *args, **kwargs)
        self._backoff = wait_exponential_jitter(multiplier=0.02, max=0.3, jitter=0.02)

    def init_tiktok(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("timeout", CLIENT_TIMEOUT_S)
        original_tiktok(self, *args, **kwargs)
        # The retries' sleeps (backoff and Retry-After) only; the pacer keeps its own clock.
        self._sleep = lambda s: time.sleep(s * TIKTOK_SLEEP_SCALE)

    MarketplaceClient.__init__ = init
    TikTokChannel.__init__ = init_tiktok
    return [(MarketplaceClient, "__init__", original), (TikTokChannel, "__init__", original_tiktok)]


def short_leases():
    """Shop locks and token-refresh leases of 1 s: a killed run's are free a second later."""
    return _shared_patch("locks", _short_leases)


def _short_leases() -> list:
    import connectors.state.tokens as tokens
    import flows.engine.locks as locks

    saved = [(locks, "DEFAULT_LEASE_S", locks.DEFAULT_LEASE_S), (tokens, "REFRESH_LEASE_S", tokens.REFRESH_LEASE_S)]
    locks.DEFAULT_LEASE_S = LOCK_LEASE_S
    tokens.REFRESH_LEASE_S = LOCK_LEASE_S
    return saved


def failed_stock_rows():
    """Record, per thread, the stock rows a correction reported as not written."""
    return _shared_patch("stock", _recording_corrections)


def _recording_corrections() -> list:
    import flows.engine.order_runs as order_runs
    from schemas.channel import ShopRef

    original = order_runs.correct_stock

    def correct(rt, shop, *args: Any, **kwargs: Any) -> dict:
        out = original(rt, shop, *args, **kwargs)
        sink = getattr(_failures, "rows", None)
        if sink is not None:
            sink |= {(ShopRef.of(shop).channel, f["sku"]) for f in out.get("failed", [])}
        return out

    order_runs.correct_stock = correct
    return [(order_runs, "correct_stock", original)]


def run_op(op: str, config: Path) -> dict:
    """One run of ``op`` (sync, orders or backfill of yesterday and today): the engine the flow
    runs, its steps inline; raises what the flow would end FAILED with. The result holds
    ``FAILED_ROWS``: (channel, SKU) of every row the run reported it could not write."""
    from flows.engine.order_runs import raise_for_errors, run_backfill, run_order_pull
    from flows.engine.planning import SyncOptions
    from flows.engine.runtime import open_run
    from flows.engine.steps import Inline
    from flows.engine.sync import run_sync
    from schemas.dates import WIB

    _failures.rows = failed = set()
    try:
        with quick_client(), short_leases(), failed_stock_rows(), open_run(config) as rt:
            if op == "sync":
                report = run_sync(rt, SyncOptions(), Inline(rt))
                report.raise_for_problems()
                failed |= {(shop.channel, sku) for (shop, _), a in report.applied.items() for sku, _ in a.failed}
                return {**report.summary(), FAILED_ROWS: sorted(failed)}
            if op == "orders":
                summary = run_order_pull(rt, Inline(rt))
            else:
                from datetime import datetime, timedelta

                today = datetime.now(WIB).date()
                summary = run_backfill(rt, Inline(rt), today - timedelta(days=1), today)
            raise_for_errors(summary)
            return {**summary, FAILED_ROWS: sorted(failed)}
    finally:
        _failures.rows = None


# ---- the killed process --------------------------------------------------------------------------

def killed_run(op: str, config: Path, n: int, when: str, hook: str) -> int:
    """Run OP and ``os._exit(KILL_STATUS)`` at the Nth channel call of either channel (``hook``
    http; ``when`` before it is sent / after its answer came) or the Nth state-store transaction
    (``hook`` store; ``when`` before it commits / after). Where it died (and the last channel call
    made) is written to ``KILL_NOTE`` beside the config. Meant for a process of its own: returns 0
    or 1 if it was not killed."""
    seen = [0]
    last = [""]
    note = Path(config).parent / KILL_NOTE
    note.unlink(missing_ok=True)

    def tick(phase: str) -> None:
        if phase == "before":
            seen[0] += 1
        if seen[0] == n and phase == when:
            note.write_text(f"{hook} {when} #{n}: last call {last[0] or 'none'}\n", encoding="utf-8")
            os._exit(KILL_STATUS)

    if hook == "http":
        from connectors.marketplace.client import MarketplaceClient
        from connectors.tiktok.channel import TikTokChannel

        def killing(http, name):
            def killing_http(self, method: str, url: str, what: Any, *args: Any, **kwargs: Any):
                last[0] = getattr(what, "endpoint", None) or f"{name} {what}"  # TikTok's: "tiktok GET /…"
                tick("before")
                out = http(self, method, url, what, *args, **kwargs)
                tick("after")
                return out

            return killing_http

        MarketplaceClient._http = killing(MarketplaceClient._http, "marketplace")
        TikTokChannel._http = killing(TikTokChannel._http, "tiktok")
    else:
        from connectors.state.store import StateStore

        session = StateStore.session

        @contextlib.contextmanager
        def killing_session(self):
            with session(self) as s:
                yield s
                tick("before")  # still inside the transaction: dying here loses it
            tick("after")

        StateStore.session = killing_session
        from connectors.tiktok.channel import TikTokChannel

        http = TikTokChannel._http

        def noting_http(self, method: str, url: str, call: Any, *args: Any, **kwargs: Any):
            last[0] = call.endpoint
            return http(self, method, url, call, *args, **kwargs)

        TikTokChannel._http = noting_http
    try:
        run_op(op, config)
    except Exception as err:
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def _child(args: tuple) -> None:
    logging.disable(logging.CRITICAL)
    os._exit(killed_run(*args))


def run_in_killed_process(op: str, config: Path, n: int, when: str, hook: str, driver: Path) -> int:
    """``killed_run`` in a process of its own (forked where possible: no start-up cost; else
    ``driver --driver ...``); its exit status."""
    import multiprocessing

    if "fork" in multiprocessing.get_all_start_methods():
        proc = multiprocessing.get_context("fork").Process(target=_child, args=((op, config, n, when, hook),))
        proc.start()
        proc.join(300)
        if proc.exitcode is None:
            proc.kill()
            proc.join()
        return proc.exitcode
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, str(driver), "--driver", op, str(config), str(n), when, hook],
                          env=env, cwd=ROOT, capture_output=True, timeout=300).returncode


def kill_note(config: Path) -> str:
    """Where the last killed run died (empty when it was not killed)."""
    note = Path(config).parent / KILL_NOTE
    return note.read_text(encoding="utf-8").strip() if note.exists() else ""
