"""A served process freezes its heap once started (paperroute.heap): the garbage
collector's full collections then walk only what requests made, not the ~140,000 objects
of the modules, the app and the hub (70-120 ms a time, on a request's thread). An app built
for tests does not: a test process opens many hubs."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from paperroute.config import load_config
from paperroute.web import app as web_app


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # (what this test froze goes back to the collector)


def test_a_served_app_freezes_its_heap_once_started(
    sqlite_demo_url: str, unfrozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PAPERROUTE_DATABASE_URL", sqlite_demo_url)
    monkeypatch.setenv("PAPERROUTE_ALLOWED_HOSTS", "testserver")
    monkeypatch.setenv("PAPERROUTE_DEMO", "1")
    # (Not the served process's one BLAS thread for the rest of this test process.)
    monkeypatch.setattr(web_app, "threadpool_limits", lambda **_: None)
    assert gc.get_freeze_count() == 0
    with TestClient(web_app.create_app(load_config())) as client:
        assert client.get("/").status_code == 200
        assert gc.get_freeze_count() == 0  # tests' apps leave the heap alone
    with TestClient(web_app.app_from_env()) as client:
        assert gc.get_freeze_count() > 10_000  # the modules, the app, the hub
        assert client.get("/").status_code == 200
