"""The client secret and the marketplace's tokens never leave the process that uses them.

Every ``lapak`` command that touches the marketplace (and the offline ones) runs with a known
client secret against the sandbox (``lapak sandbox`` itself), at DEBUG log level with the
project's and urllib3's loggers sent to Prefect. Then everything they left is scanned for the
secret, for the Basic credentials made from it and for every bearer token the marketplace
issued: stdout, stderr, files written (reports, order sheets, caches, the state database, the
sandbox's log and database), what the Prefect API holds (flow and task runs, logs, artifacts)
and the Prefect server's own database, plus the texts and reprs of the errors and objects a
failed call leaves in a Python process. ``lapak demo`` is scanned in ``tests/test_demo.py``
(its own sandbox, its own secret) and ``lapak serve``'s output in ``tests/test_operations.py``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import traceback
import uuid
import zipfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
import requests

from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
LAPAK = [sys.executable, "-c", "import sys; from flows.cli import main; sys.exit(main())"]
TOKEN = re.compile(rb"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])")  # secrets.token_urlsafe(32)


class Leaks:
    """The secret's forms to look for, and where they were found."""

    def __init__(self, secret: str, client_id: str) -> None:
        self.secret = secret.encode()
        self.basic = base64.b64encode(f"{client_id}:{secret}".encode())
        self.collected: list[tuple[str, bytes]] = []

    def scan(self, where: str, data: bytes | str) -> None:
        """Keep ``data`` to look through once every token the marketplace issued is known."""
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        self.collected.append((where, data))

    def found(self, token_hashes: set[str]) -> list[str]:
        out = []
        for where, data in self.collected:
            for form, needle in (("client secret", self.secret), ("Basic credentials", self.basic)):
                if needle in data:
                    i = data.index(needle)
                    out.append(f"{form} in {where}: …{data[max(0, i - 60):i + 80]!r}…")
            for m in TOKEN.finditer(data):
                if hashlib.sha256(m.group()).hexdigest() in token_hashes:
                    out.append(f"bearer token in {where}: …{data[max(0, m.start() - 60):m.end()]!r}…")
        return out

    def scan_file(self, path: Path) -> None:
        data = path.read_bytes()
        self.scan(str(path), data)
        if data.startswith(b"PK\x03\x04"):  # an XLSX: its sheets are compressed
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for name in z.namelist():
                    self.scan(f"{path}!{name}", z.read(name))

    def scan_tree(self, root: Path) -> None:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.scan_file(path)


