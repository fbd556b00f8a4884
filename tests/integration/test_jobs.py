"""The background jobs on a real Huey queue: SqliteHuey beside a SQLite database, Huey's
PostgreSQL tables on PostgreSQL (and Redis when PAPERROUTE_TEST_REDIS_URL names one). A real
consumer takes the tasks: a due source is imported from a local server replaying recorded
answers, then embedded, its categories inferred and trending precomputed; a job's second run
at once does nothing; a dead holder's lock is taken over; runs are counted for /metrics."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from paperroute import Config, open_hub
from paperroute.jobs import Jobs, QueueProbe, consumer, make_schedule, queue_file, run_source
from paperroute.web.app import create_app
from support.community import SECRET, web_sign_in
from support.embedders import HashEmbedder
from support.replay import ReplayServer, Reply
from support.served import free_port, wait_until
from support.smtp import SmtpServer

DATA = Path(__file__).parents[1] / "data"
HF_DAY = (DATA / "hf-daily" / "2026-08-21.json").read_bytes()
HF_PAPERS = 17
DEADLINE_S = 120.0  # generous: the machine may be busy; nothing here measures speed


def _clock() -> dt.datetime:
    return dt.datetime(2026, 8, 21, 9, 0, tzinfo=dt.UTC)


def _wait(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, DEADLINE_S)


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        replay.add("/api/daily_papers", Reply(200, HF_DAY), query={"date": "2026-08-21"})
        yield replay


def _config(database_url: str, server: ReplayServer, redis_url: str = "") -> Config:
    return Config(
        database_url=database_url,
        hf_daily_url=f"{server.url}/api/daily_papers",
        http_max_retries=1,
        redis_url=redis_url,
        smtp_url="outbox",
        secret_key="a-test-secret-key-of-enough-length",
    )


@pytest.fixture
def jobs(database_url: str, server: ReplayServer) -> Iterator[Jobs]:
    made = Jobs(_config(database_url, server), embedder=HashEmbedder(), clock=_clock)
    made.huey.flush()
    yield made
    made.close()


@pytest.fixture
def sqlite_jobs(tmp_path: Path, server: ReplayServer) -> Iterator[Jobs]:
    """For what does not depend on the database (locks, counting): SQLite only."""
    config = _config(f"sqlite:///{tmp_path / 'hub.db'}", server)
    made = Jobs(config, embedder=HashEmbedder(), clock=_clock)
    yield made
    made.close()


def test_the_queue_sits_beside_a_sqlite_database_or_in_postgresql(tmp_path: Path) -> None:
    assert queue_file(f"sqlite:///{tmp_path}/hub.db") == tmp_path / "hub.db.jobs.sqlite3"
    assert queue_file("postgresql+psycopg://u@h/db") is None


def test_a_worker_imports_a_due_source_then_embeds_infers_and_ranks(jobs: Jobs) -> None:
    hub = jobs.hub()
    hub.sources.add("hf-daily", make_schedule("hf-daily"), {"days_back": 0}, name="hf")
    running = consumer(jobs, 2, periodic=False, embedded=True)
    running.start()
    try:
        jobs.tasks.tick()

        def done() -> bool:
            runs = {t.job: t for t in hub.job_runs.totals()}
            return all(runs.get(job) and runs[job].runs for job in ("embed", "trending", "infer"))

        _wait(done, "the ingest, embed, infer and trending jobs")
    finally:
        running.stop(graceful=True)
    source = hub.sources.get("hf")
    assert (source.total_added, source.last_error) == (HF_PAPERS, None)
    assert hub.papers.stats().papers == HF_PAPERS
    assert hub.search.embed() == 0  # every new paper has its vector already
    assert hub.search.store_term_bags() == 0  # and its term bag
    totals = {t.job: t for t in hub.job_runs.totals()}
    assert totals["ingest"].runs == 1
    assert all(t.failures == 0 for t in totals.values())
    assert jobs.pending() == 0


def test_a_second_run_of_a_job_at_once_does_nothing(sqlite_jobs: Jobs) -> None:
    calls: list[str] = []
    with sqlite_jobs.locks["embed"]:  # another worker holds the job
        assert sqlite_jobs.run("embed", lambda hub: calls.append("second")) is None
    assert calls == []
    assert sqlite_jobs.run("embed", lambda hub: calls.append("after")) is None  # its own result
    assert calls == ["after"]
    assert [(t.job, t.runs) for t in sqlite_jobs.hub().job_runs.totals()] == [("embed", 1)]


def test_a_lock_whose_holder_died_is_taken_over(sqlite_jobs: Jobs) -> None:
    lock = sqlite_jobs.locks["trending"]
    sqlite_jobs.huey.put(lock._key, time.time() - 1)  # a holder killed before its lease ended
    assert sqlite_jobs.run("trending", lambda hub: "ran") == "ran"
    sqlite_jobs.huey.put(lock._key, time.time() + 3600)  # a live holder
    assert sqlite_jobs.run("trending", lambda hub: "ran") is None


def test_a_failing_job_is_counted_and_raised_for_huey_to_retry(sqlite_jobs: Jobs) -> None:
    def broken(_hub: object) -> None:
        raise RuntimeError("the index is gone")

    with pytest.raises(RuntimeError):
        sqlite_jobs.run("stars", broken)
    (stars,) = sqlite_jobs.hub().job_runs.totals()
    assert (stars.runs, stars.failures, stars.last_error) == (
        1,
        1,
        "RuntimeError: the index is gone",
    )
    assert not sqlite_jobs.locks["stars"].is_locked()  # released for the retry


def test_housekeeping_deletes_expired_sign_in_links_and_old_rate_limit_rows(jobs: Jobs) -> None:
    hub = jobs.hub()
    assert hub.community.housekeeping() == {
        "sign_in_links": 0,
        "sessions": 0,
        "rate_limit_rows": 0,
    }
    hub.community.request_sign_in("reader@example.org", client_ip="192.0.2.1")
    later = Jobs(
        jobs.config, embedder=HashEmbedder(), clock=lambda: _clock() + dt.timedelta(days=3)
    )
    try:
        swept = later.hub().community.housekeeping()
    finally:
        later.close()
    assert swept["sign_in_links"] == 1
    assert swept["rate_limit_rows"] >= 1


def test_the_web_app_reports_the_jobs_and_the_queue(jobs: Jobs, database_url: str) -> None:
    jobs.hub().job_runs.record("embed", seconds=2.5)
    jobs.hub().job_runs.record("embed", seconds=0.5, error="boom")
    jobs.tasks.embed()  # one task waiting
    app = create_app(jobs.config, embedder=HashEmbedder())
    try:
        assert app.state.ready_checks["queue"]().ok
        text = app.state.metrics.render().decode()
    finally:
        app.state.hub.close()
    assert 'paperroute_job_runs_total{job="embed"} 2.0' in text
    assert 'paperroute_job_failures_total{job="embed"} 1.0' in text
    assert 'paperroute_job_duration_seconds_sum{job="embed"} 3.0' in text
    assert "paperroute_queue_pending 1.0" in text
    assert "paperroute_queue_up 1.0" in text


def test_an_unreachable_queue_is_not_ready(tmp_path: Path) -> None:
    probe = QueueProbe(
        Config(database_url=f"sqlite:///{tmp_path}/hub.db", redis_url="redis://127.0.0.1:9/0")
    )
    check = probe.check()
    assert (check.ok, check.detail) == (False, "unreachable")
    probe.close()


def test_a_worker_on_redis(tmp_path: Path, server: ReplayServer) -> None:
    url = os.environ.get("PAPERROUTE_TEST_REDIS_URL")
    if not url:
        if os.environ.get("PAPERROUTE_REQUIRE_ALL") == "1":
            pytest.fail("required service unavailable: Redis (PAPERROUTE_TEST_REDIS_URL)")
        pytest.skip("no Redis server (set PAPERROUTE_TEST_REDIS_URL)")
    url = url.rsplit("/", 1)[0] + "/12"  # a database of its own: tests may run in parallel
    config = _config(f"sqlite:///{tmp_path}/hub.db", server, redis_url=url)
    jobs = Jobs(config, embedder=HashEmbedder(), clock=_clock)
    jobs.huey.flush()
    try:
        hub = jobs.hub()
        hub.sources.add("hf-daily", make_schedule("hf-daily"), {"days_back": 0})
        running = consumer(jobs, 1, periodic=False, embedded=True)
        running.start()
        try:
            jobs.tasks.ingest("hf-daily")
            _wait(lambda: hub.sources.get("hf-daily").total_added > 0, "the ingest job")
        finally:
            running.stop(graceful=True)
        assert hub.papers.stats().papers == HF_PAPERS
    finally:
        jobs.huey.flush()
        jobs.close()


def test_open_hub_still_works_without_any_queue(database_url: str) -> None:
    """Nothing of the queue is needed to use the hub (the CLI, scripts)."""
    with open_hub(Config(database_url=database_url)) as hub:
        assert hub.sources.listed() == []


def test_admin_shows_each_source_with_its_last_run_and_error(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = Config(
        database_url=f"sqlite:///{tmp_path}/hub.db",
        secret_key=SECRET,
        smtp_url=smtp_server.url,
        allowed_hosts="testserver",
        http_max_retries=1,
    )
    with open_hub(config) as hub:
        hub.sources.add("rss", make_schedule("rss"), {"url": "http://127.0.0.1:9/feed.xml"})
        hub.sources.add("hf-daily", make_schedule("hf-daily", "2h"), {})
        run_source(hub, "rss-127.0.0.1")
        hub.job_runs.record("embed", seconds=1.0)
    app = create_app(config)
    try:
        with TestClient(app) as client:
            web_sign_in(client, smtp_server, "admin@example.org")
            app.state.community.set_admin("admin@example.org", True)
            page = client.get("/admin")
    finally:
        app.state.hub.close()
    assert page.status_code == 200
    section = page.text.split('id="sources"', 1)[1].split("</section>", 1)[0]
    assert "rss-127.0.0.1" in section and "offline, next try at" in section
    assert "could not be reached" in section  # the last error
    assert "hf-daily" in section and "every 2h" in section and "<td>new</td>" in section
    assert "<td>embed</td><td>1</td><td>0</td>" in section


def test_serve_on_sqlite_runs_the_jobs_itself(tmp_path: Path, server: ReplayServer) -> None:
    """`paperroute serve` on SQLite, no worker beside it: a due source is imported."""
    database_url = f"sqlite:///{tmp_path}/hub.db"
    with open_hub(Config(database_url=database_url)) as hub:
        hub.sources.add("hf-daily", make_schedule("hf-daily"), {"days_back": 0}, name="hf")
    port = free_port()
    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": database_url,
        "PAPERROUTE_SECRET_KEY": SECRET,
        "PAPERROUTE_HF_DAILY_URL": f"{server.url}/api/daily_papers",
        "PAPERROUTE_HTTP_MAX_RETRIES": "1",
    }
    env.pop("PAPERROUTE_CONFIG", None)
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "serve", "--port", str(port), "--workers", "1"],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        with open_hub(Config(database_url=database_url)) as hub:
            # The scheduler's first pass enqueues the tick; the day asked for is today's.
            _wait(lambda: hub.sources.get("hf").last_run_at is not None, "the first run")
            source = hub.sources.get("hf")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        log.close()
    assert source.last_error is None or "404" in source.last_error
    assert server.requests and server.requests[0][0] == "/api/daily_papers"
    assert process.returncode == 0, (tmp_path / "serve.log").read_text()


def test_paperroute_worker_consumes_the_queue_until_sigterm(
    tmp_path: Path, server: ReplayServer
) -> None:
    """`paperroute worker` on SQLite: the queue file beside the database, shared with the
    process that enqueues."""
    config = _config(f"sqlite:///{tmp_path}/hub.db", server)
    jobs = Jobs(config)
    with open_hub(config, clock=_clock) as hub:
        hub.sources.add("hf-daily", make_schedule("hf-daily"), {"days_back": 0}, name="hf")
    env = {
        **os.environ,
        "PAPERROUTE_DATABASE_URL": config.database_url,
        "PAPERROUTE_HF_DAILY_URL": config.hf_daily_url,
        "PAPERROUTE_HTTP_MAX_RETRIES": "1",
    }
    env.pop("PAPERROUTE_CONFIG", None)
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "paperroute", "worker", "--concurrency", "1", "--no-periodic"],
        env=env,
        stdout=log,
        stderr=log,
    )
    try:
        jobs.tasks.ingest("hf")
        with open_hub(config) as hub:
            # (The source's run is stored before the job's own record: wait for both.)
            def ingested() -> bool:
                totals = {t.job for t in hub.job_runs.totals()}
                return hub.sources.get("hf").last_run_at is not None and "ingest" in totals

            _wait(ingested, "the ingest job")
            runs = {t.job: t.runs for t in hub.job_runs.totals()}
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
        jobs.close()
    assert runs["ingest"] == 1
    assert server.requests[0][0] == "/api/daily_papers"
    assert process.returncode == 0, (tmp_path / "worker.log").read_text()
    assert "paperroute worker" in (tmp_path / "worker.log").read_text()
