"""``lapak webhooks``: receive both channels' order notifications and ask for each shop's pull."""

from __future__ import annotations

import argparse
import logging
import sys

from connectors.config import load_config
from connectors.webhooks import bind, is_loopback, serve
from flows.serve import check_server
from flows.webhooks import EVENT, flush_events, open_webhooks, start_events
from schemas.errors import LapakError

PROXY_WARNING = ("lapak webhooks: warning: listening on {host}, reachable from other machines. Put a "
                 "TLS-terminating proxy in front (register its https:// URL on each channel) and keep this "
                 "port closed to the internet.")


def _log_to_stderr() -> None:
    logger = logging.getLogger("lapak.webhooks")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.INFO)


def webhooks_command(args: argparse.Namespace) -> int:
    """``lapak webhooks --config F [--host H] [--port N]``: serve until Ctrl-C (or SIGTERM)."""
    load_config(args.config)  # a broken file fails here, naming the key
    api = check_server()      # the events go there: no server, no pulls
    _log_to_stderr()
    hooks = open_webhooks(args.config)
    try:
        sock = bind(args.host, args.port)
    except OSError as err:
        hooks.close()
        raise LapakError(f"cannot listen on {args.host}:{args.port}: {err.strerror or err}") from None
    try:
        host, port = sock.getsockname()[:2]
        base = f"http://{f'[{host}]' if ':' in host else host}:{port}"
        print(f"lapak webhooks: {hooks.config_path}; each shop's burst of notifications -> {EVENT} on {api}",
              flush=True)
        for channel, keys in sorted(hooks.receiver.keys.items()):
            shops = ", ".join(sorted(keys.shops)) or "none configured"
            print(f"  POST {base}/webhooks/{channel:12} shops {shops}", flush=True)
        if not is_loopback(args.host):
            print(PROXY_WARNING.format(host=args.host), file=sys.stderr, flush=True)
        start_events()
        serve(hooks.app, sock)
    finally:
        sock.close()
        hooks.close()  # the bursts still open go now
        flush_events()
    print("lapak webhooks: stopped", flush=True)
    return 0
