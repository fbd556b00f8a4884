"""Comments in Markdown: rendered once on write (raw HTML off), then sanitised with nh3, so
what a page inserts as HTML can never carry a script, an event handler or a javascript: link."""

from __future__ import annotations

import bisect
import re
from datetime import datetime
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from sqlalchemy import Connection, Select, delete, func, insert, select, update

from ..errors import InvalidInput, NotFound
from ..store.schema import papers
from ..store.schema_community import comment_reports, comments, users
from ._text import clean_text
from .errors import Forbidden, TooLarge
from .model import Comment

MAX_COMMENT = 10_000  # characters of Markdown
MAX_REPORT_REASON = 500

_TAGS = {
    "a", "p", "br", "hr", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "del", "s", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
# A table column's alignment as a class, not a style attribute: the site's CSP refuses
# inline styles (community.css styles the classes).
_ALIGN = re.compile(r' style="text-align:(left|center|right)"')
_ALIGN_CLASSES = {"align-left", "align-center", "align-right"}


_MATH_OPENERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"))
# Longer formulas stay plain text. Each "$" (or "\\(", "$$") of a comment starts a search
# for its closer: unbounded, "$1$1$1..." (a "$" before a digit closes nothing) took twelve
# seconds for one 10,000-character comment.
MAX_MATH = 2_000
# What closes inline math: a "$" not escaped and not before a digit (Pandoc's rule: "$5
# and $6" is money).
_INLINE_CLOSER = re.compile(r"(?<!\\)\$(?!\d)")


def _closers(state: StateInline) -> list[int]:
    """Where inline math may close in the text being parsed, found once per text (each "$"
    asks: searching again from each one would be quadratic)."""
    cached = state.env.get("_math_closers")
    if cached is None or cached[0] is not state.src:
        cached = (state.src, [m.start() for m in _INLINE_CLOSER.finditer(state.src)])
        state.env["_math_closers"] = cached
    found: list[int] = cached[1]
    return found


def _math(state: StateInline, silent: bool) -> bool:
    """Keep a formula (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) as literal text,
    delimiters and backslashes included, so Markdown's escapes and emphasis cannot spoil it
    and KaTeX in the browser (or any client of the API's body_html) finds it intact."""
    src, start = state.src, state.pos
    for left, right in _MATH_OPENERS:
        if not src.startswith(left, start):
            continue
        begin = start + len(left)
        limit = min(len(src), begin + MAX_MATH + len(right))
        if left == "$":
            closers = _closers(state)
            at = bisect.bisect_left(closers, begin)
            end = closers[at] if at < len(closers) and closers[at] < limit else -1
        else:
            end = src.find(right, begin, limit)
        if end < 0:
            return False
        inner = src[start + len(left) : end]
        if not inner.strip() or (left == "$" and (inner[0].isspace() or inner[-1].isspace())):
            return False  # "$5 and $6" is money, not math
        if not silent:
            token = state.push("text", "", 0)
            token.content = src[start : end + len(right)]
        state.pos = end + len(right)
        return True
    return False


class MarkdownRenderer:
    """CommonMark plus tables and strikethrough, raw HTML disabled, output sanitised; math
    is kept verbatim for KaTeX."""

    def __init__(self) -> None:
        self._md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable(
            ["table", "strikethrough"]
        )
        self._md.inline.ruler.before("escape", "math", _math)

    def render(self, text: str) -> str:
        html = _ALIGN.sub(r' class="align-\1"', self._md.render(text))
        return nh3.clean(
            html,
            tags=_TAGS,
            attributes=_ATTRIBUTES,
            allowed_classes={"th": _ALIGN_CLASSES, "td": _ALIGN_CLASSES},
            url_schemes={"http", "https", "mailto"},
            link_rel="nofollow noopener ugc",
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
        select(
            comments,
            users.c.display_name,
            papers.c.id.label("paper_id"),
            papers.c.title.label("paper_title"),
        )
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
        edited_at=m["edited_at"],
        paper_title=str(m["paper_title"]),
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


def _own(connection: Connection, pk: int, user_pk: int) -> Comment:
    found = get_comment(connection, pk)
    if found.user_pk != user_pk:
        raise Forbidden("only its author can change a comment")
    return found


def edit_comment(
    connection: Connection,
    renderer: MarkdownRenderer,
    pk: int,
    user_pk: int,
    text: str,
    now: datetime,
) -> Comment:
    """The author's new text (checked like a new comment); the comment shows as edited."""
    _own(connection, pk, user_pk)
    body = check_body(text)
    connection.execute(
        update(comments)
        .where(comments.c.pk == pk)
        .values(body=body, body_html=renderer.render(body), edited_at=now)
    )
    return get_comment(connection, pk)


def delete_comment(connection: Connection, pk: int, user_pk: int) -> Comment:
    """Deleted for good by its author (its reports go with it)."""
    found = _own(connection, pk, user_pk)
    connection.execute(delete(comment_reports).where(comment_reports.c.comment_pk == pk))
    connection.execute(delete(comments).where(comments.c.pk == pk))
    return found


def report_comment(
    connection: Connection, pk: int, user_pk: int, reason: str, now: datetime
) -> Comment:
    """One report per reader and comment: a second one replaces the reason."""
    found = get_comment(connection, pk)
    text = clean_text(" ".join(reason.split())[:MAX_REPORT_REASON], "a reason")
    done = connection.execute(
        update(comment_reports)
        .where(comment_reports.c.comment_pk == pk, comment_reports.c.user_pk == user_pk)
        .values(reason=text, created_at=now)
    ).rowcount
    if done == 0:
        connection.execute(
            insert(comment_reports).values(
                comment_pk=pk, user_pk=user_pk, reason=text, created_at=now
            )
        )
    return found


def recent_comments(
    connection: Connection, *, hidden: bool = False, limit: int = 50
) -> list[Comment]:
    """The latest comments (only hidden ones with ``hidden``), newest first."""
    query = _select()
    query = query.where(
        comments.c.hidden_at.is_not(None) if hidden else comments.c.hidden_at.is_(None)
    )
    rows = connection.execute(query.order_by(comments.c.pk.desc()).limit(limit))
    return [_comment(r) for r in rows]


def reported_comments(connection: Connection, *, limit: int = 50) -> list[tuple[Comment, int, str]]:
    """Reported comments, the latest report first: each with its number of reports and the
    latest reason."""
    latest = (
        select(
            comment_reports.c.comment_pk,
            func.count().label("reports"),
            func.max(comment_reports.c.created_at).label("last"),
        )
        .group_by(comment_reports.c.comment_pk)
        .subquery()
    )
    rows = connection.execute(
        _select()
        .add_columns(latest.c.reports, latest.c.last)
        .join(latest, latest.c.comment_pk == comments.c.pk)
        .order_by(latest.c.last.desc())
        .limit(limit)
    ).all()
    out: list[tuple[Comment, int, str]] = []
    for row in rows:
        reason = connection.scalar(
            select(comment_reports.c.reason)
            .where(comment_reports.c.comment_pk == row.pk)
            .order_by(comment_reports.c.created_at.desc())
            .limit(1)
        )
        out.append((_comment(row), int(row.reports), str(reason or "")))
    return out
