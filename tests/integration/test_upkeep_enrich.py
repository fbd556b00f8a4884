"""``hub.upkeep.enrich``: papers known only from Hugging Face completed from the arXiv API
(recorded answers served over a local socket), its errors (HTTP 400 / 503, malformed Atom:
nothing written, tried again later), and two runs at once sharing the work."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from paperroute import Config, Hub, open_hub
from paperroute.model import PaperRecord
from paperroute.sources.common import build_record
from paperroute.store.schema import paper_categories
from paperroute.store.schema_upkeep import enrich_state
from support.cli import cli
from support.replay import ReplayServer, Reply, load_recording

DATA = Path(__file__).parents[1] / "data" / "arxiv-api"
ONE = load_recording(DATA / "id_1605.08386_s0_m100_199195aa31ad.json")
TWO = load_recording(DATA / "id_0808.05394_1707.08567_s0_m100_42e5aa0ec3af.json")
EMPTY = load_recording(DATA / "id_0000.0000_s0_m100_8b51d9633a68.json")
BAD_ID = load_recording(DATA / "id_abc_s0_m100_b79c8dcf6bc3.json")
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def _hf(arxiv_id: str) -> PaperRecord:
    record = build_record(
        source="hf-daily",
        source_key=arxiv_id,
        title=f"A paper {arxiv_id}",
        abstract="Known only from Hugging Face.",
        authors=["Someone Else"],
        arxiv_id=arxiv_id,
    )
    assert isinstance(record, PaperRecord)
    return record


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


def _hub(database_url: str, server: ReplayServer, clock: Clock, **settings: object) -> Hub:
    config = Config(
        database_url=database_url,
        arxiv_min_interval=0.0,  # the pace, injected: tests do not wait 3 s a request
        arxiv_api_url=server.url + "/api/query",
        http_max_retries=0,
        **settings,  # type: ignore[arg-type]
    )
    return open_hub(config, clock=clock)


def _categories(hub: Hub, paper_id: str) -> tuple[str, ...]:
    return hub.papers.show(paper_id).categories


def test_enrich_completes_papers_from_the_arxiv_api_once(
    database_url: str, server: ReplayServer
) -> None:
    server.add("/api/query", ONE, query={"id_list": "1605.08386"})
    # arXiv's answer to a batch in which one id is unknown to it (recorded for 0808.05394).
    server.add("/api/query", TWO, query={"id_list": "1707.08567,2401.00001"})
    with _hub(database_url, server, Clock(), enrich_batch_size=2) as hub:
        hub.papers.ingest([_hf("1707.08567"), _hf("2401.00001"), _hf("1605.08386")])
        assert _categories(hub, "1605.08386") == ()
        report = hub.upkeep.enrich(infer_after=False)
        assert (report.requested, report.enriched, report.unknown, report.failed) == (3, 2, 1, 0)
        assert report.requests == 2 and report.stopped is None
        assert _categories(hub, "1605.08386") == ("math.CO", "math.ST")
        paper = hub.papers.show("1707.08567")
        assert paper.categories == ("cs.IT",)
        assert len(paper.authors) == 34  # arXiv's authors replace Hugging Face's
        assert paper.submitted_at == dt.datetime(2017, 7, 27, 8, 18, 33, tzinfo=dt.UTC)
        status = hub.upkeep.enrich_status()
        assert status["done"] == 2 and status["unknown"] == 1 and status["lacking"] == 1
        # Idempotent: enriched papers are not asked for again, the unknown one not before
        # its retry time.
        again = hub.upkeep.enrich(infer_after=False)
        assert again.requested == 0 and len(server.requests) == 2


@pytest.mark.parametrize(
    ("reply", "stops"),
    [
        (Reply(503, b"<html>busy</html>", {"Retry-After": "0"}), True),
        (BAD_ID, False),  # HTTP 400 with arXiv's error entry
        (Reply(200, b"<html><body>not Atom</body></html>"), False),
        (
            Reply(200, b"<?xml version='1.0'?><feed xmlns='http://www.w3.org/2005/Atom'><entry>"),
            False,
        ),
    ],
    ids=["503", "400", "html", "truncated"],
)
def test_a_failed_request_writes_nothing_and_is_tried_again_later(
    database_url: str, server: ReplayServer, reply: Reply, stops: bool
) -> None:
    server.add("/api/query", reply, ONE, query={"id_list": "1605.08386"})
    server.add("/api/query", EMPTY, query={"id_list": "2401.00001"})
    clock = Clock()
    with _hub(database_url, server, clock, enrich_batch_size=1, enrich_retry_hours=6.0) as hub:
        hub.papers.ingest([_hf("1605.08386"), _hf("2401.00001")])
        before = hub.papers.show("1605.08386")
        report = hub.upkeep.enrich(infer_after=False)
        assert report.failed == 1 and report.enriched == 0
        assert "1605.08386" in report.errors[0] or "api/query" in report.errors[0]
        assert (report.stopped is not None) == stops
        assert report.requests == (1 if stops else 2)
        assert hub.papers.show("1605.08386") == before  # nothing half-written
        with hub._db.read() as connection:
            row = connection.execute(select(enrich_state).where(enrich_state.c.paper_pk == 1)).one()
        assert (row.status, row.attempts, row.claimed_by) == ("failed", 1, None)
        assert row.retry_at == T0 + dt.timedelta(hours=6)
        assert hub.upkeep.enrich(infer_after=False).requested == (1 if stops else 0)
        clock.now = T0 + dt.timedelta(hours=7)
        later = hub.upkeep.enrich(infer_after=False)
        assert later.enriched == 1
        assert _categories(hub, "1605.08386") == ("math.CO", "math.ST")


def test_two_runs_at_once_share_the_papers(database_url: str, server: ReplayServer) -> None:
    ids = [f"2401.{n:05d}" for n in range(1, 13)]
    for arxiv_id in ids:
        server.add("/api/query", EMPTY, query={"id_list": arxiv_id})
    server.add("/api/query", ONE, query={"id_list": "1605.08386"})
    clock = Clock()
    with _hub(database_url, server, clock, enrich_batch_size=1) as first:
        first.papers.ingest([_hf(i) for i in [*ids, "1605.08386"]])
        with _hub(database_url, server, clock, enrich_batch_size=1) as second:
            reports = []
            errors: list[BaseException] = []

            def run(hub: Hub) -> None:
                try:
                    reports.append(hub.upkeep.enrich(infer_after=False))
                except BaseException as exc:
                    errors.append(exc)

            threads = [threading.Thread(target=run, args=(h,)) for h in (first, second)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert errors == []
        assert sum(r.requested for r in reports) == 13  # each paper asked for once
        asked = sorted(query["id_list"] for _, query in server.requests)
        assert asked == sorted([*ids, "1605.08386"])
        with first._db.read() as connection:
            attempts = connection.execute(select(enrich_state.c.attempts)).scalars().all()
            rows = connection.scalar(select(func.count()).select_from(paper_categories))
        assert attempts == [1] * 13
        assert rows == 2  # math.CO, math.ST: no duplicate


def test_paperroute_enrich_on_the_command_line(database_url: str, server: ReplayServer) -> None:
    server.add("/api/query", ONE, query={"id_list": "1605.08386"})
    with open_hub(Config(database_url=database_url)) as hub:
        hub.papers.ingest([_hf("1605.08386")])
    env = {
        "PAPERROUTE_ARXIV_API_URL": server.url + "/api/query",
        "PAPERROUTE_ARXIV_MIN_INTERVAL": "0",
    }
    result = cli(database_url, "enrich", "--limit", "5", **env)
    assert result.exit_code == 0, result.stderr
    assert "arXiv: 1 of 1 papers enriched in 1 requests" in result.stdout
    assert "still lacking arXiv metadata: 0" in result.stdout
    server.add("/api/query", Reply(400, b"bad"), query={"id_list": "2401.00001"})
    with open_hub(Config(database_url=database_url)) as hub:
        hub.papers.ingest([_hf("2401.00001")])
    failed = cli(database_url, "enrich", **env)
    assert failed.exit_code == 1
    assert "HTTP 400" in failed.stderr


def test_an_answer_about_other_papers_writes_nothing_about_them(
    database_url: str, server: ReplayServer
) -> None:
    """A hostile or confused answer (entries for ids nobody asked for) is not stored: only
    the asked papers' entries are."""
    server.add("/api/query", TWO, query={"id_list": "1605.08386"})  # 1707.08567's entry
    with _hub(database_url, server, Clock()) as hub:
        hub.papers.ingest([_hf("1605.08386")])
        report = hub.upkeep.enrich(infer_after=False)
        assert (report.enriched, report.unknown) == (0, 1)
        assert hub.papers.stats().papers == 1
        assert _categories(hub, "1605.08386") == ()


def test_a_batch_arxiv_refuses_is_asked_for_one_id_at_a_time(
    database_url: str, server: ReplayServer
) -> None:
    """arXiv answers HTTP 400 to a whole batch for one id it cannot read: the others are
    asked for alone, and only the bad one fails."""
    server.add("/api/query", BAD_ID, query={"id_list": "1605.08386,2401.00001"})
    server.add("/api/query", ONE, query={"id_list": "1605.08386"})
    server.add("/api/query", BAD_ID, query={"id_list": "2401.00001"})
    with _hub(database_url, server, Clock(), enrich_batch_size=2) as hub:
        hub.papers.ingest([_hf("1605.08386"), _hf("2401.00001")])
        report = hub.upkeep.enrich(infer_after=False)
        assert (report.requested, report.enriched, report.failed) == (2, 1, 1)
        assert report.requests == 3 and report.stopped is None
        assert _categories(hub, "1605.08386") == ("math.CO", "math.ST")
        status = hub.upkeep.enrich_status()
        assert (status["done"], status["failed"]) == (1, 1)
