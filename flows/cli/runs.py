"""``lapak sync``, ``lapak orders`` and ``lapak backfill``: run the flow, print what it did.

A run that ended FAILED still prints what it did (the summary its error carries), then the
reason as one line on stderr (the ``lapak`` command's error handling) and exit status 1.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from flows.engine.order_runs import OrdersRunError, totals
from flows.orders import backfill_orders, pull_orders
from flows.sync import sync_catalogues
from schemas.channel import channel_label
from schemas.errors import LapakError, NeedsOperator
from schemas.orders import UNASSIGNED


def print_sync_summary(summary: dict) -> None:
    """What a sync did, per group, in a terminal."""
    head = ("group", "rows", "listed", "rejected", "created", "edited", "price", "stock", "deact.", "held", "errors")
    keys = ("rows_in", "listings", "rejected", "created", "edited", "price_updates", "stock_updates", "deactivated",
            "held", "errors")
    print(f"{head[0]:30}" + "".join(f"{h:>9}" for h in head[1:]))
    for r in summary["groups"]:
        print(f"{r['group']:30}" + "".join(f"{r.get(k, 0):>9}" for k in keys))
        if r.get("error"):
            print(f"    {r['error']}")
        if r.get("note"):
            print(f"    note: {r['note']}")
        if r.get("not_listed_on"):
            print(f"    rows not listed on {r['not_listed_on']} (only on the marketplace; the rejects report says why)")
    verb = "planned (dry run: nothing written)" if summary["dry_run"] else "made"
    by_channel = summary.get("writes_by_channel") or {}
    first = sum(summary["writes"].values()) - sum(n for ch, n in by_channel.items() if ch != "marketplace")
    total = summary["planned_writes"] if summary["dry_run"] else first
    photos = (summary.get("photos_by_channel") or {}).get("marketplace", summary.get("photos_uploaded", 0))
    print(f"{total} marketplace writes {verb}" + (f"; {photos} photos uploaded / foto diunggah." if photos else "."))
    for channel, n in sorted(by_channel.items()):
        if channel != "marketplace" and not summary["dry_run"]:
            up = (summary.get("photos_by_channel") or {}).get(channel, 0)
            print(f"{n} {channel_label(channel)} writes made" + (f"; {up} photos uploaded there." if up else "."))
    for warning in summary.get("warnings") or []:
        print(f"warning: {warning}")


def sync_command(args: argparse.Namespace) -> int:
    """``lapak sync``: run the flow, print the plan (dry run) and the summary."""
    try:
        summary = sync_catalogues(config_path=args.config, groups=args.group or None, dry_run=args.dry_run,
                                  accept_shrink=args.accept_shrink, reconcile=args.reconcile)
    except NeedsOperator as err:
        if err.summary:
            _print_sync(err.summary, args.dry_run)
        raise
    _print_sync(summary, args.dry_run)
    return 0


def _print_sync(summary: dict, dry_run: bool) -> None:
    if dry_run:
        for text in summary["plans"].values():
            print(text, end="\n\n")
    print_sync_summary(summary)


def format_orders_summary(summary: dict, max_sheets: int = 8) -> str:
    """A short human summary of a pull or backfill run."""
    t = summary.get("totals") or totals({**summary, "sheets": summary.get("sheets", [])})
    if summary["flow"] == "pull-orders":
        head = (f"Pesanan / Orders: {t['orders_new']} baru/new, {t['orders_changed']} berubah/changed "
                f"({t['orders_listed']} listed, {t['orders_refreshed']} older open orders refreshed)")
    else:
        head = (f"Pesanan {summary.get('start')} – {summary.get('end')} / Orders backfill: {t['orders_new']} "
                f"baru/new, {t['orders_changed']} berubah/changed ({t['orders_listed']} listed)")
    out = [head]
    if rows := summary.get("groups") or []:
        out.append(f"  {'kelompok / group':32} {'new':>5} {'changed':>8} {'stock':>6}")
        for r in rows:
            channel = r.get("channel", "marketplace")
            label = r["group"] if channel == "marketplace" else f"{r['group']} · {channel_label(channel)}"
            line = f"  {label:32} {r['orders_new']:5} {r['orders_changed']:8} {r['stock_pushed']:6}"
            out.append(line + (f"  GAGAL / FAILED: {r['error']}" if r["error"] else ""))
    out.append(f"Koreksi stok / Stock corrections pushed: {t['stock_pushed']}"
               + (f", {t['stock_failed']} not applied (see the logs)" if t["stock_failed"] else ""))
    out += _notice_lines(summary.get("notices") or {})
    out += [f"warning: {w}" for w in summary.get("warnings") or []]
    return "\n".join(out + _sheet_lines(summary, max_sheets))


def _notice_lines(notices: dict[str, dict], shown: int = 4) -> list[str]:
    """One line per group told of new paid orders, or whose message failed (its orders wait for the next pull)."""
    out = []
    for gid, r in sorted(notices.items()):
        more = len(r["orders"]) - shown
        names = ", ".join(r["orders"][:shown]) + (f" +{more} more" if more > 0 else "")
        if r["error"]:
            out.append(f"Pesan ke {gid} GAGAL / message FAILED, {len(r['orders'])} pesanan menunggu / orders wait "
                       f"for the next pull: {r['error']}")
        else:
            out.append(f"Pesan ke {gid} terkirim / message sent: {r['sent']} pesanan baru / new orders ({names})")
    return out


def _sheet_lines(summary: dict, max_sheets: int) -> list[str]:
    sheets = [Path(p) for p in summary.get("sheets") or [] if str(p).endswith(".xlsx")]
    if not sheets:
        return ["Lembar pesanan / Order sheets: no month changed, none rewritten"]
    names = [f"{p.parent.name}/{p.name}" for p in sheets]
    more = f" and {len(names) - max_sheets} more" if len(names) > max_sheets else ""
    out = [f"Lembar pesanan / Order sheets (.xlsx + .csv) in {summary['sheets_dir']}: "
           f"{', '.join(names[:max_sheets])}{more}"]
    if any(p.parent.name == UNASSIGNED for p in sheets):
        out.append(f"  {UNASSIGNED}/: order lines whose SKU no listing has (check the catalogues)")
    return out


def _print_orders(run) -> int:
    try:
        summary = run()
    except OrdersRunError as err:
        print(format_orders_summary(err.summary))
        raise
    print(format_orders_summary(summary))
    return 0


def orders_command(args: argparse.Namespace) -> int:
    """``lapak orders --config F``: run the ``pull-orders`` flow and print what it did."""
    return _print_orders(lambda: pull_orders(str(args.config)))


def parse_day(flag: str, text: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise LapakError(f"--{flag} {text!r} is not a date (YYYY-MM-DD)") from None


def backfill_command(args: argparse.Namespace) -> int:
    """``lapak backfill --config F --start YYYY-MM-DD --end YYYY-MM-DD`` (inclusive days, WIB)."""
    start, end = parse_day("start", args.start), parse_day("end", args.end)
    if start > end:
        raise LapakError(f"--start {start} is after --end {end}")
    channel = getattr(args, "channel", None)
    return _print_orders(lambda: backfill_orders(str(args.config), start, end, channel))
