"""Trending's pure scoring (paperroute.reading.scoring): weights from the configuration, each
term of the documented formula (docs/trending.md), decay and recency over age, the ``all``
window, ranking order, and the API's formula text. No database."""

from __future__ import annotations

import datetime as dt
import math
from itertools import pairwise

import pytest

from paperroute import Config
from paperroute.reading.scoring import (
    WINDOW_DAYS,
    Candidate,
    Weights,
    fade,
    formula,
    rank,
    reference_time,
    score,
    window_start,
)

REF = dt.datetime(2026, 8, 22, tzinfo=dt.UTC)
W = Weights(gravity=1.8, upvote_weight=2.0, star_weight=0.25, recency_weight=3.0,
            recency_half_life=4.0)  # fmt: skip


def _paper(
    up: int = 0, votes: int = 0, stars: int | None = None, age: float = 1.0, pk: int = 1
) -> Candidate:
    return Candidate(pk, f"p{pk}", up, votes, stars, REF - dt.timedelta(days=age))


def test_weights_default_to_the_documented_values_and_come_from_the_configuration() -> None:
    assert Weights() == Weights(1.5, 1.0, 0.5, 1.0, 3.0, 30.0)
    assert Weights.from_config(Config()) == Weights()
    config = Config(
        trending_gravity=2.5,
        trending_upvote_weight=0.75,
        trending_star_weight=0.0,
        trending_recency_weight=4.0,
        trending_recency_half_life=7.0,
        trending_month_half_life=12.0,
    )
    assert Weights.from_config(config) == Weights(
        gravity=2.5, upvote_weight=0.75, star_weight=0.0, recency_weight=4.0,
        recency_half_life=7.0, month_half_life=12.0,
    )  # fmt: skip


def test_each_term_is_the_documented_formula() -> None:
    t = score(_paper(up=10, votes=3, stars=99, age=2.5), REF, W, "week")
    assert (t.pk, t.id, t.upvotes, t.hf_upvotes, t.votes, t.stars) == (1, "p1", 13, 10, 3, 99)
    assert t.age_days == pytest.approx(2.5)
    assert t.upvote_term == pytest.approx(2.0 * 13 / 3.5**1.8)
    assert t.star_term == pytest.approx(0.25 * 2.0)  # log10(1 + 99) = 2
    assert t.recency_term == pytest.approx(3.0 * 0.5 ** (2.5 / 4.0))
    assert t.score == pytest.approx(
        2.0 * 13 / 3.5**1.8 + 0.25 * 2.0 + 3.0 * 0.5 ** (2.5 / 4.0), rel=1e-12
    )


@pytest.mark.parametrize("window", ["week", "month", "all"])
@pytest.mark.parametrize(
    ("up", "votes", "stars", "age"),
    [(0, 0, None, 0.0), (7, 0, 3, 1.0), (0, 5, None, 10.0), (120, 9, 4321, 0.3), (1, 1, -4, 40)],
)
def test_the_score_is_exactly_the_sum_of_its_terms(
    window: str, up: int, votes: int, stars: int | None, age: float
) -> None:
    t = score(_paper(up=up, votes=votes, stars=stars, age=age), REF, W, window)
    assert t.score == t.upvote_term + t.star_term + t.recency_term
    assert min(t.upvote_term, t.star_term, t.recency_term) >= 0


def test_unknown_or_negative_stars_count_nothing() -> None:
    assert score(_paper(stars=None), REF, W, "week").star_term == 0.0
    assert score(_paper(stars=-12), REF, W, "week").star_term == 0.0
    assert score(_paper(stars=0), REF, W, "week").star_term == 0.0
    assert score(_paper(stars=9), REF, W, "week").star_term == pytest.approx(0.25)


def test_the_score_grows_with_upvotes_votes_and_stars() -> None:
    base = score(_paper(up=5, votes=1, stars=10, age=2), REF, W, "week").score
    assert score(_paper(up=6, votes=1, stars=10, age=2), REF, W, "week").score > base
    assert score(_paper(up=5, votes=2, stars=10, age=2), REF, W, "week").score > base
    assert score(_paper(up=5, votes=1, stars=11, age=2), REF, W, "week").score > base
    # a reader's vote weighs exactly as a Hugging Face upvote
    assert score(_paper(up=6, votes=0, age=2), REF, W, "week").score == pytest.approx(
        score(_paper(up=5, votes=1, age=2), REF, W, "week").score
    )


def test_upvotes_decay_with_age_and_recency_halves_every_half_life() -> None:
    ages = [0.0, 0.5, 1.0, 2.0, 4.0, 8.0, 29.0]
    terms = [score(_paper(up=50, stars=100, age=a), REF, W, "week") for a in ages]
    assert all(a.score > b.score for a, b in pairwise(terms))
    assert all(a.upvote_term > b.upvote_term for a, b in pairwise(terms))
    assert len({t.star_term for t in terms}) == 1  # stars do not fade
    fresh = score(_paper(age=0.0), REF, W, "week")
    assert fresh.recency_term == pytest.approx(3.0)
    assert score(_paper(age=4.0), REF, W, "week").recency_term == pytest.approx(1.5)
    assert score(_paper(age=8.0), REF, W, "week").recency_term == pytest.approx(0.75)
    # HN-style decay: at age a the upvotes count (a + 1) ** -gravity of what they did at 0
    at_zero = score(_paper(up=50, age=0.0), REF, W, "week").upvote_term
    at_one = score(_paper(up=50, age=1.0), REF, W, "week").upvote_term
    assert at_zero == pytest.approx(2.0 * 50)
    assert at_one == pytest.approx(at_zero * 2**-1.8)


def test_a_listing_after_the_reference_has_age_zero() -> None:
    t = score(_paper(up=4, age=-2.0), REF, W, "week")
    assert t.age_days == 0.0 and t.upvote_term == pytest.approx(8.0)


