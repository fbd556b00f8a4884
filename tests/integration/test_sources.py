"""Scheduled sources on SQLite and PostgreSQL: stored, claimed by one run at a time, run
through the importers against a local server replaying recorded answers, offline with a
back-off when the source fails, back when it recovers; and the `paperroute sources` CLI."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperroute import Config, Hub, open_hub
from paperroute.errors import InvalidInput, NotFound
from paperroute.jobs import make_schedule, run_source
from paperroute.upkeep.schedule import RETRY_FIRST
from support.cli import cli
from support.replay import ReplayServer, Reply

DATA = Path(__file__).parents[1] / "data"
DAY = dt.date(2026, 8, 21)
HF_DAY = (DATA / "hf-daily" / "2026-08-21.json").read_bytes()  # 17 papers
HF_PAPERS = 17
UNAVAILABLE = Reply(503, b"Service Unavailable", {"Retry-After": "0"})


class Clock:
    """A clock the test moves."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def server() -> Iterator[ReplayServer]:
    with ReplayServer() as replay:
        yield replay


@pytest.fixture
def clock() -> Clock:
    return Clock(dt.datetime.combine(DAY, dt.time(9, 0), tzinfo=dt.UTC))


def _config(database_url: str, server: ReplayServer) -> Config:
    return Config(
        database_url=database_url,
        hf_daily_url=f"{server.url}/api/daily_papers",
        oai_url=f"{server.url}/oai",
        arxiv_api_url=f"{server.url}/api/query",
        arxiv_min_interval=0.0,
        http_max_retries=1,
    )


@pytest.fixture
def hub(database_url: str, server: ReplayServer, clock: Clock) -> Iterator[Hub]:
    with open_hub(_config(database_url, server), clock=clock) as opened:
        yield opened


def _hf_source(hub: Hub, name: str = "hf") -> None:
    hub.sources.add("hf-daily", make_schedule("hf-daily", "1h"), {"days_back": 0}, name=name)


def test_sources_are_stored_listed_and_removed(hub: Hub) -> None:
    _hf_source(hub)
    hub.sources.add(
        "oai",
        make_schedule("oai", at="01:30", tz="America/New_York"),
        {"set": "cs", "categories": ["cs.CL"]},
    )
    listed = {s.name: s for s in hub.sources.listed()}
    assert sorted(listed) == ["hf", "oai-cs"]
    assert listed["oai-cs"].parameters == {"set": "cs", "categories": ["cs.CL"]}
    assert listed["hf"].status(hub.sources.clock()) == "new"
    assert hub.sources.due() == ["hf", "oai-cs"]  # a new source is due at once
    with pytest.raises(InvalidInput, match="exists already"):
        _hf_source(hub)
    hub.sources.remove("hf")
    with pytest.raises(NotFound):
        hub.sources.remove("hf")
    assert [s.name for s in hub.sources.listed()] == ["oai-cs"]


def test_one_run_at_a_time_holds_a_source_until_its_lease_lapses(hub: Hub, clock: Clock) -> None:
    _hf_source(hub)
    first = hub.sources.claim("hf", "worker-a")
    assert first is not None
    assert hub.sources.claim("hf", "worker-b") is None
    assert hub.sources.claim("hf", "worker-b", force=True) is None  # `sources run` too
    assert hub.sources.due() == []
    assert hub.sources.get("hf").status(clock()) == "running"
    clock.now += dt.timedelta(hours=1)  # worker-a died: its lease lapsed
    second = hub.sources.claim("hf", "worker-b")
    assert second is not None
    # The dead holder's late finish changes nothing: the source is worker-b's now.
    hub.sources.finish(first, added=5, error=None)
    assert hub.sources.get("hf").running
    hub.sources.finish(second, added=3, error=None)
    source = hub.sources.get("hf")
    assert (source.running, source.last_added, source.total_added) == (False, 3, 3)
    assert source.next_run_at == clock() + dt.timedelta(hours=1)


def test_a_source_that_answers_503_goes_offline_then_recovers(
    hub: Hub, server: ReplayServer, clock: Clock
) -> None:
    server.add(
        "/api/daily_papers",
        UNAVAILABLE,
        UNAVAILABLE,
        Reply(200, HF_DAY),
        query={"date": "2026-08-21"},
    )
    _hf_source(hub)
    failed = run_source(hub, "hf")
    assert failed.ran and failed.added == 0
    assert failed.error is not None and "503" in failed.error
    source = hub.sources.get("hf")
    assert source.offline_until == clock() + RETRY_FIRST == failed.next_run_at
    assert source.status(clock()).startswith("offline, next try at 2026-08-21 09:01")
    assert hub.papers.stats().papers == 0
    assert hub.sources.due() == []  # not before the back-off ends
    clock.now += RETRY_FIRST
    assert hub.sources.due() == ["hf"]
    recovered = run_source(hub, "hf")
    assert (recovered.error, recovered.added) == (None, HF_PAPERS)
    source = hub.sources.get("hf")
    assert (source.failures, source.offline_until, source.last_error) == (0, None, None)
    assert (source.last_added, source.total_added) == (HF_PAPERS, HF_PAPERS)
    assert source.status(clock()) == "ok"
    assert hub.papers.stats().papers == HF_PAPERS
    assert run_source(hub, "hf").ran is False  # not due again before its hour


