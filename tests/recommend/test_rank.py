"""hub.recommend.rank on real papers: picks follow the seeds' topic, explain themselves, and
honour negatives, exclusions, follows, the date window and the limit."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from paperroute import Hub, InvalidInput, PaperRecord
from paperroute.recommend import Profile, Seed


def _ids(records: list[PaperRecord], category: str, count: int) -> list[str]:
    found = [r.arxiv_id for r in records if r.categories[0] == category]
    return [i for i in found if i][:count]


def _primary(records: list[PaperRecord]) -> dict[str, str]:
    return {str(r.arxiv_id): r.categories[0] for r in records}


def test_picks_follow_a_minority_topic_and_name_the_seed(
    rhub: Hub, records: list[PaperRecord]
) -> None:
    # math.DG is 35 of the 300 papers (12%): a ranker that ignored the seeds would pick ~1
    # of 10 from it.
    seeds = _ids(records, "math.DG", 8)
    picks = rhub.recommend.rank(Profile(seeds=tuple(Seed(i) for i in seeds)), limit=10)
    assert len(picks) == 10
    primary = _primary(records)
    assert Counter(primary[p.paper_id] for p in picks)["math.DG"] >= 4
    assert not {p.paper_id for p in picks} & set(seeds)
    titles = {r.arxiv_id: r.title for r in records}
    for pick in picks:
        assert pick.reason_paper_id in seeds
        assert pick.reason == f"close to {titles[pick.reason_paper_id]}"
    scores = [p.score for p in picks]
    assert scores[0] == max(scores)


def test_not_interested_is_never_picked_and_pushes_its_neighbours_down(
    rhub: Hub, records: list[PaperRecord]
) -> None:
    seeds = tuple(Seed(i) for i in _ids(records, "math.DG", 8))
    before = rhub.recommend.rank(Profile(seeds=seeds), limit=60)
    disliked = before[0].paper_id
    after = rhub.recommend.rank(Profile(seeds=seeds, negatives=frozenset({disliked})), limit=60)
    assert disliked not in {p.paper_id for p in after}
    # Against the same candidates (it left out), nothing gains and the papers near it lose.
    alike = rhub.recommend.rank(Profile(seeds=seeds), limit=60, exclude={disliked})
    was = {p.paper_id: p.score for p in alike}
    now = {p.paper_id: p.score for p in after}
    common = set(was) & set(now)
    assert len(common) >= 40
    assert all(now[i] <= was[i] + 1e-6 for i in common)
    assert sum(was[i] - now[i] > 0.01 for i in common) >= 3


def test_exclude_and_limit(rhub: Hub, records: list[PaperRecord]) -> None:
    seeds = tuple(Seed(i) for i in _ids(records, "math.DG", 5))
    first = rhub.recommend.rank(Profile(seeds=seeds), limit=5)
    again = rhub.recommend.rank(Profile(seeds=seeds), limit=5, exclude={first[0].paper_id})
    assert first[0].paper_id not in {p.paper_id for p in again}
    assert len(again) == 5
    for bad in (0, 10_001):
        with pytest.raises(InvalidInput):
            rhub.recommend.rank(Profile(seeds=seeds), limit=bad)


def test_cold_start_from_a_followed_category_and_author(
    rhub: Hub, records: list[PaperRecord]
) -> None:
    picks = rhub.recommend.rank(Profile(categories=("math.DG",)), limit=5)
    assert [p.reason for p in picks] == ["you follow math.DG"] * 5
    # Equal bonuses: the newest stored of the category, newest first (not the oldest).
    newest = [r.arxiv_id for r in records if "math.DG" in r.categories][::-1][:5]
    assert [p.paper_id for p in picks] == newest
    author = next(r.authors[0] for r in records if r.categories[0] == "math.PR")
    picks = rhub.recommend.rank(Profile(authors=(author,)), limit=3)
    assert picks and picks[0].reason == f"by {author} you follow"


def test_since_keeps_the_window_only(rhub: Hub, records: list[PaperRecord]) -> None:
    since = dt.date(2009, 1, 1)
    days = {str(r.arxiv_id): r.announced_on for r in records}
    seeds = tuple(Seed(i) for i in _ids(records, "math.AP", 10))
    picks = rhub.recommend.rank(Profile(seeds=seeds), since=since, limit=20)
    assert picks
    assert all(days[p.paper_id] and days[p.paper_id] >= since for p in picks)


def test_an_unknown_seed_is_ignored_and_an_empty_profile_gets_nothing(rhub: Hub) -> None:
    assert rhub.recommend.rank(Profile(seeds=(Seed("9999.99999"),)), limit=5) == []
    assert rhub.recommend.rank(Profile(), limit=5) == []
