"""Choosing each subscriber's papers: categories, keyword queries in the search language,
authors, trending first, the window since the last digest, and never a paper twice."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import select

from paperroute import Hub
from paperroute.digest import Digests
from paperroute.digest import _candidates as cands
from paperroute.digest._plan import compute
from paperroute.digest._select import Selector
from paperroute.digest.model import preferences
from paperroute.store.schema_digests import digest_sends, subscribers
from paperroute.store.session import Database
from support.digest_data import AS_OF, paper_records

RECORDS = {r.arxiv_id: r for r in paper_records()}


def _pool(hub: Hub) -> cands.Candidates:
    with hub._db.engine.connect() as connection:
        return cands.load(connection, hub.config, dt.date(2026, 8, 19), dt.date(2026, 8, 21))


def test_candidates_are_the_papers_first_listed_in_the_window(papers_hub: Hub) -> None:
    pool = _pool(papers_hub)
    assert len(pool.cards) == len(RECORDS)
    with papers_hub._db.engine.connect() as connection:
        only_last = cands.load(
            connection, papers_hub.config, dt.date(2026, 8, 21), dt.date(2026, 8, 21)
        )
    assert 0 < len(only_last.cards) < len(pool.cards)
    assert all(card.day == dt.date(2026, 8, 21) for card in only_last.cards)
    # Trending: papers with upvotes, best first.
    ups = [pool.cards[i].upvotes for i in pool.trending_order]
    assert ups and all(u > 0 for u in ups)
    assert pool.cards[pool.trending_order[0]].id == "2608.19880"  # 163 upvotes, newest day


def test_keyword_queries_use_the_search_language(papers_hub: Hub) -> None:
    pool = _pool(papers_hub)

    def ids(query: str) -> set[str]:
        return {pool.cards[i].id for i in pool.keyword(query)}

    def expected(test: object) -> set[str]:
        return {
            r.arxiv_id
            for r in RECORDS.values()
            if test(f"{r.title} {r.abstract} {' '.join(r.authors)}".lower())  # type: ignore[operator]
        }

    def words(text: str) -> list[str]:
        return re.findall(r"\w+", text)

    assert ids("diffusion") == expected(lambda t: "diffusion" in words(t))
    assert ids("diffusion") and ids("agents")
    assert ids("agent*") >= ids("agents") | ids("agent")
    assert ids("agents -benchmark") == ids("agents") - ids("benchmark")
    phrase = ids('"language models"')
    assert phrase and phrase <= ids("language") & ids("models")
    assert ids("agents cat:cs.CV") == ids("agents") & {
        pool.cards[i].id for i in pool.category("cs.CV")
    }
    assert ids("has:code agents") == {i for i in ids("agents") if RECORDS[i].code_url}
    assert ids("") == set() and ids("-agents") == set() and ids('"""') == set()
    assert ids("zzzunknownword") == set()


STEMMED_QUERIES = [
    "model",
    "models",
    "modeling",
    "agent",
    "diffusion",
    '"language model"',
    '"large language models"',
    "learning -reinforcement",
    "benchmarks agents",
    "reasoning cat:cs.CL",
]


@pytest.mark.parametrize("query", STEMMED_QUERIES)
def test_a_digest_keyword_matches_what_the_search_box_finds(papers_hub: Hub, query: str) -> None:
    """One query language, one behaviour: the papers a digest keyword picks are the papers
    keyword search finds for it, stems included ("model" finds "models")."""
    pool = _pool(papers_hub)
    digest = {pool.cards[i].id for i in pool.keyword(query)}
    result = papers_hub.search.query(query, limit=200, correct=False)
    assert result.total < 200
    assert digest == {hit.id for hit in result.hits}
    assert digest, query


def test_model_matches_models_in_a_digest(papers_hub: Hub) -> None:
    pool = _pool(papers_hub)

    def texts(query: str) -> list[str]:
        return [f"{pool.cards[i].title} {pool.cards[i].abstract}" for i in pool.keyword(query)]

    plural_only = [
        t for t in texts("model") if "models" in t.lower() and " model " not in f" {t.lower()} "
    ]
    assert plural_only, "no paper says only 'models': the test data changed"
    assert set(texts("model")) == set(texts("models")) == set(texts("modeling"))