def test_failures_in_a_row_back_off_longer(hub: Hub, server: ReplayServer, clock: Clock) -> None:
    server.add("/api/daily_papers", UNAVAILABLE)
    _hf_source(hub)
    delays = []
    for _ in range(3):
        run = run_source(hub, "hf", force=True)
        assert run.next_run_at is not None
        delays.append(run.next_run_at - clock())
    assert delays == [RETRY_FIRST, RETRY_FIRST * 2, RETRY_FIRST * 4]
    assert hub.sources.get("hf").failures == 3


def test_two_runs_at_once_fetch_and_store_once(hub: Hub, server: ReplayServer) -> None:
    server.add("/api/daily_papers", Reply(200, HF_DAY, delay=0.3))
    _hf_source(hub)
    runs = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        runs.append(run_source(hub, "hf"))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r.ran for r in runs) == [False, True]
    assert len(server.requests) == 1
    assert hub.sources.get("hf").total_added == HF_PAPERS
    assert hub.papers.stats().papers == HF_PAPERS


def test_an_oai_source_keeps_only_its_categories(hub: Hub, server: ReplayServer) -> None:
    page = (DATA / "oai-pmh" / "arxivraw_ListRecords_constructed_final_page.xml").read_bytes()
    server.add("/oai", Reply(200, page))
    hub.sources.add("oai", make_schedule("oai"), {"set": "cs"}, name="all")
    everything = run_source(hub, "all")
    assert everything.error is None and everything.added > 0
    stored = hub.papers.stats().papers
    hub.sources.add("oai", make_schedule("oai"), {"set": "math", "categories": ["q-bio"]})
    narrowed = run_source(hub, "oai-math")
    assert (narrowed.error, narrowed.added, narrowed.updated) == (None, 0, 0)
    assert hub.papers.stats().papers == stored


def test_an_unreachable_feed_is_offline_not_a_crash(hub: Hub) -> None:
    hub.sources.add("rss", make_schedule("rss"), {"url": "http://127.0.0.1:9/feed.xml"})
    run = run_source(hub, "rss-127.0.0.1")
    assert run.ran and run.error is not None and "could not be reached" in run.error
    assert hub.sources.get("rss-127.0.0.1").offline_until is not None


# -- the command line ---------------------------------------------------------------------


def test_sources_commands(database_url: str, server: ReplayServer) -> None:
    env = {
        "PAPERROUTE_HF_DAILY_URL": f"{server.url}/api/daily_papers",
        "PAPERROUTE_HTTP_MAX_RETRIES": "1",
    }
    added = cli(database_url, "sources", "add", "hf-daily", "--every", "2h", "--days-back", "0")
    assert added.exit_code == 0, added.stderr
    assert "added source hf-daily (hf-daily, every 2h)" in added.stdout
    oai = cli(
        database_url,
        "sources", "add", "oai", "--set", "cs", "--categories", "cs.CL,cs.LG",
        "--at", "01:30", "--tz", "America/New_York",
    )  # fmt: skip
    assert oai.exit_code == 0, oai.stderr
    listed = json.loads(cli(database_url, "sources", "list", "--format", "json").stdout)
    assert [(s["name"], s["schedule"]) for s in listed] == [
        ("hf-daily", "every 2h"),
        ("oai-cs", "daily at 01:30 America/New_York"),
    ]
    server.add("/api/daily_papers", UNAVAILABLE)
    offline = cli(database_url, "sources", "run", "hf-daily", **env)
    assert offline.exit_code == 1
    assert "hf-daily is offline, next try at" in offline.stderr
    assert "503" in offline.stderr
    # The table wraps its cells to the terminal's width: JSON holds the status whole.
    statuses = json.loads(cli(database_url, "sources", "list", "--format", "json").stdout)
    assert statuses[0]["status"].startswith("offline, next try at")
    assert "offline" in cli(database_url, "sources", "list").stdout
    assert cli(database_url, "sources", "remove", "oai-cs").exit_code == 0
    gone = cli(database_url, "sources", "remove", "oai-cs")
    assert gone.exit_code == 1 and "no source named 'oai-cs'" in gone.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hf-daily", "--every", "soon"], "--every must be a number with a unit"),
        (["hf-daily", "--every", "0m"], "between 1s and 31d"),
        (["oai", "--set", "cs", "--at", "01:30", "--tz", "Atlantis/Capital"], "unknown time zone"),
        (["rss", "file:///etc/passwd"], "must start with http:// or https://"),
        (["rss", "http://" + "a" * 3000 + ".org/"], "not a feed URL"),
        (["rss"], "needs the feed's URL"),
        (["gopher"], "unknown source kind"),
        (["hf-daily", "--name", "Bad Name!"], "a source name is"),
        (["arxiv-api", "--query", "q" * 20_000], "at most 1000 characters"),
    ],
)
def test_bad_sources_are_refused_with_exit_status_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """Validation comes before the database: SQLite is enough."""
    database_url = f"sqlite:///{tmp_path / 'paperroute.db'}"
    result = cli(database_url, "sources", "add", *args)
    assert result.exit_code == 2, result.stdout
    assert message in " ".join(result.stderr.split())
    assert json.loads(cli(database_url, "sources", "list", "--format", "json").stdout) == []


def test_a_duplicate_name_is_refused(database_url: str) -> None:
    assert cli(database_url, "sources", "add", "hf-daily").exit_code == 0
    again = cli(database_url, "sources", "add", "hf-daily")
    assert again.exit_code == 2
    assert "a source named 'hf-daily' exists already" in again.stderr
