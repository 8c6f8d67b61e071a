"""The intake as a real Prefect flow run: a task per group, a summary artifact, and a group
whose file cannot be read does not stop the others."""

import shutil

import pytest

from tests.conftest import SAMPLES


@pytest.fixture()
def config_copy(tmp_path):
    shutil.copytree(SAMPLES, tmp_path / "samples")
    cfg = tmp_path / "samples" / "lapak.toml"
    text = cfg.read_text(encoding="utf-8")
    # Point one group at a corrupt file; offline categories come from the cache we seed.
    (tmp_path / "samples" / "catalogues" / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    text = text.replace('catalogue = "catalogues/jember/anyaman-pandan-sari.csv"',
                        'catalogue = "catalogues/broken.xlsx"')
    cfg.write_text(text, encoding="utf-8")
    return cfg


def seed_category_cache(cfg):
    import json
    import time

    from schemas.categories import DEFAULT_CATEGORIES

    cache = cfg.parent / "out" / ".cache" / "categories.json"
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"fetched_at": time.time(),
                                 "categories": [c.model_dump() for c in DEFAULT_CATEGORIES]}))


def test_intake_flow_runs_every_group_and_reports_the_unreadable_one(prefect_server, config_copy):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.intake import intake_flow

    seed_category_cache(config_copy)
    rows = intake_flow(str(config_copy))
    by_group = {r["group"]: r for r in rows}
    assert by_group["wonosobo-sekar-carica"]["listings"] == 12
    assert by_group["banyuwangi-gajah-oling"]["rejected"] == 6
    assert "broken.xlsx" in by_group["jember-pandan-sari"]["error"]
    assert (config_copy.parent / "out" / "rejects" / "indramayu-srikandi-kenanga.xlsx").exists()

    import anyio

    async def artifact():
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["intake-summary"])))
            return found[0]

    art = anyio.run(artifact)
    assert "wonosobo-sekar-carica" in str(art.data)
