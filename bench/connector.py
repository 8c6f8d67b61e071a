"""Connector benchmark: paced bulk stock updates against the sandbox, then the same under faults.

    .venv/bin/python bench/connector.py [--items 2000] [--rate 100] [--fault-rate 0.1]
    .venv/bin/python bench/connector.py --channel tiktok [...]   (bench/connector_tiktok.py: its flags)

``--channel marketplace`` (the default) measures the first marketplace's connector as below;
``--channel tiktok`` runs bench/connector_tiktok.py instead (creates and stock updates at the
TikTok-shaped contract's rate limit, then creates under 5xx-after-apply faults, exactly-once).

1. Setup (unpaced): a sandbox without a rate limit; ITEMS products created.
2. Paced run: the sandbox limited to RATE items/s per path; ITEMS absolute stock updates through
   a client configured at the same rate. Goals: achieved items/s >= 90 % of RATE, no HTTP 429,
   row-level 429s <= 1 % of the items.
3. Faults: the same updates (new values) with FAULT_RATE of the stock calls answering 5xx
   *after* applying, then FAULT_CREATES new products created with CREATE_FAULT_RATE of the
   create calls answering 5xx after applying. Checked
   through the contract (product/info): every SKU holds the last value sent, and no SKU or name
   appears twice.

Prints the figures; exit status 1 if a correctness check fails (speed goals are reported only).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from pydantic import SecretStr

from connectors.marketplace import MarketplaceClient
from connectors.sandbox import running_sandbox


def client_for(sb, rate: float) -> MarketplaceClient:
    return MarketplaceClient(sb.url, sb.url, sb.fs_id, sb.client_id, SecretStr(sb.client_secret),
                             rate_limit_per_second=rate, timeout=30)


def products(prefix: str, n: int) -> list[dict]:
    return [{"name": f"Produk Bench {prefix} {i:05d}", "sku": f"{prefix}-{i:05d}", "category_id": 101,
             "price": 10_000 + i, "stock": 1, "weight": 150,
             "pictures": [{"file_path": f"https://img.example/{prefix}/{i}.jpg"}]} for i in range(n)]


def stock_run(client: MarketplaceClient, shop: int, skus: list[str], values: list[int]) -> tuple[float, object]:
    t0 = time.perf_counter()
    result = client.update_stock(shop, [{"sku": s, "new_stock": v} for s, v in zip(skus, values)])
    return time.perf_counter() - t0, result


def delta(after: dict, before: dict) -> dict:
    """Counters accumulated between two snapshots of ``client.counters``."""
    out = {}
    for k, v in after.items():
        if isinstance(v, dict):
            out[k] = {e: n - before.get(k, {}).get(e, 0) for e, n in v.items()}
        else:
            out[k] = v - before.get(k, 0)
    return out


def main(argv: list[str] | None = None) -> int:
    pick = argparse.ArgumentParser(add_help=False)
    pick.add_argument("--channel", choices=("marketplace", "tiktok"), default="marketplace")
    chosen, rest = pick.parse_known_args(sys.argv[1:] if argv is None else argv)
    if chosen.channel == "tiktok":
        import connector_tiktok  # bench/ is this script's folder

        return connector_tiktok.main(rest)
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0], parents=[pick])
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--fault-rate", type=float, default=0.1)
    ap.add_argument("--fault-creates", type=int, default=500)
    ap.add_argument("--create-fault-rate", type=float, default=0.2)
    args = ap.parse_args(rest)
    logging.basicConfig(level=logging.WARNING, format="  [%(levelname)s %(name)s] %(message)s")
    ok = True

    with tempfile.TemporaryDirectory(prefix="lapak-bench-") as tmp, \
            running_sandbox(Path(tmp), rate_limit=None) as sb:
        shop = sb.shops[0]
        admin = sb.admin

        # 1. setup, unpaced
        t0 = time.perf_counter()
        with client_for(sb, 1e6) as setup:
            rows = products("BENCH", args.items)
            created = setup.create_products(shop, rows)
        skus = [r["sku"] for r in rows]
        print(f"setup: {len(created.applied)} products created in {time.perf_counter() - t0:.1f} s "
              f"({len(created.failed)} failed)")
        ok &= created.ok

        # 2. paced run. One client for the paced and the fault runs, as one sync would use:
        # a fresh client cannot know a bucket another client has just drained.
        admin.set_rate_limit(args.rate)
        admin.reset_stats()
        client = client_for(sb, args.rate)
        first = [(i * 7) % 900 + 1 for i in range(args.items)]
        elapsed, result = stock_run(client, shop, skus, first)
        c = client.counters
        server = admin.stats()["totals"]
        rate = args.items / elapsed
        burst = min(args.rate, args.items)  # the buckets start full
        print(f"\npaced run: {args.items} stock updates, sandbox and client at {args.rate:g} items/s")
        print(f"  elapsed            {elapsed:.2f} s")
        print(f"  achieved           {rate:.1f} items/s ({rate / args.rate:.1%} of the limit; "
              f"{(args.items - burst) / elapsed:.1f} items/s not counting the first full bucket)")
        print(f"  HTTP 429           {c['http_429']} (server counted {server['http_429']})")
        print(f"  row-level 429      {c['row_429']} ({c['row_429'] / args.items:.2%} of items; "
              f"server counted {server['row_429']})")
        print(f"  calls              {c['calls'].get('stock', 0)} stock calls, retries {c['retries']}")
        print(f"  applied / failed   {len(result.applied)} / {len(result.failed)}")
        ok &= result.ok and len(result.applied) == args.items

        # 3. the same updates under 5xx-after-apply faults
        admin.reset_stats()
        admin.inject_fault("error_5xx_after", path="/stock/update", probability=args.fault_rate, seed=7)
        second = [(i * 13) % 900 + 1000 for i in range(args.items)]
        before = client.counters
        elapsed, result = stock_run(client, shop, skus, second)
        c = delta(client.counters, before)
        stats = admin.stats()
        fired = stats["faults_fired"].get("error_5xx_after", 0)
        calls = stats["paths"].get(f"/inventory/v1/fs/{sb.fs_id}/stock/update", {}).get("calls", 0)
        print(f"\nfault run: same {args.items} updates, {args.fault_rate:.0%} of stock calls answer 5xx after applying")
        print(f"  elapsed            {elapsed:.2f} s ({args.items / elapsed:.1f} items/s; "
              "each fault re-sends its batch)")
        print(f"  faults fired       {fired} of {calls} stock calls")
        print(f"  client retries     {c['retries']}, HTTP 429 {c['http_429']}, row-level 429 {c['row_429']}")
        print(f"  applied / failed   {len(result.applied)} / {len(result.failed)}")
        ok &= result.ok and len(result.applied) == args.items

        # creations under the same kind of fault: a lost answer must not make a second listing
        admin.reset_stats()
        admin.inject_fault("error_5xx_after", path="/create", probability=args.create_fault_rate, seed=11)
        extra = products("FAULT", args.fault_creates)
        before = client.counters
        made = client.create_products(shop, extra)
        cc = delta(client.counters, before)
        admin.clear_faults()
        fired = admin.stats()["faults_fired"].get("error_5xx_after", 0)
        print(f"\ncreates under faults: {args.fault_creates} new products, {args.create_fault_rate:.0%} of create "
              f"calls answer 5xx after applying")
        print(f"  faults fired       {fired} of {cc['calls'].get('create', 0)} create calls")
        print(f"  lost answers       {cc['lost_responses']}, SKU look-ups {cc['sku_lookups']}")
        print(f"  applied / failed   {len(made.applied)} / {len(made.failed)}")
        ok &= made.ok and len(made.applied) == args.fault_creates
        client.close()

        # verification through the contract
        with client_for(sb, args.rate) as reader:
            held = list(reader.iter_products(shop, per_page=50))
        stock = {p.sku: p.stock.value for p in held}
        wrong = [s for s, v in zip(skus, second) if stock.get(s) != v]
        sku_dupes = [s for s, n in Counter(p.sku for p in held).items() if n > 1]
        name_dupes = [s for s, n in Counter((p.name or "").casefold() for p in held).items() if n > 1]
        missing = [r["sku"] for r in extra if r["sku"] not in stock]
        ids_match = all(stock.get(r.key) is not None for r in made.applied)
        print(f"\nverification (product/info, {len(held)} products in shop {shop}):")
        print(f"  stock = last value sent   {args.items - len(wrong)} / {args.items} SKUs")
        print(f"  duplicate SKUs / names    {len(sku_dupes)} / {len(name_dupes)}")
        print(f"  created under faults      {args.fault_creates - len(missing)} / {args.fault_creates} present once")
        expected_total = args.items + args.fault_creates
        print(f"  products in shop          {len(held)} (expected {expected_total})")
        ok &= not wrong and not sku_dupes and not name_dupes and not missing and ids_match
        ok &= len(held) == expected_total

    print("\nresult:", "OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
