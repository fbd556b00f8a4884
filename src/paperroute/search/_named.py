"""Exact hits of a query that names something: an arXiv id, an author, a whole title, or a
quoted phrase. Keyword and best-match search put these first, whatever the fusion says: a
reader who types "Tomas Pfister" wants his papers, not what reads like his name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from ..store import queries
from ..store.merge import fold_name
from .keyword import KeywordHit
from .query import Query, split_words

# Papers of one named author put first (a prolific author's others follow by rank).
MAX_NAMED = 200


@dataclass(frozen=True, slots=True)
class Named:
    """What a query names, found once: the paper its arXiv id (or DOI) names, the papers of
    the author whose whole name it is; and which keyword hits it names (``among``): every
    hit of a query with a quoted phrase, and the hits whose title is the query's words."""

    paper: int | None = None
    phrase: bool = False
    authors: tuple[int, ...] = ()
    title: tuple[str, ...] = ()  # the words a named title has (none: titles are not named)

    def among(self, keyword_hits: Sequence[KeywordHit]) -> list[int]:
        """The pks of the exact hits, best known first, with ``keyword_hits``'s named ones."""
        found: list[int] = [] if self.paper is None else [self.paper]
        if self.phrase:
            found.extend(hit.pk for hit in keyword_hits)
        found.extend(self.authors)
        if self.title:
            words = list(self.title)
            found.extend(hit.pk for hit in keyword_hits if split_words(hit.title) == words)
        return list(dict.fromkeys(found))


def named_in(connection: Connection, query: Query, typed: str) -> Named:
    """What ``query`` (typed as ``typed``) names. Filters are not applied here (the caller
    keeps the pks that pass them)."""
    positive = query.positive
    if not positive or any(t.prefix for t in positive):
        return Named()
    paper = None
    bare = typed.strip()
    if bare and not any(c.isspace() for c in bare):
        paper = queries.find_paper_pk(connection, bare)
    words = split_words(" ".join(t.text for t in positive))
    named = 2 <= len(words) <= 8
    return Named(
        paper,
        any(t.phrase for t in positive),
        tuple(_authors(connection, query, bare, words)) if named else (),
        tuple(words) if named else (),
    )


def _authors(connection: Connection, query: Query, typed: str, words: list[str]) -> list[int]:
    """Papers of the author whose name is the query (as typed, or its words)."""
    names = {" ".join(words)}
    if typed.isprintable() and not (
        query.categories or query.authors or query.after or query.before or query.has_code
    ):
        names.add(fold_name(typed.replace('"', " ")))
    statement = text(
        "SELECT pa.paper_pk FROM authors a JOIN paper_authors pa ON pa.author_pk = a.pk "
        "WHERE a.name_key IN :names ORDER BY pa.paper_pk DESC LIMIT :n"
    ).bindparams(bindparam("names", expanding=True))
    rows = connection.execute(statement, {"names": sorted(names), "n": MAX_NAMED})
    return [int(row[0]) for row in rows]


def first(ranked: list[tuple[int, float]], named: Sequence[int]) -> list[tuple[int, float]]:
    """``ranked`` with the ``named`` pks (those that passed the filters) first, in their
    ranked order, then the named ones the ranking lacks; each named score lifted above every
    other so that the scores still descend."""
    if not named:
        return ranked
    wanted = set(named)
    rest = [(pk, score) for pk, score in ranked if pk not in wanted]
    lift = max([0.0, *(score for _, score in ranked)]) + 1.0
    score = dict(ranked)
    order = [pk for pk, _ in ranked if pk in wanted] + [pk for pk in named if pk not in score]
    total = len(order)
    head = [
        (pk, lift + max(0.0, score.get(pk, 0.0)) + (total - i) * 1e-6) for i, pk in enumerate(order)
    ]
    head.sort(key=lambda item: -item[1])
    return head + rest
