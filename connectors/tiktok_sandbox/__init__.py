"""The second channel's sandbox: a real HTTP server speaking ../shared/tiktok-shop-api.md.

State (products, uploaded images, orders, tokens, idempotency keys, the webhook target) is kept
in SQLite (and image files) under a data folder and survives restarts. Outside the contract,
``/admin`` (loopback only) places orders, moves their status, expires tokens, injects faults,
reads counters and sets the webhook target (see :mod:`connectors.tiktok_sandbox.admin`; its
client is :class:`TikTokSandboxAdmin`).

Defaults (:class:`TikTokSandboxSettings`): app_key ``lapak-tiktok-demo``, app_secret
``lapak-tiktok-demo-secret``, shops ``7494001,7494002,7494003`` (auth codes ``code-<shop id>``,
reusable; each shop has a cipher ``ROW_…``, a default warehouse ``<shop id>01`` and a second one
``<shop id>02``), rate limit 50 requests/s per path template (burst 50), access tokens 7 days,
refresh tokens 365 days, webhooks 5 s timeout and 3 retries.

Categories (:mod:`connectors.tiktok_sandbox.categories`): an Indonesian tree three levels deep
whose 23 leaves are the first marketplace's under other parents, except three names — a
project config maps them with ``[tiktok.categories]`` aliases:

====================  ======  ===========================
first marketplace     id      here
====================  ======  ===========================
Keripik               710101  Keripik & Kerupuk
Kopi Bubuk            710301  Kopi
Masker Kain           740101  Masker Kain & Scuba
====================  ======  ===========================

Entry points: ``running_tiktok_sandbox(data_dir, **settings)`` (a subprocess on a free port, for
tests and demos), ``server.run_from_cli(args)`` and ``python -m connectors.tiktok_sandbox``.
Only the server process needs FastAPI and uvicorn: this package and what it exports import
without them.
"""

from connectors.tiktok_sandbox.admin_client import TikTokSandboxAdmin, TikTokSandboxAdminError
from connectors.tiktok_sandbox.handle import TikTokSandboxHandle, TikTokSandboxStartError, running_tiktok_sandbox
from connectors.tiktok_sandbox.settings import TikTokSandboxSettings

__all__ = [
    "TikTokSandboxAdmin",
    "TikTokSandboxAdminError",
    "TikTokSandboxHandle",
    "TikTokSandboxSettings",
    "TikTokSandboxStartError",
    "running_tiktok_sandbox",
]
