"""The reading feature's SQL: cards for lists, days with papers, daily / weekly / monthly
listings, authors, categories, and what trending's score is computed from. Internal: the
``Reading`` service (service.py) runs these inside one ``Database.read()`` connection.

Every list leaves out papers a moderator hid (``hidden_papers``) and counts reader votes and
visible comments from the community tables, plus Hugging Face's upvotes from daily entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Select,
    and_,
    case,
    func,
    or_,
    select,
)

from ..ids import fold_name
from ..store.schema import authors, daily_entries, paper_authors, paper_categories, papers
from ..store.schema_community import comments, hidden_papers, votes
from ..store.schema_upkeep import inferred_categories
from ..store.types import as_date
from .model import Card, ListView, Page
from .scoring import Candidate

MAX_PAGE = 200
EVERYTHING = ListView()


def storable(text: str) -> bool:
    """Whether ``text`` can be looked up at all: PostgreSQL refuses NUL characters and
    neither database stores lone surrogates, so such names match nothing."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def visible(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """``column`` (a paper pk) is not hidden by a moderator."""
    return ~select(hidden_papers.c.paper_pk).where(hidden_papers.c.paper_pk == column).exists()


def narrowed(pk: ColumnElement[int], view: ListView) -> list[ColumnElement[bool]]:
    """The conditions that keep only the papers (``pk``) ``view`` lets through."""
    conditions: list[ColumnElement[bool]] = []
    if view.category is not None:
        conditions.append(pk.in_(in_category_pks(view.category)))
    if view.has_code:
        coded = papers.alias("coded")  # its own FROM, whichever query it narrows
        conditions.append(
            select(coded.c.pk)
            .where(coded.c.pk == pk, coded.c.code_url.is_not(None), coded.c.code_url != "")
            .exists()
        )
    return conditions


def ordered(view: ListView, default: Sequence[Any]) -> list[Any]:
    """ORDER BY terms for ``view.sort`` (``papers`` must be joined); ``default`` is the
    list's own order, also the tie-breaker. Nulls go last on both databases."""
    if view.sort == "newest":
        newest = papers.c.submitted_at
        return [newest.is_(None), newest.desc(), papers.c.announced_on.desc(), papers.c.id.desc()]
    if view.sort == "stars":
        return [papers.c.code_stars.is_(None), papers.c.code_stars.desc(), *default]
    return list(default)


