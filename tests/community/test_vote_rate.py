"""Votes are rate-limited per reader: each is a write that refreshes every worker's cached
pages, so a script toggling one in a loop gets 429s instead of keeping the cache cold."""

from __future__ import annotations

import pytest

from paperroute.community import Community, RateLimited
from paperroute.community.service import VOTES_PER_MINUTE
from support.community import PAPERS, Clock, signed_in
from support.smtp import SmtpServer


def test_vote_toggling_is_rate_limited(
    community: Community, smtp_server: SmtpServer, clock: Clock
) -> None:
    reader = signed_in(community, smtp_server, "toggler@example.org")
    other = signed_in(community, smtp_server, "calm@example.org")
    clock.now = clock.now.replace(second=1)
    for _ in range(VOTES_PER_MINUTE):
        community.vote(reader, PAPERS[0])
    with pytest.raises(RateLimited) as refused:
        community.vote(reader, PAPERS[0])
    assert "votes" in str(refused.value) and refused.value.retry_after <= 60
    state = community.vote_state(community.paper_pk(PAPERS[0]), reader)
    assert state.voted is (VOTES_PER_MINUTE % 2 == 1)  # the refused toggle changed nothing
    assert community.vote(other, PAPERS[0]).voted  # one reader's limit is theirs alone
    clock.advance(seconds=60)
    community.vote(reader, PAPERS[0])
