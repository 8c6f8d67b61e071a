"""Faults the chaos suite (bench/chaos.py) injects into both sandboxes each cycle.

Marketplace: 5xx before and after a write is applied, 429 storms, token expiry, slow answers (some
past the client's timeout: a lost answer whose write may still land).
TikTok: the same kinds plus dropped connections after a write is applied (``drop_after``); its
access token expires mid-run (a ``token_expiry`` fault at a call, or expired through the admin
surface while the client still holds it as valid) and must be refreshed, never fail the run.

Faults that would lose the answer of a token *refresh* are not injected on TikTok (an after-apply
5xx, a dropped connection or a timeout on ``/api/v2/token/refresh``): the sandbox retires the
refresh token a refresh used (contract §1: "store the returned refresh token"), so a lost refresh
answer loses the shop's authorisation and only an operator can authorise it again. Faults before a
refresh is applied (5xx, 429, short latency) do reach it.
"""

from __future__ import annotations

import random
from collections import Counter

from chaos_runs import CLIENT_TIMEOUT_S
from chaos_world import TIKTOK_SHOPS, World

WRITE_PATHS = ("/create", "/edit", "/price/update", "/stock/update", "/active", "/inactive")
READ_PATHS = ("/product/info", "/order/list", "/v2/fs/", "/token")
EVERY_RUN = ("", "", "/order/list", "/product/info")  # paths (""= any) every run calls: faults there fire

TT_ORDERS = "/order/202309/orders"
TT_PRODUCTS = "/product/202309/products"  # a prefix of every product call (search, detail, writes)
TT_WRITES = ("/partial_edit", "/inventory/update", "/prices/update", "/products/activate", "/products/deactivate",
             "/images/upload", TT_PRODUCTS)
TT_READS = ("/products/search", "/authorization/202309/shops", "/logistics/202309/warehouses",
            "/product/202309/categories", TT_ORDERS)
TT_TOKEN = "/api/v2/token/refresh"
TT_EVERY_RUN = ("", "", TT_ORDERS, "/authorization/202309/shops")
TT_LOSES_ANSWER = TT_WRITES + TT_READS  # never "" nor the token path: see the module's docstring


def inject(world: World, rng: random.Random) -> Counter:
    """1–3 faults on each sandbox; returns ``channel: kind`` counts."""
    return _marketplace(world, rng) + _tiktok(world, rng)


def _marketplace(world: World, rng: random.Random) -> Counter:
    admin = world.sb.admin
    injected: Counter = Counter()
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("error_5xx_before", "error_5xx_after", "http_429", "token_expiry", "latency"))
        seed = rng.randrange(1 << 30)
        if kind == "error_5xx_before":
            path = rng.choice(EVERY_RUN + WRITE_PATHS + READ_PATHS)
            if rng.random() < 0.5:
                admin.inject_fault(kind, path=path, count=rng.randint(1, 3), seed=seed)
            else:
                admin.inject_fault(kind, path=path, probability=0.3, count=6, seed=seed)
        elif kind == "error_5xx_after":
            admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS + ("/token",)),
                               count=rng.randint(1, 2), seed=seed, status=rng.choice((500, 502, 503)))
        elif kind == "http_429":  # a storm: several in a row on one path
            admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS + READ_PATHS),
                               count=rng.randint(3, 10), reset_after=round(rng.uniform(0.02, 0.2), 3), seed=seed)
        elif kind == "token_expiry":
            admin.inject_fault(kind, path=rng.choice(("",) + WRITE_PATHS + ("/order/list",)),
                               count=rng.randint(1, 2), seed=seed)
        elif rng.random() < 0.3:  # an answer that never comes in time: the write may still land
            admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS), count=1,
                               seconds=CLIENT_TIMEOUT_S + 0.5)
            kind = "latency (timeout)"
        else:
            admin.inject_fault(kind, path=rng.choice(EVERY_RUN + WRITE_PATHS + READ_PATHS), probability=0.5,
                               count=6, seconds=round(rng.uniform(0.02, 0.25), 3), seed=seed)
        injected[f"marketplace {kind}"] += 1
    return injected


def _tiktok(world: World, rng: random.Random) -> Counter:
    admin = world.tt.admin
    injected: Counter = Counter()
    expired = False
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(("error_5xx_before", "error_5xx_after", "drop_after", "http_429", "token_expiry",
                           "latency"))
        seed = rng.randrange(1 << 30)
        if kind == "token_expiry" and expired:  # one expiry a cycle: a refreshed token is not refused again
            kind = "error_5xx_before"
        if kind == "error_5xx_before":
            path = rng.choice(TT_EVERY_RUN + TT_WRITES + TT_READS + (TT_TOKEN,))
            if rng.random() < 0.5:
                admin.inject_fault(kind, path=path, count=rng.randint(1, 3), seed=seed)
            else:
                admin.inject_fault(kind, path=path, probability=0.3, count=6, seed=seed)
        elif kind in ("error_5xx_after", "drop_after"):
            admin.inject_fault(kind, path=rng.choice(TT_LOSES_ANSWER), count=rng.randint(1, 2), seed=seed,
                               status=rng.choice((500, 502, 503)))
        elif kind == "http_429":  # a storm; Retry-After says 1 s (the harness's client sleeps 1/25 of it)
            admin.inject_fault(kind, path=rng.choice(TT_EVERY_RUN + TT_WRITES + TT_READS + (TT_TOKEN,)),
                               count=rng.randint(2, 6), retry_after=1, seed=seed)
        elif kind == "token_expiry":
            expired = True
            if rng.random() < 0.35:  # expired on the server while the client still holds it as valid
                admin.expire_token(rng.choice(TIKTOK_SHOPS), "access")
                kind = "token_expiry (admin)"
            else:
                admin.inject_fault(kind, path=rng.choice(TT_EVERY_RUN + TT_WRITES), count=1, seed=seed)
        elif rng.random() < 0.3:  # an answer that never comes in time: the write may still land
            admin.inject_fault(kind, path=rng.choice(TT_LOSES_ANSWER), count=1, seconds=CLIENT_TIMEOUT_S + 0.5)
            kind = "latency (timeout)"
        else:
            admin.inject_fault(kind, path=rng.choice(TT_EVERY_RUN + TT_WRITES + TT_READS), probability=0.5,
                               count=6, seconds=round(rng.uniform(0.02, 0.25), 3), seed=seed)
        injected[f"tiktok {kind}"] += 1
    return injected


def fired(world: World) -> Counter:
    """Faults fired so far, by ``channel: kind`` (the sandboxes' own counters)."""
    out: Counter = Counter()
    for channel, admin in (("marketplace", world.sb.admin), ("tiktok", world.tt.admin)):
        out.update({f"{channel} {k}": n for k, n in (admin.stats().get("faults_fired") or {}).items()})
    return out


def clear(world: World) -> None:
    world.sb.admin.clear_faults()
    world.tt.admin.clear_faults()
