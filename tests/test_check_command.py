"""``lapak check`` says what it checked a file as, and ``lapak template`` keeps an existing file.

Run in-process through ``flows.cli.main`` as a facilitator runs them. Jember's sample writes some
categories by alias ("anyaman pandan"), so the config's ``[categories]`` change its outcome.
"""

from __future__ import annotations

import json
import shutil
import time

import openpyxl
import pytest

from flows.cli import main
from tests.conftest import SAMPLES

JEMBER = "catalogues/jember/anyaman-pandan-sari.csv"


@pytest.fixture
def work(tmp_path, monkeypatch):
    """A copy of the samples; no client secret, so the config's marketplace is never asked."""
    monkeypatch.delenv("LAPAK_CLIENT_SECRET", raising=False)
    shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
    return tmp_path / "w"


def _check(capsys, *argv) -> list[str]:
    assert main(["check", *map(str, argv)]) == 0
    return capsys.readouterr().out.splitlines()


def _line(lines: list[str], start: str) -> str:
    found = [line for line in lines if line.startswith(start)]
    assert len(found) == 1, lines[:8]
    return found[0]


def test_without_config_it_says_the_group_id_is_assumed_and_no_aliases_are_applied(work, tmp_path, capsys,
                                                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)  # the default output folder is ./out
    lines = _check(capsys, work / JEMBER)
    group = _line(lines, "Kelompok / Group: ")
    assert group.startswith("Kelompok / Group: anyaman-pandan-sari — DITEBAK dari nama berkas")
    assert "ASSUMED from the file name" in group and "--group ID" in group
    categories = _line(lines, "Kategori / Categories: ")
    assert "TANPA alias" in categories and "NO category aliases" in categories
    sku_lines = [line for line in lines if line.startswith("✓ ")]
    assert sku_lines and all("→ ANYAMAN-PANDAN-S-" in line for line in sku_lines)
    assert lines[-1] == "16 rows: 9 listings, 7 rejected"

    out = tmp_path / "out" / "rejects"
    folder = _line(lines, "Folder keluaran / Output folder: ")
    assert folder.startswith(f"Folder keluaran / Output folder: {tmp_path / 'out'} (")
    assert "default without --config: ./out" in folder
    assert _line(lines, "Laporan baris ditolak / Rejects report: ").endswith(
        "out/rejects/anyaman-pandan-sari.xlsx (+ .csv)")
    mark = out / "anyaman-pandan-sari.fingerprint"
    fingerprint = _line(lines, "Sidik jari / Fingerprint: ")
    assert fingerprint.startswith(f"Sidik jari / Fingerprint: {mark.relative_to(tmp_path)} — ")
    assert "a hash of what the catalogue became" in fingerprint
    assert mark.exists() and len(mark.read_text()) == 64
    assert (out / "anyaman-pandan-sari.xlsx").exists() and (out / "anyaman-pandan-sari.csv").exists()


def test_with_config_it_checks_as_the_configured_group_with_its_aliases(work, tmp_path, capsys):
    cfg = work / "lapak.toml"
    lines = _check(capsys, work / JEMBER, "--config", cfg)
    assert lines[0] == "anyaman-pandan-sari.csv — jember-pandan-sari"
    assert _line(lines, "Kelompok / Group: ") == (
        f"Kelompok / Group: jember-pandan-sari (kelompok di {cfg} yang katalognya berkas ini "
        f"/ the group in {cfg} whose catalogue this file is)")
    categories = _line(lines, "Kategori / Categories: ")
    assert "the marketplace could not be reached" in categories
    assert categories.endswith(f"+ 9 alias dari / aliases from {cfg} [categories]")
    assert all("→ JEMBER-PANDAN-SA-" in line for line in lines if line.startswith("✓ "))
    assert lines[-1] == "16 rows: 11 listings, 5 rejected", "the aliases accept the two rows the sync accepts"
    assert f"the [output] dir of {cfg}" in _line(lines, "Folder keluaran / Output folder: ")
    assert (work / "out" / "rejects" / "jember-pandan-sari.fingerprint").exists()


