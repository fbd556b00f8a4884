"""Upvotes: one per reader and paper. A paper's count is its readers' votes plus the upvotes
it had on Hugging Face (the highest a daily listing recorded), as in every list of the hub."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ..store.schema import daily_entries
from ..store.schema_community import votes
from .model import VoteState


def vote_state(connection: Connection, paper_pk: int, user_pk: int | None) -> VoteState:
    readers = connection.scalar(
        select(func.count()).select_from(votes).where(votes.c.paper_pk == paper_pk)
    )
    outside = connection.scalar(
        select(func.max(daily_entries.c.upvotes)).where(daily_entries.c.paper_pk == paper_pk)
    )
    voted = False
    if user_pk is not None:
        voted = (
            connection.scalar(
                select(votes.c.user_pk).where(
                    votes.c.paper_pk == paper_pk, votes.c.user_pk == user_pk
                )
            )
            is not None
        )
    return VoteState(paper_pk, int(readers or 0) + int(outside or 0), voted)


def set_vote(
    connection: Connection, paper_pk: int, user_pk: int, on: bool, now: datetime
) -> VoteState:
    """Add or take back a reader's vote; doing it twice changes nothing."""
    if on:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(
            dialect.insert(votes)
            .values(paper_pk=paper_pk, user_pk=user_pk, created_at=now)
            .on_conflict_do_nothing(index_elements=["paper_pk", "user_pk"])
        )
    else:
        connection.execute(
            delete(votes).where(votes.c.paper_pk == paper_pk, votes.c.user_pk == user_pk)
        )
    return vote_state(connection, paper_pk, user_pk)


def voted_paper_pks(connection: Connection, user_pk: int, *, limit: int = 200) -> list[int]:
    rows = connection.execute(
        select(votes.c.paper_pk)
        .where(votes.c.user_pk == user_pk)
        .order_by(votes.c.created_at.desc())
        .limit(limit)
    )
    return [int(r.paper_pk) for r in rows]
