"""What the engine and the connectors log reaches the Prefect run page operators read.

A real sync flow run against the sandbox, made to wait for a shop another run holds (the lease
code warns) and to lose a create's answer (the connector warns); then the run's logs are read
back from the Prefect API, as the UI shows them.
"""

from __future__ import annotations

import shutil
import time
import uuid

from tests.conftest import SAMPLES


def run_logs(flow_run_id, wanted: tuple[str, ...], timeout_s: float = 15.0) -> list:
    """The run's logs once every ``wanted`` logger has a line there (logs reach the API in batches)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    deadline = time.monotonic() + timeout_s
    with get_client(sync_client=True) as client:
        while True:
            logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])),
                                    limit=200)
            if all(any(log.name == name for log in logs) for name in wanted) or time.monotonic() > deadline:
                return logs
            time.sleep(0.5)


def test_the_lease_code_and_the_connector_log_to_the_run_page(prefect_server, tmp_path, monkeypatch):
    from connectors.config import load_config
    from connectors.sandbox import running_sandbox
    from connectors.state import StateStore
    from flows.engine.locks import lock_name
    from flows.sync import sync_catalogues

    with running_sandbox(tmp_path / "sandbox", rate_limit=None) as market:
        shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = tmp_path / "w" / "lapak.toml"
        cfg.write_text(cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url), encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        store = StateStore(load_config(cfg).state_url)
        # Another run holds the shop for a few more seconds (longer than this run takes to reach
        # the shop, even on a loaded machine); this sync waits for it, and says so.
        assert store.try_lock(lock_name(479573), uuid.uuid4().hex, "the other run (test)", lease_s=8.0) is None
        store.close()
        # The first create's answer is lost: the connector looks the SKUs up before sending again.
        market.admin.inject_fault("error_5xx_after", path="/create", count=1)

        state = sync_catalogues(config_path=str(cfg), groups=["wonosobo-sekar-carica"], return_state=True)
        assert state.is_completed(), state.message
        assert len(market.admin.products(479573)) == 12

    logs = run_logs(state.state_details.flow_run_id, ("lapak.locks", "lapak.marketplace"))
    lines = {(log.name, log.message) for log in logs}
    assert any(name == "lapak.locks" and "locked by the other run (test)" in msg for name, msg in lines), lines
    assert any(name == "lapak.marketplace" and "looking up" in msg for name, msg in lines), lines
    # Each carries the run (and the task where there is one), as Prefect's own run loggers do.
    market_log = next(log for log in logs if log.name == "lapak.marketplace")
    assert market_log.flow_run_id == state.state_details.flow_run_id and market_log.task_run_id is not None