def test_categories_and_authors(papers_hub: Hub) -> None:
    pool = _pool(papers_hub)
    cl = {pool.cards[i].id for i in pool.category("cs.cl")}  # any case
    assert cl == {r.arxiv_id for r in RECORDS.values() if "cs.CL" in r.categories}
    assert {pool.cards[i].id for i in pool.category("cs")} >= cl  # an archive: all of it
    some = next(r for r in RECORDS.values() if len(r.authors) > 1)
    full = {pool.cards[i].id for i in pool.author(some.authors[1].upper())}
    surname = {pool.cards[i].id for i in pool.author(some.authors[1].split()[-1])}
    assert some.arxiv_id in full and full <= surname


def test_trending_comes_first_and_reasons_are_given(papers_hub: Hub) -> None:
    pool = _pool(papers_hub)
    selector = Selector(pool)
    prefs = preferences({"trending": "on", "categories": "cs.CL", "max_papers": "6"})
    picks = selector.pick(prefs, dt.date(2026, 8, 19))
    assert len(picks) == 6
    by_pk = {c.pk: c for c in pool.cards}
    assert picks[0].reason.startswith("trending")
    trending_picks = [p for p in picks if p.reason.startswith("trending")]
    assert len(trending_picks) >= 3  # half the digest at least
    assert picks[: len(trending_picks)] == trending_picks  # trending first
    for pick in picks:
        card = by_pk[pick.paper_pk]
        if "new in cs.CL" in pick.reason:
            assert "cs.CL" in card.categories
    without = selector.pick(
        preferences({"trending": "off", "keywords": ["diffusion"], "max_papers": "50"}),
        dt.date(2026, 8, 19),
    )
    assert without and all(p.reason == "matches 'diffusion'" for p in without)
    assert len({p.paper_pk for p in without}) == len(without)


def test_window_and_already_received_papers_are_left_out(papers_hub: Hub) -> None:
    pool = _pool(papers_hub)
    selector = Selector(pool)
    prefs = preferences({"trending": "on", "categories": "cs.AI, cs.CL, cs.CV", "max_papers": "50"})
    everything = selector.pick(prefs, dt.date(2026, 8, 19))
    recent = selector.pick(prefs, dt.date(2026, 8, 21))
    by_pk = {c.pk: c for c in pool.cards}
    assert all(by_pk[p.paper_pk].day == dt.date(2026, 8, 21) for p in recent)
    received = {p.paper_pk for p in everything[:10]}
    rest = selector.pick(prefs, dt.date(2026, 8, 19), received)
    assert not received & {p.paper_pk for p in rest}


def test_a_second_run_sends_no_paper_twice(papers_hub: Hub, digests: Digests) -> None:
    digests.add_confirmed(
        "reader@example.org",
        {"trending": "on", "categories": "cs.AI", "max_papers": "5", "frequency": "daily"},
    )
    first = digests.send(as_of=AS_OF, ignore_hour=True)
    assert first.report.sent == 1
    # Same day again: this slot is done.
    assert digests.send(as_of=AS_OF, ignore_hour=True).planned == 0
    # Next day: no new listings, so nothing new (and nothing sent by default).
    later = digests.send(as_of=AS_OF + dt.timedelta(days=1), ignore_hour=True)
    assert later.due == 1 and later.planned == 0 and later.nothing_new == 1
    # With the slot freed and the reader's window reset, the papers already received are
    # still skipped: the received-papers record guarantees it, not the window.
    with papers_hub._db.engine.begin() as connection:
        connection.execute(digest_sends.update().values(period="elsewhere"))
        connection.execute(subscribers.update().values(through_day=None))
    plan = compute(Database(papers_hub._db.engine), papers_hub.config, AS_OF, ignore_hour=True)
    with papers_hub._db.engine.connect() as connection:
        sent = json.loads(connection.scalar(select(digest_sends.c.papers)) or "[]")
    first_pks = {pk for pk, _ in sent}
    assert plan.digests and not first_pks & {p.paper_pk for p in plan.digests[0].picks}
