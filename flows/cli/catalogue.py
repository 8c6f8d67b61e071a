"""``lapak check`` and ``lapak template``: a catalogue file checked offline, a blank one written."""

from __future__ import annotations

import argparse
from pathlib import Path

from connectors.config import load_config
from connectors.sheets.template import PRODUCT_SHEET, STOCK_DATE_CELL, write_template
from flows.engine import check
from flows.engine.check import CheckSetup, check_file, check_setup
from flows.engine.intake import GroupIntake, report_paths, stock_as_of_text
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


def _group_line(setup: CheckSetup, config_file: str | None) -> str:
    """Which group id the check used (it makes the SKUs) and where that came from."""
    gid = setup.group.id
    if setup.group_from == check.GROUP_FROM_OPTION:
        return f"Kelompok / Group: {gid} (--group, dari / from {config_file})"
    if setup.group_from == check.GROUP_FROM_CONFIG:
        return (f"Kelompok / Group: {gid} (kelompok di {config_file} yang katalognya berkas ini "
                f"/ the group in {config_file} whose catalogue this file is)")
    if setup.group_from == check.GROUP_ID_FROM_OPTION:
        return (f"Kelompok / Group: {gid} (--group, tanpa --config: hanya id-nya, untuk SKU "
                "/ without --config: its id only, for the SKUs)")
    hint = ""
    if setup.configured_groups:
        shown = ", ".join(setup.configured_groups[:5]) + (" …" if len(setup.configured_groups) > 5 else "")
        hint = f"; kelompok di / groups in {config_file}: {shown}"
    return (f"Kelompok / Group: {gid} — DITEBAK dari nama berkas; SKU bisa berbeda dari sinkronisasi, pakai "
            f"--config F --group ID / ASSUMED from the file name; SKUs may differ from the sync's, "
            f"use --config F --group ID{hint}")


def _categories_line(setup: CheckSetup, config_file: str | None) -> str:
    """Which category list and how many of the config's aliases the check used."""
    if setup.categories_from == check.CATEGORIES_DEFAULT:
        return ("Kategori / Categories: daftar bawaan, TANPA alias kategori (tanpa --config): kategori yang "
                "ditulis dengan alias (mis. 'kripik') ditolak di sini tetapi bisa diterima sinkronisasi "
                "/ the default list, NO category aliases (no --config): a category written as an alias "
                "(e.g. 'kripik') is rejected here but may be accepted by the sync")
    where = {
        check.CATEGORIES_FETCHED: "daftar marketplace (baru diambil) / the marketplace's list (just fetched)",
        check.CATEGORIES_CACHED: "daftar marketplace (tersimpan, < 1 hari) / the marketplace's list (cached, "
                                 "under a day old)",
        check.CATEGORIES_STALE: "daftar marketplace tersimpan yang lama: marketplace tidak bisa dihubungi "
                                "/ the marketplace's older cached list: it could not be reached",
        check.CATEGORIES_OFFLINE: "daftar bawaan: marketplace tidak bisa dihubungi / the default list: the "
                                  "marketplace could not be reached",
    }[setup.categories_from]
    return f"Kategori / Categories: {where}; + {setup.aliases} alias dari / aliases from {config_file} [categories]"


def _output_lines(intake: GroupIntake, setup: CheckSetup, args: argparse.Namespace) -> list[str]:
    """Where the check wrote (and why there), and what the fingerprint beside the report is."""
    _, _, mark = report_paths(setup.out_dir, intake.group.id)
    why = ("--out" if args.out else f"bawaan: [output] dir di / default: the [output] dir of {args.config}"
           if args.config else "bawaan tanpa --config: ./out / default without --config: ./out")
    return [
        f"Folder keluaran / Output folder: {setup.out_dir.resolve()} ({why})",
        f"Laporan baris ditolak / Rejects report: {intake.report_xlsx} (+ .csv)",
        f"Sidik jari / Fingerprint: {mark} — ringkasan isi katalog yang dihasilkan; laporan tidak ditulis ulang "
        "selama sama; aman dihapus / a hash of what the catalogue became: the report is not rewritten while "
        "it stays the same; safe to delete",
    ]


def check_command(args: argparse.Namespace) -> int:
    """Say what the file is checked as (group id, categories, aliases), print each rejected row and
    each listing, then where the outputs went; the last line is ``N rows: L listings, R rejected``."""
    config = load_config(args.config) if args.config else None
    path = Path(args.file)
    setup = check_setup(path, config, Path(args.out) if args.out else None, args.group)
    intake = check_file(path, config, setup=setup)
    print(f"{intake.result.file} — {intake.group.id}")
    print(_group_line(setup, args.config))
    print(_categories_line(setup, args.config))
    for line in _problem_lines(intake, MAX_LINES) + _listing_lines(intake, MAX_LINES):
        print(line)
    print(f"Stok dihitung per / Stock counted as of: {stock_as_of_text(intake.raw.recorded_on)}")
    for line in _output_lines(intake, setup, args):
        print(line)
    print(intake.result.summary_line())
    return 0


def template_command(args: argparse.Namespace) -> int:
    """Write the blank template; an existing file is kept unless ``--force``."""
    target = Path(args.file)
    if target.exists() and not args.force:
        raise LapakError(f"{target} exists and was kept / berkas sudah ada dan tidak ditimpa (--force replaces it)")
    path = write_template(target)
    print(f"Template written / templat ditulis: {path}")
    print(f"Tanggal stok dihitung ditulis di {PRODUCT_SHEET}!{STOCK_DATE_CELL} (baris 'Stok per' di atas tabel) "
          f"/ the date the stock was counted goes in {PRODUCT_SHEET}!{STOCK_DATE_CELL} (the 'Stok per' line)")
    return 0
