"""A reader's private signals for "For you" (``hub.signals``): "more like this" / "not
interested" on papers, followed authors and categories, the imported library and the
For-you settings; what /me shows, removes and exports.

Readers are passed by their account key (``user_pk``): the front doors resolve the signed-in
reader first (web/session.py), so there is no way to name another reader's rows. Each method
is one transaction; replacing a library is all or nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from ..clock import Clock, utcnow
from ..errors import InvalidInput, NotFound
from ..store import queries
from ..store.session import Database
from . import _signal_queries as sql
from .signals_model import FeedbackItem, FollowItem, SignalsView, StoredEntry

FEEDBACK_KINDS = ("more", "less")
FOLLOW_KINDS = ("author", "category")
MAX_FOLLOW = 200  # characters of a followed name or category
# Authors and categories together: far more than anyone reads, and a bound on the rows one
# account can add (any name can be followed) and on what each For-you page ranks.
MAX_FOLLOWS = 1_000
MAX_DAYS = 90
MAX_REF = 400
LIBRARY_SHOWN = 200  # entries /me lists (the export has them all)


def _clean_ref(ref: str) -> str:
    if not ref.strip() or len(ref) > MAX_REF or not ref.isprintable():
        raise NotFound(f"no paper {ref.strip()[:100]!r}")
    try:
        ref.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotFound("no such paper") from exc
    return ref.strip()


def clean_follow(kind: str, value: str) -> tuple[str, str]:
    """The (kind, value) of a follow, or InvalidInput saying what is wrong."""
    if kind not in FOLLOW_KINDS:
        raise InvalidInput("follow an author or a category")
    value = " ".join(value.split())
    if not value or len(value) > MAX_FOLLOW or not value.isprintable():
        raise InvalidInput(f"a {kind} to follow is 1 to {MAX_FOLLOW} printable characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"the {kind} is not valid text") from exc
    return kind, value


class Signals:
    """Thread-safe: every call opens its own transaction."""

    def __init__(self, db: Database, *, clock: Clock = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- feedback -------------------------------------------------------------------------

    def set_feedback(self, user_pk: int, paper_ref: str, kind: str | None) -> int:
        """Say "more like this" (``more``), "not interested" (``less``) or take it back
        (None) on a paper; returns its pk. NotFound for an unknown paper, InvalidInput for
        another kind."""
        if kind is not None and kind not in FEEDBACK_KINDS:
            raise InvalidInput("feedback is 'more' (more like this) or 'less' (not interested)")
        ref = _clean_ref(paper_ref)
        with self._db.write() as connection:
            pk = queries.find_paper_pk(connection, ref)
            # A paper the moderators hid is no paper to readers (its title would show on /me).
            if pk is None or (kind is not None and sql.is_hidden(connection, pk)):
                raise NotFound(f"no paper {ref[:100]!r}")
            sql.set_feedback(connection, user_pk, pk, kind, self._clock())
        return pk

    def feedback(self, user_pk: int) -> list[FeedbackItem]:
        with self._db.read() as connection:
            return sql.feedback(connection, user_pk)

    def feedback_kinds(self, user_pk: int) -> dict[int, str]:
        """paper pk -> "more" | "less", for the buttons of the cards in a list."""
        with self._db.read() as connection:
            return sql.feedback_kinds(connection, user_pk)

    # -- follows --------------------------------------------------------------------------

    def follow(self, user_pk: int, kind: str, value: str, on: bool = True) -> FollowItem | None:
        """Follow (or with ``on=False`` stop following) an author or a category; doing it
        twice changes nothing. InvalidInput for an unusable name, or a new follow past
        ``MAX_FOLLOWS``."""
        kind, value = clean_follow(kind, value)
        now = self._clock()
        with self._db.write() as connection:
            sql.lock_reader(connection, user_pk)
            if on and sql.follow_count(connection, user_pk, kind, value) >= MAX_FOLLOWS:
                raise InvalidInput(
                    f"you follow {MAX_FOLLOWS:,} authors and categories, the most one reader "
                    "may; stop following some (on /me) to follow more"
                )
            sql.set_follow(connection, user_pk, kind, value, on, now)
        return FollowItem(kind, value, now) if on else None

    def missing_papers(self, paper_refs: Sequence[str]) -> list[str]:
        """The refs that name no paper a reader may give feedback on (unknown or hidden)."""
        with self._db.read() as connection:
            return [ref for ref in paper_refs if self._readable_pk(connection, ref) is None]

    @staticmethod
    def _readable_pk(connection: Connection, paper_ref: str) -> int | None:
        pk = queries.find_paper_pk(connection, _clean_ref(paper_ref))
        return None if pk is None or sql.is_hidden(connection, pk) else pk

    def start(self, user_pk: int, categories: Sequence[str], paper_refs: Sequence[str]) -> None:
        """The cold start, all of it or nothing: follow ``categories``, "more like this" on
        ``paper_refs``. NotFound naming the refs that are no paper (or a hidden one),
        InvalidInput for an unusable name or follows past ``MAX_FOLLOWS``."""
        cleaned = list(dict.fromkeys(clean_follow("category", c) for c in categories))
        now = self._clock()
        with self._db.write() as connection:
            sql.lock_reader(connection, user_pk)
            pks = {ref: self._readable_pk(connection, ref) for ref in paper_refs}
            missing = [ref for ref, pk in pks.items() if pk is None]
            if missing:
                raise NotFound("no paper " + ", ".join(repr(r[:60]) for r in missing))
            held = {(f.kind, f.value) for f in sql.follows(connection, user_pk)}
            new = [item for item in cleaned if item not in held]
            if len(held) + len(new) > MAX_FOLLOWS:
                raise InvalidInput(
                    f"you follow {len(held):,} authors and categories; these {len(new):,} "
                    f"would pass {MAX_FOLLOWS:,}, the most one reader may: stop following "
                    "some (on /me) to follow more"
                )
            for kind, value in new:
                sql.set_follow(connection, user_pk, kind, value, True, now)
            for pk in pks.values():
                sql.set_feedback(connection, user_pk, pk, "more", now)  # type: ignore[arg-type]

    def follows(self, user_pk: int) -> list[FollowItem]:
        with self._db.read() as connection:
            return sql.follows(connection, user_pk)

    def is_following(self, user_pk: int, kind: str, value: str) -> bool:
        try:
            kind, value = clean_follow(kind, value)
        except InvalidInput:
            return False
        return any(f.kind == kind and f.value == value for f in self.follows(user_pk))

    # -- library --------------------------------------------------------------------------

    def replace_library(self, user_pk: int, entries: Sequence[StoredEntry], name: str) -> None:
        """The reader's library becomes ``entries``, in one transaction."""
        with self._db.write() as connection:
            sql.replace_library(connection, user_pk, entries, name[:200], self._clock())

    def remove_library_entry(self, user_pk: int, pk: int) -> None:
        with self._db.write() as connection:
            if not sql.delete_library_entry(connection, user_pk, pk):
                raise NotFound("no such entry in your library")

    # -- settings, the whole view, export ---------------------------------------------------

    def days(self, user_pk: int) -> int:
        with self._db.read() as connection:
            return sql.days(connection, user_pk)

    def set_days(self, user_pk: int, value: int) -> None:
        if not 1 <= value <= MAX_DAYS:
            raise InvalidInput(f"For you looks back 1 to {MAX_DAYS} days")
        with self._db.write() as connection:
            sql.set_days(connection, user_pk, value)

    def view(self, user_pk: int, *, library_limit: int | None = LIBRARY_SHOWN) -> SignalsView:
        """The reader's signals; the library's first ``library_limit`` entries (all: None),
        counted in SQL, not by reading up to 50,000 entries and their abstracts."""
        with self._db.read() as connection:
            name, at = sql.library_source(connection, user_pk)
            total, matched = sql.library_counts(connection, user_pk)
            return SignalsView(
                feedback=sql.feedback(connection, user_pk),
                follows=sql.follows(connection, user_pk),
                library=sql.library(connection, user_pk, limit=library_limit),
                library_total=total,
                library_name=name,
                library_at=at,
                days=sql.days(connection, user_pk),
                library_matched=matched,
            )

    def export(self, user_pk: int) -> dict[str, Any]:
        """Every signal of the reader, as JSON-ready data (the /me export's ``for_you``)."""
        view = self.view(user_pk, library_limit=None)
        return {
            "days": view.days,
            "feedback": [
                {"paper_id": f.paper_id, "title": f.title or None, "kind": f.kind,
                 "created_at": f.created_at.isoformat()}
                for f in view.feedback
            ],
            "follows": [
                {"kind": f.kind, "value": f.value, "created_at": f.created_at.isoformat()}
                for f in view.follows
            ],
            "library": {
                "file": view.library_name,
                "imported_at": view.library_at.isoformat() if view.library_at else None,
                "entries": [
                    {"paper_id": e.paper_id, "ref": e.ref, "title": e.title,
                     "authors": list(e.authors), "year": e.year, "abstract": e.abstract}
                    for e in view.library
                ],
            },
        }  # fmt: skip
