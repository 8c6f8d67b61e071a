"""Operations as operators meet them: a real ``prefect server start`` (its own PREFECT_HOME and
SQLite), ``lapak serve`` (``python -m flows.cli serve``) against the sandbox marketplace, runs
started through the Prefect API as the UI starts them, their artifacts read back, a restart of
``lapak serve`` leaving the schedules on, and the rate limits every worker shares."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from tests.browser import chromium, log_in_to_prefect_ui, screenshot
from tests.conftest import SAMPLES
from tests.test_secrets import Leaks

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS = {"sync": "sync-catalogues/hourly", "orders": "pull-orders/every-15-minutes",
               "backfill": "backfill-orders/on-demand"}
SHARED_SHOP = 479574  # banyuwangi and jember sell through it
RUNS: dict[str, str] = {}  # what one test leaves for the screenshot test
# The module's Prefect server runs with basic authentication, as the operating guide sets it up:
# every client here (lapak serve, workers, this test's own) presents it.
AUTH = "lapak-ops:a-long-random-password-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any Prefect setting of the developer's (profile, API URL, database)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
               PREFECT_API_AUTH_STRING=AUTH, **extra)
    return env


def tail(path: Path, n: int = 3000) -> str:
    return path.read_text(errors="replace")[-n:] if path.exists() else ""


def stop(proc: subprocess.Popen, sig: int = signal.SIGINT, wait_s: float = 30) -> int | None:
    """Ask a process (and the runs it started) to stop; kill what is left."""
    if proc.poll() is None:
        proc.send_signal(sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(wait_s)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)  # its own session: children too
    proc.wait(10)
    return proc.returncode


def wait_for(what: str, check, timeout: float, every: float = 0.5, why=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:g} s. {why()}")


@contextmanager
def prefect(url: str):
    """A synchronous Prefect client talking to ``url`` (whatever else this test session uses).

    On the way out, what in-process runs and concurrency slots logged or emitted is sent while
    that server is still up, and the senders bound to it are stopped: later tests (on the
    session's harness) get their own, instead of queueing behind a server that is gone.
    """
    from prefect.client.orchestration import get_client
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

    with temporary_settings({PREFECT_API_URL: url, PREFECT_API_AUTH_STRING: AUTH}):
        try:
            with get_client(sync_client=True) as client:
                yield client
        finally:
            APILogWorker.drain_all(timeout=30)
            EventsWorker.drain_all(timeout=30)


# ---- fixtures ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """``prefect server start`` on a free port, with its own home and SQLite database, closed to
    strangers by basic authentication (``PREFECT_SERVER_API_AUTH_STRING``)."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = free_port()
    log = home / "server.log"
    url = f"http://127.0.0.1:{port}/api"
    # No scheduler: the schedules exist, but no run starts on its own while the test runs. The
    # API URL, as the guide sets it, gives notifications their links to the UI.
    env = clean_env(PREFECT_HOME=str(home), PREFECT_SERVER_SERVICES_SCHEDULER_ENABLED="false",
                    PREFECT_LOGGING_LEVEL="WARNING", PREFECT_API_URL=url, PREFECT_SERVER_API_AUTH_STRING=AUTH)
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                                 "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=home, start_new_session=True)

    def healthy():
        if proc.poll() is not None:
            raise AssertionError(f"prefect server exited ({proc.returncode}): {tail(log)}")
        try:
            return requests.get(f"{url}/health", timeout=2).ok
        except requests.RequestException:
            return False

    try:
        wait_for("prefect server start", healthy, timeout=120, why=lambda: tail(log))
        yield SimpleNamespace(url=url, ui=url.removesuffix("/api"), home=home)
    finally:
        stop(proc, signal.SIGTERM)


@pytest.fixture(scope="module")
def market(tmp_path_factory):
    from connectors.sandbox import running_sandbox

    with running_sandbox(tmp_path_factory.mktemp("sandbox"), rate_limit=None) as handle:
        yield handle


@pytest.fixture(scope="module")
def config(tmp_path_factory, market):
    """A copy of the samples pointing at the sandbox."""
    work = tmp_path_factory.mktemp("ops") / "w"
    shutil.copytree(SAMPLES, work, ignore=shutil.ignore_patterns("*.py", "out", "var"))
    cfg = work / "lapak.toml"
    text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
    # No rate limit on this sandbox: the client's own 5 items/s pacing would only slow the runs.
    text = text.replace('client_id = "lapak-demo"', 'client_id = "lapak-demo"\nrate_limit_per_second = 1000')
    # Operators are told of every failed run through this block (made by `serving`, before serve starts).
    cfg.write_text(text.replace("[categories]", '[operators]\nnotify = "custom-webhook/lapak-alerts"\n\n[categories]'),
                   encoding="utf-8")
    return cfg


class Serve:
    """``python -m flows.cli serve --config F`` (``lapak serve``), started and stopped like an operator does."""

    def __init__(self, cfg: Path, api, market, home: Path) -> None:
        self.cfg, self.api, self.home = cfg, api, home
        self.env = clean_env(PREFECT_API_URL=api.url, PREFECT_HOME=str(home), LAPAK_CLIENT_SECRET=market.client_secret,
                             PREFECT_RUNNER_POLL_FREQUENCY="2", PREFECT_LOGGING_LEVEL="INFO")
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log(self) -> Path:
        return self.home / f"serve-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "wb") as out:
            # As from a terminal: Ctrl-C works even when the tests themselves run where SIGINT is
            # ignored (a background job of a script: its children would inherit SIG_IGN).
            self.proc = subprocess.Popen([sys.executable, "-m", "flows.cli", "serve", "--config", str(self.cfg)],
                                         env=self.env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                         cwd=self.home, start_new_session=True,
                                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

    def wait_ready(self, since: datetime) -> None:
        """Until the three deployments were (re-)applied by this start."""
        def applied():
            if self.proc.poll() is not None:
                raise AssertionError(f"lapak serve exited ({self.proc.returncode}): {tail(self.log)}")
            with prefect(self.api.url) as client:
                try:
                    found = [client.read_deployment_by_name(n) for n in DEPLOYMENTS.values()]
                except Exception:
                    return False
            return all(d.updated >= since for d in found) and "being served" in tail(self.log, 100_000)

        wait_for("lapak serve publishing its deployments", applied, timeout=90, every=1, why=lambda: tail(self.log))

    def stop(self) -> int | None:
        return stop(self.proc) if self.proc is not None else None


@pytest.fixture(scope="module")
def serving(prefect_api, market, config, webhook, tmp_path_factory):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock

    with prefect(prefect_api.url):  # the operators' block, as made once in the UI
        CustomWebhookNotificationBlock(name="lapak", url=webhook.url,
                                       json_data={"text": "{{subject}}\n{{body}}"}).save("lapak-alerts", overwrite=True)
    serve = Serve(config, prefect_api, market, tmp_path_factory.mktemp("serve-home"))
    try:
        since = datetime.now(UTC) - timedelta(seconds=5)
        serve.start()
        serve.wait_ready(since)
        yield serve
    finally:
        serve.stop()


@pytest.fixture(scope="module")
def webhook():
    """A local HTTP endpoint standing in for Slack & co.: what the Prefect server posts to it."""
    received: list[str] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(self.rfile.read(int(self.headers.get("content-length", 0))).decode(errors="replace"))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield SimpleNamespace(url=f"http://127.0.0.1:{server.server_port}/hook", received=received)
    finally:
        server.shutdown()
        server.server_close()


def run_deployment(client, name: str, parameters: dict | None = None):
    """Create a flow run from a deployment as the UI's "Run" button does."""
    deployment = client.read_deployment_by_name(name)
    return client.create_flow_run_from_deployment(deployment.id, parameters=parameters or {})


def wait_final(url: str, run_ids: list, serve: Serve, timeout: float = 240) -> dict:
    def done():
        with prefect(url) as client:
            runs = {i: client.read_flow_run(i) for i in run_ids}
        return runs if all(r.state is not None and r.state.is_final() for r in runs.values()) else None

    return wait_for("flow runs to finish", done, timeout=timeout, every=1, why=lambda: tail(serve.log))


def table(artifact) -> list[dict]:
    """A table artifact's rows (the API keeps them as JSON text)."""
    return json.loads(artifact.data) if isinstance(artifact.data, str) else artifact.data


def artifacts(client, run_id) -> dict:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    found = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    return {a.key: a for a in found}


# ---- tests ------------------------------------------------------------------------------------

def test_serve_publishes_three_deployments_with_jakarta_schedules_and_a_form(serving, prefect_api, config):
    with prefect(prefect_api.url) as client:
        dep = {k: client.read_deployment_by_name(n) for k, n in DEPLOYMENTS.items()}
    crons = {k: [(s.schedule.cron, s.schedule.timezone, s.active) for s in d.schedules] for k, d in dep.items()}
    assert crons == {"sync": [("5 * * * *", "Asia/Jakarta", True)],
                     "orders": [("*/15 * * * *", "Asia/Jakarta", True)], "backfill": []}
    assert all(not d.paused and "lapak" in d.tags and d.description for d in dep.values())
    assert "every hour" in dep["sync"].description and "start" in dep["backfill"].description

    sync_form = dep["sync"].parameter_openapi_schema["properties"]
    for field in ("groups", "dry_run", "accept_shrink"):
        assert sync_form[field].get("description"), field
    # A pick-list of the configured groups (several may be ticked), not a "list | None" toggle.
    groups = sync_form["groups"]
    assert "anyOf" not in groups and groups["type"] == "array" and groups["uniqueItems"] and groups["default"] == []
    assert groups["items"] == {"type": "string", "enum": ["wonosobo-sekar-carica", "banyuwangi-gajah-oling",
                                                          "jember-pandan-sari", "indramayu-srikandi-kenanga"]}
    # The configuration is fixed: shown, read-only, and the only value the server accepts.
    assert sync_form["config_path"]["readOnly"] and sync_form["config_path"]["enum"] == [str(config.resolve())]
    backfill_form = dep["backfill"].parameter_openapi_schema
    assert {"start", "end"} <= set(backfill_form["required"])
    assert all(backfill_form["properties"][d]["format"] == "date" and backfill_form["properties"][d]["description"]
               for d in ("start", "end"))


def test_the_prefect_server_is_closed_to_strangers(prefect_api, market, config, tmp_path):
    """The guide's server runs with basic authentication: an anonymous client is refused (the
    health probe alone stays open), the authorised one is served, and `lapak serve` without the
    password (or with a wrong one) stops at once, saying what to set."""
    deployments = f"{prefect_api.url}/deployments/filter"
    assert requests.post(deployments, json={}, timeout=10).status_code == 401
    assert requests.post(deployments, json={}, timeout=10, auth=("lapak-ops", "guess")).status_code == 401
    assert requests.post(deployments, json={}, timeout=10, auth=tuple(AUTH.split(":", 1))).status_code == 200
    assert requests.get(f"{prefect_api.url}/health", timeout=10).ok

    for auth in ("", "lapak-ops:wrong"):
        env = clean_env(PREFECT_API_URL=prefect_api.url, PREFECT_HOME=str(tmp_path / "home"),
                        LAPAK_CLIENT_SECRET=market.client_secret)
        env["PREFECT_API_AUTH_STRING"] = auth
        if not auth:
            del env["PREFECT_API_AUTH_STRING"]
        done = subprocess.run([sys.executable, "-m", "flows.cli", "serve", "--config", str(config)], env=env,
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
        assert done.returncode != 0
        assert "refused this client (HTTP 401)" in done.stderr and "PREFECT_API_AUTH_STRING" in done.stderr, done.stderr
        assert AUTH.split(":", 1)[1] not in done.stderr + done.stdout


def test_serve_with_a_refused_secret_stops_at_once_saying_what_to_check(prefect_api, config, tmp_path):
    env = clean_env(PREFECT_API_URL=prefect_api.url, PREFECT_HOME=str(tmp_path / "home"),
                    LAPAK_CLIENT_SECRET="not-the-sandbox-secret")
    done = subprocess.run([sys.executable, "-m", "flows.cli", "serve", "--config", str(config)], env=env,
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode != 0
    assert "Marketplace refused the credentials: every shop" in done.stderr, done.stderr
    assert "check LAPAK_CLIENT_SECRET (or the Secret block), then restart lapak serve" in done.stderr
    assert "not-the-sandbox-secret" not in done.stderr + done.stdout
    assert "being served" not in done.stdout


def test_sync_backfill_and_a_failing_dry_run_started_from_the_api(serving, prefect_api, market, config, webhook):
    from flows.operators import failure_automation_name

    with prefect(prefect_api.url) as client:
        # [operators] notify: lapak serve made the automation (no code from the operator).
        kept = client.read_automations_by_name(failure_automation_name(config))
        assert len(kept) == 1 and kept[0].enabled
        sync = run_deployment(client, DEPLOYMENTS["sync"])
    run = wait_final(prefect_api.url, [sync.id], serving)[sync.id]
    assert run.state.is_completed(), run.state.message
    assert run.name.startswith("sync · 4 groups · ") and len(run.name) == len("sync · 4 groups · 2026-11-27 10:00")
    RUNS["sync"] = str(run.id)

    with prefect(prefect_api.url) as client:
        made = artifacts(client, run.id)
        # The run shared its pacing through limits per app and endpoint, made from the configuration.
        limit = client.read_global_concurrency_limit_by_name(f"marketplace-{market.fs_id}-v3-products-fs-"
                                                             f"{market.fs_id}-create")
    summary = {r["group"]: r for r in table(made["sync-summary"])}
    assert set(summary) == {"wonosobo-sekar-carica", "banyuwangi-gajah-oling", "jember-pandan-sari",
                            "indramayu-srikandi-kenanga"}
    assert sum(r["created"] for r in summary.values()) == 48 == len(market.admin.products(479573)) + len(
        market.admin.products(SHARED_SHOP)) + len(market.admin.products(479575))
    for r in summary.values():
        assert {"rows_in", "listings", "rejected", "created", "edited", "price_updates", "stock_updates",
                "deactivated", "errors"} <= set(r)
    assert summary["banyuwangi-gajah-oling"]["rejected"] == 6
    rejects = made["sync-rejects"].data
    assert "rejects/banyuwangi-gajah-oling.xlsx" in rejects and "| sheet | row |" in rejects
    assert made["sync-progress"].data == 100
    assert (limit.limit, limit.slot_decay_per_second, limit.active) == (1000, 1000, True)  # rate_limit_per_second

    # A buyer orders; one group's catalogue goes missing. Then a backfill and a dry run, together.
    sku = next(p["sku"] for p in market.admin.products(479573) if p["stock"] > 0)
    order = market.admin.place_order(479573, [{"sku": sku, "quantity": 1}])
    jember = config.parent / "catalogues" / "jember" / "anyaman-pandan-sari.csv"
    hidden = jember.with_suffix(".away")
    jember.rename(hidden)
    today = datetime.now(timezone(timedelta(hours=7))).date()
    try:
        with prefect(prefect_api.url) as client:
            backfill = run_deployment(client, DEPLOYMENTS["backfill"],
                                      {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat()})
            dry = run_deployment(client, DEPLOYMENTS["sync"], {"dry_run": True})
        runs = wait_final(prefect_api.url, [backfill.id, dry.id], serving)
    finally:
        hidden.rename(jember)

    back = runs[backfill.id]
    assert back.state.is_completed(), back.state.message
    assert back.name == f"backfill · {today - timedelta(days=1)} to {today} · 3 shops"
    with prefect(prefect_api.url) as client:
        made = artifacts(client, back.id)
    changes = table(made["orders-backfill-changes"])
    assert [(c["invoice"], c["group"], c["change"]) for c in changes] == [
        (order["invoice_ref_num"], "wonosobo-sekar-carica", "baru / new")]
    per_group = {r["group"]: r for r in table(made["orders-backfill-summary"])}
    assert per_group["wonosobo-sekar-carica"]["orders_new"] == 1

    failed = runs[dry.id]
    assert failed.state.is_failed()
    assert failed.name.startswith("sync (dry run) · 4 groups · ")
    assert failed.state.message == ("Catalogue unreadable: jember-pandan-sari (anyaman-pandan-sari.csv: File not "
                                    "found). Do: fix or restore the catalogue file (or its URL), then Quick run")
    with prefect(prefect_api.url) as client:
        made = artifacts(client, failed.id)
    assert "Shop 479573" in made["sync-plan"].data  # the other groups were still planned
    by_group = {r["group"]: r for r in table(made["sync-summary"])}
    assert by_group["jember-pandan-sari"]["errors"] == 1 and by_group["wonosobo-sekar-carica"]["listings"] == 12
    assert "could not be read" in made["sync-rejects"].data

    # The automation told the operator, about that run only (the completed ones are not news).
    wait_for("the failure notification", lambda: webhook.received, timeout=90, every=1,
             why=lambda: f"received {webhook.received}")
    assert all(failed.name in text for text in webhook.received)
    assert "jember-pandan-sari" in webhook.received[0] and f"/runs/flow-run/{failed.id}" in webhook.received[0]

    # What serve printed while it ran these flows holds neither the secret nor a token.
    leaks = Leaks(market.client_secret, market.client_id)
    assert "sync · 4 groups" in tail(serving.log, 10_000_000)  # it does hold the runs' logs
    leaks.scan_file(serving.log)
    with sqlite3.connect(market.data_dir / "sandbox.db") as db:
        token_hashes = {h for (h,) in db.execute("SELECT token_hash FROM tokens")}
    assert token_hashes and leaks.found(token_hashes) == []


def test_a_shop_that_fails_does_not_stop_the_others_and_the_run_says_why(prefect_api, tmp_path, monkeypatch):
    from connectors.config import load_config
    from connectors.sandbox import running_sandbox
    from connectors.state import StateStore
    from flows.sync import sync_catalogues
    from schemas.errors import NeedsOperator

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as sb:
        shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = tmp_path / "w" / "lapak.toml"
        text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", sb.url)
        # A fifth group in a shop the marketplace has not linked to this app (HTTP 403).
        text = text.replace("[categories]", '[[groups]]\nid = "wonosobo-cabang"\nname = "Cabang"\nshop_id = 999999\n'
                            'catalogue = "catalogues/wonosobo/sekar-carica.xlsx"\n\n[categories]')
        cfg.write_text(text.replace('client_id = "lapak-demo"',
                                    'client_id = "lapak-demo"\nrate_limit_per_second = 1000'),
                       encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", sb.client_secret)
        with prefect(prefect_api.url):
            with pytest.raises(NeedsOperator, match=r"^Shop failed after retries: shop 999999 \(.*403.*\)\. "
                               r"Do: the next scheduled run retries") as failed:
                sync_catalogues(config_path=str(cfg))
            assert len(failed.value.lines) == 1 and len(str(failed.value)) <= 200
            assert sum(len(sb.admin.products(shop)) for shop in sb.shops) == 48  # the others were synced
            store = StateStore(load_config(cfg).state_url)
            rows = {r["group"]: r for r in store.runs("sync")[-1].summary["groups"]}
            store.close()
            assert rows["wonosobo-cabang"]["errors"] == 1 and "shop 999999" in rows["wonosobo-cabang"]["error"]
            assert rows["wonosobo-sekar-carica"]["created"] == 12 and rows["wonosobo-sekar-carica"]["errors"] == 0

            monkeypatch.setenv("LAPAK_CLIENT_SECRET", "not-the-secret")
            with pytest.raises(NeedsOperator, match=r"refused the credentials.*LAPAK_CLIENT_SECRET") as failed:
                sync_catalogues(config_path=str(cfg))
            assert "not-the-secret" not in str(failed.value)


def test_a_run_asking_for_another_configuration_is_refused_and_nothing_is_sent(serving, prefect_api, market, config,
                                                                                tmp_path):
    """Issue 15: with the deployment's parameter check off, the API accepts a run with another
    ``config_path``; the runner refuses it, naming the mismatch, and its ``auth_url`` never
    receives the client secret from the runner's environment."""
    from prefect.client.schemas.actions import DeploymentUpdate

    asked: list[str] = []

    class Catcher(BaseHTTPRequestHandler):
        def do_POST(self):
            asked.append(f"{self.path} {self.headers.get('Authorization', '')}")
            self.send_response(500)
            self.end_headers()

        do_GET = do_POST

        def log_message(self, *args):
            pass

    catcher = HTTPServer(("127.0.0.1", 0), Catcher)
    threading.Thread(target=catcher.serve_forever, daemon=True).start()
    elsewhere = tmp_path / "elsewhere.toml"
    elsewhere.write_text(config.read_text(encoding="utf-8").replace(market.url, f"http://127.0.0.1:{catcher.server_port}"),
                         encoding="utf-8")
    try:
        with prefect(prefect_api.url) as client:
            dep = client.read_deployment_by_name(DEPLOYMENTS["orders"])
            client.update_deployment(dep.id, DeploymentUpdate(enforce_parameter_schema=False))
            run = client.create_flow_run_from_deployment(dep.id, parameters={"config_path": str(elsewhere)})
        final = wait_final(prefect_api.url, [run.id], serving)[run.id]
    finally:
        catcher.shutdown()
        catcher.server_close()
        with prefect(prefect_api.url) as client:
            client.update_deployment(dep.id, DeploymentUpdate(enforce_parameter_schema=True))
    assert final.state.is_failed()
    assert final.state.message.startswith(f"Run refused, another config file asked: {elsewhere}"), final.state.message
    assert asked == []


def test_a_restart_of_serve_leaves_the_schedules_on(serving, prefect_api):
    assert serving.stop() == 0  # Ctrl-C: a clean stop
    with prefect(prefect_api.url) as client:
        after_stop = {k: client.read_deployment_by_name(n) for k, n in DEPLOYMENTS.items()}
        # Stopping did not pause anything (Prefect's serve would have).
        assert not any(d.paused for d in after_stop.values())
        # Something paused the sync while nothing was serving (an older serve, a mistaken click).
        client.pause_deployment(after_stop["sync"].id)
        assert client.read_deployment(after_stop["sync"].id).paused

    since = datetime.now(UTC) - timedelta(seconds=1)
    serving.start()
    serving.wait_ready(since)
    with prefect(prefect_api.url) as client:
        again = {k: client.read_deployment_by_name(n) for k, n in DEPLOYMENTS.items()}
    assert not any(d.paused for d in again.values())
    assert all(s.active for d in again.values() for s in d.schedules)
    assert [len(d.schedules) for d in again.values()] == [1, 1, 0]


def notified(shop: int, cfg: str, n: int = 1) -> None:
    """The event ``lapak webhooks`` emits for a burst of a shop's order notifications."""
    from prefect.events import emit_event

    emit_event(event="lapak.orders.notified", payload={"notifications": n},
               resource={"prefect.resource.id": f"lapak.shop.marketplace.{shop}", "lapak.channel": "marketplace",
                         "lapak.shop_id": str(shop), "lapak.config": cfg})


def test_a_burst_of_order_notifications_pulls_that_shop_once_within_seconds(serving, prefect_api, market, config,
                                                                            monkeypatch):
    """The automation `lapak serve` keeps (one, also after the restart above): a burst of a shop's
    notification events starts one pull of that shop, at once; another configuration's don't."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    from connectors.config import load_config
    from connectors.state import StateStore
    from flows.serve import automation_name

    a_sync_run(prefect_api, market, config, monkeypatch)  # products listed (by the earlier test, or now)
    cfg, shop = str(config.resolve()), 479573
    with prefect(prefect_api.url) as client:
        assert [a.name for a in client.read_automations_by_name(automation_name(cfg))] == [automation_name(cfg)]
        by_deployment = DeploymentFilter(id=DeploymentFilterId(any_=[client.read_deployment_by_name(
            DEPLOYMENTS["orders"]).id]))
        earlier = {r.id for r in client.read_flow_runs(deployment_filter=by_deployment)}
    sku = next(p["sku"] for p in market.admin.products(shop) if p["stock"] >= 2)
    order = market.admin.place_order(shop, [{"sku": sku, "quantity": 2}])
    shown = next(p["stock"] for p in market.admin.products(shop) if p["sku"] == sku)
    sent = time.monotonic()
    with prefect(prefect_api.url):
        for _ in range(4):  # a burst: retries, a status change, the receiver's debounce window passing
            notified(shop, cfg)
            time.sleep(0.3)
        notified(shop, "/another/lapak.toml")  # another configuration's serve would act on this one

    def started():
        with prefect(prefect_api.url) as client:
            runs = [r for r in client.read_flow_runs(deployment_filter=by_deployment) if r.id not in earlier]
        return runs if runs and all(r.state is not None and r.state.is_final() for r in runs) else None

    (run,) = wait_for("the notified pull", started, timeout=60, every=0.5, why=lambda: tail(serving.log))
    took = time.monotonic() - sent
    assert run.state.is_completed(), f"{run.state.message}\n{tail(serving.log)}"
    assert run.parameters["shops"] == [f"marketplace:{shop}"] and run.parameters["config_path"] == cfg
    assert run.name.startswith(f"orders (notified) · marketplace:{shop} · ")
    time.sleep(2)  # the burst's other events were all in before the run finished: still the one run
    with prefect(prefect_api.url) as client:
        assert [r.id for r in client.read_flow_runs(deployment_filter=by_deployment) if r.id not in earlier] == [run.id]
        changes = table(artifacts(client, run.id)["orders-changes"])
    assert [c["invoice"] for c in changes] == [order["invoice_ref_num"]]
    store = StateStore(load_config(config).state_url)
    try:
        assert int(order["order_id"]) in store.order_states([order["order_id"]])
        stored = next(k for k in store.listings(shop_id=shop) if k.sku == sku)
    finally:
        store.close()
    assert stored.stock == shown, "the stock the marketplace shows after the sale is the one recorded"
    print(f"order notified → its pull completed in {took:.1f} s")


def test_scale_out_runs_the_deployments_on_a_process_work_pool(serving, prefect_api, market, config, tmp_path):
    from prefect.client.schemas.actions import WorkPoolCreate

    from flows.serve import build_deployments, register_on_pool

    with prefect(prefect_api.url) as client:
        client.create_work_pool(WorkPoolCreate(name="lapak", type="process"))
        register_on_pool(build_deployments(config, ["wonosobo-sekar-carica"]), "lapak")
        dep = {k: client.read_deployment_by_name(n) for k, n in DEPLOYMENTS.items()}
    assert {d.work_pool_name for d in dep.values()} == {"lapak"}
    # Workers import the flows from the installed package: nothing to download first.
    assert dep["sync"].entrypoint == "flows.sync.sync_catalogues" and not dep["sync"].pull_steps
    assert [s.schedule.cron for s in dep["orders"].schedules] == ["*/15 * * * *"]

    # From here a worker runs them, as on another machine: `prefect worker start --pool lapak`.
    serving.stop()
    with prefect(prefect_api.url) as client:
        run = run_deployment(client, DEPLOYMENTS["orders"])
    log = tmp_path / "worker.log"
    env = clean_env(PREFECT_API_URL=prefect_api.url, PREFECT_HOME=str(tmp_path / "worker-home"),
                    LAPAK_CLIENT_SECRET=market.client_secret, PREFECT_LOGGING_LEVEL="INFO")
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "prefect", "worker", "start", "--pool", "lapak", "--run-once"],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path,
                                  start_new_session=True)
    try:
        def finished():
            with prefect(prefect_api.url) as client:
                now = client.read_flow_run(run.id)
            return now if now.state is not None and now.state.is_final() else None

        done = wait_for("the worker running the order pull", finished, timeout=150, every=1, why=lambda: tail(log))
    finally:
        stop(worker)
    assert done.state.is_completed(), f"{done.state.message}\n{tail(log)}"
    assert done.work_pool_name == "lapak" and str(run.id) in tail(log, 1_000_000)


def test_missed_scheduled_runs_are_skipped_not_replayed():
    from prefect.states import Completed, Scheduled

    from flows.serve import missed_runs

    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)

    def run(late_min: float, auto: bool = True, state=None):
        return SimpleNamespace(auto_scheduled=auto, expected_start_time=now - timedelta(minutes=late_min),
                               state=state or Scheduled(scheduled_time=now - timedelta(minutes=late_min)),
                               name=late_min)

    runs = [run(60), run(6), run(2), run(-15), run(60, auto=False), run(60, state=Completed())]
    assert [r.name for r in missed_runs(runs, now)] == [60, 6]


def test_the_shared_limits_are_made_from_the_configuration_and_keep_every_process_to_them(prefect_api, caplog):
    import contextvars

    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from flows.limits import PrefectRateGate

    name = "marketplace-900001-v3-products-fs-900001-create"
    with prefect(prefect_api.url) as client:
        # Two processes (a gate each) take 2 × 10 items at once from a limit nobody created yet.
        gates = [PrefectRateGate(), PrefectRateGate()]
        threads = [threading.Thread(target=contextvars.copy_context().run, args=(lambda g=g: [g(name, 10, 10.0)
                                                                                            for _ in range(2)],))
                   for g in gates]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        together = time.monotonic() - start
        made = client.read_global_concurrency_limit_by_name(name)
        assert (made.limit, made.slot_decay_per_second) == (10, 10.0)  # one limit, from the rate
        assert 3.0 <= together < 8  # 40 items at 10/s, a burst of 10: both kept to it, together

        # The configuration changed: the limit is made again from it. More than it holds at once
        # is taken in pieces (the server would refuse an increment larger than the limit).
        gates[0](name, 1, 20.0)
        made = client.read_global_concurrency_limit_by_name(name)
        assert (made.limit, made.slot_decay_per_second) == (20, 20.0)
        start = time.monotonic()
        gates[1](name, 45, 20.0)
        assert time.monotonic() - start >= 1.2  # 20 at once (after the 1), 20 a second later, then 5

        # Switched off by an operator (prefect gcl disable NAME): each process paces itself alone.
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active=False))
        start = time.monotonic()
        gates[1](name, 20, 20.0)
        gates[1](name, 20, 20.0)
        assert time.monotonic() - start < 1.0
        assert client.read_global_concurrency_limit_by_name(name).active is False
        # Deleted (prefect gcl delete NAME): made again from the configuration when next needed.
        client.delete_global_concurrency_limit_by_name(name)
        gates[1](name, 5, 20.0)
        gates[1](name, 5, 20.0)
        made = client.read_global_concurrency_limit_by_name(name)
        assert (made.limit, made.slot_decay_per_second, made.active) == (20, 20.0, True)

    # No Prefect API to be reached: a warning naming no more than the failure's kind, and this
    # process paces itself alone for a while (no waiting on the API at every call).
    down = PrefectRateGate()
    with temporary_settings({PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        start = time.monotonic()
        down(name, 5, 5.0)
        down(name, 5, 5.0)
        assert time.monotonic() - start < 10
    warned = [r.getMessage() for r in caplog.records if r.name == "lapak.limits"]
    assert len(warned) == 1 and "the Prefect API failed (read: " in warned[0] and "alone" in warned[0]


class Rendered(HTMLParser):
    """A page's DOM as Chromium rendered it, reduced to what a person reads: its text (no
    scripts, styles or templates) and each table's rows as lists of cell texts."""

    HIDDEN = frozenset({"script", "style", "template", "noscript"})

    def __init__(self, dom: str) -> None:
        super().__init__()
        self.hidden, self.text, self.tables = 0, [], []
        self.cell: list[str] | None = None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        self.hidden += tag in self.HIDDEN
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("th", "td"):
            self.cell = []

    def handle_endtag(self, tag):
        self.hidden -= tag in self.HIDDEN
        if tag in ("th", "td") and self.cell is not None and self.tables and self.tables[-1]:
            self.tables[-1][-1].append(" ".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if not self.hidden and data.strip():
            self.text.append(data.strip())
            if self.cell is not None:
                self.cell.append(data.strip())


def a_sync_run(prefect_api, market, config, monkeypatch) -> str:
    """The end-to-end test's sync run; run on its own, this test makes one (in process, as the
    end-to-end test's deployment would)."""
    if "sync" not in RUNS:
        from flows.sync import sync_catalogues

        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        with prefect(prefect_api.url):
            state = sync_catalogues(config_path=str(config), return_state=True)
        assert state.is_completed(), state.message
        RUNS["sync"] = str(state.state_details.flow_run_id)
    return RUNS["sync"]


def test_the_sync_summary_as_the_prefect_ui_shows_it(prefect_api, market, config, monkeypatch, tmp_path):
    """The run's ``sync-summary`` artifact page in a real browser, logged in to the authenticated
    server as an operator is: the table an operator reads."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        pytest.skip("Chromium is not installed: the run page is not rendered (.ci/run installs it as root)")
    run_id = a_sync_run(prefect_api, market, config, monkeypatch)
    with prefect(prefect_api.url) as client:
        summary = artifacts(client, run_id)["sync-summary"]
    shot = tmp_path / "sync-summary.png"
    # Behind the server's password, as an operator logs in; the UI fetches the artifact after the
    # page loads: wait until its table is there.
    with chromium(browser, tmp_path / "chromium") as tools:
        log_in_to_prefect_ui(tools, prefect_api.ui, AUTH)
        tools.open(f"{prefect_api.ui}/artifacts/artifact/{summary.id}", timeout=90,
                   ready="[...document.querySelectorAll('table')].some(t => t.innerText.includes('rows_in'))"
                         " && document.body.innerText.includes('Show raw data')")
        page = Rendered(tools.evaluate("document.documentElement.outerHTML"))
        screenshot(tools, shot)
    rows = next((t for t in page.tables if t and t[0][:1] == ["group"]), None)
    assert rows, f"no summary table on the rendered page; it read: {' '.join(page.text)[:2000]}"
    print("the rendered table:", *(" | ".join(r) for r in rows), sep="\n")

    header, lines = rows[0], {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert {"rows_in", "listings", "rejected", "created", "errors"} <= set(header)
    assert set(lines) == {"wonosobo-sekar-carica", "banyuwangi-gajah-oling", "jember-pandan-sari",
                          "indramayu-srikandi-kenanga"}
    assert lines["banyuwangi-gajah-oling"]["rejected"] == "6" and lines["wonosobo-sekar-carica"]["listings"] == "12"
    assert sum(int(r["created"]) for r in lines.values()) == 48
    assert "sync-summary" in page.text and "Show raw data" in page.text
    assert shot.stat().st_size > 10_000, "a screenshot of that page, for a person to look at"
    print(f"screenshot of the sync summary: {shot}")
