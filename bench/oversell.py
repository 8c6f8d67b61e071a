"""Oversell benchmark: the cross-channel window, with both sandboxes and the real engine.

    .venv/bin/python bench/oversell.py [--cycles 12] [--rate 2] [--buffer RATE] [--seed 1] [--verbose]

The model
---------
One group (the samples' Wonosobo group, ``flows/samples``) sells on both channels: the first
marketplace (shop 479573) and the TikTok-shaped one (shop 7494001). Its catalogue records a stock
``R`` per SKU; the SKUs measured are those listed and active on both channels (the ones with
photo files: TikTok takes uploaded images only). The pipeline runs as the flows would, minus
Prefect: the engine (``flows.engine.sync.run_sync`` once, then ``flows.engine.order_runs.
run_order_pull``) in this process, each step inline (``flows.engine.steps.Inline``), on one
``flows.engine.runtime.Runtime``; the TikTok shop authorised with ``lapak authorize tiktok``.

Each cycle (``random.Random(SEED)`` picks which channel's buyers come first):

1. buyers on the first channel buy RATE units of every SKU, each buyer seeing only that
   channel's own stock: a buyer takes ``min(RATE, shown)`` (nothing when it shows 0);
2. buyers on the other channel do the same, against *its* shown stock, which does not yet know
   about step 1 (each channel takes its own sales off its own stock, nothing more);
3. one order pull: every shop's orders on both channels, then each shop's stock corrected to
   ``recorded − sold on all channels − safety_buffer`` (the stock rule, ``schemas/stock.py``).

Both sandboxes refuse an order larger than the stock they show (checked: the first one's
``place_order`` answers "not enough stock"; refusals are counted). They cannot know the other
channel's sales, so the ground truth is this simulation's own ledger of accepted orders: ``S`` =
units sold on all channels, the truth = ``max(0, R − S)``. Before each buyer step and before the
pull, each channel's shown stock is compared with the truth: a cycle *showed more than the truth*
when any channel showed any SKU above it (the other channel's sales not yet pulled); its excess is
``shown − truth``. Units *oversold* = ``Σ max(0, S − R)`` over the SKUs: sold beyond what the
catalogue recorded (a unit sold on one channel after the other had already sold the last one).
At the end, the ledger is checked against the sandboxes' own order lists, and the units of the
truth that no channel shows any more are counted (what the buffer holds back).

Expectation: with buffer 0 a channel shows up to RATE too many after the other channel sold, and
the last units of a SKU are sold on both channels (oversold). With ``safety_buffer = b`` each
channel shows at most ``T − b`` after a pull (``T`` the truth then) and sells at most
``min(RATE, T − b)`` before the next one, so both together sell at most ``2·min(RATE, T − b)``,
which is ``≤ T`` for every ``T`` exactly when ``b ≥ RATE``: the buffer must cover what the
*other* channel sells between two pulls (here RATE per SKU per cycle). The buffered run uses
``--buffer`` (default RATE); goal: 0 oversold. The buffer-0 run is always made too.

Prints one table; exit status 1 when the buffered run oversold or the ledger disagrees with a
sandbox. A few seconds of setup per run (two sandboxes, one sync with photo uploads), then well
under a second per cycle.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import random
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SAMPLES = ROOT / "flows" / "samples"
GROUP = "wonosobo-sekar-carica"
MARKET, TIKTOK = "marketplace", "tiktok"
MARKET_SHOP, TIKTOK_SHOP = 479573, 7494001
SECRET_KEY = "an oversell benchmark key, long and random in real life"

log = logging.getLogger("lapak.bench.oversell")


@dataclass
class Outcome:
    """What one simulated run measured."""

    buffer: int
    skus: dict[str, int] = field(default_factory=dict)  # SKU -> recorded stock
    sold: dict[str, dict[str, int]] = field(default_factory=lambda: {MARKET: {}, TIKTOK: {}})
    wanted: int = 0
    refused: int = 0
    over_cycles: int = 0      # cycles in which some channel showed more than the truth
    max_excess: int = 0
    pull_lag_cycles: int = 0  # cycles that started (right after a pull) above the truth
    oversold_live: int = 0    # counted order by order, as units beyond the truth at the time
    ledger_ok: bool = True
    held_back: int = 0        # at the end: units of the truth that no channel shows (the buffer's cost)
    seconds: float = 0.0
    pull_seconds: list[float] = field(default_factory=list)

    def total_sold(self, sku: str) -> int:
        return sum(by.get(sku, 0) for by in self.sold.values())

    @property
    def oversold(self) -> int:
        return sum(max(0, self.total_sold(s) - r) for s, r in self.skus.items())

    def truth(self) -> dict[str, int]:
        return {s: max(0, r - self.total_sold(s)) for s, r in self.skus.items()}


# ---- the world: two sandboxes, the samples pointed at them, the TikTok shop authorised ----------

def make_config(work: Path, market, tiktok, buffer: int) -> Path:
    """The samples (only Wonosobo's group, on both channels) pointed at both sandboxes."""
    from flows.cli.demo import with_tiktok

    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "*.md", "*.json", "out", "var",
                                                                   "__pycache__"))
    cfg = work / "lapak.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
    text = re.sub(r'(?ms)^\[\[groups\]\]\nid = "(?!' + GROUP + r')[^"]*".*?(?=^\[\[groups\]\]|^\[categories\])', "",
                  text)
    text = text.replace('client_id = "lapak-demo"', 'client_id = "lapak-demo"\nrate_limit_per_second = 1000')
    text, n = re.subn(r"(?m)^safety_buffer = \d+$", f"safety_buffer = {buffer}", text)
    if n != 1:
        raise SystemExit("samples/lapak.toml: no [stock] safety_buffer line to set")
    cfg.write_text(with_tiktok(text, tiktok.url, TIKTOK_SHOP, GROUP), encoding="utf-8")
    return cfg


