"""Collections: a reader's named lists of papers, private unless made public. A collection's
slug (from its title, unique per owner) only decorates its URL; its pk names it."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ..errors import InvalidInput, NotFound
from ..store.schema_community import collection_papers, collections, users
from ._text import clean_text
from .model import Collection

MAX_TITLE = 200
MAX_DESCRIPTION = 2_000
MAX_PER_READER = 200
MAX_PAPERS = 5_000
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return _NOT_SLUG.sub("-", ascii_title.lower()).strip("-")[:60] or "collection"


def check_fields(title: str, description: str) -> tuple[str, str]:
    clean_title = " ".join(title.split())
    if not clean_title:
        raise InvalidInput("a collection needs a title")
    if len(clean_title) > MAX_TITLE:
        raise InvalidInput(f"a collection title has at most {MAX_TITLE} characters")
    clean_description = description.replace("\r\n", "\n").strip()
    if len(clean_description) > MAX_DESCRIPTION:
        raise InvalidInput(f"a description has at most {MAX_DESCRIPTION:,} characters")
    clean_text(clean_title, "a collection's title", controls=False)
    return clean_title, clean_text(clean_description, "a collection's description", controls=False)


def _select() -> Select[Any]:
    count = (
        select(func.count())
        .where(collection_papers.c.collection_pk == collections.c.pk)
        .scalar_subquery()
    )
    return select(collections, users.c.display_name, count.label("paper_count")).join(
        users, users.c.pk == collections.c.owner_pk
    )


# Public, and its owner not banned: what anyone may see.
_SHOWN: ColumnElement[bool] = collections.c.public.is_(True) & users.c.banned_at.is_(None)


def _collection(row: Any) -> Collection:
    m = row._mapping
    return Collection(
        pk=int(m["pk"]),
        owner_pk=int(m["owner_pk"]),
        owner_name=str(m["display_name"]),
        slug=str(m["slug"]),
        title=str(m["title"]),
        description=str(m["description"]),
        public=bool(m["public"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        paper_count=int(m["paper_count"] or 0),
    )


def _free_slug(connection: Connection, owner_pk: int, title: str, skip_pk: int | None) -> str:
    base = slugify(title)
    query = select(collections.c.slug).where(
        collections.c.owner_pk == owner_pk, collections.c.slug.like(f"{base}%")
    )
    if skip_pk is not None:
        query = query.where(collections.c.pk != skip_pk)
    taken = set(connection.scalars(query))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def create(
    connection: Connection,
    owner_pk: int,
    title: str,
    description: str,
    public: bool,
    now: datetime,
) -> Collection:
    clean_title, clean_description = check_fields(title, description)
    owned = connection.scalar(
        select(func.count()).select_from(collections).where(collections.c.owner_pk == owner_pk)
    )
    if int(owned or 0) >= MAX_PER_READER:
        raise InvalidInput(f"a reader can have at most {MAX_PER_READER} collections")
    pk = connection.execute(
        insert(collections)
        .values(
            owner_pk=owner_pk,
            slug=_free_slug(connection, owner_pk, clean_title, None),
            title=clean_title,
            description=clean_description,
            public=public,
            created_at=now,
            updated_at=now,
        )
        .returning(collections.c.pk)
    ).scalar_one()
    return get(connection, int(pk))


def get(connection: Connection, pk: int) -> Collection:
    row = connection.execute(_select().where(collections.c.pk == pk)).first()
    if row is None:
        raise NotFound(f"no collection {pk}")
    return _collection(row)


def edit(
    connection: Connection,
    pk: int,
    *,
    title: str,
    description: str,
    public: bool,
    now: datetime,
) -> Collection:
    current = get(connection, pk)
    clean_title, clean_description = check_fields(title, description)
    slug = current.slug
    if clean_title != current.title:
        slug = _free_slug(connection, current.owner_pk, clean_title, pk)
    connection.execute(
        update(collections)
        .where(collections.c.pk == pk)
        .values(
            title=clean_title,
            description=clean_description,
            public=public,
            slug=slug,
            updated_at=now,
        )
    )
    return get(connection, pk)


def remove(connection: Connection, pk: int) -> None:
    connection.execute(delete(collection_papers).where(collection_papers.c.collection_pk == pk))
    connection.execute(delete(collections).where(collections.c.pk == pk))


def add_paper(connection: Connection, pk: int, paper_pk: int, now: datetime) -> None:
    count = connection.scalar(
        select(func.count())
        .select_from(collection_papers)
        .where(collection_papers.c.collection_pk == pk)
    )
    if int(count or 0) >= MAX_PAPERS:
        raise InvalidInput(f"a collection holds at most {MAX_PAPERS:,} papers")
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(
        dialect.insert(collection_papers)
        .values(collection_pk=pk, paper_pk=paper_pk, added_at=now)
        .on_conflict_do_nothing(index_elements=["collection_pk", "paper_pk"])
    )
    connection.execute(update(collections).where(collections.c.pk == pk).values(updated_at=now))


def remove_paper(connection: Connection, pk: int, paper_pk: int, now: datetime) -> None:
    connection.execute(
        delete(collection_papers).where(
            collection_papers.c.collection_pk == pk, collection_papers.c.paper_pk == paper_pk
        )
    )
    connection.execute(update(collections).where(collections.c.pk == pk).values(updated_at=now))


def paper_pks(connection: Connection, pk: int, *, limit: int = MAX_PAPERS) -> list[int]:
    """The papers of a collection, the latest added first."""
    rows = connection.execute(
        select(collection_papers.c.paper_pk)
        .where(collection_papers.c.collection_pk == pk)
        .order_by(collection_papers.c.added_at.desc(), collection_papers.c.paper_pk.desc())
        .limit(limit)
    )
    return [int(r.paper_pk) for r in rows]


def public_collections(
    connection: Connection, *, limit: int = 50, before_pk: int | None = None
) -> list[Collection]:
    """Public collections (of readers not banned), the newest first; ``before_pk`` continues
    a page (cursor)."""
    query = _select().where(_SHOWN)
    if before_pk is not None:
        query = query.where(collections.c.pk < before_pk)
    rows = connection.execute(query.order_by(collections.c.pk.desc()).limit(limit))
    return [_collection(r) for r in rows]


def shown_to_all(connection: Connection, pk: int) -> bool:
    """Whether anyone may see the collection: public, and its owner not banned."""
    query = select(collections.c.pk).join(users, users.c.pk == collections.c.owner_pk)
    return connection.execute(query.where(collections.c.pk == pk, _SHOWN)).first() is not None


def owned_by(connection: Connection, owner_pk: int) -> list[Collection]:
    rows = connection.execute(
        _select().where(collections.c.owner_pk == owner_pk).order_by(collections.c.title)
    )
    return [_collection(r) for r in rows]


def holding_paper(
    connection: Connection, paper_pk: int, viewer_pk: int | None, *, limit: int = 50
) -> list[Collection]:
    """Collections that hold the paper and that the viewer may see (shown, or theirs)."""
    visible: ColumnElement[bool] = _SHOWN
    if viewer_pk is not None:
        visible = visible | (collections.c.owner_pk == viewer_pk)
    held = select(collection_papers.c.collection_pk).where(collection_papers.c.paper_pk == paper_pk)
    rows = connection.execute(
        _select()
        .where(collections.c.pk.in_(held), visible)
        .order_by(collections.c.updated_at.desc())
        .limit(limit)
    )
    return [_collection(r) for r in rows]
