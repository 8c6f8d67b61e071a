"""The second channel's app secret and every shop token it issues never leave the process using them.

As tests/test_secrets.py does for the first marketplace: ``lapak sandbox --kind tiktok`` runs with
a known app secret; ``lapak authorize tiktok``, ``lapak sync``, ``lapak orders`` and ``lapak
backfill --channel tiktok`` run against it at DEBUG log level (urllib3, which logs whole URLs,
included: the token endpoints carry the secret in theirs); a forced refresh issues more tokens.
Then everything is scanned for the secret and for every access and refresh token the sandbox
issued (it keeps their hashes): the commands' output, the files written (the state database holds
the tokens only sealed), the sandbox's own files, and what the Prefect API holds.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from datetime import date

from tests.conftest import SAMPLES
from tests.test_secrets import LAPAK, ROOT, Leaks, _free_port, _prefect_records, _run

SHOP = 7494001


def _wait_for(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, "lapak sandbox --kind tiktok did not start"
            time.sleep(0.2)


def test_no_command_leaks_the_tiktok_app_secret_or_a_shop_token(prefect_server, tmp_path):
    from prefect.settings import PREFECT_API_URL

    from connectors.sandbox import running_sandbox
    from connectors.tiktok_sandbox import TikTokSandboxAdmin
    from flows.cli.demo import with_tiktok

    secret = f"tiktok-secret-{uuid.uuid4().hex}"
    leaks = Leaks(secret, "lapak-tiktok-demo")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAPAK_")}
    env.update(PYTHONPATH=str(ROOT), PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_LOGGING_LEVEL="DEBUG",
               PREFECT_LOGGING_EXTRA_LOGGERS="lapak,connectors,flows,urllib3", LAPAK_TIKTOK_APP_SECRET=secret,
               LAPAK_SECRET_KEY=uuid.uuid4().hex)
    data, port = tmp_path / "tiktok", _free_port()
    sandbox = subprocess.Popen([*LAPAK, "sandbox", "--kind", "tiktok", "--port", str(port), "--data", str(data)],
                               env=dict(env, LAPAK_TIKTOK_SANDBOX_APP_SECRET=secret), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    work = tmp_path / "w"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = work / "lapak.toml"
    today = date.today().isoformat()
    ran = {}
    try:
        with running_sandbox(tmp_path / "market", rate_limit=None) as market:
            env["LAPAK_CLIENT_SECRET"] = market.client_secret
            text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
            cfg.write_text(with_tiktok(text, f"http://127.0.0.1:{port}", SHOP), encoding="utf-8")
            _wait_for(port, sandbox)
            for label, args in (
                ("authorize", ["authorize", "tiktok", "--config", str(cfg), "--shop", str(SHOP),
                               "--code", f"code-{SHOP}"]),
                ("sync", ["sync", "--config", str(cfg), "--group", "wonosobo-sekar-carica"]),
                ("orders", ["orders", "--config", str(cfg)]),
                ("backfill", ["backfill", "--config", str(cfg), "--start", today, "--end", today,
                              "--channel", "tiktok"]),
            ):
                if label == "orders":  # a sale, and the access token expired: the pull refreshes it
                    admin = TikTokSandboxAdmin(f"http://127.0.0.1:{port}")
                    sku = admin.products(SHOP)[0]["seller_sku"]
                    admin.place_order(SHOP, [{"seller_sku": sku, "quantity": 1}])
                    admin.expire_token(SHOP, "access")
                    admin.close()
                ran[label] = _run([*LAPAK, *args], env, ROOT, leaks, f"lapak {label}")
            ran["sync, refused"] = _run([*LAPAK, "sync", "--config", str(cfg)],
                                        dict(env, LAPAK_TIKTOK_APP_SECRET=secret + "x"), ROOT, leaks,
                                        "lapak sync (refused app secret)")
    finally:
        sandbox.terminate()
        out, err = sandbox.communicate(timeout=20)
        leaks.scan("lapak sandbox --kind tiktok stdout", out)
        leaks.scan("lapak sandbox --kind tiktok stderr", err)
    for label in ("authorize", "sync", "orders", "backfill"):
        assert ran[label].returncode == 0, f"lapak {label}: {ran[label].stderr[-1500:]}"
    assert ran["sync, refused"].returncode != 0
    # Stopped before any work, one line for every shop (issue 16), the action named.
    assert "TikTok refused the app key or secret: every shop (" in ran["sync, refused"].stderr
    assert "check LAPAK_TIKTOK_APP_KEY and LAPAK_TIKTOK_APP_SECRET" in ran["sync, refused"].stderr

    with sqlite3.connect(data / "tiktok-sandbox.db") as db:  # every token it issued, as hashes
        token_hashes = {h for (h,) in db.execute("SELECT token_hash FROM tokens")}
    assert len(token_hashes) >= 4, "the authorisation's two tokens and a refresh's two"

    leaks.scan_tree(work)
    leaks.scan_tree(data)
    for where, blob in _prefect_records():
        leaks.scan(where, blob)
    found = leaks.found(token_hashes)
    assert found == [], "\n".join(found[:20])
    # The scan does see a leak of each kind: the secret, and a token the state store keeps sealed.
    from connectors.config import load_config
    from connectors.state import StateStore
    from connectors.state.tokens import SealedTokens

    store = StateStore(load_config(cfg).state_url)
    try:
        kept = SealedTokens(store, env["LAPAK_SECRET_KEY"]).load("tiktok", str(SHOP))
    finally:
        store.close()
    probe = Leaks(secret, "lapak-tiktok-demo")
    probe.scan("probe", f"LAPAK_TIKTOK_APP_SECRET={secret} x-tts-access-token: {kept.access_token}")
    assert len(probe.found(token_hashes)) == 2