def authorise(cfg: Path) -> None:
    from flows.cli import main as lapak

    with contextlib.redirect_stdout(io.StringIO()) as said:
        status = lapak(["authorize", "tiktok", "--config", str(cfg), "--shop", str(TIKTOK_SHOP),
                        "--code", f"code-{TIKTOK_SHOP}"])
    if status != 0 or "authorised until" not in said.getvalue():
        raise SystemExit(f"lapak authorize tiktok failed ({status}): {said.getvalue().strip()}")


def shown(market, tiktok) -> dict[str, dict[str, int]]:
    """What each channel shows now per SKU (the sandboxes' own rows; TikTok: summed warehouses)."""
    return {MARKET: {p["sku"]: int(p["stock"]) for p in market.admin.products(MARKET_SHOP)},
            TIKTOK: {p["seller_sku"]: sum(p["doc"]["inventory"].values()) for p in tiktok.admin.products(TIKTOK_SHOP)}}


def both_active(market, tiktok) -> list[str]:
    first = {p["sku"] for p in market.admin.products(MARKET_SHOP) if p.get("status") == "ACTIVE"}
    second = {p["seller_sku"] for p in tiktok.admin.products(TIKTOK_SHOP) if p.get("status") == "ACTIVATE"}
    return sorted(first & second)


def place(market, tiktok, channel: str, sku: str, qty: int) -> bool:
    """One buyer's order; False when the sandbox refused it."""
    from connectors.sandbox.admin_client import SandboxAdminError
    from connectors.tiktok_sandbox import TikTokSandboxAdminError

    try:
        if channel == MARKET:
            market.admin.place_order(MARKET_SHOP, [{"sku": sku, "quantity": qty}])
        else:
            tiktok.admin.place_order(TIKTOK_SHOP, [{"seller_sku": sku, "quantity": qty}])
    except (SandboxAdminError, TikTokSandboxAdminError) as err:
        log.info("%s refused %d × %s: %s", channel, qty, sku, err)
        return False
    return True


def ledger_matches(out: Outcome, market, tiktok) -> bool:
    """The sandboxes' own orders hold exactly the units this simulation counted as sold."""
    first: dict[str, int] = {}
    for o in market.admin.orders(MARKET_SHOP):
        for it in o.get("items") or o.get("products") or []:
            sku = it.get("sku")
            first[sku] = first.get(sku, 0) + int(it.get("quantity", 1))
    second: dict[str, int] = {}
    for o in tiktok.admin.orders(TIKTOK_SHOP):
        for line in o["line_items"]:  # one line item per unit
            second[line["seller_sku"]] = second.get(line["seller_sku"], 0) + 1
    want = {ch: {s: n for s, n in by.items() if n} for ch, by in out.sold.items()}
    return ({s: n for s, n in first.items() if s in out.skus} == want[MARKET]
            and {s: n for s, n in second.items() if s in out.skus} == want[TIKTOK])


