"""Run the sandbox marketplace in the foreground: ``lapak sandbox`` and ``python -m connectors.sandbox``.

Binds 127.0.0.1 only, prints one line with its URL (``Sandbox marketplace: http://…``),
serves until SIGINT/SIGTERM, and keeps its state under the data dir. Defaults are in
:mod:`connectors.sandbox.settings`. The web server (FastAPI, uvicorn) is the ``sandbox`` extra;
without it both entry points fail with one line naming it.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import socket
import sys
from pathlib import Path

from connectors.sandbox.settings import HOST, URL_LINE_PREFIX, SandboxSettings
from schemas.errors import LapakError

WEB_SERVER_MISSING = "the sandbox needs its web server: pip install 'lapak-desa[sandbox]'"
_WEB_SERVER = ("fastapi", "uvicorn")


def require_web_server() -> None:
    """Raise :class:`LapakError` (:data:`WEB_SERVER_MISSING`) unless FastAPI and uvicorn can be imported."""
    for name in _WEB_SERVER:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise LapakError(WEB_SERVER_MISSING)


def settings_from_args(args: argparse.Namespace) -> SandboxSettings:
    """Settings from the ``lapak sandbox`` flags; a flag left out keeps its default (or env value).

    ``--rate-limit 0`` means no limit.
    """
    given = {
        "port": getattr(args, "port", None),
        "data_dir": getattr(args, "data", None),
        "client_id": getattr(args, "client_id", None),
        "client_secret": getattr(args, "client_secret", None),
        "fs_id": getattr(args, "fs_id", None),
        "shops": getattr(args, "shops", None),
        "rate_limit": getattr(args, "rate_limit", None),
    }
    if given["client_secret"] is not None:
        warn_secret_flag("--client-secret", "LAPAK_SANDBOX_CLIENT_SECRET")
    return SandboxSettings(**{k: v for k, v in given.items() if v is not None})


def warn_secret_flag(flag: str, env: str) -> None:
    """A secret given on the command line is readable by every user of the machine (``ps``)."""
    print(f"warning: {flag} shows the secret to every user of this machine (the process list); "
          f"set {env} in the environment instead", file=sys.stderr, flush=True)


def bind(port: int) -> socket.socket:
    """A listening socket on 127.0.0.1 (``port`` 0 picks a free one)."""
    # proto must say TCP: asyncio sets TCP_NODELAY on accepted connections only then, and
    # without it every response waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # A restart on the same port must not wait for the old connections' TIME_WAIT.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def serve(settings: SandboxSettings) -> int:
    """Serve until interrupted; returns the exit status."""
    require_web_server()
    import uvicorn

    from connectors.sandbox.app import create_app

    app = create_app(settings)
    sock = bind(settings.port)
    port = sock.getsockname()[1]
    shops = ",".join(str(s) for s in settings.shops)
    limit = f"{settings.rate_limit:g} items/s per path" if settings.rate_limit else "no rate limit"
    # Connections made before uvicorn starts wait in the listen backlog, so the line may go first.
    print(f"{URL_LINE_PREFIX}http://{HOST}:{port}  (fs_id {settings.fs_id}, shops {shops}, {limit})", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=5)
    # uvicorn stops on SIGINT/SIGTERM, then re-raises the signal to the handler it found: make
    # that a no-op here so a stop is a clean exit 0 instead of a KeyboardInterrupt or a kill.
    quiet = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
        sock.close()
    return 0


def run_from_cli(args: argparse.Namespace) -> int:
    """Entry point of ``lapak sandbox``: ``args`` carries port, data, client_id, client_secret,
    fs_id, shops (comma string), rate_limit."""
    return serve(settings_from_args(args))


def build_parser() -> argparse.ArgumentParser:
    """The same flags as ``lapak sandbox``."""
    p = argparse.ArgumentParser(prog="python -m connectors.sandbox", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    p.add_argument("--data", metavar="DIR", type=Path, default=None, help="state folder (survives restarts)")
    p.add_argument("--client-id", default=None)
    p.add_argument("--client-secret", default=None, help="better: env LAPAK_SANDBOX_CLIENT_SECRET")
    p.add_argument("--fs-id", type=int, default=None)
    p.add_argument("--shops", default=None, metavar="ID,ID…")
    p.add_argument("--rate-limit", type=float, default=None, metavar="N",
                   help="items per second per endpoint path (default 50; 0 = unlimited)")
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m connectors.sandbox``: like ``lapak sandbox``, a :class:`LapakError` is one line on stderr."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_from_cli(args)
    except LapakError as err:
        print(f"{parser.prog}: {err}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
