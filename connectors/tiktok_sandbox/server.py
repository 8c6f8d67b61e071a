"""Run the TikTok sandbox in the foreground: ``python -m connectors.tiktok_sandbox``.

Binds 127.0.0.1 only, prints one line ``Sandbox TikTok Shop: http://127.0.0.1:PORT``, serves
until SIGINT/SIGTERM, and keeps its state under the data dir. uvicorn's access log is off: the
token endpoints carry the app secret in their query strings, and nothing here logs a URL.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from connectors.sandbox.server import bind, require_web_server, warn_secret_flag
from connectors.tiktok_sandbox.settings import HOST, URL_LINE_PREFIX, TikTokSandboxSettings
from schemas.errors import LapakError

_FLAGS = {"port": "port", "data": "data_dir", "app_key": "app_key", "app_secret": "app_secret",
          "shops": "shops", "rate_limit": "rate_limit"}


def settings_from_args(args: argparse.Namespace) -> TikTokSandboxSettings:
    """Settings from flags; a flag absent or ``None`` keeps its default (or env value)."""
    given = {field: getattr(args, flag, None) for flag, field in _FLAGS.items()}
    if given["app_secret"] is not None:
        warn_secret_flag("--app-secret", "LAPAK_TIKTOK_SANDBOX_APP_SECRET")
    return TikTokSandboxSettings(**{k: v for k, v in given.items() if v is not None})


def serve(settings: TikTokSandboxSettings) -> int:
    """Serve until interrupted; returns the exit status."""
    require_web_server()
    import uvicorn

    from connectors.tiktok_sandbox.app import create_app

    app = create_app(settings)
    sock = bind(settings.port)
    print(f"{URL_LINE_PREFIX}http://{HOST}:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=5)
    # uvicorn re-raises the stop signal to the handler it found: a no-op makes a stop a clean exit 0.
    quiet = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        for sig, handler in quiet.items():
            signal.signal(sig, handler)
        sock.close()
    return 0


def run_from_cli(args: argparse.Namespace) -> int:
    """Serve with ``args``: ``port``, ``data``, ``app_key``, ``app_secret``, ``shops`` (comma string
    or list; ``None`` → defaults), optionally ``rate_limit`` (0 = none)."""
    return serve(settings_from_args(args))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connectors.tiktok_sandbox", description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, default=None, help="0 picks a free port (default)")
    p.add_argument("--data", metavar="DIR", type=Path, default=None, help="state folder (survives restarts)")
    p.add_argument("--app-key", default=None)
    p.add_argument("--app-secret", default=None, help="better: env LAPAK_TIKTOK_SANDBOX_APP_SECRET")
    p.add_argument("--shops", default=None, metavar="ID,ID…")
    p.add_argument("--rate-limit", type=float, default=None, metavar="N",
                   help="requests per second per path template (default 50; 0 = none)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run_from_cli(args)
    except LapakError as err:
        print(f"{parser.prog}: {err}".splitlines()[0], file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
