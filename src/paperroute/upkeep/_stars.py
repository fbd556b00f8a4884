"""Code stars from GitHub's REST API: which repositories papers link to, claims on them, and
what one answer means. Internal to ``upkeep``.

One ``GET /repos/{owner}/{repo}`` per repository, conditional on the ETag of the previous
answer (a 304 costs no rate limit); ``X-RateLimit-Remaining: 0`` on a 403 or 429 stops the
run until ``X-RateLimit-Reset`` (kept in ``harvest_state`` so the next run waits too).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, or_, select, update

from ..sources.common import MAX_COUNT
from ..store.bulk import bulk_insert
from ..store.schema import papers
from ..store.schema_upkeep import code_repos

OK, MISSING, FAILED, NEW = "ok", "missing", "failed", "new"
RATE_LIMIT_KEY = "github|rate-limit"
_REPO = re.compile(
    r"^https?://(?:www\.)?github\.com/(?P<owner>[\w.\-]+)/(?P<repo>[\w.\-]+)", re.IGNORECASE
)
_NOT_OWNERS = {"features", "about", "orgs", "topics", "marketplace", "sponsors", "settings"}


def repo_of(url: str | None) -> str | None:
    """``owner/name`` (case-folded, without ``.git``) of a GitHub repository URL, else None."""
    match = _REPO.match(url or "")
    if match is None or match["owner"].lower() in _NOT_OWNERS:
        return None
    name = match["repo"].removesuffix(".git")
    if not name or name in {".", ".."}:
        return None
    return f"{match['owner']}/{name}".lower()[:200]


def linked_repos(connection: Connection) -> dict[str, list[int]]:
    """Every GitHub repository papers link to, with the papers (pks) linking to it."""
    found: dict[str, list[int]] = {}
    query = select(papers.c.pk, papers.c.code_url).where(papers.c.code_url.like("%github.com/%"))
    for pk, url in connection.execute(query):
        repo = repo_of(url)
        if repo is not None:
            found.setdefault(repo, []).append(int(pk))
    return found


def seed(connection: Connection, repos: Iterable[str]) -> None:
    bulk_insert(
        connection,
        code_repos,
        ("repo", "status"),
        [(repo, NEW) for repo in sorted(set(repos))],
        conflict=("repo",),
    )


def _eligible(now: dt.datetime, due: dt.datetime) -> list[ColumnElement[bool]]:
    return [
        or_(code_repos.c.checked_at.is_(None), code_repos.c.checked_at <= due),
        or_(code_repos.c.claimed_until.is_(None), code_repos.c.claimed_until < now),
    ]


def claim(
    connection: Connection,
    token: str,
    now: dt.datetime,
    until: dt.datetime,
    due: dt.datetime,
    size: int,
    among: Sequence[str],
) -> list[tuple[str, str | None]]:
    """Claim up to ``size`` repositories of ``among`` not checked since ``due`` (never
    checked first, then the longest unchecked): [(repo, etag)]."""
    wanted = (
        select(code_repos.c.repo)
        .where(code_repos.c.repo.in_(list(among)), *_eligible(now, due))
        .order_by(code_repos.c.checked_at.is_not(None), code_repos.c.checked_at, code_repos.c.repo)
        .limit(size)
    )
    connection.execute(
        update(code_repos)
        .where(code_repos.c.repo.in_(wanted), *_eligible(now, due))
        .values(claimed_by=token, claimed_until=until)
    )
    rows = connection.execute(
        select(code_repos.c.repo, code_repos.c.etag)
        .where(code_repos.c.claimed_by == token, code_repos.c.claimed_until == until)
        .order_by(code_repos.c.repo)
    )
    return [(str(repo), etag) for repo, etag in rows]


def record(
    connection: Connection,
    token: str,
    repo: str,
    now: dt.datetime,
    *,
    status: str,
    stars: int | None = None,
    etag: str | None = None,
    error: str | None = None,
    paper_pks: Sequence[int] = (),
) -> bool:
    """Store one repository's outcome and release its claim; with ``stars``, the linking
    papers' stars too (touching ``modified_at`` only where they change). True when a
    paper's stars changed."""
    values: dict[str, object] = {
        "status": status,
        "checked_at": now,
        "last_error": (error or "")[:2000] or None,
        "claimed_by": None,
        "claimed_until": None,
    }
    if stars is not None:
        values["stars"] = stars
    if etag is not None or status != OK:
        values["etag"] = etag
    connection.execute(
        update(code_repos)
        .where(code_repos.c.repo == repo, code_repos.c.claimed_by == token)
        .values(values)
    )
    if stars is None or not paper_pks:
        return False
    changed = connection.execute(
        update(papers)
        .where(papers.c.pk.in_(list(paper_pks)), papers.c.code_stars.is_distinct_from(stars))
        .values(code_stars=stars, modified_at=now)
    )
    return bool(changed.rowcount)


def release(connection: Connection, token: str) -> None:
    connection.execute(
        update(code_repos)
        .where(code_repos.c.claimed_by == token)
        .values(claimed_by=None, claimed_until=None)
    )


@dataclass(frozen=True, slots=True)
class Stars:
    """What a 200 answer says: the repository's stars, or why it cannot be read."""

    stars: int | None
    error: str | None = None


def parse_repo(body: bytes) -> Stars:
    """``stargazers_count`` of a ``GET /repos/{owner}/{repo}`` answer; never raises."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        return Stars(None, f"GitHub answered malformed JSON ({type(exc).__name__}: {exc})"[:300])
    count = data.get("stargazers_count") if isinstance(data, dict) else None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return Stars(None, f"GitHub's answer has no valid stargazers_count ({count!r:.40})")
    # JSON integers have no bound; the columns are 32-bit (as build_record clamps them).
    return Stars(min(count, MAX_COUNT))


def reset_time(value: str | None) -> dt.datetime | None:
    """``X-RateLimit-Reset`` (epoch seconds) as a UTC time, or None when unreadable."""
    try:
        seconds = int((value or "").strip())
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    except (ValueError, OverflowError, OSError):
        return None
