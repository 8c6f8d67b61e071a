"""The ``lapak`` command, on top of everything and imported by nothing. See ../shared/interface.md.

Each command's module is imported when the command runs, so ``lapak --help`` and ``lapak check``
start quickly. Exit status 0 means the run completed (rejected rows are reported, not failures);
anything else prints its reason on stderr: one line, or one line per cause when a run needs an
operator.
"""

from __future__ import annotations

import argparse
import os
import sys


def _cmd_check(args: argparse.Namespace) -> int:
    from flows.cli.catalogue import check_command

    return check_command(args)


def _cmd_template(args: argparse.Namespace) -> int:
    from flows.cli.catalogue import template_command

    return template_command(args)


def _cmd_sandbox(args: argparse.Namespace) -> int:
    if args.kind == "tiktok":
        from connectors.tiktok_sandbox.server import run_from_cli as run_tiktok

        args.data = args.data or "var/sandbox-tiktok"
        return run_tiktok(args)
    from connectors.sandbox.server import run_from_cli

    args.data = args.data or "var/sandbox"
    return run_from_cli(args)


def _check_config(path: str) -> None:
    """Fail fast, naming the file and key, before a flow (and perhaps a Prefect server) starts."""
    from connectors.config import app_secret, client_secret, load_config
    from connectors.state.tokens import secret_key_from_env

    config = load_config(path)
    client_secret(config.marketplace)
    if config.tiktok is not None:
        app_secret(config.tiktok)
        secret_key_from_env()  # the shops' tokens are kept sealed with it


def _cmd_authorize(args: argparse.Namespace) -> int:
    from flows.cli.authorize import authorize_command

    return authorize_command(args)


def _cmd_sync(args: argparse.Namespace) -> int:
    _check_config(args.config)
    from flows.cli.runs import sync_command

    return sync_command(args)


def _cmd_orders(args: argparse.Namespace) -> int:
    _check_config(args.config)
    from flows.cli.runs import orders_command

    return orders_command(args)


def _cmd_backfill(args: argparse.Namespace) -> int:
    _check_config(args.config)
    from flows.cli.runs import backfill_command

    return backfill_command(args)


def _cmd_serve(args: argparse.Namespace) -> int:
    _check_config(args.config)
    from flows.cli.serve import serve_command

    return serve_command(args)


def _cmd_webhooks(args: argparse.Namespace) -> int:
    from flows.cli.webhooks import webhooks_command

    return webhooks_command(args)


def _cmd_demo(args: argparse.Namespace) -> int:
    from flows.cli.demo import run_demo

    return run_demo(keep=args.keep)


def _run_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sync", help="catalogue sync: extract, validate, plan, push")
    s.add_argument("--config", default="lapak.toml")
    s.add_argument("--group", action="append", default=[], metavar="ID")
    s.add_argument("--dry-run", action="store_true", help="print the plan; write nothing to the marketplace")
    s.add_argument("--accept-shrink", action="store_true",
                   help="accept a catalogue that lost more than the shrink threshold of its listings")
    s.add_argument("--reconcile", action="store_true", help="read the marketplace's products back before planning")
    s.set_defaults(func=_cmd_sync)

    s = sub.add_parser("orders", help="pull new and changed orders, correct stock, write order sheets")
    s.add_argument("--config", default="lapak.toml")
    s.set_defaults(func=_cmd_orders)

    s = sub.add_parser("backfill", help="pull every order created in a date range")
    s.add_argument("--config", default="lapak.toml")
    s.add_argument("--start", required=True, metavar="YYYY-MM-DD")
    s.add_argument("--end", required=True, metavar="YYYY-MM-DD")
    s.add_argument("--channel", choices=("marketplace", "tiktok"), default=None,
                   help="only this channel's shops (default: every configured channel)")
    s.set_defaults(func=_cmd_backfill)

    s = sub.add_parser("serve", help="serve the deployments with their schedules")
    s.add_argument("--config", default="lapak.toml")
    s.add_argument("--work-pool", metavar="POOL", default=None,
                   help="register the deployments on this process work pool (scale-out) instead of serving them")
    s.set_defaults(func=_cmd_serve)

    s = sub.add_parser("webhooks", help="receive order notifications; have each notified shop's orders pulled")
    s.add_argument("--config", default="lapak.toml")
    s.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1; any other: put a TLS proxy in front)")
    s.add_argument("--port", type=int, default=8787, help="default 8787; 0 picks a free one")
    s.set_defaults(func=_cmd_webhooks)


