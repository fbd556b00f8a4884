"""Comments in Markdown: rendered once on write (raw HTML off), then sanitised with nh3, so
what a page inserts as HTML can never carry a script, an event handler or a javascript: link."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import Connection, Select, insert, select, update

from ..errors import InvalidInput, NotFound
from ..store.schema import papers
from ..store.schema_community import comments, users
from ._text import clean_text
from .errors import TooLarge
from .model import Comment

MAX_COMMENT = 10_000  # characters of Markdown

_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "del", "s", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}


class MarkdownRenderer:
    """CommonMark plus tables and strikethrough, raw HTML disabled, output sanitised."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
            ["table", "strikethrough"]
        )

    def render(self, text: str) -> str:
        html = self._md.render(text)
        return nh3.clean(
            html,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow noopener ugc",
            filter_style_properties={"text-align"},
        )


def check_body(text: str) -> str:
    body = text.replace("\r\n", "\n").strip()
    if not body:
        raise InvalidInput("a comment cannot be empty")
    if len(body) > MAX_COMMENT:
        raise TooLarge(
            f"a comment has at most {MAX_COMMENT:,} characters; this one has {len(body):,}"
        )
    return clean_text(body, "a comment")


def _select() -> Select[Any]:
    return (
        select(comments, users.c.display_name, papers.c.id.label("paper_id"))
        .join(users, users.c.pk == comments.c.user_pk)
        .join(papers, papers.c.pk == comments.c.paper_pk)
    )


def _comment(row: object) -> Comment:
    m = row._mapping  # type: ignore[attr-defined]
    return Comment(
        pk=int(m["pk"]),
        paper_pk=int(m["paper_pk"]),
        paper_id=str(m["paper_id"]),
        user_pk=int(m["user_pk"]),
        author=str(m["display_name"]),
        body=str(m["body"]),
        body_html=str(m["body_html"]),
        created_at=m["created_at"],
        hidden_at=m["hidden_at"],
    )


def add_comment(
    connection: Connection,
    renderer: MarkdownRenderer,
    paper_pk: int,
    user_pk: int,
    text: str,
    now: datetime,
) -> Comment:
    body = check_body(text)
    pk = connection.execute(
        insert(comments)
        .values(
            paper_pk=paper_pk,
            user_pk=user_pk,
            body=body,
            body_html=renderer.render(body),
            created_at=now,
        )
        .returning(comments.c.pk)
    ).scalar_one()
    return get_comment(connection, int(pk))


def get_comment(connection: Connection, pk: int) -> Comment:
    row = connection.execute(_select().where(comments.c.pk == pk)).first()
    if row is None:
        raise NotFound(f"no comment {pk}")
    return _comment(row)


def paper_comments(
    connection: Connection,
    paper_pk: int,
    *,
    include_hidden: bool = False,
    after_pk: int | None = None,
    limit: int = 500,
) -> list[Comment]:
    """A paper's comments in the order they were written; ``after_pk`` continues a page.
    Hidden comments and a banned reader's are left out unless ``include_hidden``."""
    query = _select().where(comments.c.paper_pk == paper_pk)
    if not include_hidden:
        query = query.where(comments.c.hidden_at.is_(None), users.c.banned_at.is_(None))
    if after_pk is not None:
        query = query.where(comments.c.pk > after_pk)
    rows = connection.execute(query.order_by(comments.c.pk).limit(limit))
    return [_comment(r) for r in rows]


def user_comments(connection: Connection, user_pk: int, *, limit: int = 100) -> list[Comment]:
    rows = connection.execute(
        _select()
        .where(comments.c.user_pk == user_pk)
        .order_by(comments.c.created_at.desc(), comments.c.pk.desc())
        .limit(limit)
    )
    return [_comment(r) for r in rows]


def set_comment_hidden(connection: Connection, pk: int, hidden_at: datetime | None) -> Comment:
    done = connection.execute(
        update(comments).where(comments.c.pk == pk).values(hidden_at=hidden_at)
    ).rowcount
    if done != 1:
        raise NotFound(f"no comment {pk}")
    return get_comment(connection, pk)
