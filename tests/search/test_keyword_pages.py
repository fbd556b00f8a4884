"""Keyword search pages through one ranking however deep: past PREFIX_STABLE a longer
ranking's first papers move (the bounded tiers rank more of the newest matches), and pages
10 and 11 of 30 repeated 27 papers of "reinforcement learning" on the demo data. Bounds
made small here so that 300 papers reach past them, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from paperroute import Hub
from paperroute.search import keyword
from paperroute.search.service import Mode

QUERIES = ["equations", "differential equations", "wave equation", "boundary conditions"]


@pytest.fixture
def small_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TITLE_TIER_BOUND", "PHRASE_TIER_BOUND", "PREFIX_STABLE"):
        monkeypatch.setattr(keyword, name, 4)
    monkeypatch.setattr(keyword, "TITLE_TIER_FETCH", 4)


@pytest.mark.parametrize("query", QUERIES)
def test_keyword_pages_are_slices_of_one_ranking(shub: Hub, small_bounds: None, query: str) -> None:
    whole = shub.search.query(query, mode=Mode.keyword, limit=60)
    ids = [hit.id for hit in whole.hits]
    assert len(ids) > 20, query  # deep enough to cross several blocks
    scores = [hit.score for hit in whole.hits]
    assert scores == sorted(scores, reverse=True)
    for size in (5, 7, 13):
        paged: list[str] = []
        while len(paged) < len(ids):
            page = shub.search.query(query, mode=Mode.keyword, limit=size, offset=len(paged))
            if not page.hits:
                break
            paged.extend(hit.id for hit in page.hits)
        assert len(set(paged)) == len(paged), f"{query!r}: a paper shown twice (pages of {size})"
        assert paged[: len(ids)] == ids, f"{query!r}: pages of {size} differ from one page"


@pytest.mark.parametrize("query", ['"differential equations"', '"wave equation"'])
def test_a_quoted_phrase_pages_through_every_match(
    shub: Hub, small_bounds: None, monkeypatch: pytest.MonkeyPatch, query: str
) -> None:
    # PostgreSQL ranks a phrase among the newest papers with its words (PHRASE_TIER_SCAN):
    # its pages stopped there (556 of "large language"'s 1,557 matches on the demo data)
    # until a deep page reads further back.
    from paperroute.search import _pg_keyword

    monkeypatch.setattr(_pg_keyword, "PHRASE_TIER_SCAN", 5)
    total = shub.search.query(query, mode=Mode.keyword, limit=1).total
    assert total > 12, query
    paged: list[str] = []
    for _ in range(total):
        page = shub.search.query(query, mode=Mode.keyword, limit=3, offset=len(paged))
        if not page.hits:
            break
        paged.extend(hit.id for hit in page.hits)
    assert len(paged) == len(set(paged)) == total, (len(paged), len(set(paged)), total)