# ---- one run -------------------------------------------------------------------------------------

def observe(out: Outcome, market, tiktok) -> int:
    """The largest excess any channel shows over the truth now (0 when none)."""
    now, truth = shown(market, tiktok), out.truth()
    return max((now[ch].get(s, 0) - t for ch in now for s, t in truth.items()), default=0)


def buy(out: Outcome, market, tiktok, channel: str, rate: int, rng: random.Random) -> None:
    """Buyers on ``channel`` take ``min(rate, shown)`` of every SKU, one order per SKU."""
    view = shown(market, tiktok)[channel]
    for sku in rng.sample(sorted(out.skus), len(out.skus)):
        qty = min(rate, view.get(sku, 0))
        out.wanted += rate
        if qty <= 0:
            continue
        truth_before = max(0, out.skus[sku] - out.total_sold(sku))
        if not place(market, tiktok, channel, sku, qty):
            out.refused += 1
            continue
        out.sold[channel][sku] = out.sold[channel].get(sku, 0) + qty
        out.oversold_live += max(0, qty - truth_before)


def simulate(root: Path, *, cycles: int, rate: int, buffer: int, seed: int, verbose: bool) -> Outcome:
    from connectors.sandbox import running_sandbox
    from connectors.tiktok_sandbox import running_tiktok_sandbox
    from flows.engine.order_runs import raise_for_errors, run_order_pull
    from flows.engine.planning import SyncOptions
    from flows.engine.runtime import open_run
    from flows.engine.steps import Inline
    from flows.engine.sync import run_sync

    out, rng, t0 = Outcome(buffer), random.Random(f"{seed}:{rate}"), time.perf_counter()
    with running_sandbox(root / "market", rate_limit=None) as market, \
            running_tiktok_sandbox(root / "tiktok") as tiktok:
        os.environ["LAPAK_CLIENT_SECRET"] = market.client_secret
        os.environ["LAPAK_TIKTOK_APP_SECRET"] = tiktok.app_secret
        os.environ["LAPAK_SECRET_KEY"] = SECRET_KEY
        cfg = make_config(root / "work", market, tiktok, buffer)
        authorise(cfg)
        with open_run(cfg) as rt:
            run_sync(rt, SyncOptions(), Inline(rt)).raise_for_problems()
            skus = both_active(market, tiktok)
            recorded = {k.sku: k.recorded_stock for k in rt.store.listings(shop_id=MARKET_SHOP, channel=MARKET)}
            out.skus = {s: recorded[s] for s in skus}
            if verbose:
                now = shown(market, tiktok)
                print(f"  buffer {buffer}: SKUs on both channels {skus}; recorded {list(out.skus.values())}, "
                      f"shown {[now[MARKET][s] for s in skus]} / {[now[TIKTOK][s] for s in skus]}", flush=True)
            for n in range(1, cycles + 1):
                first, second = rng.sample((MARKET, TIKTOK), 2)
                start = observe(out, market, tiktok)  # right after the last pull
                buy(out, market, tiktok, first, rate, rng)
                middle = observe(out, market, tiktok)  # what the second channel's buyers are shown
                buy(out, market, tiktok, second, rate, rng)
                end = observe(out, market, tiktok)  # the first channel has not heard of the second's sales
                worst = max(start, middle, end)
                out.pull_lag_cycles += start > 0
                out.over_cycles += worst > 0
                out.max_excess = max(out.max_excess, worst)
                t1 = time.perf_counter()
                raise_for_errors(run_order_pull(rt, Inline(rt)))
                out.pull_seconds.append(time.perf_counter() - t1)
                if verbose:
                    print(f"  cycle {n:2d}: {first} then {second}; excess start/middle/end {start}/{middle}/{end}; "
                          f"truth {list(out.truth().values())}; oversold so far {out.oversold}", flush=True)
        out.ledger_ok = ledger_matches(out, market, tiktok)
        last = shown(market, tiktok)
        out.held_back = sum(max(0, t - max(last[ch].get(s, 0) for ch in last)) for s, t in out.truth().items())
    out.seconds = time.perf_counter() - t0
    return out


