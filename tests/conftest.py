"""Shared fixtures. One temporary Prefect server for the whole session (it costs 10–20 s to
start) — under ``make test``'s two pytest-xdist workers, one per worker — with its own
PREFECT_HOME so tests never touch a developer's Prefect setup."""

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports Prefect: an isolated home and no analytics.
_PREFECT_HOME = tempfile.mkdtemp(prefix="lapak-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.pop("PREFECT_API_URL", None)

SAMPLES = Path(__file__).resolve().parent.parent / "flows" / "samples"


@pytest.fixture(scope="session")
def prefect_server():
    """A real (temporary) Prefect server for flow-run tests; started once per session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=60):
        yield


@pytest.fixture(scope="session")
def postgres_url():
    """PostgreSQL for tests of the Postgres path; skipped, visibly, when not configured."""
    url = os.environ.get("LAPAK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("LAPAK_TEST_POSTGRES_URL is not set: PostgreSQL tests skipped")
    return url
