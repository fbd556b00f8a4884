"""The digest's "For you" section: papers of the digest's window picked for one subscriber
by ``hub.recommend``'s ranker, each with its reason, never one the other sections hold or
the subscriber received before.

Whose signals: only those of the reader account at the subscriber's own address (both
normalised by ``site/``'s one normaliser; the subscription's double opt-in and the
account's sign-in link each proved that address), plus the seed papers the subscriber gave.
Nothing of any other reader is read, so a reader's private signals reach no one else's
digest. A subscriber with no signal, or a hub without vectors, gets no section: planning
goes on without it.

The ranking call is :func:`rank_requests`, one function over all of a run's requests: the
requests over one window are ranked in one batched call of the ranker.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from ..errors import NotFound, PaperrouteError
from ..reading import Card
from ..recommend import MAX_RECOMMEND_LIMIT, Profile, Recommender, Seed
from ..recommend import Pick as Recommended
from ..recommend.foryou import ForYou
from .model import Pick, Subscriber

log = logging.getLogger(__name__)

MAX_FOR_YOU = 5  # picks of the section, besides the digest's max_papers


@dataclass(frozen=True, slots=True)
class Request:
    """One subscriber's ranking: their profile, the papers of their window (pks), how many
    picks, and the paper ids never to pick (the other sections', those received before)."""

    profile: Profile
    among: frozenset[int]
    limit: int
    exclude: frozenset[str]


def rank_requests(
    recommender: Recommender, requests: Sequence[Request], ids: Mapping[int, str]
) -> list[list[Recommended]]:
    """The ranker's picks for each request, best first (an empty list where ranking
    failed: the section is left out of that digest, the run goes on). Requests over the same
    window are ranked together, one batched call of the ranker (``hub.recommend.for_many``:
    one matrix product per block of readers); ``ids`` maps the window's pks to paper ids."""
    groups: dict[frozenset[int], list[int]] = {}
    for n, request in enumerate(requests):
        groups.setdefault(request.among, []).append(n)
    found: list[list[Recommended]] = [[] for _ in requests]
    for among, members in groups.items():
        candidates = sorted(ids[pk] for pk in among if pk in ids)
        held = set(candidates)
        # Enough picks that each reader keeps ``limit`` after their own exclusions.
        k = max(requests[n].limit + len(held & requests[n].exclude) for n in members)
        try:
            ranked = recommender.for_many(
                {n: requests[n].profile for n in members},
                candidates,
                min(k, MAX_RECOMMEND_LIMIT),
            )
        except PaperrouteError as exc:
            log.warning("For-you picks left out of %d digests: %s", len(members), exc)
            continue
        for n in members:
            request = requests[n]
            kept = [pick for pick in ranked[n] if pick.paper_id not in request.exclude]
            found[n] = kept[: request.limit]
    return found


class ForYouPicker:
    """Builds each subscriber's profile and turns the ranker's picks into the section.
    Thread-safe as the Recommender and ForYou it holds are."""

    def __init__(self, recommender: Recommender, foryou: ForYou) -> None:
        self.recommender = recommender
        self.foryou = foryou

    def account(self, subscriber: Subscriber) -> int | None:
        """The reader account at the subscriber's address, if there is one."""
        try:
            return self.recommender.account_for_email(subscriber.email)
        except NotFound:
            return None

    def profile(self, subscriber: Subscriber, *, with_account: bool = True) -> Profile:
        """The linked reader's profile (``with_account``) and the subscriber's seeds."""
        account = self.account(subscriber) if with_account else None
        profile = self.foryou.profile(account) if account is not None else Profile()
        held = {seed.paper_id for seed in profile.seeds}
        extra = tuple(
            Seed(paper_id, "library")
            for paper_id in subscriber.prefs.seeds
            if paper_id not in held and paper_id not in profile.negatives
        )
        return replace(profile, seeds=profile.seeds + extra) if extra else profile

    def request(
        self,
        subscriber: Subscriber,
        ids: Mapping[int, str],
        window: frozenset[int],
        taken: Sequence[Pick],
        received: set[int],
        *,
        with_account: bool = True,
    ) -> Request | None:
        """What to ask the ranker for this subscriber; None when there is nothing to ask
        with (the section is left out). ``ids``: the candidates' paper ids by pk;
        ``window``: the pks of the candidates listed in the subscriber's window."""
        if not subscriber.prefs.for_you:
            return None
        profile = self.profile(subscriber, with_account=with_account)
        if profile.empty:
            return None
        exclude = {ids[p.paper_pk] for p in taken if p.paper_pk in ids}
        exclude |= {ids[pk] for pk in received if pk in ids}
        limit = min(MAX_FOR_YOU, subscriber.prefs.max_papers)
        return Request(profile, window, limit, frozenset(exclude))


def section(
    by_id: Mapping[str, Card], request: Request, ranked: Sequence[Recommended]
) -> list[Pick]:
    """The section's picks: the ranked papers of the subscriber's window (``by_id``: the
    run's candidates), not excluded, in the ranker's order, with the ranker's reason."""
    picks: list[Pick] = []
    for item in ranked:
        card = by_id.get(item.paper_id)
        if card is None or card.pk not in request.among or item.paper_id in request.exclude:
            continue
        picks.append(Pick(card.pk, item.reason, "for_you"))
        if len(picks) == request.limit:
            break
    return picks
