"""Moderation: hidden papers and the audit log every moderator action (and submission) writes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from ..store.schema_community import audit_log, hidden_papers, users
from ._text import clean_text
from .model import AuditEntry

MAX_REASON = 500


def record(
    connection: Connection,
    actor_pk: int | None,
    action: str,
    target: str,
    detail: str,
    now: datetime,
) -> None:
    connection.execute(
        insert(audit_log).values(
            at=now,
            actor_pk=actor_pk,
            action=action[:40],
            target=clean_text(target, "a target"),
            detail=clean_text(detail, "a reason")[:2000],
        )
    )


def set_paper_hidden(
    connection: Connection, paper_pk: int, actor_pk: int, hidden: bool, reason: str, now: datetime
) -> None:
    if hidden:
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        connection.execute(
            dialect.insert(hidden_papers)
            .values(
                paper_pk=paper_pk, hidden_by=actor_pk, reason=reason[:MAX_REASON], hidden_at=now
            )
            .on_conflict_do_nothing(index_elements=["paper_pk"])
        )
    else:
        connection.execute(delete(hidden_papers).where(hidden_papers.c.paper_pk == paper_pk))


def is_hidden(connection: Connection, paper_pk: int) -> bool:
    found = connection.scalar(
        select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == paper_pk)
    )
    return found is not None


def recent(connection: Connection, *, limit: int = 100) -> list[AuditEntry]:
    rows = connection.execute(
        select(audit_log, users.c.email)
        .outerjoin(users, users.c.pk == audit_log.c.actor_pk)
        .order_by(audit_log.c.pk.desc())
        .limit(limit)
    )
    return [
        AuditEntry(
            pk=int(r.pk),
            at=r.at,
            actor=r.email,
            action=str(r.action),
            target=str(r.target),
            detail=str(r.detail),
        )
        for r in rows
    ]
