"""Rate limits honoured end to end: the sync flow (a real Prefect flow run) of the four sample
groups against a sandbox that allows 5 items per second per endpoint path."""

from __future__ import annotations

import shutil

from tests.conftest import SAMPLES

LIMIT = 5


def test_a_full_sync_at_five_items_per_second_meets_no_429(prefect_server, tmp_path, monkeypatch, capsys):
    from connectors.sandbox import running_sandbox
    from flows.sync import sync_catalogues

    with running_sandbox(tmp_path / "sandbox", rate_limit=LIMIT) as market:
        shutil.copytree(SAMPLES, tmp_path / "w", ignore=shutil.ignore_patterns("*.py", "out", "var"))
        cfg = tmp_path / "w" / "lapak.toml"
        text = cfg.read_text(encoding="utf-8").replace("http://127.0.0.1:8765", market.url)
        cfg.write_text(text.replace('client_id = "lapak-demo"',
                                    f'client_id = "lapak-demo"\nrate_limit_per_second = {LIMIT}'),
                       encoding="utf-8")
        monkeypatch.setenv("LAPAK_CLIENT_SECRET", market.client_secret)
        assert market.admin.health()["rate_limit"] == LIMIT

        summary = sync_catalogues(config_path=str(cfg))
        stats = market.admin.stats()
        products = [p for shop in market.shops for p in market.admin.products(shop)]

    assert summary["writes"]["creates"] == 48 and len(products) == 48  # everything got through
    paths = stats["paths"]
    http_429 = {path: p["http_429"] for path, p in paths.items() if p["http_429"]}
    row_429 = sum(p["row_429"] for p in paths.values())
    items = sum(p["items"] for p in paths.values())
    with capsys.disabled():
        print(f"\n[rate limit {LIMIT}/s] {items} items over {len(paths)} paths; HTTP 429: {sum(http_429.values())}; "
              f"row-level 429: {row_429}; client: {summary['client'].get('http_429')} HTTP 429, "
              f"{summary['client'].get('row_429')} rows re-sent")
    assert http_429 == {}, f"the marketplace answered HTTP 429 on {http_429}"
    assert summary["client"]["http_429"] == 0
    assert row_429 <= 3, f"{row_429} rows refused with ERR_TOO_MANY_REQUEST"
