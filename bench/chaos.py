"""Chaos suite: seeded, randomised sync and order cycles against BOTH channels' sandboxes with faults injected.

    .venv/bin/python bench/chaos.py [--cycles 200] [--seed 1] [--keep DIR] [--verbose]

The world (bench/chaos_world.py): the first marketplace's sandbox and a TikTok sandbox side by side;
four groups on three marketplace shops, three of them (with photo files: only those rows go to
TikTok, whose products cite uploaded images) also on two TikTok shops, one shared by two groups;
the TikTok shops authorised in setup (``lapak authorize tiktok``, tokens sealed in the state store).

Every cycle (a ``random.Random`` seeded with ``SEED:CYCLE``, so a cycle repeats on its own):

1. the groups change their catalogues (prices, stock recounts, descriptions, renames, rows
   removed, restored and added, a name another group in the same shop already uses, a new photo
   file, a photo file replaced by a link — the row leaves TikTok — or shared with another row);
2. buyers order on both channels (TikTok: one line item per unit, one or two SKUs, some orders
   left UNPAID or ON_HOLD — they hold their units); orders move on or are cancelled on both;
3. faults are injected into both sandboxes (bench/chaos_faults.py): 5xx before and after a write is
   applied, 429 storms, lost answers (slow answers past the client's timeout; TikTok: connections
   dropped after applying too), token expiry in the middle of a run (TikTok's access token must be
   refreshed and the run go on), and in some cycles the process itself is killed (``os._exit``) at
   a random call to either channel (before it is sent or after its answer came) or state-store commit;
4. a sync, an order pull or a backfill runs under those faults (it may fail: that is allowed —
   except for a TikTok authorisation error: an expired access token is refreshed, never fatal);
5. safety invariants are checked on both channels: no duplicate product (SKU; on the marketplace
   name too) in any shop, no product the catalogues never asked for on that channel, no order
   stored twice or with lines that differ from the channel's (TikTok: a line's quantity is the
   count of its line items per seller_sku), no state row pointing at another product, no active
   listing's stock above what it was before the run or above ``recorded − sold − buffer``;
   and, when the run completed (its orders pulled, stock corrected), ONE STOCK: no channel shows
   more than recorded − units sold on ALL channels − buffer (TikTok capped at 99,999), for the
   catalogue the last clean sync converged to or the one saved since, every sale on either
   sandbox counted (rows the run reported it could not write are excused);
6. the faults stop, one sync runs (it pulls every shop's orders on both channels first), and the
   result must be *exact* on both channels: the active products of every shop are the catalogues'
   listings for that channel with every field as planned (names unique in shared shops, TikTok
   titles completed to ≥ 25 characters, photos the groups' files, stock = recorded − sold on all
   channels since the catalogue was recorded − buffer), everything else of ours is inactive, the
   state store holds exactly both channels' orders, and every order line is in the order sheets
   once; every few cycles a further sync must make zero writes on either sandbox (their own counters).

Ground truth comes from the catalogue files, their modification times and the sandboxes' own
orders and products, never from the pipeline's state store.

How the flows run (a choice): the engine the flows are a shell over (``flows.engine.sync.run_sync``,
``flows.engine.order_runs.run_order_pull`` / ``run_backfill``) in this process, each step run
inline (``flows.engine.steps.Inline``), without a Prefect API: a Prefect flow run costs ~1 s of
orchestration against ~0.3 s of work here, and hundreds of cycles must fit in minutes. So
Prefect's own task retries are not part of this suite (the connectors' retries are). Killed runs
are a process of their own (forked; this file with ``--driver`` where fork is not available).
Both clients' backoff is scaled down (same schedule shape) and their timeout is 1 s, so a 1.5 s
latency fault is a lost answer; shop locks and TikTok's token-refresh lease last 1 s, so a killed
run's shops are free 1 s later instead of 90 s (bench/chaos_runs.py).

A kill right after a TikTok token refresh was answered (or before its tokens were stored) loses
the shop's authorisation: the sandbox retired the refresh token used. The suite counts that
("authorisations lost to a kill"), authorises the shop again as an operator would, and goes on.

Prints cycles, runs by kind, faults injected and fired by channel and kind, kills, and invariant
violations (with the first examples); exit status 1 when there was any violation.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
for _path in (str(ROOT), str(BENCH)):  # the project, and the chaos_* modules beside this file
    if _path not in sys.path:
        sys.path.insert(0, _path)

import chaos_checks as checks  # noqa: E402
import chaos_faults as faults  # noqa: E402
import chaos_people as people  # noqa: E402
from chaos_runs import FAILED_ROWS, KILL_STATUS, kill_note, killed_run, run_in_killed_process, run_op  # noqa: E402
from chaos_world import SECRET_KEY, SHOPS, TIKTOK_SHOPS, World  # noqa: E402

__all__ = ["SHOPS", "TIKTOK_SHOPS", "Report", "World", "main", "run_op", "run_suite"]

AUTH_TEXT = "authorize tiktok"  # in every TikTok authorisation error (S.AUTHORISE_AGAIN)

log = logging.getLogger("lapak.chaos")


@dataclass
class Report:
    cycles: int = 0
    runs: Counter = field(default_factory=Counter)
    injected: Counter = field(default_factory=Counter)
    fired: Counter = field(default_factory=Counter)
    kills: Counter = field(default_factory=Counter)
    people: Counter = field(default_factory=Counter)
    violations: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    zero_write_checks: int = 0
    one_stock_checks: int = 0
    token_refreshes: int = 0
    auth_lost: list[str] = field(default_factory=list)
    seconds: float = 0.0
    spent: Counter = field(default_factory=Counter)

    def violate(self, cycle: int, where: str, problems: list[str]) -> None:
        for p in problems:
            self.violations[where] += 1
            if len(self.examples) < 25:
                self.examples.append(f"cycle {cycle} ({where}): {p}")

    @property
    def total_violations(self) -> int:
        return sum(self.violations.values())

    def lines(self) -> list[str]:
        out = [f"cycles: {self.cycles} in {self.seconds:.0f} s",
               "runs under faults: " + _fmt(self.runs),
               "faults injected (specs): " + _fmt(self.injected),
               "faults fired (sandbox counters): " + _fmt(self.fired),
               "process kills: " + _fmt(self.kills),
               "catalogue changes and buyers: " + _fmt(self.people),
               f"TikTok access tokens refreshed by the runs: {self.token_refreshes}",
               f"authorisations lost to a kill mid-refresh (authorised again): {len(self.auth_lost)}"
               + "".join(f"\n  {a}" for a in self.auth_lost),
               f"one-stock checks after completed runs: {self.one_stock_checks}",
               f"zero-write re-sync checks (both sandboxes): {self.zero_write_checks}",
               "time spent (s): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(self.spent.items())),
               f"invariant violations: {self.total_violations}"
               + (f" ({_fmt(self.violations)})" if self.violations else "")]
        out += [f"  {e}" for e in self.examples]
        return out


def _fmt(c: Counter) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(c.items())) or "none"


@contextlib.contextmanager
def _timed(report: Report, what: str) -> Iterator[None]:
    t = time.monotonic()
    try:
        yield
    finally:
        report.spent[what] += time.monotonic() - t


def _refreshes(world: World) -> int:
    paths = world.tt.admin.stats()["paths"]
    return sum(p["calls"] - p.get("http_5xx", 0) - p.get("http_429", 0)
               for path, p in paths.items() if path.endswith("/token/refresh"))


def run_killed(world: World, op: str, rng: random.Random) -> tuple[str, int]:
    hook = "store" if rng.random() < 0.3 else "http"
    n = rng.randint(1, 12 if hook == "store" else 30)
    when = rng.choice(("before", "after"))
    status = run_in_killed_process(op, world.config, n, when, hook, Path(__file__).resolve())
    if status != KILL_STATUS:
        return ("finished before the kill point" if status == 0 else "failed before the kill point"), status
    note = kill_note(world.config)
    on = "tiktok" if "tiktok" in note.split("last call", 1)[-1] else "marketplace"
    return (f"killed at {hook} {when}" + (f" ({on} call)" if hook == "http" else "")), status


def _run(world: World, report: Report, n: int, op: str, rng: random.Random, kill_share: float) -> tuple[str, str, dict]:
    """The run under faults: (outcome, result, its summary)."""
    if rng.random() < kill_share:
        outcome, status = run_killed(world, op, rng)
        report.kills[outcome] += 1
        return outcome, ("killed" if status == KILL_STATUS else "completed" if status == 0 else "failed"), {}
    try:
        return "completed", "completed", run_op(op, world.config)
    except Exception as err:
        text = f"{type(err).__name__}: {err}"
        if AUTH_TEXT in text:  # an expired access token is refreshed; never "authorise again"
            report.violate(n, "tiktok token refresh", [f"the {op} failed on TikTok's authorisation: {text[:400]}"])
        return f"failed ({text[:300]})", "failed", {}


def _clean_sync(world: World, report: Report, n: int, killed_note: str) -> None:
    """The sync with the faults off; a TikTok authorisation a kill lost mid-refresh is given again."""
    try:
        run_op("sync", world.config)
        return
    except Exception as err:
        text = f"{type(err).__name__}: {err}"
    if AUTH_TEXT in text and "token/refresh" in killed_note:
        report.auth_lost.append(f"cycle {n}: {killed_note}")
        world.authorize_tiktok()
        try:
            run_op("sync", world.config)
            return
        except Exception as err:
            text = f"{type(err).__name__}: {err}"
    report.violate(n, "clean run", [f"the sync failed with faults off: {text[:600]}"])


def cycle(world: World, report: Report, seed: int, n: int, *, zero_write_every: int, kill_share: float,
          verbose: bool) -> None:
    """One cycle: people change things, faults, a run, the safety checks, a clean run, the exact checks."""
    rng = random.Random(f"{seed}:{n}")
    with _timed(report, "checks"):
        old = world.version()  # the catalogues the last clean sync converged to
    with _timed(report, "people"):
        report.people.update(k.split(":", 1)[1] for k in people.mutate(world, rng))
        report.people.update(people.buyers(world, rng))
    with _timed(report, "checks"):
        sales = world.sales()
        desired, new = world.desired(sales), world.version()
        before = checks.stock_shown(checks.shown(world))
        fired0, refreshes0 = faults.fired(world), _refreshes(world)
    report.injected.update(faults.inject(world, rng))
    op = rng.choice(("sync",) * 6 + ("orders",) * 3 + ("backfill",))
    with _timed(report, "runs under faults"):
        outcome, result, summary = _run(world, report, n, op, rng, kill_share)
    report.runs[f"{op} {result}"] += 1
    with _timed(report, "checks"):
        faults.clear(world)
        report.fired.update(faults.fired(world) - fired0)
        products, sales = checks.shown(world), world.sales()
        report.violate(n, "after faults", checks.check_safety(world, products, before, desired, sales))
        if result == "completed" and summary:  # its orders pulled on both channels and stock corrected
            exempt = {(ch, sku) for ch, sku in summary[FAILED_ROWS]}
            report.violate(n, "one stock", checks.one_stock(world, products, sales, [old, new], exempt))
            report.one_stock_checks += 1

    with _timed(report, "clean runs"):
        _clean_sync(world, report, n, kill_note(world.config) if result == "killed" else "")
    with _timed(report, "checks"):
        products, sales = checks.shown(world), world.sales()
        report.violate(n, "converged", checks.check_converged(world, products, world.desired(sales), sales))
        report.token_refreshes += _refreshes(world) - refreshes0
    if zero_write_every and n % zero_write_every == 0:
        with _timed(report, "clean runs"):
            before_writes = checks.write_calls(world)
            try:
                planned = run_op("sync", world.config)["planned_writes"]
            except Exception as err:
                planned = f"{type(err).__name__}: {err}"
            made = {ch: k - before_writes[ch] for ch, k in checks.write_calls(world).items()}
        report.zero_write_checks += 1
        if planned != 0 or any(made.values()):
            report.violate(n, "zero-write re-sync", [f"planned {planned}, the sandboxes saw writes {made}"])
    report.cycles += 1
    if verbose:
        print(f"cycle {n}: {op} {outcome}; violations so far {report.total_violations}", flush=True)


@contextlib.contextmanager
def _both(*managers) -> Iterator[tuple]:
    """Enter context managers at once (the sandboxes start in ~3 s each), exit them all."""
    from concurrent.futures import ThreadPoolExecutor

    with contextlib.ExitStack() as stack:
        with ThreadPoolExecutor(len(managers)) as pool:
            started = [pool.submit(m.__enter__) for m in managers]
        for m, f in zip(managers, started):
            if f.exception() is None:
                stack.push(m.__exit__)
        yield tuple(f.result() for f in started)


def run_suite(cycles: int, seed: int, root: Path, *, zero_write_every: int = 5, kill_share: float = 0.2,
              verbose: bool = False) -> Report:
    """Run ``cycles`` chaos cycles in ``root`` (fresh sandboxes and world); returns the figures.
    Sets LAPAK_CLIENT_SECRET, LAPAK_TIKTOK_APP_SECRET and LAPAK_SECRET_KEY for the runs."""
    from connectors.sandbox import running_sandbox
    from connectors.tiktok_sandbox import running_tiktok_sandbox

    report = Report()
    t0 = time.monotonic()
    with _both(running_sandbox(root / "sandbox", rate_limit=None, shops=SHOPS),
               running_tiktok_sandbox(root / "tiktok", rate_limit=None, shops=TIKTOK_SHOPS)) as (sb, tt):
        os.environ["LAPAK_CLIENT_SECRET"] = sb.client_secret
        os.environ["LAPAK_TIKTOK_APP_SECRET"] = tt.app_secret
        os.environ["LAPAK_SECRET_KEY"] = SECRET_KEY
        world = World(root / "world", sb, tt, seed=seed)
        try:
            world.authorize_tiktok()
            world.desired()
            run_op("sync", world.config)  # the first listing, without faults
            sales = world.sales()
            report.violate(0, "converged", checks.check_converged(world, checks.shown(world), world.desired(sales),
                                                                  sales))
            for n in range(1, cycles + 1):
                cycle(world, report, seed, n, zero_write_every=zero_write_every, kill_share=kill_share, verbose=verbose)
        finally:
            world.close()
    report.seconds = time.monotonic() - t0
    return report


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--driver"]:  # where fork is not available
        logging.disable(logging.CRITICAL)
        op, config, n, when, hook = argv[1:6]
        return killed_run(op, Path(config), int(n), when, hook)
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--cycles", type=int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--kill-share", type=float, default=0.2, help="share of cycles run in a process killed part-way")
    p.add_argument("--zero-write-every", type=int, default=5, help="a zero-write re-sync check every N cycles")
    p.add_argument("--keep", type=Path, default=None, help="keep the sandboxes, catalogues and state here")
    p.add_argument("--verbose", "-v", action="store_true")
    args = p.parse_args(argv)
    for k in [k for k in os.environ if k.startswith("LAPAK_")]:  # a developer's overrides would skew the run
        del os.environ[k]
    logging.basicConfig(level=logging.CRITICAL)
    root = args.keep or Path(tempfile.mkdtemp(prefix="lapak-chaos-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"chaos suite: {args.cycles} cycles, seed {args.seed}, in {root}", flush=True)
    try:
        report = run_suite(args.cycles, args.seed, root, zero_write_every=args.zero_write_every,
                           kill_share=args.kill_share, verbose=args.verbose)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print("\n".join(report.lines()))
    return 1 if report.total_violations else 0


if __name__ == "__main__":
    sys.exit(main())
