"""``lapak demo``: the embedded end-to-end run on the bundled sample groups.

Starts the sandbox marketplace on a free local port, points a copy of
``samples/lapak.toml`` at it, and runs the pipeline as Prefect flows. Today that is the
catalogue intake (categories read from the marketplace, every row validated, rejects
reports written); the sync and the order pull join here as they are built.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"


def _demo_config(work: Path, url: str) -> Path:
    """Copy the samples into ``work`` and point their config at the sandbox."""
    shutil.copytree(SAMPLES, work / "samples", dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("out", "var", "*.py", "__pycache__"))
    cfg = work / "samples" / "lapak.toml"
    text = cfg.read_text(encoding="utf-8")
    text = re.sub(r'(?m)^(api_url|auth_url) = ".*"$', lambda m: f'{m.group(1)} = "{url}"', text)
    cfg.write_text(text, encoding="utf-8")
    return cfg


def run_demo(keep: str | None = None) -> int:
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from connectors.sandbox import running_sandbox
    from flows.intake import intake_flow

    work = Path(keep).resolve() if keep else Path(tempfile.mkdtemp(prefix="lapak-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"Lapak Desa demo — working folder {work}")
    print("Starting the sandbox marketplace and a temporary Prefect server (about 20 s)…", flush=True)
    with running_sandbox(work / "sandbox") as market:
        cfg = _demo_config(work, market.url)
        os.environ["LAPAK_CLIENT_SECRET"] = market.client_secret
        print(f"Sandbox marketplace: {market.url} (fs_id {market.fs_id}, shops {', '.join(map(str, market.shops))})")
        rows = intake_flow(str(cfg))

    out = cfg.parent / "out"
    print()
    print("Catalogue intake / Penerimaan katalog")
    print(f"  {'group / kelompok':32} {'rows':>5} {'listed':>7} {'rejected':>9}")
    for r in rows:
        if r.get("error"):
            print(f"  {r['group']:32} could not be read: {r['error']}")
            continue
        print(f"  {r['group']:32} {r['rows_in']:5} {r['listings']:7} {r['rejected']:9}")
    total_in = sum(r["rows_in"] for r in rows)
    listed = sum(r["listings"] for r in rows)
    rejected = sum(r["rejected"] for r in rows)
    print(f"  {'total':32} {total_in:5} {listed:7} {rejected:9}")
    print()
    print(f"{listed} products are ready for the marketplace; {rejected} rows go back to the groups to fix.")
    print(f"Rejects reports (Indonesian + English), one per group: {out / 'rejects'}")
    print("  each is the group's own sheet with a reason column added (XLSX), plus a CSV of every problem.")
    print(f"Check one file yourself:  lapak check {cfg.parent / 'catalogues' / 'wonosobo' / 'sekar-carica.xlsx'} --config {cfg}")
    if not keep:
        print(f"(demo files are in {work}; pass --keep DIR to choose the folder)")
    return 0
