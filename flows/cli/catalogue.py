"""``lapak check`` and ``lapak template``: a catalogue file checked offline, a blank one written."""

from __future__ import annotations

import argparse
from pathlib import Path

from connectors.config import load_config
from connectors.sheets import write_template
from flows.engine.intake import GroupIntake, check_file, stock_as_of_text
from schemas.errors import LapakError
from schemas.messages import rupiah

MAX_LINES = 300


def _problem_lines(intake: GroupIntake, max_lines: int) -> list[str]:
    """Each row with a problem: ✗ rejected, ! warned; under it each problem in both languages."""
    out = []
    problems = intake.result.rejects.groupby(["sheet", "row"], sort=False)
    for n, ((sheet, row), p) in enumerate(problems):
        if n >= max_lines:
            out.append(f"… {problems.ngroups - n} more rows with problems: see {intake.report_xlsx}")
            break
        mark = "✗" if (p["severity"] == "reject").any() else "!"
        out.append(f"{mark} {sheet} baris/row {row}:")
        for col, val, rid, ren in p[["column", "value", "reason_id", "reason_en"]].itertuples(index=False):
            shown = (val[:60] + "…") if len(val) > 60 else val
            out.append(f"    {col} = {shown!r}: {rid} / {ren}")
    return out


def _listing_lines(intake: GroupIntake, max_lines: int) -> list[str]:
    listings = intake.result.listings
    out = [f"✓ {r.sheet} baris/row {r.row}: {r.name} — {rupiah(r.price)}, stok {r.stock}, "
           f"{r.weight_g:g} g, {len(r.pictures)} foto → {r.sku}"
           for r in listings.head(max_lines).itertuples(index=False)]
    if len(listings) > max_lines:
        out.append(f"… and {len(listings) - max_lines} more listings")
    return out


def check_command(args: argparse.Namespace) -> int:
    """Print each rejected row and each listing; the last line is ``N rows: L listings, R rejected``."""
    config = load_config(args.config) if args.config else None
    intake = check_file(Path(args.file), config, Path(args.out) if args.out else None, args.group)
    print(f"{intake.result.file} — {intake.group.id}")
    for line in _problem_lines(intake, MAX_LINES) + _listing_lines(intake, MAX_LINES):
        print(line)
    print(f"Stok dihitung per / Stock counted as of: {stock_as_of_text(intake.raw.recorded_on)}")
    print(f"Rejects report / laporan baris ditolak: {intake.report_xlsx} (+ .csv)")
    print(intake.result.summary_line())
    return 0


def template_command(args: argparse.Namespace) -> int:
    """Write the blank template; an existing file is kept unless ``--force``."""
    target = Path(args.file)
    if target.exists() and not args.force:
        raise LapakError(f"{target} exists and was kept / berkas sudah ada dan tidak ditimpa (--force replaces it)")
    path = write_template(target)
    print(f"Template written / templat ditulis: {path}")
    return 0
