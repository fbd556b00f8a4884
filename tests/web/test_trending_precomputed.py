"""Trending precomputed (issue 11): ``hub.reading.precompute_trending()`` stores each
window's ranking, ``trending()`` reads it while its inputs are unchanged and computes the
ranking otherwise; the answers are the same either way, on the demo data."""

from __future__ import annotations

import datetime as dt
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update

from paperroute import Config, Hub, open_hub
from paperroute.reading import ListView
from paperroute.store.schema import papers
from paperroute.store.schema_community import hidden_papers, users, votes
from paperroute.store.schema_upkeep import trending_runs, trending_scores
from support.cli import cli

VIEWS = [
    ListView(),
    ListView(category="cs.CL"),
    ListView(has_code=True),
    ListView(sort="stars"),
    ListView(sort="newest", category="cs.CV", has_code=True),
]


@pytest.fixture
def demo_hub(request: pytest.FixtureRequest, database_url: str) -> Iterator[Hub]:
    """A writable copy of the demo data (SQLite: a copy of the session's file; PostgreSQL:
    loaded afresh)."""
    if database_url.startswith("sqlite"):
        source = Path(request.getfixturevalue("sqlite_demo_url").removeprefix("sqlite:///"))
        target = Path(database_url.removeprefix("sqlite:///"))
        shutil.copy(source, target)
    else:
        from support.demo import load_demo

        load_demo(database_url)
    with open_hub(Config(database_url=database_url)) as hub:
        yield hub


def _answers(hub: Hub) -> list[object]:
    found: list[object] = []
    for window in ("week", "month", "all"):
        for view in VIEWS:
            for offset, limit in ((0, 30), (30, 30), (5, 1000)):
                page = hub.reading.trending(window, offset=offset, limit=limit, view=view)
                found.append((page.ranked, [c.id for c in page.page.cards], page.page.total))
    return found


def _forget(hub: Hub) -> None:
    with hub._db.write() as connection:
        connection.execute(delete(trending_runs))


def test_precomputed_rankings_equal_computed_ones_on_the_demo(demo_hub: Hub) -> None:
    computed = _answers(demo_hub)
    counts = demo_hub.reading.precompute_trending()
    assert counts["week"] > 0 and counts["month"] >= counts["week"] and counts["all"] > 0
    assert _answers(demo_hub) == computed
    # The stored ranking is what was read: a tampered stored score shows through.
    with demo_hub._db.write() as connection:
        connection.execute(
            update(trending_scores)
            .where(trending_scores.c.window == "week", trending_scores.c.position == 0)
            .values(upvote_term=-1.0)
        )
    assert demo_hub.reading.trending("week", limit=1).ranked[0].upvote_term == -1.0
    demo_hub.reading.precompute_trending(["week"])
    assert _answers(demo_hub) == computed


def test_a_vote_or_a_hidden_paper_makes_the_stored_ranking_stale(demo_hub: Hub) -> None:
    demo_hub.reading.precompute_trending()
    last = demo_hub.reading.trending("week", limit=1000).ranked[-1]
    now = dt.datetime.now(dt.UTC)
    with demo_hub._db.write() as connection:
        user = connection.execute(
            insert(users).values(
                email="r@example.org", display_name="r", is_admin=False, created_at=now
            )
        ).inserted_primary_key[0]
        connection.execute(insert(votes).values(paper_pk=last.pk, user_pk=user, created_at=now))
    voted = demo_hub.reading.trending("week", limit=1000).ranked
    assert next(t for t in voted if t.pk == last.pk).votes == 1
    _forget(demo_hub)
    assert demo_hub.reading.trending("week", limit=1000).ranked == voted
    demo_hub.reading.precompute_trending()
    first = voted[0]
    with demo_hub._db.write() as connection:
        connection.execute(
            insert(hidden_papers).values(paper_pk=first.pk, reason="", hidden_at=now)
        )
    assert first.pk not in {t.pk for t in demo_hub.reading.trending("week", limit=1000).ranked}
    # A paper whose stars change (an import, a stars refresh) touches modified_at.
    with demo_hub._db.write() as connection:
        connection.execute(
            update(papers)
            .where(papers.c.pk == last.pk)
            .values(code_stars=10_000_000, modified_at=now + dt.timedelta(days=1))
        )
    ranked = demo_hub.reading.trending("week", limit=1000).ranked
    assert next(t for t in ranked if t.pk == last.pk).stars == 10_000_000


def test_two_precomputes_at_once_leave_one_whole_ranking(demo_hub: Hub) -> None:
    expected = demo_hub.reading.trending("all", limit=10_000).ranked
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(3):
                demo_hub.reading.precompute_trending(["all", "week"])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with demo_hub._db.read() as connection:
        rows = connection.execute(
            select(func.count(), func.count(func.distinct(trending_scores.c.paper_pk))).where(
                trending_scores.c.window == "all"
            )
        ).one()
    assert tuple(rows) == (len(expected), len(expected))
    assert demo_hub.reading.trending("all", limit=10_000).ranked == expected


def test_trending_refresh_on_the_command_line(database_url: str) -> None:
    empty = cli(database_url, "trending", "--refresh")
    assert empty.exit_code == 0, empty.stderr
    assert "trending week: not stored: no day has listings" in empty.stdout
    with open_hub(Config(database_url=database_url)) as hub:
        assert hub.reading.trending("week").page.total == 0
        with hub._db.read() as connection:
            assert connection.scalar(select(func.count()).select_from(trending_runs)) == 0
