"""``lapak demo``, as a newcomer runs it: the whole pipeline on the sample groups, end to end.

It runs as a subprocess against the session's Prefect server (so it does not start one of its
own) and keeps its working folder, which is then checked: what it printed (the groups'
new-order messages among it), the files a group and a facilitator would open, the pictures the
sandbox marketplace received (no EXIF, so no GPS), and that the marketplace's secret and tokens
appear nowhere.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook
from PIL import Image

from connectors.sandbox.settings import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from tests.test_secrets import Leaks

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = json.loads((ROOT / "flows" / "samples" / "expected_rejects.json").read_text(encoding="utf-8"))
UPLOADED = {f["sha256"]: f["upright_size"] for g in EXPECTED["groups"].values() for f in g["photo_files"]
            if any("photo:" + f["sha256"] in li["pictures"] for li in g["listings"])}
LAPAK = [sys.executable, "-c", "import sys; from flows.cli import main; sys.exit(main())"]


def test_demo_lists_the_samples_pulls_orders_and_leaks_nothing(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_URL

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAPAK_", "PREFECT_"))}
    env.update(PYTHONPATH=str(ROOT), PREFECT_API_URL=PREFECT_API_URL.value(),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_HOME=str(tmp_path / "prefect-home"))
    work = tmp_path / "demo"
    proc = subprocess.run([*LAPAK, "demo", "--keep", str(work)], env=env, cwd=tmp_path, capture_output=True,
                          text=True, timeout=240)
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]

    # What it says happened.
    assert "48 products listed from 4 village groups; 21 catalogue rows sent back to be fixed." in out
    assert "1 of them kept inactive on the marketplace, as their catalogue says (Status Nonaktif)." in out
    assert re.search(r"^48 marketplace writes made; 6 photos uploaded / foto diunggah\.$", out, re.M), out
    said = re.search(r"^\s+(\d+) photos uploaded from the groups' own files / foto diunggah; none of the (\d+) on "
                     r"the marketplace carries EXIF or GPS\.$", out, re.M)
    assert said, out
    assert "3 orders pulled (2 kept, 1 cancelled)" in out
    assert re.search(r"^\s+0 marketplace writes\.$", out, re.M), out
    # Three groups told what to pack (Wonosobo on both channels, the shared shop's two groups their
    # own lines), through custom webhook blocks, to the demo's local receiver; nothing after the cancel.
    told = re.search(r"^\s+Pesan ke kelompok / Messages to the groups: (\d+) received by the local receiver "
                     r"http://127\.0\.0\.1:\d+ \(custom webhook blocks custom-webhook/demo-wa-<group>\)$", out, re.M)
    assert told and told[1] == "3", out
    assert "Pesan ke wonosobo-sekar-carica terkirim / message sent: 2 pesanan baru / new orders" in out
    assert "Pesan ke jember-pandan-sari terkirim / message sent: 1 pesanan baru / new orders" in out
    first = [line.split("|", 1)[1].strip() for line in out.splitlines() if re.match(r"^\s+\|", line)]
    assert first[0].startswith("Halo KWT Sekar Carica, ada 2 pesanan baru yang sudah dibayar."), first
    assert any(" · Marketplace · kirim ke Semarang" in line for line in first), first
    assert any(" · TikTok Shop · kirim ke " in line for line in first), first
    assert "- 3 × Manisan Carica 250 gr" in first and not any("+62" in line or "Jl. " in line for line in first)
    assert re.search(r"^\s+0 new messages: nothing new to pack \(each order is told once\)\.$", out, re.M), out
    stock_lines = [line for line in out.splitlines() if re.search(r"catalogue\s+\d+\s+pushed", line)]
    assert len(stock_lines) == 5 and all(line.rstrip().endswith(" ok") for line in stock_lines), stock_lines

    # What the sandbox marketplace received: each prepared photo once, with no EXIF (so no GPS) left.
    with sqlite3.connect(work / "sandbox" / "sandbox.db") as db:
        pictures = db.execute("SELECT sha256, format, data FROM pictures").fetchall()
    assert int(said[1]) == int(said[2]) == len(pictures) == len(UPLOADED) == EXPECTED["totals"]["photos_to_upload"]
    sizes = []
    for sha, fmt, data in pictures:
        with Image.open(io.BytesIO(data)) as im:
            assert (fmt, im.format) == ("JPEG", "JPEG"), sha
            assert len(im.getexif()) == 0 and "exif" not in im.info, f"picture {sha} still carries EXIF"
            assert not im.getexif().get_ifd(0x8825), f"picture {sha} carries GPS"
            sizes.append(list(im.size))
    assert sorted(sizes) == sorted(UPLOADED.values()), "each upright (the sideways phone photo turned portrait)"

    # What the groups and the facilitators open.
    samples = work / "samples"
    reports = sorted((samples / "out" / "rejects").glob("*.xlsx"))
    assert len(reports) == 4, reports
    sheets = sorted((samples / "out" / "orders").rglob("*.xlsx"))
    assert sheets, "no order sheet was written"
    written = []
    for path in sheets:
        for ws in load_workbook(path, read_only=True).worksheets:
            written += [str(v) for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    invoices = set(re.findall(r"INV/[0-9A-Z/]+", out))
    assert len(invoices) == 3 and all(any(inv in cell for cell in written) for inv in invoices), invoices

    # Nothing secret in what it printed or left behind.
    leaks = Leaks(DEFAULT_CLIENT_SECRET, DEFAULT_CLIENT_ID)
    leaks.scan("lapak demo stdout", out)
    leaks.scan("lapak demo stderr", proc.stderr)
    sandbox_db = work / "sandbox" / "sandbox.db"
    with sqlite3.connect(sandbox_db) as db:
        token_hashes = {h for (h,) in db.execute("SELECT token_hash FROM tokens")}
    assert token_hashes
    for path in sorted(p for p in work.rglob("*") if p.is_file() and p != sandbox_db):
        leaks.scan_file(path)
    found = leaks.found(token_hashes)
    assert found == [], "\n".join(found[:20])
