"""End to end: a sync through a proxy that quotes the request back keeps no secret and no token.

The sandbox marketplace sits behind tests/echo_server.py, which forwards every call but: answers
the first token request 503 quoting the Basic credentials (a retry warning), refuses one shop's
create with a 400 quoting the Bearer token (the shop fails, the run ends FAILED), and turns one
created row of another shop into a failed row whose message quotes the request. Then the run's
state message, what Prefect holds of it (task runs, logs, the ``sync-summary`` artifact), the
state database (``runs`` table included), the reports written, every log record and what was
printed are searched for the secret, its Basic form and every token issued.
"""

from __future__ import annotations

import base64
import json
import logging
import shutil
import sqlite3
import uuid

from tests.conftest import SAMPLES
from tests.echo_server import EchoServer, Request, envelope_error

CREATE = "/v3/products/fs/15001/create"
FAILING_SHOP, ECHOED_SHOP = "479575", "479573"


def create_answer(server: EchoServer):
    def answer(req: Request):
        if f"shop_id={FAILING_SHOP}" in req.query:
            return envelope_error(req, 400)
        status, body, headers = server.forward(req)
        reply = json.loads(body)
        if f"shop_id={ECHOED_SHOP}" in req.query and reply["data"].get("success_rows_data"):
            row = reply["data"]["success_rows_data"].pop(0)  # created, yet answered as failed
            reply["data"]["failed_rows_data"] = [{"sku": row["sku"], "error": [req.echo]}]
            reply["data"]["success_data"] -= 1
            reply["data"]["fail_data"] = 1
        return status, reply, headers
    return answer


def test_a_sync_through_an_echoing_proxy_stores_and_prints_no_secret(prefect_server, tmp_path, caplog, capfd,
                                                                     monkeypatch):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, LogFilter, LogFilterFlowRunId

    from connectors.sandbox import running_sandbox
    from flows.sync import sync_catalogues

    caplog.set_level(logging.DEBUG)
    secret = f"echo-secret-{uuid.uuid4().hex}"
    with running_sandbox(tmp_path / "sandbox", rate_limit=None, client_secret=secret) as market, \
            EchoServer(upstream=market.url) as proxy:
        basic = base64.b64encode(f"{market.client_id}:{secret}".encode()).decode()
        proxy.rule("POST", "/token", lambda req: envelope_error(req, 503))
        proxy.rule("POST", CREATE, create_answer(proxy), times=20)
        shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = tmp_path / "w" / "lapak.toml"
        text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", proxy.url)
        cfg.write_text(text.replace('client_id = "lapak-demo"',
                                    'client_id = "lapak-demo"\nrate_limit_per_second = 1000'), encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", secret)
        state = sync_catalogues(config_path=str(cfg), groups=["wonosobo-sekar-carica", "indramayu-srikandi-kenanga"],
                                return_state=True)
    assert state.is_failed()
    echoed = [r for r in proxy.seen if "authorization" in r.headers]
    assert {r.headers["authorization"].split()[0] for r in echoed} == {"Basic", "Bearer"} and proxy.issued

    texts = {"state message": state.message or "", "result": repr(state.result(raise_on_failure=False)),
             "log records": caplog.text + "".join(r.getMessage() for r in caplog.records)}
    out, err = capfd.readouterr()
    texts.update(stdout=out, stderr=err)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        for task in client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))):
            texts[f"task run {task.name}"] = task.model_dump_json()
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])), limit=200)
        texts["prefect logs"] = "".join(entry.model_dump_json() for entry in logs)
        artifacts = [a for a in client.read_artifacts(limit=200) if a.flow_run_id == run_id]
        texts.update({f"artifact {a.key}": a.model_dump_json() for a in artifacts})
    assert "artifact sync-summary" in texts
    with sqlite3.connect(tmp_path / "w" / "var" / "lapak.db") as db:
        runs = db.execute("SELECT summary FROM runs").fetchall()
    assert runs
    texts["runs table"] = json.dumps(runs)
    for path in sorted(p for p in (tmp_path / "w").rglob("*") if p.is_file() and "catalogues" not in p.parts):
        texts[str(path)] = path.read_bytes().decode("utf-8", "replace")

    leaks = [f"{name} in {where}: …{text[max(0, text.find(needle) - 80):][:200]}…"
             for where, text in texts.items()
             for name, needle in (("secret", secret), ("Basic credentials", basic.rstrip("=")),
                                  *(("bearer token", t) for t in proxy.issued)) if needle in text]
    assert leaks == [], "\n".join(leaks[:10])
    # The quoted texts did reach the run, scrubbed: the refused shop, the failed row, the retry warning.
    assert "proxy debug" in texts["state message"]  # cut short there: the masks are further on
    assert "proxy debug" in texts["runs table"] and "***" in texts["runs table"]
    # lapak's loggers go to Prefect's handlers, not the root. (Its console handler may hold an
    # earlier test's stderr when the whole suite runs: the run's logs on the server are the record.)
    assert "token HTTP 503 proxy debug" in texts["prefect logs"] and "trying again" in texts["prefect logs"]
