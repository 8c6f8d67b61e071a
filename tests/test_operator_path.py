"""The operator's path (issue 16): a run that needs an operator says so where the operator looks.

Real flow runs on the session's Prefect server against the sandbox marketplace, read back from
the Prefect API as the UI shows them: the state message (one line per cause, at most 200
characters each, naming the groups or shops and the action, never repeated per shop), no
traceback in the run's logs, the same text as its last ERROR line and in the ``needs-operator``
artifact, the ``lapak`` tag and the kind on runs started from Python, and the README's table
made of the same causes.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from schemas.operator import CAUSES, LINE_LIMIT, causes_markdown
from tests.conftest import SAMPLES

ROOT = Path(__file__).resolve().parent.parent
UNLINKED_SHOP = 999999  # the sandbox has not linked it to the app: HTTP 403, every time


@pytest.fixture(scope="module")
def world(tmp_path_factory, prefect_server):
    from connectors.sandbox import running_sandbox

    base = tmp_path_factory.mktemp("operator-path")
    with running_sandbox(base / "sandbox", rate_limit=None) as sb:
        shutil.copytree(SAMPLES, base / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = base / "w" / "lapak.toml"
        text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", sb.url)
        text = text.replace("[categories]", f'[[groups]]\nid = "wonosobo-cabang"\nname = "Cabang"\n'
                            f'shop_id = {UNLINKED_SHOP}\ncatalogue = "catalogues/wonosobo/sekar-carica.xlsx"\n\n'
                            "[categories]")
        text = text.replace('client_id = "lapak-demo"', 'client_id = "lapak-demo"\nrate_limit_per_second = 1000')
        cfg.write_text(text, encoding="utf-8")
        yield sb, cfg


def read_back(state) -> dict:
    """The flow run as the UI shows it: name, tags, state message, logs, artifacts."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, LogFilter, LogFilterFlowRunId
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=30)
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(run_id)
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))
        made = client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])))
    flow_logs = [log for log in logs if log.task_run_id is None]
    return {"run": run, "message": run.state.message or "", "logs": flow_logs, "all_logs": logs,
            "artifacts": {a.key: a for a in made}}


def assert_operator_failure(seen: dict) -> list[str]:
    """Failed, without a traceback, one line per cause; the same text in the log and the artifact."""
    run, message = seen["run"], seen["message"]
    assert run.state.is_failed(), message
    lines = message.split("\n")
    assert len(lines) == len(set(lines)) and all(len(line) <= LINE_LIMIT for line in lines), lines
    assert all(" Do: " in line for line in lines), lines  # each names its action
    assert not any("Traceback" in log.message for log in seen["logs"]), [log.message for log in seen["logs"]]
    assert "encountered an exception" not in " ".join(log.message for log in seen["logs"])
    errors = [log for log in seen["logs"] if log.level >= 40]
    assert errors and errors[-1].message == message  # the last ERROR line is the message itself
    page = seen["artifacts"]["needs-operator"].data
    first = lines[0].split(":")[0]
    assert first in page and (f"+{len(lines) - 1} more" in page) == (len(lines) > 1)
    return lines


def shrink_to_two_rows(path: Path) -> None:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows[:3])


def test_each_expected_cause_ends_the_run_failed_with_one_line_saying_what_to_do(world, monkeypatch):
    from flows.orders import pull_orders
    from flows.sync import sync_catalogues

    sb, cfg = world
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", sb.client_secret)

    # 1. A shop the marketplace refuses (after retries): one line, the other shops synced.
    first = read_back(sync_catalogues(config_path=str(cfg), return_state=True))
    lines = assert_operator_failure(first)
    assert lines == [first["message"]] and lines[0].startswith(f"Shop failed after retries: shop {UNLINKED_SHOP} (")
    assert "next scheduled run retries" in lines[0]
    assert {"lapak", "sync"} <= set(first["run"].tags)  # started from Python, tagged all the same
    assert sum(len(sb.admin.products(shop)) for shop in sb.shops) == 48

    # 2. One catalogue gone, one shrunk to 2 rows, the shop still refused: three causes, three lines.
    indramayu = cfg.parent / "catalogues" / "indramayu" / "srikandi-kenanga.xlsx"
    indramayu.rename(indramayu.with_suffix(".away"))
    shrink_to_two_rows(cfg.parent / "catalogues" / "jember" / "anyaman-pandan-sari.csv")
    second = read_back(sync_catalogues(config_path=str(cfg), return_state=True))
    lines = assert_operator_failure(second)
    assert [line.split(":")[0] for line in lines] == ["Catalogue unreadable", "Catalogue shrank, deactivations held",
                                                      "Shop failed after retries"]
    assert "indramayu-srikandi-kenanga (srikandi-kenanga.xlsx: File not found)" in lines[0]
    assert lines[1].startswith("Catalogue shrank, deactivations held: jember-pandan-sari (")
    assert "Custom run with accept_shrink ticked (or lapak sync --accept-shrink)" in lines[1]
    assert r"jember\-pandan\-sari" in second["artifacts"]["needs-operator"].data  # escaped markdown

    # 3. The operator accepts the shrink from the UI's Custom run: the run's name says so.
    third = read_back(sync_catalogues(config_path=str(cfg), accept_shrink=True, return_state=True))
    assert third["run"].name.startswith("sync (shrink accepted) · 5 groups · ")
    assert [line.split(":")[0] for line in assert_operator_failure(third)] == [
        "Catalogue unreadable", "Shop failed after retries"]

    # 4. The order pull says the same of that shop, once.
    pulled = read_back(pull_orders(config_path=str(cfg), return_state=True))
    assert assert_operator_failure(pulled)[0].startswith(f"Shop failed after retries: shop {UNLINKED_SHOP} (")
    assert {"lapak", "orders"} <= set(pulled["run"].tags)

    # 5. A wrong secret: stopped before any work, one line (not one per shop), the secret unsaid.
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", "not-the-secret")
    before = {shop: sb.admin.products(shop) for shop in sb.shops}
    refused = read_back(sync_catalogues(config_path=str(cfg), return_state=True))
    lines = assert_operator_failure(refused)
    assert len(lines) == 1 and lines[0].startswith("Marketplace refused the credentials: every shop (")
    assert "check LAPAK_CLIENT_SECRET (or the Secret block), then restart lapak serve" in lines[0]
    assert "not-the-secret" not in refused["message"]
    assert {shop: sb.admin.products(shop) for shop in sb.shops} == before