def _run(cmd: list[str], env: dict, cwd: Path, leaks: Leaks, label: str,
         timeout: float = 120) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    leaks.scan(f"{label} stdout", proc.stdout)
    leaks.scan(f"{label} stderr", proc.stderr)
    return proc


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_no_command_leaks_the_client_secret_or_a_token(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL

    secret = f"lapak-secret-{uuid.uuid4().hex}"
    client_id = "lapak-rahasia"
    leaks = Leaks(secret, client_id)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPAK_")}
    env.update(PYTHONPATH=str(ROOT), PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_LOGGING_LEVEL="DEBUG",
               PREFECT_LOGGING_EXTRA_LOGGERS="lapak,connectors,flows,urllib3", LAPAK_CLIENT_SECRET=secret)

    # lapak sandbox: the marketplace, given the same secret (from the environment, as documented).
    data = tmp_path / "sandbox"
    port = _free_port()
    sandbox = subprocess.Popen([*LAPAK, "sandbox", "--port", str(port), "--data", str(data), "--client-id", client_id,
                                "--rate-limit", "0"], env=dict(env, LAPAK_SANDBOX_CLIENT_SECRET=secret), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    work = tmp_path / "w"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = work / "lapak.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", url)
    cfg.write_text(text.replace('client_id = "lapak-demo"', f'client_id = "{client_id}"\nrate_limit_per_second = 1000'),
                   encoding="utf-8")
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert sandbox.poll() is None and time.monotonic() < deadline, "lapak sandbox did not start"
                time.sleep(0.2)

        issued = requests.post(f"{url}/token", params={"grant_type": "client_credentials"}, auth=(client_id, secret),
                               timeout=10).json()["access_token"]  # for the scan's own check, never printed
        today = date.today().isoformat()
        # The commands that write nothing to the marketplace run side by side, then the rest in turn.
        with ThreadPoolExecutor(3) as pool:
            first = {label: pool.submit(_run, [*LAPAK, *args], env, ROOT, leaks, f"lapak {label}") for label, args in (
                ("check", ["check", str(work / "catalogues" / "jember" / "anyaman-pandan-sari.csv"), "--config",
                           str(cfg), "--out", str(tmp_path / "check")]),
                ("template", ["template", str(tmp_path / "templat.xlsx")]),
                ("sync --dry-run", ["sync", "--config", str(cfg), "--dry-run"]))}
            ran = {label: f.result() for label, f in first.items()}
        for label, args in (
            ("sync", ["sync", "--config", str(cfg)]),
            ("orders", ["orders", "--config", str(cfg)]),
            ("backfill", ["backfill", "--config", str(cfg), "--start", today, "--end", today]),
        ):
            if label == "orders":  # a sale and a cancel, so the order pull has something to write
                _place_orders(url, cfg)
            ran[label] = _run([*LAPAK, *args], env, ROOT, leaks, f"lapak {label}")
        # A failure prints an error: a refused secret (a longer one, so a leak of it would show). A lost
        # marketplace is checked in this process below (the flows' retries outlast it for minutes).
        ran["sync, refused"] = _run([*LAPAK, "sync", "--config", str(cfg)], dict(env, LAPAK_CLIENT_SECRET=secret + "x"),
                                    ROOT, leaks, "lapak sync (refused credentials)")
    finally:
        sandbox.terminate()
        out, err = sandbox.communicate(timeout=20)
        leaks.scan("lapak sandbox stdout", out)
        leaks.scan("lapak sandbox stderr", err)
    for label in ("check", "template", "sync --dry-run", "sync", "orders", "backfill"):
        assert ran[label].returncode == 0, f"lapak {label}: {ran[label].stderr[-1500:]}"
    assert ran["sync, refused"].returncode != 0 and "refused" in ran["sync, refused"].stderr

    with sqlite3.connect(data / "sandbox.db") as db:  # every token the marketplace issued, as hashes
        token_hashes = {h for (h,) in db.execute("SELECT token_hash FROM tokens")}
    assert len(token_hashes) >= 5

    # Everything written: reports, order sheets, caches, the state database, the template, the sandbox's files.
    assert list((work / "out" / "orders").rglob("*.xlsx")) and list((work / "out" / "rejects").glob("*.xlsx"))
    for root in (work, tmp_path / "check", data):
        leaks.scan_tree(root)
    leaks.scan_file(tmp_path / "templat.xlsx")
    # What Prefect holds: runs (with their parameters), task runs, logs, artifacts — and its database.
    for where, blob in _prefect_records():
        leaks.scan(where, blob)
    db_path = Path(PREFECT_SERVER_DATABASE_CONNECTION_URL.value().split(":///", 1)[1])
    for path in db_path.parent.glob(db_path.name + "*"):
        leaks.scan_file(path)
    # Errors and objects a failed call leaves in a process.
    for where, text in _in_process_texts(cfg, secret):
        leaks.scan(where, text)

    assert len(leaks.collected) > 100
    found = leaks.found(token_hashes)
    assert found == [], "\n".join(found[:20])
    # The scan does see a leak of each kind.
    probe = Leaks(secret, client_id)
    probe.scan("probe", f"LAPAK_CLIENT_SECRET={secret} Authorization: Basic {leaks.basic.decode()} Bearer {issued}")
    assert len(probe.found(token_hashes)) == 3


def _place_orders(url: str, cfg: Path) -> None:
    from connectors.sandbox import SandboxAdmin

    admin = SandboxAdmin(url)
    try:
        products = admin.products(479574)
        first = admin.place_order(479574, [{"sku": products[0]["sku"], "quantity": 1}])
        admin.place_order(479574, [{"sku": products[1]["sku"], "quantity": 2}])
        admin.set_order_status(first["order_id"], 0)
    finally:
        admin.close()


def _prefect_records() -> list[tuple[str, str]]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import LogSort

    out = []
    with get_client(sync_client=True) as client:
        for run in client.read_flow_runs(limit=200):
            out.append((f"prefect flow run {run.name}", run.model_dump_json()))
        for task in client.read_task_runs(limit=200):
            out.append((f"prefect task run {task.name}", task.model_dump_json()))
        offset = 0
        while logs := client.read_logs(limit=200, offset=offset, sort=LogSort.TIMESTAMP_ASC):
            out += [(f"prefect log of {log.flow_run_id}", log.model_dump_json()) for log in logs]
            offset += len(logs)
        for artifact in client.read_artifacts(limit=200):
            out.append((f"prefect artifact {artifact.key}", artifact.model_dump_json()))
    assert any("sync-catalogues" in blob or "sync" in where for where, blob in out)
    return out


def _in_process_texts(cfg: Path, secret: str) -> list[tuple[str, str]]:
    """str, repr and traceback of what failed calls raise; repr of the objects holding the secret."""
    from connectors.config import load_config
    from connectors.marketplace import MarketplaceClient
    from flows.engine.runtime import Runtime

    os.environ["LAPAK_CLIENT_SECRET"] = secret
    try:
        config = load_config(cfg)
        rt = Runtime.open(str(cfg))
        texts = [("config repr", repr(config)), ("config dump", config.model_dump_json()),
                 ("runtime repr", repr(rt)), ("channel repr", repr(rt.channel)),
                 ("client repr", repr(rt.channel.client)), ("client vars", repr(vars(rt.channel.client)))]
        down = MarketplaceClient.from_config(config.marketplace, max_attempts=1)
        down.api_url = down.auth_url = f"http://127.0.0.1:{_free_port()}"
        try:
            down.categories()
        except Exception as err:
            texts += [("error str", str(err)), ("error repr", repr(err)),
                      ("traceback", "".join(traceback.format_exception(err)))]
        else:
            pytest.fail("a call to a closed port succeeded")
        rt.close()
        down.close()
        return texts
    finally:
        del os.environ["LAPAK_CLIENT_SECRET"]