def load_cards(connection: Connection, pks: Sequence[int]) -> list[Card]:
    """Cards for ``pks``, in that order; hidden and unknown papers are left out."""
    if not pks:
        return []
    wanted = list(dict.fromkeys(pks))
    rows = {
        row.pk: row
        for row in connection.execute(
            select(papers).where(papers.c.pk.in_(wanted), visible(papers.c.pk))
        )
    }
    if not rows:
        return []
    keys = list(rows)
    names: dict[int, list[str]] = {pk: [] for pk in keys}
    for paper_pk, name in connection.execute(
        select(paper_authors.c.paper_pk, authors.c.name)
        .join(authors, authors.c.pk == paper_authors.c.author_pk)
        .where(paper_authors.c.paper_pk.in_(keys))
        .order_by(paper_authors.c.paper_pk, paper_authors.c.position)
    ):
        names[paper_pk].append(name)
    cats: dict[int, list[str]] = {pk: [] for pk in keys}
    for paper_pk, category in connection.execute(
        select(paper_categories.c.paper_pk, paper_categories.c.category)
        .where(paper_categories.c.paper_pk.in_(keys))
        .order_by(paper_categories.c.paper_pk, paper_categories.c.position)
    ):
        cats[paper_pk].append(category)
    inferred: dict[int, list[str]] = {pk: [] for pk in keys}
    for paper_pk, category in connection.execute(
        select(inferred_categories.c.paper_pk, inferred_categories.c.category)
        .where(inferred_categories.c.paper_pk.in_(keys))
        .order_by(inferred_categories.c.paper_pk, inferred_categories.c.position)
    ):
        inferred[paper_pk].append(category)
    hf: dict[int, tuple[int, int, str | None, dt.date | None]] = {}
    for paper_pk, up, n_comments, submitter, first_day in connection.execute(
        select(
            daily_entries.c.paper_pk,
            func.max(daily_entries.c.upvotes),
            func.max(daily_entries.c.num_comments),
            func.max(daily_entries.c.submitter),
            func.min(daily_entries.c.day),
        )
        .where(daily_entries.c.paper_pk.in_(keys))
        .group_by(daily_entries.c.paper_pk)
    ):
        hf[paper_pk] = (up or 0, n_comments or 0, submitter, as_date(first_day))
    vote_counts: dict[int, int] = dict(
        connection.execute(
            select(votes.c.paper_pk, func.count())
            .where(votes.c.paper_pk.in_(keys))
            .group_by(votes.c.paper_pk)
        ).all()
    )
    comment_counts: dict[int, int] = dict(
        connection.execute(
            select(comments.c.paper_pk, func.count())
            .where(comments.c.paper_pk.in_(keys), comments.c.hidden_at.is_(None))
            .group_by(comments.c.paper_pk)
        ).all()
    )
    cards = []
    for pk in wanted:
        row = rows.get(pk)
        if row is None:
            continue
        up, n_comments, submitter, first_day = hf.get(pk, (0, 0, None, None))
        cards.append(
            Card(
                pk=pk,
                id=row.id,
                title=row.title,
                abstract=row.abstract,
                authors=tuple(names[pk]),
                categories=tuple(cats[pk]),
                day=first_day or as_date(row.announced_on),
                submitted_at=row.submitted_at,
                code_url=row.code_url,
                code_stars=row.code_stars,
                project_url=row.project_url,
                abs_url=row.abs_url,
                pdf_url=row.pdf_url,
                hf_upvotes=up,
                votes=int(vote_counts.get(pk, 0)),
                comments=int(comment_counts.get(pk, 0)),
                hf_comments=n_comments,
                submitter=submitter,
                inferred_categories=tuple(inferred[pk]) if not cats[pk] else (),
            )
        )
    return cards


def first_listed(
    connection: Connection, pks: Sequence[int], source: str, start: dt.date, end: dt.date
) -> dict[int, dt.date]:
    """Each paper's first listing day by ``source`` within [start, end]."""
    if not pks:
        return {}
    rows = connection.execute(
        select(daily_entries.c.paper_pk, func.min(daily_entries.c.day))
        .where(
            daily_entries.c.paper_pk.in_(list(pks)),
            daily_entries.c.source == source,
            daily_entries.c.day.between(start, end),
        )
        .group_by(daily_entries.c.paper_pk)
    )
    return {pk: day for pk, value in rows if (day := as_date(value)) is not None}


def listing_days(connection: Connection) -> list[dt.date]:
    """Every day that has a listing, oldest first."""
    rows = connection.execute(select(daily_entries.c.day).distinct().order_by(daily_entries.c.day))
    return [day for (value,) in rows if (day := as_date(value)) is not None]


def newest_day(connection: Connection) -> dt.date | None:
    return as_date(connection.scalar(select(func.max(daily_entries.c.day))))