def _tool_commands(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("sandbox", help="run a sandbox marketplace on 127.0.0.1")
    s.add_argument("--kind", choices=("marketplace", "tiktok"), default="marketplace",
                   help="which channel's contract it speaks (default: the first marketplace)")
    s.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    s.add_argument("--data", metavar="DIR", default=None,
                   help="state folder, surviving restarts (default var/sandbox, or var/sandbox-tiktok)")
    s.add_argument("--app-key", default=None, help="--kind tiktok: the app key it accepts")
    s.add_argument("--app-secret", default=None, help="--kind tiktok: the app secret it accepts")
    s.add_argument("--client-id", default=None)
    s.add_argument("--client-secret", default=None)
    s.add_argument("--fs-id", type=int, default=None)
    s.add_argument("--shops", default=None, metavar="ID,ID…")
    s.add_argument("--rate-limit", type=float, default=None, metavar="N",
                   help="items per second per endpoint (default 50; 0 = unlimited)")
    s.set_defaults(func=_cmd_sandbox)

    s = sub.add_parser("check", help="validate one catalogue file offline",
                       description="Validate one catalogue file offline. It first says which group id it "
                                   "checks the file as (the id makes the SKUs) and which categories and "
                                   "aliases it uses: without --config, no category aliases are applied, so "
                                   "rows the sync accepts may be rejected here.")
    s.add_argument("file")
    s.add_argument("--config", default=None,
                   help="use the configured marketplace's categories and the [categories] aliases; the file is "
                        "checked as the configured group whose catalogue it is (default: no config, default "
                        "categories, no aliases)")
    s.add_argument("--group", default=None, metavar="ID",
                   help="check it as this group: its id makes the SKUs; with --config also its photos folder "
                        "(default: the configured group whose catalogue the file is, else an id made from the "
                        "file's name)")
    s.add_argument("--out", default=None, metavar="DIR",
                   help="where rejects/<group>.xlsx, .csv and .fingerprint go (default: the config's [output] "
                        "dir, without --config ./out)")
    s.set_defaults(func=_cmd_check)

    s = sub.add_parser("authorize", help="keep a shop's tokens after its seller authorised the app")
    s.add_argument("channel", choices=("tiktok",))
    s.add_argument("--config", default="lapak.toml")
    s.add_argument("--shop", required=True, metavar="ID")
    s.add_argument("--code", required=True, metavar="CODE", help="the seller's one-time authorisation code")
    s.set_defaults(func=_cmd_authorize)

    s = sub.add_parser("template", help="write the blank catalogue template (XLSX)",
                       description="Write the blank catalogue template: instructions, the Produk sheet with a "
                                   "'Stok per' line (the stock date, in B1) above the table, the category list.")
    s.add_argument("file", help="the XLSX to write (no default)")
    s.add_argument("--force", action="store_true", help="replace the file if it exists (default: keep it)")
    s.set_defaults(func=_cmd_template)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lapak",
                                description="Lapak Desa: village catalogues to the marketplace and orders back.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("demo", help="end-to-end run on the bundled sample groups")
    s.add_argument("--keep", metavar="DIR", help="keep the demo's files (outputs, state) in DIR")
    s.set_defaults(func=_cmd_demo)
    _run_commands(sub)
    _tool_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    # A temporary Prefect server started by this process has no business phoning home.
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("lapak: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # one line per cause for the operator; details are in the logs
        from schemas.errors import LapakError, NeedsOperator

        kind = "" if isinstance(err, LapakError) else f"{type(err).__name__}: "
        lines = err.lines if isinstance(err, NeedsOperator) else f"{err}".splitlines()[:1] or [""]
        for line in lines:
            print(f"lapak {args.command}: {kind}{line}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