def test_group_option_checks_a_copy_as_that_group_with_or_without_config(work, tmp_path, capsys):
    copy = tmp_path / "dari-wa.csv"
    shutil.copy(work / JEMBER, copy)
    cfg = work / "lapak.toml"

    lines = _check(capsys, copy, "--config", cfg, "--group", "jember-pandan-sari", "--out", tmp_path / "o1")
    assert _line(lines, "Kelompok / Group: ") == f"Kelompok / Group: jember-pandan-sari (--group, dari / from {cfg})"
    assert "+ 9 alias" in _line(lines, "Kategori / Categories: ")
    assert lines[-1] == "16 rows: 11 listings, 5 rejected"
    with_config = sorted(line.split("→ ")[1] for line in lines if line.startswith("✓ "))
    assert "(--out)" in _line(lines, "Folder keluaran / Output folder: ")
    assert (tmp_path / "o1" / "rejects" / "jember-pandan-sari.fingerprint").exists()

    lines = _check(capsys, copy, "--group", "jember-pandan-sari", "--out", tmp_path / "o2")
    assert "tanpa --config: hanya id-nya" in _line(lines, "Kelompok / Group: ")
    assert "TANPA alias" in _line(lines, "Kategori / Categories: ")
    assert lines[-1] == "16 rows: 9 listings, 7 rejected"
    without = {line.split("→ ")[1] for line in lines if line.startswith("✓ ")}
    assert without and without <= set(with_config), "the same id, the same SKUs"

    # Not a configured group's file and no --group: the id is assumed, and the configured ones named.
    lines = _check(capsys, copy, "--config", cfg, "--out", tmp_path / "o3")
    group = _line(lines, "Kelompok / Group: ")
    assert group.startswith("Kelompok / Group: dari-wa — DITEBAK") and "jember-pandan-sari" in group


def test_an_unknown_group_is_refused_naming_the_configured_ones(work, tmp_path, capsys):
    assert main(["check", str(work / JEMBER), "--config", str(work / "lapak.toml"), "--group", "jember",
                 "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "no group 'jember'" in err and "tidak ada kelompok" in err and "jember-pandan-sari" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("age, said", [(60, "cached, under a day old"), (3 * 24 * 3600, "older cached list")])
def test_it_says_whether_the_categories_came_from_the_cache(work, tmp_path, capsys, age, said):
    cache = work / "out" / ".cache" / "categories.json"
    cache.parent.mkdir(parents=True)
    tree = [{"id": 3, "name": "Kerajinan", "parent_id": None, "is_leaf": False},
            {"id": 301, "name": "Anyaman", "parent_id": 3, "is_leaf": True}]
    cache.write_text(json.dumps({"fetched_at": time.time() - age, "categories": tree}), encoding="utf-8")
    lines = _check(capsys, work / JEMBER, "--config", work / "lapak.toml", "--out", tmp_path / "o")
    assert said in _line(lines, "Kategori / Categories: ")


def test_template_keeps_an_existing_file_unless_force(tmp_path, capsys):
    target = tmp_path / "templat.xlsx"
    assert main(["template", str(target)]) == 0
    out = capsys.readouterr().out
    assert "Produk!B1" in out and openpyxl.load_workbook(target)["Produk"]["A1"].value.startswith("Stok per")

    target.write_bytes(b"the group's own work")
    assert main(["template", str(target)]) == 1
    err = capsys.readouterr().err
    assert "exists and was kept" in err and "tidak ditimpa" in err and "--force" in err
    assert target.read_bytes() == b"the group's own work"

    assert main(["template", str(target), "--force"]) == 0
    assert openpyxl.load_workbook(target).sheetnames[:2] == ["Petunjuk (Instructions)", "Produk"]