def test_the_all_window_has_no_decay_and_no_recency() -> None:
    young = score(_paper(up=30, stars=999, age=0.0), REF, W, "all")
    old = score(_paper(up=30, stars=999, age=400.0), REF, W, "all")
    assert young.upvote_term == old.upvote_term == pytest.approx(60.0)
    assert young.recency_term == old.recency_term == 0.0
    assert old.star_term == pytest.approx(0.25 * 3.0)
    assert old.age_days == pytest.approx(400.0)


def test_no_recency_when_its_half_life_is_not_positive() -> None:
    flat = Weights(recency_half_life=0.0)
    assert score(_paper(age=1.0), REF, flat, "week").recency_term == 0.0


def test_reference_time_is_the_end_of_the_newest_listed_day() -> None:
    assert reference_time(None) is None
    assert reference_time(dt.date(2026, 8, 21)) == dt.datetime(2026, 8, 22, tzinfo=dt.UTC)


def test_windows_keep_the_last_seven_or_thirty_days() -> None:
    assert WINDOW_DAYS == {"week": 7, "month": 30, "all": None}
    assert window_start(REF, "week") == REF - dt.timedelta(days=7)
    assert window_start(REF, "month") == REF - dt.timedelta(days=30)
    assert window_start(REF, "all") is None


def test_rank_orders_by_score_then_age_then_id_and_keeps_the_window() -> None:
    papers = [
        _paper(pk=1, up=3, age=1.0),
        _paper(pk=2, up=30, age=1.0),
        _paper(pk=3, up=3, age=1.0),  # ties with 1: by id
        _paper(pk=4, up=500, age=7.5),  # outside the week
        _paper(pk=5, up=0, age=0.0),
        _paper(pk=6, up=0, age=7.0),  # exactly on the window's edge: kept
    ]
    week = rank(papers, REF, Weights(), "week")
    assert [t.pk for t in week] == [2, 1, 3, 5, 6]
    assert [t.score for t in week] == sorted((t.score for t in week), reverse=True)
    everything = rank(papers, REF, Weights(), "all")
    assert [t.pk for t in everything][:2] == [4, 2] and len(everything) == 6
    equal = rank([_paper(pk=8, age=2.0), _paper(pk=9, age=1.0)], REF, Weights(0, 0, 0, 0), "all")
    assert [t.pk for t in equal] == [9, 8]  # equal scores: the younger first


def test_the_month_fades_gently_by_its_half_life_and_has_no_recency_term() -> None:
    w = Weights(gravity=1.8, upvote_weight=2.0, star_weight=0.25, recency_weight=3.0,
                recency_half_life=4.0, month_half_life=10.0)  # fmt: skip
    fresh = score(_paper(up=40, stars=99, age=0.0), REF, w, "month")
    assert fresh.upvote_term == pytest.approx(80.0) and fresh.recency_term == 0.0
    assert fresh.star_term == pytest.approx(0.5)
    halved = score(_paper(up=40, age=10.0), REF, w, "month")
    assert halved.upvote_term == pytest.approx(40.0)  # one half-life: half the upvotes
    assert score(_paper(up=40, age=20.0), REF, w, "month").upvote_term == pytest.approx(20.0)
    ages = [0.0, 1.0, 5.0, 15.0, 29.0]
    terms = [score(_paper(up=50, age=a), REF, w, "month") for a in ages]
    assert all(a.score > b.score for a, b in pairwise(terms))
    assert all(t.recency_term == 0.0 for t in terms)


def test_each_window_ranks_by_what_its_name_promises() -> None:
    """The demo month's case: a much-upvoted paper three weeks old against fresh ones with
    fewer upvotes. The week's steep fade buries it; the month keeps it near the top; all
    time ranks by upvotes alone, whatever the age."""
    papers = [
        _paper(pk=1, up=181, age=25.0),
        _paper(pk=2, up=163, age=1.0),
        _paper(pk=3, up=92, age=2.0),
        _paper(pk=4, up=74, age=2.0),
        _paper(pk=5, up=20, age=0.5),
        _paper(pk=6, up=145, age=22.0),
    ]
    month = [t.pk for t in rank(papers, REF, Weights(), "month")]
    assert month == [2, 1, 3, 6, 4, 5]
    assert [t.pk for t in rank(papers, REF, Weights(), "week")] == [2, 3, 4, 5]
    week_terms = [score(p, REF, Weights(), "week") for p in papers]
    assert [t.pk for t in sorted(week_terms, key=lambda t: -t.score)][-2:] == [1, 6]
    assert [t.pk for t in rank(papers, REF, Weights(), "all")] == [1, 2, 6, 3, 4, 5]


def test_the_formula_text_states_the_weights() -> None:
    assert formula(Weights(), "week") == (
        "1.0*upvotes/(age_days+1)^1.5 + 0.5*log10(1+stars) + 1.0*0.5^(age_days/3.0)"
    )
    assert formula(Weights(), "month") == (
        "1.0*upvotes*0.5^(age_days/30.0) + 0.5*log10(1+stars)"
        " (month: a gentle fade, no recency term)"
    )
    assert formula(W, "all") == (
        "2.0*upvotes + 0.25*log10(1+stars) (all: no fading, no recency term)"
    )
    assert "recency" not in formula(W, "all").split("(")[0]
    assert math.isfinite(score(_paper(up=10**9, stars=10**12), REF, W, "all").score)


def test_the_fade_of_each_window_as_the_cli_writes_it() -> None:
    assert fade(Weights(), "week") == "U/(age+1)^1.5"
    assert fade(Weights(), "month") == "U·0.5^(age/30.0)"
    assert fade(Weights(), "all") == "U"