def test_a_good_run_says_nothing_needs_you(world, monkeypatch):
    from flows.sync import sync_catalogues

    sb, cfg = world
    monkeypatch.setenv("LAPAK_CLIENT_SECRET", sb.client_secret)
    seen = read_back(sync_catalogues(config_path=str(cfg), groups=["wonosobo-sekar-carica"], return_state=True))
    assert seen["run"].state.is_completed(), seen["message"]
    assert "Nothing needs you" in seen["artifacts"]["needs-operator"].data


def test_a_run_asking_for_another_configuration_is_refused_before_reading_it(world, monkeypatch, tmp_path):
    from flows.run import SERVED_CONFIG
    from flows.sync import sync_catalogues

    _, cfg = world
    other = tmp_path / "other.toml"
    other.write_text("this file must never be read: [", encoding="utf-8")
    monkeypatch.setenv(SERVED_CONFIG, str(cfg))
    seen = read_back(sync_catalogues(config_path=str(other), return_state=True))
    lines = assert_operator_failure(seen)
    assert lines[0].startswith(f"Run refused, another config file asked: {other}")
    assert f"this runner serves {cfg}" in seen["artifacts"]["needs-operator"].data.replace("\\", "")


def test_the_readme_table_is_made_of_the_real_causes():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert causes_markdown() in readme
    for cause in CAUSES:
        assert cause.action in readme


def test_the_lapak_command_prints_every_cause_on_its_own_line(monkeypatch, capsys):
    from argparse import Namespace

    import flows.cli as cli
    from schemas.errors import NeedsOperator

    lines = ["Catalogue unreadable: a (x.csv: File not found). Do: fix",
             "Shop failed after retries: shop 1 (HTTP 503). Do: wait"]

    def fails(args):
        raise NeedsOperator("\n".join(lines), lines=lines)

    class Parser:
        def parse_args(self, argv):
            return Namespace(command="sync", func=fails)

    monkeypatch.setattr(cli, "build_parser", Parser)
    assert cli.main(["sync"]) == 1
    assert capsys.readouterr().err.splitlines() == [f"lapak sync: {line}" for line in lines]


def test_the_failure_automation_follows_the_notify_setting(prefect_server, tmp_path):
    from prefect.blocks.notifications import CustomWebhookNotificationBlock
    from prefect.client.orchestration import get_client

    from flows.operators import failure_automation_name, keep_failure_automation
    from schemas.errors import LapakError

    cfg = tmp_path / "lapak.toml"
    with pytest.raises(LapakError, match=r"no 'custom-webhook' block named 'nobody'.*slack-webhook"):
        keep_failure_automation(cfg, "custom-webhook/nobody")
    CustomWebhookNotificationBlock(name="ops", url="http://127.0.0.1:9/hook").save("ops-alerts", overwrite=True)
    name = failure_automation_name(cfg)
    for _ in range(2):  # a restart replaces it: still one
        assert keep_failure_automation(cfg, "custom-webhook/ops-alerts") == name
    with get_client(sync_client=True) as client:
        kept = client.read_automations_by_name(name)
        assert len(kept) == 1
        assert kept[0].trigger.expect == {"prefect.flow-run.Failed", "prefect.flow-run.Crashed"}
        assert '"prefect.resource.id":"prefect.tag.lapak"' in kept[0].trigger.model_dump_json()
        assert keep_failure_automation(cfg, "") is None  # the setting removed: the automation goes
        assert client.read_automations_by_name(name) == []
