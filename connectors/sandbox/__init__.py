"""The project's sandbox marketplace: a real HTTP server speaking ../shared/marketplace-api.md.

State (products, orders, uploaded pictures, tokens, counters) is kept in SQLite under a data
folder and survives restarts. Outside the contract, ``/admin`` places simulated orders, moves
their status, injects faults, reads counters and hands back uploaded pictures (see
:mod:`connectors.sandbox.admin`; its client is :class:`SandboxAdmin`).

Defaults (``SandboxSettings``; used by ``lapak sandbox`` and the demo): client_id
``lapak-demo``, client_secret ``lapak-demo-secret``, fs_id ``15001``, shops
``479573,479574,479575``, rate limit 50 items/s per endpoint path (burst 50).

Entry points: ``running_sandbox(data_dir, …)`` (a subprocess, for tests and the demo),
``server.run_from_cli(args)`` (``lapak sandbox``) and ``python -m connectors.sandbox``.

Only the server process needs FastAPI and uvicorn (the ``lapak-desa[sandbox]`` extra): this
package and everything it exports import without them, and starting a server without them
fails with one line saying what to install.
"""

from connectors.sandbox.admin_client import SandboxAdmin, SandboxAdminError
from connectors.sandbox.handle import SandboxHandle, SandboxStartError, running_sandbox
from connectors.sandbox.settings import SandboxSettings

__all__ = [
    "SandboxAdmin",
    "SandboxAdminError",
    "SandboxHandle",
    "SandboxSettings",
    "SandboxStartError",
    "running_sandbox",
]
