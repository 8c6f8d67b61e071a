"""Buyers' personal data is the owner's only, whatever the umask (issue 15, item 4): the SQLite state
database and its -wal/-shm, the order workbooks, CSVs and pictures, the rejects reports are 0600;
every folder Lapak creates is 0700; a folder that already existed keeps its mode."""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from connectors.config import load_config
from connectors.files import private_dir, private_file
from connectors.sheets import replace_atomically, write_csv
from connectors.state import StateStore
from flows.engine.order_runs import run_order_pull
from flows.engine.planning import SyncOptions
from flows.engine.runtime import Runtime
from flows.engine.steps import Inline
from flows.engine.sync import run_sync
from tests.conftest import SAMPLES
from tests.memory_channel import MemoryChannel

SHOP = 479573  # Wonosobo's shop in the samples
SHARED = 0o755  # what a folder made under the usual umask is: anyone may look in


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask():
    old = os.umask(0o022)  # files would be world-readable by default
    try:
        yield
    finally:
        os.umask(old)


def test_folders_made_are_the_owners_only_and_folders_that_exist_keep_their_mode(tmp_path, usual_umask):
    project = tmp_path / "project"  # the operator's folder holding ./lapak-state.db
    project.mkdir()
    os.chmod(project, SHARED)
    db = private_file(project / "lapak-state.db")
    assert mode(project) == SHARED and mode(db) == 0o600

    deep = private_file(project / "var" / "lapak" / "lapak.db")
    assert mode(project) == SHARED
    assert mode(project / "var") == mode(project / "var" / "lapak") == 0o700
    assert mode(deep) == 0o600

    os.chmod(deep, 0o644)  # written by an older version
    private_file(deep)
    assert mode(deep) == 0o600
    assert private_dir(project) == project and mode(project) == SHARED


def test_a_replaced_file_is_the_owners_only_even_where_an_older_one_was_not(tmp_path, usual_umask):
    import pandas as pd

    target = tmp_path / "orders" / "g" / "2026-11.csv"
    target.parent.mkdir(parents=True)
    target.write_text("old")
    os.chmod(target, 0o644)
    seen: list[int] = []

    def write(tmp: Path) -> None:
        seen.append(mode(tmp))  # 0600 before a byte is written
        write_csv(tmp, pd.DataFrame({"Telepon / Phone": ["+62 812 0000 0001"]}))

    replace_atomically(target, write)
    assert seen == [0o600] and mode(target) == 0o600
    assert "+62 812" in target.read_text(encoding="utf-8-sig")
    assert [p.name for p in target.parent.iterdir()] == [target.name], "no temporary file left"


def test_a_sync_and_an_order_pull_leave_personal_data_to_the_owner_alone(tmp_path, usual_umask):
    work = tmp_path / "w"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "out", "var"))
    os.chmod(work, SHARED)
    config = load_config(work / "lapak.toml")
    rt = Runtime(config=config, store=StateStore(config.state_url), channels={"marketplace": MemoryChannel()})
    try:
        run_sync(rt, SyncOptions(), Inline(rt)).raise_for_problems()
        channel: MemoryChannel = rt.channel
        sku = next(iter(channel.shop(SHOP).products))
        now = int(time.time())
        channel.place_order(SHOP, {sku: 2}, created=now - 5)
        pulled = run_order_pull(rt, Inline(rt), now=now)
        assert pulled["totals"]["orders_new"] == 1
        # While the store is open: SQLite's write-ahead log and shared memory are there too.
        database = sorted(p.name for p in (work / "var").iterdir())
        assert {"lapak.db", "lapak.db-wal", "lapak.db-shm"} <= set(database)
        db_modes = {name: mode(work / "var" / name) for name in database}
    finally:
        rt.close()

    assert db_modes == dict.fromkeys(database, 0o600)
    out = work / "out"
    sheets = sorted(out.glob("orders/*/*.xlsx")) + sorted(out.glob("orders/*/*.csv"))
    pictures = sorted(out.glob("reports/*/*.png"))
    rejects = sorted(out.glob("rejects/*.xlsx")) + sorted(out.glob("rejects/*.csv"))
    assert len(sheets) == 2 and len(pictures) == 1 and len(rejects) == 2 * len(config.groups)
    assert {p: mode(p) for p in sheets + pictures + rejects} == dict.fromkeys(sheets + pictures + rejects, 0o600)
    assert not list(out.rglob("*.tmp*")), "no temporary file left"

    made = [work / "var", out, *(p for p in out.rglob("*") if p.is_dir())]
    assert {out / "orders", out / "reports", out / "rejects"} <= set(made)
    assert {p: mode(p) for p in made} == dict.fromkeys(made, 0o700)
    assert mode(work) == SHARED, "a folder that was there before keeps its mode"
