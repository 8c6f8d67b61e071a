"""The sandboxes as a careless or hostile neighbour meets them (issue 15, item 8): requests for
another host name are refused (DNS rebinding from a local browser), the database of buyers'
names and addresses is the owner's only, and a secret on the command line earns a warning."""

from __future__ import annotations

import argparse
import os
import stat

import pytest
import requests

from connectors.sandbox import running_sandbox
from connectors.sandbox.server import settings_from_args
from connectors.tiktok_sandbox import running_tiktok_sandbox
from connectors.tiktok_sandbox.server import settings_from_args as tiktok_settings_from_args

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandboxes(tmp_path_factory):
    old = os.umask(0o022)  # the usual umask: files would be world-readable by default
    try:
        with running_sandbox(tmp_path_factory.mktemp("market"), rate_limit=None) as market, \
                running_tiktok_sandbox(tmp_path_factory.mktemp("tiktok")) as tiktok:
            yield {"marketplace": market, "tiktok": tiktok}
    finally:
        os.umask(old)


@pytest.mark.parametrize("kind", ["marketplace", "tiktok"])
def test_a_request_for_another_host_name_is_refused(sandboxes, kind):
    url = f"{sandboxes[kind].url}/admin/stats"
    assert requests.get(url, timeout=10).ok
    assert requests.get(url, headers={"Host": f"localhost:{url.split(':')[2].split('/')[0]}"}, timeout=10).ok
    rebound = requests.get(url, headers={"Host": "attacker.example"}, timeout=10)
    assert rebound.status_code == 400 and "stats" not in rebound.text


@pytest.mark.parametrize("kind", ["marketplace", "tiktok"])
def test_the_sandbox_database_is_the_owners_only(sandboxes, kind):
    folder = sandboxes[kind].data_dir
    databases = [p for p in folder.iterdir() if p.name.endswith((".db", ".db-wal", ".db-shm"))]
    assert any(p.suffix == ".db" for p in databases)
    for p in databases:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_a_secret_flag_warns_and_the_environment_is_the_way(capsys, monkeypatch):
    settings = settings_from_args(argparse.Namespace(client_secret="s3cret-from-flag"))
    assert settings.client_secret.get_secret_value() == "s3cret-from-flag"
    err = capsys.readouterr().err
    assert "process list" in err and "LAPAK_SANDBOX_CLIENT_SECRET" in err and "s3cret" not in err

    tiktok_settings_from_args(argparse.Namespace(app_secret="app-s3cret"))
    err = capsys.readouterr().err
    assert "LAPAK_TIKTOK_SANDBOX_APP_SECRET" in err and "app-s3cret" not in err

    monkeypatch.setenv("LAPAK_SANDBOX_CLIENT_SECRET", "from-env")
    assert settings_from_args(argparse.Namespace()).client_secret.get_secret_value() == "from-env"
    assert capsys.readouterr().err == ""
