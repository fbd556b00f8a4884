"""/healthz, /readyz and /metrics (web/ops.py, web/metrics.py) on a real database, SQLite
and PostgreSQL: what each answers, to whom, and that no client can grow the metrics."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from paperroute import Config
from paperroute.model import Check
from paperroute.store.engine import create_db_engine, head_revision
from paperroute.web.app import create_app
from paperroute.web.metrics import JobTotals
from paperroute.web.ops import Operations
from support.digest_data import AS_OF, make_config, paper_records

TOKEN = "metrics-token-for-the-tests-0123456789"


def _client(config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(config)) as client:
        yield client


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    yield from _client(make_config(database_url, metrics_token=TOKEN))


def samples(client: TestClient) -> dict[str, list[tuple[dict[str, str], float]]]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(answer.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found: dict[str, Any], name: str, **labels: str) -> float:
    series = found.get(name, [])
    return sum(v for got, v in series if all(got.get(k) == x for k, x in labels.items()))


def test_healthz_and_readyz_answer_ok_on_a_working_hub(client: TestClient) -> None:
    health = client.get("/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert health.headers["cache-control"] == "no-store"
    assert "content-security-policy" in health.headers  # FrontDoor's headers on it too
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "detail": "reachable"}
    assert body["checks"]["migrations"]["ok"] is True
    assert client.head("/healthz").content == b""
    assert client.post("/healthz").status_code == 405


def test_probes_by_address_pass_the_host_check_and_nothing_else_does(
    client: TestClient,
) -> None:
    node = {"Host": "10.0.3.7:8000"}  # a load balancer names the node by its address
    assert client.get("/healthz", headers=node).status_code == 200
    assert client.get("/readyz", headers=node).status_code == 200
    assert client.get("/", headers=node).status_code == 400
    assert client.get("/healthz/", headers=node).status_code == 400
    bearer = {**node, "Authorization": f"Bearer {TOKEN}"}
    assert client.get("/metrics", headers=bearer).status_code == 400


def test_readyz_fails_when_the_schema_is_not_the_codes(database_url: str) -> None:
    config = make_config(database_url)
    with TestClient(create_app(config)) as client:
        engine = create_db_engine(database_url)
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0008'"))
        engine.dispose()
        answer = client.get("/readyz")
        assert answer.status_code == 503
        checks = answer.json()["checks"]
        assert checks["database"]["ok"] is True
        assert checks["migrations"] == {
            "ok": False,
            "detail": f"database at revision 0008, code at {head_revision()}",
        }
        assert client.get("/healthz").status_code == 200


def test_readyz_fails_without_the_database_and_names_no_path(tmp_path: Path) -> None:
    folder = tmp_path / "secret-folder-name"
    folder.mkdir()
    url = f"sqlite:///{folder / 'hub.db'}"
    app = create_app(make_config(url))
    with TestClient(app) as client:
        app.state.hub.close()  # drop the pooled connections: the next one must reopen the file
        folder.rename(tmp_path / "gone")
        answer = client.get("/readyz")
        assert answer.status_code == 503
        assert answer.json()["checks"]["database"] == {"ok": False, "detail": "unreachable"}
        assert "secret-folder-name" not in answer.text and "sqlite" not in answer.text
        assert client.get("/healthz").status_code == 200  # alive, without the database


def test_a_check_added_later_counts_and_a_broken_one_fails_without_a_500(
    client: TestClient,
) -> None:
    def broken() -> Any:
        raise RuntimeError("postgresql://user:hunter2@db/papers")

    client.app.state.ready_checks["queue"] = broken  # type: ignore[attr-defined]
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["queue"] == {"ok": False, "detail": "error: RuntimeError"}
    assert "hunter2" not in answer.text


def test_a_flood_of_readiness_probes_shares_one_pass_of_the_checks(database_url: str) -> None:
    app = create_app(make_config(database_url))
    calls: list[int] = []

    def counted() -> Check:
        calls.append(1)
        return Check(True, "counted")

    async def nothing(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the probe reached the app")

    checks = {"counted": counted}
    probe = Operations(nothing, app.state.config, app.state.metrics, checks, ready_reuse=3600)
    client = TestClient(probe)  # no `with`: the probe has no lifespan to run
    for _ in range(20):
        assert client.get("/readyz").json()["checks"]["counted"]["detail"] == "counted"
    assert len(calls) == 1
    app.state.hub.close()


def test_metrics_are_refused_without_the_token_and_to_everyone_by_default(
    client: TestClient, database_url: str
) -> None:
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    assert "paperroute_" not in wrong.text
    for default in _client(make_config(database_url)):
        answer = default.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert answer.status_code == 403
        assert "metrics_token or metrics_networks" in answer.text


def test_metrics_count_requests_per_route_template_whatever_the_paths(
    client: TestClient,
) -> None:
    hostile = [
        *(f"/papers/2401.{n:05d}" for n in range(40)),
        *(f"/no/such/{n}/{'x' * n}" for n in range(40)),
        *(f"/static/{n}.css" for n in range(20)),
        "/%2e%2e/etc/passwd",
        "/papers/%00",
        "/" + "a" * 3000,
    ]
    for path in hostile:
        client.get(path)
    client.request("BREW", "/coffee")
    client.get("/api/v1/openapi.json")
    found = samples(client)
    counts = found["paperroute_http_requests_total"]
    routes = {labels["route"] for labels, _ in counts}
    assert len(routes) <= 8, routes
    assert {"/papers/{paper_id:path}", "<unmatched>", "/static"} <= routes
    assert value(found, "paperroute_http_requests_total", route="/papers/{paper_id:path}") == 41
    assert value(found, "paperroute_http_requests_total", route="<unmatched>") >= 40
    assert {labels["method"] for labels, _ in counts} <= {"GET", "OTHER"}
    openapi = value(found, "paperroute_http_requests_total", route="/api/v1/openapi.json")
    assert openapi == 1
    latency = value(
        found, "paperroute_http_request_duration_seconds_count", route="/papers/{paper_id:path}"
    )
    assert latency == 41
    names = {labels.get("route", "") for series in found.values() for labels, _ in series}
    assert not any("xxxx" in name or "2401." in name or "passwd" in name for name in names)


def test_metrics_read_papers_per_source_and_the_send_log(database_url: str) -> None:
    config = make_config(database_url, metrics_token=TOKEN)
    app = create_app(config)
    hub = app.state.hub
    hub.papers.ingest(paper_records())
    for email in ("ada@example.org", "grace@example.org"):
        hub.digests.add_confirmed(email, {"trending": "on"})
    hub.digests.send(as_of=AS_OF, ignore_hour=True)
    with TestClient(app) as client:
        found = samples(client)
    assert value(found, "paperroute_papers", source="jsonl") == len(paper_records())
    assert value(found, "paperroute_digest_sends", status="sent") == 2
    assert value(found, "paperroute_digest_sends", status="failed") == 0
    assert value(found, "paperroute_digest_sends", status="deferred") == 0
    assert value(found, "paperroute_database_up") == 1


def test_metrics_show_what_the_job_hooks_report(client: TestClient) -> None:
    metrics = client.app.state.metrics  # type: ignore[attr-defined]
    metrics.jobs = lambda: [JobTotals("embed", runs=3, failures=1, seconds=4.5, last_success=1e9)]
    metrics.queue = lambda: 7
    found = samples(client)
    assert value(found, "paperroute_job_runs_total", job="embed") == 3
    assert value(found, "paperroute_job_failures_total", job="embed") == 1
    assert value(found, "paperroute_job_duration_seconds_sum", job="embed") == 4.5
    assert value(found, "paperroute_job_duration_seconds_count", job="embed") == 3
    assert value(found, "paperroute_job_last_success_timestamp_seconds", job="embed") == 1e9
    assert (value(found, "paperroute_queue_pending"), value(found, "paperroute_queue_up")) == (7, 1)

    def unreachable() -> int:
        raise ConnectionError("redis://:secret@cache:6379")

    metrics.queue = unreachable
    found = samples(client)
    assert value(found, "paperroute_queue_up") == 0
    assert "paperroute_queue_pending" not in found


def test_the_metrics_registry_belongs_to_the_app(database_url: str) -> None:
    """Two apps in one process count apart (no global registry)."""
    config = make_config(database_url, metrics_token=TOKEN)
    with TestClient(create_app(config)) as first, TestClient(create_app(config)) as second:
        for _ in range(3):
            first.get("/healthz")
        assert value(samples(first), "paperroute_http_requests_total", route="/healthz") == 3
        assert value(samples(second), "paperroute_http_requests_total", route="/healthz") == 0


def test_the_ops_paths_skip_the_page_cache(client: TestClient) -> None:
    client.get("/")
    client.get("/")  # the second is a page-cache hit
    found = samples(client)
    cached = value(found, "paperroute_http_requests_total", route="<page cache>")
    assert cached + value(found, "paperroute_http_requests_total", route="/") == 2
    assert json.loads(client.get("/healthz").text) == {"status": "ok"}
    assert re.fullmatch(r"\{.*\}\n", client.get("/readyz").text)
