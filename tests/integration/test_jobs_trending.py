"""Trending precomputed after votes (issue 11): a vote on the web asks the queue for one
trending run ``trending_debounce_s`` later, the votes of those seconds share it, a real
consumer runs it and the stored ranking follows the vote; with no queue that answers the
vote still works."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from paperroute import Config, Hub, open_hub
from paperroute.jobs import Jobs, consumer
from paperroute.model import DailyEntry, PaperRecord
from paperroute.store.schema_upkeep import trending_scores
from paperroute.web.app import create_app
from support.community import SECRET, web_sign_in
from support.embedders import HashEmbedder
from support.served import wait_until
from support.smtp import SmtpServer

DAY = dt.date(2026, 11, 20)
PAPERS = ("2611.00001", "2611.00002", "2611.00003")
DEADLINE_S = 120.0  # generous: the machine may be busy; nothing here measures speed


def _wait(condition: Callable[[], bool], what: str) -> None:
    wait_until(condition, what, DEADLINE_S)


def _config(tmp_path: Path, smtp_url: str, **settings: object) -> Config:
    return Config(
        database_url=f"sqlite:///{tmp_path / 'hub.db'}",
        secret_key=SECRET,
        smtp_url=smtp_url,
        allowed_hosts="testserver",
        **settings,  # type: ignore[arg-type]
    )


def _seed(hub: Hub) -> None:
    """Three papers of one day, none upvoted: a vote decides their order."""
    records = [
        PaperRecord(
            source="jsonl",
            source_key=arxiv_id,
            title=f"Paper {n}",
            abstract=f"Abstract {n}.",
            arxiv_id=arxiv_id,
            categories=("cs.LG",),
            daily=(DailyEntry(day=DAY, source="hf", upvotes=0),),
        )
        for n, arxiv_id in enumerate(PAPERS, 1)
    ]
    assert hub.papers.ingest(records).inserted == len(PAPERS)
    hub.reading.precompute_trending()


def _stored_week(hub: Hub) -> list[str]:
    with hub._db.read() as connection:
        rows = connection.execute(
            select(trending_scores.c.paper_id)
            .where(trending_scores.c.window == "week")
            .order_by(trending_scores.c.position)
        )
        return [str(r[0]) for r in rows]


def _runs(hub: Hub) -> int:
    """Runs of the trending job, counted by the job runner."""
    return sum(t.runs for t in hub.job_runs.totals() if t.job == "trending")


def test_a_vote_on_the_web_is_on_the_precomputed_trending_within_the_debounce(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    config = _config(tmp_path, smtp_server.url, trending_debounce_s=1.0)
    with open_hub(config) as hub:
        _seed(hub)
        before = _stored_week(hub)
    last = before[-1]
    assert len(before) == len(PAPERS)
    worker = Jobs(config, embedder=HashEmbedder())
    worker.huey.flush()
    app = create_app(config, embedder=HashEmbedder())
    try:
        with TestClient(app) as client:
            csrf = web_sign_in(client, smtp_server, "reader@example.org")
            voted = client.post(f"/papers/{last}/vote", headers={"X-CSRF-Token": csrf})
            assert voted.status_code == 200, voted.text
            app.state.trending_nudge.wait()
            # Asked for once, later: nothing runs it yet (no consumer), nothing ranked yet.
            assert worker.pending() == 1
            hub = worker.hub()
            assert _stored_week(hub) == before
            runs = _runs(hub)
            running = consumer(worker, 1, periodic=False, embedded=True)
            running.start()
            try:
                _wait(lambda: _runs(hub) > runs, "the trending run after the vote")
            finally:
                running.stop(graceful=True)
            page = client.get("/trending")
            assert page.status_code == 200
    finally:
        worker.close()
    after = _stored_week(hub := open_hub(config))
    try:
        assert after[0] == last and after != before  # the order changed, stored
        totals = {t.job: t for t in hub.job_runs.totals()}
        assert totals["trending"].runs == 1 and totals["trending"].failures == 0
    finally:
        hub.close()


def test_votes_within_the_debounce_share_one_pending_run(tmp_path: Path) -> None:
    config = _config(tmp_path, "outbox", trending_debounce_s=60.0)
    jobs = Jobs(config, embedder=HashEmbedder())
    jobs.huey.flush()
    try:
        asked = [jobs.trending_soon() for _ in range(5)]
        assert asked == [True, False, False, False, False]
        assert jobs.pending() == 1
        # A request whose run was lost (the queue flushed) holds no longer than its lease.
        jobs.huey.storage.flush_queue()
        jobs.huey.put(jobs.trending_asked._key, time.time() - 1)
        assert jobs.trending_soon() is True
        assert jobs.pending() == 1
    finally:
        jobs.close()


def test_a_vote_with_no_queue_answering_still_counts(
    tmp_path: Path, smtp_server: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Redis named but nothing listening: the vote is stored, the request logs a warning."""
    config = _config(tmp_path, smtp_server.url, redis_url="redis://127.0.0.1:9/0")
    with open_hub(config) as hub:
        _seed(hub)
    app = create_app(config, embedder=HashEmbedder())
    with TestClient(app) as client:
        csrf = web_sign_in(client, smtp_server, "reader@example.org")
        for _ in range(3):  # asks once; the others are within the quiet time
            voted = client.post(f"/papers/{PAPERS[0]}/vote", headers={"X-CSRF-Token": csrf})
            assert voted.status_code == 200, voted.text
        app.state.trending_nudge.wait()
    assert "could not ask for trending after a vote" in caplog.text
    assert caplog.text.count("could not ask for trending") == 1
    with open_hub(config) as hub:
        assert hub.reading.trending("week").ranked[0].votes == 1  # voted, unvoted, voted