def neighbour_days(connection: Connection, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
    """The nearest days before and after ``day`` that have listings."""
    before = connection.scalar(
        select(func.max(daily_entries.c.day)).where(daily_entries.c.day < day)
    )
    after = connection.scalar(
        select(func.min(daily_entries.c.day)).where(daily_entries.c.day > day)
    )
    return as_date(before), as_date(after)


def _upvote_rank(
    start: dt.date, end: dt.date, view: ListView = EVERYTHING
) -> Select[tuple[int, int]]:
    """(paper_pk, score) of Hugging Face entries in [start, end]: HF upvotes + reader votes,
    most upvoted first (or as ``view`` sorts), narrowed by ``view``."""
    reader = select(votes.c.paper_pk, func.count().label("n")).group_by(votes.c.paper_pk).subquery()
    hf = (
        select(
            daily_entries.c.paper_pk.label("pk"),
            func.max(daily_entries.c.upvotes).label("up"),
            func.min(daily_entries.c.day).label("day"),
        )
        .where(daily_entries.c.source == "hf", daily_entries.c.day.between(start, end))
        .group_by(daily_entries.c.paper_pk)
        .subquery()
    )
    score = (func.coalesce(hf.c.up, 0) + func.coalesce(reader.c.n, 0)).label("score")
    return (
        select(hf.c.pk, score)
        .join(papers, papers.c.pk == hf.c.pk)
        .outerjoin(reader, reader.c.paper_pk == hf.c.pk)
        .where(visible(hf.c.pk), *narrowed(hf.c.pk, view))
        .order_by(*ordered(view, (score.desc(), hf.c.day.desc(), hf.c.pk)))
    )


def top_between(
    connection: Connection,
    start: dt.date,
    end: dt.date,
    *,
    offset: int = 0,
    limit: int = 30,
    view: ListView = EVERYTHING,
) -> Page:
    """Hugging Face papers listed in [start, end], most upvoted first (HF + reader votes),
    or as ``view`` narrows and sorts them."""
    ranked = _upvote_rank(start, end, view).subquery()
    total = connection.scalar(select(func.count()).select_from(ranked)) or 0
    pks = [pk for (pk,) in connection.execute(select(ranked.c.pk).offset(offset).limit(limit))]
    return Page(load_cards(connection, pks), total, offset, limit)


def arxiv_listed(
    connection: Connection,
    day: dt.date,
    *,
    offset: int = 0,
    limit: int = 50,
    view: ListView = EVERYTHING,
) -> Page:
    """arXiv listings of ``day`` (that Hugging Face did not also list that day), by id
    (newest first), or as ``view`` narrows and sorts them ("upvotes" keeps the id order:
    arXiv listings carry no Hugging Face upvotes)."""
    hf_same_day = (
        select(daily_entries.c.paper_pk)
        .where(daily_entries.c.source == "hf", daily_entries.c.day == day)
        .scalar_subquery()
    )
    condition = and_(
        daily_entries.c.source == "arxiv",
        daily_entries.c.day == day,
        daily_entries.c.paper_pk.not_in(hf_same_day),
        visible(daily_entries.c.paper_pk),
        *narrowed(daily_entries.c.paper_pk, view),
    )
    total = connection.scalar(select(func.count()).where(condition)) or 0
    pks = [
        pk
        for (pk,) in connection.execute(
            select(daily_entries.c.paper_pk)
            .join(papers, papers.c.pk == daily_entries.c.paper_pk)
            .where(condition)
            .order_by(*ordered(view, (papers.c.id.desc(),)))
            .offset(offset)
            .limit(limit)
        )
    ]
    return Page(load_cards(connection, pks), total, offset, limit)


def find_author(connection: Connection, name: str) -> tuple[int, str] | None:
    """(pk, stored spelling) of the author ``name`` names, up to case and spacing, else up to
    accents too ("Altar Luser" finds "Altar Lüser"); None when nobody has that name."""
    if not storable(name):
        return None
    key = " ".join(name.split()).casefold()
    folded = fold_name(name)
    for wanted in dict.fromkeys((key, folded)):
        row = connection.execute(
            select(authors.c.pk, authors.c.name).where(authors.c.name_key == wanted)
        ).first()
        if row is not None:
            return int(row.pk), str(row.name)
    # An accented spelling typed without its accents: only names of about the same length
    # (a letter may fold to two, "ß" -> "ss", or be stored decomposed) are folded and compared.
    size = len(folded)
    candidates = connection.execute(
        select(authors.c.pk, authors.c.name, authors.c.name_key)
        .where(func.length(authors.c.name_key).between(size - 2, size + 2))
        .order_by(authors.c.pk)
    )
    for pk, stored, stored_key in candidates:
        if stored_key != fold_name(stored_key) and fold_name(stored_key) == folded:
            return int(pk), str(stored)
    return None


def by_author(connection: Connection, author_pk: int, *, offset: int = 0, limit: int = 30) -> Page:
    """Papers by an author (its pk: ``find_author``), newest first."""
    condition = paper_authors.c.author_pk == author_pk
    return _linked_newest_first(connection, paper_authors.c.paper_pk, condition, offset, limit)


def canonical_category(connection: Connection, category: str) -> str | None:
    """The stored spelling of a category up to case ("cs.cl" -> "cs.CL"), None if unknown."""
    if not storable(category) or len(category) > 60:
        return None
    found: str | None = connection.scalar(
        select(paper_categories.c.category)
        .where(func.lower(paper_categories.c.category) == category.lower())
        .order_by(paper_categories.c.category)
        .limit(1)
    )
    return found


def in_category_pks(category: str) -> Select[tuple[int]]:
    """The pks of the papers in ``category``: those the source put there (any position), and
    those without categories of their own it was inferred for (marked where shown)."""
    own = select(paper_categories.c.paper_pk).where(paper_categories.c.category == category)
    has_own = (
        select(paper_categories.c.paper_pk)
        .where(paper_categories.c.paper_pk == inferred_categories.c.paper_pk)
        .exists()
    )
    inferred = select(inferred_categories.c.paper_pk).where(
        inferred_categories.c.category == category, ~has_own
    )
    return own.union(inferred)  # type: ignore[return-value]


def in_category(connection: Connection, category: str, *, offset: int = 0, limit: int = 30) -> Page:
    """Papers in a category (any position, or inferred), newest first."""
    if not storable(category):
        return Page([], 0, offset, limit)
    condition = and_(papers.c.pk.in_(in_category_pks(category)), visible(papers.c.pk))
    total = connection.scalar(select(func.count()).select_from(papers).where(condition))
    pks = connection.execute(
        select(papers.c.pk)
        .where(condition)
        .order_by(papers.c.announced_on.desc(), papers.c.id.desc())
        .offset(offset)
        .limit(limit)
    ).scalars()
    return Page(load_cards(connection, list(pks)), total or 0, offset, limit)


def _linked_newest_first(
    connection: Connection,
    paper_pk: Column[int],
    condition: ColumnElement[bool],
    offset: int,
    limit: int,
) -> Page:
    """A page of the visible papers that rows of ``paper_pk``'s link table (paper_authors,
    paper_categories) matching ``condition`` point to, newest first."""
    condition = and_(condition, visible(paper_pk))
    total = connection.scalar(select(func.count()).select_from(paper_pk.table).where(condition))
    pks = [
        pk
        for (pk,) in connection.execute(
            select(paper_pk)
            .join(papers, papers.c.pk == paper_pk)
            .where(condition)
            .order_by(papers.c.announced_on.desc(), papers.c.id.desc())
            .offset(offset)
            .limit(limit)
        )
    ]
    return Page(load_cards(connection, pks), total or 0, offset, limit)


def categories(connection: Connection) -> list[tuple[str, int]]:
    """Every category with its number of (visible) papers, largest first; a paper without
    categories of its own counts in those inferred for it."""
    has_own = (
        select(paper_categories.c.paper_pk)
        .where(paper_categories.c.paper_pk == inferred_categories.c.paper_pk)
        .exists()
    )
    both = (
        select(paper_categories.c.category.label("category"), paper_categories.c.paper_pk)
        .where(visible(paper_categories.c.paper_pk))
        .union_all(
            select(inferred_categories.c.category, inferred_categories.c.paper_pk).where(
                visible(inferred_categories.c.paper_pk), ~has_own
            )
        )
        .subquery()
    )
    count = func.count()
    rows = connection.execute(
        select(both.c.category, count)
        .group_by(both.c.category)
        .order_by(count.desc(), both.c.category)
    )
    return [(category, int(n)) for category, n in rows]


def paper_pk(connection: Connection, paper_id: str) -> int | None:
    """The pk of a visible paper with exactly this public id."""
    if not storable(paper_id):
        return None
    pk = connection.scalar(select(papers.c.pk).where(papers.c.id == paper_id, visible(papers.c.pk)))
    return int(pk) if pk is not None else None


def day_counts(connection: Connection, start: dt.date, end: dt.date) -> list[tuple[dt.date, int]]:
    """Each day in [start, end] that has listings, with its number of visible papers (what
    the day's page lists: a paper both Hugging Face and arXiv listed counts once), oldest
    first."""
    rows = connection.execute(
        select(daily_entries.c.day, func.count(daily_entries.c.paper_pk.distinct()))
        .where(daily_entries.c.day.between(start, end), visible(daily_entries.c.paper_pk))
        .group_by(daily_entries.c.day)
        .order_by(daily_entries.c.day)
    )
    return [(day, int(n)) for value, n in rows if (day := as_date(value)) is not None]


def has_days(connection: Connection, start: dt.date, end: dt.date) -> bool:
    """Whether any day in [start, end] has listings."""
    found = connection.scalar(
        select(daily_entries.c.day).where(daily_entries.c.day.between(start, end)).limit(1)
    )
    return found is not None


# -- what trending's score is computed from (scoring.py scores it) -------------------------


def _midnight(value: object) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(as_date(value) or dt.date.min, dt.time(), tzinfo=dt.UTC)


def candidates(
    connection: Connection,
    pks: Iterable[int] | None = None,
    since: dt.datetime | None = None,
    *,
    signals_only: bool = False,
    view: ListView = EVERYTHING,
) -> list[Candidate]:
    """Every visible paper (or those of ``pks``) with what its score needs; with ``since``,
    at least those listed since then (the database narrows the set, the caller filters);
    with ``signals_only``, only papers with an upvote, a reader vote or code stars; only
    those ``view`` lets through (its sort is the caller's)."""
    entries = (
        select(
            daily_entries.c.paper_pk.label("pk"),
            func.min(daily_entries.c.day).label("first_day"),
            func.max(
                case((daily_entries.c.source == "hf", daily_entries.c.upvotes), else_=None)
            ).label("up"),
        )
        .group_by(daily_entries.c.paper_pk)
        .subquery()
    )
    reader = select(votes.c.paper_pk, func.count().label("n")).group_by(votes.c.paper_pk)
    reader_votes = reader.subquery()
    query = (
        select(
            papers.c.pk,
            papers.c.id,
            papers.c.code_stars,
            papers.c.announced_on,
            papers.c.submitted_at,
            papers.c.created_at,
            entries.c.first_day,
            entries.c.up,
            reader_votes.c.n,
        )
        .outerjoin(entries, entries.c.pk == papers.c.pk)
        .outerjoin(reader_votes, reader_votes.c.paper_pk == papers.c.pk)
        .where(visible(papers.c.pk), *narrowed(papers.c.pk, view))
    )
    if pks is not None:
        query = query.where(papers.c.pk.in_(list(pks)))
    if signals_only:
        query = query.where(or_(entries.c.up > 0, reader_votes.c.n > 0, papers.c.code_stars > 0))
    if since is not None:
        recent = select(daily_entries.c.paper_pk).where(daily_entries.c.day >= since.date())
        unlisted = entries.c.first_day.is_(None)
        query = query.where(
            or_(
                papers.c.pk.in_(recent),
                and_(unlisted, papers.c.announced_on >= since.date()),
                and_(unlisted, papers.c.announced_on.is_(None), papers.c.submitted_at >= since),
                and_(
                    unlisted,
                    papers.c.announced_on.is_(None),
                    papers.c.submitted_at.is_(None),
                    papers.c.created_at >= since,
                ),
            )
        )
    found = []
    for row in connection.execute(query):
        listed = (
            _midnight(row.first_day)
            or _midnight(row.announced_on)
            or _midnight(row.submitted_at)
            or _midnight(row.created_at)
        )
        assert listed is not None  # created_at is never null
        found.append(Candidate(row.pk, row.id, row.up or 0, row.n or 0, row.code_stars, listed))
    return found
