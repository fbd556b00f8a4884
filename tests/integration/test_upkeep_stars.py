"""``hub.upkeep.refresh_stars``: code stars from a local server that answers as GitHub's API
does (200 with an ETag, 304, 404, 403 rate-limited, malformed JSON), and two runs at once."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from paperroute import Config, Hub, open_hub
from paperroute.model import PaperRecord
from paperroute.sources.common import MAX_COUNT, build_record
from paperroute.store.schema_upkeep import code_repos
from support.cli import cli
from support.replay import ReplayServer, Reply

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
RESET = int((T0 + dt.timedelta(minutes=40)).timestamp())


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


def _repo_reply(stars: int, etag: str) -> Reply:
    body = json.dumps({"full_name": "x/y", "stargazers_count": stars}).encode()
    return Reply(200, body, {"ETag": etag, "X-RateLimit-Remaining": "59"})


def _paper(arxiv_id: str, code_url: str, stars: int | None = None) -> PaperRecord:
    record = build_record(
        source="hf-daily",
        source_key=arxiv_id,
        title=f"Paper {arxiv_id}",
        arxiv_id=arxiv_id,
        code_url=code_url,
        code_stars=stars,
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
        github_api_url=server.url,
        http_max_retries=0,
        **settings,  # type: ignore[arg-type]
    )
    return open_hub(config, clock=clock)


def _stars(hub: Hub, paper_id: str) -> int | None:
    return hub.papers.show(paper_id).code_stars


def test_stars_refresh_follows_github_answers(database_url: str, server: ReplayServer) -> None:
    server.add("/repos/owner/fast", _repo_reply(120, '"e1"'), Reply(304))
    server.add("/repos/owner/gone", Reply(404, b'{"message": "Not Found"}'))
    server.add("/repos/owner/broken", Reply(200, b'{"stargazers_count": '))
    clock = Clock()
    with _hub(database_url, server, clock, github_token="t0ken") as hub:
        hub.papers.ingest(
            [
                _paper("2401.00001", "https://github.com/Owner/Fast", 3),
                _paper("2401.00002", "https://github.com/owner/fast.git"),
                _paper("2401.00003", "https://github.com/owner/gone", 7),
                _paper("2401.00004", "https://github.com/owner/broken/tree/main", 9),
            ]
        )
        report = hub.upkeep.refresh_stars()
        assert (report.checked, report.changed, report.missing, report.failed) == (3, 1, 1, 1)
        assert "malformed JSON" in report.errors[0] and report.stopped is None
        assert _stars(hub, "2401.00001") == _stars(hub, "2401.00002") == 120
        assert _stars(hub, "2401.00003") == 7  # a missing repository keeps the stars
        assert _stars(hub, "2401.00004") == 9  # so does an unreadable answer
        headers = server.request_headers[0]
        assert headers["authorization"] == "Bearer t0ken"
        assert "if-none-match" not in headers
        with hub._db.read() as connection:
            status = dict(connection.execute(select(code_repos.c.repo, code_repos.c.status)).all())
        assert status == {"owner/fast": "ok", "owner/gone": "missing", "owner/broken": "failed"}
        # Not due yet: nothing asked. A day later: conditional requests.
        assert hub.upkeep.refresh_stars().checked == 0
        clock.now = T0 + dt.timedelta(hours=25)
        again = hub.upkeep.refresh_stars()
        assert again.unchanged == 1 and again.checked == 3
        fast = [h for (path, _), h in zip(server.requests, server.request_headers, strict=True)]
        assert fast[-3:] and any(h.get("if-none-match") == '"e1"' for h in fast[-3:])
        assert _stars(hub, "2401.00001") == 120


def test_an_exhausted_rate_limit_stops_the_run_until_it_resets(
    database_url: str, server: ReplayServer
) -> None:
    limited = Reply(
        403,
        b'{"message": "API rate limit exceeded"}',
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(RESET)},
    )
    server.add("/repos/a/one", _repo_reply(5, '"a"'))
    server.add("/repos/a/two", limited, _repo_reply(6, '"b"'))
    server.add("/repos/a/z", _repo_reply(7, '"c"'))
    clock = Clock()
    with _hub(database_url, server, clock) as hub:
        hub.papers.ingest(
            [
                _paper("2401.00001", "https://github.com/a/one"),
                _paper("2401.00002", "https://github.com/a/two"),
                _paper("2401.00003", "https://github.com/a/z"),
            ]
        )
        report = hub.upkeep.refresh_stars()
        assert report.stopped is not None and "rate limit" in report.stopped
        assert report.resume_at == dt.datetime.fromtimestamp(RESET, dt.UTC)
        assert report.checked == 1 and len(server.requests) == 2
        assert _stars(hub, "2401.00001") == 5 and _stars(hub, "2401.00002") is None
        clock.now = T0 + dt.timedelta(minutes=10)
        waiting = hub.upkeep.refresh_stars()
        assert waiting.stopped is not None and len(server.requests) == 2  # no request
        clock.now = T0 + dt.timedelta(minutes=41)
        resumed = hub.upkeep.refresh_stars()
        assert resumed.stopped is None and resumed.checked == 2
        assert _stars(hub, "2401.00002") == 6 and _stars(hub, "2401.00003") == 7


def test_two_refreshes_at_once_ask_each_repository_once(
    database_url: str, server: ReplayServer
) -> None:
    names = [f"r{n}" for n in range(12)]
    for n, name in enumerate(names):
        server.add(f"/repos/o/{name}", _repo_reply(n + 1, f'"{n}"'))
    clock = Clock()
    with _hub(database_url, server, clock) as first, _hub(database_url, server, clock) as second:
        first.papers.ingest(
            [
                _paper(f"2401.{n + 1:05d}", f"https://github.com/o/{name}")
                for n, name in enumerate(names)
            ]
        )
        errors: list[BaseException] = []
        reports = []

        def run(hub: Hub) -> None:
            try:
                reports.append(hub.upkeep.refresh_stars())
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=run, args=(h,)) for h in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert sorted(path for path, _ in server.requests) == sorted(f"/repos/o/{n}" for n in names)
        assert sum(r.checked for r in reports) == 12
        assert [_stars(first, f"2401.{n + 1:05d}") for n in range(12)] == list(range(1, 13))


def test_paperroute_stars_refresh_on_the_command_line(
    database_url: str, server: ReplayServer
) -> None:
    server.add("/repos/a/one", _repo_reply(42, '"a"'))
    with open_hub(Config(database_url=database_url)) as hub:
        hub.papers.ingest([_paper("2401.00001", "https://github.com/a/one")])
    result = cli(database_url, "stars", "refresh", PAPERROUTE_GITHUB_API_URL=server.url)
    assert result.exit_code == 0, result.stderr
    assert "1 repositories checked, 1 with new stars" in result.stdout
    with open_hub(Config(database_url=database_url)) as hub:
        assert _stars(hub, "2401.00001") == 42


def test_a_hostile_stars_count_never_overflows_the_column(
    database_url: str, server: ReplayServer
) -> None:
    huge = b'{"stargazers_count": 1' + b"0" * 40 + b"}"
    server.add("/repos/owner/huge", Reply(200, huge, {"ETag": '"h"'}))
    server.add("/repos/owner/big", _repo_reply(2**31, '"b"'))
    server.add("/repos/owner/digits", Reply(200, b'{"stargazers_count": 1' + b"0" * 5000 + b"}"))
    with _hub(database_url, server, Clock()) as hub:
        hub.papers.ingest(
            [
                _paper("2401.00001", "https://github.com/owner/huge", 3),
                _paper("2401.00002", "https://github.com/owner/big", 4),
                _paper("2401.00003", "https://github.com/owner/digits", 5),
            ]
        )
        report = hub.upkeep.refresh_stars()
        assert (report.checked, report.changed, report.failed) == (3, 2, 1), report.errors
        assert _stars(hub, "2401.00001") == _stars(hub, "2401.00002") == MAX_COUNT
        assert _stars(hub, "2401.00003") == 5 and "malformed JSON" in report.errors[0]
        with hub._db.read() as connection:
            stored = dict(connection.execute(select(code_repos.c.repo, code_repos.c.stars)).all())
        assert stored == {"owner/huge": MAX_COUNT, "owner/big": MAX_COUNT, "owner/digits": None}
