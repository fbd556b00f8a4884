"""Best match (hybrid) search pages through one ranking: each page is the slice of the
same order, whatever the page size, so no paper shows twice and none is skipped. (A page
used to be fused over its own candidates, twice its depth: page 2's scaling moved papers of
page 1 onto it.) On SQLite and PostgreSQL, with the deterministic embedder."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from paperroute import Hub
from paperroute.search import _pg_keyword
from paperroute.search._hybrid import BLOCK, hybrid_candidates
from paperroute.search.keyword import keyword_search
from paperroute.search.query import parse_query
from paperroute.search.service import Mode

QUERIES = [
    "equations",
    "nonlinear equations",
    "existence of solutions",
    '"boundary value"',
    "space",
]


def pages(hub: Hub, query: str, sizes: list[int]) -> list[str]:
    """The ids of consecutive pages of these sizes."""
    found: list[str] = []
    for size in sizes:
        result = hub.search.query(query, mode=Mode.hybrid, limit=size, offset=len(found))
        assert len(result.hits) == size, (query, size, len(found))
        found.extend(hit.id for hit in result.hits)
    return found


@pytest.mark.parametrize("query", QUERIES)
def test_hybrid_pages_are_slices_of_one_ranking(embedded: Hub, query: str) -> None:
    whole = [h.id for h in embedded.search.query(query, mode=Mode.hybrid, limit=150).hits]
    assert len(whole) == 150
    for sizes in ([30] * 5, [20] * 7 + [10], [10, 7, 33, 50, 50], [1] * 25 + [125]):
        paged = pages(embedded, query, sizes)
        assert len(set(paged)) == len(paged), f"{query!r}: a paper shown twice ({sizes})"
        assert paged == whole, f"{query!r}: pages of {sizes} differ from one page of 150"


def test_hybrid_scores_descend_across_blocks(embedded: Hub) -> None:
    hits = embedded.search.query("existence of solutions", mode=Mode.hybrid, limit=200).hits
    scores = [hit.score for hit in hits]
    assert len(scores) == 200 and scores == sorted(scores, reverse=True)


def test_the_first_block_is_fused_over_the_first_pages_candidates() -> None:
    # A first page of up to BLOCK results keeps the candidates it always had (40 a side).
    assert [hybrid_candidates(n) for n in (1, 10, BLOCK)] == [2 * BLOCK] * 3
    assert [hybrid_candidates(n) for n in (BLOCK + 1, 60, 61, 81, 1000)] == [
        80,
        160,
        160,
        320,
        2560,
    ]


def test_a_ranking_does_not_depend_on_whether_the_matches_were_estimated(
    embedded: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL ranks a common query's newest matches first. That choice once followed the
    # frequency sample's estimate, which a process has not read at first (or reads from
    # another random sample): the same query then ranked two ways from page to page.
    monkeypatch.setattr(_pg_keyword, "RANK_ALL_MAX", 10)
    query = parse_query("solutions")
    with embedded._db.engine.connect() as connection:
        matches = connection.execute(
            text("SELECT count(*) FROM papers WHERE lower(abstract) LIKE '%solution%'")
        ).scalar()
        assert matches and matches > 10
        rankings = [
            [hit.pk for hit in keyword_search(connection, query, limit=60, with_words=w)]
            for w in (None, float(matches), 5.0, 1e6)
        ]
    assert all(ranking == rankings[0] for ranking in rankings[1:])


# (Listed by the count: a rare quoted phrase on SQLite, plain words on PostgreSQL once the
# frequency sample is read; each has more matches than the first page's candidates.)
LISTED = {"sqlite": '"this paper"', "postgresql": "solutions"}


@pytest.mark.parametrize("query", sorted(LISTED.values()))
def test_matches_the_count_listed_are_not_asked_for_again(
    embedded: Hub, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    # Which close papers hold the words: read from the count's list of matches where it
    # has one, with the same answer as asking the database.
    from paperroute.search import _hybrid, service

    embedded.search.warm_keywords()
    listed: list[bool] = []
    asked: list[int] = []
    ranking, matching = service.hybrid_ranking, _hybrid.matching

    def ranked(*args: object, unlisted: bool = False, **kwargs: object) -> _hybrid.Fused:
        listed.append(args[-1] is not None)
        return ranking(*args[:-1], None if unlisted else args[-1], **kwargs)  # type: ignore[arg-type]

    def counted(connection: object, query: object, pks: list[int]) -> set[int]:
        asked.append(len(pks))
        return matching(connection, query, pks)  # type: ignore[arg-type]

    monkeypatch.setattr(_hybrid, "matching", counted)
    monkeypatch.setattr(service, "hybrid_ranking", ranked)
    with_list = embedded.search.query(query, mode=Mode.hybrid, limit=10)
    monkeypatch.setattr(service, "hybrid_ranking", lambda *a, **k: ranked(*a, unlisted=True, **k))
    without = embedded.search.query(query, mode=Mode.hybrid, limit=10)
    assert [h.id for h in with_list.hits] == [h.id for h in without.hits]
    assert (with_list.total, with_list.total_exact) == (without.total, without.total_exact)
    if LISTED[embedded._db.engine.dialect.name] == query:
        assert listed == [True, True] and len(asked) == 1, (listed, asked)