# ---- the table -----------------------------------------------------------------------------------

def table(runs: list[Outcome], cycles: int, rate: int) -> list[str]:
    rows = [("safety_buffer", *(str(o.buffer) for o in runs)),
            ("SKUs on both channels", *(str(len(o.skus)) for o in runs)),
            ("recorded stock (all SKUs)", *(str(sum(o.skus.values())) for o in runs)),
            ("order-pull cycles", *(str(cycles) for _ in runs)),
            ("units wanted by buyers", *(str(o.wanted) for o in runs)),
            ("units sold: marketplace", *(str(sum(o.sold[MARKET].values())) for o in runs)),
            ("units sold: tiktok", *(str(sum(o.sold[TIKTOK].values())) for o in runs)),
            ("orders refused by a sandbox", *(str(o.refused) for o in runs)),
            ("cycles a channel showed > truth", *(f"{o.over_cycles} / {cycles}" for o in runs)),
            ("max excess (units, one SKU)", *(str(o.max_excess) for o in runs)),
            ("cycles still > truth after a pull", *(str(o.pull_lag_cycles) for o in runs)),
            ("units oversold (sold > recorded)", *(str(o.oversold) for o in runs)),
            ("  same, counted order by order", *(str(o.oversold_live) for o in runs)),
            ("units left at the end, shown nowhere", *(str(o.held_back) for o in runs)),
            ("ledger = sandboxes' orders", *("yes" if o.ledger_ok else "NO" for o in runs)),
            ("order pull, mean seconds", *(f"{sum(o.pull_seconds) / max(1, len(o.pull_seconds)):.2f}" for o in runs)),
            ("run seconds (setup included)", *(f"{o.seconds:.1f}" for o in runs))]
    width = max(len(r[0]) for r in rows)
    cols = [max(len(r[i]) for r in rows) for i in range(1, len(runs) + 1)]
    lines = [f"oversell window: {cycles} cycles, {rate} units per SKU per cycle on each channel"]
    for i, r in enumerate(rows):
        lines.append(r[0].ljust(width) + "  " + "  ".join(c.rjust(w) for c, w in zip(r[1:], cols)))
        if i == 0:
            lines.append("-" * width + "  " + "  ".join("-" * w for w in cols))
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cycles", type=int, default=12, help="order-pull cycles per run")
    ap.add_argument("--rate", type=int, default=2, help="units per SKU per cycle bought on each channel")
    ap.add_argument("--buffer", type=int, default=None, help="safety_buffer of the buffered run (default: RATE)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="keep the sandboxes, config and state here")
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)
    if args.rate < 1 or args.cycles < 1:
        ap.error("--rate and --cycles must be at least 1")
    buffer = args.rate if args.buffer is None else args.buffer
    for k in [k for k in os.environ if k.startswith("LAPAK_")]:  # a developer's overrides would skew the run
        del os.environ[k]
    logging.basicConfig(level=logging.ERROR, format="  [%(levelname)s %(name)s] %(message)s")
    root = args.keep or Path(tempfile.mkdtemp(prefix="lapak-oversell-"))
    runs = []
    try:
        for b in (0, buffer):
            print(f"run with safety_buffer = {b} ...", flush=True)
            runs.append(simulate(root / f"buffer-{b}", cycles=args.cycles, rate=args.rate, buffer=b, seed=args.seed,
                                 verbose=args.verbose))
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print("\n".join(table(runs, args.cycles, args.rate)))
    buffered = runs[-1]
    ok = all(o.ledger_ok for o in runs) and buffered.oversold == 0
    print(f"\ngoal: 0 units oversold with safety_buffer = {buffer}: "
          f"{'met' if buffered.oversold == 0 else 'MISSED'} ({buffered.oversold}); "
          f"without a buffer: {runs[0].oversold} units oversold")
    if buffer < args.rate:
        print(f"note: a buffer below RATE ({args.rate}) guarantees nothing: the result depends on the stock figures")
    print("result:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
